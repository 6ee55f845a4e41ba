"""The dial-time recheck (issue 11): each lease rule refuses a leased contact once it changed.

Real PostgreSQL, explicit instants: a contact is leased while every rule holds, something
changes (the clock passes the hours, a list, a cap, a lock, the schedule), and
``recheck_before_dial`` names the rule that now refuses -- and nothing before the change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dialer.model import (
    AttemptResult,
    CallbackKind,
    CampaignState,
    Compliance,
    DialRefusal,
    LeasedContact,
    Outcome,
    RetryRule,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, unique, utc
from tests.dialer.store.test_local_hours_sql import EDGES, ZONES, instants, oracle

NOON = utc(2026, 3, 10, 12, 0)
HOURS = {"local_hours_start": dt.time(8), "local_hours_end": dt.time(21)}


async def leased(store: Store, campaign: str, at: dt.datetime, **kw: object) -> LeasedContact:
    [lease] = await store.lease_contacts(campaign, at=at, limit=1, owner="e1", **kw)  # type: ignore[arg-type]
    return lease


async def refusals(store: Store, lease: LeasedContact, *ats: dt.datetime, agent: bool = False) -> list:
    return [await store.recheck_before_dial(lease, at=at, agent_reserved=agent) for at in ats]


async def test_hours_that_ended_after_the_lease_refuse_the_dial(store: Store) -> None:
    camp = await make_campaign(store, **HOURS)
    await store.add_contact(camp, ["+48500001001"], timezone="Europe/Warsaw")
    # 19:59:30 UTC on 10 March = 20:59:30 in Warsaw (CET); 20:00:04 UTC = 21:00:04
    lease = await leased(store, camp, utc(2026, 3, 10, 19, 59, 30))
    expected = [None, DialRefusal.OUTSIDE_LOCAL_HOURS]
    assert expected == await refusals(store, lease, utc(2026, 3, 10, 19, 59, 59), utc(2026, 3, 10, 20, 0, 4))


async def test_a_number_in_two_zones_is_refused_once_the_hours_end_in_either(store: Store) -> None:
    camp = await make_campaign(store, **HOURS)
    await store.add_contact(camp, [("+19155551001", {"timezones": ("America/Chicago", "America/Denver")})])
    # 01:59 UTC on 1 July = 20:59 Chicago (CDT), 19:59 Denver (MDT); 02:00:04 = 21:00:04 in Chicago
    lease = await leased(store, camp, utc(2026, 7, 1, 1, 59))
    expected = [None, DialRefusal.OUTSIDE_LOCAL_HOURS]
    assert expected == await refusals(store, lease, utc(2026, 7, 1, 1, 59, 59), utc(2026, 7, 1, 2, 0, 4))


async def test_a_number_window_that_closed_after_the_lease_refuses_the_dial(store: Store) -> None:
    camp = await make_campaign(store)
    window = {"window_start": dt.time(9), "window_end": dt.time(17), "timezones": ("Europe/Warsaw",)}
    await store.add_contact(camp, [("+48500001002", window)])
    lease = await leased(store, camp, utc(2026, 3, 10, 15, 59))  # 16:59 in Warsaw
    expected = [None, DialRefusal.NUMBER_WINDOW]
    assert expected == await refusals(store, lease, utc(2026, 3, 10, 15, 59), utc(2026, 3, 10, 16, 0, 1))


async def test_a_number_listed_after_the_lease_is_refused_on_either_list(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48500001003"])
    await store.add_contact(camp, ["+48500001004"])
    first = await leased(store, camp, NOON)
    second = await leased(store, camp, NOON)
    await store.add_do_not_call(first.e164, reason="asked us")
    await store.add_do_not_call(second.e164, campaign=camp, reason="asked this campaign")
    expected = [DialRefusal.DO_NOT_CALL, DialRefusal.DO_NOT_CALL]
    assert expected == [
        await store.recheck_before_dial(lease, at=NOON, agent_reserved=True) for lease in (first, second)
    ]


async def test_caps_that_hold_again_after_the_lease_refuse_the_dial(store: Store) -> None:
    # An agreed callback is leased past the day's cap (the caps do not hold it back); once it
    # is cancelled the contact is an ordinary retry again, and the day's cap refuses the dial.
    camp = await make_campaign(store, max_attempts=10, max_attempts_per_day=1)
    cid = await store.add_contact(camp, ["+48500001005"])
    await store.pool.execute(
        "UPDATE contacts SET attempts = 1, day_attempts = 1, day_attempts_on = $2 WHERE id = $1",
        cid,
        NOON.date(),
    )
    callback = await store.schedule_callback(cid, due_at=NOON, kind=CallbackKind.CAMPAIGN)
    lease = await leased(store, camp, NOON, agent_reserved=True)
    before = await store.recheck_before_dial(lease, at=NOON, agent_reserved=True)
    await store.cancel_callback(callback.id)
    after = await store.recheck_before_dial(lease, at=NOON, agent_reserved=True)
    assert [None, DialRefusal.CAP_REACHED] == [before, after]


async def test_a_uk_lock_refuses_a_call_without_an_agent_and_yields_to_a_reserved_one(store: Store) -> None:
    camp = await make_campaign(store, compliance=Compliance.UK, max_attempts_per_day=10)
    await store.create_status(
        StatusSpec("Porzucone", SystemStatus.CALL, trigger=Trigger.ABANDONED, retry=RetryRule(delay_s=0)),
        campaign=camp,
    )
    await store.add_contact(camp, ["+447700901001"])
    first = await leased(store, camp, NOON)
    attempt = await store.open_attempt(first, at=NOON)
    await store.close_attempt(attempt, AttemptResult(Outcome.ABANDONED, ended_at=NOON))
    # within the 72 h lock only a caller with an agent reserved gets it; a predictive call may
    # then take it from the hopper without one
    later = NOON + dt.timedelta(hours=1)
    lease = await leased(store, camp, later, agent_reserved=True)
    expected = [DialRefusal.UK_LOCK, None]
    assert expected == [
        await store.recheck_before_dial(lease, at=later, agent_reserved=False),
        await store.recheck_before_dial(lease, at=later, agent_reserved=True),
    ]


async def test_a_call_progressive_contact_is_refused_without_an_agent(store: Store) -> None:
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Spad", SystemStatus.CALL_PROGRESSIVE), campaign=camp)
    await store.add_contact(camp, ["+48500001006"], status="Spad")
    lease = await leased(store, camp, NOON, agent_reserved=True)
    expected = [DialRefusal.NOT_DUE, None]
    assert expected == [
        await store.recheck_before_dial(lease, at=NOON, agent_reserved=False),
        await store.recheck_before_dial(lease, at=NOON, agent_reserved=True),
    ]


async def test_a_schedule_that_closed_after_the_lease_refuses_the_dial(store: Store) -> None:
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
    await store.add_contact(camp, ["+48500001007"])
    lease = await leased(store, camp, utc(2026, 3, 10, 16, 59, 30))
    expected = [None, DialRefusal.SCHEDULE_CLOSED]
    assert expected == await refusals(store, lease, utc(2026, 3, 10, 16, 59, 59), utc(2026, 3, 10, 17, 0, 4))


async def test_a_campaign_paused_after_the_lease_refuses_the_dial(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48500001008"])
    lease = await leased(store, camp, NOON)
    await store.set_campaign_state(camp, CampaignState.PAUSED)
    assert [DialRefusal.CAMPAIGN_NOT_RUNNING] == await refusals(store, lease, NOON)


# -- the hours rule against an oracle ---------------------------------------------------------

# Instants a little before 21:00 local in one of the number's zones, on the days clocks change
# and the days before, or anywhere (``instants``: around the DST changes and all year).
_DST_DAYS = sorted({e.date() for e in EDGES} | {(e - dt.timedelta(days=1)).date() for e in EDGES})


def _utc_of(local: dt.datetime, plus_s: int) -> dt.datetime:
    return local.astimezone(dt.UTC) + dt.timedelta(seconds=plus_s)


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[str], bool, dt.datetime, int]:
    """(candidate zones, whether the first is the contact's own zone, lease instant, lease age)."""
    own_zone = draw(st.booleans())
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=1 if own_zone else 3, unique=True))
    closing = st.builds(
        lambda day, zone, s: _utc_of(dt.datetime.combine(day, dt.time(20, 50), tzinfo=ZoneInfo(zone)), s),
        st.sampled_from(_DST_DAYS),
        st.sampled_from(zones),
        st.integers(0, 600),
    )
    leased_at = draw(st.one_of(closing, instants))
    age_s = draw(st.one_of(st.integers(0, 900), st.integers(0, 4 * 3600)))
    return zones, own_zone, leased_at, age_s


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_the_recheck_refuses_exactly_outside_the_hours_of_some_candidate_zone(
    db_dsn: str, case: tuple[list[str], bool, dt.datetime, int]
) -> None:
    """Leased when the hours hold (else the lease refuses it), rechecked ``age_s`` later."""
    zones, own_zone, leased_at, age_s = case
    dial_at = leased_at + dt.timedelta(seconds=age_s)

    async def check() -> tuple[bool, DialRefusal | None]:
        store = await Store.open(db_dsn, min_size=1, max_size=1, migrate_now=False)
        try:
            camp = await make_campaign(store, timezone=zones[0], **HOURS)
            # the contact's own zone wins over the number's (another one here)
            other = "America/Denver" if zones[0] == "Asia/Kolkata" else "Asia/Kolkata"
            number = ("+48500001099", {"timezones": (other,) if own_zone else tuple(zones)})
            await store.add_contact(camp, [number], timezone=zones[0] if own_zone else None)
            leases = await store.lease_contacts(camp, at=leased_at, limit=1, owner="e1")
            if not leases:
                return False, None
            return True, await store.recheck_before_dial(leases[0], at=dial_at, agent_reserved=False)
        finally:
            await store.close()

    got_lease, refusal = asyncio.run(check())
    event(f"leased={got_lease} refused={refusal}")  # --hypothesis-show-statistics: both sides seen
    hours = (dt.time(8), dt.time(21))
    assert oracle(leased_at, zones, *hours) == got_lease
    if got_lease:
        expected = None if oracle(dial_at, zones, *hours) else DialRefusal.OUTSIDE_LOCAL_HOURS
        assert expected == refusal
