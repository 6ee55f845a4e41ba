import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacing import CallOutcomeKind, CallStatistics, DecayingLogNormal, StatisticsSettings
from pacing._normal import lognormal_cdf


def test_lognormal_fit_recovers_the_mean():
    rng = np.random.default_rng(3)
    sigma2 = math.log1p(0.8 ** 2)
    draws = rng.lognormal(math.log(120) - sigma2 / 2, math.sqrt(sigma2), 4000)
    fit = DecayingLogNormal(memory_s=1e9, prior_mean_s=30.0)
    for i, x in enumerate(draws):
        fit.add(float(i), float(x))
    assert 120.0 == pytest.approx(fit.mean_s, rel=0.05)


def test_live_share_follows_a_drift_within_its_memory():
    stats = CallStatistics(StatisticsSettings(outcome_memory_s=600.0))
    rng = np.random.default_rng(4)
    t = 0.0
    for p in (0.4, 0.15):
        for _ in range(3000):
            t += 1.0
            kind = CallOutcomeKind.CONNECTED if rng.random() < p else CallOutcomeKind.NO_ANSWER
            stats.observe_call(t, kind, 8.0)
        assert p == pytest.approx(stats.p_live, abs=0.05)


def test_minimum_history_gate():
    stats = CallStatistics(StatisticsSettings(min_calls=10, min_conversations=2))
    for i in range(10):
        stats.observe_call(float(i), CallOutcomeKind.BUSY, 3.0)
    stats.observe_talk(10.0, 100.0)
    assert not stats.ready()
    stats.observe_talk(11.0, 100.0)
    assert stats.ready()


def test_histogram_follows_a_mixture_the_lognormal_fit_misses():
    # 10% of "talks" are 10 s machines, the rest people: the median sits among the people.
    rng = np.random.default_rng(5)
    sigma2 = math.log1p(0.8 ** 2)
    people = rng.lognormal(math.log(120) - sigma2 / 2, math.sqrt(sigma2), 3600)
    draws = np.where(rng.random(people.size) < 0.1, 10.0, people)
    stats = CallStatistics(StatisticsSettings(duration_memory_s=1e9))
    for i, x in enumerate(draws):
        stats.observe_talk(float(i), float(x))
    x = np.array([9.0, 11.0, 60.0, 120.0, 300.0])
    truth = np.array([(draws <= v).mean() for v in x])
    emp = stats.talk_shape.cdf(x)
    fit = lognormal_cdf(x, stats.talk_time.mu, stats.talk_time.sigma)
    assert np.abs(emp - truth).max() < 0.03
    assert np.abs(emp - truth).max() < np.abs(fit - truth).max() / 2
    assert emp[1] - emp[0] > 0.08          # the step at 10 s is there


def test_histogram_forgets_an_old_regime():
    stats = CallStatistics(StatisticsSettings(duration_memory_s=600.0))
    for i in range(2000):
        stats.observe_talk(float(i), 30.0)
    for i in range(2000, 8000):
        stats.observe_talk(float(i), 300.0)
    assert stats.talk_shape.cdf(np.array([100.0]))[0] < 0.01


def test_histogram_without_data_is_the_lognormal_prior():
    stats = CallStatistics()
    x = np.array([5.0, 120.0, 1000.0])
    assert np.allclose(stats.talk_shape.cdf(x), lognormal_cdf(x, stats.talk_time.mu, stats.talk_time.sigma))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 20000.0), min_size=0, max_size=50), st.lists(st.floats(0.0, 20000.0),
                                                                             min_size=2, max_size=20))
def test_histogram_cdf_is_a_cdf(durations, xs):
    stats = CallStatistics()
    for i, d in enumerate(durations):
        stats.observe_talk(float(i), d)
    x = np.sort(np.array(xs))
    f = stats.talk_shape.cdf(x)
    assert ((f >= 0.0) & (f <= 1.0 + 1e-12)).all()
    assert (np.diff(f) >= -1e-12).all()
