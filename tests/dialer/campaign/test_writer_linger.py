"""Closes that linger for company (issue 18): at a steady rate they go to the store in batches.

Against the embedded PostgreSQL, on the parts' virtual clock (the linger ends when the test
moves the clock) or the real one; statements counted with a query logger on a one-connection
pool.
"""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg

from ami.outcome import CallOutcome, Ended
from ami.outcome import Outcome as AmiOutcome
from benchmarks.callcentre import SCENARIOS
from benchmarks.engine.virtual_pbx import VirtualPbx
from dialer.campaign.settings import Disposition
from dialer.campaign.writer import Batch, OutcomeWriter
from dialer.clock import RealClock
from dialer.model import AttemptResult, DialingMode, Outcome, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import Parts, campaign_of, parts, written
from tests.dialer.campaign.runner_fixtures import FAST
from tests.dialer.conftest import make_campaign, utc

LINGER = dataclasses.replace(FAST, write_linger_s=0.05)


def _ended(attempt_id: str, outcome: AmiOutcome) -> Ended:
    return Ended(CallOutcome(attempt_id, outcome, 4, 16, None, None, 8.0, 0.5, 60.0, None, None, None, None))


async def _statements(store: Store) -> list[str]:
    """Every statement the store's one connection sends from now on."""
    seen: list[str] = []
    async with store.pool.acquire() as conn:
        raw: asyncpg.Connection = conn._con  # type: ignore[attr-defined]
        raw.add_query_logger(lambda record: seen.append(" ".join(record.query.split())[:40]))
    return seen


async def _closed(store: Store, cids: list[int]) -> int:
    return int(
        await store.pool.fetchval(
            "SELECT count(*) FROM attempts WHERE contact_id = ANY($1::bigint[]) AND ended_at IS NOT NULL",
            cids,
        )
    )


async def _three_calls_ended(p: Parts, cids: list[int]) -> None:
    """Three calls dialled and ended, their closes submitted (none written yet)."""
    closer = p.closer()
    leases = await p.lease(3)
    assert sorted(cids) == sorted(lease.contact_id for lease in leases)
    calls = [await p.dialled(lease) for lease in leases]
    for call in calls:
        closer.ended(_ended(call.attempt_id, AmiOutcome.NO_ANSWER), p.clock.now())
        await p.clock.settle()


async def test_closes_that_arrive_within_the_linger_go_in_one_batch(one_conn_store: Store) -> None:
    store = one_conn_store
    camp = await campaign_of(store)
    cids = [await store.add_contact(camp.name, [f"+100555071{i}"]) for i in range(3)]
    async with parts(store, camp, settings=LINGER) as p:
        await _three_calls_ended(p, cids)
        seen = await _statements(store)
        await p.clock.run_until(p.clock.now() + 0.04)  # still within the first close's linger
        assert (3, 0, []) == (p.writer.pending, await _closed(store, cids), seen[1:])
        await p.clock.run_until(p.clock.now() + 0.02)
        await written(p)
        assert (1, 3, 3) == (p.writer.batches, p.writer.batched, p.writer.written)
        # the read of all three, their writes in one round trip (seen[0]: the count above)
        assert 2 == len(seen[1:]), seen
        assert seen[1].startswith("SELECT a.id AS attempt_id") and seen[2].startswith("WITH guard"), seen
        assert 3 == await _closed(store, cids)
        assert all(p.hopper.dialled(cid) is None for cid in cids)  # settled once written


async def test_without_a_linger_each_close_goes_alone_at_once(one_conn_store: Store) -> None:
    store = one_conn_store
    camp = await campaign_of(store)
    cids = [await store.add_contact(camp.name, [f"+100555072{i}"]) for i in range(3)]
    async with parts(store, camp) as p:  # write_linger_s 0: today's behaviour
        assert 0 == p.settings.write_linger_s
        await _three_calls_ended(p, cids)
        await written(p)  # without the clock moving: nothing waited for it
        assert (0, 0, 3) == (p.writer.batches, p.writer.batched, p.writer.written)
        assert 3 == await _closed(store, cids)


async def test_a_disposition_waits_behind_its_lingering_close(store: Store) -> None:
    name = await make_campaign(store, mode=DialingMode.PREDICTIVE)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=name)
    await store.update_campaign(name, default_disposition="Sukces")
    await store.create_status(StatusSpec("Mój", SystemStatus.MY_RECORD), campaign=name)
    cid = await store.add_contact(name, ["+1005550740"])
    await store.create_agent("lw1", "PJSIP/lw1")
    async with parts(store, await store.get_campaign(name), settings=LINGER) as p:
        await p.directory.resolve("lw1")
        dispositions = p.dispositions(VirtualPbx(p.clock, SCENARIOS["S1"]))
        [lease] = await p.lease()
        call = await p.dialled(lease, agent="lw1")
        dispositions.write("lw1", call.attempt_id, None, Disposition("Mój"))  # before the Ended
        p.closer().ended(_ended(call.attempt_id, AmiOutcome.CONNECTED), p.clock.now())
        dispositions.call_ended(call.attempt_id, cid)
        await p.clock.settle()
        await asyncio.sleep(0.05)  # real time: a disposition that did not wait would be written
        assert 2 == p.writer.pending
        assert [None] == [a.outcome for a in await store.contact_attempts(cid)]
        assert "Mój" != (await store.get_contact(cid)).status
        await p.clock.run_until(p.clock.now() + 0.05)
        await written(p)
    # the close (answered: the campaign's default disposition) first, the agent's status last
    assert "Mój" == (await store.get_contact(cid)).status
    assert [Outcome.ANSWERED] == [a.outcome for a in await store.contact_attempts(cid)]


async def test_a_lingering_close_is_written_when_the_runner_stops(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+1005550750"])
    [lease] = await store.lease_contacts(camp, at=utc(2026, 3, 10, 12), owner="e1", limit=1)
    attempt = await store.open_attempt(lease, at=utc(2026, 3, 10, 12))
    states: list[bool] = []
    writer = OutcomeWriter(RealClock(), dataclasses.replace(FAST, write_linger_s=60.0), states.append)
    task = asyncio.ensure_future(writer.run())
    done: list[object] = []
    try:
        result = AttemptResult(Outcome.BUSY, ended_at=utc(2026, 3, 10, 12, 1))
        writer.submit(
            f"close_attempt {attempt}",
            lambda: store.close_attempt(attempt, result),
            done.append,
            contacts=[cid],
            batch=(Batch(store.close_attempts), (attempt, result)),
        )
        await asyncio.sleep(0.1)
        assert (1, []) == (writer.pending, done)  # lingering: a minute to go
        assert await writer.end_linger(timeout_s=5.0)  # what the runner does when it stops
        assert (0, 1) == (writer.pending, len(done))
        [row] = await store.contact_attempts(cid)
        assert Outcome.BUSY == row.outcome
        # without a linger there is nothing to end: it returns at once, writing nothing
        idle = OutcomeWriter(RealClock(), FAST, states.append)
        assert await idle.end_linger(timeout_s=5.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
