"""Callbacks, complete (issue 13) against PostgreSQL: the grid, atomic booking, windows that
hold, the missed rule, rescheduling with its history, web callback requests."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from dialer.callbacks.grid import MissedRule, SlotState
from dialer.contacts.phone import normalize
from dialer.errors import NotFound, RateLimited, SlotUnavailable, ValidationError
from dialer.model import AttemptResult, CallbackKind, Outcome
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store
from dialer.store.web_callbacks import PER_SOURCE_PER_HOUR
from tests.dialer.conftest import make_campaign, unique, utc

# a Tuesday; the grid below is open 09:00-12:00 Warsaw time on weekdays (CET: UTC+1)
DAY = dt.date(2026, 3, 10)
NOW = utc(2026, 3, 10, 6)
NINE = utc(2026, 3, 10, 8)  # 09:00 CET


async def _grid(store: Store, **kw: object) -> str:
    camp = await make_campaign(store)
    name = unique("grid")
    await store.create_schedule(
        Schedule(
            name=name,
            frequency=Frequency.WEEKLY,
            weekdays=frozenset(range(5)),
            window_start=dt.time(9),
            window_end=dt.time(12),
            timezone="Europe/Warsaw",
        )
    )
    args: dict[str, object] = {"schedule": name, "slot_min": 30, "capacity": 2}
    args.update(kw)
    await store.define_callback_grid(camp, **args)  # type: ignore[arg-type]
    return camp


async def test_grid_lists_each_slot_with_state_and_places_left(store: Store) -> None:
    camp = await _grid(store, closed_dates=[dt.date(2026, 3, 11)])
    a = await store.add_contact(camp, ["+48540001001"])
    await store.schedule_callback(a, slot_at=NINE, at=NOW)
    grid = await store.callback_grid(camp, DAY, DAY + dt.timedelta(days=1), "Europe/Warsaw", at=NOW)
    assert 12 == len(grid)  # 6 half hours a day, two days
    first = grid[0]
    assert (NINE, dt.time(9, 0), SlotState.AVAILABLE, 1) == (
        first.starts_at,
        first.local_start.time(),
        first.state,
        first.remaining,
    )
    assert all(s.state is SlotState.CLOSED for s in grid[6:])  # the closed date
    later = await store.callback_grid(camp, DAY, DAY, "America/New_York", at=utc(2026, 3, 10, 9))
    assert [SlotState.PAST, SlotState.PAST, SlotState.AVAILABLE] == [s.state for s in later[:3]]
    assert dt.time(4, 30) == later[1].local_start.time()  # 09:30 CET is 04:30 EDT (US DST from 8 March)
    assert "America/New_York" == str(later[1].local_start.tzinfo)


async def test_two_agents_booking_the_last_place_at_once_one_wins(store: Store, db_dsn: str) -> None:
    camp = await _grid(store, capacity=1)
    contacts = [await store.add_contact(camp, [f"+4854000110{i}"]) for i in range(2)]
    other = await Store.open(db_dsn, min_size=1, max_size=2, migrate_now=False)
    try:
        results = await asyncio.gather(
            *(
                s.schedule_callback(c, slot_at=NINE, at=NOW)
                for s, c in zip((store, other), contacts, strict=True)
            ),
            return_exceptions=True,
        )
    finally:
        await other.close()
    refused = [r for r in results if isinstance(r, BaseException)]
    assert 1 == len(refused)
    assert isinstance(refused[0], SlotUnavailable) and "full" in refused[0].reason
    grid = await store.callback_grid(camp, DAY, DAY, "UTC", at=NOW)
    assert (SlotState.FULL, 1) == (grid[0].state, grid[0].booked)


async def test_booking_refuses_past_closed_and_unknown_slots(store: Store) -> None:
    camp = await _grid(store)
    cid = await store.add_contact(camp, ["+48540001201"])
    with pytest.raises(SlotUnavailable, match="past"):
        await store.schedule_callback(cid, slot_at=NINE, at=NINE + dt.timedelta(hours=1))
    with pytest.raises(SlotUnavailable, match="no slot"):
        await store.schedule_callback(cid, slot_at=NINE + dt.timedelta(minutes=10), at=NOW)
    await store.close_callback_slot(camp, NINE)
    with pytest.raises(SlotUnavailable, match="closed"):
        await store.schedule_callback(cid, slot_at=NINE, at=NOW)
    plain = await make_campaign(store)
    other = await store.add_contact(plain, ["+48540001202"])
    with pytest.raises(ValidationError, match="no callback grid"):
        await store.schedule_callback(other, slot_at=NINE, at=NOW)


async def test_capacity_defaults_to_the_campaigns_agents(store: Store) -> None:
    camp = await _grid(store, capacity=None)
    assert 0 == (await store.callback_grid(camp, DAY, DAY, "UTC", at=NOW))[0].capacity
    for _ in range(3):
        name = unique("ag")
        await store.create_agent(name)
        await store.assign_agent(camp, name)
    assert 3 == (await store.callback_grid(camp, DAY, DAY, "UTC", at=NOW))[0].capacity


async def test_personal_cap_per_agent_and_day(store: Store) -> None:
    camp = await _grid(store, capacity=10, personal_cap_per_day=2)
    agent = await store.create_agent(unique("hoarder"))
    cids = [await store.add_contact(camp, [f"+4854000130{i}"]) for i in range(3)]
    for i, cid in enumerate(cids[:2]):
        await store.schedule_callback(
            cid,
            slot_at=NINE + dt.timedelta(minutes=30 * i),
            kind=CallbackKind.PERSONAL,
            agent_id=agent.id,
            at=NOW,
        )
    with pytest.raises(ValidationError) as err:
        await store.schedule_callback(
            cids[2], slot_at=NINE, kind=CallbackKind.PERSONAL, agent_id=agent.id, at=NOW
        )
    assert "agent" == err.value.field
    await store.schedule_callback(cids[2], slot_at=NINE, at=NOW)  # a campaign callback is no hoarding


async def test_a_callback_is_leased_only_inside_its_window(store: Store) -> None:
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48540001401"])
    end = NINE + dt.timedelta(minutes=30)
    await store.schedule_callback(cid, due_at=NINE, window_end_at=end, at=NOW)
    assert [] == await store.lease_contacts(camp, at=NINE - dt.timedelta(minutes=1), limit=5, owner="e")
    inside = await store.lease_contacts(camp, at=NINE + dt.timedelta(minutes=5), limit=5, owner="e", ttl_s=1)
    assert [cid] == [c.contact_id for c in inside]
    assert inside[0].dial_until == end  # never launched past the window's end
    await store.release_leases("e", [cid])
    assert [] == await store.lease_contacts(camp, at=end, limit=5, owner="e")


@pytest.mark.parametrize("rule", [MissedRule.CAMPAIGN, MissedRule.NEXT_SLOT])
async def test_missed_rule_applies_after_the_window(store: Store, rule: MissedRule) -> None:
    camp = await _grid(store, missed_rule=rule)
    agent = await store.create_agent(unique("away"))
    cid = await store.add_contact(camp, ["+48540001501"])
    cb = await store.schedule_callback(
        cid, slot_at=NINE, kind=CallbackKind.PERSONAL, agent_id=agent.id, at=NOW
    )
    campaign_id = (await store.get_campaign(camp)).id
    assert 0 == await store.apply_missed_callbacks(campaign_id, NINE + dt.timedelta(minutes=29))
    after = NINE + dt.timedelta(minutes=31)
    assert 1 == await store.apply_missed_callbacks(campaign_id, after)
    moved = await store.get_callback(cb.id)
    history = await store.callback_history(cb.id)
    if rule is MissedRule.NEXT_SLOT:
        assert ("pending", NINE + dt.timedelta(minutes=60)) == (
            moved.state,
            moved.due_at,
        )  # 09:30 ended? next free
        assert "moved_to_next_slot" == history[-1].action
    else:
        assert "missed" == moved.state
        assert ("engine", "missed") == (history[-1].actor, history[-1].action)
        leased = await store.lease_contacts(camp, at=after, limit=5, owner="e")
        assert [cid] == [c.contact_id for c in leased]  # back to the campaign, any agent
        assert leased[0].reason != "callback"


async def test_reschedule_keeps_history_and_frees_the_old_place(store: Store) -> None:
    camp = await _grid(store, capacity=1)
    a = await store.add_contact(camp, ["+48540001601"])
    b = await store.add_contact(camp, ["+48540001602"])
    cb = await store.schedule_callback(a, slot_at=NINE, at=NOW, actor="agent:ala")
    later = NINE + dt.timedelta(hours=1)
    moved = await store.reschedule_callback(cb.id, slot_at=later, actor="agent:ala", at=NOW)
    assert (later, later + dt.timedelta(minutes=30)) == (moved.due_at, moved.window_end_at)
    await store.schedule_callback(b, slot_at=NINE, at=NOW)  # the freed place
    again = await store.reschedule_callback(
        cb.id,
        due_at=later + dt.timedelta(days=1),
        window_end_at=later + dt.timedelta(days=1, hours=2),
        new_phone="+48540001603",
        actor="supervisor:bob",
        at=NOW,
    )
    assert ("+48540001603", None) == (again.e164, again.slot_id)
    history = await store.callback_history(cb.id)
    assert ["created", "rescheduled", "rescheduled"] == [h.action for h in history[:1]] + [
        h.action for h in history if h.action == "rescheduled"
    ][-2:]
    assert "supervisor:bob" == history[-1].actor
    assert history[-1].before is not None and history[-1].before["slot_id"] is not None
    with pytest.raises(ValidationError, match="past"):
        await store.reschedule_callback(cb.id, due_at=NOW - dt.timedelta(hours=1), at=NOW)
    await store.cancel_callback(cb.id, actor="agent:ala")
    with pytest.raises(NotFound):
        await store.reschedule_callback(cb.id, slot_at=later, at=NOW)


async def test_web_callback_request_books_deduplicates_refuses_and_limits(store: Store) -> None:
    camp = await _grid(store, capacity=5)
    site = await store.add_callback_site(unique("site"), camp, "k" * 20 + unique("key"))
    found = await store.callback_site_by_key("k" * 20 + "nope")
    assert found is None
    args = {"name": "Jan", "consent_text": "I agree", "source_addr": "203.0.113.5", "at": NOW}
    first = await store.request_web_callback(
        site, e164="+48540001701", wanted_at=NINE + dt.timedelta(minutes=40), **args
    )
    assert (True, NINE + dt.timedelta(minutes=30), False) == (
        first.accepted,
        first.starts_at,
        first.duplicate,
    )
    assert first.callback is not None and "web" == first.callback.source
    again = await store.request_web_callback(site, e164="+48540001701", slot_at=NINE, **args)
    assert (True, True, first.callback.id) == (
        again.accepted,
        again.duplicate,
        again.callback and again.callback.id,
    )
    await store.add_do_not_call("+48540001702")
    refused = await store.request_web_callback(site, e164="+48540001702", slot_at=NINE, **args)
    assert (False, None) == (refused.accepted, refused.callback)
    await store.request_web_callback(site, e164="+48540001701", slot_at=NINE, **args)  # the third this hour
    with pytest.raises(RateLimited) as err:
        await store.request_web_callback(site, e164="+48540001701", slot_at=NINE, **args)
    assert "number" == err.value.field
    an_hour_on = {**args, "at": NOW + dt.timedelta(hours=1, seconds=1)}
    assert (await store.request_web_callback(site, e164="+48540001701", slot_at=NINE, **an_hour_on)).duplicate
    with pytest.raises(SlotUnavailable, match="outside"):
        await store.request_web_callback(site, e164="+48540001703", wanted_at=utc(2026, 3, 10, 20), **args)


async def test_web_callback_numbers_of_the_grids_regions_only(store: Store) -> None:
    camp = await _grid(store, regions=["pl"])
    assert frozenset({"PL"}) == (await store.get_callback_grid(camp)).regions
    site = await store.add_callback_site(unique("site"), camp, "r" * 20 + unique("key"))
    args = {"name": "Joe", "consent_text": "ok", "source_addr": "198.51.100.7", "at": NOW, "slot_at": NINE}
    with pytest.raises(ValidationError, match="numbers of PL") as err:
        await store.request_web_callback(site, e164="+12025550123", region="US", **args)
    assert "number" == err.value.field
    assert (await store.request_web_callback(site, e164="+48540001901", region="PL", **args)).accepted
    with pytest.raises(ValidationError) as err:
        await store.define_callback_grid(camp, schedule="ALL_DAY", slot_min=30, regions=["XX"])
    assert "region" == err.value.field


async def test_retry_rule_keeps_a_failed_callback_pending_inside_its_window(store: Store) -> None:
    camp = await _grid(store, missed_rule="retry", retry_delay_s=600)
    cid = await store.add_contact(camp, ["+48540001801"])
    cb = await store.schedule_callback(cid, slot_at=NINE, at=NOW)  # 09:00-09:30 local
    (lease,) = await store.lease_contacts(camp, at=NINE, limit=1, owner="e")
    att = await store.open_attempt(lease, at=NINE)
    await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NINE))
    again = await store.get_callback(cb.id)
    assert ("pending", NINE + dt.timedelta(minutes=10)) == (again.state, again.due_at)
    assert "retry_in_window" == (await store.callback_history(cb.id))[-1].action
    (lease,) = await store.lease_contacts(camp, at=NINE + dt.timedelta(minutes=25), limit=1, owner="e")
    assert cb.id == lease.callback_id
    att = await store.open_attempt(lease, at=NINE + dt.timedelta(minutes=25))
    await store.close_attempt(att, AttemptResult(Outcome.BUSY, ended_at=NINE + dt.timedelta(minutes=25)))
    assert "done" == (await store.get_callback(cb.id)).state  # no room left in the window


async def test_web_callback_requests_are_limited_per_source_address(store: Store) -> None:
    camp = await _grid(store, capacity=30)
    site = await store.add_callback_site(unique("site"), camp, "s" * 20 + unique("key"))
    args = {"name": "Ewa", "consent_text": "ok", "at": NOW, "slot_at": NINE}
    for i in range(PER_SOURCE_PER_HOUR):  # a different number each time: the number's limit never binds
        done = await store.request_web_callback(
            site, e164=f"+485400021{i:02d}", source_addr="203.0.113.9", **args
        )
        assert done.accepted and not done.duplicate
    with pytest.raises(RateLimited) as err:
        await store.request_web_callback(site, e164="+48540002199", source_addr="203.0.113.9", **args)
    assert "source" == err.value.field
    other = await store.request_web_callback(site, e164="+48540002199", source_addr="198.51.100.9", **args)
    assert other.accepted  # another address is counted apart
    an_hour_on = {**args, "at": NOW + dt.timedelta(hours=1, seconds=1)}
    later = await store.request_web_callback(
        site, e164="+48540002198", source_addr="203.0.113.9", **an_hour_on
    )
    assert later.accepted  # the limit is per hour


async def test_a_callback_waits_for_the_legal_hours_in_its_numbers_zone(store: Store) -> None:
    """A callback due before the campaign's local hours open (in the number's own zone) is not
    leased until they open: the person's appointment does not lift the hours."""
    camp = await make_campaign(store, local_hours_start=dt.time(9), local_hours_end=dt.time(20), demo=False)
    # each number with the zones phonenumbers gives it, as an import or the API stores it
    warsaw, new_york = [
        await store.add_contact(camp, [(e164, {"timezones": normalize(e164, "PL").timezones})])
        for e164 in ("+48540002301", "+12025550147")
    ]
    early = utc(2026, 3, 10, 5)  # 06:00 in Warsaw (CET), 01:00 in New York (EDT from 8 March)
    for cid in (warsaw, new_york):
        await store.schedule_callback(
            cid, due_at=early, window_end_at=early + dt.timedelta(hours=12), at=early - dt.timedelta(hours=1)
        )

    async def leased(at: dt.datetime) -> list[tuple[int, str]]:
        got = await store.lease_contacts(camp, at=at, limit=5, owner="e", ttl_s=1)
        await store.release_leases("e", [c.contact_id for c in got])
        return [(c.contact_id, c.reason) for c in got]

    assert [] == await leased(early)
    assert [] == await leased(utc(2026, 3, 10, 7, 59))  # 08:59 in Warsaw
    assert [(warsaw, "callback")] == await leased(utc(2026, 3, 10, 8))  # 09:00 in Warsaw, 04:00 in New York
    assert [(warsaw, "callback")] == await leased(utc(2026, 3, 10, 12, 59))  # 08:59 in New York
    opened = await leased(utc(2026, 3, 10, 13))  # 09:00 in New York
    assert [(warsaw, "callback"), (new_york, "callback")] == sorted(opened)
