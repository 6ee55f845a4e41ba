import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacing import (
    UK,
    US,
    ZERO,
    CallObservation,
    CallOutcomeKind,
    CampaignSnapshot,
    DialMode,
    InvalidParameter,
    PredictivePolicy,
    PredictiveSettings,
    PreviewPolicy,
    ProgressivePolicy,
    PushPreviewPolicy,
    StatisticsSettings,
    policy_for,
)


def trained(profile=US, **kwargs) -> PredictivePolicy:
    """A policy past its minimum-history gate: 30% live answers, 120 s talk, 10 s wrap."""
    policy = PredictivePolicy(profile, PredictiveSettings(**kwargs))
    t = 0.0
    for i in range(300):
        t += 1.0
        kind = (CallOutcomeKind.CONNECTED if i % 10 < 3 else
                CallOutcomeKind.NO_ANSWER if i % 10 < 8 else CallOutcomeKind.BUSY)
        ring = {CallOutcomeKind.CONNECTED: 8.0, CallOutcomeKind.NO_ANSWER: 25.0}.get(kind, 3.0)
        policy.observe_call(CallObservation(t, kind, ring))
    for i in range(40):
        policy.observe_talk(t, 60.0 + 3.0 * i)
        policy.observe_wrap(t, 10.0)
    return policy


snapshots = st.builds(
    CampaignSnapshot,
    now_s=st.just(300.0),
    ready_agents=st.integers(0, 30),
    talking_elapsed_s=st.lists(st.floats(0.0, 900.0), max_size=60).map(tuple),
    wrapping_elapsed_s=st.lists(st.floats(0.0, 60.0), max_size=10).map(tuple),
    reserved_agents=st.integers(0, 5),
    ringing_ages_s=st.lists(st.floats(0.0, 30.0), max_size=60).map(tuple),
    reserved_ringing=st.integers(0, 5),
    customers_waiting=st.integers(0, 4),
    lines_free=st.integers(0, 200),
    progressive_contacts=st.integers(0, 10),
)

POLICY = trained()


@settings(max_examples=150, deadline=None)
@given(snapshots)
def test_predictive_never_launches_more_calls_than_lines_nor_reserves_more_than_ready(snapshot):
    decision = POLICY.decide(snapshot)
    assert 0 <= decision.reserved <= decision.launch <= snapshot.lines_free
    assert decision.reserved <= snapshot.ready_agents


@settings(max_examples=150, deadline=None)
@given(snapshots)
def test_predictive_unreserved_calls_respect_the_lines_per_agent_ceiling(snapshot):
    # Reserved calls (an agent waits for each) cannot abandon; only calls dialled ahead count.
    decision = POLICY.decide(snapshot)
    in_flight = len(snapshot.ringing_ages_s) + snapshot.reserved_ringing
    assert decision.launch == decision.reserved or in_flight + decision.launch <= 3.0 * snapshot.active_agents


@settings(max_examples=150, deadline=None)
@given(snapshots)
def test_progressive_never_exceeds_free_agents_and_reserves_each_call(snapshot):
    decision = ProgressivePolicy().decide(snapshot)
    assert decision.launch <= min(snapshot.ready_agents, snapshot.lines_free)
    assert decision.reserved == decision.launch


@settings(max_examples=100, deadline=None)
@given(snapshots, st.integers(0, 10), st.integers(0, 10))
def test_preview_places_calls_only_for_agents_who_accepted(snapshot, requests, accepted):
    snap = CampaignSnapshot(**{**{f: getattr(snapshot, f) for f in CampaignSnapshot.__dataclass_fields__},
                               "record_requests": requests, "records_accepted": accepted})
    for policy in (PreviewPolicy(), PushPreviewPolicy()):
        decision = policy.decide(snap)
        assert decision.launch == decision.reserved <= min(accepted, snap.lines_free)
    assert requests == PreviewPolicy().decide(snap).records_to_offer
    assert snap.ready_agents == PushPreviewPolicy().decide(snap).records_to_offer


def busy_floor(now_s=300.0, ready=2) -> CampaignSnapshot:
    """20 agents: a few ready, the rest in long calls, a few calls ringing."""
    return CampaignSnapshot(now_s=now_s, ready_agents=ready,
                            talking_elapsed_s=tuple(float(20 + 9 * i) for i in range(18 - ready)),
                            wrapping_elapsed_s=(3.0, 6.0), ringing_ages_s=(1.0, 4.0))


def progressive_floor(ready=2) -> CampaignSnapshot:
    """``busy_floor`` as a progressive campaign has it: the two calls ringing are reserved."""
    return dataclasses.replace(busy_floor(ready=ready), ringing_ages_s=(), reserved_ringing=2,
                               reserved_agents=2)


def test_predictive_dials_ahead_of_free_agents_once_trained():
    decision = trained().decide(busy_floor(ready=4))
    assert DialMode.PREDICTIVE == decision.mode
    assert decision.launch > 4
    assert not decision.fallback


def test_predictive_is_progressive_until_the_history_gate_is_passed():
    policy = PredictivePolicy(US, PredictiveSettings(statistics=StatisticsSettings(min_calls=500)))
    decision = policy.decide(progressive_floor())
    assert (True, 2, 2) == (decision.fallback, decision.launch, decision.reserved)


def test_zero_profile_is_always_progressive():
    policy = trained(ZERO)
    decision = policy.decide(progressive_floor())
    assert (DialMode.PROGRESSIVE, 2, 2) == (decision.mode, decision.launch, decision.reserved)
    assert DialMode.PROGRESSIVE == policy_for(DialMode.PREDICTIVE, ZERO).mode


def feed_answers(policy, t0, live, abandoned):
    for i in range(live):
        kind = CallOutcomeKind.ABANDONED if i < abandoned else CallOutcomeKind.CONNECTED
        policy.observe_call(CallObservation(t0 + i * 0.01, kind, 8.0))


def test_controller_lowers_dialling_as_the_measured_rate_nears_the_cap():
    launches, budgets, reserved = [], [], []
    for abandoned in (0, 6, 10, 12, 14):  # of 490 live answers: 0% ... 2.86%
        policy = trained()
        feed_answers(policy, 301.0, 400, abandoned)
        decision = policy.decide(busy_floor(now_s=320.0, ready=4))
        launches.append(decision.launch)
        reserved.append(decision.reserved)
        # At 14 of 490 one more abandon would be over the cap: no budget at all (Pacing III).
        budgets.append(policy.abandon_budget(320.0, busy_floor(ready=4).active_agents))
    assert 0.0 == budgets[-1]
    assert launches == sorted(launches, reverse=True)
    assert budgets == sorted(budgets, reverse=True)
    # Predictive, then a reserved call for each ready agent the two calls ringing do not need.
    assert (0, 2) == (reserved[0], reserved[-1])
    assert budgets[0] > 1.3 * budgets[-2] > 0.0


def test_budget_is_spent_at_the_cap():
    policy = trained()
    feed_answers(policy, 301.0, 400, 15)  # 15 / 490 > 3%
    assert 0.0 == policy.abandon_budget(320.0, 20)


def test_no_budget_left_means_reserved_calls_for_ready_agents_only():
    policy = trained()
    feed_answers(policy, 301.0, 400, 14)  # 14 / 490 = 2.86%: over the aim, under the cap
    policy.abandon_budget = lambda now_s, active: 0.0
    # Two unreserved calls ring: two of the three ready agents stay free for them.
    decision = policy.decide(busy_floor(now_s=320.0, ready=3))
    assert (False, 1, 1) == (decision.fallback, decision.launch, decision.reserved)
    # With nothing in flight every ready agent gets its own call; with more in flight, none.
    decision = policy.decide(progressive_floor(ready=3))
    assert (False, 3, 3) == (decision.fallback, decision.launch, decision.reserved)
    waiting = dataclasses.replace(busy_floor(now_s=320.0, ready=3), customers_waiting=1)
    assert (0, 0) == (policy.decide(waiting).launch, policy.decide(waiting).reserved)


def test_fallback_at_the_cap_and_recovery_below_it():
    policy = trained()  # 90 live answers already seen
    feed_answers(policy, 301.0, 100, 6)  # 6 / 190 = 3.2%: over the cap
    # Falling back, the two ready agents stay free for the two unreserved calls ringing ...
    decision = policy.decide(busy_floor(now_s=310.0))
    assert (True, DialMode.PROGRESSIVE, 0, 0) == (decision.fallback, decision.mode, decision.launch,
                                                   decision.reserved)
    # ... and get a reserved call each once those calls are over.
    decision = policy.decide(dataclasses.replace(busy_floor(now_s=310.0), ringing_ages_s=()))
    assert (True, DialMode.PROGRESSIVE, 2, 2) == (decision.fallback, decision.mode, decision.launch,
                                                   decision.reserved)
    feed_answers(policy, 320.0, 10, 0)  # 6 / 200 = 3.0%: still at the cap
    assert policy.decide(busy_floor(now_s=330.0)).fallback
    # 6 / 330 = 1.8%: under 95% of the cap, recovered, and one more abandon fits under it
    # (at 6 / 230 it would not: 7 / 231 is over 3%, so no unreserved call yet)
    feed_answers(policy, 340.0, 130, 0)
    decision = policy.decide(busy_floor(now_s=350.0))
    assert (False, DialMode.PREDICTIVE) == (decision.fallback, decision.mode)


def test_abandoned_contacts_are_dialled_only_with_a_reserved_agent():
    snap = CampaignSnapshot(**{**{f: getattr(busy_floor(), f) for f in CampaignSnapshot.__dataclass_fields__},
                               "progressive_contacts": 5})
    decision = trained().decide(snap)
    assert 2 == decision.reserved  # two ready agents, five such contacts due
    assert decision.launch >= decision.reserved


def test_small_team_is_protected():
    small = CampaignSnapshot(now_s=300.0, ready_agents=1, talking_elapsed_s=(30.0, 40.0, 50.0, 60.0))
    protected = trained().decide(small)
    unprotected = trained(small_team_agents=0).decide(small)
    assert protected.launch <= unprotected.launch
    assert protected.launch <= 2.0 * small.active_agents


def test_uk_with_false_positives_over_the_budget_stays_progressive():
    policy = trained(UK, amd_false_positive_rate=0.05)
    assert policy.decide(busy_floor()).fallback


def test_too_many_customers_waiting_stops_new_unreserved_calls():
    snap = CampaignSnapshot(now_s=300.0, ready_agents=0, talking_elapsed_s=(500.0,) * 10, customers_waiting=2)
    assert 0 == trained().decide(snap).launch


@pytest.mark.parametrize(("kwargs", "field"), [({"target": 1.5}, "target"),
                                               ({"max_lines_per_agent": 0.5}, "max_lines_per_agent"),
                                               ({"recover_fraction": 0.0}, "recover_fraction"),
                                               ({"hour_ceiling": 1.0}, "hour_ceiling")])
def test_bad_settings_name_the_field(kwargs, field):
    with pytest.raises(InvalidParameter) as info:
        PredictiveSettings(**kwargs)
    assert field == info.value.field


def test_negative_snapshot_counts_are_refused():
    with pytest.raises(InvalidParameter) as info:
        CampaignSnapshot(now_s=0.0, ready_agents=-1)
    assert "ready_agents" == info.value.field


def test_calibration_relaxes_a_cautious_forecast_and_stays_bounded():
    policy = trained()
    factors = []
    for step in range(12):  # six hours of half-hour steps without a single abandon
        t = 400.0 + 1800.0 * step
        feed_answers(policy, t, 60, 0)
        policy.decide(busy_floor(now_s=t + 1.0))
        factors.append(policy.calibration)
    assert factors == sorted(factors)
    assert 1.0 < factors[1] < 6.0
    assert 6.0 == factors[-1]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 14), st.integers(0, 14), st.integers(3, 8))
def test_more_abandons_measured_never_means_more_dialling(a, b, ready):
    # The controller near the cap: of two campaigns alike but for the abandons measured, the
    # one closer to the cap never launches more (nor gets a larger budget).
    low, high = sorted((a, b))
    outcomes = []
    for abandoned in (low, high):
        policy = trained()
        feed_answers(policy, 301.0, 400, abandoned)
        decision = policy.decide(busy_floor(now_s=320.0, ready=ready))
        outcomes.append((decision.launch, policy.last_forecast.p_allow if policy.last_forecast else 0.0))
    assert outcomes[1][0] <= outcomes[0][0]
    assert outcomes[1][1] <= outcomes[0][1]


small_teams = st.builds(
    CampaignSnapshot,
    now_s=st.just(300.0),
    ready_agents=st.integers(0, 4),
    talking_elapsed_s=st.lists(st.floats(0.0, 900.0), max_size=5).map(tuple),
    wrapping_elapsed_s=st.lists(st.floats(0.0, 60.0), max_size=3).map(tuple),
    ringing_ages_s=st.lists(st.floats(0.0, 30.0), max_size=12).map(tuple),
    customers_waiting=st.integers(0, 2),
    lines_free=st.integers(0, 40),
)


@settings(max_examples=150, deadline=None)
@given(small_teams)
def test_small_team_exact_forecast_keeps_the_invariants(snapshot):
    decision = POLICY.decide(snapshot)
    in_flight = len(snapshot.ringing_ages_s) + snapshot.reserved_ringing
    assert 0 <= decision.reserved <= decision.launch <= snapshot.lines_free
    assert decision.launch == decision.reserved or in_flight + decision.launch <= 2.0 * snapshot.active_agents
    if decision.launch > decision.reserved:
        # Calls dialled ahead never outnumber the agents expected free (small-team rule).
        assert POLICY.last_forecast.expected_live <= (
            snapshot.ready_agents + len(snapshot.talking_elapsed_s) + len(snapshot.wrapping_elapsed_s)
            + snapshot.customers_waiting + 1)


def test_small_team_exact_and_normal_forecasts_agree_on_an_easy_floor():
    # 4 agents early in their calls, nobody ready: both forecasts hold back; 4 ready and
    # nothing ringing: both give every ready agent a call, and the exact one (no variance
    # allowance for small counts) dials ahead.
    exact, normal = trained(), trained(exact_max_terms=-1)
    busy = CampaignSnapshot(now_s=300.0, ready_agents=0, talking_elapsed_s=(5.0, 6.0, 7.0, 8.0))
    idle = CampaignSnapshot(now_s=300.0, ready_agents=4, talking_elapsed_s=(100.0,))
    assert 0 == exact.decide(busy).launch == normal.decide(busy).launch
    assert exact.decide(idle).launch > 4
    assert normal.decide(idle).launch >= 4


def test_a_bad_last_hour_eats_the_budget_even_with_a_good_window():
    # 30-day window at 0.75%, last hour at 4.5% (1.5 x cap): a burst Grafana would show.
    budgets = []
    for ceiling in (None, 1.5):
        policy = trained(hour_ceiling=ceiling)
        for i in range(2000):
            policy.observe_call(CallObservation(400.0 + i, CallOutcomeKind.CONNECTED, 8.0))
        feed_answers(policy, 6000.0, 400, 18)
        budgets.append(policy.abandon_budget(6010.0, 20))
    assert budgets[0] > 0.0
    assert budgets[1] == 0.0
