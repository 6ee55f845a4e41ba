"""Every rolling window under the cap by count (issue 12 item 3): the room, its Poisson allowance,
the forecast's bias and the guard in the policy."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacing import DialMode, InvalidParameter, PredictiveSettings
from pacing.budget import ForecastBias, risk_allowance, window_room
from tests.pacing.test_pacing_iii import roomy
from tests.pacing.test_policies import busy_floor, feed_answers, trained

suffix_lists = st.lists(st.tuples(st.floats(0.0, 5000.0), st.integers(0, 500), st.integers(0, 40)),
                        max_size=20).map(lambda xs: sorted(xs))


def _ahead(window_s: float, span_s: float, per_s: float, horizon_s: float) -> float:
    return max(min(window_s - span_s, 3600.0) - horizon_s, 0.0) * per_s


@settings(max_examples=200, deadline=None)
@given(suffixes=suffix_lists, cap=st.sampled_from([0.01, 0.03, 0.1]), per_s=st.floats(0.0, 1.0),
       horizon_s=st.floats(0.0, 60.0))
def test_the_room_fits_in_every_window_and_one_more_does_not(suffixes, cap, per_s, horizon_s):
    room = window_room(suffixes, 3600.0, cap, per_s, horizon_s)
    windows = [(0.0, 0, 0), *suffixes]

    def fits(k: float) -> bool:
        return all(ab + k <= cap * (live + _ahead(3600.0, span, per_s, horizon_s) + k) + 1e-9
                   for span, live, ab in windows)

    whole = math.floor(room + 1e-9)  # a room of 3 computed as 2.9999999999999996 is 3
    if room >= 0.0:
        assert fits(whole)
    assert not fits(whole + 1)


@settings(max_examples=100, deadline=None)
@given(suffixes=suffix_lists.filter(bool), extra=st.integers(1, 10), per_s=st.floats(0.0, 1.0))
def test_more_abandons_never_make_more_room(suffixes, extra, per_s):
    span, live, ab = suffixes[-1]
    worse = [*suffixes[:-1], (span, live, ab + extra)]
    more_live = [*suffixes[:-1], (span, live + extra, ab)]
    base = window_room(suffixes, 3600.0, 0.03, per_s, 40.0)
    assert window_room(worse, 3600.0, 0.03, per_s, 40.0) <= base
    assert window_room(more_live, 3600.0, 0.03, per_s, 40.0) >= base


def test_future_answers_count_only_for_the_next_hour_and_not_over_the_horizon():
    # A 24-hour window: the part of it that stays for a day gets at most an hour of answers.
    one_day = window_room([(600.0, 100.0, 3.0)], 86_400.0, 0.03, 0.1, 40.0)
    assert one_day == pytest.approx((0.03 * (100.0 + (3600.0 - 40.0) * 0.1) - 3.0) / 0.97)
    # The window starting now is empty: only the future floor can hold an abandon.
    assert window_room([], 3600.0, 0.03, 0.0, 40.0) == 0.0


def _poisson_tail(mu: float, k: int) -> float:
    term = cdf = math.exp(-mu)
    for i in range(1, k + 1):
        term *= mu / i
        cdf += term
    return 1.0 - cdf


@settings(max_examples=200, deadline=None)
@given(room=st.floats(-5.0, 150.0), risk=st.sampled_from([0.001, 0.002, 0.01, 0.05, 0.2]))
def test_the_allowance_is_the_poisson_mean_at_the_risk(room, risk):
    mu = risk_allowance(room, risk)
    if room < 0.0:
        assert mu == 0.0
        return
    k = math.floor(room)
    assert _poisson_tail(mu, k) <= risk * (1 + 1e-6)
    assert _poisson_tail(mu * 1.01 + 1e-9, k) > risk
    assert risk_allowance(room + 1.0, risk) > mu


def test_large_rooms_use_the_normal_tail_and_stay_monotone():
    values = [risk_allowance(k, 0.002) for k in (150, 199, 200, 201, 202, 500, 5000)]
    assert values == sorted(values)
    assert all(v < k for v, k in zip(values, (150, 199, 200, 201, 202, 500, 5000), strict=True))


@settings(max_examples=100, deadline=None)
@given(events=st.lists(st.tuples(st.floats(0.0, 100.0), st.booleans(), st.floats(0.0, 3.0)), max_size=50))
def test_the_bias_ratio_stays_between_one_and_its_ceiling(events):
    bias = ForecastBias(memory_s=600.0, ceiling=4.0)
    t = 0.0
    for dt, abandon, expected in events:
        t += dt
        if abandon:
            bias.seen(t)
        else:
            bias.expected(t, expected)
        assert 1.0 <= bias.ratio(t) <= 4.0


def test_the_bias_rises_with_unforeseen_abandons_and_fades():
    bias = ForecastBias(memory_s=600.0)
    assert bias.ratio(0.0) == 1.0
    bias.expected(0.0, 1.0)
    for t in range(4):
        bias.seen(float(t))
    high = bias.ratio(5.0)
    assert high == pytest.approx(6.0 / 3.0, rel=0.02)
    assert bias.ratio(5000.0) < 1.01


def test_an_hour_with_no_room_left_dials_only_what_ready_agents_cover():
    open_hour, full_hour = (roomy(burst_factor=None, every_hour=True) for _ in range(2))
    # The 30-day window is clean (5000 answers); the hour ending in 10 s holds 3% exactly and
    # keeps it: no answer can join it before it ends.
    feed_answers(full_hour, 4000.0, 200, 6)
    feed_answers(open_hour, 4000.0, 200, 0)
    now = 7590.0
    assert full_hour.window_allowance(now, 20) < 0.01 < open_hour.window_allowance(now, 20)
    busy, free = full_hour.decide(busy_floor(now, 6)), open_hour.decide(busy_floor(now, 6))
    assert DialMode.PREDICTIVE == busy.mode == free.mode
    assert busy.launch <= 6 - 2 < free.launch      # two calls ringing: four ready agents are certain
    # Without the hourly guard (the default) only the profile's window binds, and it has room;
    # the supervisor's worst_hour_cap holds the hour by its own, stricter bound (test_exposure).
    off, supervised = roomy(), roomy(worst_hour_cap=True)
    for policy in (off, supervised):
        feed_answers(policy, 4000.0, 200, 6)
    assert off.window_allowance(now, 20) > 1.0
    assert 0 == supervised.hour_exposure(now) < off.decide(busy_floor(now, 6)).launch - 6 + 2
    assert supervised.decide(busy_floor(now, 6)).launch <= 6 - 2


def test_the_guard_can_be_switched_off_and_its_settings_are_checked():
    assert math.isinf(roomy(window_risk=None).window_allowance(400.0, 20))
    for bad in ({"window_risk": 0.0}, {"window_risk": 1.0}, {"window_live_floor": 1.5}):
        with pytest.raises(InvalidParameter):
            PredictiveSettings(**bad)


def test_an_announced_end_leaves_the_window_only_the_answers_before_it():
    # A run ending soon: the abandons of calls launched now cannot be diluted by answers
    # after its end (dialer demo's short runs ended at 3.2-3.9% without this).
    import dataclasses

    from pacing import CampaignSnapshot

    policy = trained(burst_factor=None)
    feed_answers(policy, 301.0, 200, 6)  # 3% exactly: no room left unless answers come
    now = 700.0
    endless, ending = policy.window_allowance(now, 20), policy.window_allowance(now, 20, 0.0)
    assert ending < 0.01 < 0.5 < endless
    assert policy.window_allowance(now, 20, 1e9) == endless  # an end past the hour changes nothing
    free = policy.decide(busy_floor(now, 6))
    last = policy.decide(dataclasses.replace(busy_floor(now, 6), dials_for_s=0.0))
    assert DialMode.PREDICTIVE == free.mode == last.mode
    assert last.launch < free.launch, (last, free)
    assert policy.last_forecast is not None and policy.last_forecast.expected_abandons <= ending + 1e-9
    with pytest.raises(InvalidParameter):
        CampaignSnapshot(now_s=now, ready_agents=1, dials_for_s=-1.0)
