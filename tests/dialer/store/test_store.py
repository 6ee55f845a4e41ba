"""Statuses, campaigns, callbacks and do-not-call through the store API."""

from __future__ import annotations

import datetime as dt

import pytest

from dialer.errors import NotFound, SlotUnavailable, ValidationError
from dialer.model import CallbackKind, Qualifier, StatusSpec, SystemStatus, Trigger
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, unique, utc

NOON = utc(2026, 3, 10, 12)


async def test_new_campaigns_get_auto_add_statuses_and_a_default(store: Store) -> None:
    auto = unique("Auto")
    off = unique("Off")
    await store.create_status(StatusSpec(auto, SystemStatus.CALL, Qualifier.CLOSING, auto_add=True))
    await store.create_status(StatusSpec(off, SystemStatus.CALL, auto_add=True, active=False))
    camp = await make_campaign(store)
    names = [s.name for s in await store.list_statuses(camp)]
    assert {"Dzwonić", "Nie dzwonić", auto} <= set(names)
    assert off not in names
    assert "Dzwonić" == (await store.get_campaign(camp)).default_status


async def test_one_status_per_trigger_in_a_campaign(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Busy A", trigger=Trigger.BUSY), campaign=camp)
    with pytest.raises(ValidationError) as e:
        await store.create_status(StatusSpec("Busy B", trigger=Trigger.BUSY), campaign=camp)
    assert "trigger" == e.value.field


async def test_duplicate_names_and_unknown_references_are_named(store: Store) -> None:
    camp = await make_campaign(store)
    with pytest.raises(ValidationError) as e:
        await store.create_status(StatusSpec("Dzwonić"))
    assert "name" == e.value.field
    with pytest.raises(NotFound):
        await store.add_status(camp, "No such status")
    with pytest.raises(NotFound):
        await store.get_campaign("no such campaign")


async def test_changing_a_status_meaning_reranks_its_contacts(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Flip", SystemStatus.CALL, Qualifier.CLOSING), campaign=camp)
    cid = await store.add_contact(camp, ["+48540000001"], status="Flip")
    await store.pool.execute(
        "UPDATE statuses SET system_status = 'do_not_call' WHERE name = 'Flip' AND campaign_id IS NOT NULL"
    )
    assert [] == await store.lease_contacts(camp, at=NOON, limit=5, owner="e")
    await store.pool.execute("UPDATE statuses SET system_status = 'call' WHERE name = 'Flip'")
    assert [cid] == [c.contact_id for c in await store.lease_contacts(camp, at=NOON, limit=5, owner="e")]


async def test_personal_callback_goes_to_its_agent_and_campaign_callback_to_anyone(store: Store) -> None:
    camp = await make_campaign(store)
    agent = await store.create_agent(unique("agent"))
    other = await store.create_agent(unique("agent"))
    mine = await store.add_contact(camp, ["+48540000002"], status="Nie dzwonić")
    ours = await store.add_contact(camp, ["+48540000003"], status="Nie dzwonić")
    await store.schedule_callback(mine, due_at=NOON, kind=CallbackKind.PERSONAL, agent_id=agent.id)
    await store.schedule_callback(ours, due_at=NOON + dt.timedelta(minutes=1))
    at = NOON + dt.timedelta(minutes=2)
    got = await store.lease_contacts(camp, at=at, limit=5, owner="e1", agent_ids=[other.id], ttl_s=1)
    assert [(ours, None)] == [(c.contact_id, c.agent_id) for c in got]
    got = await store.lease_contacts(camp, at=at + dt.timedelta(seconds=2), limit=5, owner="e2")
    assert [(mine, agent.id), (ours, None)] == [(c.contact_id, c.agent_id) for c in got]


async def test_do_not_call_status_does_not_stop_a_callback_but_the_dnc_list_does(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48540000004"], status="Nie dzwonić")
    cb = await store.schedule_callback(cid, due_at=NOON)
    assert [cid] == [
        c.contact_id for c in await store.lease_contacts(camp, at=NOON, limit=5, owner="e", ttl_s=1)
    ]
    await store.cancel_callback(cb.id)
    assert [] == await store.lease_contacts(camp, at=NOON + dt.timedelta(seconds=2), limit=5, owner="e")


async def test_full_callback_slot_is_refused(store: Store) -> None:
    camp = await make_campaign(store)
    slot = await store.add_callback_slot(camp, NOON, NOON + dt.timedelta(minutes=30), capacity=1)
    a = await store.add_contact(camp, ["+48540000005"])
    b = await store.add_contact(camp, ["+48540000006"])
    await store.schedule_callback(a, due_at=NOON, slot_id=slot)
    with pytest.raises(SlotUnavailable):
        await store.schedule_callback(b, due_at=NOON, slot_id=slot)


async def test_do_not_call_list_lookup_is_scoped(store: Store) -> None:
    camp = await make_campaign(store)
    other = await make_campaign(store)
    await store.add_do_not_call("+48540000007", campaign=camp, reason="asked")
    ids = {c.name: c.id for c in await store.list_campaigns()}
    assert (True, False) == (
        await store.is_do_not_call("+48540000007", ids[camp]),
        await store.is_do_not_call("+48540000007", ids[other]),
    )
    assert await store.remove_do_not_call("+48540000007", campaign=camp)
    assert not await store.is_do_not_call("+48540000007", ids[camp])


async def test_my_record_without_agent_is_refused(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Mine", SystemStatus.MY_RECORD), campaign=camp)
    cid = await store.add_contact(camp, ["+48540000008"])
    with pytest.raises(ValidationError) as e:
        await store.set_disposition(cid, "Mine", at=NOON)
    assert "agent" == e.value.field
