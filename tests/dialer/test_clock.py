"""The virtual clock fires timers in order, never goes back, and runs hours in moments."""

from __future__ import annotations

import asyncio

import pytest

from dialer.clock import RealClock, VirtualClock


async def test_timers_fire_in_time_order_with_the_clock_at_each_timer() -> None:
    clock = VirtualClock(start=1000.0)
    seen: list[tuple[str, float]] = []

    async def sleeper(name: str, delay: float) -> None:
        await clock.sleep(delay)
        seen.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, d)) for n, d in [("c", 30), ("a", 5), ("b", 10)]]
    await clock.run_until(1020.0)
    assert seen == [("a", 1005.0), ("b", 1010.0)]
    assert clock.now() == 1020.0
    await clock.run_until(1100.0)
    assert seen[-1] == ("c", 1030.0)
    await asyncio.gather(*tasks)


async def test_chained_sleeps_inside_one_task_advance_cumulatively() -> None:
    clock = VirtualClock()
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(3600):
            await clock.sleep(1.0)
            ticks.append(clock.now())

    task = asyncio.create_task(ticker())
    await clock.run_until(8 * 3600)
    assert len(ticks) == 3600 and ticks[-1] == 3600.0
    await task


async def test_going_back_raises() -> None:
    clock = VirtualClock(start=50.0)
    with pytest.raises(ValueError):
        await clock.run_until(10.0)


async def test_cancelled_sleeper_does_not_fire() -> None:
    clock = VirtualClock()
    fired: list[str] = []

    async def sleeper() -> None:
        await clock.sleep(5)
        fired.append("x")

    task = asyncio.create_task(sleeper())
    await clock.settle()
    task.cancel()
    await clock.run_until(10)
    assert fired == []
    assert clock.next_timer is None


async def test_utcnow_matches_now() -> None:
    clock = VirtualClock(start=86400.0)
    assert clock.utcnow().isoformat() == "1970-01-02T00:00:00+00:00"


async def test_real_clock_sleep_until_past_returns_at_once() -> None:
    clock = RealClock()
    before = clock.now()
    await clock.sleep_until(before - 10)
    assert clock.now() - before < 5  # did not wait the 10 s the argument would suggest
