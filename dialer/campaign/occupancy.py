"""Agent time per minute: how many agent-seconds were logged in, and how many talking.

Why: the wallboard charts the talk share over the day (issue 10), and that share is talking
time over logged-in time. Attempts hold the talk (answer to hang-up) but nothing holds how
long agents were logged in, and a supervisor who opens the wallboard at two in the
afternoon should see the morning too, after a restart as well. So each runner integrates its
board's counts over time into whole-minute buckets (:class:`Occupancy`, pure) and writes
what it has to the store every 15 seconds (``campaign_occupancy``, migration 031). A write
adds to the minute's row, so the minute under way is written in parts, and two runners of one
campaign (a restart, a take-over) sum.

The counts are piecewise constant between the runner's turns: :meth:`Occupancy.advance` is
called at the end of each turn with the counts that hold from then on, and charges the
counts of the previous turn to the time since it, split at minute boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MINUTE_S", "Minute", "Occupancy"]

MINUTE_S = 60.0


@dataclass(slots=True)
class Minute:
    """One minute's agent time (``start`` in clock seconds, a multiple of 60)."""

    start: float
    logged_in_s: float = 0.0
    talking_s: float = 0.0


class Occupancy:
    """Logged-in and talking agent-seconds per whole minute, as the runner's turns report them."""

    def __init__(self) -> None:
        self._at: float | None = None
        self._logged_in = 0
        self._talking = 0
        self._minutes: dict[float, Minute] = {}

    def advance(self, now: float, *, logged_in: int, talking: int) -> None:
        """Charge the counts held since the last call to the time up to ``now``, then hold these.

        A clock that goes back (it never should) charges nothing.
        """
        at = self._at
        if at is not None and now > at and self._logged_in > 0:
            t = at
            while t < now:
                start = math.floor(t / MINUTE_S) * MINUTE_S
                end = min(now, start + MINUTE_S)
                bucket = self._minutes.get(start)
                if bucket is None:
                    bucket = self._minutes[start] = Minute(start)
                bucket.logged_in_s += (end - t) * self._logged_in
                bucket.talking_s += (end - t) * self._talking
                t = end
        if at is None or now > at:
            self._at = now
        self._logged_in, self._talking = max(logged_in, 0), max(min(talking, logged_in), 0)

    def take(self) -> list[Minute]:
        """The agent time kept, per minute, oldest first, forgetting it (the minute under way
        starts again from zero: the store adds the parts)."""
        starts = sorted(self._minutes)
        return [self._minutes.pop(s) for s in starts]

    def give_back(self, minutes: list[Minute]) -> None:
        """Minutes :meth:`take` returned that could not be written: kept for the next try."""
        for m in minutes:
            kept = self._minutes.get(m.start)
            if kept is None:
                self._minutes[m.start] = m
            else:
                kept.logged_in_s += m.logged_in_s
                kept.talking_s += m.talking_s

    @property
    def pending(self) -> int:
        """Minutes kept and not yet taken."""
        return len(self._minutes)
