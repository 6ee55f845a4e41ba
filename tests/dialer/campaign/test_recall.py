"""CampaignMemory on the real store: when it reads, what a frequent and a full refresh see, failures.

Times are explicit (the collaborators' tests drive them), the store is the embedded PostgreSQL,
reached through a proxy the test can cut.
"""

from __future__ import annotations

import datetime as dt

from dialer.campaign.memory import AbandonLedger, MemorySettings
from dialer.campaign.recall import CampaignMemory
from dialer.model import Outcome
from dialer.store.store import Store
from pacing import AbandonTracker, CallStatistics
from tests.dialer.campaign.runner_fixtures import PgProxy
from tests.dialer.conftest import make_campaign
from tests.dialer.history_fixtures import past_attempt

T = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
SETTINGS = MemorySettings(refresh_s=10.0, full_refresh_s=100.0, recent_span_s=60.0)


def _at(seconds: float) -> dt.datetime:
    return T + dt.timedelta(seconds=seconds)


async def test_a_late_write_older_than_the_recent_span_is_counted_at_the_full_refresh(store: Store) -> None:
    camp = await make_campaign(store)
    hour = AbandonTracker(3600.0, buckets=12)
    memory = CampaignMemory(await store.get_campaign(camp), store=store, ledger=AbandonLedger([hour]),
                            stats=CallStatistics(), settings=SETTINGS)
    now = T.timestamp()
    await past_attempt(store, camp, Outcome.ABANDONED, _at(-10), number="+48510950001")
    await memory.restore(now)
    assert (1, 1, 1) == (hour.counts(now).abandoned, memory.warmed, memory.restored)
    # Another engine writes two closes: one just now, one (a long outage's) 10 minutes old.
    await past_attempt(store, camp, Outcome.ABANDONED, _at(-5), number="+48510950002")
    await past_attempt(store, camp, Outcome.ABANDONED, _at(-600), number="+48510950003")
    await memory.tend(now + 5)  # not due yet
    assert 1 == hour.counts(now + 5).abandoned
    await memory.tend(now + 11)  # the recent part: the last 60 s
    assert 2 == hour.counts(now + 11).abandoned
    await memory.tend(now + 101)  # the whole window
    assert 3 == hour.counts(now + 101).abandoned


async def test_an_unreachable_store_leaves_the_windows_to_the_runner_until_it_is_back(db_dsn: str) -> None:
    proxy = PgProxy(db_dsn)
    await proxy.start()
    store = await Store.open(proxy.dsn, min_size=1, max_size=2, migrate_now=False)
    try:
        camp = await make_campaign(store)
        await past_attempt(store, camp, Outcome.ABANDONED, _at(-30), number="+48510950011")
        await past_attempt(store, camp, Outcome.ANSWERED, _at(-20), number="+48510950012")
        hour = AbandonTracker(3600.0, buckets=12)
        ledger = AbandonLedger([hour])
        stats = CallStatistics()
        memory = CampaignMemory(await store.get_campaign(camp), store=store, ledger=ledger, stats=stats,
                                settings=SETTINGS)
        now = T.timestamp()
        await proxy.cut()
        await memory.restore(now)
        assert (False, None) == (memory.restored, memory.warmed)
        # The runner counts its own call meanwhile (attempt 0 is not in the store: never written).
        ledger.note(0, now + 1, live=True, abandoned=True, machine=False)
        hour.record_answer(now + 1, abandoned=True)
        await proxy.restore()
        await memory.tend(now + 5)  # tried again only refresh_s after the failure
        assert (False, 1) == (memory.restored, hour.counts(now + 5).live_answers)
        await memory.tend(now + 10)
        assert memory.restored and memory.warmed == 2 == stats.outcomes.n_seen
        counts = hour.counts(now + 10)
        assert (3, 2) == (counts.live_answers, counts.abandoned)
    finally:
        await store.close()
        await proxy.close()


async def test_the_warm_start_is_skipped_once_the_pacer_learned_from_live_calls(store: Store) -> None:
    camp = await make_campaign(store)
    await past_attempt(store, camp, Outcome.BUSY, _at(-30), number="+48510950021")
    stats = CallStatistics()
    stats.observe_talk(T.timestamp(), 30.0)  # learned before the store could be read
    campaign = await store.get_campaign(camp)
    memory = CampaignMemory(campaign, store=store, ledger=AbandonLedger([]), stats=stats, settings=SETTINGS)
    await memory.restore(T.timestamp())
    assert (0, 0) == (memory.warmed, stats.outcomes.n_seen)
