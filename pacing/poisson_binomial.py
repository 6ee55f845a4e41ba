"""Exact abandon probabilities from sums of independent Bernoulli variables.

Why: with a handful of agents free within the horizon and a few calls about to answer,
"answers before this one outnumber the free agents" is a question about small counts, and
the normal approximation of a difference of small Bernoulli sums is poor exactly there (it
smears a probability of 0 or 1 over the neighbouring integers). The exact distribution of
``D - S`` (a Poisson-binomial difference) costs one vectorised update per agent and per
ringing call, which is cheap for the teams where it matters.

Only ``P(D - S >= 0)`` is ever needed, and demand only ever adds, so after the agents are
subtracted every value at or above 0 is lumped in one absorbing bin: the arrays stay as
short as the number of agents.
"""

from __future__ import annotations

import numpy as np

# Bernoulli terms with every probability below this are left out (they cannot move a
# probability by more than about this much each).
_NEGLIGIBLE = 1e-6


def nonnegative_lumped(base: int, supply: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Distribution of ``min(base + sum(demand) - sum(supply), 0)`` per column.

    Args:
        base: the certain part (customers waiting minus agents free for sure).
        supply: ``(agents, K)`` probabilities that each agent is free, per checkpoint.
        demand: ``(calls, K)`` probabilities that each call has become a live answer.

    Returns:
        ``(K, L)`` probabilities of the values ``-(L-1) .. 0``; the last column holds every
        value at or above 0.
    """
    k = supply.shape[1] if supply.ndim == 2 else demand.shape[1]
    supply = supply[supply.max(axis=1) > _NEGLIGIBLE] if supply.size else supply.reshape(0, k)
    demand = demand[demand.max(axis=1) > _NEGLIGIBLE] if demand.size else demand.reshape(0, k)
    a = supply.shape[0]
    # Stage 1: subtract the agents over the values base - a .. base (index i is base - a + i).
    pmf = np.zeros((k, a + 1))
    pmf[:, a] = 1.0
    for p in supply:
        pc = p[:, None]
        shifted = pmf[:, 1:] * pc
        pmf *= 1.0 - pc
        pmf[:, :-1] += shifted
    # Re-base onto the values lo .. 0, lumping everything at or above 0.
    lo = min(base - a, 0)
    out = np.zeros((k, 1 - lo))
    values = base - a + np.arange(a + 1)
    neg = values < 0
    out[:, values[neg] - lo] = pmf[:, neg]
    out[:, -1] += pmf[:, ~neg].sum(axis=1)
    # Stage 2: add the calls; the top bin absorbs.
    for p in demand:
        out = add_bernoulli(out, p)
    return out


def add_bernoulli(pmf: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Add one Bernoulli(``p`` per row) to a lumped distribution (see :func:`nonnegative_lumped`)."""
    pc = p[:, None]
    out = pmf * (1.0 - pc)
    out[:, 1:] += pmf[:, :-1] * pc
    out[:, -1] += pmf[:, -1] * p
    return out
