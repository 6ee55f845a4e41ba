"""The in-memory store's call history: the two reads of campaign memory, without scanning calls.

:class:`~benchmarks.engine.memory_store.MemoryStore` hands every closed attempt and every
disposition to a :class:`CallHistory`, which answers
:meth:`~dialer.ports.ContactStore.answer_buckets` and
:meth:`~dialer.ports.ContactStore.recent_calls` as :class:`dialer.store.history.History` does
in SQL, with the same rule of what counts (:data:`dialer.campaign.memory.LIVE`, ``ABANDONED``,
``MACHINE``). A runner re-reads its abandon windows every few seconds of virtual time, so the
counts per bucket are kept running for every bucket width once asked for: a read costs the
buckets of its span, not the calls of a shift.

Calls are assumed to close in the order they end (true of one runner in virtual time), which
lets :meth:`CallHistory.recent_calls` walk back from the newest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

from dialer.campaign.memory import ABANDONED, LIVE, MACHINE
from dialer.model import AnswerBucket, Outcome, PastCall


class CallHistory:
    """Closed calls of one campaign, with running answer counts per bucket width."""

    def __init__(self) -> None:
        self._counted: dict[int, tuple[float, int, int, int]] = {}  # id -> (end, live, abandoned, machine)
        self._widths: dict[float, dict[int, list[int]]] = {}
        self._calls: list[PastCall] = []
        self._position: dict[int, int] = {}

    def closed(self, attempt_id: int, outcome: Outcome, started_at: dt.datetime,
               answered_at: dt.datetime | None, ended_at: dt.datetime) -> None:
        """An attempt was closed with ``outcome`` (cancelled ones are not calls and are ignored)."""
        if outcome is Outcome.CANCELLED:
            return
        self._position[attempt_id] = len(self._calls)
        self._calls.append(PastCall(attempt_id, outcome, started_at, answered_at, ended_at))
        counts = (int(outcome in LIVE), int(outcome in ABANDONED), int(outcome in MACHINE))
        if any(counts):
            t = ended_at.timestamp()
            self._counted[attempt_id] = (t, *counts)
            for width, buckets in self._widths.items():
                _add(buckets, int(t // width), counts, 1)

    def disposed(self, attempt_id: int | None, at: dt.datetime) -> None:
        """The agent's disposition of ``attempt_id`` was written at ``at`` (the first one counts)."""
        i = self._position.get(attempt_id) if attempt_id is not None else None
        if i is not None and self._calls[i].disposed_at is None:
            self._calls[i] = dataclasses.replace(self._calls[i], disposed_at=at)

    def answer_buckets(
        self, spans: Sequence[tuple[float, dt.datetime]], exclude: Sequence[int]
    ) -> list[AnswerBucket]:
        """As :meth:`dialer.store.history.History.answer_buckets`."""
        out: list[AnswerBucket] = []
        for width, since in spans:
            buckets = self._buckets(width)
            first = math.floor(since.timestamp() / width)
            mine = {i: list(c) for i, c in buckets.items() if i >= first}
            for aid in exclude:
                row = self._counted.get(aid)
                if row is not None and row[0] >= since.timestamp():
                    _add(mine, int(row[0] // width), row[1:], -1)
            out += [AnswerBucket(width, i, *c) for i, c in sorted(mine.items()) if any(c)]
        return out

    def recent_calls(self, since: dt.datetime, until: dt.datetime, limit: int) -> list[PastCall]:
        """As :meth:`dialer.store.history.History.recent_calls` (newest first)."""
        found: list[PastCall] = []
        for call in reversed(self._calls):
            if len(found) >= limit or call.ended_at < since:
                break
            if call.ended_at <= until:
                found.append(call)
        return found

    def _buckets(self, width: float) -> dict[int, list[int]]:
        buckets = self._widths.get(width)
        if buckets is None:
            buckets = self._widths[width] = {}
            for t, *counts in self._counted.values():
                _add(buckets, int(t // width), counts, 1)
        return buckets


def _add(buckets: dict[int, list[int]], index: int, counts: Sequence[int], sign: int) -> None:
    entry = buckets.setdefault(index, [0, 0, 0])
    for k, n in enumerate(counts):
        entry[k] += sign * n
