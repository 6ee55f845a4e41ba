"""One engine, two clocks: the runner sleeps through a :class:`Clock`, never by itself.

Theory of operation (after SimPy's ``Environment``/``RealtimeEnvironment`` and trio's
``MockClock``): time is a float of seconds since the Unix epoch. :class:`RealClock` reads
``time.time()`` and sleeps with asyncio. :class:`VirtualClock` keeps a heap of
``(time, priority, seq, future)``; nothing moves until its driver, :meth:`VirtualClock.run_until`,
lets the event loop settle (every ready callback has run, so every task is blocked on the
clock or on another in-memory event) and then jumps to the earliest timer. Hours of calling
therefore take as long as the code takes to run, and the benchmark measures the real decision
code. Asking the virtual clock to go back in time raises.

Virtual time only works when everything the code awaits is in-memory (simulated PBX port,
in-memory store); a real socket would not be waited for by :meth:`run_until`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """The time source of a runner."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def utcnow(self) -> datetime:
        """The same instant as an aware UTC datetime (for schedules and the database)."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return at time ``t`` (at once if ``t`` has passed)."""
        ...

    async def sleep(self, delay_s: float) -> None:
        """Return after ``delay_s`` seconds of this clock's time."""
        ...

    def resolve_at(self, t: float, fut: asyncio.Future[None]) -> None:
        """Set ``fut``'s result at time ``t``, unless it is done by then.

        A sleep that something else may end first without a task of its own
        (:class:`dialer.campaign.alarm.Alarm`).
        """
        ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, t: float) -> None:
        await asyncio.sleep(max(0.0, t - time.time()))

    def resolve_at(self, t: float, fut: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        timer = loop.call_later(max(0.0, t - time.time()), _resolve, fut)
        fut.add_done_callback(lambda _: timer.cancel())  # ended first: no timer left behind

    async def sleep(self, delay_s: float) -> None:
        await asyncio.sleep(max(0.0, delay_s))


class VirtualClock:
    """Discrete-event time for simulations and timing tests ("test the promise").

    Args:
        start: the initial time (epoch seconds).
    """

    # How many consecutive empty loop turns count as "settled". One is enough for plain
    # coroutine chains; a few more absorb call_soon chains from futures and queues.
    _SETTLE_TURNS = 3

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._heap: list[tuple[float, int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    async def sleep_until(self, t: float, *, priority: int = 1) -> None:
        if t <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (t, priority, next(self._seq), fut))
        await fut

    async def sleep(self, delay_s: float) -> None:
        await self.sleep_until(self._now + max(0.0, delay_s))

    def resolve_at(self, t: float, fut: asyncio.Future[None]) -> None:
        if t <= self._now:
            asyncio.get_running_loop().call_soon(_resolve, fut)
            return
        heapq.heappush(self._heap, (t, 1, next(self._seq), fut))  # a done one is skipped

    @property
    def next_timer(self) -> float | None:
        """When the earliest live timer fires, or ``None``."""
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][3].done():
            heapq.heappop(self._heap)

    async def settle(self) -> None:
        """Let every runnable callback run until the loop is idle."""
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)
        quiet = 0
        while quiet < self._SETTLE_TURNS:
            await asyncio.sleep(0)
            quiet = quiet + 1 if not ready else 0

    async def run_until(self, t_end: float) -> None:
        """Drive virtual time up to ``t_end``, firing timers in ``(time, priority, seq)`` order.

        Raises:
            ValueError: ``t_end`` is before the current time.
        """
        if t_end < self._now:
            raise ValueError(f"virtual clock cannot go back from {self._now} to {t_end}")
        while True:
            await self.settle()
            self._drop_cancelled()
            if not self._heap or self._heap[0][0] > t_end:
                break
            t, _prio, _seq, fut = heapq.heappop(self._heap)
            if fut.done():
                continue
            self._now = max(self._now, t)
            fut.set_result(None)
        self._now = t_end
        await self.settle()


class SteppedClock:
    """Time that moves only when its owner sets :attr:`t`; sleeping returns at once.

    For code driven pass by pass from outside (the reminder service in its tests and its
    benchmark): each pass sees the instant it was given, and nothing waits on a timer.
    """

    def __init__(self, at: datetime) -> None:
        self.t = at

    def now(self) -> float:
        return self.t.timestamp()

    def utcnow(self) -> datetime:
        return self.t

    async def sleep_until(self, t: float) -> None:
        return None

    async def sleep(self, delay_s: float) -> None:
        return None

    def resolve_at(self, t: float, fut: asyncio.Future[None]) -> None:
        asyncio.get_running_loop().call_soon(_resolve, fut)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def utc_at(t: float) -> datetime:
    """The instant ``t`` (epoch seconds, as a :class:`Clock` reads it) as an aware UTC datetime."""
    return datetime.fromtimestamp(t, UTC)
