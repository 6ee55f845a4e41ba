"""Several engines on one database (issue 15): throughput per engine, take-over times, faults.

``python -m benchmarks.scale``: real ``dialer run`` processes on throwaway embedded PostgreSQL
servers and two simulated PBXs (every campaign dials through both). Three parts, each optional:

* **throughput** (``--throughput-s``, 0 skips): for 1, 2 and 3 engines, as many predictive
  campaigns of the same kind, one per engine. Once every campaign is owned and dialling, a
  window of that many seconds: attempts started per second (in total, per engine, and per
  engine CPU-second: the per-core figure, since the machine has 2 cores and 3 engines share
  them), the decision tick's p99 (``dialer_decision_latency_seconds`` of every engine, as the
  upper bound of its histogram bucket), and the database's transactions and statements per
  attempt (transactions: ``pg_stat_database``, every autocommit statement one, an explicit
  transaction one for all its statements; statements: the sum of ``calls`` in
  ``pg_stat_statements``, which this part's server loads, BEGIN and COMMIT included; both with
  heartbeats, lease renewals and this benchmark's few reads). Each simulated PBX runs in a
  process of its own (``dialer simulate-pbx``), as the engines do, so adding engines does not
  load the benchmark's own process. The goal: per-engine throughput with 3 engines at least
  0.8 times the single engine's.
* **take-over** (``--kills``, 0 skips): ``--engines`` engines, one campaign each; each round
  SIGKILLs the owner of a campaign, times until every campaign is owned by a live engine
  again, and starts the killed engine again under its id. Goal: p99 at most 15 s.
* **fault** (``--fault``): the fault run of ``tests/test_engines.py`` at full length
  (``tests/fault_scenario.py``): three engines, two PBXs, SIGKILL, SIGSTOP/SIGCONT past the
  heartbeat, a database restart; contacts dialled twice at once, attempts left open, contacts
  lost (all must be 0) and the time each fault took to be owned again.

Every part also reports attempts left open and contacts dialled twice at once; the exit status
is 1 when any is not 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import re
import statistics
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from benchmarks.engine_throughput import simulator
from benchmarks.throwaway import benchmark_database, embedded_database, restart_embedded
from dialer.cli import demo
from dialer.model import DialingMode
from dialer.store.store import Store
from tests.engine_process import (
    POPULATION,
    SECRET,
    TIME_SCALE,
    EngineProcess,
    attempt_rows,
    campaign_owners,
    kill_left,
    make_campaigns,
    start_campaigns,
    start_engine,
    wait_for,
)
from tests.fault_scenario import copy_campaign, fault_run

_BASE_METRICS_PORT = 19460
_CLOCK_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Throughput:
    engines: int
    attempts: int
    seconds: float
    cpu_s: float  # the engines' user + system CPU over the window
    transactions: int
    statements: int
    p99_s: float | None

    @property
    def per_s(self) -> float:
        return self.attempts / self.seconds

    @property
    def per_engine_s(self) -> float:
        return self.per_s / self.engines

    @property
    def per_cpu_s(self) -> float:
        return self.attempts / self.cpu_s if self.cpu_s else float("nan")


async def _predictive_campaigns(
    dsn: str, n: int, contacts: int, agents: int = 3
) -> tuple[list[str], list[str]]:
    """``n`` predictive campaigns of one kind (the demo's and copies), paused, dialling
    through the group ``east``; their names and queues."""
    await make_campaigns(dsn, [DialingMode.PREDICTIVE], contacts=contacts, agents=agents)
    names = [demo.CAMPAIGN, *(f"DEMO_{i}" for i in range(2, n + 1))]
    store = await Store.open(dsn)
    try:
        for i, copy in enumerate(names[1:], start=2):
            await copy_campaign(store, names[0], copy, contacts=contacts, seed=40 + i)
        for name in names:
            await store.update_campaign(name, servers=("east",))
        return names, [(await store.get_campaign(n)).queue for n in names]
    finally:
        await store.close()


@asynccontextmanager
async def _two_pbxs(queues: list[str]) -> AsyncIterator[list[tuple[str, int, str]]]:
    """Two simulated PBXs, each in a process of its own (``dialer simulate-pbx``), configured as
    :func:`tests.engine_process.start_multi_pbx`'s (the queues only, the agents joining them);
    yields the engines' server entries."""
    options = (
        *("--queues", ",".join(queues), "--agents", "0"),
        *("--time-scale", str(TIME_SCALE), "--agent-ring", "1.0"),
        *("--answer-p", str(POPULATION.answer_p), "--answer-median", str(POPULATION.answer_median_s)),
        *("--talk-median", str(POPULATION.talk_median_s), "--talk-sigma", str(POPULATION.talk_sigma)),
    )
    async with contextlib.AsyncExitStack() as stack:
        ports = [
            await stack.enter_async_context(
                simulator(*options, "--seed", str(seed), queue=queues[0], secret=SECRET, verbosity="minimal")
            )
            for seed in (5, 6)
        ]
        yield [("pbx1", ports[0], "east"), ("pbx2", ports[1], "east")]


@asynccontextmanager
async def _counted_database() -> AsyncIterator[str]:
    """A throwaway database on a server that loads ``pg_stat_statements``: the engines are
    other processes, so the server is what counts their statements."""
    async with embedded_database("dialer_scale", preload=["pg_stat_statements"]) as (_, dsn):
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        finally:
            await conn.close()
        yield dsn


def _cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _CLOCK_TICK


_BUCKET = re.compile(r'^dialer_decision_latency_seconds_bucket\{.*le="([^"]+)".*\} ([0-9.e+]+)$', re.M)


def _decision_p99(ports: list[int]) -> float | None:
    """The p99 of every engine's decision ticks: the upper bound of the bucket that holds it."""
    counts: dict[float, float] = defaultdict(float)
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        for le, value in _BUCKET.findall(text):
            counts[float(le)] += float(value)
    total = counts.get(float("inf"), 0.0)
    if not total:
        return None
    return next(le for le in sorted(counts) if counts[le] >= 0.99 * total)


async def _db(dsn: str, sql: str) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        return float(await conn.fetchval(sql))
    finally:
        await conn.close()


_XACTS = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
_STATEMENTS = """SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"""


async def throughput(n: int, args: argparse.Namespace) -> Throughput:
    async with _counted_database() as dsn:
        names, queues = await _predictive_campaigns(dsn, n, args.contacts, args.agents)
        root = Path(tempfile.mkdtemp(prefix="dialer-scale-"))
        async with _two_pbxs(queues) as servers:
            ids = [f"tp-{i}" for i in range(1, n + 1)]
            ports = [_BASE_METRICS_PORT + i for i in range(n)]
            engines: list[EngineProcess] = []
            try:
                for engine_id, port in zip(ids, ports, strict=True):
                    engines.append(
                        await start_engine(
                            root, dsn, 0, engine_id, takeover_s=args.takeover, servers=servers,
                            metrics_port=port,
                        )
                    )
                await start_campaigns(dsn, ids, names)

                async def dialling() -> bool:
                    owners = await campaign_owners(dsn)
                    holders = {owners.get(name, (None, 0))[0] for name in names}
                    counts = [len(await attempt_rows(dsn, name)) for name in names]
                    return holders == set(ids) and min(counts) >= 5

                await wait_for(dialling, timeout_s=120, every_s=0.5, what=f"{n} campaigns dialling")
                since = await _db(dsn, "SELECT extract(epoch FROM now())")
                s0, x0 = await _db(dsn, _STATEMENTS), await _db(dsn, _XACTS)
                cpu0, t0 = _cpu_s([e.proc.pid for e in engines]), time.monotonic()
                await asyncio.sleep(args.throughput_s)
                x1, cpu1, t1 = await _db(dsn, _XACTS), _cpu_s([e.proc.pid for e in engines]), time.monotonic()
                s1 = await _db(dsn, _STATEMENTS)
                attempts = await _db(
                    dsn, f"SELECT count(*) FROM attempts WHERE started_at >= to_timestamp({since})"
                )
                p99 = await asyncio.to_thread(_decision_p99, ports)
                for e in engines:
                    e.terminate()
                for e in engines:
                    await e.wait(90)
            finally:
                await kill_left(*engines)
    return Throughput(n, int(attempts), t1 - t0, cpu1 - cpu0, int(x1 - x0), int(s1 - s0), p99)


def _twice_and_open(attempts: list[asyncpg.Record]) -> tuple[int, int]:
    by_contact: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for r in attempts:
        by_contact[r["contact_id"]].append(r)
    twice = sum(
        1
        for rows in by_contact.values()
        for a, b in itertools.pairwise(sorted(rows, key=lambda r: r["started_at"]))
        if a["ended_at"] is None or a["ended_at"] > b["started_at"]
    )
    return twice, sum(r["ended_at"] is None for r in attempts)


async def takeovers(args: argparse.Namespace) -> tuple[list[float], int, int]:
    """Take-over times over ``args.kills`` SIGKILLs; contacts dialled twice at once, left open."""
    times: list[float] = []
    async with benchmark_database(args.dsn) as dsn:
        names, queues = await _predictive_campaigns(dsn, args.engines, args.contacts)
        root = Path(tempfile.mkdtemp(prefix="dialer-scale-"))
        async with _two_pbxs(queues) as servers:
            ids = [f"scale-{i}" for i in range(1, args.engines + 1)]
            engines: dict[str, EngineProcess] = {}
            try:
                for engine_id in ids:
                    engines[engine_id] = await start_engine(
                        root, dsn, 0, engine_id, takeover_s=args.takeover, servers=servers
                    )
                await start_campaigns(dsn, ids, names)
                for kill in range(args.kills):

                    async def owned() -> bool:
                        now = await campaign_owners(dsn)
                        return all(now.get(n, (None, 0))[0] in engines for n in names)

                    await wait_for(owned, timeout_s=120, every_s=0.1, what="every campaign owned")
                    victim = (await campaign_owners(dsn))[names[kill % len(names)]][0] or ""
                    engines[victim].kill()
                    started = time.monotonic()
                    await engines.pop(victim).wait(10)
                    await wait_for(owned, timeout_s=120, every_s=0.05, what="every campaign owned again")
                    times.append(time.monotonic() - started)
                    print(f"kill {kill + 1}: {victim} -> owned again in {times[-1]:.2f} s", flush=True)
                    folder = root / f"{victim}-{kill}"
                    folder.mkdir()
                    engines[victim] = await start_engine(
                        folder, dsn, 0, victim, takeover_s=args.takeover, servers=servers
                    )
                for engine in engines.values():
                    engine.terminate()
                for engine in engines.values():
                    await engine.wait(90)
            finally:
                await kill_left(*engines.values())
        twice, left_open = _twice_and_open([r for n in names for r in await attempt_rows(dsn, n)])
    return times, twice, left_open


async def fault(args: argparse.Namespace) -> int:
    async with embedded_database("dialer_fault") as (server, dsn):

        async def restart_database() -> None:
            await restart_embedded(server, pause_s=2.0)

        report = await fault_run(
            dsn,
            Path(tempfile.mkdtemp(prefix="dialer-fault-")),
            restart_database=restart_database,
            contacts=args.contacts,
            takeover_s=args.takeover,
            settle_s=args.settle,
        )
    owned = ", ".join(f"{k} {v:.2f} s" for k, v in report.owned_again_s.items())
    print(
        f"\nfault run (3 engines, 2 PBXs, takeover_s = {args.takeover}): owned again after {owned};"
        f" {report.attempts} attempts (pbx1 {report.calls_by_pbx[0]}, pbx2 {report.calls_by_pbx[1]}),"
        f" dialled twice at once {report.twice_at_once}, left open {report.left_open},"
        f" contacts lost {report.lost_contacts}; abandon rate by campaign "
        + ", ".join(
            f"{k} {v:.1%} (reported {report.reported_abandon_rate[k]['24h']:.1%})"
            for k, v in report.abandon_rate.items()
        )
    )
    return int(bool(report.twice_at_once or report.left_open or report.lost_contacts))


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def scale(args: argparse.Namespace) -> int:
    failed = 0
    if args.throughput_s > 0:
        rows = []
        for n in range(1, 4):
            rows.append(await throughput(n, args))
            print(f"{n} engine(s): {rows[-1]}", flush=True)
        print(
            f"\nthroughput over {args.throughput_s:.0f} s windows (cpu count {os.cpu_count()}):\n"
            "| engines | attempts/s | per engine | vs 1 engine | attempts per engine CPU-s |"
            " decision p99 | transactions/attempt | statements/attempt |\n|---|---|---|---|---|---|---|---|"
        )
        for r in rows:
            p99 = "-" if r.p99_s is None else f"<= {r.p99_s * 1000:.1f} ms"
            print(
                f"| {r.engines} | {r.per_s:.2f} | {r.per_engine_s:.2f}"
                f" | {r.per_engine_s / rows[0].per_engine_s:.2f} | {r.per_cpu_s:.1f} | {p99}"
                f" | {r.transactions / max(1, r.attempts):.1f} | {r.statements / max(1, r.attempts):.1f} |"
            )
    if args.kills > 0:
        times, twice, left_open = await takeovers(args)
        print(
            f"\n{args.engines} engines, takeover_s = {args.takeover}: take-over over {len(times)} kills:"
            f" min {min(times):.2f} s, median {statistics.median(times):.2f} s, p90 {_p(times, 0.9):.2f} s,"
            f" p99 {_p(times, 0.99):.2f} s, max {max(times):.2f} s;"
            f" left open {left_open}, contacts dialled twice at once {twice}"
        )
        failed |= bool(twice or left_open)
    if args.fault:
        failed |= await fault(args)
    return int(failed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--throughput-s", type=float, default=30.0, help="window per engine count (30; 0: skip)")
    p.add_argument("--engines", type=int, default=3, help="engine processes of the take-over part (3)")
    p.add_argument("--kills", type=int, default=20, help="SIGKILLs, one per round (20; 0: skip)")
    p.add_argument("--takeover", type=float, default=10.0, help="engine.takeover_s (10)")
    p.add_argument("--contacts", type=int, default=3000, help="contacts per campaign (3000)")
    p.add_argument("--agents", type=int, default=6, help="throughput part: agents per campaign (6)")
    p.add_argument("--fault", action="store_true", help="also the full fault run")
    p.add_argument("--settle", type=float, default=10.0, help="fault run: seconds of dialling between faults")
    p.add_argument("--dsn", help="take-over part: an existing database (default: a throwaway one)")
    return asyncio.run(scale(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
