"""What pacing remembers of a campaign, read from its attempts (``dialer.store.history``)."""

from __future__ import annotations

import datetime as dt

from dialer.campaign.memory import ABANDONED, LIVE, MACHINE
from dialer.model import Outcome
from dialer.store.store import Store
from pacing import AbandonTracker
from tests.dialer.conftest import make_campaign, utc
from tests.dialer.history_fixtures import past_attempt

NOON = utc(2026, 3, 10, 12)


async def test_sql_counts_live_answers_abandons_and_machines_as_the_runner_does(store: Store) -> None:
    camp = await make_campaign(store)
    other = await make_campaign(store)
    outcomes = [o for o in Outcome if o is not Outcome.CANCELLED] * 2
    for k, outcome in enumerate(outcomes):
        await past_attempt(store, camp, outcome, NOON + dt.timedelta(seconds=k), number=f"+4851099{k:04d}")
    await past_attempt(store, other, Outcome.ABANDONED, NOON, number="+48510998888")
    cid = (await store.get_campaign(camp)).id
    [bucket] = await store.answer_buckets(cid, [(3600.0, NOON - dt.timedelta(hours=1))])
    expected = (
        sum(o in LIVE for o in outcomes),
        sum(o in ABANDONED for o in outcomes),
        sum(o in MACHINE for o in outcomes),
    )
    assert (4, 2, 2) == expected
    assert expected == (bucket.live, bucket.abandoned, bucket.machines)
    assert AbandonTracker(86_400.0, buckets=24).bucket_index(NOON.timestamp()) == bucket.index


async def test_buckets_per_width_from_their_span_leaving_out_excluded_attempts(store: Store) -> None:
    camp = await make_campaign(store)
    cid = (await store.get_campaign(camp)).id
    ends = [NOON - dt.timedelta(minutes=m) for m in (0, 10, 50, 130)]
    ids = [await past_attempt(store, camp, Outcome.ABANDONED, e, number=f"+4851097{k:04d}")
           for k, e in enumerate(ends)]
    hour = AbandonTracker(3600.0, buckets=12)  # 300 s buckets
    spans = [(300.0, NOON - dt.timedelta(hours=1)), (3600.0, NOON - dt.timedelta(hours=3))]
    got = await store.answer_buckets(cid, spans, exclude=[ids[1]])
    fine = {b.index: b.abandoned for b in got if b.bucket_s == 300.0}
    coarse = sum(b.abandoned for b in got if b.bucket_s == 3600.0)
    assert {hour.bucket_index(ends[0].timestamp()): 1, hour.bucket_index(ends[2].timestamp()): 1} == fine
    assert 3 == coarse


async def test_recent_calls_newest_first_with_their_disposition_time(store: Store) -> None:
    camp = await make_campaign(store)
    cid = (await store.get_campaign(camp)).id
    old = await past_attempt(store, camp, Outcome.BUSY, NOON - dt.timedelta(days=5), number="+48510960001")
    first = await past_attempt(store, camp, Outcome.ANSWERED, NOON - dt.timedelta(hours=2), talk_s=60.0,
                               number="+48510960002")
    second = await past_attempt(store, camp, Outcome.NO_ANSWER, NOON - dt.timedelta(hours=1),
                                number="+48510960003")
    contact = await store.pool.fetchval("SELECT contact_id FROM attempts WHERE id = $1", first)
    disposed = NOON - dt.timedelta(hours=2) + dt.timedelta(seconds=12)
    await store.set_disposition(contact, "Dzwonić", at=disposed, attempt_id=first)
    calls = await store.recent_calls(cid, since=NOON - dt.timedelta(days=4), until=NOON, limit=10)
    assert [second, first] == [c.attempt_id for c in calls]
    assert old not in [c.attempt_id for c in calls]
    answered = calls[1]
    assert (Outcome.ANSWERED, disposed) == (answered.outcome, answered.disposed_at)
    assert 60.0 == (answered.ended_at - answered.answered_at).total_seconds()  # type: ignore[operator]
    assert [second] == [c.attempt_id for c in await store.recent_calls(cid, since=NOON - dt.timedelta(days=4),
                                                                         until=NOON, limit=1)]
