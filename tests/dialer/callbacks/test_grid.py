"""The slot grid's arithmetic over time zones and DST (issue 13): property tests."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.callbacks.grid import (
    FIRST_GRID_DATE,
    LAST_GRID_DATE,
    GridSpec,
    SlotState,
    SlotView,
    day_range,
    find_slot,
    grid_views,
    instant_in,
    parse_instant,
    slot_state,
    slots_between,
)
from dialer.errors import ValidationError
from dialer.schedules.schedule import Frequency, Schedule

ZONES = ["Europe/Warsaw", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago", "UTC"]
# days around the 2026 transitions of those zones
DAYS = st.dates(min_value=dt.date(2026, 3, 1), max_value=dt.date(2026, 4, 10)) | st.dates(
    min_value=dt.date(2026, 10, 20), max_value=dt.date(2026, 11, 10)
)
TIMES = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30]))


@st.composite
def grids(draw: st.DrawFn) -> GridSpec:
    zone = draw(st.sampled_from(ZONES))
    start, end = draw(TIMES), draw(TIMES)
    if start == end:
        start = end = dt.time(0)  # equal ends mean the whole day, written 00:00-00:00
    schedule = Schedule(
        name="g", frequency=Frequency.DAILY, window_start=start, window_end=end, timezone=zone
    )
    return GridSpec(schedule=schedule, slot_min=draw(st.sampled_from([5, 15, 30, 45, 60, 90])), capacity=1)


@settings(max_examples=60, deadline=None)
@given(grids(), DAYS, st.integers(1, 4), st.sampled_from(ZONES), st.integers(0, 95))
def test_slots_are_listed_once_never_skipped_whatever_the_split(
    spec: GridSpec, first: dt.date, days: int, view_zone: str, cut_q: int
) -> None:
    lo, hi = day_range(first, first + dt.timedelta(days=days - 1), ZoneInfo(view_zone))
    slots = slots_between(spec, lo, hi)
    length = dt.timedelta(minutes=spec.slot_min)
    for a, b in itertools.pairwise(slots):
        assert a.ends_at <= b.starts_at  # ordered, none overlapping, none twice
    for s in slots:
        assert s.ends_at - s.starts_at == length
        assert lo <= s.starts_at < hi
        assert spec.schedule.is_open(s.starts_at)
        assert spec.schedule.is_open(s.ends_at - dt.timedelta(seconds=1))
    for s in slots[:: max(1, len(slots) // 3)]:
        assert find_slot(spec, s.starts_at) == s  # the same slot, however it is asked for
    # paging the range at any instant gives the same slots as one query
    cut = lo + (hi - lo) * cut_q / 95
    assert slots == slots_between(spec, lo, cut) + slots_between(spec, cut, hi)
    # none skipped: an open interval inside the range holds every whole slot that fits in it
    intervals = spec.schedule.open_intervals(lo, hi)
    for i, (a, b) in enumerate(intervals):
        alone = (i == 0 or intervals[i - 1][1] <= a) and (i + 1 == len(intervals) or b <= intervals[i + 1][0])
        if lo <= a and b <= hi and alone:
            assert (b - a) // length == sum(1 for s in slots if a <= s.starts_at < b)


@settings(max_examples=60, deadline=None)
@given(
    grids(),
    DAYS,
    st.integers(1, 3),
    st.sampled_from(ZONES),
    st.sets(DAYS, max_size=3),
    st.lists(st.tuples(st.integers(0, 400), st.none() | st.integers(0, 3), st.integers(0, 4), st.booleans())),
    st.integers(0, 96 * 4),
)
def test_the_grid_query_shows_each_slot_as_slot_state_and_a_conversion_per_instant_do(
    spec: GridSpec,
    first: dt.date,
    days: int,
    view_zone: str,
    closed_dates: set[dt.date],
    rows: list[tuple[int, int | None, int, bool]],
    now_q: int,
) -> None:
    """The grid query's one loop (converting each slot boundary once, closed dates as ranges)
    gives exactly the views of :func:`slot_state` and :meth:`SlotView.of` slot by slot, local
    readings (and their offsets) included, over DST changes in both zones."""
    spec = GridSpec(schedule=spec.schedule, slot_min=spec.slot_min, closed_dates=frozenset(closed_dates))
    zone = ZoneInfo(view_zone)
    lo, hi = day_range(first, first + dt.timedelta(days=days - 1), zone)
    slots = slots_between(spec, lo, hi)
    counts = {slots[i % len(slots)].starts_at: (cap, n, shut) for i, cap, n, shut in rows if slots}
    now = lo + dt.timedelta(minutes=15 * now_q)
    views = grid_views(spec, lo, hi, zone, now=now, default_capacity=2, counts=counts)
    expected = []
    for slot in slots:
        cap, booked, closed = counts.get(slot.starts_at, (None, 0, False))
        capacity = 2 if cap is None else cap
        state, left = slot_state(spec, slot, now=now, capacity=capacity, booked=booked, closed=closed)
        expected.append(SlotView.of(slot, zone, state, capacity, booked, left))
    assert expected == views
    assert [(v.local_start.isoformat(), v.local_end.isoformat()) for v in expected] == [
        (v.local_start.isoformat(), v.local_end.isoformat()) for v in views
    ]


def test_spring_forward_day_has_one_hour_fewer_slots_and_fall_back_one_more() -> None:
    sched = Schedule(
        name="n",
        frequency=Frequency.DAILY,
        window_start=dt.time(0),
        window_end=dt.time(0),
        timezone="Europe/Warsaw",
    )
    spec = GridSpec(schedule=sched, slot_min=60, capacity=1)
    zone = ZoneInfo("Europe/Warsaw")

    def count(day: dt.date) -> int:
        return len(slots_between(spec, *day_range(day, day, zone)))

    assert (24, 23, 25) == (
        count(dt.date(2026, 3, 28)),
        count(dt.date(2026, 3, 29)),
        count(dt.date(2026, 10, 25)),
    )
    # 09:00 stays 09:00 local on the day after the change
    after = slots_between(spec, *day_range(dt.date(2026, 3, 30), dt.date(2026, 3, 30), zone))
    assert [s.starts_at.astimezone(zone).hour for s in after] == list(range(24))


def test_slot_states() -> None:
    sched = Schedule(name="s", frequency=Frequency.DAILY, window_start=dt.time(9), window_end=dt.time(10))
    spec = GridSpec(schedule=sched, slot_min=30, closed_dates=frozenset({dt.date(2026, 1, 2)}))
    s1, s2 = slots_between(
        spec, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    )
    now = dt.datetime(2026, 1, 1, 9, 40, tzinfo=dt.UTC)
    assert (SlotState.PAST, 0) == slot_state(spec, s1, now=now, capacity=3, booked=0)
    assert (SlotState.AVAILABLE, 2) == slot_state(spec, s2, now=now, capacity=3, booked=1)
    assert (SlotState.FULL, 0) == slot_state(spec, s2, now=now, capacity=3, booked=3)
    assert (SlotState.CLOSED, 0) == slot_state(spec, s2, now=now, capacity=3, booked=0, closed=True)
    (closed,) = slots_between(
        spec, dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC)
    )
    assert SlotState.CLOSED == slot_state(spec, closed, now=now, capacity=3, booked=0)[0]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"slot_min": 2}, "slot_min"),
        ({"capacity": -1}, "capacity"),
        ({"personal_cap_per_day": 0}, "personal_cap_per_day"),
        ({"closed_dates": frozenset({dt.date(1, 1, 1)})}, "closed_dates"),
    ],
)
def test_bad_grid_definitions_name_their_field(kw: dict[str, object], field: str) -> None:
    sched = Schedule(name="s", frequency=Frequency.DAILY, window_start=dt.time(9), window_end=dt.time(10))
    args: dict[str, object] = {"schedule": sched, "slot_min": 30, **kw}
    with pytest.raises(ValidationError) as err:
        GridSpec(**args)  # type: ignore[arg-type]
    assert field == err.value.field
    run_at = Schedule(name="r", frequency=Frequency.DAILY, run_at=dt.time(9))
    with pytest.raises(ValidationError, match="window"):
        GridSpec(schedule=run_at, slot_min=30)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_a_grid_query_of_dates_at_the_calendars_ends_is_refused_not_an_overflow(zone: str) -> None:
    """0001-01-01 begins before year 1 in UTC east of Greenwich, and 9999-12-31 has no next
    day: found by schemathesis on the public slots endpoint as a 500."""
    for first, last, field in (
        (dt.date.min, dt.date.min, "from"),
        (dt.date.max, dt.date.max, "from"),
        (dt.date(2026, 3, 1), dt.date.max, "to"),
    ):
        with pytest.raises(ValidationError) as err:
            day_range(first, last, ZoneInfo(zone))
        assert field == err.value.field
    lo, hi = day_range(FIRST_GRID_DATE, FIRST_GRID_DATE, ZoneInfo(zone))
    assert dt.timedelta(days=1) == hi - lo
    lo, hi = day_range(LAST_GRID_DATE, LAST_GRID_DATE, ZoneInfo(zone))
    assert dt.timedelta(days=1) == hi - lo


def test_an_instant_near_the_calendars_ends_is_refused_naming_its_field() -> None:
    east = dt.timezone(dt.timedelta(hours=5))
    for value in (
        dt.datetime(1, 1, 1, tzinfo=east),  # before year 1 in UTC: no datetime holds it
        dt.datetime(1, 1, 1),  # local time in Tokyo, as above
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=5))),
        dt.datetime(1899, 12, 31, 23, tzinfo=dt.UTC),
    ):
        with pytest.raises(ValidationError) as err:
            instant_in(value, "Asia/Tokyo", value_field="wanted_at")
        assert "wanted_at" == err.value.field
    assert dt.datetime(2026, 3, 10, 0, tzinfo=dt.UTC) == instant_in(dt.datetime(2026, 3, 10, 9), "Asia/Tokyo")
    with pytest.raises(ValidationError) as err:
        parse_instant("0001-01-01T00:00+05:00", "UTC", "slot")
    assert "slot" == err.value.field
