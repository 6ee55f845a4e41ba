"""Live events: one Server-Sent Events stream per logged-in user, ``GET /api/v1/events``.

Theory of operation. The boards are the truth and change on the runner's loop; rather than
hook every transition, each stream looks at its agent's boards every ``event_poll_s`` (50 ms)
and sends what changed since its last look (:class:`AgentWatcher`): so a stream costs one
board read per poll, nothing in the runner knows streams exist, and a stream that
(re)connects simply starts from an empty last look, which sends the current state first
(issue 9: a dropped stream resumes without losing state).

Events (``event:`` name, JSON ``data:``):

* ``state`` — the agent's whole state (as ``GET /agents/{agent}``), on connect and on every
  change of state, pause, held logout, offered record or call;
* ``offer`` — a record offered (preview / push preview), with the contact (as ``GET .../offer``);
* ``call`` — a call reached the agent, with the screen pop (as ``GET .../call``);
* ``logout`` — once a second while a logout is held: the remaining seconds per campaign;
* ``logout_granted`` — the held logout completed;
* ``wrap_up`` — once a second in wrap-up: seconds left before the default disposition;
* ``campaign_started`` — a campaign of the agent started running (the agent was logged in to
  it if its login named it);
* ``assigned`` — the agent was assigned to a campaign (seen within ``_RECHECK_S``);
* ``figures`` — supervisors and administrators: every running campaign's figures, once a second;
* ``callback_due`` — a personal callback of the agent is due (issue 13; looked for every
  ``_CALLBACK_CHECK_S``, each callback once per stream and due time);
* ``callback_handed_over`` — the agent's personal callback went to the whole campaign (the agent
  was away past the grace).

A comment line every 15 s keeps proxies from closing an idle stream; a revoked or expired
token ends the stream within ``_RECHECK_S``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from dialer.agents.state import AgentState as BoardState
from dialer.api.agent_views import agent_state, screen_pop
from dialer.api.context import ApiContext, Ctx, CurrentUser, read_bearer, token_user
from dialer.api.errors import ApiError
from dialer.api.schemas import AgentState, OfferOut
from dialer.errors import DialerError
from dialer.model import Callback
from dialer.store.users import Role, User

router = APIRouter(tags=["events"])

_TICK_S = 1.0  # countdowns and figures: once a second (issue 9)
_KEEPALIVE_S = 15.0
_RECHECK_S = 10.0  # the token (revoked, expired) and the assignments are re-read this often
_CALLBACK_CHECK_S = 2.0  # the agent's due callbacks are looked for this often


def sse(event: str, data: Any) -> str:
    """One SSE message."""
    if hasattr(data, "model_dump_json"):
        text = data.model_dump_json()
    else:
        text = json.dumps(data, default=str, separators=(",", ":"))
    return f"event: {event}\ndata: {text}\n\n"


def _changes_of(state: AgentState) -> tuple[object, ...]:
    """What makes a ``state`` event: everything but the clocks."""
    return (
        state.logged_in,
        state.logging_out,
        tuple(state.waiting_for_campaigns),
        tuple(
            (
                c.campaign,
                c.state,
                c.pause_reason,
                c.pending_pause,
                c.logout is not None,
                c.offered_contact,
                c.call_contact,
            )
            for c in state.campaigns
        ),
    )


class AgentWatcher:
    """The events of one agent since the last look (see the module docstring)."""

    def __init__(self, ctx: ApiContext, agent: str) -> None:
        self._ctx = ctx
        self.agent = agent
        self._last: tuple[object, ...] | None = None
        self._offered: dict[str, int | None] = {}
        self._talking: dict[str, int | None] = {}
        self._was_logging_out = False
        self._running: set[str] | None = None
        self._counting = False
        self._wrapping: set[str] = set()
        self.assigned: set[str] = set()  # re-read when a campaign starts
        self._known: set[str] | None = None  # the assignments last reported
        self._glanced: tuple[object, ...] | None = None
        self._since = ctx.clock.utcnow()
        self._told: set[tuple[int, object]] = set()  # callbacks announced (id, due time)

    def _glance(self) -> tuple[object, ...]:
        """What could make an event, read straight off the boards (no models built): most looks
        find it unchanged and stop here, so an idle stream costs a few microseconds a look."""
        ctx, agent = self._ctx, self.agent
        session = ctx.sessions.get(agent)
        views = tuple(
            (
                r.campaign.name,
                v.state,
                v.pause_reason,
                v.pending_pause,
                v.pending_logout is not None,
                v.contact,
            )
            for r in ctx.sessions.runners_of(agent)
            for v in (r.agents.view(agent),)
        )
        return (
            views,
            None if session is None else session.logging_out,
            tuple(ctx.sessions.waiting_campaigns(agent)),
            frozenset(r.campaign.name for r in ctx.engine.runners()),
        )

    async def look(self, tick: bool) -> list[str]:
        ctx, agent = self._ctx, self.agent
        glance = self._glance()
        # A tick matters only to a countdown running (logout held, wrap-up): otherwise an
        # unchanged glance has nothing to say, and building the agent's state every second
        # for every stream would be the API's largest steady cost.
        if glance == self._glanced and not (tick and (self._counting or self._wrapping)):
            return []
        self._glanced = glance
        out: list[str] = []
        state = agent_state(ctx, agent)
        changes = _changes_of(state)
        if changes != self._last:
            self._last = changes
            out.append(sse("state", state))
        for c in state.campaigns:
            if c.offered_contact is not None and self._offered.get(c.campaign) != c.offered_contact:
                out.append(await self._offer(c.campaign, c.offered_contact))
            self._offered[c.campaign] = c.offered_contact
            talking = c.call_contact if c.state == BoardState.TALKING.value else None
            if talking is not None and self._talking.get(c.campaign) != talking:
                contact = await screen_pop(ctx, talking, c.campaign)
                out.append(sse("call", {"campaign": c.campaign, "contact": contact.model_dump(mode="json")}))
            self._talking[c.campaign] = talking
        if self._was_logging_out and not state.logged_in:
            out.append(sse("logout_granted", {"agent": agent}))
        self._was_logging_out = state.logging_out
        running = {r.campaign.name for r in ctx.engine.runners()}
        if self._running is not None and running - self._running:
            self.assigned = set(await ctx.store.agent_campaigns(agent))  # "you were assigned" too
            for name in sorted((running - self._running) & self.assigned):
                out.append(sse("campaign_started", {"campaign": name}))
        self._running = running
        # countdowns: once a second, and at once when one starts
        held = [
            {"campaign": c.campaign, "waiting_for": c.logout.waiting_for, "remaining_s": c.logout.remaining_s}
            for c in state.campaigns
            if c.logout is not None
        ]
        if held and (tick or not self._counting):
            out.append(sse("logout", {"remaining": held}))
        self._counting = bool(held)
        wrapping = {c.campaign for c in state.campaigns if c.wrap_up_left_s is not None}
        for c in state.campaigns:
            if c.wrap_up_left_s is not None and (tick or c.campaign not in self._wrapping):
                out.append(sse("wrap_up", {"campaign": c.campaign, "left_s": round(c.wrap_up_left_s, 1)}))
        self._wrapping = wrapping
        return out

    async def assignments(self) -> list[str]:
        """``assigned`` events for campaigns the agent was assigned to since the last call."""
        now = set(await self._ctx.store.agent_campaigns(self.agent))
        known, self._known = self._known, now
        return [] if known is None else [sse("assigned", {"campaign": c}) for c in sorted(now - known)]

    async def callbacks(self) -> list[str]:
        """``callback_due`` / ``callback_handed_over`` events not sent on this stream yet."""
        now = self._ctx.clock.utcnow()
        due, handed = await self._ctx.store.agent_callback_notices(self.agent, now, self._since)
        out = []
        for cb in due:
            if (cb.id, cb.due_at) not in self._told:
                self._told.add((cb.id, cb.due_at))
                out.append(sse("callback_due", _callback_notice(cb)))
        for cb in handed:
            if (cb.id, None) not in self._told:
                self._told.add((cb.id, None))
                out.append(sse("callback_handed_over", _callback_notice(cb)))
        return out

    async def _offer(self, campaign: str, contact_id: int) -> str:
        runner = self._ctx.engine.runner(campaign)
        kind = runner.agents.view(self.agent).kind if runner is not None else None
        contact = await screen_pop(self._ctx, contact_id, campaign)
        return sse(
            "offer", OfferOut(campaign=campaign, kind=kind.value if kind else "preview", contact=contact)
        )


def _callback_notice(cb: Callback) -> dict[str, Any]:
    return {
        "callback_id": cb.id,
        "contact_id": cb.contact_id,
        "contact_name": cb.contact_name,
        "source": cb.source,
        "due_at": cb.due_at.isoformat(),
        "window_end_at": cb.window_end_at.isoformat() if cb.window_end_at else None,
    }


def figures(ctx: ApiContext) -> list[dict[str, Any]]:
    """Every running campaign's figures (the numbers ``dialer demo`` shows; no phone numbers), with
    what a wallboard adds: the mode, the abandon rate of each window beside the campaign's cap,
    and each logged-in agent's state and time in it (agent names, never a customer's data)."""
    out = []
    for r in sorted(ctx.engine.runners(), key=lambda r: r.campaign.name):
        row = dataclasses.asdict(r.stats())
        row["mode"] = r.campaign.mode.value
        row["abandon_cap"] = r.campaign.abandon_cap
        row["abandon_rates"] = r.closer.tally.abandon_rates(r.clock.now())
        row["agents"] = [
            {
                "agent": v.agent_id,
                "state": v.state.value,
                "in_state_s": round(v.in_state_s, 1),
                "pause_reason": v.pause_reason,
            }
            for v in sorted(r.agents.views(), key=lambda v: v.agent_id)
            if v.state is not BoardState.LOGGED_OUT
        ]
        out.append(row)
    return out


async def _stream(ctx: ApiContext, user: User, token: str) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    watcher = AgentWatcher(ctx, user.agent) if user.role is Role.AGENT and user.agent else None
    supervisor = user.role in (Role.SUPERVISOR, Role.ADMIN)
    yield ": connected\n\n"
    next_tick = next_check = next_callbacks = loop.time()
    last_sent = loop.time()
    while not ctx.closing.is_set():
        now = loop.time()
        tick = now >= next_tick
        if tick:
            next_tick = max(next_tick + _TICK_S, now)
        if now >= next_check:
            next_check = now + _RECHECK_S
            if await token_user(ctx, token) is None:
                yield sse("token_expired", {"reason": "the token is expired or revoked: log in again"})
                return
            if watcher is not None:
                messages_due = await watcher.assignments()
                if messages_due:
                    yield "".join(messages_due)
        messages: list[str] = []
        if watcher is not None:
            try:
                messages += await watcher.look(tick)
            except DialerError:
                pass  # a contact read failed (database down): the next look retries
            if now >= next_callbacks:
                next_callbacks = now + _CALLBACK_CHECK_S
                try:
                    messages += await watcher.callbacks()
                except (DialerError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    pass  # the database is down: the next look retries
        if supervisor and tick:
            messages.append(sse("figures", {"campaigns": figures(ctx)}))
        if messages:
            last_sent = now
            yield "".join(messages)
        elif now - last_sent >= _KEEPALIVE_S:
            last_sent = now
            yield ": keep-alive\n\n"
        await asyncio.sleep(ctx.event_poll_s)  # a plain sleep: no task per stream per look


@router.get(
    "/events",
    summary="Live events of the logged-in user (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def events(request: Request, ctx: Ctx, user: CurrentUser) -> StreamingResponse:
    token = read_bearer(request)
    if user.role is Role.AGENT and not user.agent:
        raise ApiError("forbidden", "the agent user is linked to no agent", field="agent")
    return StreamingResponse(
        _stream(ctx, user, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
