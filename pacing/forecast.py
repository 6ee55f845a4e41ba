"""The forecast's arithmetic: expected abandons for ``n`` new calls, exact or normal.

Why apart from :mod:`pacing.predictive`: the policy decides *what* to forecast (supply,
demand, the budget); these two functions say how an arrival is priced, and both keep the
rule that matters most for small teams: an answer arriving in ``(t_{k-1}, t_k]`` had not
answered by ``t_{k-1}``, so its own answer is never among the answers ahead of it, and an
answer is never lost while fewer answers than ready agents are ahead of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pacing._normal import norm_cdf
from pacing.poisson_binomial import add_bernoulli, nonnegative_lumped


@dataclass(frozen=True, slots=True)
class NormalForecast:
    """The forecast's normal approximation of the answers ahead and the agents free.

    ``shares``/``share_vars``: per step, the ringing arrivals' own (mean, variance) share of
    the answers counted before them, left out of what they see ahead; ``ready``: agents
    free for certain (an answer is lost only if at least that many answers are ahead of it);
    ``others``: calls ringing plus customers waiting (the most answers ahead besides new calls).
    """

    d_mean: np.ndarray
    d_var: np.ndarray
    s_mean: np.ndarray
    s_var: np.ndarray
    g: np.ndarray
    shares: np.ndarray
    share_vars: np.ndarray
    ready: int
    others: int = 0

    def abandons(self, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected abandons and live answers over the horizon for each count of new calls ``n``.

        A live answer arriving in ``(t_{k-1}, t_k]`` is lost when the other answers by
        ``t_{k-1}`` plus itself outnumber the agents free by ``t_k + limit`` (continuity
        corrected). Ringing calls' arrivals see the others without themselves; each new
        call's arrival sees the other ``n - 1`` new calls.
        """
        nn = n[:, None]
        g = self.g
        dm = self.d_mean + nn * g
        dv = self.d_var + nn * g * (1.0 - g)
        ahead, ahead_v = dm[:, :-1], dv[:, :-1]
        s_m, s_v = self.s_mean[1:], self.s_var[1:]
        g0 = g[:-1]
        ringing = self._lost(ahead - self.shares, ahead_v - self.share_vars, s_m, s_v)
        new = self._lost(ahead - g0, ahead_v - g0 * (1.0 - g0), s_m, s_v)
        # Counts, not their approximation: with fewer answers possible ahead than ready
        # agents (``others`` ringing or waiting, plus the other new calls), nothing is lost.
        ringing = np.where(self.others - 1 + nn < self.ready, 0.0, ringing)
        new = np.where(self.others + nn - 1 < self.ready, 0.0, new)
        total = (np.diff(self.d_mean) * ringing).sum(axis=1) + (nn * np.diff(g) * new).sum(axis=1)
        return total, dm[:, -1]

    def _lost(self, m: np.ndarray, v: np.ndarray, s_m: np.ndarray, s_v: np.ndarray) -> np.ndarray:
        v = np.maximum(v, 0.0)
        p = norm_cdf((m + 0.5 - s_m) / np.sqrt(v + s_v))
        if self.ready <= 0:
            return p
        # The ready agents are certain: fewer answers ahead than them and nothing is lost.
        certain = norm_cdf((m + 0.5 - self.ready) / np.sqrt(v + 1e-12))
        return np.minimum(p, certain)


def launch_exact(base: int, supply: np.ndarray, demand: np.ndarray, d_mean: np.ndarray, g: np.ndarray,
                  cap: int, max_marginal: float, own: np.ndarray, max_total: float = np.inf,
                  covered: int = 0) -> tuple[int, float, float, float]:
    """The launch count by the marginal rule, with exact (Poisson-binomial) abandon probabilities.

    ``supply`` holds each agent's probability of being free by ``t_k + limit`` for the
    checkpoints ``k >= 1``, ``demand`` each ringing call's probability of a live answer by
    ``t_{k-1}``; the ``n`` new calls add ``Binomial(n, g)``. An arrival never counts its own
    answer among those ahead of it: each of the ``n`` new calls sees the other ``n - 1``
    (exactly), each ringing call sees the others (to first order: its own probability ``q``
    of having answered, ``own`` summed per step, times ``P(exactly one answer short)``).
    Past the ``covered`` calls ready agents take for certain, the total expected abandons
    stay within ``max_total`` (the windows' count guard, :func:`pacing.budget.window_room`).
    Returns the count, the expected abandons and live answers over the horizon at it, and
    the expected abandons with no new call.
    """
    pmf = nonnegative_lumped(base, supply, demand)
    g_prev = g[:-1]
    arrivals0, dg = np.diff(d_mean), np.diff(g)

    def ringing(pm: np.ndarray) -> float:
        short = pm[:, -2] if pm.shape[1] > 1 else 0.0
        return float(np.maximum(arrivals0 * pm[:, -1] - own * short, 0.0).sum())

    abandons = base_abandons = ringing(pmf)
    n = 0
    while n < cap:
        nxt = add_bernoulli(pmf, g_prev)
        # n + 1 new calls: each one's arrival sees the other n (``pmf``).
        a_next = ringing(nxt) + (n + 1) * float((dg * pmf[:, -1]).sum())
        if a_next - abandons > max_marginal or (a_next > max_total and n + 1 > covered):
            break
        pmf, abandons, n = nxt, a_next, n + 1
    return n, abandons, float(d_mean[-1] + n * g[-1]), base_abandons
