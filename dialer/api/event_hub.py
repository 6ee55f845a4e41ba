"""One poller for every event stream of the process: :class:`EventHub`.

Why one: with a poller per stream, 200 agents' streams woke 4,000 times a second to look at
the boards, and each read its agent's due callbacks every 2 s and its assignments and token
every 10 s, a database round trip each on the pool the engine dials with; the engine's loop
and the database spent more on the streams than on dialling. The hub looks at the boards
every ``poll_s`` once for each agent with a stream open (:func:`~dialer.api.watcher.glance`,
microseconds when nothing changed) and wakes only the streams of agents whose glance
changed; an endpoint that changed an agent wakes its streams at once
(:meth:`~dialer.api.streams.Streams.changed`). Once a second it wakes the streams with a
countdown running and hands the supervisors the figures (built once for them all). Every
``callback_check_s`` it reads the due callbacks of all streamed agents in one query, every
``recheck_s`` their assignments and the streams' tokens in one query each; those reads run
in their own task so that a slow database never delays a state event.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

from dialer.api.context import ApiContext
from dialer.api.events import figures
from dialer.api.watcher import glance, running_campaigns, sse
from dialer.errors import DialerError

log = structlog.get_logger(__name__)

__all__ = ["EventHub"]

_DB_DOWN = (DialerError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class EventHub:
    """Feeds the process's event streams (see the module docstring).

    Args:
        ctx: the API's context; its ``streams`` are the subscriptions fed.
        poll_s: how often the boards are looked at (a change the API did not make itself
            reaches the streams within this).
        tick_s: countdowns and figures.
        callback_check_s: due callbacks.
        recheck_s: assignments and tokens (a revoked token ends its stream within this).
    """

    def __init__(
        self,
        ctx: ApiContext,
        *,
        poll_s: float = 0.05,
        tick_s: float = 1.0,
        callback_check_s: float = 2.0,
        recheck_s: float = 10.0,
    ) -> None:
        self._ctx = ctx
        self.poll_s = poll_s
        self.tick_s = tick_s
        self.callback_check_s = callback_check_s
        self.recheck_s = recheck_s
        self._glanced: dict[str, tuple[object, ...]] = {}

    def look(self, tick: bool) -> None:
        """One look at every streamed agent; wake the streams with something to say."""
        ctx, streams = self._ctx, self._ctx.streams
        running = running_campaigns(ctx)
        for agent in list(self._glanced.keys() - streams.by_agent.keys()):
            del self._glanced[agent]
        for agent, subs in streams.by_agent.items():
            seen = glance(ctx, agent, running)
            if self._glanced.get(agent) != seen:
                self._glanced[agent] = seen
                for sub in subs:
                    sub.wake.set()
        if not tick:
            return
        text: str | None = None
        for sub in streams.all:
            if sub.supervisor:
                text = text or sse("figures", {"campaigns": figures(ctx)})
                sub.say([text])
            elif sub.watcher is not None and sub.watcher.wants_tick:
                sub.tick = True
                sub.wake.set()

    async def looks(self) -> None:
        """:meth:`look` every ``poll_s``, with a tick every ``tick_s``."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            now = loop.time()
            tick = now >= next_tick
            if tick:
                next_tick = max(next_tick + self.tick_s, now)
            try:
                self.look(tick)
            except Exception as err:  # a board read failed: the next look retries
                log.warning("api_event_look_failed", error=type(err).__name__)
            await asyncio.sleep(self.poll_s)

    async def check_callbacks(self) -> None:
        """Hand every agent stream its due and handed-over callbacks (one query for all)."""
        ctx = self._ctx
        watchers = [s for s in ctx.streams.all if s.watcher is not None]
        if not watchers:
            return
        since = min(s.watcher.since for s in watchers if s.watcher is not None)
        notices = await ctx.store.agents_callback_notices(
            sorted({s.watcher.agent for s in watchers if s.watcher is not None}), ctx.clock.utcnow(), since
        )
        for sub in watchers:
            if sub.watcher is not None and sub.watcher.agent in notices:
                sub.say(sub.watcher.callbacks(notices[sub.watcher.agent]))

    async def check_assignments_and_tokens(self) -> None:
        """``assigned`` events for every agent stream; streams whose token died are ended."""
        ctx = self._ctx
        subs = list(ctx.streams.all)
        if not subs:
            return
        epoch, now_s = ctx.tokens.epoch, ctx.clock.now()
        live = await ctx.store.live_tokens(sorted({s.token_hash for s in subs}), ctx.clock.utcnow())
        if ctx.tokens.epoch == epoch:  # no logout or user change meanwhile
            for token_hash, user in live.items():  # an open stream's token never waits for a read
                ctx.tokens.put(token_hash, user, now_s)
        agents = sorted({s.watcher.agent for s in subs if s.watcher is not None})
        assigned = await ctx.store.agents_campaigns(agents) if agents else {}
        for sub in subs:
            if sub.token_hash not in live:
                ctx.tokens.forget(sub.token_hash)
                sub.expired = True
                sub.wake.set()
            elif sub.watcher is not None and sub.watcher.agent in assigned:
                sub.say(sub.watcher.assignments(assigned[sub.watcher.agent]))

    async def checks(self) -> None:
        """:meth:`check_callbacks` every ``callback_check_s``, the rest every ``recheck_s``."""
        loop = asyncio.get_running_loop()
        last_callbacks = last_recheck = -float("inf")
        while True:
            now = loop.time()
            try:
                if now - last_callbacks >= self.callback_check_s:
                    last_callbacks = now
                    await self.check_callbacks()
                if now - last_recheck >= self.recheck_s:
                    last_recheck = now
                    await self.check_assignments_and_tokens()
            except _DB_DOWN as err:  # the database is down: the next check retries
                log.warning("api_event_check_failed", error=type(err).__name__)
            await asyncio.sleep(min(self.callback_check_s, self.recheck_s))
