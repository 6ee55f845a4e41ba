"""What one event stream of an agent says next: :class:`AgentWatcher` (used by :mod:`dialer.api.events`).

A watcher remembers what its stream last sent and turns the agent's boards, read now, into the
events since (see the list in :mod:`dialer.api.events`). It does not decide *when* to look: the
process's one :class:`~dialer.api.event_hub.EventHub` wakes it when :func:`glance` of its agent
changed, once a second while a countdown runs, and hands it the due callbacks and the
assignments it reads for every stream at once. A new watcher starts from an empty last look,
so a (re)connected stream sends the current state first (issue 9: a dropped stream resumes
without losing state).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from dialer.agents.state import AgentState as BoardState
from dialer.api.agent_views import agent_state, screen_pop
from dialer.api.context import ApiContext
from dialer.api.schemas import AgentState, OfferOut
from dialer.model import Callback
from dialer.store.callbacks import AgentCallbackNotices

__all__ = ["AgentWatcher", "glance", "sse"]


def sse(event: str, data: Any) -> str:
    """One SSE message."""
    if hasattr(data, "model_dump_json"):
        text = data.model_dump_json()
    else:
        text = json.dumps(data, default=str, separators=(",", ":"))
    return f"event: {event}\ndata: {text}\n\n"


def glance(ctx: ApiContext, agent: str, running: frozenset[str]) -> tuple[object, ...]:
    """What could make an event for ``agent``, read straight off the boards (no models built):
    most looks find it unchanged and stop there, so watching an idle agent costs a few
    microseconds a look. ``running``: the names of the running campaigns (read once per look
    at every agent)."""
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
        running,
    )


def running_campaigns(ctx: ApiContext) -> frozenset[str]:
    return frozenset(r.campaign.name for r in ctx.engine.runners())


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
    """The events of one agent's stream since its last look (see the module docstring)."""

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
        self.since = ctx.clock.utcnow()
        self._told: set[tuple[int, object]] = set()  # callbacks announced (id, due time)

    @property
    def wants_tick(self) -> bool:
        """A countdown runs (logout held, wrap-up): the stream speaks once a second."""
        return self._counting or bool(self._wrapping)

    async def look(self, tick: bool) -> AsyncIterator[list[str]]:
        """The events since the last look, in order, in batches: the events ready before a
        database read (a screen pop, the assignments) are handed over before it, so that a
        ``state`` event never waits for the database."""
        ctx, agent = self._ctx, self.agent
        seen = glance(ctx, agent, running_campaigns(ctx))
        # A tick matters only to a countdown running: otherwise an unchanged glance has
        # nothing to say (the hub wakes a stream for a tick or a possible change alike).
        if seen == self._glanced and not (tick and self.wants_tick):
            return
        self._glanced = seen
        out: list[str] = []
        state = agent_state(ctx, agent)
        changes = _changes_of(state)
        if changes != self._last:
            self._last = changes
            out.append(sse("state", state))
        for c in state.campaigns:
            if c.offered_contact is not None and self._offered.get(c.campaign) != c.offered_contact:
                if out:
                    yield out
                out = [await self._offer(c.campaign, c.offered_contact)]
            self._offered[c.campaign] = c.offered_contact
            talking = c.call_contact if c.state == BoardState.TALKING.value else None
            if talking is not None and self._talking.get(c.campaign) != talking:
                if out:
                    yield out
                async with ctx.streams.reads:
                    contact = await screen_pop(ctx, talking, c.campaign)
                out = [sse("call", {"campaign": c.campaign, "contact": contact.model_dump(mode="json")})]
            self._talking[c.campaign] = talking
        if self._was_logging_out and not state.logged_in:
            out.append(sse("logout_granted", {"agent": agent}))
        self._was_logging_out = state.logging_out
        running = {r.campaign.name for r in ctx.engine.runners()}
        if self._running is not None and running - self._running:
            if out:
                yield out
            async with ctx.streams.reads:
                self.assigned = set(await ctx.store.agent_campaigns(agent))  # "you were assigned" too
            out = [
                sse("campaign_started", {"campaign": name})
                for name in sorted((running - self._running) & self.assigned)
            ]
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
                out.append(sse("wrap_up", {"campaign": c.campaign, "left_s": round(c.wrap_up_left_s, 1),
                                           "status": c.wrap_up_default}))
        self._wrapping = wrapping
        if out:
            yield out

    def assignments(self, now: list[str]) -> list[str]:
        """``assigned`` events for campaigns in ``now`` (the agent's assignments read by the hub)
        that were not there at the last call; the first call only remembers."""
        known, self._known = self._known, set(now)
        if known is None:
            return []
        return [sse("assigned", {"campaign": c}) for c in sorted(self._known - known)]

    def callbacks(self, notices: AgentCallbackNotices) -> list[str]:
        """``callback_due`` / ``callback_handed_over`` events of ``notices`` (read by the hub for
        every stream) not sent on this stream yet; a hand-over before the stream opened is old news."""
        due, handed = notices
        out = []
        for cb in due:
            if (cb.id, cb.due_at) not in self._told:
                self._told.add((cb.id, cb.due_at))
                out.append(sse("callback_due", _callback_notice(cb)))
        for changed_at, cb in handed:
            if changed_at > self.since and (cb.id, None) not in self._told:
                self._told.add((cb.id, None))
                out.append(sse("callback_handed_over", _callback_notice(cb)))
        return out

    async def _offer(self, campaign: str, contact_id: int) -> str:
        runner = self._ctx.engine.runner(campaign)
        kind = runner.agents.view(self.agent).kind if runner is not None else None
        async with self._ctx.streams.reads:
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
