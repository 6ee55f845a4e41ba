"""The alarm a loop sleeps on between passes: until a time of its clock, or until rung.

The runner's loop (and the engine's, and the outcome writer's) sleeps until its next deadline
unless an update, a request, a write's end or a change wakes it first. Written as an
``asyncio.Event`` whose ``wait()`` raced the clock's sleep in ``asyncio.wait``, every pass cost
two tasks, the wait's own future and callbacks, and two more loop turns to collect the cancelled
loser; in ``benchmarks.engine_pacing`` S3 the runner slept 27,000 times in half an hour. Here a
pass costs one future, which either :meth:`Alarm.set` or the clock
(:meth:`dialer.clock.Clock.resolve_at`) resolves, whichever comes first; no task. The alarm
stays set until the sleeper clears it, as an ``Event`` would. One loop sleeps on an alarm: a
second sleeper at the same time would not be woken.
"""

from __future__ import annotations

import asyncio

from dialer.clock import Clock

__all__ = ["Alarm"]


class Alarm:
    """A flag a sleeping loop wakes on (module docstring)."""

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        """Ring: the sleeper (if any) returns now, a later sleep returns at once until cleared."""
        self._set = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def is_set(self) -> bool:
        return self._set

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        """Return as soon as the alarm is set (at once if it is)."""
        await self._sleep(None, 0.0)

    async def sleep_until(self, clock: Clock, until: float) -> None:
        """Return at ``until`` on ``clock``, or as soon as the alarm is set (at once if it is)."""
        await self._sleep(clock, until)

    async def _sleep(self, clock: Clock | None, until: float) -> None:
        if self._set:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        if clock is not None:
            clock.resolve_at(until, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
