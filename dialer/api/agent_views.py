"""What an agent's screen shows, built from the boards and the store (for endpoints and events).

:func:`agent_state` reads every board the agent is on through its desk (state, time in it,
held pause and logout with the remaining time, wrap-up time left before the default
disposition, the offered record and the call's contact); :func:`screen_pop` reads the
contact, its numbers, custom fields and attempt history from the store, with the statuses a
disposition may set (the campaign's active, visible ones).
"""

from __future__ import annotations

from collections.abc import Sequence

from dialer.agents.state import AgentState as BoardState
from dialer.agents.views import AgentView
from dialer.api.context import ApiContext
from dialer.api.schemas import (
    AgentCampaignState,
    AgentState,
    AttemptOut,
    ContactOut,
    LogoutCountdownOut,
    PendingCallbackOut,
    PhoneOut,
    StatusOut,
)
from dialer.campaign.runner import CampaignRunner
from dialer.model import Phone, Status, SystemStatus

__all__ = ["agent_state", "call_contact", "disposition_statuses", "needs_date", "phones_out", "screen_pop"]

_DATED = frozenset({SystemStatus.MY_RECORD, SystemStatus.NOT_BEFORE})


def needs_date(status: Status) -> bool:
    return status.system_status in _DATED


def call_contact(runner: CampaignRunner, view: AgentView) -> int | None:
    """The contact of the call the agent is on (a queue call's from the call table)."""
    if view.state not in (BoardState.RESERVED, BoardState.TALKING, BoardState.WRAP_UP):
        return None
    if isinstance(view.contact, int):
        return view.contact
    if view.attempt_id is not None:
        call = runner.calls.get(view.attempt_id)
        if call is not None:
            return call.lease.contact_id
    return None


def campaign_state(runner: CampaignRunner, agent: str) -> AgentCampaignState:
    view = runner.agents.view(agent)
    countdown = view.pending_logout
    wrap_left = wrap_default = None
    if view.state is BoardState.WRAP_UP:
        wrap_left = max(0.0, runner.board.timers.disposition_timeout_s - view.in_state_s)
        wrap_default = runner.dispositions.default_status  # what the timeout will set
    return AgentCampaignState(
        campaign=runner.campaign.name,
        mode=runner.campaign.mode.value,
        state=view.state.value,
        in_state_s=round(view.in_state_s, 3),
        pause_reason=view.pause_reason,
        pending_pause=view.pending_pause,
        logout=None
        if countdown is None
        else LogoutCountdownOut(waiting_for=countdown.waiting_for.value, remaining_s=countdown.remaining_s),
        wrap_up_left_s=wrap_left,
        wrap_up_default=wrap_default,
        offered_contact=view.contact
        if view.state is BoardState.OFFERED and isinstance(view.contact, int)
        else None,
        call_contact=call_contact(runner, view),
    )


def agent_state(ctx: ApiContext, agent: str) -> AgentState:
    """The agent's state in every running campaign it is logged in to."""
    runners = ctx.sessions.runners_of(agent)
    session = ctx.sessions.get(agent)
    states = [campaign_state(r, agent) for r in sorted(runners, key=lambda r: r.campaign.name)]
    return AgentState(
        agent=agent,
        logged_in=bool(states) or (session is not None and not session.logging_out),
        logging_out=any(s.logout is not None for s in states)
        or (session is not None and session.logging_out),
        campaigns=states,
        waiting_for_campaigns=ctx.sessions.waiting_campaigns(agent),
    )


async def disposition_statuses(ctx: ApiContext, campaign: str) -> list[Status]:
    """The statuses an agent may set in ``campaign``: active and not hidden."""
    return [s for s in await ctx.store.list_statuses(campaign) if s.active and not s.hidden]


def phones_out(phones: Sequence[Phone]) -> list[PhoneOut]:
    """A contact's numbers as every endpoint shows them."""
    return [
        PhoneOut(
            position=p.position,
            number=p.e164,
            kind=p.kind,
            window_start=p.window_start,
            window_end=p.window_end,
            disabled=p.disabled,
        )
        for p in phones
    ]


async def screen_pop(ctx: ApiContext, contact_id: int, campaign: str) -> ContactOut:
    """The contact with its numbers, custom fields, attempt history and the settable statuses."""
    contact = await ctx.store.get_contact(contact_id)
    attempts = await ctx.store.contact_attempts(contact_id)
    statuses = await disposition_statuses(ctx, campaign)
    pending = await ctx.store.contact_callbacks(contact_id)
    return ContactOut(
        id=contact.id,
        campaign=campaign,
        name=contact.name,
        timezone=contact.timezone,
        status=contact.status,
        fields=dict(contact.fields or {}),
        phones=phones_out(contact.phones),
        attempts=[
            AttemptOut(
                id=a.id,
                started_at=a.started_at,
                ended_at=a.ended_at,
                outcome=a.outcome.value if a.outcome else None,
                number=a.e164,
            )
            for a in attempts
        ],
        statuses=[
            StatusOut(name=s.name, system_status=s.system_status.value, needs_date=needs_date(s))
            for s in statuses
        ],
        callbacks=[
            PendingCallbackOut(
                id=cb.id,
                kind=cb.kind,
                source=cb.source,
                due_at=cb.due_at,
                window_end_at=cb.window_end_at,
                number=cb.e164,
                requester_name=cb.requester_name,
            )
            for cb in pending
        ],
    )
