"""The throughput benchmark's pure parts: the rate policy and the p99 read from histogram buckets."""

from __future__ import annotations

import gc

from hypothesis import given
from hypothesis import strategies as st

from benchmarks.engine_throughput import GcWatch, RatePolicy, histogram_p99
from pacing import CampaignSnapshot


def _snap(now_s: float, lines_free: int = 10_000) -> CampaignSnapshot:
    return CampaignSnapshot(now_s=now_s, ready_agents=0, lines_free=lines_free)


@given(rate=st.floats(1, 500), gaps=st.lists(st.floats(0.001, 0.5), min_size=1, max_size=200))
def test_rate_policy_launches_the_rate_within_one_call(rate: float, gaps: list[float]) -> None:
    policy = RatePolicy(rate)
    now = 1_000.0
    launched = policy.decide(_snap(now)).launch
    for gap in gaps:
        now += gap
        launched += policy.decide(_snap(now)).launch
    assert abs(launched - rate * (now - 1_000.0)) <= 1.0


@given(lines=st.integers(0, 20))
def test_rate_policy_never_exceeds_free_lines(lines: int) -> None:
    policy = RatePolicy(1_000.0)
    policy.decide(_snap(0.0, lines))
    assert policy.decide(_snap(1.0, lines)).launch <= lines


def test_histogram_p99_is_the_first_bucket_holding_99_percent() -> None:
    cumulative = [(0.001, 50.0), (0.005, 98.0), (0.01, 99.0), (0.05, 100.0), (float("inf"), 100.0)]
    assert 0.01 == histogram_p99(cumulative)
    assert 0.0 == histogram_p99([(0.001, 0.0), (float("inf"), 0.0)])


def test_gc_watch_counts_each_generation_and_the_longest_run() -> None:
    with GcWatch() as watch:
        gc.collect(0)
        gc.collect(2)
    after = list(watch.runs)
    gc.collect()  # after the block: not counted
    assert watch.runs == after
    assert after[0] >= 1 and after[2] >= 1 and watch.longest_s > 0
    assert gc.callbacks.count(watch._callback) == 0
