"""The simulator the pacing benchmark runs in, and the S1 abandon-cap check."""

import json

import numpy as np
import pytest

from benchmarks import pacing as bench
from benchmarks.callcentre import (
    SCENARIOS,
    CallDraws,
    ClockWentBackwards,
    PolicyBrokeContract,
    ScenarioError,
    VicidialAdaptivePolicy,
    VirtualClock,
    run_shift,
)
from pacing import US, ZERO, CampaignSnapshot, DialDecision, PredictivePolicy, ProgressivePolicy


def test_virtual_clock_orders_by_time_then_priority_then_insertion():
    clock = VirtualClock()
    clock.schedule(5.0, 1, "b")
    clock.schedule(5.0, 0, "a")
    clock.schedule(1.0, 9, "first")
    clock.schedule(5.0, 1, "c")
    assert ["first", "a", "b", "c"] == [clock.pop()[1] for _ in range(4)]


def test_virtual_clock_refuses_to_go_back():
    clock = VirtualClock()
    clock.schedule(10.0, 0, "x")
    clock.pop()
    with pytest.raises(ClockWentBackwards):
        clock.schedule(9.0, 0, "y")


def test_common_random_numbers_give_every_policy_the_same_kth_call():
    a = CallDraws(SCENARIOS["S1"], seed=7)
    b = CallDraws(SCENARIOS["S1"], seed=7)
    late = [b.draw(k) for k in (9000, 5, 4100)]
    assert late == [a.draw(k) for k in (9000, 5, 4100)]
    assert a.draw(5) != CallDraws(SCENARIOS["S1"], seed=8).draw(5)


def test_scenario_shares_are_checked():
    with pytest.raises(ScenarioError) as info:
        SCENARIOS["S1"].with_overrides(human=0.9)
    assert "shares" == info.value.field


def test_drifting_share_moves_through_its_points():
    s6 = SCENARIOS["S6"]
    assert [0.40, 0.15, 0.30] == pytest.approx([s6.human_at(t, 100.0) for t in (0.0, 50.0, 100.0)])


def test_progressive_never_abandons_and_runs_are_reproducible():
    first = run_shift(SCENARIOS["S2"], ProgressivePolicy(), profile=US, hours=0.5, seed=3)
    again = run_shift(SCENARIOS["S2"], ProgressivePolicy(), profile=US, hours=0.5, seed=3)
    assert first == again
    assert (0, True) == (first.abandoned, first.live_answers > 0)


def test_a_policy_asking_for_more_lines_than_exist_is_caught():
    class Greedy(ProgressivePolicy):
        def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
            return DialDecision(launch=snapshot.lines_free + 1)

    with pytest.raises(PolicyBrokeContract):
        run_shift(SCENARIOS["S2"], Greedy(), profile=US, hours=0.1, seed=1, lines=10)


def test_ours_holds_the_abandon_cap_on_s1_with_a_fixed_seed():
    result = run_shift(SCENARIOS["S1"], PredictivePolicy(US), profile=US, hours=2.0, seed=11)
    progressive = run_shift(SCENARIOS["S1"], ProgressivePolicy(), profile=US, hours=2.0, seed=11)
    assert result.live_answers > 500
    assert result.abandon_rate <= US.abandon_cap
    assert result.talk_share > progressive.talk_share


def test_zero_profile_run_never_abandons():
    result = run_shift(SCENARIOS["S1"], PredictivePolicy(ZERO), profile=ZERO, hours=0.5, seed=2, amd=False)
    assert 0 == result.abandoned


def test_vicidial_baseline_moves_its_dial_level():
    policy = VicidialAdaptivePolicy(US, shift_s=3600.0)
    run_shift(SCENARIOS["S1"], policy, profile=US, hours=0.25, seed=1)
    assert 1.0 != policy.level


def test_benchmark_json_has_the_promised_keys(capsys):
    assert 0 == bench.main(["--scenario", "S2", "--hours", "0.25", "--json", "--no-plot"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert ["progressive", "fixed", "vicidial", "ours", "clairvoyant"] == [r["policy"] for r in rows]
    keys = {"scenario", "policy", "talk_share", "abandon_rate", "worst_hour_abandon_rate",
            "gain_min_per_agent_hour", "clairvoyant_ratio", "vicidial_ratio"}
    assert all(keys <= set(r) for r in rows)


def test_benchmark_reports_a_bad_scenario_parameter(capsys):
    assert 2 == bench.main(["--scenario", "S1", "--answer-rate", "0.95", "--no-plot"])
    assert "shares" in capsys.readouterr().err


def test_a_shift_started_a_day_later_is_the_same_shift():
    first = run_shift(SCENARIOS["S2"], ProgressivePolicy(), profile=US, hours=0.25, seed=4)
    later = run_shift(SCENARIOS["S2"], ProgressivePolicy(), profile=US, hours=0.25, seed=4, start_s=86_400.0)
    same = ("connects", "agent_calls", "live_answers", "abandoned", "calls", "peak_lines", "live_per_minute")
    assert [getattr(first, f) for f in same] == [getattr(later, f) for f in same]
    assert first.talk_s == pytest.approx(later.talk_s) and first.idle_s == pytest.approx(later.idle_s)
    assert first.live_answers == sum(first.live_per_minute)


def test_days_benchmark_reports_the_worst_rolling_windows(capsys):
    argv = ["--scenario", "S2", "--profile", "uk", "--days", "2", "--hours", "0.5", "--policy", "progressive",
            "--policy", "ours"]
    assert 0 == bench.main(argv)
    out = capsys.readouterr().out
    assert "| policy | talk share | abandon | worst shift | worst hour | worst 24 h | worst 30 d |" in out
    assert "| progressive |" in out and "0.00% | 0.00% | 0.00% | 0.00% | 0.00% |" in out
    assert "| ours |" in out


def test_sweep_agents_compares_ours_with_progressive_per_team_size(capsys):
    argv = ["--scenario", "S2", "--sweep-agents", "--sweep-hours", "0.1", "--sweep-sizes", "1,4", "--no-plot"]
    assert 0 == bench.main(argv)
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| 1 |") or line.startswith("| 4 |")]
    assert 2 == len(rows)
    assert all(line.count("(") == 6 for line in rows)     # 2 talk cvs x 3 targets
    assert "lowest ours / progressive:" in out


def test_worst_window_sees_a_window_across_the_night():
    from benchmarks.callcentre.simulation import worst_window

    live = np.zeros(3 * 1440)
    abandoned = np.zeros_like(live)
    live[:480] = 10                      # day 1: 4800 answers, the last hour hot
    abandoned[420:480] = 1
    live[1440:1920] = 10                 # day 2: clean
    assert worst_window(live, abandoned, 60) == pytest.approx(0.1)
    day = worst_window(live, abandoned, 1440)
    assert day == pytest.approx(60 / 4800, rel=0.2)
    assert day > 60 / 9600                # a window across the night holds less than two days
