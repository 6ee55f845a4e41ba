"""Pacing-quality benchmark: every policy on every scenario, in virtual time.

Run ``python -m benchmarks.pacing`` (``--help`` for the knobs). For each scenario it prints
a table (agent talk share, gain over progressive, occupancy, abandon rate over the shift
and over the worst rolling hour, live connects per agent-hour, mean agent wait between
calls, peak lines, and the ratios to the clairvoyant bound and to the VICIdial-style
baseline, all measured in the same run on the same calls), and draws
``benchmarks/out/pacing_<scenario>.png``: talk share against abandon rate as the target
is swept from 1% to 5% for the predictive policies.

Policies: ``progressive`` (1:1, agent reserved), ``fixed`` (fixed dial ratio),
``vicidial`` (VICIdial-style adaptive, see ``benchmarks/callcentre/baselines.py``),
``ours`` (:class:`pacing.PredictivePolicy`), ``clairvoyant`` (the analytic bound). All use
the profile's 2-second connect limit.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import pacing_runs
from benchmarks.callcentre import (
    SCENARIOS,
    FixedRatioPolicy,
    Scenario,
    ScenarioError,
    ShiftResult,
    VicidialAdaptivePolicy,
    run_shift,
)
from pacing import (
    ComplianceProfile,
    PacingError,
    PacingPolicy,
    PredictivePolicy,
    PredictiveSettings,
    ProgressivePolicy,
    profile_named,
)

POLICIES = ("progressive", "fixed", "vicidial", "ours", "clairvoyant")
SWEEP_TARGETS = (0.01, 0.02, 0.03, 0.04, 0.05)
_OUT = Path(__file__).resolve().parent / "out"


@dataclass(frozen=True, slots=True)
class Row:
    """One (scenario, policy) line of a table."""

    scenario: str
    policy: str
    talk_share: float
    talk_min_per_agent_hour: float
    occupancy: float
    abandon_rate: float
    worst_hour_abandon_rate: float
    connects_per_agent_hour: float
    mean_wait_s: float
    peak_lines: int | None
    calls: int | None
    seconds: float
    gain_min_per_agent_hour: float = 0.0
    clairvoyant_ratio: float = 0.0
    vicidial_ratio: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU for the run (steadier than wall on a shared box)

    @classmethod
    def measured(cls, scenario: str, policy: str, r: ShiftResult, seconds: float,
                 cpu_seconds: float = 0.0) -> Row:
        return cls(scenario, policy, r.talk_share, r.talk_min_per_agent_hour, r.occupancy, r.abandon_rate,
                   r.worst_hour_abandon_rate, r.connects_per_agent_hour, r.mean_wait_s, r.peak_lines,
                   r.calls, seconds, cpu_seconds=cpu_seconds)

    @classmethod
    def clairvoyant(cls, scenario: Scenario) -> Row:
        """Each live answer meets an agent the moment their wrap ends: no wait, no abandon."""
        share = scenario.clairvoyant_talk_share()
        cycle_s = scenario.talk_mean_s + scenario.wrap_mean_s
        return cls(scenario.name, "clairvoyant", share, share * 60.0, 1.0, 0.0, 0.0, 3600.0 / cycle_s, 0.0,
                   None, None, 0.0)


def _policy_factory(name: str, scenario: Scenario, profile: ComplianceProfile, args: argparse.Namespace,
                    target: float, amd_on: bool) -> Callable[[], PacingPolicy]:
    # VICIdial's taper reads the hours left in the nominal shift (--hours), also in the
    # shorter sweep runs, which simulate that shift's first --sweep-hours.
    shift_s = args.hours * 3600.0
    if name == "progressive":
        return ProgressivePolicy
    if name == "fixed":
        return lambda: FixedRatioPolicy(args.fixed_ratio)
    if name == "vicidial":
        return lambda: VicidialAdaptivePolicy(profile, drop_limit=target, shift_s=shift_s,
                                              max_level=args.max_level, drop_mode=args.vicidial_mode)
    if name == "ours":
        extra: dict[str, Any] = {"worst_hour_cap": True} if args.worst_hour_cap else {}
        settings = PredictiveSettings(
            target=target, max_lines_per_agent=args.max_level,
            amd_false_positive_rate=scenario.amd_false_positive if amd_on else 0.0, **extra)
        return lambda: PredictivePolicy(profile, settings)
    raise ValueError(name)


def _amd_on(mode: str, scenario: Scenario, profile: ComplianceProfile) -> bool:
    """``auto``: AMD off where its false positives count as abandons and would eat half the cap."""
    if mode != "auto":
        return mode == "on"
    if not profile.amd_false_positives_count:
        return True
    return scenario.amd_false_positive < profile.abandon_cap / 2


def _run(scenario: Scenario, name: str, factory: Callable[[], PacingPolicy], profile: ComplianceProfile,
         args: argparse.Namespace, amd_on: bool, hours: float) -> Row:
    started, cpu = time.perf_counter(), time.process_time()
    result = run_shift(scenario, factory(), profile=profile, hours=hours, seed=args.seed, tick_s=args.tick,
                       amd=amd_on, lines=args.lines)
    return Row.measured(scenario.name, name, result, time.perf_counter() - started, time.process_time() - cpu)


def bench_scenario(scenario: Scenario, profile: ComplianceProfile, args: argparse.Namespace,
                   policies: Sequence[str]) -> list[Row]:
    """Every requested policy on one scenario, with progressive and VICIdial as references."""
    target = profile.abandon_cap if args.target is None else args.target
    amd_on = _amd_on(args.amd, scenario, profile)
    needed = [p for p in POLICIES if p in policies or p in ("progressive", "vicidial")]
    rows: dict[str, Row] = {}
    for name in needed:
        if name == "clairvoyant":
            rows[name] = Row.clairvoyant(scenario)
        else:
            rows[name] = _run(scenario, name, _policy_factory(name, scenario, profile, args, target, amd_on),
                              profile, args, amd_on, args.hours)
    bound = rows["clairvoyant"].talk_share if "clairvoyant" in rows else scenario.clairvoyant_talk_share()
    prog = rows["progressive"].talk_min_per_agent_hour
    vici = rows["vicidial"].talk_share
    out = []
    for name in POLICIES:
        if name not in policies:
            continue
        r = rows[name]
        out.append(Row(**{**{f: getattr(r, f) for f in Row.__dataclass_fields__},
                          "gain_min_per_agent_hour": r.talk_min_per_agent_hour - prog,
                          "clairvoyant_ratio": r.talk_share / bound if bound else math.nan,
                          "vicidial_ratio": r.talk_share / vici if vici else math.inf}))
    return out


def sweep(scenario: Scenario, profile: ComplianceProfile, args: argparse.Namespace,
          policies: Sequence[str]) -> dict[str, list[tuple[float, float, float]]]:
    """(target, abandon rate, talk share) per predictive policy as the target is swept."""
    amd_on = _amd_on(args.amd, scenario, profile)
    curves: dict[str, list[tuple[float, float, float]]] = {}
    for name in ("vicidial", "ours"):
        if name not in policies:
            continue
        points = []
        for target in SWEEP_TARGETS:
            swept = ComplianceProfile(profile.name, max(profile.abandon_cap, target), profile.window_s,
                                      profile.amd_false_positives_count, profile.predictive_allowed)
            factory = _policy_factory(name, scenario, swept, args, target, amd_on)
            row = _run(scenario, name, factory, swept, args, amd_on, args.sweep_hours)
            points.append((target, row.abandon_rate, row.talk_share))
        curves[name] = points
    return curves


def plot(scenario: Scenario, curves: dict[str, list[tuple[float, float, float]]], rows: list[Row],
         profile: ComplianceProfile, out_dir: Path, hours: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, points in curves.items():
        xs = [100 * a for _, a, _ in points]
        ys = [100 * t for _, _, t in points]
        ax.plot(xs, ys, marker="o", label=f"{name} (target 1–5%)")
        for (target, a, t) in points:
            ax.annotate(f"{100 * target:.0f}%", (100 * a, 100 * t), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    for r in rows:
        if r.policy in ("progressive", "fixed"):
            ax.plot([100 * r.abandon_rate], [100 * r.talk_share], marker="s", linestyle="none",
                    label=r.policy)
    ax.axhline(100 * scenario.clairvoyant_talk_share(), color="grey", linestyle="--",
               label="clairvoyant bound")
    if profile.abandon_cap > 0:
        ax.axvline(100 * profile.abandon_cap, color="red", linestyle=":", label="cap")
    ax.set_xlabel("abandon rate over the shift (%)")
    ax.set_ylabel("agent talk share (%)")
    ax.set_title(f"{scenario.name} {scenario.title}: {scenario.agents} agents, profile {profile.name}\n"
                 f"curves: first {hours:g} h of the shift per target; squares: the full-shift table",
                 fontsize=10)
    return pacing_runs.save_plot(fig, ax, out_dir / f"pacing_{scenario.name}.png")


def _fmt_pct(x: float) -> str:
    return f"{100 * x:6.2f}%"


def format_table(scenario: Scenario, rows: list[Row], profile: ComplianceProfile, hours: float) -> str:
    s = scenario
    head = (f"{s.name} {s.title}: {s.agents} agents, human {s.human_drift or s.human}, machine {s.machine}, "
            f"busy {s.busy}, failed {s.failed}, answer {s.answer_mean_s:g} s, ring {s.ring_timeout_s:g} s, "
            f"talk {s.talk_mean_s:g} s cv {s.talk_cv:g}, wrap {s.wrap_mean_s:g} s; {hours:g} h, "
            f"profile {profile.name}")
    cols = ("policy", "talk share", "gain min/ah", "occupancy", "abandon", "worst hour", "conn/ah", "wait s",
            "peak lines", "/bound", "/vicidial")
    lines = [head, "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join([
            r.policy, _fmt_pct(r.talk_share), f"{r.gain_min_per_agent_hour:+6.2f}", _fmt_pct(r.occupancy),
            _fmt_pct(r.abandon_rate), _fmt_pct(r.worst_hour_abandon_rate),
            f"{r.connects_per_agent_hour:5.1f}",
            f"{r.mean_wait_s:6.1f}", "-" if r.peak_lines is None else str(r.peak_lines),
            f"{r.clairvoyant_ratio:5.3f}", f"{r.vicidial_ratio:5.2f}"]) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.pacing", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", choices=sorted(SCENARIOS), action="append",
                   help="run only this scenario (repeatable); default: all six")
    p.add_argument("--policy", choices=POLICIES, action="append", help="only this policy (repeatable)")
    p.add_argument("--hours", type=float, default=8.0, help="shift length (default 8)")
    p.add_argument("--seed", type=int, default=1, help="seed of the common random numbers (default 1)")
    p.add_argument("--profile", choices=("us", "uk", "zero"), default="us", help="compliance profile")
    p.add_argument("--target", type=float, default=None,
                   help="abandon-rate target (default: the profile's cap)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per (scenario, policy) instead of tables")
    p.add_argument("--no-plot", action="store_true", help="skip the target sweep and the PNGs")
    p.add_argument("--sweep-hours", type=float, default=2.0,
                   help="shift length of each sweep run (default 2)")
    p.add_argument("--out", type=Path, default=_OUT, help="where the PNGs go (default benchmarks/out)")
    p.add_argument("--tick", type=float, default=1.0, help="decision period in seconds (default 1)")
    p.add_argument("--amd", choices=("auto", "on", "off"), default="auto",
                   help="answering-machine detection; auto turns it off where its false positives "
                        "count as abandons and would use half the cap (UK, zero)")
    p.add_argument("--fixed-ratio", type=float, default=2.0,
                   help="calls per ready agent of the fixed baseline")
    p.add_argument("--max-level", type=float, default=3.0, help="max lines per agent (ours and VICIdial)")
    p.add_argument("--vicidial-mode", choices=("TAPERED", "AVERAGE", "HARD_LIMIT"), default="TAPERED",
                   help="what the VICIdial-style baseline does over its drop limit (default TAPERED)")
    p.add_argument("--lines", type=int, default=None, help="line limit of the campaign (default unlimited)")
    p.add_argument("--worst-hour-cap", action="store_true",
                   help="ours also holds the cap over every rolling hour (the supervisor setting)")
    p.add_argument("--sweep-agents", action="store_true",
                   help="instead of the tables: ours / progressive for team sizes 1-200, talk cv as the "
                        "scenario and 2.5, targets 0, 1 and 3%% (--sweep-hours each), plotted")
    p.add_argument("--sweep-sizes", type=str, default=None,
                   help="team sizes of --sweep-agents, comma-separated "
                        "(default 1,2,3,4,5,7,10,15,20,30,50,100,200)")
    p.add_argument("--days", type=int, default=None,
                   help="instead of the tables: N consecutive shifts on one policy (overnight closure), "
                        "with the worst rolling hour, 24 h and 30 d")
    g = p.add_argument_group("scenario parameters (override the chosen scenarios)")
    g.add_argument("--agents", type=int)
    g.add_argument("--answer-rate", "--human", dest="human", type=float, help="share answered by a person")
    g.add_argument("--drift", type=str, help="human share over the shift, e.g. 0.40,0.15,0.30")
    g.add_argument("--machine", type=float)
    g.add_argument("--busy", type=float)
    g.add_argument("--failed", type=float, help="share failed; no answer is the rest")
    g.add_argument("--answer-mean", dest="answer_mean_s", type=float)
    g.add_argument("--answer-cv", type=float)
    g.add_argument("--ring-timeout", dest="ring_timeout_s", type=float)
    g.add_argument("--talk-mean", dest="talk_mean_s", type=float)
    g.add_argument("--talk-cv", type=float)
    g.add_argument("--wrap-mean", "--wrap", dest="wrap_mean_s", type=float)
    g.add_argument("--wrap-cv", type=float)
    g.add_argument("--amd-fp", dest="amd_false_positive", type=float, help="human answers taken for machines")
    g.add_argument("--amd-fn", dest="amd_false_negative", type=float, help="machines passed as humans")
    g.add_argument("--machine-agent-s", type=float, help="seconds an undetected machine holds an agent")
    return p


_OVERRIDES = ("agents", "human", "machine", "busy", "failed", "answer_mean_s", "answer_cv", "ring_timeout_s",
              "talk_mean_s", "talk_cv", "wrap_mean_s", "wrap_cv", "amd_false_positive", "amd_false_negative",
              "machine_agent_s")


def scenarios_from(args: argparse.Namespace) -> list[Scenario]:
    """The chosen scenarios with the command line's overrides applied (validated)."""
    changes: dict[str, Any] = {k: getattr(args, k) for k in _OVERRIDES}
    if args.drift:
        try:
            changes["human_drift"] = tuple(float(x) for x in args.drift.split(","))
        except ValueError:
            raise ScenarioError("--drift", "expected comma-separated shares", args.drift) from None
    elif args.human is not None:
        changes["human_drift"] = ()
    names = args.scenario or list(SCENARIOS)
    return [SCENARIOS[n].with_overrides(**changes) for n in names]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        profile = profile_named(args.profile)
        chosen = scenarios_from(args)
    except (ScenarioError, PacingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    policies = tuple(args.policy or POLICIES)
    if args.sweep_agents or args.days:
        return _longer_runs(chosen, profile, args, policies)
    for scenario in chosen:
        rows = bench_scenario(scenario, profile, args, policies)
        if args.json:
            for r in rows:
                print(json.dumps({"profile": profile.name, "hours": args.hours, "seed": args.seed,
                                  **{k: getattr(r, k) for k in Row.__dataclass_fields__}}), flush=True)
        else:
            print(format_table(scenario, rows, profile, args.hours))
            ours = next((r for r in rows if r.policy == "ours"), None)
            if ours is not None:
                print(f"ours / clairvoyant bound = {ours.clairvoyant_ratio:.3f}; "
                      f"ours / VICIdial-style = {ours.vicidial_ratio:.2f}")
        if not args.no_plot:
            curves = sweep(scenario, profile, args, policies)
            if curves:
                path = plot(scenario, curves, rows, profile, args.out, args.sweep_hours)
                if not args.json:
                    print(f"plot: {path}")
        if not args.json:
            print(flush=True)
    return 0


def _longer_runs(chosen: list[Scenario], profile: ComplianceProfile, args: argparse.Namespace,
                 policies: Sequence[str]) -> int:
    """``--sweep-agents`` and ``--days`` (:mod:`benchmarks.pacing_runs`)."""
    target = profile.abandon_cap if args.target is None else args.target
    for scenario in chosen:
        amd_on = _amd_on(args.amd, scenario, profile)
        if args.sweep_agents:
            sizes = pacing_runs.SWEEP_SIZES
            if args.sweep_sizes:
                sizes = tuple(int(x) for x in args.sweep_sizes.split(","))
            points = pacing_runs.sweep_agents(scenario, profile, args, amd_on, sizes)
            print(pacing_runs.format_sweep(scenario, points, args.sweep_hours))
            if not args.no_plot:
                print(f"plot: {pacing_runs.plot_sweep(scenario, points, args.out)}")
        if args.days:
            names = [n for n in POLICIES if n in policies and n != "clairvoyant"]
            results = [pacing_runs.run_days(scenario, n,
                                            _policy_factory(n, scenario, profile, args, target, amd_on),
                                            profile, args, amd_on) for n in names]
            print(pacing_runs.format_days(scenario, results, profile, args.hours))
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
