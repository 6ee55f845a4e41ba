"""A lease's ``dial_until`` (issue 11): dialled before it, a call is inside the contact's hours.

Property, against the real PostgreSQL: whatever the zones (several candidates, DST changes
included), the campaign's hours, the number's own window and the lease's age, a lease dialled
before its ``dial_until`` (as the hopper and the dialer allow) starts inside the hours and the
window in every candidate zone -- checked with zoneinfo, not with the SQL that computed it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dialer.campaign.hopper import window_ended
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc
from tests.dialer.store.test_local_hours_sql import EDGES, ZONES, instants, oracle, times

# Around every DST change of the zones, and any time of the year.
_NEAR_CHANGES = st.sampled_from(EDGES).flatmap(
    lambda e: st.integers(-26 * 60, 26 * 60).map(lambda m: e + dt.timedelta(minutes=m))
)


@st.composite
def cases(
    draw: st.DrawFn,
) -> tuple[list[str], tuple[dt.time, dt.time], tuple[dt.time, dt.time] | None, dt.datetime, int]:
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True))
    hours = (draw(times), draw(times))
    window = draw(st.none() | st.tuples(times, times))
    leased_at = draw(st.one_of(_NEAR_CHANGES, instants))
    age_s = draw(st.one_of(st.integers(0, 900), st.integers(0, 6 * 3600), st.integers(0, 2 * 86_400)))
    return zones, hours, window, leased_at, age_s


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
# Found by hypothesis: Denver's clocks go back at 08:00 UTC, 02:00 -> 01:00, out of hours
# that start at 01:01 for a minute, long before the hours' wall-clock end (migration 020).
@example(
    case=(
        ["Europe/Warsaw", "America/New_York", "America/Denver"],
        (dt.time(1, 1), dt.time(0, 0)),
        None,
        dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.UTC),
        1800,
    )
)
def test_no_lease_is_dialled_outside_the_contacts_hours(
    db_dsn: str,
    case: tuple[list[str], tuple[dt.time, dt.time], tuple[dt.time, dt.time] | None, dt.datetime, int],
) -> None:
    zones, hours, window, leased_at, age_s = case
    dial_at = leased_at + dt.timedelta(seconds=age_s)

    async def lease() -> list:
        store = await Store.open(db_dsn, min_size=1, max_size=1, migrate_now=False)
        try:
            camp = await make_campaign(
                store, timezone=zones[0], local_hours_start=hours[0], local_hours_end=hours[1]
            )
            extra: dict[str, object] = {"timezones": tuple(zones)}
            if window is not None:
                extra.update(window_start=window[0], window_end=window[1])
            await store.add_contact(camp, [("+48500007001", extra)])
            return await store.lease_contacts(camp, at=leased_at, limit=1, owner="e1")
        finally:
            await store.close()

    leases = asyncio.run(lease())
    in_force = oracle(leased_at, zones, *hours) and (window is None or oracle(leased_at, zones, *window))
    assert in_force == bool(leases)
    if not leases:
        event("not leased")
        return
    until = leases[0].dial_until
    all_day = hours[0] == hours[1] and (window is None or window[0] == window[1])
    assert (until is None) == all_day
    if window_ended(leases[0], dial_at):
        event("window ended before the dial")
        return
    event("dialled")
    assert oracle(dial_at, zones, *hours), (dial_at, until)
    assert window is None or oracle(dial_at, zones, *window), (dial_at, until)


async def test_a_lease_ends_with_the_earliest_of_hours_number_window_and_schedule(store: Store) -> None:
    camp = await make_campaign(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    # Warsaw (CET, UTC+1) and New York (EST, UTC-5): the hours end first in Warsaw, 20:00 UTC
    await store.add_contact(camp, [("+48500007002", {"timezones": ("Europe/Warsaw", "America/New_York")})])
    [lease] = await store.lease_contacts(camp, at=utc(2026, 3, 2, 15), limit=1, owner="e1")
    assert utc(2026, 3, 2, 20) == lease.dial_until
    # the number's own window 09:00-17:00 ends first: 17:00 in Warsaw is 16:00 UTC
    other = await make_campaign(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    await store.add_contact(
        other,
        [
            (
                "+48500007003",
                {"timezones": ("Europe/Warsaw",), "window_start": dt.time(9), "window_end": dt.time(17)},
            )
        ],
    )
    [lease] = await store.lease_contacts(other, at=utc(2026, 3, 2, 15), limit=1, owner="e1")
    assert utc(2026, 3, 2, 16) == lease.dial_until
    # after the spring change Warsaw is UTC+2: 21:00 is 19:00 UTC
    [late] = await store.lease_contacts(camp, at=utc(2026, 3, 30, 15), limit=1, owner="e2")
    assert utc(2026, 3, 30, 19) == late.dial_until
    assert ZoneInfo("Europe/Warsaw").utcoffset(dt.datetime(2026, 3, 30, 12)) == dt.timedelta(hours=2)
