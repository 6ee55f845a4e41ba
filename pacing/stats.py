"""Online call statistics that forget: outcome shares and time distributions.

Theory of operation: every estimate is a set of exponentially time-decayed sums. An
observation made ``d`` seconds ago weighs ``exp(-d / memory_s)``, so after a drift (lists
change, the evening brings more answering machines) the old regime fades out within a few
``memory_s`` while a steady campaign still averages over many calls. Durations are modelled
as lognormal (a good fit for talk and answer times, and always positive), fitted by
decayed moments of ``log(duration)``.

``CallStatistics.ready()`` is the minimum-history gate: predictive pacing stays off until
enough calls and conversations have been seen for the estimates to mean something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from pacing._normal import lognormal_cdf
from pacing.errors import InvalidParameter


class CallOutcomeKind(Enum):
    """How a launched call ended, as far as pacing cares."""

    CONNECTED = "connected"      # live answer put through to an agent
    ABANDONED = "abandoned"      # live answer with no agent within the connect limit
    MACHINE = "machine"          # the AMD said answering machine; hung up
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"            # congestion, invalid, channel unavailable


LIVE_OUTCOMES = frozenset({CallOutcomeKind.CONNECTED, CallOutcomeKind.ABANDONED})
_ANSWERED = LIVE_OUTCOMES | {CallOutcomeKind.MACHINE}
_EARLY = frozenset({CallOutcomeKind.BUSY, CallOutcomeKind.FAILED})


class DecayingLogNormal:
    """A lognormal fitted to durations with exponential forgetting.

    Args:
        memory_s: e-folding time of an observation's weight, seconds.
        prior_mean_s: mean used before any data (and blended in while data are scarce).
        prior_cv: coefficient of variation of the prior.
        prior_weight: how many observations the prior is worth.
    """

    __slots__ = ("_s0", "_s1", "_s2", "_t", "memory_s", "n_seen")

    def __init__(self, memory_s: float, prior_mean_s: float, prior_cv: float = 1.0,
                 prior_weight: float = 2.0) -> None:
        if not memory_s > 0:
            raise InvalidParameter("memory_s", "must be positive", memory_s)
        if not prior_mean_s > 0:
            raise InvalidParameter("prior_mean_s", "must be positive", prior_mean_s)
        self.memory_s = memory_s
        sigma2 = math.log1p(prior_cv * prior_cv)
        mu = math.log(prior_mean_s) - sigma2 / 2
        self._s0 = prior_weight
        self._s1 = prior_weight * mu
        self._s2 = prior_weight * (sigma2 + mu * mu)
        self._t = 0.0
        self.n_seen = 0

    def _decay_to(self, t_s: float) -> None:
        if t_s > self._t:
            k = math.exp(-(t_s - self._t) / self.memory_s)
            self._s0 *= k
            self._s1 *= k
            self._s2 *= k
            self._t = t_s

    def add(self, t_s: float, duration_s: float) -> None:
        """Add one duration observed at ``t_s`` (durations under 0.1 s count as 0.1 s)."""
        self._decay_to(t_s)
        x = math.log(max(duration_s, 0.1))
        self._s0 += 1.0
        self._s1 += x
        self._s2 += x * x
        self.n_seen += 1

    @property
    def weight(self) -> float:
        """The decayed number of observations (prior included) behind the fit."""
        return self._s0

    @property
    def mu(self) -> float:
        return self._s1 / self._s0

    @property
    def sigma(self) -> float:
        var = self._s2 / self._s0 - self.mu ** 2
        return math.sqrt(max(var, 1e-4))

    @property
    def mean_s(self) -> float:
        return math.exp(self.mu + self.sigma ** 2 / 2)


class DecayingHistogram:
    """The empirical distribution of durations, with exponential forgetting, shrunk to a lognormal.

    Why: the lognormal fit is only as good as the lognormal shape. Real talk times are
    mixtures (answering machines that slip past the AMD hold an agent for seconds, people
    for minutes), and a log-moment fit to a mixture misplaces the hazard that the forecast
    of agents freeing reads. The decayed histogram follows any shape; blended with the
    lognormal fit worth ``prior_weight`` observations it keeps a smooth tail past the
    longest duration seen.

    Bins are log-spaced from 0.1 s to 4 h (3% wide), and the cdf is interpolated linearly
    in log time within a bin.
    """

    __slots__ = ("_t", "_w", "fit", "memory_s", "prior_weight")

    EDGES = np.exp(np.linspace(math.log(0.1), math.log(14400.0), 361))
    _LOG_EDGES = np.log(EDGES)

    def __init__(self, fit: DecayingLogNormal, prior_weight: float = 20.0) -> None:
        self.fit = fit
        self.memory_s = fit.memory_s
        self.prior_weight = prior_weight
        self._w = np.zeros(self.EDGES.size - 1)
        self._t = 0.0

    def add(self, t_s: float, duration_s: float) -> None:
        if t_s > self._t:
            self._w *= math.exp(-(t_s - self._t) / self.memory_s)
            self._t = t_s
        i = int(np.searchsorted(self._LOG_EDGES, math.log(max(duration_s, 0.1)), side="right")) - 1
        self._w[min(max(i, 0), self._w.size - 1)] += 1.0

    @property
    def weight(self) -> float:
        return float(self._w.sum())

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(T <= x), the decayed empirical cdf blended with the lognormal fit."""
        fit = lognormal_cdf(x, self.fit.mu, self.fit.sigma)
        total = self.weight
        if total <= 0.0:
            return fit
        cum = np.concatenate([[0.0], np.cumsum(self._w)]) / total
        emp = np.interp(np.log(np.maximum(x, 1e-12)), self._LOG_EDGES, cum)
        return (total * emp + self.prior_weight * fit) / (total + self.prior_weight)


class DecayingShares:
    """Shares of call outcomes with exponential forgetting (a decayed multinomial)."""

    __slots__ = ("_t", "_total", "_w", "memory_s", "n_seen")

    def __init__(self, memory_s: float, prior: dict[CallOutcomeKind, float] | None = None,
                 prior_weight: float = 5.0) -> None:
        if not memory_s > 0:
            raise InvalidParameter("memory_s", "must be positive", memory_s)
        self.memory_s = memory_s
        self._w = dict.fromkeys(CallOutcomeKind, 0.0)
        if prior:
            total = sum(prior.values())
            for kind, share in prior.items():
                self._w[kind] = prior_weight * share / total
        self._total = sum(self._w.values())
        self._t = 0.0
        self.n_seen = 0

    def add(self, t_s: float, kind: CallOutcomeKind) -> None:
        if t_s > self._t:
            k = math.exp(-(t_s - self._t) / self.memory_s)
            for key in self._w:
                self._w[key] *= k
            self._total *= k
            self._t = t_s
        self._w[kind] += 1.0
        self._total += 1.0
        self.n_seen += 1

    @property
    def weight(self) -> float:
        """The decayed number of outcomes (prior included) behind the shares."""
        return self._total

    def share(self, kinds: frozenset[CallOutcomeKind]) -> float:
        if self._total <= 0:
            return 0.0
        return sum(self._w[k] for k in kinds) / self._total


@dataclass(frozen=True, slots=True)
class StatisticsSettings:
    """Memories and the minimum-history gate.

    Defaults: outcome shares forget over 20 min, so a list whose answer rate halves in an
    hour is tracked within minutes; talk and wrap forget over an hour, since they change
    slowly and there are fewer of them. The gate (30 calls and 5 conversations; it was 200
    and 20, which kept a new campaign progressive for a long time) only keeps the
    estimates from being meaningless: the predictive forecast itself uses cautious bounds
    that are wide on a small sample and narrow as it grows
    (:attr:`~pacing.PredictiveSettings.cold_start_z`), so a new campaign dials predictively
    after tens of calls without trusting them more than they deserve.
    """

    outcome_memory_s: float = 1200.0
    duration_memory_s: float = 3600.0
    min_calls: int = 30
    min_conversations: int = 5


class CallStatistics:
    """Everything predictive pacing learns about a campaign's calls, online.

    Feed it every call outcome (with the seconds from launch to answer or end) and every
    agent talk and wrap duration; read shares and lognormal fits.
    """

    def __init__(self, settings: StatisticsSettings | None = None) -> None:
        self.settings = s = settings or StatisticsSettings()
        self.outcomes = DecayingShares(s.outcome_memory_s)
        self.answer_time = DecayingLogNormal(s.outcome_memory_s, prior_mean_s=8.0, prior_cv=0.6)
        self.early_end_time = DecayingLogNormal(s.outcome_memory_s, prior_mean_s=3.0, prior_cv=0.3)
        self.talk_time = DecayingLogNormal(s.duration_memory_s, prior_mean_s=120.0, prior_cv=1.0)
        self.wrap_time = DecayingLogNormal(s.duration_memory_s, prior_mean_s=10.0, prior_cv=0.5)
        self.talk_shape = DecayingHistogram(self.talk_time)
        self.wrap_shape = DecayingHistogram(self.wrap_time)

    def observe_call(self, t_s: float, kind: CallOutcomeKind, ring_s: float) -> None:
        """One call ended or was answered; ``ring_s`` is launch to answer (or to end)."""
        self.outcomes.add(t_s, kind)
        if kind in _ANSWERED:
            self.answer_time.add(t_s, ring_s)
        elif kind in _EARLY:
            self.early_end_time.add(t_s, ring_s)

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        self.talk_time.add(t_s, talk_s)
        self.talk_shape.add(t_s, talk_s)

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        self.wrap_time.add(t_s, wrap_s)
        self.wrap_shape.add(t_s, wrap_s)

    @property
    def p_live(self) -> float:
        """Probability that a launched call needs an agent (a live answer, as AMD sees it)."""
        return self.outcomes.share(LIVE_OUTCOMES)

    @property
    def p_answered(self) -> float:
        return self.outcomes.share(_ANSWERED)

    @property
    def p_early_end(self) -> float:
        return self.outcomes.share(_EARLY)

    def ready(self) -> bool:
        """Whether enough history has been seen for predictive pacing (the gate)."""
        s = self.settings
        return self.outcomes.n_seen >= s.min_calls and self.talk_time.n_seen >= s.min_conversations
