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
"""

from __future__ import annotations

from collections.abc import Iterable


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
