"""The pure part of campaign memory: what counts, the ledger's refresh arithmetic, the warm start."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.campaign.memory import (
    ABANDONED,
    LIVE,
    MACHINE,
    PACING_KIND,
    AbandonLedger,
    learned_statistics,
    learned_trackers,
    warm_statistics,
)
from dialer.model import AnswerBucket, Outcome, PastCall
from pacing import (
    US,
    AbandonTracker,
    CallOutcomeKind,
    CallStatistics,
    PredictivePolicy,
    ProgressivePolicy,
)

T0 = 1_800_000_000.0


def test_what_counts_is_the_outcome_tables_live_and_abandoned_rows() -> None:
    assert {Outcome.ANSWERED, Outcome.ABANDONED} == LIVE
    assert {Outcome.ABANDONED} == ABANDONED
    assert {Outcome.MACHINE} == MACHINE
    assert CallOutcomeKind.FAILED == PACING_KIND[Outcome.LOST]
    assert Outcome.CANCELLED not in PACING_KIND


def test_the_predictive_policy_hands_over_its_trackers_and_statistics_the_progressive_none() -> None:
    policy = PredictivePolicy(US)
    assert (policy.tracker, policy.recent) == learned_trackers(policy)
    assert policy.stats is learned_statistics(policy)
    assert () == learned_trackers(ProgressivePolicy())
    assert learned_statistics(ProgressivePolicy()) is None


def _store_buckets(rows: dict[int, tuple[float, bool, bool, bool]], spans: list[tuple[float, float]],
                   exclude: tuple[int, ...]) -> list[AnswerBucket]:
    """What ``History.answer_buckets`` computes, over a dict of committed rows."""
    out: dict[tuple[float, int], list[int]] = {}
    for width, since in spans:
        for aid, (t, live, abandoned, machine) in rows.items():
            if aid in exclude or t < since:
                continue
            entry = out.setdefault((width, int(t // width)), [0, 0, 0])
            entry[0] += int(live)
            entry[1] += int(abandoned)
            entry[2] += int(machine)
    return [AnswerBucket(w, i, *c) for (w, i), c in out.items() if any(c)]


def _trackers() -> list[AbandonTracker]:
    return [AbandonTracker(3600.0, buckets=12), AbandonTracker(7200.0), AbandonTracker(3600.0, buckets=12)]


def test_a_refresh_counts_another_runners_abandons_and_its_own_calls_once() -> None:
    trackers = _trackers()
    ledger = AbandonLedger(trackers)
    store: dict[int, tuple[float, bool, bool, bool]] = {1: (T0, True, True, False)}  # another runner's
    # Ours: 2 written and confirmed, 3 written but not yet confirmed, 4 not written at all.
    for aid in (2, 3, 4):
        ledger.note(aid, T0 + aid, live=True, abandoned=aid == 4, machine=False)
        for t in trackers:
            t.record_answer(T0 + aid, abandoned=aid == 4)
    store[2] = (T0 + 2, True, False, False)
    store[3] = (T0 + 3, True, False, False)
    ledger.written(2)
    refresh = ledger.begin(T0 + 10, full=True, recent_span_s=3600.0)
    assert ((3, 4), frozenset({2})) == (refresh.exclude, refresh.seen)
    ledger.written(3)  # confirmed while the query runs: still counted from memory this time
    ledger.apply(refresh, _store_buckets(store, refresh.store_spans(), refresh.exclude))
    for t in trackers:
        c = t.counts(T0 + 10)
        assert (4, 2) == (c.live_answers, c.abandoned)
    assert 2 == ledger.pending  # 3 and 4; 3 goes at the next refresh, which the store counts
    refresh = ledger.begin(T0 + 20, full=False, recent_span_s=3600.0)
    ledger.apply(refresh, _store_buckets(store, refresh.store_spans(), refresh.exclude))
    assert 1 == ledger.pending
    assert (4, 2) == (trackers[0].counts(T0 + 20).live_answers, trackers[0].counts(T0 + 20).abandoned)


def test_own_calls_older_than_every_window_are_forgotten() -> None:
    ledger = AbandonLedger([AbandonTracker(3600.0, buckets=12)])
    ledger.note(1, T0, live=True, abandoned=True, machine=False)
    ledger.note(2, T0, live=False, abandoned=False, machine=False)  # not counted: not kept
    assert 1 == ledger.pending
    refresh = ledger.begin(T0 + 7200, full=True, recent_span_s=600.0)
    ledger.apply(refresh, [])
    assert (0, 0) == (ledger.pending, ledger.trackers[0].counts(T0 + 7200).live_answers)


# One step of two runners on a campaign: ("own", abandoned) our call ends (tally counts it);
# ("other", abandoned) the other runner's call ends and is written; ("commit", k) our k-th
# oldest unwritten close commits; ("confirm", k) the writer tells us one committed close is
# done; ("refresh", full) a refresh; ("wait", s) time passes.
_STEP = st.one_of(
    st.tuples(st.just("own"), st.booleans()),
    st.tuples(st.just("other"), st.booleans()),
    st.tuples(st.just("commit"), st.integers(0, 5)),
    st.tuples(st.just("confirm"), st.integers(0, 5)),
    st.tuples(st.just("refresh"), st.booleans()),
    st.tuples(st.just("wait"), st.floats(0.0, 60.0)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_STEP, max_size=60))
def test_after_every_refresh_the_trackers_count_every_call_exactly_once(
    steps: list[tuple[str, object]],
) -> None:
    trackers = _trackers()
    ledger = AbandonLedger(trackers)
    store: dict[int, tuple[float, bool, bool, bool]] = {}
    ours: dict[int, tuple[float, bool, bool, bool]] = {}
    unwritten: list[int] = []
    unconfirmed: list[int] = []
    seen_others: set[int] = set()
    now, ids = T0, 0
    for kind, arg in steps:
        if kind == "wait":
            now += float(arg)  # type: ignore[arg-type]
        elif kind in ("own", "other"):
            ids += 1
            row = (now, True, bool(arg), False)
            if kind == "own":
                ours[ids] = row
                unwritten.append(ids)
                ledger.note(ids, now, live=True, abandoned=bool(arg), machine=False)
                for t in trackers:
                    t.record_answer(now, abandoned=bool(arg))
            else:
                store[ids] = row
        elif kind == "commit" and unwritten:
            aid = unwritten.pop(int(arg) % len(unwritten))  # type: ignore[call-overload]
            store[aid] = ours[aid]
            unconfirmed.append(aid)
        elif kind == "confirm" and unconfirmed:
            ledger.written(unconfirmed.pop(int(arg) % len(unconfirmed)))  # type: ignore[call-overload]
        elif kind == "refresh":
            refresh = ledger.begin(now, full=bool(arg), recent_span_s=3600.0)
            ledger.apply(refresh, _store_buckets(store, refresh.store_spans(), refresh.exclude))
            seen_others = {aid for aid in store if aid not in ours}
            truth = [r for aid, r in sorted(store.items()) if aid in seen_others] + list(ours.values())
            for tracker in trackers:
                buckets = round(tracker.window_s / tracker.bucket_s)
                expected = AbandonTracker(tracker.window_s, buckets=buckets)
                for t, _, abandoned, _ in sorted(truth):
                    expected.record_answer(t, abandoned=abandoned)
                assert expected.counts(now) == tracker.counts(now)


def _call(aid: int, outcome: Outcome, end: float, *, ring: float = 5.0, talk: float | None = None,
          wrap: float | None = None) -> PastCall:
    start = end - ring - (talk or 0.0)
    answered = start + ring if talk is not None else None
    disposed = end + wrap if wrap is not None else None

    def at(t: float | None) -> dt.datetime | None:
        return None if t is None else dt.datetime.fromtimestamp(t, dt.UTC)

    return PastCall(aid, outcome, at(start), at(answered), at(end), at(disposed))  # type: ignore[arg-type]


def test_warm_statistics_replays_calls_moved_up_to_now_in_order_of_end() -> None:
    yesterday = T0 - 12 * 3600
    calls = [_call(i, Outcome.ANSWERED, yesterday + 60 * i, talk=100.0, wrap=10.0) for i in range(30)]
    calls += [_call(100 + i, Outcome.NO_ANSWER, yesterday + 60 * i + 30, ring=20.0) for i in range(200)]
    calls.append(_call(999, Outcome.CANCELLED, yesterday, ring=0.0))
    stats = CallStatistics()
    assert 230 == warm_statistics(stats, reversed(calls), T0)
    assert stats.ready()
    assert (230, 30, 30) == (stats.outcomes.n_seen, stats.talk_time.n_seen, stats.wrap_time.n_seen)
    # Replayed at the end of the gap, not 12 h ago: a call now barely moves the shares.
    before = stats.p_live
    stats.observe_call(T0 + 1, CallOutcomeKind.NO_ANSWER, 20.0)
    assert before - stats.p_live < 0.01
    assert 90.0 < stats.talk_time.mean_s < 110.0
    assert 8.0 < stats.wrap_time.mean_s < 12.0


@given(st.lists(st.tuples(st.sampled_from(sorted(PACING_KIND, key=str)), st.floats(1.0, 300.0),
                          st.floats(0.0, 7200.0)), max_size=40))
def test_warm_statistics_sees_the_same_shares_as_the_live_path(
    rows: list[tuple[Outcome, float, float]],
) -> None:
    """Fed the same calls, the warm start and the runner's own observations agree on the shares."""
    now = T0
    calls = [_call(i, o, T0 - 100_000 + t, ring=r) for i, (o, r, t) in enumerate(rows)]
    warm = CallStatistics()
    warm_statistics(warm, calls, now)
    live = CallStatistics()
    ordered = sorted(calls, key=lambda c: (c.ended_at, c.attempt_id))
    shift = now - ordered[-1].ended_at.timestamp() if ordered else 0.0
    for c in ordered:
        live.observe_call(c.ended_at.timestamp() + shift, PACING_KIND[c.outcome],
                          (c.ended_at - c.started_at).total_seconds())
    assert abs(live.p_live - warm.p_live) < 1e-9
    assert live.outcomes.n_seen == warm.outcomes.n_seen
