"""The virtual clock over the real database stands still for every store call, a new connection's too.

A pool grows on demand: a call that finds no idle connection opens one (TCP, authentication,
the jsonb codec's type lookup), in real time, before asyncpg counts the connection as in
use. The clock must not jump timers meanwhile, or the call completes virtual minutes after it
was placed and a runner on that clock misses what it was about to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from benchmarks.engine.database_clock import DatabaseAwareClock
from dialer.store.store import Store

T0 = 1_000_000.0


@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


async def _calls_finish_at_their_instant(dsn: str, *, told: bool) -> list[float]:
    store = await Store.open(dsn, min_size=0, max_size=3, migrate_now=False)  # no connection yet
    try:
        clock = DatabaseAwareClock(T0, store.pool)
        if not told:
            clock._told = False  # an asyncpg whose idle queue cannot tell: the polling path
        finished: list[float] = []

        async def call() -> None:
            await store.pool.fetchval("SELECT 1")
            finished.append(clock.now())

        async def ticking() -> None:  # timers for the clock to jump to, a virtual second apart
            while True:
                await clock.sleep(1.0)

        ticker = asyncio.ensure_future(ticking())
        calls = [asyncio.ensure_future(call()) for _ in range(3)]  # three connections to open
        try:
            await clock.run_until(T0 + 3600.0)
        finally:
            ticker.cancel()
        assert all(c.done() for c in calls)
        return finished
    finally:
        await store.close()


async def test_store_calls_that_open_a_connection_complete_at_the_instant_they_were_placed(dsn: str) -> None:
    assert [T0] * 3 == await _calls_finish_at_their_instant(dsn, told=True)
    assert [T0] * 3 == await _calls_finish_at_their_instant(dsn, told=False)
