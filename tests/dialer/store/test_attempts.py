"""Attempts open before the Originate, close with an outcome, and move the contact on."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dialer.errors import AttemptClosed, LeaseLost, NotFound
from dialer.model import (
    AttemptResult,
    Backoff,
    CallbackKind,
    Outcome,
    RetryRule,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.store.statuses import DEFAULT_RULES
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12)


async def _lease_one(store: Store, camp: str, at: dt.datetime = NOON, owner: str = "e1"):
    [lease] = await store.lease_contacts(camp, at=at, limit=1, owner=owner)
    return lease


async def test_trigger_status_and_its_retry_rule_apply(store: Store) -> None:
    camp = await make_campaign(store)
    rule = RetryRule(delay_s=300, backoff=Backoff.MULTIPLICATIVE, factor=2.0)
    await store.create_status(StatusSpec("Zajęty", trigger=Trigger.BUSY, retry=rule), campaign=camp)
    cid = await store.add_contact(camp, ["+48510000001"])
    lease = await _lease_one(store, camp)
    att = await store.open_attempt(lease, at=NOON)
    applied = await store.close_attempt(
        att, AttemptResult(Outcome.BUSY, ended_at=NOON, hangup_cause=17, asterisk_uniqueid="1741.1")
    )
    assert ("Zajęty", NOON + dt.timedelta(seconds=300)) == (applied.status, applied.not_before)
    contact = await store.get_contact(cid)
    assert ("Zajęty", 1) == (contact.status, contact.attempts)
    [history] = await store.contact_attempts(cid)
    assert (Outcome.BUSY, 17, "1741.1") == (history.outcome, history.hangup_cause, history.asterisk_uniqueid)
    # second busy doubles the delay
    later = NOON + dt.timedelta(seconds=300)
    att2 = await store.open_attempt(await _lease_one(store, camp, later), at=later)
    again = await store.close_attempt(att2, AttemptResult(Outcome.BUSY, ended_at=later))
    assert later + dt.timedelta(seconds=600) == again.not_before


async def test_missing_trigger_status_keeps_status_and_uses_default_rule(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48510000002"])
    att = await store.open_attempt(await _lease_one(store, camp), at=NOON)
    applied = await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))
    expected = NOON + dt.timedelta(seconds=DEFAULT_RULES[Trigger.NO_ANSWER].delay_s)
    assert ("Dzwonić", expected) == (applied.status, applied.not_before)


async def test_failed_number_moves_to_next_number_at_once(store: Store) -> None:
    camp = await make_campaign(store, max_attempts_per_day=10)
    await store.add_contact(camp, ["+48510000003", "+48510000004"])
    first = await _lease_one(store, camp)
    att = await store.open_attempt(first, at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))
    second = await _lease_one(store, camp)
    assert ("+48510000003", "+48510000004") == (first.e164, second.e164)
    att = await store.open_attempt(second, at=NOON)
    applied = await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))
    assert 1 == applied.next_phone_position
    assert [] == await store.lease_contacts(camp, at=NOON, limit=1, owner="e1")


async def test_invalid_number_is_disabled(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48510000005"])
    att = await store.open_attempt(await _lease_one(store, camp), at=NOON)
    applied = await store.close_attempt(att, AttemptResult(Outcome.INVALID_NUMBER, ended_at=NOON))
    assert "no_valid_number" == applied.closed_reason
    assert (await store.get_contact(cid)).phones[0].disabled


async def test_open_attempt_needs_the_lease(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48510000006"])
    lease = await _lease_one(store, camp)
    await store.release_leases("e1", [lease.contact_id])
    with pytest.raises(LeaseLost):
        await store.open_attempt(lease, at=NOON)


async def test_open_attempts_are_listed_until_closed_and_close_only_once(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48510000007"])
    att = await store.open_attempt(await _lease_one(store, camp, owner="crashy"), at=NOON)
    assert [att] == [a.id for a in await store.open_attempts("crashy")]
    await store.close_attempt(att, AttemptResult(Outcome.CONGESTION, ended_at=NOON))
    assert [] == await store.open_attempts("crashy")
    with pytest.raises(AttemptClosed):
        await store.close_attempt(att, AttemptResult(Outcome.BUSY, ended_at=NOON))


async def test_answered_call_stays_leased_until_disposition(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    cid = await store.add_contact(camp, ["+48510000008"])
    att = await store.open_attempt(await _lease_one(store, camp), at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.ANSWERED, ended_at=NOON, answered_at=NOON))
    assert [] == await store.lease_contacts(camp, at=NOON + dt.timedelta(minutes=5), limit=1, owner="e2")
    await store.set_disposition(cid, "Sukces", at=NOON, attempt_id=att)
    assert [] == await store.lease_contacts(camp, at=NOON + dt.timedelta(minutes=5), limit=1, owner="e2")
    assert "Sukces" == (await store.get_contact(cid)).status


async def test_expired_leases_are_reclaimed_and_renewal_keeps_them(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48510000009"])
    await store.add_contact(camp, ["+48510000010"])
    leased = await store.lease_contacts(camp, at=NOON, limit=2, owner="e1", ttl_s=30)
    ids = [c.contact_id for c in leased]
    assert ids[:1] == await store.renew_leases("e1", ids[:1], at=NOON + dt.timedelta(seconds=20), ttl_s=60)
    assert 1 == await store.reclaim_expired_leases(NOON + dt.timedelta(seconds=40))
    again = await store.lease_contacts(camp, at=NOON + dt.timedelta(seconds=40), limit=2, owner="e2")
    assert ids[1:] == [c.contact_id for c in again]


async def _dial(store: Store, camp: str, at: dt.datetime, outcome: Outcome):
    lease = await _lease_one(store, camp, at)
    att = await store.open_attempt(lease, at=at)
    return lease, await store.close_attempt(att, AttemptResult(outcome, ended_at=at))


async def test_first_number_keeps_its_delay_when_the_second_is_invalid(store: Store) -> None:
    """A no answer, B invalid: A is dialled again only after A's no-answer delay."""
    camp = await make_campaign(store, max_attempts_per_day=10)
    cid = await store.add_contact(camp, ["+48510000031", "+48510000032"])
    a, _ = await _dial(store, camp, NOON, Outcome.NO_ANSWER)
    later = NOON + dt.timedelta(seconds=30)
    b, applied = await _dial(store, camp, later, Outcome.INVALID_NUMBER)
    assert ("+48510000031", "+48510000032") == (a.e164, b.e164)
    a_due = NOON + dt.timedelta(seconds=DEFAULT_RULES[Trigger.NO_ANSWER].delay_s)
    assert (a_due, 1, None) == (applied.not_before, applied.next_phone_position, applied.closed_reason)
    assert [] == await store.lease_contacts(camp, at=later, limit=1, owner="e1")
    assert [] == await store.lease_contacts(camp, at=a_due - dt.timedelta(seconds=1), limit=1, owner="e1")
    again, _ = await _dial(store, camp, a_due, Outcome.BUSY)
    assert "+48510000031" == again.e164
    # only A is left: it is its own next number, so busy waits for busy's delay
    contact = await store.get_contact(cid)
    assert a_due + dt.timedelta(seconds=DEFAULT_RULES[Trigger.BUSY].delay_s) == contact.not_before


async def test_busy_then_machine_waits_for_the_machine_delay(store: Store) -> None:
    camp = await make_campaign(store, max_attempts_per_day=10)
    await store.add_contact(camp, ["+48510000033", "+48510000034"])
    await _dial(store, camp, NOON, Outcome.BUSY)
    _, applied = await _dial(store, camp, NOON, Outcome.MACHINE)
    assert NOON + dt.timedelta(seconds=DEFAULT_RULES[Trigger.MACHINE].delay_s) == applied.not_before
    assert 1 == applied.next_phone_position


async def test_every_number_invalid_closes_the_contact(store: Store) -> None:
    camp = await make_campaign(store, max_attempts_per_day=10)
    cid = await store.add_contact(camp, ["+48510000035", "+48510000036"])
    _, first = await _dial(store, camp, NOON, Outcome.INVALID_NUMBER)
    assert (None, 2) == (first.closed_reason, first.next_phone_position)
    _, last = await _dial(store, camp, NOON, Outcome.INVALID_NUMBER)
    assert "no_valid_number" == last.closed_reason
    assert all(p.disabled for p in (await store.get_contact(cid)).phones)
    assert [] == await store.lease_contacts(camp, at=NOON + dt.timedelta(days=2), limit=1, owner="e1")


async def test_closing_a_callback_attempt_moves_the_contact_to_its_next_callback(store: Store) -> None:
    camp = await make_campaign(store, max_attempts_per_day=10)
    cid = await store.add_contact(camp, ["+48510000037"])
    first = await store.schedule_callback(cid, due_at=NOON)
    second = await store.schedule_callback(cid, due_at=NOON + dt.timedelta(minutes=30))
    lease = await _lease_one(store, camp)
    assert ("callback", first.id) == (lease.reason, lease.callback_id)
    att = await store.open_attempt(lease, at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))
    assert [] == await store.lease_contacts(camp, at=NOON + dt.timedelta(minutes=1), limit=1, owner="e1")
    again = await _lease_one(store, camp, NOON + dt.timedelta(minutes=30))
    assert ("callback", second.id) == (again.reason, again.callback_id)


async def test_disposition_updates_the_attempt_the_history_and_the_retry(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Oddzwonić", retry=RetryRule(delay_s=900)), campaign=camp)
    cid = await store.add_contact(camp, ["+48510000038"])
    att = await store.open_attempt(await _lease_one(store, camp), at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.ANSWERED, ended_at=NOON, answered_at=NOON))
    with pytest.raises(NotFound):
        await store.set_disposition(cid, "Nie ma takiego", at=NOON, attempt_id=att)
    with pytest.raises(NotFound):
        await store.set_disposition(-1, "Oddzwonić", at=NOON)
    await store.set_disposition(cid, "Oddzwonić", at=NOON, attempt_id=att)
    contact = await store.get_contact(cid)
    assert ("Oddzwonić", NOON + dt.timedelta(seconds=900)) == (contact.status, contact.not_before)
    history = await store.pool.fetch(
        "SELECT s.name, h.reason, h.attempt_id FROM status_changes h JOIN statuses s ON s.id = h.to_status"
        " WHERE h.contact_id = $1 ORDER BY h.id",
        cid,
    )
    # the answer gave it the default disposition at once (migration 004); the agent's replaced it
    assert [
        ("Odebrany bez dyspozycji", "trigger:answered", att),
        ("Oddzwonić", "disposition", att),
    ] == [tuple(r) for r in history]
    assert "Oddzwonić" == await store.pool.fetchval(
        "SELECT s.name FROM attempts a JOIN statuses s ON s.id = a.status_id WHERE a.id = $1", att
    )
    assert [] == await store.lease_contacts(camp, at=NOON + dt.timedelta(minutes=14), limit=1, owner="e2")
    assert [cid] == [
        c.contact_id
        for c in await store.lease_contacts(camp, at=NOON + dt.timedelta(minutes=15), limit=1, owner="e2")
    ]


async def test_a_disposition_with_a_callback_keeps_the_lease_until_it_is_booked(store: Store) -> None:
    # released between the two writes, the contact would be a plain retry due now, and a refill
    # could lease it (and dial it predictively) without the agent its callback is for
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Oddzwonić", SystemStatus.NOT_BEFORE), campaign=camp)
    agent = await store.create_agent("kl1")
    cid = await store.add_contact(camp, ["+48510000039"])
    att = await store.open_attempt(await _lease_one(store, camp), at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.ANSWERED, ended_at=NOON, answered_at=NOON))
    await store.set_disposition(
        cid, "Oddzwonić", at=NOON, agent_id=agent.id, not_before=NOON, attempt_id=att, keep_lease=True
    )
    later = NOON + dt.timedelta(seconds=1)
    assert [] == await store.lease_contacts(camp, at=later, limit=1, owner="e2")
    assert [] == await store.lease_contacts(camp, at=later, limit=1, owner="e2", agent_reserved=True)
    await store.schedule_callback(
        cid, due_at=NOON, kind=CallbackKind.PERSONAL, agent_id=agent.id, at=NOON, release_lease=True
    )
    [lease] = await store.lease_contacts(camp, at=later, limit=1, owner="e2", agent_reserved=True)
    assert (cid, "callback", agent.id) == (lease.contact_id, lease.reason, lease.agent_id)


async def test_an_attempts_agent_is_the_agent_who_talked_or_none(store: Store) -> None:
    """Issue 17 item 5: a call for a reserved (or callback-owning) agent that reached nobody
    keeps no agent; an answered one records the agent the close names."""
    camp = await make_campaign(store, max_attempts_per_day=10)
    owner = await store.create_agent("attempt-owner-1")
    talker = await store.create_agent("attempt-talker-1")
    cid = await store.add_contact(camp, ["+48510000091"])
    # a lease for an agent (a personal callback's owner): the open attempt carries that agent
    lease = dataclasses.replace(await _lease_one(store, camp), agent_id=owner.id)
    busy = await store.open_attempt(lease, at=NOON)
    [opened] = await store.open_attempts("e1")
    assert opened.id == busy and opened.agent_id == owner.id
    await store.close_attempt(busy, AttemptResult(Outcome.BUSY, ended_at=NOON))
    later = NOON + dt.timedelta(hours=1)
    lease = dataclasses.replace(await _lease_one(store, camp, later), agent_id=owner.id)
    answered = await store.open_attempt(lease, at=later)
    await store.close_attempt(
        answered, AttemptResult(Outcome.ANSWERED, ended_at=later, answered_at=later, agent_id=talker.id)
    )
    by_id = {a.id: a.agent_id for a in await store.contact_attempts(cid)}
    assert by_id == {busy: None, answered: talker.id}
