"""Closes that queued up, written together (issue 18 item 3): one read, one round trip of writes.

Each close in a batch keeps the single close's guard (attempt open, contact row the version
read, the writer's fence); a close its guard refuses wrote nothing and goes alone, as a
single close would retry it. Against the embedded PostgreSQL.
"""

from __future__ import annotations

import asyncio

import asyncpg

from dialer.campaign.ownership import FencedStore, Ownership
from dialer.errors import AttemptClosed, NotFound, OwnershipLost
from dialer.model import AppliedOutcome, AttemptResult, Fence, Outcome
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12)


async def _opened(store: Store, camp: str, numbers: list[str], owner: str = "e1") -> list[int]:
    cids = [await store.add_contact(camp, [n]) for n in numbers]
    leases = await store.lease_contacts(camp, at=NOON, owner=owner, limit=len(numbers))
    assert sorted(cids) == sorted(lease.contact_id for lease in leases)
    return [await store.open_attempt(lease, at=NOON) for lease in sorted(leases, key=lambda x: x.contact_id)]


async def test_a_batch_writes_every_close_in_two_round_trips_and_names_each_error(
    one_conn_store: Store,
) -> None:
    store = one_conn_store
    camp = await make_campaign(store)
    a, b, c, d = await _opened(store, camp, [f"+4851000300{n}" for n in range(4)])
    await store.close_attempt(c, AttemptResult(Outcome.BUSY, ended_at=NOON))
    seen: list[str] = []
    async with store.pool.acquire() as conn:
        raw: asyncpg.Connection = conn._con  # type: ignore[attr-defined]
        raw.add_query_logger(lambda record: seen.append(" ".join(record.query.split())))
    results = await store.close_attempts(
        [
            (b, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON)),
            (a, AttemptResult(Outcome.BUSY, ended_at=NOON)),
            (c, AttemptResult(Outcome.BUSY, ended_at=NOON)),
            (987654321, AttemptResult(Outcome.BUSY, ended_at=NOON)),
            (d, AttemptResult(Outcome.CANCELLED, ended_at=NOON)),
        ]
    )
    # the read, the outcome writes (one round trip), the cancelled one's write (another)
    assert 3 == len(seen), seen
    assert [AppliedOutcome, AppliedOutcome, AttemptClosed, NotFound, AppliedOutcome] == [
        type(r) for r in results
    ]
    assert [b, a, d] == [r.attempt_id for r in results if isinstance(r, AppliedOutcome)]
    by_id = {x["id"]: x for x in await store.pool.fetch("SELECT id, outcome FROM attempts")}
    assert ["no_answer", "busy", "busy", "cancelled"] == [by_id[i]["outcome"] for i in (b, a, c, d)]
    contacts = {
        r.attempt_id: await store.get_contact(r.contact_id) for r in results if isinstance(r, AppliedOutcome)
    }
    assert (1, 1, 0) == (contacts[a].attempts, contacts[b].attempts, contacts[d].attempts)
    # a second batch of the same closes writes nothing more
    again = await store.close_attempts([(a, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))])
    assert [AttemptClosed] == [type(r) for r in again]
    assert 1 == (await store.get_contact(contacts[a].id)).attempts


async def _waiting_on_a_lock(store: Store) -> None:
    for _ in range(200):
        waiting = await store.pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the batch never waited on the lock")


async def test_a_close_whose_guard_refuses_in_the_batch_is_read_and_written_again_alone(
    store: Store, db_dsn: str
) -> None:
    camp = await make_campaign(store)
    a, b, c = await _opened(store, camp, [f"+4851000310{n}" for n in range(3)])
    cid_b = await store.pool.fetchval("SELECT contact_id FROM attempts WHERE id = $1", b)
    other = await asyncpg.connect(db_dsn)
    try:
        tx = other.transaction()
        await tx.start()
        # a new version of b's contact, not yet committed: the batch reads the old one, then
        # its write waits for the row and finds a version it did not plan on
        await other.execute(
            "UPDATE contacts SET lease_expires_at = lease_expires_at + interval '1 minute' WHERE id = $1",
            cid_b,
        )
        closing = asyncio.ensure_future(
            store.close_attempts([(x, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON)) for x in (a, b, c)])
        )
        await _waiting_on_a_lock(store)
        await tx.commit()
        results = await closing
    finally:
        await other.close()
    assert [a, b, c] == [r.attempt_id for r in results if isinstance(r, AppliedOutcome)]
    rows = await store.pool.fetch(
        "SELECT a.id, a.outcome, c.attempts, c.lease_owner"
        " FROM attempts a JOIN contacts c ON c.id = a.contact_id"
        " WHERE a.id = ANY($1::bigint[]) ORDER BY a.id",
        [a, b, c],
    )
    # each closed once: counted once, lease released (b's planned again on its new row)
    assert [("no_answer", 1, None)] * 3 == [(r["outcome"], r["attempts"], r["lease_owner"]) for r in rows]


async def test_a_batch_under_a_fence_taken_over_writes_nothing(store: Store) -> None:
    name = await make_campaign(store)
    cid = (await store.get_campaign(name)).id
    old = Fence("batch-a", (await store.take_campaign("batch-a", cid, expiry_s=30) or (0, None))[0])
    a, b = await _opened(store, name, ["+48510003201", "+48510003202"], owner="batch-a")
    token, _ = await store.take_campaign("batch-b", cid, expiry_s=0) or (0, None)
    assert token == old.token + 1
    results = await store.close_attempts(
        [(x, AttemptResult(Outcome.BUSY, ended_at=NOON)) for x in (a, b)], fence=old
    )
    assert [OwnershipLost, OwnershipLost] == [type(r) for r in results]
    assert {None} == {x.ended_at for x in await store.open_attempts("batch-a")}
    assert 2 == len(await store.open_attempts("batch-a"))


async def test_a_fenced_runner_batches_under_its_token_and_learns_when_it_lost(store: Store) -> None:
    name = await make_campaign(store)
    cid = (await store.get_campaign(name)).id
    ownership = Ownership(store, "batch-f")
    token, _ = await store.take_campaign("batch-f", cid, expiry_s=30) or (0, None)
    ownership.tokens[cid] = token
    lost: list[int] = []
    fenced = FencedStore(store, ownership, cid, lost.append)
    a, b, c = await _opened(store, name, ["+48510003301", "+48510003302", "+48510003303"], owner="batch-f")
    done = await fenced.close_attempts([(a, AttemptResult(Outcome.BUSY, ended_at=NOON))])
    assert [a] == [r.attempt_id for r in done if isinstance(r, AppliedOutcome)] and [] == lost
    await store.take_campaign("batch-g", cid, expiry_s=0)  # taken over: the token no longer holds
    refused = await fenced.close_attempts([(x, AttemptResult(Outcome.BUSY, ended_at=NOON)) for x in (b, c)])
    assert [OwnershipLost, OwnershipLost] == [type(r) for r in refused]
    assert [cid] == lost and cid not in ownership.tokens
    assert 2 == len(await store.open_attempts("batch-f"))
