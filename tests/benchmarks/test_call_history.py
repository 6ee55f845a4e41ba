"""The in-memory store's call history answers campaign memory's two reads as the SQL store does."""

from __future__ import annotations

import datetime as dt

from benchmarks.engine.call_history import CallHistory
from benchmarks.warm_start import main, mornings
from dialer.campaign.memory import ABANDONED, LIVE, MACHINE
from dialer.model import Outcome

T0 = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


def _close(history: CallHistory, aid: int, outcome: Outcome, end: dt.datetime) -> None:
    history.closed(aid, outcome, end - dt.timedelta(seconds=30), end - dt.timedelta(seconds=20), end)


def test_counts_per_bucket_follow_the_rule_of_what_counts_and_leave_out_excluded_calls() -> None:
    history = CallHistory()
    outcomes = list(Outcome)
    for k, outcome in enumerate(outcomes):
        _close(history, k + 1, outcome, T0 + dt.timedelta(seconds=k))
    [bucket] = history.answer_buckets([(3600.0, T0 - dt.timedelta(hours=1))], ())
    assert (sum(o in LIVE for o in outcomes), sum(o in ABANDONED for o in outcomes),
            sum(o in MACHINE for o in outcomes)) == (bucket.live, bucket.abandoned, bucket.machines)
    abandoned_id = outcomes.index(Outcome.ABANDONED) + 1
    # A width first asked for later is built from what was closed before, and kept up after.
    _close(history, 100, Outcome.ABANDONED, T0 + dt.timedelta(minutes=20))
    got = history.answer_buckets([(600.0, T0), (3600.0, T0 + dt.timedelta(hours=1))], [abandoned_id])
    assert [(600.0, 1, 0), (600.0, 1, 1)] == [(b.bucket_s, b.live, b.abandoned) for b in got]


def test_recent_calls_newest_first_within_the_span_with_their_disposition() -> None:
    history = CallHistory()
    for k in range(5):
        _close(history, k + 1, Outcome.ANSWERED if k % 2 else Outcome.BUSY, T0 + dt.timedelta(minutes=k))
    _close(history, 9, Outcome.CANCELLED, T0 + dt.timedelta(minutes=9))
    history.disposed(4, T0 + dt.timedelta(minutes=3, seconds=10))
    calls = history.recent_calls(T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=3), 10)
    assert [4, 3, 2] == [c.attempt_id for c in calls]
    assert T0 + dt.timedelta(minutes=3, seconds=10) == calls[0].disposed_at
    assert [5, 4] == [c.attempt_id for c in history.recent_calls(T0, T0 + dt.timedelta(hours=1), 2)]


async def test_a_warm_morning_starts_from_yesterdays_calls_a_cold_one_from_none() -> None:
    warm, cold = await mornings("S2", "us", hours=0.1, history_hours=0.3, night_hours=10.0, seed=2)
    assert warm.warmed_calls > 50
    assert 0 == cold.warmed_calls
    assert warm.calls > 0 and cold.calls > 0


def test_command_prints_a_warm_and_a_cold_row(capsys) -> None:  # type: ignore[no-untyped-def]
    assert 0 == main(["--scenario", "S2", "--hours", "0.05", "--history-hours", "0.1"])
    out = capsys.readouterr().out
    assert "| S2 | warm |" in out and "| S2 | cold |" in out
