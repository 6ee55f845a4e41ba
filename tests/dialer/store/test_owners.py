"""Campaign ownership among engines: take-over, heartbeats, and the fence on attempt writes."""

from __future__ import annotations

import asyncio

import pytest

from dialer.campaign.ownership import FencedStore, Ownership
from dialer.errors import LeaseLost, OwnershipLost
from dialer.model import AttemptResult, Fence, LeasedContact, Outcome
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12)


async def _campaign_id(store: Store, name: str) -> int:
    return (await store.get_campaign(name)).id


async def test_a_campaign_has_one_owner_until_its_heartbeat_expires(store: Store) -> None:
    cid = await _campaign_id(store, await make_campaign(store))
    assert (1, None) == await store.take_campaign("own-a", cid, expiry_s=30)
    assert None is await store.take_campaign("own-b", cid, expiry_s=30)  # a's heartbeat is fresh
    assert {cid} == await store.engine_heartbeat("own-a", {cid: 1})
    await asyncio.sleep(0.3)
    # expired for b's purposes: b takes it with the next token, and a's heartbeat no longer holds it
    assert (2, "own-a") == await store.take_campaign("own-b", cid, expiry_s=0.2)
    assert set() == await store.engine_heartbeat("own-a", {cid: 1})
    assert {cid} == await store.engine_heartbeat("own-b", {cid: 2})
    # a restarted engine of the same id takes its own campaign at once, with a new token
    assert (3, "own-b") == await store.take_campaign("own-b", cid, expiry_s=30)


async def test_a_graceful_stop_hands_the_campaigns_back_at_once(store: Store) -> None:
    cid = await _campaign_id(store, await make_campaign(store))
    assert (1, None) == await store.take_campaign("hb-a", cid, expiry_s=30)
    await store.engine_heartbeat("hb-a", {cid: 1})
    assert [] == await store.unowned_campaigns([cid], expiry_s=30)
    assert 1 == await store.hand_back_campaigns("hb-a")
    assert [cid] == await store.unowned_campaigns([cid], expiry_s=30)
    assert (2, None) == await store.take_campaign("hb-b", cid, expiry_s=30)
    [a] = [e for e in await store.engines(expiry_s=30) if e.engine_id == "hb-a"]
    assert (False, (), 0) == (a.alive, a.campaigns, a.calls)
    assert a.stopped_at is not None


async def _owned_with_two_leased(
    store: Store, engine: str, numbers: list[str]
) -> tuple[str, int, Fence, LeasedContact, LeasedContact]:
    """A campaign ``engine`` owns (its fence) with two contacts it leased."""
    name = await make_campaign(store)
    cid = await _campaign_id(store, name)
    for number in numbers:
        await store.add_contact(name, [number])
    fence = Fence(engine, (await store.take_campaign(engine, cid, expiry_s=30) or (0, None))[0])
    first, second = await store.lease_contacts(name, at=NOON, limit=2, owner=engine)
    return name, cid, fence, first, second


async def test_a_former_owner_can_neither_open_nor_close_an_attempt(store: Store) -> None:
    _, cid, old, first, second = await _owned_with_two_leased(
        store, "fence-a", ["+48510001001", "+48510001002"]
    )
    attempt = await store.open_attempt(first, at=NOON, fence=old)
    await asyncio.sleep(0.15)
    token, previous = await store.take_campaign("fence-b", cid, expiry_s=0.1) or (0, None)
    assert (old.token + 1, "fence-a") == (token, previous)
    # the lease still holds (it is the contact's), but the campaign is no longer fence-a's
    with pytest.raises(OwnershipLost):
        await store.open_attempt(second, at=NOON, fence=old)
    with pytest.raises(OwnershipLost):
        await store.close_attempt(attempt, AttemptResult(Outcome.BUSY, ended_at=NOON), fence=old)
    assert [attempt] == [a.id for a in await store.open_attempts("fence-a")]  # nothing written
    assert 1 == await store.claim_campaign_attempts("fence-b", cid)
    new = Fence("fence-b", token)
    await store.close_attempt(attempt, AttemptResult(Outcome.BUSY, ended_at=NOON), fence=new)
    assert [] == await store.open_attempts("fence-b")
    # OwnershipLost is a lease lost: the dial path gives the contact back as for any lost lease
    assert issubclass(OwnershipLost, LeaseLost)


async def test_claiming_moves_open_attempts_and_their_leases_to_the_new_owner(store: Store) -> None:
    name = await make_campaign(store)
    cid = await _campaign_id(store, name)
    contact = await store.add_contact(name, ["+48510001003"])
    [lease] = await store.lease_contacts(name, at=NOON, limit=1, owner="claim-a")
    attempt = await store.open_attempt(lease, at=NOON)
    assert 1 == await store.claim_campaign_attempts("claim-b", cid)
    assert [attempt] == [a.id for a in await store.open_attempts("claim-b")]
    assert "claim-b" == (await store.pool.fetchval("SELECT lease_owner FROM contacts WHERE id = $1", contact))
    assert 0 == await store.claim_campaign_attempts("claim-b", cid)  # already its own


async def test_a_former_owner_can_neither_renew_its_leases_nor_set_a_disposition(store: Store) -> None:
    name, cid, old, first, second = await _owned_with_two_leased(
        store, "renew-a", ["+48510002001", "+48510002002"]
    )
    ids = sorted([first.contact_id, second.contact_id])
    attempt = await store.open_attempt(first, at=NOON, fence=old)
    await store.close_attempt(attempt, AttemptResult(Outcome.ANSWERED, ended_at=NOON), fence=old)
    assert ids == await store.renew_leases("renew-a", ids, at=NOON, ttl_s=60, fence=old)  # still ours
    await asyncio.sleep(0.15)
    token, _ = await store.take_campaign("renew-b", cid, expiry_s=0.1) or (0, None)
    assert [] == await store.renew_leases("renew-a", ids, at=NOON, ttl_s=60, fence=old)
    status = next(s.name for s in await store.list_statuses(name) if s.name != first.reason)
    before = await store.get_contact(first.contact_id)
    with pytest.raises(OwnershipLost):
        await store.set_disposition(first.contact_id, status, at=NOON, attempt_id=attempt, fence=old)
    assert before == await store.get_contact(first.contact_id)  # nothing written
    await store.set_disposition(
        first.contact_id, status, at=NOON, attempt_id=attempt, fence=Fence("renew-b", token)
    )
    assert status == (await store.get_contact(first.contact_id)).status
    # unfenced (a single engine, the engine's own reconciliation): as before
    assert [second.contact_id] == await store.renew_leases("renew-a", [second.contact_id], at=NOON, ttl_s=60)


async def _lease_owner(store: Store, contact_id: int) -> str | None:
    owner: str | None = await store.pool.fetchval(
        "SELECT lease_owner FROM contacts WHERE id = $1", contact_id
    )
    return owner


async def test_a_former_owners_release_changes_nothing_and_the_owners_release_works(store: Store) -> None:
    name, cid, old, first, second = await _owned_with_two_leased(
        store, "release-a", ["+48510004001", "+48510004002"]
    )
    assert 1 == await store.release_leases("release-a", [first.contact_id], fence=old)  # still ours
    assert None is await _lease_owner(store, first.contact_id)
    await asyncio.sleep(0.15)
    token, _ = await store.take_campaign("release-b", cid, expiry_s=0.1) or (0, None)
    assert 0 == await store.release_leases("release-a", [second.contact_id], fence=old)
    assert "release-a" == await _lease_owner(store, second.contact_id)  # held until it expires
    # the new owner's release of what it leased works under its own token
    [again] = await store.lease_contacts(name, at=NOON, limit=1, owner="release-b")
    assert 0 == await store.release_leases("release-b", [again.contact_id], fence=old)  # an old token: no
    assert 1 == await store.release_leases("release-b", [again.contact_id], fence=Fence("release-b", token))
    assert None is await _lease_owner(store, again.contact_id)


async def test_an_engine_takes_at_most_its_max_campaigns_and_another_takes_the_rest(store: Store) -> None:
    wanted = [await _campaign_id(store, await make_campaign(store)) for _ in range(2)]
    a = Ownership(store, "max-a", takeover_s=30, max_campaigns=1)
    b = Ownership(store, "max-b", takeover_s=30, max_campaigns=1)
    await a.beat()
    await b.beat()
    [(first, previous)] = await a.take(wanted)
    assert previous is None
    assert [] == await a.take(wanted)  # at its share: the other campaign stays free
    assert [first] == list(a.tokens) and 1 == a.unowned
    [(second, previous)] = await b.take(wanted)
    assert previous is None
    assert {first, second} == set(wanted) and [second] == list(b.tokens)
    assert 0 == b.unowned and [] == await store.unowned_campaigns(wanted, expiry_s=30)
    shown = {e.engine_id: e for e in await store.engines(expiry_s=30)}
    assert (1, 1) == (shown["max-a"].max_campaigns, shown["max-b"].max_campaigns)
    assert len(shown["max-a"].campaigns) == 1 == len(shown["max-b"].campaigns)
    assert shown["max-a"].campaigns != shown["max-b"].campaigns


async def test_a_fenced_runners_release_carries_its_token(store: Store) -> None:
    _, cid, old, first, second = await _owned_with_two_leased(
        store, "frel-a", ["+48510005001", "+48510005002"]
    )
    ownership = Ownership(store, "frel-a", takeover_s=30)
    ownership.tokens[cid] = old.token
    lost: list[int] = []
    fenced = FencedStore(store, ownership, cid, lost.append)
    assert 1 == await fenced.release_leases("frel-a", [first.contact_id])
    await asyncio.sleep(0.15)
    await store.take_campaign("frel-b", cid, expiry_s=0.1)  # taken over; the runner does not know yet
    assert 0 == await fenced.release_leases("frel-a", [second.contact_id])
    assert "frel-a" == await _lease_owner(store, second.contact_id)
    ownership.drop(cid)  # the heartbeat told it: no write at all, and the runner is stopped
    with pytest.raises(OwnershipLost):
        await fenced.release_leases("frel-a", [second.contact_id])
    assert [cid] == lost
