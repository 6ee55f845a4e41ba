"""Live events: one Server-Sent Events stream per logged-in user, ``GET /api/v1/events``.

Theory of operation. The boards are the truth and change on the runner's loop; rather than
hook every transition, the process's one :class:`~dialer.api.event_hub.EventHub` looks at the
boards of every agent with a stream open every 50 ms and wakes the streams of the agents whose
state changed (an API action wakes its agent's streams at once); each stream's
:class:`~dialer.api.watcher.AgentWatcher` then sends what changed since its last look. So
nothing in the runner knows streams exist, an idle stream costs nothing but its share of one
look, and a stream that (re)connects simply starts from an empty last look, which sends the
current state first (issue 9: a dropped stream resumes without losing state).

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
* ``assigned`` — the agent was assigned to a campaign (seen within the hub's ``recheck_s``, 10 s);
* ``figures`` — supervisors and administrators: every running campaign's figures, once a second;
* ``callback_due`` — a personal callback of the agent is due (issue 13; looked for every 2 s,
  each callback once per stream and due time);
* ``callback_handed_over`` — the agent's personal callback went to the whole campaign (the agent
  was away past the grace).

A comment line every 15 s keeps proxies from closing an idle stream; a revoked or expired
token ends the stream within the hub's ``recheck_s`` (10 s) with a ``token_expired`` event.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from dialer.agents.state import AgentState as BoardState
from dialer.api.campaigns import calls_now
from dialer.api.context import ApiContext, Ctx, CurrentUser, read_bearer
from dialer.api.errors import ApiError
from dialer.api.passwords import hash_token
from dialer.api.streams import Subscription
from dialer.api.watcher import AgentWatcher, sse
from dialer.errors import DialerError
from dialer.store.users import Role, User

router = APIRouter(tags=["events"])

_KEEPALIVE_S = 15.0


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
        row.update(calls_now(r))
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
    watcher = AgentWatcher(ctx, user.agent) if user.role is Role.AGENT and user.agent else None
    sub = Subscription(hash_token(token), watcher, supervisor=user.role in (Role.SUPERVISOR, Role.ADMIN))
    if watcher is not None:  # what "assigned" is measured against
        async with ctx.streams.reads:
            watcher.assignments(await ctx.store.agent_campaigns(watcher.agent))
    ctx.streams.add(sub)
    loop = asyncio.get_running_loop()
    try:
        yield ": connected\n\n"
        last_sent = loop.time()
        while not ctx.closing.is_set():
            try:
                async with asyncio.timeout(_KEEPALIVE_S):  # no task per wait, unlike wait_for
                    await sub.wake.wait()
            except TimeoutError:
                last_sent = loop.time()
                yield ": keep-alive\n\n"
                continue
            sub.wake.clear()
            if sub.expired:
                yield sse("token_expired", {"reason": "the token is expired or revoked: log in again"})
                return
            tick, sub.tick = sub.tick, False
            messages, sub.notices = sub.notices, []
            if watcher is not None:
                try:
                    async for batch in watcher.look(tick):  # a state event before a screen pop's reads
                        last_sent = loop.time()
                        yield "".join(messages + batch)
                        messages = []
                except DialerError:
                    pass  # a contact read failed (database down): the next look retries
            if messages:
                last_sent = loop.time()
                yield "".join(messages)
            elif loop.time() - last_sent >= _KEEPALIVE_S:  # woken often with nothing to say
                last_sent = loop.time()
                yield ": keep-alive\n\n"
    finally:
        ctx.streams.discard(sub)


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
