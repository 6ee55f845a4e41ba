"""Housekeeping alone: the hopper topped up and given back, leases renewed, adopted calls, queue members.

Real PostgreSQL (through a cuttable proxy where the database goes away), the in-memory
virtual PBX, and a virtual clock the tests move by hand.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from ami.agent_events import MemberChange
from benchmarks.callcentre import SCENARIOS
from benchmarks.engine.virtual_pbx import VirtualPbx
from dialer.model import ANSWERED_HOLD_S, DialingMode
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import ENGINE, MemberLog, campaign_of, parts, written
from tests.dialer.campaign.runner_fixtures import FAST, PgProxy


async def _owner(store: Store, contact_id: int) -> str | None:
    owner: str | None = await store.pool.fetchval(
        "SELECT lease_owner FROM contacts WHERE id = $1", contact_id
    )
    return owner


async def test_a_low_hopper_is_topped_up_and_an_exhausted_list_asked_again_only_a_tick_later(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    first = [await store.add_contact(camp.name, [f"+100555070{i}"]) for i in range(3)]
    async with parts(store, camp) as p:
        keeper = p.housekeeping(VirtualPbx(p.clock, SCENARIOS["S1"]))
        now = p.clock.now()
        await keeper.tend(now)
        assert sorted(first) == sorted(p.hopper.leased_ids())
        late = await store.add_contact(camp.name, ["+1005550709"])
        await keeper.tend(now + p.settings.tick_s / 2)
        assert 3 == p.hopper.depth  # nothing more was due: no lease call before the next tick
        await keeper.tend(now + p.settings.tick_s)
        assert 4 == p.hopper.depth
    assert [ENGINE] * 4 == [await _owner(store, cid) for cid in [*first, late]]


async def test_leases_taken_while_winding_down_go_back_at_once(store: Store) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005550710"])
    async with parts(store, camp) as p:
        keeper = p.housekeeping(VirtualPbx(p.clock, SCENARIOS["S1"]), winding_down=True)
        await keeper.tend(p.clock.now())
        assert 0 == p.hopper.depth
        await written(p)
    assert await _owner(store, cid) is None


async def test_no_refill_while_paused_nor_for_a_progressive_campaign_without_agents(store: Store) -> None:
    predictive = await campaign_of(store)
    progressive = await campaign_of(store, mode=DialingMode.PROGRESSIVE)
    for camp in (predictive, progressive):
        await store.add_contact(camp.name, ["+1005550711"])
    async with parts(store, predictive) as p:
        await p.housekeeping(VirtualPbx(p.clock, SCENARIOS["S1"]), paused=True).tend(p.clock.now())
        assert 0 == p.hopper.depth
    async with parts(store, progressive) as p:
        keeper = p.housekeeping(VirtualPbx(p.clock, SCENARIOS["S1"]))
        await keeper.tend(p.clock.now())
        assert 0 == p.hopper.depth
        p.board.login("hk1", "PJSIP/hk1", p.clock.now())
        await keeper.tend(p.clock.now())
        assert 1 == p.hopper.depth


async def test_renewal_keeps_an_answered_contact_for_the_answered_hold_and_others_for_the_lease(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    for i in range(2):
        await store.add_contact(camp.name, [f"+100555072{i}"])
    async with parts(store, camp) as p:
        keeper = p.housekeeping(VirtualPbx(p.clock, SCENARIOS["S1"]))
        waiting, answered = await p.lease(2)
        call = await p.dialled(answered)
        p.calls.await_disposition(call.attempt_id, answered.contact_id)
        renew_at = p.clock.now() + p.settings.lease_renew_s
        await keeper.tend(renew_at - 0.5)
        assert renew_at - p.settings.lease_renew_s == keeper.last_renewed_at  # not due yet
        await keeper.tend(renew_at)
        assert renew_at == keeper.last_renewed_at
    rows = await store.pool.fetch(
        "SELECT id, lease_expires_at FROM contacts WHERE id = ANY($1::bigint[])",
        [waiting.contact_id, answered.contact_id],
    )
    expires = {r["id"]: r["lease_expires_at"] for r in rows}
    start = dt.datetime.fromtimestamp(renew_at, dt.UTC)
    assert {
        waiting.contact_id: start + dt.timedelta(seconds=p.settings.lease_ttl_s),
        answered.contact_id: start + dt.timedelta(seconds=ANSWERED_HOLD_S),
    } == expires


async def test_a_lost_database_pauses_leasing_with_backoff_and_the_next_lease_call_probes_it(
    db_dsn: str, store: Store
) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005550730"])
    proxy = PgProxy(db_dsn)
    await proxy.start()
    proxied = await Store.open(proxy.dsn, min_size=1, max_size=2, migrate_now=False)
    settings = dataclasses.replace(FAST, db_retry_initial_s=4.0, db_retry_max_s=30.0)
    try:
        async with parts(proxied, camp, settings=settings) as p:
            keeper = p.housekeeping(VirtualPbx(p.clock, SCENARIOS["S1"]))
            now = p.clock.now()
            await proxy.cut()
            await keeper.tend(now)
            assert (1, [now]) == (keeper.store_failures, p.woken)  # woken once, to pause launching
            await proxy.restore()
            await keeper.tend(now + 3.9)
            assert (1, 0) == (keeper.store_failures, p.hopper.depth)  # backing off
            await keeper.tend(now + 4.0)
            assert (0, [cid]) == (keeper.store_failures, p.hopper.leased_ids())
            keeper.note_store_failure()  # the dial path saw the database fail
            assert 1 == keeper.store_failures
    finally:
        await proxied.close()
        await proxy.close()


async def test_an_adopted_call_is_an_ordinary_call_in_flight_its_contact_dialled(store: Store) -> None:
    camp = await campaign_of(store)
    await store.add_contact(camp.name, ["+1005550740"])
    async with parts(store, camp) as p:
        keeper = p.housekeeping(VirtualPbx(p.clock, SCENARIOS["S1"]))
        [lease] = await p.lease()
        keeper.adopt("4242", lease, p.clock.now() - 5.0)
        call = p.calls.get("4242")
        assert call is not None and (None, None) == (call.agent, call.answered_at)
        assert lease == p.hopper.dialled(lease.contact_id)  # renewed with the others, not re-leased


async def test_after_a_reconnect_logged_in_agents_are_queue_members_again_paused_ones_paused(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    async with parts(store, camp) as p:
        pbx = VirtualPbx(p.clock, SCENARIOS["S1"])
        members = MemberLog()
        pbx.subscribe(members)
        keeper = p.housekeeping(pbx)
        now = p.clock.now()
        for name in ("r1", "r2", "r3"):
            p.board.login(name, f"PJSIP/{name}", now)
        p.board.pause("r2", now)
        p.board.logout("r3", now)
        check = keeper.restore_members(now)
        assert check is not None
        await check
        await asyncio.sleep(0)  # the PBX reports members as frames off a socket: a loop turn later
        assert [
            (MemberChange.ADDED, "PJSIP/r1", False, None),
            (MemberChange.ADDED, "PJSIP/r2", True, None),
        ] == members.changes
