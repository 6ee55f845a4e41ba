import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pacing.poisson_binomial import add_bernoulli, nonnegative_lumped

probs = st.floats(0.0, 1.0, allow_nan=False)


def brute_force(base: int, supply: np.ndarray, demand: np.ndarray, k: int) -> float:
    """P(base + sum(demand) - sum(supply) >= 0) by enumerating every outcome."""
    total = 0.0
    for bits in itertools.product((0, 1), repeat=supply.shape[0] + demand.shape[0]):
        pr = 1.0
        for p, b in zip(np.concatenate([supply[:, k], demand[:, k]]), bits, strict=True):
            pr *= p if b else 1.0 - p
        if base + sum(bits[supply.shape[0]:]) - sum(bits[:supply.shape[0]]) >= 0:
            total += pr
    return total


@settings(max_examples=60, deadline=None)
@given(st.integers(-4, 3), st.integers(0, 4), st.integers(0, 4), st.data())
def test_lumped_distribution_matches_enumeration(base, n_supply, n_demand, data):
    k = 3
    supply = np.array(data.draw(st.lists(st.lists(probs, min_size=k, max_size=k),
                                         min_size=n_supply, max_size=n_supply))).reshape(n_supply, k)
    demand = np.array(data.draw(st.lists(st.lists(probs, min_size=k, max_size=k),
                                         min_size=n_demand, max_size=n_demand))).reshape(n_demand, k)
    pmf = nonnegative_lumped(base, supply, demand)
    assert np.allclose(pmf.sum(axis=1), 1.0)
    assert (pmf >= -1e-12).all()
    for col in range(k):
        assert abs(pmf[col, -1] - brute_force(base, supply, demand, col)) < 1e-6


@settings(max_examples=60, deadline=None)
@given(st.integers(-5, 0), st.lists(probs, min_size=1, max_size=6), probs)
def test_adding_a_call_never_lowers_the_chance_of_running_out(base, agents, p):
    # Demand only adds: one more call can only make "no agent left" likelier.
    supply = np.array(agents)[:, None]
    pmf = nonnegative_lumped(base, supply, np.zeros((0, 1)))
    more = add_bernoulli(pmf, np.array([p]))
    assert more[0, -1] >= pmf[0, -1] - 1e-12
    assert np.isclose(more.sum(), 1.0)


def test_certain_agents_and_calls_give_certain_answers():
    two_free = np.ones((2, 1))
    one_call = np.ones((1, 1))
    assert nonnegative_lumped(0, two_free, one_call)[0, -1] == 0.0     # 1 call, 2 agents: covered
    assert nonnegative_lumped(2, two_free, one_call)[0, -1] == 1.0     # 3 wanting, 2 agents
