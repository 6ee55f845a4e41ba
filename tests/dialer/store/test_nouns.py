"""The store's noun classes work alone on one shared pool, and compose into Store without clashes."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dialer.model import AttemptResult, CampaignSpec, CampaignState, DialingMode, Outcome
from dialer.ports import ContactStore
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.attempts import Attempts
from dialer.store.campaigns import Campaigns
from dialer.store.connection import PoolNoun, create_pool
from dialer.store.contacts import Contacts
from dialer.store.store import Store
from tests.dialer.conftest import unique, utc

NOON = utc(2026, 3, 10, 12)


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_dsn, min_size=1, max_size=2)
    try:
        yield p
    finally:
        await p.close()


def _noun_classes() -> list[type[PoolNoun]]:
    return [c for c in Store.__mro__ if issubclass(c, PoolNoun) and c not in (Store, PoolNoun)]


def _methods(cls: type) -> set[str]:
    return {
        name
        for name, value in vars(cls).items()
        if (inspect.isfunction(value) or isinstance(value, classmethod)) and not name.startswith("__")
    }


async def test_campaigns_contacts_and_attempts_work_alone_on_one_pool(pool: asyncpg.Pool) -> None:
    campaigns, contacts, attempts = Campaigns(pool), Contacts(pool), Attempts(pool)
    window = unique("W")
    await campaigns.create_schedule(
        Schedule(name=window, frequency=Frequency.DAILY, window_start=dt.time(0), window_end=dt.time(0))
    )
    camp = await campaigns.create_campaign(
        CampaignSpec(
            name=unique("C"),
            schedule=window,
            mode=DialingMode.PROGRESSIVE,
            state=CampaignState.RUNNING,
            local_hours_start=dt.time(8),
            local_hours_end=dt.time(21),
        )
    )
    cid = await contacts.add_contact(camp.name, ["+48510000901"], fields={"account": "A-17"})

    [lease] = await contacts.lease_contacts(camp.name, at=NOON, limit=5, owner="alone")
    assert (cid, camp.id, "+48510000901", "alone") == (
        lease.contact_id,
        lease.campaign_id,
        lease.e164,
        lease.lease_owner,
    )
    att = await attempts.open_attempt(lease, at=NOON)
    applied = await attempts.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))

    assert (att, cid) == (applied.attempt_id, applied.contact_id)
    assert [(att, Outcome.NO_ANSWER)] == [(a.id, a.outcome) for a in await attempts.contact_attempts(cid)]
    contact = await contacts.get_contact(cid)
    assert ({"account": "A-17"}, 1) == (contact.fields, contact.attempts)  # jsonb codec from create_pool
    # not due again yet (the no-answer retry), so nothing to lease
    assert [] == await contacts.lease_contacts(camp.name, at=NOON, limit=5, owner="alone")
    assert not hasattr(contacts, "create_campaign")
    assert not hasattr(campaigns, "lease_contacts")


def test_no_two_noun_classes_define_the_same_method() -> None:
    owners: dict[str, list[str]] = {}
    for cls in _noun_classes():
        for name in _methods(cls):
            owners.setdefault(name, []).append(cls.__name__)
    assert {} == {name: classes for name, classes in owners.items() if len(classes) > 1}


def test_every_contact_store_method_comes_from_a_noun_class() -> None:
    from_nouns = set().union(*(_methods(cls) for cls in _noun_classes()))
    port = {name for name in _methods(ContactStore) if not name.startswith("_")}
    assert set() == port - from_nouns
    assert {"open", "close", "migrate"} == _methods(Store)
