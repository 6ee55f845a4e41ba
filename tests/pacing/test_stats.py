import math

import numpy as np
import pytest

from pacing import CallOutcomeKind, CallStatistics, DecayingLogNormal, StatisticsSettings


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
