"""A rolling-window abandon-rate tracker with bounded memory.

Theory of operation: observations fall into fixed-width time buckets (window / 96 by
default, so a 30-day window keeps 96 buckets of 7.5 h and a 24-hour window 96 buckets of
15 min). The rate at time ``t`` sums the buckets that overlap ``(t - window, t]``; the
oldest bucket is counted whole, so the answer errs on the side of remembering slightly
more than the window, never less. Memory is at most ``buckets + 1`` entries whatever the
call volume.

Under a profile that counts AMD false positives (UK), every human answer the AMD took for
a machine is an abandon. We cannot see those calls, so the tracker adds an estimate: with
an estimated false-positive rate ``f`` (share of human answers classified as machines),
``live * f / (1 - f)`` humans were hung up on for every ``live`` humans we did see. The
estimate is added to both the abandons and the live answers, as Ofcom's guidance asks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from pacing.errors import InvalidParameter, TimeWentBackwards

_DEFAULT_BUCKETS = 96


@dataclass(frozen=True, slots=True)
class AbandonCounts:
    """What the window holds at one instant; ``rate`` is what the cap is applied to."""

    live_answers: int
    abandoned: int
    machine_verdicts: int
    estimated_amd_false_positives: float

    @property
    def rate(self) -> float:
        live = self.live_answers + self.estimated_amd_false_positives
        if live <= 0:
            return 0.0
        return (self.abandoned + self.estimated_amd_false_positives) / live


class AbandonTracker:
    """Counts live answers and abandons on a rolling window.

    Args:
        window_s: the window of the compliance profile, seconds.
        buckets: how many buckets cover the window (memory and resolution).
        amd_false_positive_rate: estimated share of human answers the AMD hangs up on.
        count_amd_false_positives: add the estimate to the rate (UK profile).

    Raises:
        InvalidParameter: a non-positive window or bucket count, or a rate outside [0, 1).
    """

    def __init__(self, window_s: float, *, buckets: int = _DEFAULT_BUCKETS,
                 amd_false_positive_rate: float = 0.0, count_amd_false_positives: bool = False) -> None:
        if not window_s > 0:
            raise InvalidParameter("window_s", "must be positive", window_s)
        if buckets < 1:
            raise InvalidParameter("buckets", "must be at least 1", buckets)
        if not 0.0 <= amd_false_positive_rate < 1.0:
            raise InvalidParameter("amd_false_positive_rate", "must be in [0, 1)", amd_false_positive_rate)
        self.window_s = float(window_s)
        self.bucket_s = self.window_s / buckets
        self._max_buckets = buckets + 1
        self.amd_false_positive_rate = amd_false_positive_rate
        self.count_amd_false_positives = count_amd_false_positives
        # Each entry: [bucket index, live answers, abandoned, machine verdicts].
        self._buckets: deque[list[int]] = deque()
        self._live = 0
        self._abandoned = 0
        self._machines = 0

    def _bucket_for(self, t_s: float) -> list[int]:
        index = int(t_s // self.bucket_s)
        buckets = self._buckets
        if buckets and buckets[-1][0] == index:
            return buckets[-1]
        if not buckets or buckets[-1][0] < index:
            entry = [index, 0, 0, 0]
            buckets.append(entry)
            self._expire(index)
            return entry
        for entry in reversed(buckets):
            if entry[0] == index:
                return entry
            if entry[0] < index:
                break
        oldest_kept = buckets[-1][0] - self._max_buckets + 1
        if index < oldest_kept:
            raise TimeWentBackwards("t_s", t_s, oldest_kept * self.bucket_s)
        # A late observation for a bucket that saw no traffic (possibly older than every bucket
        # kept, when those were empty): insert it in order.
        entry = [index, 0, 0, 0]
        items = sorted([*buckets, entry], key=lambda e: e[0])
        buckets.clear()
        buckets.extend(items)
        return entry

    def _expire(self, newest_index: int) -> None:
        oldest_kept = newest_index - self._max_buckets + 1
        buckets = self._buckets
        while buckets and buckets[0][0] < oldest_kept:
            _, live, ab, mach = buckets.popleft()
            self._live -= live
            self._abandoned -= ab
            self._machines -= mach

    def bucket_index(self, t_s: float) -> int:
        """The bucket an observation at ``t_s`` falls in (``floor(t_s / bucket_s)``)."""
        return int(t_s // self.bucket_s)

    def oldest_index(self, t_s: float) -> int:
        """The oldest bucket :meth:`counts` at ``t_s`` still counts (whole)."""
        return self.bucket_index(t_s) - self._max_buckets + 1

    def replace_from(self, first_index: int, buckets: Iterable[tuple[int, int, int, int]]) -> None:
        """Replace what buckets ``first_index`` and later hold by ``buckets`` (a refresh from a store).

        Each item is ``(index, live answers, abandoned, machine verdicts)``, as counted
        elsewhere (the campaign's stored attempts); items before ``first_index`` are ignored.
        Buckets older than ``first_index`` are kept as they are.
        """
        kept = [e for e in self._buckets if e[0] < first_index]
        fresh: dict[int, list[int]] = {}
        for i, live, ab, mach in buckets:
            if i >= first_index:
                entry = fresh.setdefault(i, [i, 0, 0, 0])
                entry[1] += live
                entry[2] += ab
                entry[3] += mach
        self._buckets.clear()
        self._buckets.extend(kept + [fresh[i] for i in sorted(fresh)])
        self._live = sum(e[1] for e in self._buckets)
        self._abandoned = sum(e[2] for e in self._buckets)
        self._machines = sum(e[3] for e in self._buckets)
        if self._buckets:
            self._expire(self._buckets[-1][0])

    def record_answer(self, t_s: float, *, abandoned: bool) -> None:
        """Record one live answer at ``t_s``, abandoned (no agent within the limit) or not."""
        entry = self._bucket_for(t_s)
        entry[1] += 1
        self._live += 1
        if abandoned:
            entry[2] += 1
            self._abandoned += 1

    def record_machine_verdict(self, t_s: float) -> None:
        """Record one call the AMD classified as a machine (kept for false-positive audits)."""
        entry = self._bucket_for(t_s)
        entry[3] += 1
        self._machines += 1

    def counts(self, t_s: float) -> AbandonCounts:
        """The window ``(t_s - window_s, t_s]`` as counts (oldest bucket counted whole)."""
        oldest_kept = int(t_s // self.bucket_s) - self._max_buckets + 1
        live, ab, mach = self._live, self._abandoned, self._machines
        for entry in self._buckets:
            if entry[0] >= oldest_kept:
                break
            live -= entry[1]
            ab -= entry[2]
            mach -= entry[3]
        estimate = 0.0
        if self.count_amd_false_positives and self.amd_false_positive_rate > 0:
            f = self.amd_false_positive_rate
            estimate = live * f / (1.0 - f)
        return AbandonCounts(live, ab, mach, estimate)

    def suffixes(self, t_s: float) -> list[tuple[float, float, float]]:
        """The window's newest parts: ``(seconds covered, live, abandoned)`` from the newest bucket back.

        Entry ``j`` sums the buckets from the newest back to the ``j``-th; its first element is
        how long those buckets span up to ``t_s``. These are the parts of today's window that
        later windows keep once the older parts expire: the window ``x`` seconds from now holds
        the suffix ``window - x`` long plus whatever is answered in between (nothing, over a
        night's closure). Live and abandoned include the AMD false-positive estimate if it counts.
        """
        oldest_kept = int(t_s // self.bucket_s) - self._max_buckets + 1
        f = self.amd_false_positive_rate if self.count_amd_false_positives else 0.0
        extra = f / (1.0 - f)
        out: list[tuple[float, float, float]] = []
        live = 0
        ab = 0
        for index, b_live, b_ab, _ in reversed(self._buckets):
            if index < oldest_kept:
                break
            live += b_live
            ab += b_ab
            out.append((t_s - index * self.bucket_s, live * (1.0 + extra), ab + live * extra))
        return out

    def rate(self, t_s: float) -> float:
        """The abandon rate the cap applies to, at ``t_s``."""
        return self.counts(t_s).rate
