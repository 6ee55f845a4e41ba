"""Proof of compliance (issue 11): weeks of calling by the whole runner, then the audit report.

Run ``python -m benchmarks.compliance_proof`` (``--help``). Two predictive campaigns, one
under the US profile (contacts in New York, Chicago and Los Angeles, some numbers with two
candidate zones) and one under the UK profile (London, Warsaw, Lisbon), each with its own
team of simulated agents, dial for ``--days`` simulated days from ``--start`` (by default
early March: the US clocks change on 8 March, the European ones on 29 March; start in late
October for the autumn changes). Everything real but the called people and Asterisk: the
:class:`~dialer.campaign.runner.CampaignRunner` (hopper, leases with their window ends, the
dial-time recheck, attempt rows, automatic statuses, agent board, outcome writer) on the
real :class:`~dialer.store.store.Store` on an embedded PostgreSQL (or ``--dsn``), against
:class:`~benchmarks.engine.virtual_pbx.VirtualPbx`, on a virtual clock.

The schedule of each campaign opens 08:00-21:00 in its own zone and closes every night; the
engine is restarted every simulated day at 05:00 UTC (both schedules closed: a new runner and
a new PBX connection, the same engine id, as after a nightly restart); on the middle day at
noon UTC a few numbers still to be dialled go onto the do-not-call lists (half the global
list, half the campaign's). The campaigns' local hours (08:00-21:00 at the called person)
are narrower than the schedule for the contacts outside the campaign's zone, so the hours,
not the schedule, end their day. Then :meth:`~dialer.store.compliance.Audit.compliance_report`
reads the attempts and the table is printed; the goal is 0 in every row.

Virtual time and a real database: :class:`dialer.clock.VirtualClock` jumps to the next timer
once the event loop is idle, but a task awaiting PostgreSQL is not runnable, so the clock
would run ahead of the store. :class:`DatabaseAwareClock` does not move while any pooled
connection is in use: every store call made at a virtual instant completes at that instant,
and the ``at`` the runner passes the store is the time the call is really placed.

The runner's ``tick_s`` is 5 s by default (``--tick``): every call event still triggers a
decision at once; the tick only bounds how long an idle runner sleeps, and the predictive
decision run on every idle second of 30 nights and days would dominate the run time.

Measured on the shared 2-core box (other sessions' test suites running, ``--tick 60``):

* ``--days 31 --agents 2 --contacts 2000`` (5 March - 5 April: both spring DST changes, 31
  restarts): 10,507 calls in 1,354 s, 0 in every row (no abandons: two agents are a small
  team, which the pacer protects);
* ``--days 4 --start 2026-03-27 --agents 8 --contacts 4000`` (the European change on 29
  March): 20,173 calls in 569 s (35 calls/s), 77 abandons, worst windows 1.95 % (US, 30 days)
  and 1.26 % (UK, 24 hours), 0 in every row.

At about 35 calls/s the full size (1,000,000 calls in 30 days: the defaults, 20 agents and
300,000 contacts a campaign) takes some eight hours here; it was not run.

Speed (issue 11's proof at full size). Profiled with py-spy, the run is bound by PostgreSQL
round trips made one after another (the clock waits for each) and by the predictive
decision; the campaign re-read every 5 s and the abandon-window refresh every 10 s were
a quarter of the queries (``reread_s`` 300 s and ``memory_refresh_s`` 60 s here: nothing edits
the campaigns and each has one runner, whose own calls count at once), and the clock's 0.2 ms
poll slept a whole 1 ms timer tick after each answer (it now waits for the pool's release).
12.1 → 9.9 queries a call, +13 % calls in the same wall time on the same small run. Each
profile can run in its own process (``--only us`` / ``--only uk``, each with its own embedded
PostgreSQL): twice the rate where there are cores for it. Measured: the full-size run, two
processes, on the shared box at load average 15-25 (each process got 6 % of a core): day 1
gave 23,061 US calls in 3,061 s and 18,743 UK calls in 2,971 s (about 7 calls/s each); the
CPU cost is about 9.5 ms a call (3 min 17 s of CPU for ~21,000 calls), so on two free cores
1,000,000 calls would take about 80 minutes. ``--wall-limit`` stops after the day during
which the time passes and prints the audit of what was dialled.

Longer than a session: ``--home DIR`` keeps the run (its embedded PostgreSQL, a copy of the
database after every simulated day, a state file; :mod:`benchmarks.compliance_proof_home`),
``--resume`` carries on from the last completed day (a day killed half-way is dialled again
from its 05:00 restart), ``--report`` prints the audit of the completed days, labelled
``partial: N calls, D days`` until all are done, and ``DIR/stop-<tag>`` stops a run at the
end of its day. Each day's log line gives its calls, calls/s and CPU per call; the engine's own
log lines are at warning unless ``PROOF_LOG`` names another level (``PROOF_LOG=info`` shows
every attempt). For example::

    # one process a profile (the same with --only uk), detached from the terminal
    nohup setsid python -m benchmarks.compliance_proof --home /work/proof-run/home --only us > log-us 2>&1 &
    python -m benchmarks.compliance_proof --home /work/proof-run/home --only us --resume
    python -m benchmarks.compliance_proof --home /work/proof-run/home --only us --report

Not modelled: AMD false positives are not counted as abandons in the report (the attempts
table cannot tell a person the AMD hung up on from a machine; the pacer counts its estimate
under the UK profile, and the UK campaign here runs without AMD); agents work every day the
schedule is open, all day.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
from prometheus_client import CollectorRegistry

from benchmarks.callcentre import SCENARIOS, Scenario
from benchmarks.compliance_proof_home import DayLine, ProofHome, ProofHomeError, ProofState, options_to_json
from benchmarks.engine.database_clock import DatabaseAwareClock
from benchmarks.engine.virtual_pbx import VirtualPbx
from benchmarks.engine_throughput import database
from dialer.agents.state import AgentState
from dialer.audit import ComplianceReport, format_report
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import Disposition, RunnerSettings
from dialer.clock import VirtualClock
from dialer.model import (
    Campaign,
    CampaignSpec,
    CampaignState,
    Compliance,
    DialingMode,
    RetryRule,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.observability.logs import configure_logging
from dialer.observability.metrics import DialerMetrics
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store
from pacing import PredictivePolicy, PredictiveSettings, profile_named

DAY_S = 86_400.0
RESTART_HOUR_UTC = 5  # both schedules are closed then (00:00 Chicago, 05:00/06:00 London)
DONE = "done"
# A simulated agent waits for the runner to show the wrap-up (as benchmarks.engine_pacing).
_UI_TURNS = 50
_UI_RETRY_S = 0.5


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """One campaign of the proof: its profile, its zone and its contacts' zones."""

    name: str
    compliance: Compliance
    zone: str
    number_prefix: str  # contact k dials number_prefix + (base + k)
    number_base: int
    contact_zones: tuple[tuple[str, ...], ...]  # cycled over the contacts
    amd: bool


PLANS = (
    CampaignPlan(
        "PROOF_US",
        Compliance.US,
        "America/Chicago",
        "+1",
        2_020_000_000,
        (
            ("America/New_York",),
            ("America/Chicago",),
            ("America/Los_Angeles",),
            ("America/New_York", "America/Chicago"),
            ("America/Denver", "America/Los_Angeles"),
        ),
        amd=True,
    ),
    CampaignPlan(
        "PROOF_UK",
        Compliance.UK,
        "Europe/London",
        "+44",
        7_400_000_000,
        (("Europe/London",), ("Europe/Warsaw",), ("Europe/Lisbon",), ("Europe/London", "Europe/Warsaw")),
        amd=False,  # under the UK profile AMD false positives count as abandons
    ),
)


@dataclass(frozen=True)
class ProofOptions:
    days: int = 30
    start: dt.datetime = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    agents: int = 20
    contacts: int = 300_000  # with 20 agents a campaign, about 1,000,000 calls in 30 days
    scenario: str = "S1"
    seed: int = 1
    max_calls: int | None = None
    wall_limit_s: float | None = None  # stop (and audit) after the day during which this passes
    dnc_numbers: int = 40
    tick_s: float = 5.0  # the runner's longest sleep; events decide sooner (see the module docstring)
    quiet: bool = False
    only: Compliance | None = None  # one campaign (the other profile's can run in another process)
    reread_s: float = 300.0  # the runner's campaign re-read (nothing edits the campaigns here)
    memory_refresh_s: float = 60.0  # one runner a campaign: its own calls count at once anyway

    @property
    def plans(self) -> tuple[CampaignPlan, ...]:
        return tuple(p for p in PLANS if self.only is None or p.compliance is self.only)


@dataclass(frozen=True, slots=True)
class ProofResult:
    reports: tuple[ComplianceReport, ...]
    calls: int
    days_run: int
    seconds: float
    dnc_listed: tuple[str, ...]
    errors: tuple[str, ...]  # what the simulated side raised (should be empty)

    @property
    def violations(self) -> int:
        return sum(r.violations for r in self.reports)


# ------------------------------------------------------------------------ set-up


async def make_campaign(store: Store, plan: CampaignPlan, opts: ProofOptions, scenario: Scenario) -> Campaign:
    """The campaign, its nightly schedule, statuses, agents and contacts (bulk insert)."""
    await store.create_schedule(
        Schedule(
            name=f"{plan.name}_DAYTIME",
            frequency=Frequency.DAILY,
            window_start=dt.time(8),
            window_end=dt.time(21),
            timezone=plan.zone,
        )
    )
    campaign = await store.create_campaign(
        CampaignSpec(
            name=plan.name,
            schedule=f"{plan.name}_DAYTIME",
            mode=DialingMode.PREDICTIVE,
            caller_id="+12025550123" if plan.compliance is Compliance.US else "+442071838750",
            queue=plan.name.lower(),
            ring_timeout_s=int(scenario.ring_timeout_s),
            compliance=plan.compliance,
            local_hours_start=dt.time(8),
            local_hours_end=dt.time(21),
            timezone=plan.zone,
            state=CampaignState.RUNNING,
            max_attempts=6,
            max_attempts_per_day=3,
        )
    )
    for trigger in Trigger:
        if trigger is Trigger.ABANDONED:
            # redialled only with an agent reserved: the UK 72-hour lock's exception
            spec = StatusSpec(
                "abandoned", SystemStatus.CALL_PROGRESSIVE, trigger=trigger, retry=RetryRule(delay_s=3600)
            )
        else:
            delay = 86_400 if trigger is Trigger.MACHINE else 2 * 3600
            spec = StatusSpec(
                trigger.value, SystemStatus.NOT_BEFORE, trigger=trigger, retry=RetryRule(delay_s=delay)
            )
        await store.create_status(spec, campaign=plan.name)
    await store.create_status(StatusSpec(DONE, SystemStatus.DO_NOT_CALL), campaign=plan.name)
    for i in range(opts.agents):
        name = f"{plan.name.lower()}-agent{i:03d}"
        await store.create_agent(name, f"PJSIP/{name}")
        await store.assign_agent(plan.name, name)
    async with store.pool.acquire() as conn:
        status_id = await conn.fetchval("SELECT default_status_id FROM campaigns WHERE id = $1", campaign.id)
        await conn.execute(
            # Spread over the days (not before day k), so that every day has fresh contacts.
            """INSERT INTO contacts (campaign_id, name, status_id, not_before)
               SELECT $1, 'c' || g, $2, $4::timestamptz + ((g - 1) % $5) * interval '1 day'
               FROM generate_series(1, $3) g""",
            campaign.id,
            status_id,
            opts.contacts,
            opts.start,
            opts.days,
        )
        zones = [",".join(z) for z in plan.contact_zones]
        await conn.execute(
            """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, kind, timezones)
               SELECT c.id, $1, 1, $2 || ($3::bigint + c.id), 'mobile',
                      string_to_array(($4::text[])[1 + c.id % cardinality($4::text[])], ',')
               FROM contacts c WHERE c.campaign_id = $1""",
            campaign.id,
            plan.number_prefix,
            plan.number_base,
            zones,
        )
        await conn.execute("ANALYZE")
    return campaign


class CampaignEngine:
    """One campaign's runner and PBX connection for one simulated day (restarted daily)."""

    def __init__(
        self,
        store: Store,
        clock: VirtualClock,
        campaign: Campaign,
        plan: CampaignPlan,
        scenario: Scenario,
        opts: ProofOptions,
        day: int,
    ) -> None:
        profile = profile_named(plan.compliance.value)
        self.plan = plan
        self.clock = clock
        self.agents = {
            f"PJSIP/{plan.name.lower()}-agent{i:03d}": f"{plan.name.lower()}-agent{i:03d}"
            for i in range(opts.agents)
        }
        self.pbx = VirtualPbx(
            clock,
            scenario,
            seed=opts.seed * 1000 + day,
            shift_s=DAY_S,
            count_amd_false_positives=profile.amd_false_positives_count and plan.amd,
            on_wrap_done=self._wrap_done,
        )
        policy = PredictivePolicy(
            profile,
            PredictiveSettings(amd_false_positive_rate=scenario.amd_false_positive if plan.amd else 0.0),
        )
        settings = RunnerSettings(
            tick_s=opts.tick_s,
            amd=plan.amd,
            hopper_low=max(20, 2 * opts.agents),
            hopper_high=max(100, 8 * opts.agents),
            disposition_timeout_s=600.0,
            max_launch_per_tick=1000,
            reread_s=opts.reread_s,
            memory=replace(RunnerSettings().memory, refresh_s=opts.memory_refresh_s),
        )
        self.runner = CampaignRunner(
            campaign,
            store=store,
            pbx=self.pbx,
            clock=clock,
            metrics=DialerMetrics(CollectorRegistry()),
            engine_id=f"proof-{plan.name.lower()}",
            settings=settings,
            policy=policy,
        )
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.runner.run())
        for interface, name in self.agents.items():
            await self.runner.agents.login(name, interface, member_name=name)

    async def stop(self) -> None:
        """Stop like a process that exits: no new calls, leases left to expire."""
        self.runner.stop()
        assert self.task is not None
        for _ in range(30):
            if self.task.done():
                break
            await self.clock.run_until(self.clock.now() + 1.0)
        if not self.task.done():
            self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.pbx.close()

    async def _wrap_done(self, interface: str, attempt_id: str, human: bool) -> None:
        """The agent's screen offers a disposition once the runner has them in wrap-up."""
        name = self.agents[interface]
        board = self.runner.board
        for _ in range(_UI_TURNS):
            if board.state_of(name) is AgentState.WRAP_UP:
                break
            await asyncio.sleep(0)
        else:
            await self.clock.sleep(_UI_RETRY_S)
            if board.state_of(name) is not AgentState.WRAP_UP:
                return  # the default disposition will do (the runner may have moved on)
        await self.runner.agents.set_disposition(name, Disposition(DONE))


async def list_numbers(store: Store, opts: ProofOptions, at: dt.datetime) -> list[str]:
    """Put ``opts.dnc_numbers`` numbers still to be dialled on the lists (half global, half campaign's)."""
    listed: list[str] = []
    per_campaign = max(1, opts.dnc_numbers // len(opts.plans))
    for plan in opts.plans:
        rows = await store.pool.fetch(
            """SELECT p.e164 FROM contacts c JOIN contact_phones p ON p.contact_id = c.id
               JOIN campaigns cam ON cam.id = c.campaign_id
               WHERE cam.name = $1 AND c.dial_rank IS NOT NULL ORDER BY c.due_at, c.id LIMIT $2""",
            plan.name,
            per_campaign,
        )
        for i, row in enumerate(rows):
            await store.add_do_not_call(
                row["e164"], campaign=plan.name if i % 2 else None, reason="proof: listed mid-run", at=at
            )
            listed.append(row["e164"])
    return listed


async def count_calls(store: Store) -> int:
    return int(
        await store.pool.fetchval("SELECT count(*) FROM attempts WHERE outcome IS DISTINCT FROM 'cancelled'")
    )


# ------------------------------------------------------------------------ the run


def day_at(opts: ProofOptions, day: int) -> float:
    """The restart instant of simulated ``day`` (0-based): 05:00 UTC (epoch seconds)."""
    return opts.start.timestamp() + day * DAY_S + RESTART_HOUR_UTC * 3600


def proof_scenario(opts: ProofOptions) -> Scenario:
    scenario = SCENARIOS[opts.scenario]
    return Scenario(
        **{**{f: getattr(scenario, f) for f in scenario.__dataclass_fields__}, "agents": opts.agents}
    )


async def set_up(dsn: str, opts: ProofOptions) -> None:
    """The campaigns with their schedules, statuses, agents and contacts."""
    store = await Store.open(dsn, min_size=1, max_size=2)
    try:
        for plan in opts.plans:
            await make_campaign(store, plan, opts, proof_scenario(opts))
    finally:
        await store.close()


async def run_day(dsn: str, opts: ProofOptions, day: int, state: ProofState) -> None:
    """Simulated ``day``: start the engines at 05:00 UTC, dial 24 hours less a minute, stop them.

    Adds to ``state`` the numbers listed mid-run (on the middle day) and what the simulated
    side raised, and sets its call count.
    """
    scenario = proof_scenario(opts)
    store = await Store.open(dsn, min_size=12, max_size=12)
    try:
        campaigns = [await store.get_campaign(plan.name) for plan in opts.plans]
        clock = DatabaseAwareClock(day_at(opts, day), store.pool)
        engines = [
            CampaignEngine(store, clock, c, p, scenario, opts, day)
            for c, p in zip(campaigns, opts.plans, strict=True)
        ]
        for e in engines:
            await e.start()
        if day == opts.days // 2:
            await clock.run_until(opts.start.timestamp() + day * DAY_S + 12 * 3600)
            state.dnc_listed += await list_numbers(store, opts, clock.utcnow())
        await clock.run_until(day_at(opts, day) + DAY_S - 60.0)
        for e in engines:
            await e.stop()
            state.errors += [repr(x) for x in e.pbx.errors]
        state.calls = await count_calls(store)
    finally:
        await store.close()


async def audit(dsn: str, opts: ProofOptions, days_done: int) -> tuple[ComplianceReport, ...]:
    """The audit report of each campaign over the first ``days_done`` simulated days."""
    until = dt.datetime.fromtimestamp(day_at(opts, days_done), dt.UTC)
    store = await Store.open(dsn, min_size=1, max_size=2, migrate_now=False)
    try:
        reports = []
        for plan in opts.plans:
            profile = profile_named(plan.compliance.value)
            reports.append(
                await store.compliance_report(
                    plan.name,
                    since=opts.start,
                    until=until,
                    abandon_window_s=profile.window_s,
                    abandon_cap=profile.abandon_cap,
                )
            )
        return tuple(reports)
    finally:
        await store.close()


async def run_proof(
    dsn: str | None, opts: ProofOptions, home: ProofHome | None = None, *, resume: bool = False
) -> ProofResult:
    """Set up, dial ``opts.days`` simulated days with a nightly restart, audit (module docstring).

    With ``home`` the run is kept there after every day (:mod:`benchmarks.compliance_proof_home`)
    and ``resume`` carries on from its last completed day; without, it runs on ``dsn``.
    """
    started = time.perf_counter()
    if home is None:
        assert dsn is not None
        live, state = dsn, ProofState(options_to_json(opts))
        await set_up(live, opts)
    elif resume:
        state = home.load()
        live = home.dsn(home.live)
        if not state.clean:  # killed in the middle of a day: back to the end of the last whole one
            await home.restore(state.days_done)
            state.clean = True
            home.save(state)
    else:
        if home.exists():
            raise ProofHomeError(
                f"{home.state_path}: a proof run is already here (--resume it, or use another --home)"
            )
        live = await home.create_live()
        state = ProofState(options_to_json(opts))
        await set_up(live, opts)
        await home.snapshot(0)
        state.clean = True
        home.save(state)
    for day in range(state.days_done, opts.days):
        if home is not None:
            state.clean = False
            home.save(state)
        wall0, cpu0, calls0 = time.perf_counter(), time.process_time(), state.calls
        await run_day(live, opts, day, state)
        line = DayLine(
            day,
            f"{opts.start + dt.timedelta(days=day):%Y-%m-%d}",
            state.calls,
            time.perf_counter() - wall0,
            time.process_time() - cpu0,
        )
        state.days.append(line)
        state.days_done, state.seconds = day + 1, state.seconds + line.seconds
        if home is not None:
            await home.snapshot(state.days_done)
            state.clean = True
            home.save(state)
            await home.drop_snapshot(state.days_done - 1)
        if not opts.quiet:
            print(format_day(line, state.calls - calls0), flush=True)
        if opts.max_calls is not None and state.calls >= opts.max_calls:
            break
        if opts.wall_limit_s is not None and time.perf_counter() - started >= opts.wall_limit_s:
            break
        if home is not None and home.stop_asked():
            print(f"stopping after day {day + 1}: {home.stop_path} exists (removed)", flush=True)
            break
    reports = await audit(live, opts, state.days_done)
    return ProofResult(
        reports, state.calls, state.days_done, state.seconds, tuple(state.dnc_listed), tuple(state.errors)
    )


def format_day(line: DayLine, calls: int) -> str:
    """One line of the run's log: the day's calls, its real and CPU time."""
    return (
        f"day {line.day + 1:3d} {line.date}: {line.calls:9d} calls (+{calls}), {line.seconds:7.0f} s "
        f"({calls / max(line.seconds, 1e-9):5.1f} calls/s), "
        f"CPU {1000 * line.cpu_s / max(calls, 1):5.2f} ms/call"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.compliance_proof", description=__doc__.split("\n")[0]
    )
    p.add_argument("--days", type=int, default=ProofOptions.days, help="simulated days (default 30)")
    p.add_argument("--start", default="2026-03-05", help="first day (UTC date; default 2026-03-05)")
    p.add_argument("--agents", type=int, default=ProofOptions.agents, help="agents per campaign (default 20)")
    p.add_argument(
        "--contacts",
        type=int,
        default=ProofOptions.contacts,
        help="contacts per campaign, spread evenly over the days (default 300000)",
    )
    p.add_argument("--scenario", default=ProofOptions.scenario, choices=sorted(SCENARIOS))
    p.add_argument("--seed", type=int, default=ProofOptions.seed)
    p.add_argument("--tick", type=float, default=ProofOptions.tick_s, help="the runner's tick_s (default 5)")
    p.add_argument("--max-calls", type=int, help="stop at the end of the day this many calls are reached")
    p.add_argument(
        "--only",
        choices=[c.value for c in (Compliance.US, Compliance.UK)],
        help="dial only this profile's campaign (run the other in a second process: twice the rate)",
    )
    p.add_argument(
        "--wall-limit", type=float, help="stop at the end of the day during which this many real seconds pass"
    )
    p.add_argument("--dsn", help="PostgreSQL DSN (default: a throwaway embedded PostgreSQL)")
    p.add_argument(
        "--home",
        help="keep the run in this directory (embedded PostgreSQL, state after every simulated day)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="carry on the run in --home from its last completed day (its own options; --wall-limit and"
        " --max-calls apply to this process)",
    )
    p.add_argument(
        "--report",
        action="store_true",
        help="print the audit of the run in --home over its completed days, and the day log; dial nothing",
    )
    return p


def options_from(args: argparse.Namespace) -> ProofOptions | str:
    """The options the command line asks for, or the error to print."""
    try:
        start = dt.datetime.fromisoformat(args.start).replace(tzinfo=dt.UTC)
    except ValueError:
        return f"--start: must be a date like 2026-03-05 (got {args.start!r})"
    for name in ("days", "agents", "contacts"):
        if getattr(args, name) < 1:
            return f"--{name}: must be at least 1 (got {getattr(args, name)})"
    if (args.resume or args.report) and not args.home:
        return "--home: --resume and --report need the run's directory"
    if args.home and args.dsn:
        return "--dsn: a run kept in --home uses the home's embedded PostgreSQL, not a DSN"
    return ProofOptions(
        days=args.days,
        start=start,
        agents=args.agents,
        contacts=args.contacts,
        scenario=args.scenario,
        seed=args.seed,
        max_calls=args.max_calls,
        wall_limit_s=args.wall_limit,
        only=Compliance(args.only) if args.only else None,
        tick_s=args.tick,
    )


def stored_options(state: ProofState, given: ProofOptions) -> ProofOptions:
    """The run's own options from its state file, with this process's limits."""
    raw = dict(state.options)
    raw["start"] = dt.datetime.fromisoformat(raw["start"])
    raw["only"] = Compliance(raw["only"]) if raw.get("only") else None
    return replace(
        ProofOptions(**raw), wall_limit_s=given.wall_limit_s, max_calls=given.max_calls, quiet=given.quiet
    )


def print_result(opts: ProofOptions, result: ProofResult) -> None:
    partial = (
        "" if result.days_run >= opts.days else f"partial: {result.calls} calls, {result.days_run} days; "
    )
    print(
        f"\n{partial}{result.calls} calls over {result.days_run} simulated days from {opts.start:%Y-%m-%d} "
        f"in {result.seconds:.0f} s ({result.calls / max(result.seconds, 1e-9):.1f} calls/s); "
        f"{len(result.dnc_listed)} numbers listed mid-run; simulator errors: {len(result.errors)}"
    )
    for report in result.reports:
        print()
        if partial:
            print(f"[{partial.rstrip('; ')} of {opts.days}]")
        print(format_report(report))


async def report_home(home: ProofHome, given: ProofOptions) -> ProofResult:
    """The audit of a kept run's completed days, read from the copy of its last completed day."""
    state = home.load()
    opts = stored_options(state, given)
    for line, before in zip(state.days, [0, *(d.calls for d in state.days)], strict=False):
        print(format_day(line, line.calls - before))
    reports = await audit(home.dsn(home.snapshot_name(state.days_done)), opts, state.days_done)
    return ProofResult(
        reports, state.calls, state.days_done, state.seconds, tuple(state.dnc_listed), tuple(state.errors)
    )


async def main_async(args: argparse.Namespace) -> int:
    opts = options_from(args)
    if isinstance(opts, str):
        print(f"error: {opts}", file=sys.stderr)
        return 2
    try:
        if args.home:
            home = ProofHome(Path(args.home), opts.only.value if opts.only else "both")
            if args.report:
                result = await report_home(home, opts)
                opts = stored_options(home.load(), opts)
            else:
                if args.resume:
                    opts = stored_options(home.load(), opts)
                result = await run_proof(None, opts, home, resume=args.resume)
        else:
            async with database(args.dsn) as dsn:
                result = await run_proof(dsn, opts)
    except ProofHomeError as e:
        print(f"error: --home: {e}", file=sys.stderr)
        return 2
    print_result(opts, result)
    return 0 if result.violations == 0 and not result.errors else 1


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging(level=os.environ.get("PROOF_LOG", "warning"))
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(main_async(args))
    except (asyncpg.PostgresError, OSError) as err:
        print(f"error: database: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
