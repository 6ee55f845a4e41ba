"""The pacing benchmark's scenarios with the WHOLE campaign runner, in virtual time.

Run ``python -m benchmarks.engine_pacing`` (``--help``; it takes the knobs of
``benchmarks.pacing``). For each scenario it runs the pure simulator
(:func:`benchmarks.callcentre.run_shift`: progressive, the VICIdial-style baseline and
``ours``) and then ``ours`` through the real :class:`~dialer.campaign.runner.CampaignRunner` -- hopper,
leases, attempt rows, automatic statuses, agent board, queue pauses, the outcome writer --
against :class:`~benchmarks.engine.VirtualPbx` and :class:`~benchmarks.engine.MemoryStore` on
a :class:`~dialer.clock.VirtualClock` (DESIGN.md "one engine, two clocks"). Both meet the
same calls (common random numbers, same seed), so the last lines -- engine minus pure -- are
what the runner's plumbing costs or gains over the idealised loop of the pure simulator.

The store is set up so that only abandoned contacts come back within the shift ("call
progressive", due after ``--redial-delay``, dialled only with an agent reserved), as in the
pure simulator; every other ending waits two days. Agents wrap up for the drawn time and set
a closing disposition through the runner's agent interface.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from benchmarks import pacing as pure
from benchmarks.callcentre import Scenario, ScenarioError, ShiftResult
from benchmarks.engine import MemoryStore, StatusRule, VirtualPbx
from dialer.agents.state import AgentState
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import Disposition, RunnerSettings
from dialer.clock import VirtualClock
from dialer.model import (
    Campaign,
    CampaignState,
    Compliance,
    DialingMode,
    RetryRule,
    SystemStatus,
    Trigger,
)
from dialer.observability.logs import configure_logging
from dialer.observability.metrics import DialerMetrics
from pacing import (
    ComplianceProfile,
    PacingError,
    PacingPolicy,
    PredictivePolicy,
    PredictiveSettings,
    ProgressivePolicy,
    profile_named,
)

# A Monday 00:00 UTC: the shift starts here; the benchmark's schedule is open all day.
START_AT = dt.datetime(2026, 11, 23, tzinfo=dt.UTC).timestamp()
# Endings other than an abandon come back after the shift (two days), as in the pure simulator
# where only abandoned contacts are redialled.
_LATER_S = 2 * 86_400
# A simulated agent waits for the runner to show the wrap-up: a few loop turns in the same
# virtual instant, then one short retry (a UI refresh).
_UI_TURNS = 50
_UI_RETRY_S = 0.5
ENGINE_POLICIES = ("ours", "progressive")
DISPOSITION = "done"


@dataclass(frozen=True, slots=True)
class EngineRun:
    """One shift through the runner: the ground truth and what the runner itself counted."""

    result: ShiftResult
    seconds: float
    cpu_seconds: float  # this process's CPU: the runner and the simulated PBX (the store is in memory)
    attempts_opened: int
    attempts_closed: int
    store_calls: int
    runner_attempts: int
    runner_abandons: int
    runner_live: int
    errors: tuple[str, ...]       # what the simulated side raised (should be empty)
    warmed: int | None            # stored calls that warmed the pacer at start (campaign memory)
    store: MemoryStore
    pbx: VirtualPbx


def bench_campaign(scenario: Scenario, profile: ComplianceProfile, mode: DialingMode) -> Campaign:
    return Campaign(
        id=1, name=f"bench-{scenario.name}", schedule="always", mode=mode, caller_id="+15550000000",
        queue="bench", ring_timeout_s=int(scenario.ring_timeout_s), compliance=Compliance(profile.name),
        abandon_cap=profile.abandon_cap, local_hours_start=dt.time(0, 0), local_hours_end=dt.time(0, 0),
        timezone="UTC", state=CampaignState.RUNNING, priority=0, max_attempts=10, max_attempts_per_day=10,
        default_status=DISPOSITION,
    )


def bench_store(campaign: Campaign, *, redial_delay_s: float) -> MemoryStore:
    """Statuses as in the module docstring: abandoned -> call progressive, the rest later."""
    later = RetryRule(delay_s=_LATER_S)
    triggers: dict[Trigger, StatusRule] = {
        trigger: StatusRule(trigger.value, SystemStatus.NOT_BEFORE, later)
        for trigger in Trigger if trigger is not Trigger.ABANDONED
    }
    triggers[Trigger.ABANDONED] = StatusRule("call progressive", SystemStatus.CALL_PROGRESSIVE,
                                             RetryRule(delay_s=int(redial_delay_s)))
    closing = StatusRule(DISPOSITION, SystemStatus.DO_NOT_CALL)
    return MemoryStore(campaign, triggers=triggers, statuses=[closing])


async def run_engine_shift(
    scenario: Scenario,
    policy: PacingPolicy,
    *,
    profile: ComplianceProfile,
    mode: DialingMode = DialingMode.PREDICTIVE,
    hours: float = 8.0,
    seed: int = 1,
    tick_s: float = 1.0,
    amd: bool = True,
    lines: int | None = None,
    redial_delay_s: float = 600.0,
    clock: VirtualClock | None = None,
    store: MemoryStore | None = None,
) -> EngineRun:
    """One shift of ``scenario`` dialled by the real runner in virtual time.

    ``clock`` and ``store`` carry on from an earlier shift (a restart, the next morning: the
    runner restores the campaign's memory from the store); by default a new clock at
    :data:`START_AT` and a new store.
    """
    started, cpu = time.perf_counter(), time.process_time()
    shift_s = hours * 3600.0
    clock = clock or VirtualClock(START_AT)
    shift_start = clock.now()
    campaign = bench_campaign(scenario, profile, mode)
    store = store or bench_store(campaign, redial_delay_s=redial_delay_s)
    agents = {f"PJSIP/agent{i:03d}": f"agent{i:03d}" for i in range(scenario.agents)}
    for interface, name in agents.items():
        if name not in store.agents:
            store.add_agent(name, interface)
    runner: CampaignRunner | None = None

    async def wrap_done(interface: str, attempt_id: str, human: bool) -> None:
        """The agent's screen offers a disposition once the runner has them in wrap-up."""
        assert runner is not None
        name = agents[interface]
        for _ in range(_UI_TURNS):
            if runner.board.state_of(name) is AgentState.WRAP_UP:
                break
            await asyncio.sleep(0)  # the runner has not yet processed the hang-up (same instant)
        else:
            await clock.sleep(_UI_RETRY_S)
            if runner.board.state_of(name) is not AgentState.WRAP_UP:
                raise RuntimeError(f"{name} is {runner.board.state_of(name).value}, not in wrap-up, "
                                   f"{_UI_RETRY_S} s after the hang-up of attempt {attempt_id}")
        await runner.agents.set_disposition(name, Disposition(DISPOSITION))

    pbx = VirtualPbx(clock, scenario, seed=seed, shift_s=shift_s,
                     count_amd_false_positives=profile.amd_false_positives_count, lines=lines,
                     on_wrap_done=wrap_done)
    settings = RunnerSettings(
        tick_s=tick_s, amd=amd, hopper_low=max(20, 2 * scenario.agents),
        hopper_high=max(100, 8 * scenario.agents),
        lease_ttl_s=shift_s + 3600.0, lease_renew_s=600.0, disposition_timeout_s=3600.0,
        max_launch_per_tick=1000,
    )
    runner = CampaignRunner(campaign, store=store, pbx=pbx, clock=clock,
                            metrics=DialerMetrics(CollectorRegistry()), engine_id="bench", settings=settings,
                            policy=policy)
    task = asyncio.create_task(runner.run())
    for interface, name in agents.items():
        await runner.agents.login(name, interface, member_name=name)
    try:
        await clock.run_until(shift_start + shift_s)
    finally:
        runner.stop()
        await clock.run_until(clock.now() + 1.0)
        await pbx.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    stats = runner.stats()
    closed = sum(1 for a in store.attempts.values() if a.ended_at is not None)
    return EngineRun(
        result=pbx.tally.result(scenario.agents), seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
        attempts_opened=len(store.attempts), attempts_closed=closed, store_calls=sum(store.calls.values()),
        runner_attempts=stats.attempts, runner_abandons=stats.abandons, runner_live=stats.live_answers,
        errors=tuple(repr(e) for e in pbx.errors), warmed=runner.memory.warmed, store=store, pbx=pbx,
    )


def _engine_policy(name: str, scenario: Scenario, profile: ComplianceProfile, args: argparse.Namespace,
                   amd_on: bool) -> tuple[PacingPolicy, DialingMode]:
    if name == "progressive":
        return ProgressivePolicy(), DialingMode.PROGRESSIVE
    target = profile.abandon_cap if args.target is None else args.target
    settings = PredictiveSettings(target=target, max_lines_per_agent=args.max_level,
                                  amd_false_positive_rate=scenario.amd_false_positive if amd_on else 0.0)
    return PredictivePolicy(profile, settings), DialingMode.PREDICTIVE


def _with_ratios(row: pure.Row, progressive: pure.Row, vicidial: pure.Row, bound: float) -> pure.Row:
    fields = {f: getattr(row, f) for f in pure.Row.__dataclass_fields__}
    vici = vicidial.talk_share
    fields.update(gain_min_per_agent_hour=row.talk_min_per_agent_hour - progressive.talk_min_per_agent_hour,
                  clairvoyant_ratio=row.talk_share / bound if bound else float("nan"),
                  vicidial_ratio=row.talk_share / vici if vici else float("inf"))
    return pure.Row(**fields)


def difference_line(engine: pure.Row, baseline: pure.Row) -> str:
    """Engine minus pure, in the table's units."""
    return (f"| engine - pure ({baseline.policy}) | "
            f"{100 * (engine.talk_share - baseline.talk_share):+6.2f} pp | "
            f"{engine.gain_min_per_agent_hour - baseline.gain_min_per_agent_hour:+6.2f} | "
            f"{100 * (engine.occupancy - baseline.occupancy):+6.2f} pp | "
            f"{100 * (engine.abandon_rate - baseline.abandon_rate):+6.2f} pp | "
            f"{100 * (engine.worst_hour_abandon_rate - baseline.worst_hour_abandon_rate):+6.2f} pp | "
            f"{engine.connects_per_agent_hour - baseline.connects_per_agent_hour:+5.1f} | "
            f"{engine.mean_wait_s - baseline.mean_wait_s:+6.1f} | "
            f"{(engine.peak_lines or 0) - (baseline.peak_lines or 0):+d} | "
            f"{engine.clairvoyant_ratio - baseline.clairvoyant_ratio:+5.3f} | "
            f"{engine.vicidial_ratio - baseline.vicidial_ratio:+5.2f} |")


def bench_scenario(scenario: Scenario, profile: ComplianceProfile, args: argparse.Namespace
                   ) -> tuple[list[pure.Row], list[tuple[pure.Row, EngineRun]]]:
    """Pure rows (progressive, VICIdial-style, ours) and the engine rows, with the same ratios."""
    wanted = tuple(dict.fromkeys(("progressive", "vicidial", *args.engine_policy)))
    pure_rows = {r.policy: r for r in pure.bench_scenario(scenario, profile, args, wanted)}
    bound = scenario.clairvoyant_talk_share()
    amd_on = pure._amd_on(args.amd, scenario, profile)
    engine_rows = []
    for name in args.engine_policy:
        policy, mode = _engine_policy(name, scenario, profile, args, amd_on)
        run = asyncio.run(run_engine_shift(scenario, policy, profile=profile, mode=mode, hours=args.hours,
                                           seed=args.seed, tick_s=args.tick, amd=amd_on, lines=args.lines,
                                           redial_delay_s=args.redial_delay))
        row = pure.Row.measured(scenario.name, f"{name} (engine)", run.result, run.seconds, run.cpu_seconds)
        engine_rows.append((_with_ratios(row, pure_rows["progressive"], pure_rows["vicidial"], bound), run))
    return [pure_rows[p] for p in wanted], engine_rows


def build_parser() -> argparse.ArgumentParser:
    p = pure.build_parser()
    p.prog = "python -m benchmarks.engine_pacing"
    p.description = __doc__.split("\n\n")[0]
    p.set_defaults(no_plot=True)
    p.add_argument("--engine-policy", choices=ENGINE_POLICIES, action="append",
                   help="policy run through the runner (repeatable; default: ours)")
    p.add_argument("--log-level", default="error", help="the runner's log level (default error)")
    p.add_argument("--redial-delay", type=float, default=600.0,
                   help="seconds before an abandoned contact is due again (default 600, as in the pure "
                        "simulator)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.engine_policy = tuple(args.engine_policy or ("ours",))
    configure_logging("console", args.log_level)
    try:
        profile = profile_named(args.profile)
        chosen = pure.scenarios_from(args)
    except (ScenarioError, PacingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for scenario in chosen:
        pure_rows, engine_rows = bench_scenario(scenario, profile, args)
        if args.json:
            for r in [*pure_rows, *(row for row, _ in engine_rows)]:
                print(json.dumps({"profile": profile.name, "hours": args.hours, "seed": args.seed,
                                  **{k: getattr(r, k) for k in pure.Row.__dataclass_fields__}}), flush=True)
            continue
        rows = [*pure_rows, *(row for row, _ in engine_rows)]
        print(pure.format_table(scenario, rows, profile, args.hours))
        by_name = {r.policy: r for r in pure_rows}
        for row, _ in engine_rows:
            base = by_name[row.policy.removesuffix(" (engine)")]
            print(difference_line(row, base))
        for row, run in engine_rows:
            base = by_name[row.policy.removesuffix(" (engine)")]
            print(f"{row.policy}: {run.result.calls} calls in the shift (pure {base.calls}), "
                  f"{run.attempts_opened} attempts opened / {run.attempts_closed} closed, "
                  f"{run.store_calls} store calls; {run.seconds:.1f} s wall for {args.hours:g} h "
                  f"(pure {base.seconds:.2f} s); CPU {run.cpu_seconds:.1f} s (pure {base.cpu_seconds:.2f} s, "
                  f"{run.cpu_seconds / max(base.cpu_seconds, 1e-9):.2f}x)")
            if run.errors:
                print(f"  {len(run.errors)} errors in the simulated side, first: {run.errors[0]}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
