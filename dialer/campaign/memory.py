"""Campaign memory, the pure part: abandon windows that are the campaign's, and a warm pacer.

Theory of operation. The abandon rate a regulator applies (US: 30 days, UK: any 24 hours) is
the campaign's, over every engine that dialled it and every restart; the pacer's learned
statistics are worth keeping across a restart or a night. Both therefore come from the
attempts table (:class:`dialer.store.history.History`), through the I/O shell
:class:`dialer.campaign.recall.CampaignMemory`; this module is the logic it applies.

**What counts** -- one rule, in memory and in SQL, taken from the outcome table
(:data:`dialer.campaign.outcomes.OUTCOMES`, so the two cannot drift):

* a *live answer* is an attempt closed with store outcome ``answered`` or ``abandoned``
  (:data:`LIVE`): the AMI outcomes ``connected`` (an agent took it), ``abandoned`` (nobody
  within the connect limit) and ``hangup_waiting`` (the person hung up waiting), and an
  adopted call an agent took (closed ``answered`` after a restart);
* an *abandon* is one closed ``abandoned`` (:data:`ABANDONED`);
* a *machine verdict* is one closed ``machine`` (:data:`MACHINE`; kept for the UK
  false-positive estimate, not part of the rate);
* nothing else counts: busy, no answer, congestion, failed, invalid number, ``lost`` (the
  engine does not know whether anyone answered) and cancelled (never placed);
* each is filed at its end time (``attempts.ended_at``, which is the runner's ``now`` when it
  counted the call in memory), in bucket ``floor(epoch seconds / bucket width)`` of each
  :class:`~pacing.abandon.AbandonTracker` (the oldest bucket counted whole, as the tracker does).

In SQL (``dialer/store/history.py``): ``outcome IN ('answered', 'abandoned')`` is live,
``outcome = 'abandoned'`` an abandon, ``outcome = 'machine'`` a machine verdict.

**The ledger** (:class:`AbandonLedger`). Every tracker of a runner -- the exported windows
(``dialer_abandon_rate{window}``: 1 h, 24 h, 30 days) and the predictive pacer's own (the
profile's window, whose rate the cap is applied to, and its last hour) -- holds the store's
counts as of the last refresh plus the calls this runner counted since. The runner notes each
call it counts (:meth:`AbandonLedger.note`) and the moment its close is written
(:meth:`AbandonLedger.written`). A refresh (:meth:`AbandonLedger.begin`, the store query,
:meth:`AbandonLedger.apply`) must not count the runner's own calls twice:

* calls whose close was written *before* the query started are in the store's counts, so the
  ledger forgets them (``seen``);
* every other call of its own is left out of the query by id (``exclude``) and added back
  from memory -- so a close that commits while the query runs is counted once either way.

Another runner's calls reach this one at its next refresh (``refresh_s``, default 10 s).
A frequent refresh re-reads only the buckets from ``recent_span_s`` ago on; a full refresh
(``full_refresh_s``) re-reads the whole window, so a close written very late (a database
outage longer than ``recent_span_s``) by another runner is counted from then on. Its own calls
this runner always counts at once.

**The warm start** (:func:`warm_statistics`). At start the predictive pacer's statistics
(outcome shares, answer and early-end times, talk and wrap shapes) are fed the campaign's
latest closed calls (at most ``warm_calls`` within ``warm_lookback_s``), moved forward in time
so the newest lands at the start: hours with no calls carry no information, and the pacer's
memories are minutes long, so replaying last evening's calls at their own time would let them
decay to nothing at the first call of the morning. Ring time is ``answered_at - started_at``
for answered calls (``ended_at - started_at`` for the rest), talk time ``ended_at -
answered_at`` of a call an agent took (it includes the under-2-s wait in the queue, which the
PBX's own talk time does not), wrap time the disposition's time less ``ended_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dialer.campaign.outcomes import OUTCOMES
from dialer.errors import ValidationError
from dialer.model import AnswerBucket, Outcome, PastCall
from pacing import AbandonTracker, CallOutcomeKind, CallStatistics, PacingPolicy, PredictivePolicy

__all__ = [
    "ABANDONED",
    "LIVE",
    "MACHINE",
    "PACING_KIND",
    "AbandonLedger",
    "MemorySettings",
    "Refresh",
    "learned_statistics",
    "learned_trackers",
    "warm_statistics",
]

#: Store outcomes that are live answers, abandons and machine verdicts (module docstring).
LIVE = frozenset(row.store for row in OUTCOMES.values() if row.live)
ABANDONED = frozenset(row.store for row in OUTCOMES.values() if row.abandoned)
MACHINE = frozenset(row.store for row in OUTCOMES.values() if row.pacing is CallOutcomeKind.MACHINE)
#: What pacing learns from a stored outcome (the outcome table read backwards); outcomes pacing
#: learns nothing from (a PBX shutdown's cut calls) are absent, as in the live path.
PACING_KIND: dict[Outcome, CallOutcomeKind] = {
    row.store: row.pacing for row in OUTCOMES.values() if row.pacing is not None
}

if len({(row.store, row.pacing, row.live, row.abandoned) for row in OUTCOMES.values()}) != len(
    {row.store for row in OUTCOMES.values()}
):  # pragma: no cover - guards the table: one store outcome must mean one thing to pacing
    raise RuntimeError("dialer.campaign.outcomes maps one store outcome to different pacing rows")

_ANSWERED = LIVE | MACHINE


@dataclass(frozen=True, slots=True)
class MemorySettings:
    """How the campaign's memory is kept.

    Args:
        refresh_s: how often the abandon windows are re-read from the store (another runner's
            abandons show here within this time).
        full_refresh_s: how often the whole window is re-read rather than its recent part.
        recent_span_s: a frequent refresh re-reads the buckets from this long ago on.
        warm_calls: at most this many recent calls warm the pacer at start...
        warm_lookback_s: ...ended at most this long ago (4 days: Friday's calls warm Monday).

    Raises:
        ValidationError: a value out of range, naming the field.
    """

    refresh_s: float = 10.0
    full_refresh_s: float = 900.0
    recent_span_s: float = 3600.0
    warm_calls: int = 2000
    warm_lookback_s: float = 4 * 86_400.0

    def __post_init__(self) -> None:
        for name in ("refresh_s", "full_refresh_s", "recent_span_s", "warm_lookback_s"):
            if not getattr(self, name) > 0:
                raise ValidationError(name, "must be positive", getattr(self, name))
        if self.warm_calls < 0:
            raise ValidationError("warm_calls", "must not be negative", self.warm_calls)


def learned_trackers(policy: PacingPolicy) -> tuple[AbandonTracker, ...]:
    """The abandon trackers a pacing policy keeps itself (the predictive one: its window, its hour)."""
    if isinstance(policy, PredictivePolicy):
        return (policy.tracker, policy.recent)
    return ()


def learned_statistics(policy: PacingPolicy) -> CallStatistics | None:
    """The call statistics a pacing policy learns (only the predictive one learns)."""
    return policy.stats if isinstance(policy, PredictivePolicy) else None


@dataclass(slots=True)
class _Own:
    """A call this runner counted: when, and what it counts as."""

    t: float
    live: bool
    abandoned: bool
    machine: bool
    written: bool = False


@dataclass(frozen=True, slots=True)
class Refresh:
    """One refresh under way: the store query to run and what the ledger knew when it began.

    Attributes:
        now: the time the refresh began.
        spans: per bucket width, the first bucket re-read (older buckets are kept).
        exclude: this runner's calls not yet written: the query leaves them out.
        seen: this runner's calls written before the query: the store counts them.
    """

    now: float
    spans: dict[float, int]
    exclude: tuple[int, ...]
    seen: frozenset[int]

    def store_spans(self) -> list[tuple[float, float]]:
        """``(bucket width, earliest end time in seconds)`` for the store query."""
        return [(width, first * width) for width, first in sorted(self.spans.items())]


class AbandonLedger:
    """Keeps a runner's abandon trackers equal to the campaign's stored counts plus its own calls.

    See the module docstring. The trackers are counted into by their owners between refreshes
    (the outcome tally, the pacing policy); the ledger only remembers this runner's calls
    until the store is known to hold them, and rebuilds the trackers on a refresh.

    Args:
        trackers: every abandon tracker to keep (any windows and bucket widths).
    """

    def __init__(self, trackers: Sequence[AbandonTracker]) -> None:
        self.trackers = tuple(trackers)
        self._own: dict[int, _Own] = {}
        self._longest_s = max((t.window_s + t.bucket_s for t in self.trackers), default=0.0)

    @property
    def pending(self) -> int:
        """This runner's calls the ledger still counts itself (not yet known to be stored)."""
        return len(self._own)

    def note(self, attempt_id: int, t: float, *, live: bool, abandoned: bool, machine: bool) -> None:
        """This runner counted attempt ``attempt_id`` ended at ``t`` (only live and machine matter)."""
        if live or abandoned or machine:
            self._own[attempt_id] = _Own(t, live or abandoned, abandoned, machine)

    def written(self, attempt_id: int) -> None:
        """The close of ``attempt_id`` is committed in the store."""
        own = self._own.get(attempt_id)
        if own is not None:
            own.written = True

    def begin(self, now: float, *, full: bool, recent_span_s: float) -> Refresh:
        """Start a refresh at ``now``: the whole windows when ``full``, else the recent part."""
        spans: dict[float, int] = {}
        for tracker in self.trackers:
            first = tracker.oldest_index(now)
            if not full:
                first = max(first, tracker.bucket_index(now - recent_span_s))
            width = tracker.bucket_s
            spans[width] = min(spans.get(width, first), first)
        exclude = tuple(sorted(i for i, own in self._own.items() if not own.written))
        seen = frozenset(i for i, own in self._own.items() if own.written)
        return Refresh(now, spans, exclude, seen)

    def apply(self, refresh: Refresh, buckets: Iterable[AnswerBucket]) -> None:
        """Rebuild the trackers from the store's ``buckets`` (read for ``refresh``) and own calls."""
        by_width: dict[float, list[tuple[int, int, int, int]]] = {w: [] for w in refresh.spans}
        for b in buckets:
            if b.bucket_s in by_width:
                by_width[b.bucket_s].append((b.index, b.live, b.abandoned, b.machines))
        for i in refresh.seen:
            self._own.pop(i, None)
        horizon = refresh.now - self._longest_s
        for i in [i for i, own in self._own.items() if own.t < horizon]:
            del self._own[i]  # out of every window (a close the store never took, say)
        for tracker in self.trackers:
            first = refresh.spans[tracker.bucket_s]
            tracker.replace_from(first, by_width[tracker.bucket_s])
            for own in self._own.values():
                if tracker.bucket_index(own.t) < first:
                    continue  # an older bucket, kept as it was (it holds this call already)
                if own.live:
                    tracker.record_answer(own.t, abandoned=own.abandoned)
                if own.machine:
                    tracker.record_machine_verdict(own.t)


def warm_statistics(stats: CallStatistics, calls: Iterable[PastCall], now: float) -> int:
    """Feed ``calls`` (the campaign's recent closed calls) to ``stats``, moved up to ``now``.

    See the module docstring ("The warm start"). Returns how many calls were fed.
    """
    events: list[tuple[float, int, int, float, CallOutcomeKind | None]] = []
    fed = 0
    for c in calls:
        kind = PACING_KIND.get(c.outcome)
        if kind is None:
            continue  # cancelled: never placed
        fed += 1
        start, end = c.started_at.timestamp(), c.ended_at.timestamp()
        answer = c.answered_at.timestamp() if c.answered_at is not None else None
        ring_end = answer if answer is not None and c.outcome in _ANSWERED else end
        events.append((end, c.attempt_id, 0, max(ring_end - start, 0.0), kind))
        if c.outcome is Outcome.ANSWERED and answer is not None:
            events.append((end, c.attempt_id, 1, max(end - answer, 0.0), None))
            if c.disposed_at is not None:
                disposed = c.disposed_at.timestamp()
                events.append((max(disposed, end), c.attempt_id, 2, max(disposed - end, 0.0), None))
    if not events:
        return 0
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    shift = max(0.0, now - events[-1][0])
    for t, _, what, seconds, kind in events:
        if kind is not None:
            stats.observe_call(t + shift, kind, seconds)
        elif what == 1:
            stats.observe_talk(t + shift, seconds)
        else:
            stats.observe_wrap(t + shift, seconds)
    return fed
