"""The SQL calling-hours functions agree with zoneinfo, DST transitions included."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ZONES = ["Europe/Warsaw", "America/New_York", "America/Denver", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
# Instants around the 2026 DST changes of the zones above, plus anywhere in the year.
EDGES = [
    dt.datetime(2026, 3, 8, 7, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC),
    dt.datetime(2026, 4, 4, 15, tzinfo=dt.UTC),
]

instants = st.one_of(
    st.sampled_from(EDGES).flatmap(
        lambda e: st.integers(-180, 180).map(lambda m: e + dt.timedelta(minutes=m))
    ),
    st.datetimes(
        min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(dt.UTC)
    ),
)
times = st.integers(0, 23 * 60 + 59).map(lambda m: dt.time(m // 60, m % 60))


def in_window(t: dt.time, s: dt.time, e: dt.time) -> bool:
    if s == e:
        return True
    return s <= t < e if s < e else (t >= s or t < e)


def oracle(at: dt.datetime, zones: list[str], s: dt.time, e: dt.time) -> bool:
    return all(in_window(at.astimezone(ZoneInfo(z)).time().replace(tzinfo=None), s, e) for z in zones)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cases=st.lists(
        st.tuples(instants, st.lists(st.sampled_from(ZONES), min_size=1, max_size=3), times, times),
        min_size=1,
        max_size=30,
    )
)
def test_dialer_in_hours_matches_zoneinfo(db_dsn: str, cases: list) -> None:
    async def check() -> list[bool]:
        conn = await asyncpg.connect(db_dsn)
        try:
            return [
                await conn.fetchval("SELECT dialer_in_hours($1, $2, $3, $4)", at, zones, s, e)
                for at, zones, s, e in cases
            ]
        finally:
            await conn.close()

    got = asyncio.run(check())
    assert [oracle(at, zones, s, e) for at, zones, s, e in cases] == got
