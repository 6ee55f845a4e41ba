"""The alarm a loop sleeps on: it returns at its time, or as soon as it is rung, on every clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from dialer.campaign.alarm import Alarm
from dialer.clock import RealClock, SteppedClock, VirtualClock


async def test_an_alarm_nobody_rings_returns_at_its_time_on_the_virtual_clock() -> None:
    clock, alarm = VirtualClock(start=100.0), Alarm()
    woke: list[float] = []

    async def sleeper() -> None:
        await alarm.sleep_until(clock, 130.0)
        woke.append(clock.now())

    task = asyncio.create_task(sleeper())
    await clock.run_until(129.0)
    assert [] == woke
    await clock.run_until(200.0)
    await task
    assert [130.0] == woke


async def test_a_ring_ends_the_sleep_at_once_and_its_timer_is_dropped() -> None:
    clock, alarm = VirtualClock(start=0.0), Alarm()
    woke: list[float] = []

    async def sleeper() -> None:
        await alarm.sleep_until(clock, 60.0)
        woke.append(clock.now())

    async def ringer() -> None:
        await clock.sleep(5.0)
        alarm.set()

    tasks = [asyncio.create_task(sleeper()), asyncio.create_task(ringer())]
    await clock.run_until(10.0)
    await asyncio.gather(*tasks)
    assert [5.0] == woke
    assert clock.next_timer is None  # the sleep's timer went with it: nothing fires at 60 s
    assert alarm.is_set()  # set until the sleeper clears it, as an Event


async def test_a_set_alarm_returns_at_once_until_cleared() -> None:
    clock, alarm = VirtualClock(start=0.0), Alarm()
    alarm.set()
    await asyncio.wait_for(alarm.sleep_until(clock, 1e9), timeout=1.0)  # virtual time never moves
    alarm.clear()
    task = asyncio.create_task(alarm.sleep_until(clock, 50.0))
    await clock.run_until(20.0)
    assert not task.done()
    await clock.run_until(50.0)
    assert task.done()


async def test_a_cancelled_sleeper_is_cancelled_and_a_later_ring_finds_nobody() -> None:
    clock, alarm = VirtualClock(start=0.0), Alarm()
    task = asyncio.create_task(alarm.sleep_until(clock, 60.0))
    await clock.run_until(1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    alarm.set()  # no waiter left to resolve: no InvalidStateError
    await clock.run_until(120.0)
    assert clock.now() == 120.0


async def test_on_the_real_clock_a_ring_wins_over_a_long_sleep_and_a_short_one_ends_by_itself() -> None:
    clock, alarm = RealClock(), Alarm()
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, alarm.set)
    started = time.monotonic()
    await asyncio.wait_for(alarm.sleep_until(clock, clock.now() + 30.0), timeout=5.0)
    assert time.monotonic() - started < 5.0
    alarm.clear()
    started = time.monotonic()
    await alarm.sleep_until(clock, clock.now() + 0.05)
    assert 0.04 <= time.monotonic() - started < 5.0


async def test_a_real_clock_timer_is_cancelled_when_the_ring_comes_first() -> None:
    clock = RealClock()
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    clock.resolve_at(clock.now() + 30.0, fut)
    [mine] = [h for h in loop._scheduled if not h.cancelled() and h.when() > loop.time() + 20]  # type: ignore[attr-defined]
    fut.set_result(None)
    await asyncio.sleep(0)  # the done callback runs
    assert mine.cancelled()  # no timer left in the loop for 30 s


async def test_the_stepped_clock_ends_every_sleep_at_once() -> None:
    clock, alarm = SteppedClock(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)), Alarm()
    await asyncio.wait_for(alarm.sleep_until(clock, clock.now() + 3600.0), timeout=1.0)


async def test_waiting_without_a_time_ends_only_on_a_ring() -> None:
    alarm = Alarm()
    task = asyncio.create_task(alarm.wait())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()
    alarm.set()
    await asyncio.wait_for(task, timeout=1.0)
    await asyncio.wait_for(alarm.wait(), timeout=1.0)  # still set: at once
