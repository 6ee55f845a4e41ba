"""The callback slot grid of a campaign (seed 003, Genesys "siatka planowania"): pure arithmetic.

Theory of operation: a grid is a schedule (seed 000: which days, which hours, in the
schedule's zone) cut into slots of ``slot_min`` minutes. Each selected day's open interval
(:meth:`~dialer.schedules.schedule.Schedule.open_intervals`, UTC instants) is cut from its own
start into consecutive slots of ``slot_min`` minutes of *elapsed* time; a remainder shorter
than a slot is not a slot. Because slots are instants and never wall-clock readings, a DST
change cannot list a slot twice or skip one: on the night clocks go back the repeated hour
simply holds more slots, on the spring-forward night the missing hour holds none, and a
day's slots still start at its window start (09:00 stays 09:00). A slot's identity is its
start instant; it never depends on the range asked for, so paging through days gives the
same slots as one long query.

A slot's state (:func:`slot_state`): ``past`` once it has ended, ``closed`` on a closed date
(a local date in the schedule's zone) or when closed by hand, ``full`` with no place left,
else ``available``. A slot in progress may still be booked: its callback is due at once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.errors import ValidationError
from dialer.schedules.schedule import Schedule
from dialer.schedules.wall_clock import first_instant

__all__ = [
    "GridSpec",
    "MissedRule",
    "Slot",
    "SlotCounts",
    "SlotState",
    "SlotView",
    "day_range",
    "find_slot",
    "grid_views",
    "instant_in",
    "parse_dates",
    "parse_instant",
    "slot_state",
    "slots_between",
    "zone_named",
]

#: How far ahead the next free slot is looked for (the missed rule "next slot").
NEXT_SLOT_HORIZON_DAYS = 31
#: The longest date range one grid query may cover.
MAX_GRID_DAYS = 92
#: The dates a grid query may ask for: far enough from ``date.min`` and ``date.max`` that a
#: day's start in any zone, a slot's length and the schedule's look back and ahead stay
#: inside what ``datetime`` can hold (0001-01-01 east of UTC begins before year 1).
FIRST_GRID_DATE = dt.date(1900, 1, 1)
LAST_GRID_DATE = dt.date(9000, 12, 31)


def _out_of_range(field: str, shown: str) -> ValidationError:
    return ValidationError(field, f"must be from {FIRST_GRID_DATE} to {LAST_GRID_DATE}", shown)


def _check_grid_date(field: str, day: dt.date, shown: str) -> None:
    """Refuse a date outside :data:`FIRST_GRID_DATE` .. :data:`LAST_GRID_DATE`, naming ``field``."""
    if not FIRST_GRID_DATE <= day <= LAST_GRID_DATE:
        raise _out_of_range(field, shown)


class MissedRule(enum.StrEnum):
    """What happens to a callback whose window passes without a connect (a campaign setting)."""

    CAMPAIGN = "campaign"  # hand the contact back to the campaign's ordinary dialling
    NEXT_SLOT = "next_slot"  # move it to the next slot with room
    RETRY = "retry"  # retry after a failed call while the window lasts, then hand it back


class SlotState(enum.StrEnum):
    AVAILABLE = "available"
    FULL = "full"
    CLOSED = "closed"
    PAST = "past"


# Slot and SlotView are named tuples, not frozen dataclasses, for the same immutability at a
# third of the cost: the grid query builds one of each per slot (1,440 for a month of half-hour
# slots), and a frozen dataclass's __init__ cost about three time-zone conversions
# (benchmarks/callback_grid.py).


class Slot(NamedTuple):
    """One slot: ``[starts_at, ends_at)`` in UTC."""

    starts_at: dt.datetime
    ends_at: dt.datetime


class SlotView(NamedTuple):
    """A slot as the grid query shows it: UTC instants, local readings in the zone asked for."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    local_start: dt.datetime
    local_end: dt.datetime
    state: SlotState
    capacity: int
    booked: int
    remaining: int

    @classmethod
    def of(
        cls, slot: Slot, zone: ZoneInfo, state: SlotState, capacity: int, booked: int, remaining: int
    ) -> SlotView:
        return cls(
            slot.starts_at,
            slot.ends_at,
            slot.starts_at.astimezone(zone),
            slot.ends_at.astimezone(zone),
            state,
            capacity,
            booked,
            remaining,
        )


@dataclass(frozen=True, slots=True)
class GridSpec:
    """A campaign's grid definition; ``capacity`` None = the campaign's assigned agents.

    Raises:
        ValidationError: from the constructor, naming the field that is wrong.
    """

    schedule: Schedule
    slot_min: int
    capacity: int | None = None
    closed_dates: frozenset[dt.date] = frozenset()
    missed_rule: MissedRule = MissedRule.CAMPAIGN
    retry_delay_s: int = 600
    personal_cap_per_day: int | None = None
    regions: frozenset[str] = frozenset()  # ISO codes web callback numbers must be of; empty: any

    def __post_init__(self) -> None:
        if not 5 <= self.slot_min <= 1440:
            raise ValidationError("slot_min", "must be 5 to 1440 minutes", self.slot_min)
        if not self.schedule.is_window:
            raise ValidationError(
                "schedule",
                "a grid needs a schedule with a from-to window, not a run-at time",
                self.schedule.name,
            )
        if self.capacity is not None and self.capacity < 0:
            raise ValidationError("capacity", "must not be negative", self.capacity)
        if self.retry_delay_s < 60:
            raise ValidationError("retry_delay_s", "must be at least 60 seconds", self.retry_delay_s)
        if self.personal_cap_per_day is not None and self.personal_cap_per_day < 1:
            raise ValidationError("personal_cap_per_day", "must be at least 1", self.personal_cap_per_day)
        for day in sorted(self.closed_dates):
            _check_grid_date("closed_dates", day, day.isoformat())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.schedule.timezone)

    def local_date(self, at: dt.datetime) -> dt.date:
        """The calendar date of ``at`` in the grid's (the schedule's) zone."""
        return at.astimezone(self.zone).date()

    def is_closed_on(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls on a closed date (cheap when there is none: the grid query's path)."""
        return bool(self.closed_dates) and self.local_date(at) in self.closed_dates


def slots_between(spec: GridSpec, start: dt.datetime, end: dt.datetime) -> list[Slot]:
    """The grid's slots starting in ``[start, end)``, in time order, none overlapping another."""
    return [Slot._make(bounds) for bounds in _slot_bounds(spec, start, end)]


def _slot_bounds(
    spec: GridSpec, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """:func:`slots_between` as plain (start, end) pairs: the grid query's input, where making a
    named tuple per slot cost more than the cutting itself (benchmarks/callback_grid.py)."""
    length = dt.timedelta(minutes=spec.slot_min)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    last_end: dt.datetime | None = None
    # look one slot back so an interval that began before ``start`` is cut from its own start
    for lo, hi in spec.schedule.open_intervals(start - length, end):
        # the k-th slot of the interval starts at lo + k * length; the whole ones fit before hi
        # and those before ``start`` are skipped by arithmetic, not by walking to them
        skip = max(0, -((lo - start) // length))
        at = lo + skip * length
        for _ in range(skip, (hi - lo) // length):
            if at >= end:
                break
            nxt = at + length
            if last_end is None or at >= last_end:
                out.append((at, nxt))
                last_end = nxt
            at = nxt
    return out


def find_slot(spec: GridSpec, starts_at: dt.datetime) -> Slot | None:
    """The grid's slot starting exactly at ``starts_at``, or None when no slot starts there."""
    found = slots_between(spec, starts_at, starts_at + dt.timedelta(seconds=1))
    return found[0] if found and found[0].starts_at == starts_at else None


def _state(
    ends_at: dt.datetime, now: dt.datetime, closed: bool, capacity: int, booked: int
) -> tuple[SlotState, int]:
    if ends_at <= now:
        return SlotState.PAST, 0
    if closed:
        return SlotState.CLOSED, 0
    left = capacity - booked
    if left <= 0:
        return SlotState.FULL, 0
    return SlotState.AVAILABLE, left


def slot_state(
    spec: GridSpec, slot: Slot, *, now: dt.datetime, capacity: int, booked: int, closed: bool = False
) -> tuple[SlotState, int]:
    """The slot's state and the places left in it (0 unless available)."""
    return _state(slot.ends_at, now, closed or spec.is_closed_on(slot.starts_at), capacity, booked)


#: A slot row's figures: its own capacity (None: the grid's default), booked places, closed by hand.
SlotCounts = tuple[int | None, int, bool]


def grid_views(
    spec: GridSpec,
    start: dt.datetime,
    end: dt.datetime,
    zone: ZoneInfo,
    *,
    now: dt.datetime,
    default_capacity: int,
    counts: Mapping[dt.datetime, SlotCounts],
) -> list[SlotView]:
    """The grid query: the slots starting in ``[start, end)`` with their state, places and local
    readings in ``zone``; ``counts`` holds the slots that have a row (by start), the others are
    empty and open.

    One loop instead of :func:`slot_state` and :meth:`SlotView.of` per slot because this is the
    hot path of ``benchmarks/callback_grid.py`` (a month of half-hour slots), where converting
    instants to local readings was the largest cost: a slot's local end is the next slot's local
    start whenever they touch, so each boundary is converted once (still by ``astimezone``, the
    one conversion that is always right across DST; deriving readings from a cached offset was
    measured no cheaper in CPython), and the closed dates become UTC ranges once per query
    instead of a conversion per slot. The slots come as plain pairs and each view is made by
    ``tuple.__new__``: a named tuple's own constructor is a Python-level call, and the two per
    slot cost about a third of the loop (benchmarks/callback_grid.py).
    """
    closed_ranges = [day_range(d, d, spec.zone) for d in spec.closed_dates]
    out: list[SlotView] = []
    new = tuple.__new__
    prev_end: dt.datetime | None = None
    prev_local = start
    for at, until in _slot_bounds(spec, start, end):
        local_start = prev_local if at == prev_end else at.astimezone(zone)
        prev_end, prev_local = until, until.astimezone(zone)
        own = counts.get(at)
        capacity, booked, closed = (default_capacity, 0, False) if own is None else own
        if capacity is None:
            capacity = default_capacity
        if closed_ranges and not closed:
            closed = any(lo <= at < hi for lo, hi in closed_ranges)
        state, left = _state(until, now, closed, capacity, booked)
        out.append(new(SlotView, (at, until, local_start, prev_local, state, capacity, booked, left)))
    return out


def zone_named(name: str, field: str = "timezone") -> ZoneInfo:
    """The IANA zone ``name``; a clear error naming ``field`` when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(field, "not a known time zone (IANA name, e.g. Europe/Warsaw)", name) from None


def instant_in(
    value: dt.datetime | None, zone: str, field: str = "timezone", *, value_field: str = "at"
) -> dt.datetime | None:
    """``value`` in UTC; a reading without an offset is local time in ``zone``.

    Raises:
        ValidationError: ``zone`` unknown (named ``field``), or ``value`` (named ``value_field``)
        not between :data:`FIRST_GRID_DATE` and :data:`LAST_GRID_DATE` -- the grid's slot
        arithmetic on an instant near year 1 or 9999 would leave what ``datetime`` can hold.
    """
    if value is None:
        return None
    at = value if value.tzinfo is not None else value.replace(tzinfo=zone_named(zone, field))
    try:
        utc = at.astimezone(dt.UTC)
    except OverflowError:
        raise _out_of_range(value_field, value.isoformat()) from None
    _check_grid_date(value_field, utc.date(), value.isoformat())
    return utc


def parse_instant(text: str | None, zone: str, field: str) -> dt.datetime | None:
    """An ISO date and time from text (``2026-03-10T09:30``, with or without an offset) in UTC."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            field, "not a date and time (YYYY-MM-DDTHH:MM, optional offset)", text
        ) from None
    return instant_in(value, zone, value_field=field)


def day_range(first: dt.date, last: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants from the start of ``first`` to the end of ``last``, local dates in ``zone``.

    Raises:
        ValidationError: a date outside :data:`FIRST_GRID_DATE` to :data:`LAST_GRID_DATE`,
        ``last`` before ``first``, or more than :data:`MAX_GRID_DAYS` days.
    """
    for field, day in (("from", first), ("to", last)):
        _check_grid_date(field, day, day.isoformat())
    if last < first:
        raise ValidationError("to", "must not be before 'from'", last.isoformat())
    if (last - first).days + 1 > MAX_GRID_DAYS:
        raise ValidationError("to", f"a grid query covers at most {MAX_GRID_DAYS} days", last.isoformat())
    return _midnight(first, zone), _midnight(last + dt.timedelta(days=1), zone)


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant of local ``day`` (after a gap when midnight itself does not exist)."""
    return first_instant(dt.datetime.combine(day, dt.time(0, 0)), zone)


def parse_dates(values: Iterable[str], field: str = "closed_dates") -> frozenset[dt.date]:
    """ISO dates (``2026-12-24``) from text; a clear error naming the bad one."""
    out = set()
    for v in values:
        try:
            out.add(dt.date.fromisoformat(v.strip()))
        except ValueError:
            raise ValidationError(field, "not a date (YYYY-MM-DD)", v) from None
    return frozenset(out)
