"""Pacing III (issue 12): never worse than progressive, no bursts, every window, warm start."""

from hypothesis import given, settings
from hypothesis import strategies as st

from pacing import (
    UK,
    US,
    AbandonTracker,
    CallObservation,
    CallOutcomeKind,
    CampaignSnapshot,
    DialMode,
    PredictivePolicy,
    PredictiveSettings,
)
from pacing.budget import LaunchRate, suffix_allowance
from tests.pacing.test_policies import busy_floor, feed_answers, trained


def roomy(**kwargs) -> PredictivePolicy:
    """Trained, with enough clean live answers in the window that two abandons fit under any cap here."""
    policy = trained(**kwargs)
    feed_answers(policy, 301.0, 5000, 0)
    return policy


@settings(max_examples=60, deadline=None)
@given(ready=st.integers(1, 30),
       talking=st.lists(st.floats(0.0, 600.0), max_size=150).map(tuple),
       wrapping=st.lists(st.floats(0.0, 30.0), max_size=10).map(tuple),
       target=st.sampled_from([0.002, 0.01, 0.03]))
def test_a_ready_agent_with_nothing_ringing_always_gets_a_call(ready, talking, wrapping, target):
    """Nothing ringing, nobody waiting: a call per ready agent cannot be abandoned, so it is free."""
    policy = roomy(target=target)
    snap = CampaignSnapshot(now_s=360.0, ready_agents=ready, talking_elapsed_s=talking,
                            wrapping_elapsed_s=wrapping)
    decision = policy.decide(snap)
    assert DialMode.PREDICTIVE == decision.mode
    assert decision.launch >= ready


def test_the_forecast_charges_nothing_for_calls_the_ready_agents_cover():
    for ready in (1, 3, 12):   # the exact forecast (small team) and the normal one
        policy = roomy(target=0.0005, burst_factor=None)
        snap = CampaignSnapshot(now_s=360.0, ready_agents=ready,
                                talking_elapsed_s=tuple(30.0 + i for i in range(ready)))
        decision = policy.decide(snap)
        assert DialMode.PREDICTIVE == decision.mode
        assert decision.launch >= ready
        if decision.launch == ready:
            assert policy.last_forecast.expected_abandons < 1e-3


def wrapping_floor(t: float) -> CampaignSnapshot:
    """20 agents, nobody ready, eight finishing their wrap within seconds (the end of a fallback)."""
    return CampaignSnapshot(now_s=300.0 + t, ready_agents=0,
                            talking_elapsed_s=tuple(20.0 + 5 * i for i in range(12)),
                            wrapping_elapsed_s=tuple(4.0 + 0.5 * i + t for i in range(8)))


def test_leaving_fallback_resumes_at_the_steady_rate_not_a_burst():
    limited, free = trained(), trained(burst_factor=None)
    for policy in (limited, free):
        policy.in_fallback = True          # the measured rate (0%) lets it out at once
    first = limited.decide(wrapping_floor(0.0))
    unlimited = free.decide(wrapping_floor(0.0))
    assert not first.fallback
    assert unlimited.launch > 10           # the forecast alone would release a burst
    assert first.launch == 0               # the bucket starts empty after a fallback
    later = [limited.decide(wrapping_floor(t)).launch for t in (1.0, 2.0, 3.0)]
    steady = 20 / ((limited.stats.talk_time.mean_s + limited.stats.wrap_time.mean_s) * limited.stats.p_live)
    assert 0 < sum(later) <= 2 * steady * 3.0


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(0.0, 5.0), st.integers(0, 50)), min_size=1, max_size=60),
       steady=st.floats(0.05, 20.0))
def test_launch_rate_never_exceeds_its_bucket(steps, steady):
    bucket = LaunchRate(factor=2.0, depth_s=5.0)
    t = 0.0
    times = []
    for gap, wanted in steps:
        t += gap
        n = bucket.allow(t, steady, wanted)
        assert 0 <= n <= wanted
        times.append((t, n))
    rate = 2.0 * steady
    depth = max(1.0, rate * 5.0)
    for i, (t0, _) in enumerate(times):
        for t1, _ in times[i:]:
            sent = sum(n for t, n in times if t0 <= t <= t1)
            assert sent <= depth + rate * (t1 - t0) + 1e-9


def test_suffixes_end_in_the_whole_window():
    tracker = AbandonTracker(86_400.0)
    for i in range(500):
        tracker.record_answer(i * 60.0, abandoned=i % 40 == 0)
    parts = tracker.suffixes(500 * 60.0)
    counts = tracker.counts(500 * 60.0)
    assert (counts.live_answers, counts.abandoned) == parts[-1][1:]
    assert [p[0] for p in parts] == sorted(p[0] for p in parts)
    assert [p[1] for p in parts] == sorted(p[1] for p in parts)


def test_the_surplus_about_to_expire_cannot_be_spent():
    """Quiet morning, hot afternoon: the night's closure leaves the afternoon in tomorrow's window."""
    quiet_then_hot = [(3600.0, 300.0, 12.0), (7200.0, 600.0, 24.0), (28_800.0, 2000.0, 26.0)]
    whole = (0.027 * (2000.0 + 600.0) - 26.0) / 600.0
    later = suffix_allowance(quiet_then_hot, 86_400.0, 3600.0, 0.027, 600.0)
    assert later is not None and later < 0.6 * whole
    assert suffix_allowance([(86_000.0, 10.0, 0.0)], 86_400.0, 3600.0, 0.027, 600.0) is None


def test_no_unreserved_call_while_one_more_abandon_would_break_the_cap():
    young = trained()                       # 90 live answers, none abandoned: 2.7 abandons fit
    assert young.abandon_budget(310.0, 20) > 0.0
    feed_answers(young, 301.0, 10, 2)       # 100 answers, 2 abandoned: one more is over 3%
    assert 0.0 == young.abandon_budget(310.0, 20)
    # Nothing unreserved goes out, and the two ready agents stay free for the two calls ringing.
    decision = young.decide(busy_floor(now_s=310.0, ready=2))
    assert (0, 0) == (decision.launch, decision.reserved)
    decision = young.decide(busy_floor(now_s=310.0, ready=5))
    assert (3, 3) == (decision.launch, decision.reserved)


def test_the_uk_budget_follows_the_part_of_the_window_that_stays():
    quiet, hot = trained(UK), trained(UK)
    # Same 24-hour counts (700 answers, 18 abandons), in a different order.
    feed_answers(quiet, 1_000.0, 400, 0)
    for policy, first, second in ((quiet, 0, 18), (hot, 18, 0)):
        if policy is hot:
            feed_answers(policy, 1_000.0, 400, first)
        feed_answers(policy, 20_000.0, 300, second)
    assert quiet.abandon_budget(21_000.0, 20) < hot.abandon_budget(21_000.0, 20)


def test_worst_hour_cap_holds_the_hour_and_is_off_by_default():
    plain, capped = trained(), trained(worst_hour_cap=True)
    for policy in (plain, capped):
        feed_answers(policy, 400.0, 2000, 0)
        feed_answers(policy, 5000.0, 400, 10)       # 2.5% in the last hour, 0.4% in the window
    assert plain.abandon_budget(5010.0, 20) > 0.0
    assert capped.abandon_budget(5010.0, 20) < 0.6 * plain.abandon_budget(5010.0, 20)
    for policy in (plain, capped):
        feed_answers(policy, 5020.0, 100, 6)        # the hour reaches 3.2%
    assert not plain.update_fallback(5030.0)
    assert capped.update_fallback(5030.0)


def cold(calls: int, talks: int, z: float = 1.64) -> PredictivePolicy:
    policy = PredictivePolicy(US, PredictiveSettings(cold_start_z=z))
    for i in range(calls):
        kind = CallOutcomeKind.CONNECTED if i % 10 < 3 else CallOutcomeKind.NO_ANSWER
        policy.observe_call(CallObservation(1.0 + i, kind, 8.0 if i % 10 < 3 else 25.0))
    for i in range(talks):
        policy.observe_talk(float(calls), 60.0 + 20.0 * (i % 7))
        policy.observe_wrap(float(calls), 8.0 + i % 5)
    return policy


def test_a_new_campaign_dials_predictively_after_tens_of_calls_with_a_cautious_forecast():
    # 160 calls, 48 live answers: the earliest a US campaign may risk an abandon is at 34
    # (one abandon in fewer is over 3%); the gate itself opens at 30 calls.
    snap = busy_floor(now_s=200.0, ready=3)
    young, trusting = cold(160, 12), cold(160, 12, z=0.0)
    decision = young.decide(snap)
    assert DialMode.PREDICTIVE == decision.mode and not decision.fallback
    trusting.decide(snap)
    assert young._tables is not None and trusting._tables is not None
    # More live answers per call and agents freeing later than the estimates say ...
    assert young._tables.g[-1] > trusting._tables.g[-1] * 1.1
    assert young._tables.f_talk[30, -1] < trusting._tables.f_talk[30, -1]
    # ... and the margin fades as the sample grows.
    old, old_trusting = cold(3000, 600), cold(3000, 600, z=0.0)
    old.decide(busy_floor(now_s=3100.0, ready=3))
    old_trusting.decide(busy_floor(now_s=3100.0, ready=3))
    assert old._tables is not None and old_trusting._tables is not None
    assert old._tables.g[-1] < old_trusting._tables.g[-1] * 1.05
