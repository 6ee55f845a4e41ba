"""The pacing benchmark's longer experiments: a team-size sweep and consecutive days.

Why apart from :mod:`benchmarks.pacing`: those tables answer "how good on one shift"; these
answer the two questions a single shift cannot. ``--sweep-agents`` runs ours and progressive
on the same calls for every team size, for light and heavy-tailed talk times and for
several targets, and reports ours / progressive (it must never fall under 1).
``--days N`` runs N consecutive shifts on one policy object (its learned statistics and
its abandon windows carry over the overnight closure, as the engine's do through the
store) and reports the worst rolling hour, 24 hours and 30 days next to the shift figures.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.callcentre import Scenario, ShiftResult, run_shift
from benchmarks.callcentre.simulation import worst_window
from pacing import ComplianceProfile, PacingPolicy, PredictivePolicy, PredictiveSettings, ProgressivePolicy

SWEEP_SIZES: tuple[int, ...] = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100, 200)
SWEEP_CVS = (None, 2.5)            # None: the scenario's own talk-time cv
SWEEP_TARGETS = (0.0, 0.01, 0.03)
_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """Ours against progressive at one team size, talk cv and target."""

    agents: int
    talk_cv: float
    target: float
    ours: float
    progressive: float
    abandon_rate: float
    worst_hour: float

    @property
    def ratio(self) -> float:
        return self.ours / self.progressive if self.progressive else float("nan")


def _ours(profile: ComplianceProfile, target: float, args: argparse.Namespace, scenario: Scenario,
          amd: bool) -> Callable[[], PacingPolicy]:
    fp = scenario.amd_false_positive if amd else 0.0
    # Passed only when set, so the same benchmark also runs against an older pacer.
    extra: dict[str, Any] = {"worst_hour_cap": True} if args.worst_hour_cap else {}
    settings = PredictiveSettings(target=target, max_lines_per_agent=args.max_level,
                                  amd_false_positive_rate=fp, **extra)
    swept = ComplianceProfile(profile.name, max(profile.abandon_cap, target), profile.window_s,
                              profile.amd_false_positives_count, profile.predictive_allowed)
    return lambda: PredictivePolicy(swept, settings)


def sweep_agents(scenario: Scenario, profile: ComplianceProfile, args: argparse.Namespace, amd: bool,
                 sizes: Sequence[int] = SWEEP_SIZES) -> list[SweepPoint]:
    """Ours / progressive per team size, talk cv and target, on the same calls (``--sweep-hours`` each)."""
    points = []
    for cv in SWEEP_CVS:
        for size in sizes:
            team = scenario.with_overrides(agents=size, talk_cv=cv)
            prog = run_shift(team, ProgressivePolicy(), profile=profile, hours=args.sweep_hours,
                             seed=args.seed, tick_s=args.tick, amd=amd)
            for target in SWEEP_TARGETS:
                ours = run_shift(team, _ours(profile, target, args, team, amd)(), profile=profile,
                                 hours=args.sweep_hours, seed=args.seed, tick_s=args.tick, amd=amd)
                points.append(SweepPoint(size, team.talk_cv, target, ours.talk_share, prog.talk_share,
                                         ours.abandon_rate, ours.worst_hour_abandon_rate))
    return points


def format_sweep(scenario: Scenario, points: list[SweepPoint], hours: float) -> str:
    cols = sorted({(p.talk_cv, p.target) for p in points})
    head = [f"cv {cv:g} target {100 * t:g}%" for cv, t in cols]
    lines = [f"{scenario.name} team-size sweep, {hours:g} h per point: ours / progressive talk share "
             f"(ours' shift abandon rate)",
             "| agents | " + " | ".join(head) + " |", "|" + "---|" * (len(cols) + 1)]
    for size in sorted({p.agents for p in points}):
        cells = []
        for cv, t in cols:
            p = next(p for p in points if p.agents == size and p.talk_cv == cv and p.target == t)
            cells.append(f"{p.ratio:5.3f} ({100 * p.abandon_rate:.1f}%)")
        lines.append(f"| {size} | " + " | ".join(cells) + " |")
    worst = min(points, key=lambda p: p.ratio)
    lines.append(f"lowest ours / progressive: {worst.ratio:.3f} at {worst.agents} agents, "
                 f"cv {worst.talk_cv:g}, target {100 * worst.target:g}%")
    return "\n".join(lines)


def plot_sweep(scenario: Scenario, points: list[SweepPoint], out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for cv, t in sorted({(p.talk_cv, p.target) for p in points}):
        sel = sorted((p for p in points if p.talk_cv == cv and p.target == t), key=lambda p: p.agents)
        ax.plot([p.agents for p in sel], [p.ratio for p in sel], marker="o",
                label=f"talk cv {cv:g}, target {100 * t:g}%")
    ax.axhline(1.0, color="red", linestyle=":", label="progressive")
    ax.set_xscale("log")
    ax.set_xlabel("agents")
    ax.set_ylabel("talk share, ours / progressive")
    ax.set_title(f"{scenario.name}: ours against progressive by team size", fontsize=10)
    return save_plot(fig, ax, out_dir / f"pacing_sweep_agents_{scenario.name}.png")


def save_plot(fig: Any, ax: Any, path: Path) -> Path:
    """Legend, grid, tight layout, written to ``path`` and closed (every pacing plot ends so)."""
    import matplotlib.pyplot as plt

    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@dataclass(frozen=True, slots=True)
class DaysResult:
    """One policy over consecutive shifts."""

    policy: str
    days: int
    talk_share: float
    abandon_rate: float
    worst_shift: float
    worst_hour: float
    worst_24h: float
    worst_30d: float


def run_days(scenario: Scenario, name: str, factory: Callable[[], PacingPolicy], profile: ComplianceProfile,
             args: argparse.Namespace, amd: bool) -> DaysResult:
    """``args.days`` shifts of ``args.hours`` one day apart, on one policy object (seed + day per shift)."""
    policy = factory()
    minutes_per_day = int(_DAY_S // 60)
    live = np.zeros(args.days * minutes_per_day)
    abandoned = np.zeros_like(live)
    shifts: list[ShiftResult] = []
    for day in range(args.days):
        r = run_shift(scenario, policy, profile=profile, hours=args.hours, seed=args.seed * 1000 + day,
                      tick_s=args.tick, amd=amd, start_s=day * _DAY_S)
        first = day * minutes_per_day
        live[first:first + len(r.live_per_minute)] = r.live_per_minute
        abandoned[first:first + len(r.abandoned_per_minute)] = r.abandoned_per_minute
        shifts.append(r)
    total_live = sum(r.live_answers for r in shifts)
    agent_s = sum(r.agents * r.shift_s for r in shifts)
    return DaysResult(
        name, args.days, sum(r.talk_s for r in shifts) / agent_s,
        sum(r.abandoned for r in shifts) / total_live if total_live else 0.0,
        # The hour within a shift: an hour reaching over the closure holds a few minutes' answers.
        max(r.abandon_rate for r in shifts), max(r.worst_hour_abandon_rate for r in shifts),
        worst_window(live, abandoned, minutes_per_day), worst_window(live, abandoned, 30 * minutes_per_day))


def format_days(scenario: Scenario, results: list[DaysResult], profile: ComplianceProfile,
                hours: float) -> str:
    cols = ("policy", "talk share", "abandon", "worst shift", "worst hour", "worst 24 h", "worst 30 d")
    lines = [f"{scenario.name} over {results[0].days} days ({hours:g} h shifts, overnight closure), "
             f"profile {profile.name}, cap {100 * profile.abandon_cap:g}%",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        lines.append(f"| {r.policy} | {100 * r.talk_share:.2f}% | {100 * r.abandon_rate:.2f}% | "
                     f"{100 * r.worst_shift:.2f}% | {100 * r.worst_hour:.2f}% | {100 * r.worst_24h:.2f}% | "
                     f"{100 * r.worst_30d:.2f}% |")
    return "\n".join(lines)
