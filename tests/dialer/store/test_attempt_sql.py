"""Opening and closing an attempt in few statements (issue 18 item 3) keeps every rule.

Opening: the dial-time checks and the insert are one statement, so a refusal writes nothing,
the lease is still checked, and a schedule edited behind the memo of the schedule is caught.
Closing: one read and one write guarded by the contact's row version, so a change between
them makes the write do nothing and the close is planned again.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from dialer.errors import AttemptClosed, LeaseLost
from dialer.model import AttemptResult, DialRefusal, Outcome
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.attempt_sql import CLOSE_READ_SQL, CLOSE_WRITE_SQL
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, unique, utc

NOON = utc(2026, 3, 10, 12, 0)


async def test_a_refused_dial_writes_no_attempt_and_names_the_rule(store: Store) -> None:
    camp = await make_campaign(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    cid = await store.add_contact(camp, ["+48500002001"], timezone="Europe/Warsaw")
    [lease] = await store.lease_contacts(camp, at=utc(2026, 3, 10, 19, 59), owner="e1", limit=1)
    late = utc(2026, 3, 10, 20, 0, 4)  # 21:00:04 in Warsaw
    assert DialRefusal.OUTSIDE_LOCAL_HOURS == await store.open_checked_attempt(
        lease, at=late, agent_reserved=False
    )
    assert [] == await store.contact_attempts(cid, include_cleared=True)
    opened = await store.open_checked_attempt(lease, at=utc(2026, 3, 10, 19, 59, 30), agent_reserved=False)
    assert isinstance(opened, int)
    [attempt] = await store.contact_attempts(cid)
    assert (opened, "e1", lease.e164) == (attempt.id, attempt.engine_id, attempt.e164)


async def test_a_dial_without_the_lease_is_lease_lost_and_writes_nothing(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48500002002"])
    [lease] = await store.lease_contacts(camp, at=NOON, owner="e1", limit=1)
    await store.release_leases("e1", [cid])
    with pytest.raises(LeaseLost):
        await store.open_checked_attempt(lease, at=NOON, agent_reserved=False)
    assert [] == await store.contact_attempts(cid, include_cleared=True)


async def test_a_schedule_edited_after_the_memo_is_judged_on_its_new_row(store: Store) -> None:
    name = unique("S")
    await store.create_schedule(
        Schedule(
            name=name,
            frequency=Frequency.DAILY,
            window_start=dt.time(9),
            window_end=dt.time(17),
            timezone="UTC",
        )
    )
    camp = await make_campaign(store, schedule=name)
    for n in range(3):
        await store.add_contact(camp, [f"+4850000201{n}"])
    leases = await store.lease_contacts(camp, at=NOON, owner="e1", limit=3)
    # the memo learns the open schedule; then it closes at noon, then opens again
    assert isinstance(await store.open_checked_attempt(leases[0], at=NOON, agent_reserved=False), int)
    await store.update_schedule(name, window_start=dt.time(13))
    assert DialRefusal.SCHEDULE_CLOSED == await store.open_checked_attempt(
        leases[1], at=NOON, agent_reserved=False
    )
    await store.update_schedule(name, window_start=dt.time(9))
    assert isinstance(await store.open_checked_attempt(leases[1], at=NOON, agent_reserved=False), int)
    assert None is await store.recheck_before_dial(leases[2], at=NOON, agent_reserved=False)


async def test_a_contact_changed_between_the_close_read_and_write_is_not_written(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48500002021"])
    [lease] = await store.lease_contacts(camp, at=NOON, owner="e1", limit=1)
    att = await store.open_attempt(lease, at=NOON)
    [row] = await store.pool.fetch(CLOSE_READ_SQL, [att], ["no_answer"], None, None)  # unfenced
    await store.renew_leases("e1", [cid], at=NOON, ttl_s=300)  # a new row version of the contact
    args = [
        att,
        NOON,
        None,
        "no_answer",
        None,
        None,
        None,
        None,
        None,
        row["status_id"],
        cid,
        None,
        None,
        None,
    ]
    args += [None, None, row["status_id"], 1, {}, 1, NOON.date(), NOON, 1, None, NOON, False, None]
    args += [row["status_id"], row["campaign_id"], "trigger:no_answer", row["contact_version"], None, None]
    assert None is await store.pool.fetchval(CLOSE_WRITE_SQL, *args)
    assert None is (await store.contact_attempts(cid))[0].ended_at
    # the store's close reads again and writes
    applied = await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))
    assert (cid, att) == (applied.contact_id, applied.attempt_id)
    [attempt] = await store.contact_attempts(cid)
    assert Outcome.NO_ANSWER == attempt.outcome
    owner = await store.pool.fetchval("SELECT lease_owner FROM contacts WHERE id = $1", cid)
    assert (1, None) == ((await store.get_contact(cid)).attempts, owner)


async def test_two_closes_of_one_attempt_at_once_write_it_once(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48500002022"])
    [lease] = await store.lease_contacts(camp, at=NOON, owner="e1", limit=1)
    att = await store.open_attempt(lease, at=NOON)
    results = await asyncio.gather(
        store.close_attempt(att, AttemptResult(Outcome.BUSY, ended_at=NOON)),
        store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON)),
        return_exceptions=True,
    )
    assert 1 == sum(isinstance(r, AttemptClosed) for r in results), results
    assert 1 == (await store.get_contact(cid)).attempts
