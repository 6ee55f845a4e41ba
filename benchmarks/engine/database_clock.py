"""Virtual time over a real database: a clock that stands still while PostgreSQL works.

:class:`dialer.clock.VirtualClock` jumps to the next timer once the event loop is idle, but a
task awaiting PostgreSQL is not runnable, so the clock would run ahead of the store.
:class:`DatabaseAwareClock` does not move while any pooled connection is in use: every store
call made at a virtual instant completes at that instant, and the ``at`` the runner passes the
store is the time the call is really placed. Used by the compliance proof
(``benchmarks.compliance_proof``) and by the runner tests that run in virtual time on the real
store (``tests/dialer/campaign/test_runner_callbacks.py``).
"""

from __future__ import annotations

import asyncio

import asyncpg

from dialer.clock import VirtualClock


class DatabaseAwareClock(VirtualClock):
    """A virtual clock that does not move while the database is working (module docstring).

    It waits for a connection to come back to the pool rather than polling when it can: a
    poll sleeps at least the event loop's 1 ms timer resolution after PostgreSQL has answered,
    and the simulation waits out a few of those per call. asyncpg has no hook for a release,
    so the pool's (private) queue of idle connections is taught to tell; an asyncpg without
    it leaves the clock polling.
    """

    def __init__(self, start: float, pool: asyncpg.Pool) -> None:
        super().__init__(start)
        self._pool = pool
        self._released: asyncio.Future[None] | None = None
        queue = getattr(pool, "_queue", None)
        self._told = isinstance(queue, asyncio.Queue)
        if self._told:
            queue.__class__ = type("TellingQueue", (type(queue),), {"put_nowait": _telling_put})
            queue.on_put = self._on_release  # type: ignore[union-attr]

    def _busy(self) -> bool:
        """Whether a connection is out of the pool: connecting, in a store call, or going back.

        asyncpg counts a connection as in use only once it is open and set up, but an acquire
        that finds none idle opens one first, in real time (TCP, authentication, the jsonb
        codec's type lookup): counting by ``get_idle_size`` let the clock jump minutes
        meanwhile. Every connection not in the idle queue is counted instead.
        """
        holders = getattr(self._pool, "_holders", None)
        queue = getattr(self._pool, "_queue", None)
        if isinstance(holders, list) and isinstance(queue, asyncio.Queue):
            return queue.qsize() < len(holders)
        return self._pool.get_size() - self._pool.get_idle_size() > 0

    def _on_release(self) -> None:
        if self._released is not None and not self._released.done():
            self._released.set_result(None)

    async def settle(self) -> None:
        """Return once nothing is runnable and no store call is out.

        One quiet loop turn is enough here (the plain virtual clock waits for three): after
        ``sleep(0)`` returns, an empty ready queue means no callback is pending, and the only
        I/O the simulation awaits is the database's, which :meth:`_busy` covers. The turns
        are most of the harness's own CPU: a timer jump or a store call costs one turn less
        than two or more before (``python -m benchmarks.compliance_proof`` docstring, "Speed").
        """
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)
        while True:
            if ready is None:  # not the standard event loop: the plain clock's three turns
                await super().settle()
            else:
                await asyncio.sleep(0)
                if ready:
                    continue
            if not self._busy():
                return
            if not self._told:
                await asyncio.sleep(0.0002)  # real time: PostgreSQL answers
                continue
            # real time: PostgreSQL answers (the timer only guards against a missed release)
            self._released = waiter = loop.create_future()
            guard = loop.call_later(0.05, self._on_release)
            try:
                await waiter
            finally:
                guard.cancel()
                self._released = None


def _telling_put(self: asyncio.Queue[object], item: object) -> None:
    """``put_nowait`` of the pool's idle queue: a connection came back (:class:`DatabaseAwareClock`)."""
    super(type(self), self).put_nowait(item)  # type: ignore[misc]
    self.on_put()  # type: ignore[attr-defined]
