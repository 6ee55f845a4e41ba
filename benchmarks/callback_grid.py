"""Callback grid query latency: ``python -m benchmarks.callback_grid``.

Issue 13's measure: the grid for 30 days x 48 slots (an all-day schedule cut into 30-minute
slots) with 100,000 booked callbacks, p99 < 50 ms. Builds a campaign, its grid and
``--callbacks`` callbacks spread over the month's slots (the slot rows' ``booked`` counts kept
by the trigger of migration 018), then times ``Store.callback_grid`` (the real API: campaign
and grid lookup, slot arithmetic in Python, one read of the month's slot rows) next to a
baseline in the same run: counting the callbacks per slot from the callbacks table with
``GROUP BY`` (what the query would cost without the kept counts). Seeded; with no ``--dsn`` it
runs on a throwaway embedded PostgreSQL.

The slot building alone (no database) is timed too, in the same run: the query's one loop
(:func:`~dialer.callbacks.grid.grid_views`, each slot boundary converted to local time once,
the slots as plain pairs and each view made by ``tuple.__new__``) next to the same loop over
:func:`~dialer.callbacks.grid.slots_between`'s named tuples with the named tuple's own
constructor (the way before), and the slot-by-slot way before that
(:func:`~dialer.callbacks.grid.slot_state` and :meth:`~dialer.callbacks.grid.SlotView.of` per
slot, two ``astimezone`` calls a slot).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import time
from zoneinfo import ZoneInfo

import numpy as np

from benchmarks.throwaway import benchmark_database
from dialer.callbacks.grid import (
    GridSpec,
    SlotCounts,
    SlotView,
    _state,
    day_range,
    grid_views,
    slot_state,
    slots_between,
    zone_named,
)
from dialer.model import CampaignSpec, CampaignState
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store

FIRST = dt.date(2026, 3, 2)
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
DAYS = 30


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p))


async def build(store: Store, callbacks: int, seed: int) -> tuple[str, int, float]:
    t0 = time.perf_counter()
    await store.create_schedule(
        Schedule(
            name="GRID",
            frequency=Frequency.DAILY,
            window_start=dt.time(0),
            window_end=dt.time(0),
            timezone="Europe/Warsaw",
        )
    )
    camp = await store.create_campaign(
        CampaignSpec(name="GRID", schedule="GRID", state=CampaignState.RUNNING, timezone="Europe/Warsaw")
    )
    await store.define_callback_grid("GRID", schedule="GRID", slot_min=30, capacity=1000)
    last = FIRST + dt.timedelta(days=DAYS - 1)
    slots = await store.callback_grid("GRID", FIRST, last, "Europe/Warsaw", at=AT)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(slots), size=callbacks)
    async with store.pool.acquire() as conn:
        status = await conn.fetchval("SELECT default_status_id FROM campaigns WHERE id = $1", camp.id)
        await conn.execute(
            "INSERT INTO contacts (campaign_id, name, status_id)"
            " SELECT $1, 'c' || g, $2 FROM generate_series(1, $3) g",
            camp.id,
            status,
            callbacks,
        )
        await conn.executemany(
            "INSERT INTO callback_slots (campaign_id, starts_at, ends_at) VALUES ($1, $2, $3)",
            [(camp.id, s.starts_at, s.ends_at) for s in slots],
        )
        ids = {r["starts_at"]: r["id"] for r in await conn.fetch("SELECT id, starts_at FROM callback_slots")}
        contact_ids = [r["id"] for r in await conn.fetch("SELECT id FROM contacts ORDER BY id")]
        rows = [
            (
                contact_ids[i],
                camp.id,
                "campaign",
                ids[slots[p].starts_at],
                slots[p].starts_at,
                slots[p].ends_at,
            )
            for i, p in enumerate(picks.tolist())
        ]
        # the rows go in without the row triggers (the history of 100,000 creations is not
        # what is measured); the slots' booked counts are then set as the trigger keeps them
        await conn.execute("SET session_replication_role = replica")
        await conn.copy_records_to_table(
            "callbacks",
            records=rows,
            columns=["contact_id", "campaign_id", "kind", "slot_id", "due_at", "window_end_at"],
        )
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute(
            "UPDATE callback_slots s SET booked = (SELECT count(*) FROM callbacks b WHERE b.slot_id = s.id)"
        )
        await conn.execute("ANALYZE")
    return "GRID", camp.id, time.perf_counter() - t0


async def timed_grid(store: Store, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU time (ms) per grid query: on a loaded machine the
    difference is time spent waiting for the server and for a core."""
    last = FIRST + dt.timedelta(days=DAYS - 1)
    wall, cpu = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        views = await store.callback_grid("GRID", FIRST, last, "America/New_York", at=AT)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    if not 1400 <= len(views) <= 1500:
        raise SystemExit(f"expected about {DAYS * 48} slots, got {len(views)}")
    return wall, cpu


def named_tuples(
    spec: GridSpec,
    start: dt.datetime,
    end: dt.datetime,
    zone: ZoneInfo,
    counts: dict[dt.datetime, SlotCounts],
) -> list[SlotView]:
    """grid_views before the plain pairs: a named tuple per slot and per view, each made by its
    own constructor (no closed dates here)."""
    out: list[SlotView] = []
    prev_end, prev_local = None, start
    for slot in slots_between(spec, start, end):
        at, until = slot.starts_at, slot.ends_at
        local_start = prev_local if at == prev_end else at.astimezone(zone)
        prev_end, prev_local = until, until.astimezone(zone)
        cap, booked, closed = counts.get(at, (0, 0, False))
        capacity = 0 if cap is None else cap
        state, left = _state(until, AT, closed, capacity, booked)
        out.append(SlotView(at, until, local_start, prev_local, state, capacity, booked, left))
    return out


async def timed_building(store: Store, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """CPU time (ms) of building the month's views from the same slot rows, three ways."""
    last = FIRST + dt.timedelta(days=DAYS - 1)
    spec = await store.get_callback_grid("GRID")
    zone = zone_named("America/New_York")
    start, end = day_range(FIRST, last, zone)
    rows = await store.pool.fetch("SELECT starts_at, capacity, booked, closed FROM callback_slots")
    counts = {r["starts_at"]: (r["capacity"], r["booked"], r["closed"]) for r in rows}
    one_loop, named, per_slot = [], [], []
    for _ in range(rounds):
        c0 = time.process_time()
        views = grid_views(spec, start, end, zone, now=AT, default_capacity=0, counts=counts)
        c1 = time.process_time()
        before = named_tuples(spec, start, end, zone, counts)
        c2 = time.process_time()
        old = []
        for slot in slots_between(spec, start, end):
            cap, booked, closed = counts.get(slot.starts_at, (None, 0, False))
            capacity = 0 if cap is None else cap
            state, left = slot_state(spec, slot, now=AT, capacity=capacity, booked=booked, closed=closed)
            old.append(SlotView.of(slot, zone, state, capacity, booked, left))
        c3 = time.process_time()
        one_loop.append((c1 - c0) * 1000)
        named.append((c2 - c1) * 1000)
        per_slot.append((c3 - c2) * 1000)
    if not old == before == views:
        raise SystemExit("the ways of building the grid differ")
    return one_loop, named, per_slot


async def timed_group_by(store: Store, campaign_id: int, rounds: int) -> list[float]:
    out = []
    lo = dt.datetime.combine(FIRST, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    hi = lo + dt.timedelta(days=DAYS + 2)
    for _ in range(rounds):
        t0 = time.perf_counter()
        await store.pool.fetch(
            "SELECT slot_id, count(*) FROM callbacks WHERE campaign_id = $1 AND state IN ('pending', 'done')"
            " AND due_at >= $2 AND due_at < $3 GROUP BY slot_id",
            campaign_id,
            lo,
            hi,
        )
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def main_async(args: argparse.Namespace) -> None:
    async with benchmark_database(args.dsn) as dsn:
        store = await Store.open(dsn, min_size=1, max_size=2)
        try:
            await measure(store, args)
        finally:
            await store.close()


async def measure(store: Store, args: argparse.Namespace) -> None:
    _, cid, build_s = await build(store, args.callbacks, args.seed)
    booked = await store.pool.fetchval("SELECT sum(booked) FROM callback_slots")
    print(f"built a {DAYS}-day grid of 30-minute slots and {booked:,} booked callbacks in {build_s:.1f} s")
    grid, cpu = await timed_grid(store, args.rounds)
    base = await timed_group_by(store, cid, args.rounds)
    one_loop, named, per_slot = await timed_building(store, args.rounds)
    print(f"{'grid query, ' + str(DAYS) + ' days x 48 slots':<50} {'median ms':>9} {'p99 ms':>9}")
    for label, xs in (
        ("Store.callback_grid (kept counts), wall clock", grid),
        ("Store.callback_grid, this process's CPU", cpu),
        ("baseline: GROUP BY over the callbacks", base),
        ("slot building alone, one loop (grid_views), CPU", one_loop),
        ("  the same loop with named tuples (before), CPU", named),
        ("  slot by slot (before that), CPU", per_slot),
    ):
        print(f"{label:<50} {statistics.median(xs):9.2f} {pct(xs, 99):9.2f}")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--callbacks", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dsn", help="use this server instead of a throwaway embedded one")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
