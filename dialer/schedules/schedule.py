"""Schedules: when a campaign may dial, when a report or a task runs (seed 000, "Harmonogramy").

Theory of operation
-------------------
A schedule selects *days* (daily; weekly on chosen weekdays; monthly in chosen months and/or
on chosen days of the month; an empty choice means "every") and, on each selected day, a
*span of local wall-clock time*: either a calling window ``from-to`` (``00:00-00:00`` is the
whole day, ``22:00-06:00`` crosses midnight and belongs to the day it starts on) or a run-at
time ``HH:MM``, which is open for that one minute. Triggers (:meth:`Schedule.next_run`) are
the run-at time, or the window start, or every ``interval_min`` minutes from the window start
while before its end.

Everything is computed per selected day as a short list of UTC instant intervals, so
:meth:`~Schedule.is_open`, :meth:`~Schedule.next_open`, :meth:`~Schedule.next_close` and
:meth:`~Schedule.next_run` share one definition and cannot disagree. The search walks
selected days, not minutes (months that are not selected are skipped whole), and stops after
:data:`SEARCH_HORIZON_DAYS`, so a schedule that can never fire ("30 February") answers
``None`` at once and an ordinary one answers in microseconds.

Daylight saving time (all through :mod:`zoneinfo`):

* A window is the set of instants whose local wall-clock time lies inside it. When clocks go
  forward, the non-existent part is simply absent, so a window starting at a missing time
  opens at the first valid instant after it (02:30 on the spring-forward night in Warsaw
  opens at 03:00 CEST). When clocks go back, both occurrences of the repeated hour are inside
  a window that contains that wall-clock time.
* A trigger or run-at minute at a wall-clock time that occurs twice uses the first
  occurrence; one at a time that does not exist fires at the first valid instant after it.

All instants returned are timezone-aware UTC ``datetime`` objects: comparing two aware
datetimes that share a ``ZoneInfo`` compares wall-clock readings and ignores ``fold``, which
is wrong around the autumn transition, so UTC is the only safe currency between callers.

This module holds the :class:`Schedule` value, its calendar arithmetic (which days, which
intervals, which triggers) and :func:`schedule_from_text`; the mapping of wall-clock readings
to instants is :mod:`dialer.schedules.wall_clock`, the text forms of the pieces (times,
windows, weekdays, sets of days) are :mod:`dialer.schedules.text`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.errors import ScheduleError
from dialer.schedules.text import (
    format_int_set,
    format_weekdays,
    parse_int_set,
    parse_time,
    parse_weekdays,
    parse_window,
)
from dialer.schedules.wall_clock import (
    MIDNIGHT,
    UTC,
    Interval,
    first_instant,
    wall_reading,
    wall_span_instants,
)

__all__ = [
    "SEARCH_HORIZON_DAYS",
    "Frequency",
    "Schedule",
    "schedule_from_text",
]

_MINUTE = dt.timedelta(minutes=1)
_DAY = dt.timedelta(days=1)

#: How far ahead the searches look. Eight years and a bit: a "29 February" schedule fires at
#: least once in any eight consecutive years (2096 -> 2104 skips 2100, a non-leap century).
SEARCH_HORIZON_DAYS = 8 * 366 + 2

_SYSTEM_ALIASES = frozenset({"localtime", "posixrules"})

#: Days of intervals a schedule remembers; a year's worth covers every runner's look-ahead.
_MEMO_DAYS = 400

# Days per month in a leap year: the largest day each month can ever have.
_MAX_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Frequency(enum.StrEnum):
    """How days are selected (seed 000: codziennie / tygodniowo / miesięcznie)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A named calling window or trigger plan; see the module docstring for the semantics.

    Raises:
        ScheduleError: from the constructor when the definition is inconsistent; the error
            names the field (``window``, ``run_at``, ``weekdays``, ``timezone``...) and why.
    """

    name: str
    frequency: Frequency
    weekdays: frozenset[int] = frozenset()  # 0=Mon..6=Sun; WEEKLY: empty = every day
    months: frozenset[int] = frozenset()  # 1..12; MONTHLY: empty = every month
    days: frozenset[int] = frozenset()  # 1..31; MONTHLY: empty = every day of the month
    run_at: dt.time | None = None  # "run at HH:MM" (exclusive with a window)
    window_start: dt.time | None = None
    window_end: dt.time | None = None  # 00:00-00:00 = all day; end < start = crosses midnight
    interval_min: int | None = None  # optional: every N minutes inside the window
    timezone: str = "UTC"  # IANA name; all times are local wall-clock times there
    active: bool = True  # only active schedules run / are open
    description: str = ""
    # Derived once in __post_init__; not part of identity.
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _sorted_days: tuple[int, ...] = field(init=False, repr=False, compare=False, hash=False)
    _possible: bool = field(init=False, repr=False, compare=False, hash=False)
    _every_day: bool = field(init=False, repr=False, compare=False, hash=False)
    # Memo of _intervals by day: a runner asks is_open about the same day on every tick.
    _memo: dict[dt.date, list[Interval]] = field(init=False, repr=False, compare=False, hash=False)

    # ------------------------------------------------------------------ validation

    def __post_init__(self) -> None:
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not name:
            raise ScheduleError("name", "must not be empty", self.name)
        _set(self, "name", name)
        try:
            _set(self, "frequency", Frequency(self.frequency))
        except ValueError:
            raise ScheduleError(
                "frequency", "must be one of daily, weekly, monthly", self.frequency
            ) from None
        _set(self, "weekdays", _int_set(self.weekdays, "weekdays", 0, 6))
        _set(self, "months", _int_set(self.months, "months", 1, 12))
        _set(self, "days", _int_set(self.days, "days", 1, 31))
        if self.weekdays and self.frequency is not Frequency.WEEKLY:
            raise ScheduleError("weekdays", "only a weekly schedule chooses weekdays", sorted(self.weekdays))
        if (self.months or self.days) and self.frequency is not Frequency.MONTHLY:
            which = "months" if self.months else "days"
            raise ScheduleError(which, "only a monthly schedule chooses months and days", sorted(
                getattr(self, which)))
        for fname in ("run_at", "window_start", "window_end"):
            value = getattr(self, fname)
            if value is None:
                continue
            if not isinstance(value, dt.time):
                raise ScheduleError(fname, "must be a time of day HH:MM", value)
            if value.tzinfo is not None:
                raise ScheduleError(fname, "must be a local wall-clock time without a time zone", value)
            if value.second or value.microsecond:
                raise ScheduleError(fname, "must be a whole minute HH:MM", value.isoformat())
        has_window = self.window_start is not None or self.window_end is not None
        if self.run_at is not None and has_window:
            raise ScheduleError("window", "give either a run-at time or a window, not both")
        if self.run_at is None and not has_window:
            raise ScheduleError("window", "give either a run-at time or a from-to window")
        if has_window and (self.window_start is None or self.window_end is None):
            raise ScheduleError("window", "needs both a start and an end")
        if self.window_start is not None and self.window_start == self.window_end != MIDNIGHT:
            raise ScheduleError(
                "window", "start equals end; use 00:00-00:00 for the whole day",
                f"{self.window_start:%H:%M}-{self.window_end:%H:%M}",
            )
        if self.interval_min is not None:
            if self.run_at is not None:
                raise ScheduleError("interval_min", "an interval needs a window, not a run-at time")
            if isinstance(self.interval_min, bool) or not isinstance(self.interval_min, int):
                raise ScheduleError("interval_min", "must be a whole number of minutes", self.interval_min)
            if not 1 <= self.interval_min <= 1440:
                raise ScheduleError("interval_min", "must be between 1 and 1440 minutes", self.interval_min)
        try:
            if self.timezone in _SYSTEM_ALIASES:  # this machine's setting, not a place PostgreSQL knows
                raise ValueError(self.timezone)
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
            raise ScheduleError("timezone", "unknown IANA time zone", self.timezone) from None
        if not isinstance(self.active, bool):
            raise ScheduleError("active", "must be true or false", self.active)
        _set(self, "_zone", zone)
        _set(self, "_sorted_days", tuple(sorted(self.days)))
        _set(self, "_possible", self._can_ever_fire())
        _set(self, "_every_day", self._selects_every_day())
        _set(self, "_memo", {})

    def _can_ever_fire(self) -> bool:
        if self.frequency is not Frequency.MONTHLY or not self.days:
            return True
        months = self.months or range(1, 13)
        return any(day <= _MAX_DAYS[m - 1] for m in months for day in self.days)

    def _selects_every_day(self) -> bool:
        if self.frequency is Frequency.DAILY:
            return True
        if self.frequency is Frequency.WEEKLY:
            return not self.weekdays or len(self.weekdays) == 7
        return (not self.months or len(self.months) == 12) and (not self.days or len(self.days) == 31)

    # ------------------------------------------------------------------ public queries

    @property
    def is_window(self) -> bool:
        """True for a from-to window (what a campaign needs), False for a run-at time."""
        return self.run_at is None

    @property
    def can_ever_open(self) -> bool:
        """False when no selected day exists in any selected month (31 February): never opens."""
        return self._possible

    @property
    def is_all_day(self) -> bool:
        return self.window_start == MIDNIGHT and self.window_end == MIDNIGHT

    def describe(self) -> str:
        """One line for listings: ``weekly mon,tue,wed,thu,fri 09:00-20:00 (Europe/Warsaw)``."""
        parts = [self.frequency.value]
        if self.weekdays:
            parts.append(format_weekdays(self.weekdays))
        if self.months:
            parts.append("months " + format_int_set(self.months))
        if self.days:
            parts.append("days " + format_int_set(self.days))
        if self.run_at is not None:
            parts.append(f"at {self.run_at:%H:%M}")
        else:
            assert self.window_start is not None and self.window_end is not None
            span = f"{self.window_start:%H:%M}-{self.window_end:%H:%M}"
            parts.append("all day" if self.is_all_day else span)
            if self.interval_min is not None:
                parts.append(f"every {self.interval_min} min")
        parts.append(f"({self.timezone})")
        if not self.active:
            parts.append("inactive")
        return " ".join(parts)

    def selects(self, day: dt.date) -> bool:
        """Whether ``day`` (a local calendar date) is one of the schedule's days."""
        if self.frequency is Frequency.DAILY:
            return True
        if self.frequency is Frequency.WEEKLY:
            return not self.weekdays or day.weekday() in self.weekdays
        return (not self.months or day.month in self.months) and (not self.days or day.day in self.days)

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the schedule is open at the instant ``at``.

        Raises:
            ScheduleError: ``at`` is naive (no time zone), so it names no instant.
        """
        at_utc = _as_utc(at, "at")
        if not self.active:
            return False
        local_day = at_utc.astimezone(self._zone).date()
        # A window crossing midnight belongs to the day it starts on, so yesterday counts too.
        for day in (local_day - _DAY, local_day):
            if self.selects(day):
                for start, end in self._intervals(day):
                    if start <= at_utc < end:
                        return True
        return False

    def next_open(self, after: dt.datetime) -> dt.datetime | None:
        """The first instant at or after ``after`` at which the schedule is open (UTC).

        Returns ``after`` itself (in UTC) when already open, and ``None`` when the schedule is
        inactive or never opens within :data:`SEARCH_HORIZON_DAYS`.
        """
        after_utc = _as_utc(after, "after")
        if not self.active or not self._possible:
            return None
        for start, end in self._intervals_from(after_utc):
            if end > after_utc:
                return max(start, after_utc)
        return None

    def next_close(self, after: dt.datetime) -> dt.datetime | None:
        """When the open stretch containing ``after`` (or the next one) ends, in UTC.

        Consecutive all-day windows join into one stretch. Returns ``None`` when the schedule
        never closes (a whole-day window on every day), is inactive, or never opens; tell the
        last two apart with :meth:`next_open`.
        """
        after_utc = _as_utc(after, "after")
        if not self.active or not self._possible or (self.is_all_day and self._every_day):
            return None
        current_end: dt.datetime | None = None
        for start, end in self._intervals_from(after_utc):
            if current_end is None:
                if end > after_utc:
                    current_end = end
            elif start <= current_end:
                current_end = max(current_end, end)
            else:
                return current_end
        return None

    def next_run(self, after: dt.datetime) -> dt.datetime | None:
        """The first trigger strictly after ``after`` (UTC), or ``None`` if there is none.

        Triggers are the run-at time; or the window start; or, with ``interval_min``, every
        ``interval_min`` minutes of wall-clock time from the window start while before its end.
        """
        after_utc = _as_utc(after, "after")
        if not self.active or not self._possible:
            return None
        first_day = after_utc.astimezone(self._zone).date() - _DAY
        for day in self._selected_days(first_day):
            spans = self._intervals(day)
            if spans and spans[-1][1] <= after_utc:
                continue  # every trigger of a day lies before the end of its open time
            found = self._first_trigger_after(day, after_utc)
            if found is not None:
                return found
        return None

    def open_intervals(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """Each selected day's open intervals overlapping ``[start, end)``, in time order (UTC).

        Unlike :meth:`next_close`, consecutive days are not joined: a callback slot grid
        (issue 13) cuts each day's opening hours into slots from that day's own start.
        """
        start_utc, end_utc = _as_utc(start, "start"), _as_utc(end, "end")
        if not self.active or not self._possible or end_utc <= start_utc:
            return []
        last_day = end_utc.astimezone(self._zone).date()
        out: list[Interval] = []
        for day in self._selected_days(start_utc.astimezone(self._zone).date() - _DAY):
            if day > last_day:
                break
            out.extend(iv for iv in self._intervals(day) if iv[1] > start_utc and iv[0] < end_utc)
        return sorted(out)

    def triggers(self, day: dt.date) -> list[dt.datetime]:
        """Every trigger instant (UTC, ascending, distinct) of one local ``day``; [] if not selected."""
        if not self.selects(day):
            return []
        out: list[dt.datetime] = []
        for k in range(self._tick_count(day)):
            instant = self._tick(day, k)
            if not out or instant > out[-1]:
                out.append(instant)
        return out

    # ------------------------------------------------------------------ internals

    def _wall_span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The naive local wall-clock span [start, end) of one selected day."""
        if self.run_at is not None:
            start = dt.datetime.combine(day, self.run_at)
            return start, start + _MINUTE
        assert self.window_start is not None and self.window_end is not None
        start = dt.datetime.combine(day, self.window_start)
        end_day = day if self.window_end > self.window_start else day + _DAY
        return start, dt.datetime.combine(end_day, self.window_end)

    def _intervals(self, day: dt.date) -> list[Interval]:
        """UTC instant intervals in which the schedule is open because of ``day`` (memoised)."""
        found = self._memo.get(day)
        if found is None:
            if len(self._memo) >= _MEMO_DAYS:
                self._memo.clear()
            found = self._memo[day] = self._compute_intervals(day)
        return found

    def _compute_intervals(self, day: dt.date) -> list[Interval]:
        start, end = self._wall_span(day)
        if self.run_at is not None:
            # The run-at minute follows its trigger: first occurrence, or just after a gap.
            first = first_instant(start, self._zone)
            return [(first, first + _MINUTE)]
        return wall_span_instants(start, end, self._zone)

    def _selected_days(self, first: dt.date) -> Iterator[dt.date]:
        """Selected days from ``first`` on, within the horizon; skips unselected months whole."""
        last = first + dt.timedelta(days=SEARCH_HORIZON_DAYS)
        if self.frequency is not Frequency.MONTHLY:
            day = first
            while day <= last:
                if self.selects(day):
                    yield day
                day += _DAY
            return
        year, month = first.year, first.month
        while dt.date(year, month, 1) <= last:
            if not self.months or month in self.months:
                length = calendar.monthrange(year, month)[1]
                candidates: Iterable[int] = (
                    self._sorted_days if self._sorted_days else range(1, length + 1)
                )
                for d in candidates:
                    if d > length:
                        break
                    day = dt.date(year, month, d)
                    if first <= day <= last:
                        yield day
            month += 1
            if month == 13:
                year, month = year + 1, 1

    def _intervals_from(self, after_utc: dt.datetime) -> Iterator[Interval]:
        """Open intervals in time order, starting with the day before ``after``'s local date."""
        first_day = after_utc.astimezone(self._zone).date() - _DAY
        for day in self._selected_days(first_day):
            yield from self._intervals(day)

    def _tick_count(self, day: dt.date) -> int:
        if self.run_at is not None or self.interval_min is None:
            return 1
        start, end = self._wall_span(day)
        minutes = int((end - start) / _MINUTE)
        return -(-minutes // self.interval_min)  # ceil: ticks at start + k*N < end

    def _tick(self, day: dt.date, k: int) -> dt.datetime:
        start, _ = self._wall_span(day)
        wall = start if k == 0 else start + dt.timedelta(minutes=k * (self.interval_min or 0))
        return first_instant(wall, self._zone)

    def _first_trigger_after(self, day: dt.date, after_utc: dt.datetime) -> dt.datetime | None:
        count = self._tick_count(day)
        # Away from DST changes the answer is the tick right after ``after``'s wall-clock time:
        # try it first, then fall back to bisection, which is exact because resolved ticks
        # never go backwards in time (see wall_clock.first_instant).
        guess = 0
        if count > 1:
            start, _ = self._wall_span(day)
            elapsed = wall_reading(after_utc, self._zone) - start
            guess = min(max(0, elapsed // dt.timedelta(minutes=self.interval_min or 1) + 1), count - 1)
        tick = self._tick(day, guess)
        if tick > after_utc and (guess == 0 or self._tick(day, guess - 1) <= after_utc):
            return tick
        lo, hi = 0, count
        while lo < hi:
            mid = (lo + hi) // 2
            if self._tick(day, mid) > after_utc:
                hi = mid
            else:
                lo = mid + 1
        return self._tick(day, lo) if lo < count else None


# ---------------------------------------------------------------------- building from text


def schedule_from_text(
    name: str,
    *,
    frequency: str,
    weekdays: str = "",
    months: str = "",
    days: str = "",
    at: str | None = None,
    window: str | None = None,
    every: str | int | None = None,
    timezone: str = "UTC",
    active: bool = True,
    description: str = "",
) -> Schedule:
    """Build a schedule from command-line or form text, as ``dialer schedule create`` takes it.

    ``frequency`` is ``daily``/``weekly``/``monthly`` (also Polish ``codziennie``/
    ``tygodniowo``/``miesięcznie``); ``at`` is ``HH:MM``; ``window`` is ``HH:MM-HH:MM``;
    ``every`` is the interval in minutes.

    Raises:
        ScheduleError: naming the option at fault (``frequency``, ``weekdays``, ``window``,
            ``at``, ``every``, ``months``, ``days``, ``timezone``...).
    """
    freq = _FREQUENCY_WORDS.get((frequency or "").strip().casefold())
    if freq is None:
        raise ScheduleError("frequency", "must be one of daily, weekly, monthly", frequency)
    run_at = parse_time(at, "at") if at is not None else None
    start, end = parse_window(window) if window is not None else (None, None)
    interval: int | None = None
    if every is not None and str(every).strip():
        try:
            interval = int(str(every).strip())
        except ValueError:
            raise ScheduleError("every", "must be a whole number of minutes", every) from None
    try:
        return Schedule(
            name=name,
            frequency=freq,
            weekdays=parse_weekdays(weekdays),
            months=parse_int_set(months, "months", 1, 12),
            days=parse_int_set(days, "days", 1, 31),
            run_at=run_at,
            window_start=start,
            window_end=end,
            interval_min=interval,
            timezone=timezone,
            active=active,
            description=description,
        )
    except ScheduleError as e:
        # Speak the option names the user typed, not the dataclass fields.
        if e.field in _OPTION_NAMES:
            raise ScheduleError(_OPTION_NAMES[e.field], e.reason, e.value) from None
        raise


_FREQUENCY_WORDS = {
    "daily": Frequency.DAILY, "codziennie": Frequency.DAILY, "codzienny": Frequency.DAILY,
    "weekly": Frequency.WEEKLY, "tygodniowo": Frequency.WEEKLY, "tygodniowy": Frequency.WEEKLY,
    "monthly": Frequency.MONTHLY, "miesięcznie": Frequency.MONTHLY, "miesięczny": Frequency.MONTHLY,
    "miesiecznie": Frequency.MONTHLY,
}
_OPTION_NAMES = {"run_at": "at", "interval_min": "every", "window_start": "window", "window_end": "window"}


# ---------------------------------------------------------------------- validation helpers


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _as_utc(value: dt.datetime, field_name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ScheduleError(field_name, "must be a datetime", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(field_name, "must be timezone-aware (a naive datetime names no instant)", value)
    return value.astimezone(UTC)


def _int_set(value: object, field_name: str, lo: int, hi: int) -> frozenset[int]:
    if isinstance(value, str):
        reason = "must be a set of numbers (use the parse_* functions for text)"
        raise ScheduleError(field_name, reason, value)
    try:
        items = frozenset(value)  # type: ignore[call-overload]  # any iterable of ints is welcome
    except TypeError:
        raise ScheduleError(field_name, "must be a set of numbers", value) from None
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not lo <= item <= hi:
            reason = f"values must be whole numbers {lo}..{hi}"
            raise ScheduleError(field_name, reason, sorted(items, key=str))
    return items

