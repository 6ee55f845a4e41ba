"""Pacing warm versus cold: the first hour of a morning with and without the campaign's memory.

Run ``python -m benchmarks.warm_start`` (``--help``). The whole runner dials a scenario in
virtual time (:func:`benchmarks.engine_pacing.run_engine_shift`, the virtual PBX and the
in-memory store):

* **warm**: yesterday's shift (``--history-hours``), a night of ``--night-hours``, then this
  morning's first ``--hours`` on the same store: the new runner restores the abandon windows
  and warms the predictive pacer from yesterday's calls (:mod:`dialer.campaign.memory`);
* **cold**: the same morning on an empty store (what every start was before campaign memory).

Both mornings meet the same calls (same seed, fresh numbers). Only the contacts' retries are
kept out of the morning (every ending comes back after two days), so that the two mornings
differ by the memory alone. The table gives talk share (agents' time talking to people),
abandon rate (of live answers, in the morning), the window rate (the compliance window's rate
at the end of the morning, yesterday included: the figure the cap applies to), the calls placed,
and how many stored calls warmed the pacer at the start.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.callcentre import SCENARIOS, ScenarioError
from benchmarks.engine_pacing import _LATER_S, START_AT, EngineRun, run_engine_shift
from dialer.clock import VirtualClock
from dialer.observability.logs import configure_logging
from pacing import PredictivePolicy, PredictiveSettings, profile_named


@dataclass(frozen=True, slots=True)
class Morning:
    """One morning's first hours."""

    name: str
    talk_share: float
    abandon_rate: float
    calls: int
    warmed_calls: int
    window_rate: float  # the compliance window's rate at the end of the morning (yesterday included)
    seconds: float


def _policy(scenario_name: str, profile_name: str) -> PredictivePolicy:
    scenario = SCENARIOS[scenario_name]
    return PredictivePolicy(profile_named(profile_name),
                            PredictiveSettings(amd_false_positive_rate=scenario.amd_false_positive))


def _morning(name: str, run: EngineRun, before: EngineRun | None = None) -> Morning:
    r = run.result
    live, abandoned = r.live_answers, r.abandoned
    if before is not None:
        live, abandoned = live + before.result.live_answers, abandoned + before.result.abandoned
    window = abandoned / live if live else 0.0
    return Morning(name, r.talk_share, r.abandon_rate, r.calls, run.warmed or 0, window, run.seconds)


async def mornings(scenario_name: str, profile_name: str, *, hours: float, history_hours: float,
                   night_hours: float, seed: int) -> tuple[Morning, Morning]:
    """The warm and the cold morning of ``scenario_name`` (see the module docstring)."""
    scenario = SCENARIOS[scenario_name]
    profile = profile_named(profile_name)
    clock = VirtualClock(START_AT)
    yesterday = await run_engine_shift(scenario, _policy(scenario_name, profile_name), profile=profile,
                                       hours=history_hours, seed=seed + 1000, clock=clock,
                                       redial_delay_s=_LATER_S)
    morning_at = START_AT + (history_hours + night_hours) * 3600.0
    await clock.run_until(morning_at)
    warm_policy = _policy(scenario_name, profile_name)
    warm = await run_engine_shift(scenario, warm_policy, profile=profile, hours=hours, seed=seed, clock=clock,
                                  store=yesterday.store, redial_delay_s=_LATER_S)
    cold_policy = _policy(scenario_name, profile_name)
    cold = await run_engine_shift(scenario, cold_policy, profile=profile, hours=hours, seed=seed,
                                  clock=VirtualClock(morning_at), redial_delay_s=_LATER_S)
    return _morning("warm", warm, yesterday), _morning("cold", cold)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.warm_start", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                   help="scenario (repeatable; default S1 and S4)")
    p.add_argument("--profile", default="us", choices=("us", "uk"), help="compliance profile (default us)")
    p.add_argument("--hours", type=float, default=1.0, help="the morning measured (default 1)")
    p.add_argument("--history-hours", type=float, default=2.0, help="yesterday's shift (default 2)")
    p.add_argument("--night-hours", type=float, default=14.0, help="the gap before the morning (default 14)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-level", default="error")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging("console", args.log_level)
    print("| scenario | start | talk share | abandon rate | window rate | calls | warmed from | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.scenario or ("S1", "S4"):
        try:
            pair = asyncio.run(mornings(name, args.profile, hours=args.hours,
                                        history_hours=args.history_hours, night_hours=args.night_hours,
                                        seed=args.seed))
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for m in pair:
            print(f"| {name} | {m.name} | {100 * m.talk_share:.2f} % | {100 * m.abandon_rate:.2f} % "
                  f"| {100 * m.window_rate:.2f} % | {m.calls} | {m.warmed_calls} | {m.seconds:.1f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
