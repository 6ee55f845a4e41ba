"""The in-memory store keeps the runner's promises: leases, automatic statuses, call progressive, caps."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.engine import MemoryStore, StatusRule
from dialer.errors import AttemptClosed, LeaseLost
from dialer.model import (
    AttemptResult,
    CallbackKind,
    Campaign,
    CampaignState,
    Compliance,
    DialingMode,
    DialRefusal,
    Outcome,
    RetryRule,
    SystemStatus,
    Trigger,
)

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def _campaign(max_attempts: int = 5) -> Campaign:
    return Campaign(1, "bench", "always", DialingMode.PREDICTIVE, "+15550000000", "q", 25, Compliance.US,
                    0.03, dt.time(0, 0), dt.time(0, 0), "UTC", CampaignState.RUNNING, 0, max_attempts, 100,
                    None)


def _store(max_attempts: int = 5, population: int | None = None) -> MemoryStore:
    return MemoryStore(
        _campaign(max_attempts),
        triggers={
            Trigger.BUSY: StatusRule("busy", retry=RetryRule(delay_s=600)),
            Trigger.ABANDONED: StatusRule("abandoned", SystemStatus.CALL_PROGRESSIVE, RetryRule(delay_s=60)),
        },
        statuses=[StatusRule("sale", SystemStatus.DO_NOT_CALL), StatusRule("mine", SystemStatus.MY_RECORD)],
        population=population,
    )


def at(s: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=s)


async def _dial(store: MemoryStore, outcome: Outcome, t: float, **lease_kw: object) -> tuple[int, int]:
    [lease] = await store.lease_contacts("bench", at=at(t), limit=1, owner="e1", **lease_kw)  # type: ignore[arg-type]
    aid = await store.open_attempt(lease, at=at(t))
    await store.close_attempt(aid, AttemptResult(outcome, at(t + 5)))
    return lease.contact_id, aid


async def test_leases_are_exclusive_until_released_or_expired() -> None:
    store = _store(population=3)
    first = await store.lease_contacts("bench", at=at(0), limit=10, owner="e1", ttl_s=60)
    assert 3 == len(first)
    assert [] == await store.lease_contacts("bench", at=at(1), limit=10, owner="e2")
    assert 1 == await store.release_leases("e1", [first[0].contact_id])
    again = await store.lease_contacts("bench", at=at(2), limit=10, owner="e2")
    assert [first[0].contact_id] == [c.contact_id for c in again]
    later = await store.lease_contacts("bench", at=at(61), limit=10, owner="e2")
    assert {c.contact_id for c in first[1:]} == {c.contact_id for c in later}
    with pytest.raises(LeaseLost):
        await store.open_attempt(first[1], at=at(62))


async def test_busy_sets_status_and_waits_its_retry_delay() -> None:
    store = _store(population=1)
    cid, _ = await _dial(store, Outcome.BUSY, 0)
    assert "busy" == store.contact_of(cid).status.name
    assert [] == await store.lease_contacts("bench", at=at(600), limit=1, owner="e1")
    [back] = await store.lease_contacts("bench", at=at(605), limit=1, owner="e1")
    assert (cid, "retry") == (back.contact_id, back.reason)


async def test_abandoned_contact_comes_back_only_with_an_agent_reserved() -> None:
    store = _store(population=1)
    cid, _ = await _dial(store, Outcome.ABANDONED, 0)
    assert "abandoned" == store.contact_of(cid).status.name
    assert [] == await store.lease_contacts("bench", at=at(100), limit=1, owner="e1")
    [back] = await store.lease_contacts("bench", at=at(100), limit=1, owner="e1", agent_reserved=True)
    assert (cid, "call_progressive") == (back.contact_id, back.reason)


async def test_answered_call_stays_leased_until_the_disposition() -> None:
    store = _store(population=1)
    [lease] = await store.lease_contacts("bench", at=at(0), limit=1, owner="e1")
    aid = await store.open_attempt(lease, at=at(0))
    await store.close_attempt(aid, AttemptResult(Outcome.ANSWERED, at(60)))
    assert [] == await store.lease_contacts("bench", at=at(200), limit=1, owner="e2")
    await store.set_disposition(lease.contact_id, "mine", at=at(200), agent_id=7,
                                not_before=at(1000), attempt_id=aid)
    assert [] == await store.lease_contacts("bench", at=at(1000), limit=1, owner="e2", agent_ids=[8])
    [mine] = await store.lease_contacts("bench", at=at(1000), limit=1, owner="e2", agent_ids=[7])
    assert (lease.contact_id, 7, "callback") == (mine.contact_id, mine.agent_id, mine.reason)
    with pytest.raises(AttemptClosed):
        await store.close_attempt(aid, AttemptResult(Outcome.BUSY, at(1001)))


async def test_attempt_cap_closes_the_contact() -> None:
    store = _store(max_attempts=2, population=1)
    cid, _ = await _dial(store, Outcome.BUSY, 0)
    await _dial(store, Outcome.BUSY, 700)
    assert "max_attempts" == store.contact_of(cid).closed_reason
    assert [] == await store.lease_contacts("bench", at=at(99_999), limit=5, owner="e1", agent_reserved=True)
    assert 2 == len(store.attempts_of(cid))


async def test_personal_callback_goes_only_to_its_agent_and_disposition_closes() -> None:
    store = _store(population=1)
    [lease] = await store.lease_contacts("bench", at=at(0), limit=1, owner="e1")
    aid = await store.open_attempt(lease, at=at(0))
    await store.close_attempt(aid, AttemptResult(Outcome.ANSWERED, at(30)))
    await store.schedule_callback(lease.contact_id, due_at=at(500), kind=CallbackKind.PERSONAL, agent_id=3)
    await store.set_disposition(lease.contact_id, "call", at=at(40), attempt_id=aid)
    assert [] == await store.lease_contacts("bench", at=at(499), limit=1, owner="e1", agent_ids=[3])
    assert [] == await store.lease_contacts("bench", at=at(500), limit=1, owner="e1", agent_ids=[4])
    [cb] = await store.lease_contacts("bench", at=at(500), limit=1, owner="e1", agent_ids=[3])
    assert (3, "callback") == (cb.agent_id, cb.reason)
    aid2 = await store.open_attempt(cb, at=at(500))
    await store.close_attempt(aid2, AttemptResult(Outcome.ANSWERED, at(530)))
    await store.set_disposition(cb.contact_id, "sale", at=at(600), attempt_id=aid2)
    assert [] == await store.lease_contacts("bench", at=at(9_999), limit=1, owner="e1", agent_reserved=True)
    assert [] == await store.open_attempts()


async def test_do_not_call_numbers_are_never_leased() -> None:
    store = _store(population=3)
    store.do_not_call.add("+15550000001")
    leased = await store.lease_contacts("bench", at=at(0), limit=10, owner="e1")
    assert ["+15550000000", "+15550000002"] == [c.e164 for c in leased]


async def test_the_dial_time_recheck_refuses_what_changed_since_the_lease() -> None:
    store = _store(population=3)
    listed, kept = await store.lease_contacts("bench", at=at(0), limit=2, owner="e1", ttl_s=1000)
    store.do_not_call.add(listed.e164)
    await _dial(store, Outcome.ABANDONED, 100)  # "call progressive" from now on
    [progressive] = await store.lease_contacts("bench", at=at(200), limit=1, owner="e1", agent_reserved=True)
    expected = [DialRefusal.DO_NOT_CALL, None, DialRefusal.NOT_DUE, None]
    assert expected == [
        await store.recheck_before_dial(listed, at=at(300), agent_reserved=True),
        await store.recheck_before_dial(kept, at=at(300), agent_reserved=False),
        await store.recheck_before_dial(progressive, at=at(300), agent_reserved=False),
        await store.recheck_before_dial(progressive, at=at(300), agent_reserved=True),
    ]


_OUTCOMES = [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.ABANDONED, Outcome.MACHINE, Outcome.ANSWERED]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["e1", "e2"]), st.integers(1, 4), st.booleans(),
                          st.sampled_from(_OUTCOMES), st.floats(0, 400)), min_size=1, max_size=40))
def test_property_no_double_lease_no_cap_overrun(ops: list[tuple[str, int, bool, Outcome, float]]) -> None:
    """Whatever the interleaving of two engines, a live lease is never handed out again, "call
    progressive" only goes with an agent reserved, and no contact exceeds the attempt cap."""

    async def scenario() -> None:
        store = _store(max_attempts=3, population=6)
        held: dict[int, tuple[str, float]] = {}   # the test's own view: contact -> (owner, until)
        t = 0.0
        for owner, limit, reserved, outcome, gap in ops:
            t += gap
            leases = await store.lease_contacts("bench", at=at(t), limit=limit, owner=owner, ttl_s=300,
                                                agent_reserved=reserved)
            for lease in leases:
                prior = held.get(lease.contact_id)
                assert prior is None or prior[1] <= t, f"contact {lease.contact_id} leased twice"
                assert reserved or lease.reason != "call_progressive"
                held[lease.contact_id] = (owner, t + 300)
            if leases:
                lease = leases[0]
                aid = await store.open_attempt(lease, at=at(t))
                await store.close_attempt(aid, AttemptResult(outcome, at(t + 1)))
                if outcome is Outcome.ANSWERED:
                    await store.set_disposition(lease.contact_id, "call", at=at(t + 2), attempt_id=aid)
                held.pop(lease.contact_id)
                await store.release_leases(owner, [x.contact_id for x in leases[1:]])
                for x in leases[1:]:
                    held.pop(x.contact_id)
        for cid in store.contacts:
            assert len(store.attempts_of(cid)) <= 3

    asyncio.run(scenario())


async def test_awaiting_disposition_and_callback_conversion_mirror_the_store() -> None:
    store = _store()
    store.add_agent("anna", "PJSIP/1")
    at = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
    (lease,) = await store.lease_contacts("bench", at=at, limit=1, owner="e1")
    attempt = await store.open_attempt(lease, at=at)
    await store.close_attempt(attempt, AttemptResult(Outcome.ANSWERED, ended_at=at, answered_at=at))
    waiting = await store.awaiting_disposition("e1")
    assert [a.id for a in waiting] == [attempt]
    assert await store.awaiting_disposition("other-engine") == []
    await store.set_disposition(lease.contact_id, "call", at=at)
    assert await store.awaiting_disposition("e1") == []

    agent = store.agents["anna"].id
    await store.schedule_callback(lease.contact_id, due_at=at, kind=CallbackKind.PERSONAL, agent_id=agent)
    assert await store.convert_to_campaign_callback(lease.contact_id) is True
    (cb,) = store.callbacks.values()
    assert (cb.kind, cb.agent_id) == (CallbackKind.CAMPAIGN, None)
    assert await store.convert_to_campaign_callback(lease.contact_id) is False
