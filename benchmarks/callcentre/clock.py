"""A virtual clock: a heap of ``(time, priority, seq)`` entries that never goes back.

As in SimPy, ties in time are broken by a priority (lower first) and then by insertion
order, so a run is fully determined by its inputs.
"""

from __future__ import annotations

import heapq
from typing import Any

from benchmarks.callcentre.errors import ClockWentBackwards


class VirtualClock:
    """Scheduled events in virtual seconds."""

    __slots__ = ("_heap", "_seq", "now_s")

    def __init__(self, start_s: float = 0.0) -> None:
        self.now_s = start_s
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = 0

    def now(self) -> float:
        return self.now_s

    def schedule(self, at_s: float, priority: int, payload: Any) -> None:
        """Queue ``payload`` for ``at_s``.

        Raises:
            ClockWentBackwards: ``at_s`` is before the current time.
        """
        if at_s < self.now_s:
            raise ClockWentBackwards(self.now_s, at_s)
        self._seq += 1
        heapq.heappush(self._heap, (at_s, priority, self._seq, payload))

    def pop(self) -> tuple[float, Any]:
        """Advance to the next event and return ``(time, payload)``.

        Raises:
            IndexError: nothing is scheduled.
        """
        at_s, _, _, payload = heapq.heappop(self._heap)
        self.now_s = at_s
        return at_s, payload

    def peek_s(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
