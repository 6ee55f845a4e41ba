"""Two guards around the forecast: every rolling window under the cap, and no bursts.

**Every window.** A rolling window does not only grow at its new end; its old end expires.
The window ``x`` seconds from now holds the newest ``window - x`` seconds of today's window
plus whatever is answered in between, and nothing at all is answered over a night's
closure. So a budget computed on the whole window alone lets the controller spend the
surplus of a quiet morning in the afternoon, and the next morning's window, which has lost
the quiet morning but kept the afternoon, is over the cap. :func:`suffix_allowance` asks
every newest part of the window that will still be there at least ``horizon_s`` from now
(where the future answers are at least a budget horizon's worth) to stay at the aim with the
future answers added: the surplus of the part about to expire cannot be spent.

**No bursts.** The forecast prices calls one decision at a time. After a jump in state (many
agents freeing at once, a decision after a stall, the end of a progressive fallback) it may
justify many unreserved calls at once; their answers, and so their abandons, land together.
:class:`LaunchRate` lets unreserved calls out no faster than a multiple of the rate the
forecast's own statistics justify in steady state (agents' cycles times calls per live
answer), with a bucket a few seconds deep. Calls covered for certain by a ready
agent are not limited: they cannot be abandoned.

**Every window, by count.** The budget above aims at a *rate* in expectation; a rolling
window with a hundred live answers holds three abandons at 3 %, and abandons that are
merely expected to average 2 an hour cluster into 5 or 6 in some hour of an 8-hour shift.
:func:`window_room` counts instead: the abandons that may still land while every window
holding them stays at or under the cap, given what each newest part of the window already
holds and a floor on the live answers still to come (at most the next hour's: the campaign
may stop, and over a night nothing is answered). :func:`risk_allowance` turns that count
into the expected abandons the calls in flight and the new ones may carry: a Poisson bound,
so that more abandons than the room holds land with probability at most ``risk``. The
forecast then launches no call that would take its expected abandons past the allowance.
The cap holds by construction up to that probability and the floor on future answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache


def suffix_allowance(suffixes: Iterable[tuple[float, float, float]], window_s: float, horizon_s: float,
                     aim: float, future_live: float, fp_ratio: float = 0.0) -> float | None:
    """The highest abandons per future live answer that keeps every later window at ``aim``.

    Args:
        suffixes: ``(seconds covered, live, abandoned)`` of the window's newest parts
            (:meth:`pacing.abandon.AbandonTracker.suffixes`).
        window_s: the rolling window's length.
        horizon_s: only the parts still in the window at least this long from now count
            (the nearer windows are the fallback's and the budget's own business).
        aim: the rate every later window must stay at.
        future_live: live answers expected over ``horizon_s``.
        fp_ratio: estimated AMD false positives per live answer, charged first.

    Returns:
        The allowance, or ``None`` if no part qualifies.
    """
    best: float | None = None
    future = max(future_live, 1.0)
    for span_s, live, abandoned in suffixes:
        if window_s - span_s < horizon_s:
            break
        allowed = (aim * (live + future * (1.0 + fp_ratio)) - abandoned - fp_ratio * future) / future
        best = allowed if best is None else min(best, allowed)
    return best


class LaunchRate:
    """A token bucket for unreserved launches (see the module docstring).

    Args:
        factor: multiple of the steady launch rate allowed.
        depth_s: the bucket holds this many seconds of the allowed rate (at least one call).
    """

    __slots__ = ("_last_s", "_tokens", "depth_s", "factor")

    def __init__(self, factor: float = 2.0, depth_s: float = 5.0) -> None:
        self.factor = factor
        self.depth_s = depth_s
        self._tokens = 0.0
        self._last_s: float | None = None

    def allow(self, now_s: float, steady_per_s: float, wanted: int, active: int = 1_000_000) -> int:
        """How many of ``wanted`` unreserved calls may go now; the rest wait for later decisions.

        The bucket never holds more than half a call per ``active`` agent (at least one): in
        a world whose calls are short next to the connect limit (a time-compressed demo)
        seconds of the steady rate would be many calls per agent.
        """
        rate = self.factor * max(steady_per_s, 0.0)
        depth = max(1.0, min(rate * self.depth_s, active / 2))
        if self._last_s is None:
            self._tokens = depth
        elif now_s > self._last_s:
            self._tokens = min(depth, self._tokens + rate * (now_s - self._last_s))
        self._last_s = now_s if self._last_s is None else max(now_s, self._last_s)
        n = min(wanted, int(self._tokens))
        self._tokens -= n
        return max(n, 0)

    def reset(self, now_s: float) -> None:
        """Empty the bucket: after a pause (fallback) predictive resumes at the steady rate, not a burst."""
        self._tokens = 0.0
        self._last_s = now_s


def window_room(suffixes: Iterable[tuple[float, float, float]], window_s: float, cap: float,
                live_per_s: float, horizon_s: float, future_s: float = 3600.0,
                fp_ratio: float = 0.0) -> float:
    """How many more abandons every rolling window holding the next ``horizon_s`` can take under ``cap``.

    The window ending ``window_s - span`` seconds from now holds the newest ``span`` seconds
    of today's window (a suffix) plus the answers in between, of which only those after the
    horizon and within ``future_s`` from now are counted, at ``live_per_s`` (a floor, not an
    estimate). ``k`` more abandons fit into a window holding ``live`` answers and
    ``abandoned`` abandons while ``abandoned + k <= cap * (live + future + k)`` (each abandon
    is a live answer too). The window starting now, with nothing in it yet, is one of them.

    Args:
        suffixes: ``(seconds covered, live, abandoned)`` from the newest part back
            (:meth:`pacing.abandon.AbandonTracker.suffixes`).
        window_s: the rolling window's length.
        cap: the rate no window may exceed, in ``[0, 1)``.
        live_per_s: a floor on live answers per second from now on.
        horizon_s: the seconds in which the abandons at stake land.
        future_s: future answers are counted up to this many seconds from now.
        fp_ratio: estimated AMD false positives per live answer (each an abandon and a live
            answer where they count), charged on the future answers.

    Returns:
        The room, possibly negative (a window is already over the cap).
    """
    def room(span_s: float, live: float, abandoned: float) -> float:
        ahead = max(min(window_s - span_s, future_s) - horizon_s, 0.0) * live_per_s
        return (cap * (live + ahead * (1.0 + fp_ratio)) - abandoned - fp_ratio * ahead) / (1.0 - cap)

    best = room(0.0, 0.0, 0.0)
    for span_s, live, abandoned in suffixes:
        best = min(best, room(span_s, live, abandoned))
    return best


def risk_allowance(room: float, risk: float) -> float:
    """The largest mean ``mu`` with ``P(Poisson(mu) > floor(room)) <= risk`` (0 if ``room < 0``).

    Abandons among calls in flight are a sum of independent rare events, whose count is at
    most as spread as a Poisson count of the same mean; so expected abandons within this
    allowance exceed the room with probability at most ``risk``.
    """
    if room < 0.0 or risk <= 0.0:
        return 0.0
    if risk >= 1.0:
        return math.inf
    return _poisson_mean(min(int(room), 10_000), risk)


@lru_cache(maxsize=4096)
def _poisson_mean(k: int, risk: float) -> float:
    """Bisect for the mean whose upper tail past ``k`` is ``risk`` (the tail grows with the mean)."""
    def tail(mu: float) -> float:
        term = cdf = math.exp(-mu)
        for i in range(1, k + 1):
            term *= mu / i
            cdf += term
        return 1.0 - cdf

    if k > 200:
        # Normal approximation with continuity correction: mu + z sqrt(mu) = k + 0.5.
        z = _z_upper(risk)
        root = (-z + math.sqrt(z * z + 4.0 * (k + 0.5))) / 2.0
        return root * root
    lo, hi = 0.0, k + 10.0 * math.sqrt(k + 1.0) + 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if tail(mid) <= risk:
            lo = mid
        else:
            hi = mid
    return lo


def _z_upper(risk: float) -> float:
    """The standard normal quantile with upper tail ``risk`` (bisection on erfc)."""
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(mid / math.sqrt(2.0)) > risk:
            lo = mid
        else:
            hi = mid
    return lo


class ForecastBias:
    """How many abandons happened per abandon the forecast expected, lately (never below 1).

    The count guard trusts the forecast's expected abandons; a forecast that is bold (a
    small sample, a shape it fits badly) lets more through than its room. Both sums decay
    e-fold over ``memory_s`` and start from ``prior`` abandons each, so a new campaign starts
    at 1 and one early abandon does not swing it.

    Args:
        memory_s: the decay time of both sums.
        prior: pseudo-abandons added to both sides.
        ceiling: the highest ratio returned.
    """

    __slots__ = ("_expected", "_last_s", "_seen", "ceiling", "memory_s", "prior")

    def __init__(self, memory_s: float = 3600.0, prior: float = 2.0, ceiling: float = 4.0) -> None:
        self.memory_s = memory_s
        self.prior = prior
        self.ceiling = ceiling
        self._expected = 0.0
        self._seen = 0.0
        self._last_s: float | None = None

    def _decay(self, now_s: float) -> None:
        if self._last_s is not None and now_s > self._last_s:
            k = math.exp(-(now_s - self._last_s) / self.memory_s)
            self._expected *= k
            self._seen *= k
        if self._last_s is None or now_s > self._last_s:
            self._last_s = now_s

    def expected(self, now_s: float, abandons: float) -> None:
        """The forecast expected ``abandons`` more from the calls it just launched."""
        self._decay(now_s)
        self._expected += max(abandons, 0.0)

    def seen(self, now_s: float) -> None:
        """One abandon happened."""
        self._decay(now_s)
        self._seen += 1.0

    def ratio(self, now_s: float) -> float:
        """Abandons seen per abandon expected, in ``[1, ceiling]``."""
        self._decay(now_s)
        return min(max((self._seen + self.prior) / (self._expected + self.prior), 1.0), self.ceiling)
