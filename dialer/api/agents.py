"""The agent endpoints: thin calls on the running campaigns' :class:`~dialer.campaign.desk.AgentDesk`.

``/api/v1/agents/{agent}/...``: an agent user may name only its own agent; supervisors and
administrators may act for any (``acting_agent``). Actions that concern the agent as a
whole (ready, pause, logout) go to every running campaign it is logged in to; actions on a
record or a call go to the campaign where that record or call is. A request the agent's
state does not allow (accepting with nothing offered, a disposition while still talking)
is the board's :class:`~dialer.errors.IllegalAgentTransition`, answered 409 ``agent_state``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends

from dialer.agents.state import AgentState as BoardState
from dialer.api.agent_views import agent_state, call_contact, disposition_statuses, needs_date, screen_pop
from dialer.api.context import ApiContext, Ctx, acting_agent
from dialer.api.errors import ApiError
from dialer.api.schemas import (
    AgentLogin,
    AgentState,
    ContactEdit,
    ContactOut,
    DispositionRequest,
    LogoutCountdownOut,
    LogoutResponse,
    OfferOut,
    PauseRequest,
    PreviewRequest,
)
from dialer.api.sessions import AgentSession
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import Disposition
from dialer.contacts.phone import normalize
from dialer.errors import ValidationError
from dialer.model import CallbackKind, Contact, DialingMode

router = APIRouter(tags=["agent"])
Agent = Annotated[str, Depends(acting_agent)]

# A callback date this far in the past is a mistake, not clock skew between browser and engine.
_PAST_SLACK = dt.timedelta(minutes=1)
_PREVIEW_MODES = frozenset({DialingMode.PREVIEW, DialingMode.PUSH_PREVIEW})


def _logged_in_runners(ctx: ApiContext, agent: str) -> list[CampaignRunner]:
    runners = ctx.sessions.runners_of(agent)
    if not runners:
        raise ApiError(
            "not_logged_in", "the agent is not logged in to a running campaign", field="agent", value=agent
        )
    return runners


def _changed(ctx: ApiContext, agent: str) -> AgentState:
    """The agent's state after an action; its event streams look now rather than at the hub's
    next look (the answer and the ``state`` event leave together)."""
    ctx.streams.changed(agent)
    return agent_state(ctx, agent)


def _runner_in(ctx: ApiContext, agent: str, states: frozenset[BoardState], what: str) -> CampaignRunner:
    for runner in _logged_in_runners(ctx, agent):
        if runner.board.state_of(agent) in states:
            return runner
    raise ApiError("agent_state", what, field="agent", value=agent)


@router.post("/agents/{agent}/login", response_model=AgentState, summary="Log in to the agent's campaigns")
async def login(agent: Agent, ctx: Ctx, body: AgentLogin | None = None) -> AgentState:
    body = body or AgentLogin()
    record = await ctx.store.get_agent(agent)
    if not record.active:
        raise ApiError("invalid_value", "the agent is inactive", field="agent", value=agent)
    assigned = await ctx.store.agent_campaigns(agent)
    campaigns = body.campaigns if body.campaigns is not None else assigned
    for name in campaigns:
        if name not in assigned:
            raise ApiError(
                "invalid_value", "the agent is not assigned to this campaign", field="campaigns", value=name
            )
    if not campaigns:
        raise ApiError("invalid_value", "the agent is assigned to no campaign", field="campaigns")
    interface = body.interface or record.interface
    if not interface:
        raise ApiError(
            "invalid_value",
            "the agent has no stored interface: give one (e.g. PJSIP/1001)",
            field="interface",
        )
    await ctx.sessions.login(
        AgentSession(
            agent,
            interface,
            tuple(dict.fromkeys(campaigns)),
            paused=body.paused,
            pause_reason=body.pause_reason if body.paused else None,
        )
    )
    return _changed(ctx, agent)


@router.get("/agents/{agent}", response_model=AgentState, summary="The agent's state and timers")
async def state(agent: Agent, ctx: Ctx) -> AgentState:
    return agent_state(ctx, agent)


@router.post("/agents/{agent}/ready", response_model=AgentState, summary="Ready: take calls (ends a pause)")
async def ready(agent: Agent, ctx: Ctx) -> AgentState:
    for runner in _logged_in_runners(ctx, agent):
        await runner.agents.unpause(agent)
    ctx.sessions.set_paused(agent, False)
    return _changed(ctx, agent)


@router.post("/agents/{agent}/pause", response_model=AgentState, summary="Pause, now or after the call")
async def pause(agent: Agent, ctx: Ctx, body: PauseRequest | None = None) -> AgentState:
    reason = body.reason if body else None
    for runner in _logged_in_runners(ctx, agent):
        await runner.agents.pause(agent, reason=reason)
    ctx.sessions.set_paused(agent, True, reason)
    return _changed(ctx, agent)


@router.post(
    "/agents/{agent}/logout", response_model=LogoutResponse, summary="Log out, held until the call ends"
)
async def logout(agent: Agent, ctx: Ctx) -> LogoutResponse:
    runners = ctx.sessions.runners_of(agent)
    if not runners and ctx.sessions.get(agent) is None:
        raise ApiError("not_logged_in", "the agent is not logged in", field="agent", value=agent)
    ctx.sessions.start_logout(agent)
    held: list[LogoutCountdownOut] = []
    for runner in runners:
        pending = await runner.agents.logout(agent)
        if pending is not None:
            held.append(
                LogoutCountdownOut(waiting_for=pending.waiting_for.value, remaining_s=pending.remaining_s)
            )
    await ctx.sessions.sync()
    return LogoutResponse(logged_out=not held, remaining=held, state=_changed(ctx, agent))


@router.delete("/agents/{agent}/logout", response_model=AgentState, summary="Withdraw a held logout")
async def cancel_logout(agent: Agent, ctx: Ctx) -> AgentState:
    cancelled = [runner.agents.cancel_logout(agent) for runner in ctx.sessions.runners_of(agent)]
    if not any(cancelled):
        raise ApiError("agent_state", "no logout is held for the agent", field="agent", value=agent)
    ctx.sessions.cancel_logout(agent)
    return _changed(ctx, agent)


@router.post("/agents/{agent}/preview", response_model=AgentState, summary="Preview: ask for a record")
async def request_record(agent: Agent, ctx: Ctx, body: PreviewRequest | None = None) -> AgentState:
    wanted = body.campaign if body else None
    runners = [
        r
        for r in _logged_in_runners(ctx, agent)
        if r.campaign.mode in _PREVIEW_MODES and (wanted is None or r.campaign.name == wanted)
    ]
    if not runners:
        raise ApiError(
            "not_logged_in",
            "the agent is logged in to no running preview campaign",
            field="campaign",
            value=wanted,
        )
    if len(runners) > 1:
        raise ApiError(
            "invalid_value", "logged in to several preview campaigns: name one", field="campaign", value=None
        )
    await runners[0].agents.request_record(agent)
    return _changed(ctx, agent)


_OFFERED = frozenset({BoardState.OFFERED})


@router.get("/agents/{agent}/offer", response_model=OfferOut, summary="The record offered to the agent")
async def offer(agent: Agent, ctx: Ctx) -> OfferOut:
    runner = _runner_in(ctx, agent, _OFFERED, "no record is offered to the agent")
    view = runner.agents.view(agent)
    lease = runner.agents.offered(agent)
    if lease is None or view.kind is None:
        raise ApiError("agent_state", "no record is offered to the agent", field="agent", value=agent)
    contact = await screen_pop(ctx, lease.contact_id, runner.campaign.name)
    return OfferOut(campaign=runner.campaign.name, kind=view.kind.value, contact=contact)


@router.post("/agents/{agent}/offer/accept", response_model=AgentState, summary="Accept the offer: dial it")
async def accept(agent: Agent, ctx: Ctx) -> AgentState:
    runner = _runner_in(ctx, agent, _OFFERED, "no record is offered to the agent")
    await runner.agents.accept(agent)
    return _changed(ctx, agent)


@router.post("/agents/{agent}/offer/skip", response_model=AgentState, summary="Skip (reject) the offer")
async def skip(agent: Agent, ctx: Ctx) -> AgentState:
    runner = _runner_in(ctx, agent, _OFFERED, "no record is offered to the agent")
    await runner.agents.skip(agent)
    return _changed(ctx, agent)


_ON_CALL = frozenset({BoardState.RESERVED, BoardState.TALKING, BoardState.WRAP_UP})


@router.get("/agents/{agent}/call", response_model=ContactOut, summary="Screen pop of the agent's call")
async def call(agent: Agent, ctx: Ctx) -> ContactOut:
    for runner in _logged_in_runners(ctx, agent):
        contact_id = call_contact(runner, runner.agents.view(agent))
        if contact_id is not None:
            return await screen_pop(ctx, contact_id, runner.campaign.name)
    raise ApiError("agent_state", "the agent is on no call", field="agent", value=agent)


def _on_screen(ctx: ApiContext, agent: str) -> tuple[int, str] | None:
    """The contact on the agent's screen (offered record or call) and its campaign."""
    for runner in _logged_in_runners(ctx, agent):
        view = runner.agents.view(agent)
        contact_id = call_contact(runner, view)
        if contact_id is None and view.state is BoardState.OFFERED and isinstance(view.contact, int):
            contact_id = view.contact
        if contact_id is not None:
            return contact_id, runner.campaign.name
    return None


@router.patch(
    "/agents/{agent}/contact", response_model=ContactOut, summary="Edit the customer on the agent's screen"
)
async def edit_contact(agent: Agent, ctx: Ctx, body: ContactEdit) -> ContactOut:
    on_screen = _on_screen(ctx, agent)
    if on_screen is None:
        raise ApiError(
            "agent_state", "no record or call is on the agent's screen", field="agent", value=agent
        )
    contact_id, campaign = on_screen
    fields = None if body.fields is None else dict(body.fields)
    await ctx.store.update_contact(contact_id, name=body.name, fields=fields, replace_fields=True)
    return await screen_pop(ctx, contact_id, campaign)


@router.post(
    "/agents/{agent}/disposition", response_model=AgentState, summary="Set the disposition in wrap-up"
)
async def disposition(agent: Agent, ctx: Ctx, body: DispositionRequest) -> AgentState:
    runner = _runner_in(
        ctx,
        agent,
        frozenset({BoardState.WRAP_UP}),
        "no call waits for a disposition (the agent is not in wrap-up)",
    )
    campaign = runner.campaign
    statuses = {s.name: s for s in await disposition_statuses(ctx, campaign.name)}
    status = statuses.get(body.status)
    if status is None:
        raise ApiError(
            "invalid_value",
            f"not an active, visible status of campaign {campaign.name}",
            field="status",
            value=body.status,
        )
    contact_id = call_contact(runner, runner.agents.view(agent))
    contact = await ctx.store.get_contact(contact_id) if contact_id is not None else None
    at = _when(ctx, body, contact, campaign.timezone)
    cb = body.callback
    slot = _in_zone(cb.slot, body, contact, campaign.timezone) if cb is not None else None
    if at is None:
        at = slot  # a grid slot's start is the callback's date
    if at is None and needs_date(status):
        raise ApiError(
            "invalid_value", f"status {status.name} ({status.system_status.value}) needs the date", field="at"
        )
    if at is None and body.callback is not None:
        raise ApiError("invalid_value", "a callback needs its date and time", field="at")
    d = Disposition(status.name, callback_at=at)
    if cb is not None:
        d = _with_callback(ctx, d, body, contact)
        if slot is not None:
            d = await _book_slot(ctx, agent, d, contact, slot)
        else:
            d = replace(d, callback_until=_in_zone(cb.window_end, body, contact, campaign.timezone))
    await runner.agents.set_disposition(agent, d)
    return _changed(ctx, agent)


async def _book_slot(
    ctx: ApiContext, agent: str, d: Disposition, contact: Contact | None, slot: dt.datetime
) -> Disposition:
    """Book the callback's grid slot now, so a full slot is the agent's answer at once (409
    ``slot_unavailable``); the disposition then only sets the status."""
    if contact is None:
        raise ApiError("agent_state", "the agent's call has no contact to call back", field="agent")
    personal = d.callback is CallbackKind.PERSONAL
    await ctx.store.schedule_callback(
        contact.id,
        slot_at=slot,
        kind=d.callback or CallbackKind.CAMPAIGN,
        agent_id=(await ctx.store.get_agent(agent)).id if personal else None,
        new_phone=d.new_number,
        new_phone_window=d.new_number_window,
        new_phone_kind=d.new_number_kind,
        phone_position=d.phone_position,
        actor=f"agent:{agent}",
        at=ctx.clock.utcnow(),
    )
    return Disposition(d.status, callback_at=d.callback_at)


def _in_zone(
    value: dt.datetime | None, body: DispositionRequest, contact: Contact | None, campaign_zone: str
) -> dt.datetime | None:
    """``value`` in UTC; without an offset it is read in the chosen or the contact's zone."""
    if value is None:
        return None
    zone = _zone(body, contact, campaign_zone)
    return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(dt.UTC)


def _zone(body: DispositionRequest, contact: Contact | None, campaign_zone: str) -> ZoneInfo:
    zone_name = body.timezone or (contact.timezone if contact else None) or campaign_zone
    try:
        return ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(
            "invalid_value",
            "not a known time zone (IANA name, e.g. Europe/Warsaw)",
            field="timezone",
            value=zone_name,
        ) from None


def _when(
    ctx: ApiContext, body: DispositionRequest, contact: Contact | None, campaign_zone: str
) -> dt.datetime | None:
    """``body.at`` in UTC; without an offset it is read in the chosen or the contact's zone."""
    zone = _zone(body, contact, campaign_zone)
    if body.at is None:
        return None
    at = body.at if body.at.tzinfo is not None else body.at.replace(tzinfo=zone)
    at = at.astimezone(dt.UTC)
    if at < ctx.clock.utcnow() - _PAST_SLACK:
        raise ApiError("invalid_value", "is in the past", field="at", value=body.at.isoformat())
    return at


def _with_callback(
    ctx: ApiContext, d: Disposition, body: DispositionRequest, contact: Contact | None
) -> Disposition:
    cb = body.callback
    assert cb is not None
    if cb.phone_position is not None and cb.new_number is not None:
        raise ApiError(
            "invalid_value", "give one of phone_position and new_number", field="callback.phone_position"
        )
    position = None
    if cb.phone_position is not None:
        if contact is None or cb.phone_position not in {p.position for p in contact.phones}:
            raise ApiError(
                "invalid_value",
                "the contact has no number there",
                field="callback.phone_position",
                value=cb.phone_position,
            )
        position = cb.phone_position
    number = kind = window = None
    if cb.new_number is not None:
        new = cb.new_number
        try:
            parsed = normalize(new.number, ctx.default_region)
        except ValidationError as err:
            raise ApiError(
                "invalid_value", err.reason, field="callback.new_number.number", value=new.number
            ) from None
        if (new.window_start is None) != (new.window_end is None):
            raise ApiError(
                "invalid_value",
                "give both ends of the contact window or neither",
                field="callback.new_number.window_end",
            )
        number, kind = parsed.e164, new.kind or parsed.kind
        if new.window_start is not None and new.window_end is not None:
            window = (new.window_start, new.window_end)
    return Disposition(
        d.status,
        callback_at=d.callback_at,
        callback=cb.kind,
        new_number=number,
        new_number_window=window,
        new_number_kind=kind,
        phone_position=position,
    )
