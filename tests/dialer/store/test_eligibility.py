"""Each eligibility rule of the lease query, on a real PostgreSQL, with explicit instants."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from dialer.model import (
    AttemptResult,
    CallbackKind,
    CampaignState,
    Compliance,
    Outcome,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12, 0)


async def lease_ids(store: Store, campaign: str, at: dt.datetime = NOON, **kw: object) -> list[int]:
    leased = await store.lease_contacts(
        campaign, at=at, limit=kw.pop("limit", 100), owner=kw.pop("owner", "e1"), **kw
    )  # type: ignore[arg-type]
    return [c.contact_id for c in leased]


async def test_fresh_contacts_are_leased_by_priority_then_id(store: Store) -> None:
    camp = await make_campaign(store)
    low = await store.add_contact(camp, ["+48500000001"])
    high = await store.add_contact(camp, ["+48500000002"], priority=5)
    low2 = await store.add_contact(camp, ["+48500000003"])
    assert [high, low, low2] == await lease_ids(store, camp)


async def test_leased_contacts_are_not_leased_again_until_expiry(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48500000011"])
    assert [cid] == await lease_ids(store, camp, ttl_s=60, owner="a")
    assert [] == await lease_ids(store, camp, at=NOON + dt.timedelta(seconds=59), owner="b")
    assert [cid] == await lease_ids(store, camp, at=NOON + dt.timedelta(seconds=61), owner="b")


async def test_stopped_campaign_leases_nothing(store: Store) -> None:
    camp = await make_campaign(store, state=CampaignState.PAUSED)
    await store.add_contact(camp, ["+48500000021"])
    assert [] == await lease_ids(store, camp)


async def test_do_not_call_status_is_never_leased(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48500000031"], status="Nie dzwonić")
    ok = await store.add_contact(camp, ["+48500000032"])
    assert [ok] == await lease_ids(store, camp)


async def test_not_before_waits_until_due(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48500000041"], not_before=NOON + dt.timedelta(hours=1))
    assert [] == await lease_ids(store, camp)
    assert [cid] == await lease_ids(store, camp, at=NOON + dt.timedelta(hours=1))


async def test_global_and_campaign_do_not_call_lists_skip_the_number(store: Store) -> None:
    camp = await make_campaign(store)
    other = await make_campaign(store)
    a = await store.add_contact(camp, ["+48500000051"])
    b = await store.add_contact(camp, ["+48500000052", "+48500000053"])
    c = await store.add_contact(camp, ["+48500000054"])
    await store.add_do_not_call("+48500000051")
    await store.add_do_not_call("+48500000052", campaign=camp)
    await store.add_do_not_call("+48500000054", campaign=other)
    leased = await store.lease_contacts(camp, at=NOON, limit=10, owner="e")
    assert [(b, "+48500000053"), (c, "+48500000054")] == [(x.contact_id, x.e164) for x in leased]
    assert a not in [x.contact_id for x in leased]


async def test_local_calling_hours_use_the_contact_zone(store: Store) -> None:
    camp = await make_campaign(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    warsaw = await store.add_contact(camp, ["+48500000061"], timezone="Europe/Warsaw")
    new_york = await store.add_contact(camp, ["+12125550100"], timezone="America/New_York")
    # 12:30 UTC = 13:30 Warsaw, 08:30 New York (EDT, after 8 March 2026)
    assert {warsaw, new_york} == set(await lease_ids(store, camp, at=utc(2026, 3, 10, 12, 30)))


async def test_local_calling_hours_exclude_night_in_the_contact_zone(store: Store) -> None:
    camp = await make_campaign(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    warsaw = await store.add_contact(camp, ["+48500000071"], timezone="Europe/Warsaw")
    new_york = await store.add_contact(camp, ["+12125550101"], timezone="America/New_York")
    # 11:30 UTC = 12:30 Warsaw, 07:30 New York: too early there
    assert [warsaw] == await lease_ids(store, camp, at=utc(2026, 3, 10, 11, 30))
    # 21:00 UTC on 10 March = 22:00 Warsaw (closed), 17:00 New York
    assert [new_york] == await lease_ids(store, camp, at=utc(2026, 3, 10, 21, 0))


async def test_dst_change_moves_the_utc_edge_of_calling_hours(store: Store) -> None:
    camp = await make_campaign(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    cid = await store.add_contact(camp, ["+12125550102"], timezone="America/New_York")
    # before the US switch (8 March 2026) 12:30 UTC is 07:30 EST: closed
    assert [] == await lease_ids(store, camp, at=utc(2026, 3, 6, 12, 30))
    # after it, the same UTC time is 08:30 EDT: open
    assert [cid] == await lease_ids(store, camp, at=utc(2026, 3, 9, 12, 30))


async def test_ambiguous_number_zones_require_hours_in_every_zone(store: Store) -> None:
    camp = await make_campaign(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    zones = {"timezones": ("America/Chicago", "America/Denver")}
    cid = await store.add_contact(camp, [("+19155550100", zones)])
    # 14:30 UTC = 09:30 Chicago (CDT), 08:30 Denver (MDT): open in both
    assert [cid] == await lease_ids(store, camp, at=utc(2026, 7, 1, 14, 30))
    # 13:30 UTC = 08:30 Chicago, 07:30 Denver: open in one only -> not dialled
    assert [] == await lease_ids(store, camp, at=utc(2026, 7, 1, 13, 30), owner="x")


async def test_number_without_zone_falls_back_to_campaign_zone(store: Store) -> None:
    camp = await make_campaign(
        store, local_hours_start=dt.time(8), local_hours_end=dt.time(21), timezone="Asia/Tokyo"
    )
    cid = await store.add_contact(camp, ["+48500000081"])
    # 02:00 UTC = 11:00 Tokyo
    assert [cid] == await lease_ids(store, camp, at=utc(2026, 3, 10, 2, 0))
    assert [] == await lease_ids(store, camp, at=utc(2026, 3, 10, 14, 0), owner="x")


async def test_number_contact_window_picks_the_number_inside_its_window(store: Store) -> None:
    camp = await make_campaign(store)
    work = (
        "+48500000091",
        {"window_start": dt.time(9), "window_end": dt.time(17), "timezones": ("Europe/Warsaw",)},
    )
    home = (
        "+48500000092",
        {"window_start": dt.time(17), "window_end": dt.time(21), "timezones": ("Europe/Warsaw",)},
    )
    cid = await store.add_contact(camp, [work, home])
    at_work = await store.lease_contacts(camp, at=utc(2026, 3, 10, 10), limit=5, owner="e1", ttl_s=1)
    assert [(cid, "+48500000091")] == [(c.contact_id, c.e164) for c in at_work]
    at_home = await store.lease_contacts(camp, at=utc(2026, 3, 10, 18), limit=5, owner="e2", ttl_s=1)
    assert [(cid, "+48500000092")] == [(c.contact_id, c.e164) for c in at_home]
    assert [] == await lease_ids(store, camp, at=utc(2026, 3, 10, 21), owner="e3")


async def test_global_attempt_cap_stops_dialling(store: Store) -> None:
    camp = await make_campaign(store, max_attempts=2, max_attempts_per_day=10)
    cid = await store.add_contact(camp, ["+48500000101"])
    at = NOON
    for _ in range(2):
        [lease] = await store.lease_contacts(camp, at=at, limit=1, owner="e")
        att = await store.open_attempt(lease, at=at)
        await store.close_attempt(att, AttemptResult(Outcome.BUSY, ended_at=at + dt.timedelta(seconds=20)))
        at += dt.timedelta(hours=2)
    assert [] == await lease_ids(store, camp, at=at + dt.timedelta(days=2))
    assert "max_attempts" == (await store.get_contact(cid)).closed_reason


async def test_per_day_cap_resumes_next_campaign_day(store: Store) -> None:
    camp = await make_campaign(store, max_attempts=10, max_attempts_per_day=1, timezone="Europe/Warsaw")
    cid = await store.add_contact(camp, ["+48500000111"])
    [lease] = await store.lease_contacts(camp, at=NOON, limit=1, owner="e")
    att = await store.open_attempt(lease, at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))
    # 21:30 UTC = 22:30 Warsaw, same day: the day's one attempt is used
    assert [] == await lease_ids(store, camp, at=utc(2026, 3, 10, 22, 30))
    # 23:30 UTC = 00:30 on 11 March in Warsaw: a new campaign day
    assert [cid] == await lease_ids(store, camp, at=utc(2026, 3, 10, 23, 30))


async def _dial(store: Store, camp: str, at: dt.datetime, outcome: Outcome, **kw: object) -> int:
    [lease] = await store.lease_contacts(camp, at=at, limit=1, owner="e", **kw)  # type: ignore[arg-type]
    att = await store.open_attempt(lease, at=at)
    await store.close_attempt(att, AttemptResult(outcome, ended_at=at))
    return lease.contact_id


async def test_uk_abandon_lock_72h_unless_agent_reserved(store: Store) -> None:
    camp = await make_campaign(store, compliance=Compliance.UK, max_attempts_per_day=10)
    await store.create_status(
        StatusSpec("Porzucone", SystemStatus.CALL, trigger=Trigger.ABANDONED, retry=_rule(0)), campaign=camp
    )
    cid = await store.add_contact(camp, ["+447700900001"])
    await _dial(store, camp, NOON, Outcome.ABANDONED)
    later = NOON + dt.timedelta(hours=71)
    assert [] == await lease_ids(store, camp, at=later)
    assert [cid] == await lease_ids(store, camp, at=later, agent_reserved=True, ttl_s=1)
    assert [cid] == await lease_ids(store, camp, at=NOON + dt.timedelta(hours=72), owner="x")


async def test_uk_machine_lock_24h(store: Store) -> None:
    camp = await make_campaign(store, compliance=Compliance.UK, max_attempts_per_day=10)
    await store.create_status(
        StatusSpec("Automat", SystemStatus.CALL, trigger=Trigger.MACHINE, retry=_rule(0)), campaign=camp
    )
    cid = await store.add_contact(camp, ["+447700900002"])
    await _dial(store, camp, NOON, Outcome.MACHINE)
    assert [] == await lease_ids(store, camp, at=NOON + dt.timedelta(hours=23))
    assert [cid] == await lease_ids(
        store, camp, at=NOON + dt.timedelta(hours=23), agent_reserved=True, ttl_s=1
    )
    assert [cid] == await lease_ids(store, camp, at=NOON + dt.timedelta(hours=24), owner="x")


async def test_a_contact_leased_through_a_uk_lock_is_marked_for_a_call_with_an_agent(store: Store) -> None:
    camp = await make_campaign(store, compliance=Compliance.UK, max_attempts_per_day=10)
    await store.create_status(
        StatusSpec("Automat", SystemStatus.CALL, trigger=Trigger.MACHINE, retry=_rule(0)), campaign=camp
    )
    locked = await store.add_contact(camp, ["+447700900003"])
    await _dial(store, camp, NOON, Outcome.MACHINE)
    free = await store.add_contact(camp, ["+447700900004"])

    async def marks(at: dt.datetime, owner: str) -> dict[int, bool]:
        leased = await store.lease_contacts(camp, at=at, limit=10, owner=owner, ttl_s=1, agent_reserved=True)
        return {c.contact_id: c.agent_required for c in leased}

    assert {locked: True, free: False} == await marks(NOON + dt.timedelta(hours=23), "e1")
    assert {locked: False, free: False} == await marks(NOON + dt.timedelta(hours=24), "e2")


async def test_us_profile_has_no_repeat_call_lock(store: Store) -> None:
    camp = await make_campaign(store, compliance=Compliance.US, max_attempts_per_day=10)
    await store.create_status(
        StatusSpec("Automat", SystemStatus.CALL, trigger=Trigger.MACHINE, retry=_rule(0)), campaign=camp
    )
    cid = await store.add_contact(camp, ["+12125550199"])
    await _dial(store, camp, NOON, Outcome.MACHINE)
    assert [cid] == await lease_ids(store, camp, at=NOON + dt.timedelta(minutes=1))


async def test_call_progressive_only_with_an_agent_reserved(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Spad", SystemStatus.CALL_PROGRESSIVE), campaign=camp)
    cid = await store.add_contact(camp, ["+48500000121"], status="Spad")
    assert [] == await lease_ids(store, camp)
    leased = await store.lease_contacts(camp, at=NOON, limit=5, owner="e", agent_reserved=True)
    assert [(cid, "call_progressive")] == [(c.contact_id, c.reason) for c in leased]


async def test_my_record_due_goes_to_its_agent_only(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Mój", SystemStatus.MY_RECORD), campaign=camp)
    agent = await store.create_agent(f"ag-{camp}")
    other = await store.create_agent(f"other-{camp}")
    cid = await store.add_contact(camp, ["+48500000131"])
    await store.set_disposition(
        cid, "Mój", at=NOON, agent_id=agent.id, not_before=NOON + dt.timedelta(hours=2)
    )
    assert [] == await lease_ids(store, camp, at=NOON + dt.timedelta(hours=1))
    due = NOON + dt.timedelta(hours=2)
    assert [] == await lease_ids(store, camp, at=due, agent_ids=[other.id])
    [leased] = await store.lease_contacts(camp, at=due, limit=5, owner="e", agent_ids=[agent.id, other.id])
    assert (cid, agent.id, "callback") == (leased.contact_id, leased.agent_id, leased.reason)


async def test_order_callbacks_then_progressive_then_retries_then_fresh(store: Store) -> None:
    camp = await make_campaign(store, max_attempts_per_day=10)
    await store.create_status(StatusSpec("Spad", SystemStatus.CALL_PROGRESSIVE), campaign=camp)
    await store.create_status(
        StatusSpec("Zajęty", SystemStatus.CALL, trigger=Trigger.BUSY, retry=_rule(60)), campaign=camp
    )
    fresh = await store.add_contact(camp, ["+48500000141"], priority=9)
    retry_late = await store.add_contact(camp, ["+48500000142"])
    retry_early = await store.add_contact(camp, ["+48500000143"])
    progressive = await store.add_contact(camp, ["+48500000144"], status="Spad")
    callback = await store.add_contact(camp, ["+48500000145"])
    t0 = NOON - dt.timedelta(hours=3)
    for cid, offset in ((retry_early, 0), (retry_late, 10)):
        await _dial_contact(store, camp, cid, t0 + dt.timedelta(minutes=offset), Outcome.BUSY)
    await store.schedule_callback(callback, due_at=NOON - dt.timedelta(minutes=5), kind=CallbackKind.CAMPAIGN)
    leased = await store.lease_contacts(camp, at=NOON, limit=10, owner="e", agent_reserved=True)
    assert [callback, progressive, retry_early, retry_late, fresh] == [c.contact_id for c in leased]
    assert ["callback", "call_progressive", "retry", "retry", "fresh"] == [c.reason for c in leased]


async def _dial_contact(store: Store, camp: str, cid: int, at: dt.datetime, outcome: Outcome) -> None:
    """Dial one specific contact: lease everything due, keep it, release the rest."""
    leased = await store.lease_contacts(camp, at=at, limit=100, owner="picker", ttl_s=1)
    [lease] = [c for c in leased if c.contact_id == cid]
    await store.release_leases("picker", [c.contact_id for c in leased if c.contact_id != cid])
    att = await store.open_attempt(lease, at=at)
    await store.close_attempt(att, AttemptResult(outcome, ended_at=at))


async def test_callback_uses_its_own_number(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48500000151"])
    await store.schedule_callback(cid, due_at=NOON, new_phone="+48500000152")
    [leased] = await store.lease_contacts(camp, at=NOON, limit=5, owner="e")
    assert ("+48500000152", "callback") == (leased.e164, leased.reason)
    assert leased.callback_id is not None


async def test_callback_to_a_number_on_do_not_call_is_not_dialled(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48500000161"])
    await store.schedule_callback(cid, due_at=NOON, new_phone="+48500000162")
    await store.add_do_not_call("+48500000162")
    assert [] == await lease_ids(store, camp)


async def test_two_concurrent_engines_never_get_the_same_contact(store: Store, db_dsn: str) -> None:
    camp = await make_campaign(store)
    for i in range(300):
        await store.add_contact(camp, [f"+4860000{i:04d}"])
    # two engines: two pools, so two server connections racing for the same rows
    other = await Store.open(db_dsn, min_size=1, max_size=1, migrate_now=False)

    async def engine(s: Store, name: str) -> list[int]:
        got: list[int] = []
        while True:
            batch = await s.lease_contacts(camp, at=NOON, limit=7, owner=name, ttl_s=600)
            if not batch:
                return got
            got.extend(c.contact_id for c in batch)

    try:
        a, b = await asyncio.gather(engine(store, "A"), engine(other, "B"))
    finally:
        await other.close()
    assert set() == set(a) & set(b)
    assert 300 == len(set(a) | set(b))
    assert len(a) + len(b) == len(set(a) | set(b))
    assert a and b  # both engines got work


def _rule(delay_s: int):
    from dialer.model import RetryRule

    return RetryRule(delay_s=delay_s)


@pytest.mark.parametrize("hours", [(dt.time(22), dt.time(6))])
async def test_calling_hours_may_wrap_midnight(store: Store, hours: tuple[dt.time, dt.time]) -> None:
    camp = await make_campaign(store, local_hours_start=hours[0], local_hours_end=hours[1])
    cid = await store.add_contact(camp, ["+48500000171"], timezone="UTC")
    assert [cid] == await lease_ids(store, camp, at=utc(2026, 3, 10, 23, 0), ttl_s=1)
    assert [] == await lease_ids(store, camp, at=utc(2026, 3, 10, 12, 0), owner="x")


async def test_fresh_contacts_with_and_without_a_past_not_before_lease_together(store: Store) -> None:
    camp = await make_campaign(store)
    plain = await store.add_contact(camp, ["+48500000181"])
    dated = await store.add_contact(camp, ["+48500000182"], not_before=NOON - dt.timedelta(hours=1))
    assert [plain, dated] == await lease_ids(store, camp)


async def test_an_agreed_callback_is_not_held_back_by_the_attempt_caps(store: Store) -> None:
    camp = await make_campaign(store, max_attempts=2, max_attempts_per_day=1)
    await store.create_status(StatusSpec("Umówiony", SystemStatus.MY_RECORD), campaign=camp)
    agent = await store.create_agent(f"cap-{camp}")
    capped = await store.add_contact(camp, ["+48500000191"])
    booked = await store.add_contact(camp, ["+48500000192"])
    await store.pool.execute(
        "UPDATE contacts SET attempts = 2, day_attempts = 1, day_attempts_on = $2"
        " WHERE id = ANY($1::bigint[])",
        [capped, booked],
        NOON.date(),
    )
    await store.set_disposition(booked, "Umówiony", at=NOON, agent_id=agent.id, not_before=NOON)
    assert [booked] == await lease_ids(store, camp)
