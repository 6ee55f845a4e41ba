"""Schedule pieces as people type them: times, windows, weekdays, sets of months and days.

The parsers read what ``dialer schedule create`` and a form take (``07:30``, ``09:00-20:00``,
``mon-fri`` or Polish ``pn,wt,śr``, ``1,15,28-31``) and the formatters write the same forms
back, so that :meth:`~dialer.schedules.schedule.Schedule.describe` output parses again. They
know nothing of :class:`~dialer.schedules.schedule.Schedule`;
:func:`~dialer.schedules.schedule.schedule_from_text` puts the pieces together.

Raises :class:`~dialer.errors.ScheduleError` naming the option at fault.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from dialer.errors import ScheduleError
from dialer.schedules.wall_clock import MIDNIGHT

__all__ = [
    "format_int_set",
    "format_weekdays",
    "parse_int_set",
    "parse_time",
    "parse_weekdays",
    "parse_window",
]

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_WINDOW_RE = re.compile(r"^\s*([^-–—]+?)\s*[-–—]\s*([^-–—]+?)\s*$")

# English, Polish (seed 000 is a Polish UI: pn wt śr cz pt so nd) and ISO numbers 1=Mon..7=Sun.
_WEEKDAY_NAMES: dict[str, int] = {}
for _index, _names in enumerate((
    ("mon", "monday", "pn", "pon", "poniedziałek", "poniedzialek", "1"),
    ("tue", "tuesday", "wt", "wto", "wtorek", "2"),
    ("wed", "wednesday", "sr", "śr", "sro", "śro", "środa", "sroda", "3"),
    ("thu", "thursday", "cz", "czw", "czwartek", "4"),
    ("fri", "friday", "pt", "pią", "pia", "piątek", "piatek", "5"),
    ("sat", "saturday", "so", "sob", "sobota", "6"),
    ("sun", "sunday", "nd", "ndz", "niedz", "niedziela", "7"),
)):
    for _name in _names:
        _WEEKDAY_NAMES[_name] = _index


_WEEKDAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_time(text: str, field: str) -> dt.time:
    """Parse ``HH:MM`` (24-hour clock) into a :class:`datetime.time`.

    Raises:
        ScheduleError: naming ``field`` when the text is not a valid time of day.
    """
    match = _TIME_RE.match(text or "")
    if not match:
        raise ScheduleError(field, "expected a time HH:MM", text)
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ScheduleError(field, "no such time of day (00:00..23:59)", text)
    return dt.time(hour, minute)


def parse_window(text: str) -> tuple[dt.time, dt.time]:
    """Parse ``09:00-20:00`` (also with an en dash); ``00:00-00:00`` is the whole day.

    Raises:
        ScheduleError: naming ``window``.
    """
    match = _WINDOW_RE.match(text or "")
    if not match:
        raise ScheduleError("window", "expected FROM-TO as HH:MM-HH:MM", text)
    try:
        start, end = parse_time(match[1], "window"), parse_time(match[2], "window")
    except ScheduleError:
        raise ScheduleError("window", "expected FROM-TO as HH:MM-HH:MM", text) from None
    if start == end != MIDNIGHT:
        raise ScheduleError("window", "start equals end; use 00:00-00:00 for the whole day", text)
    return start, end


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse ``mon,tue,wed`` / ``pn,wt,śr`` / ``1-5`` (1=Monday) into 0=Mon..6=Sun; ``""`` -> empty.

    Ranges (``mon-fri``) are accepted and may wrap (``fri-mon``).

    Raises:
        ScheduleError: naming ``weekdays`` and the word not understood.
    """
    out: set[int] = set()
    for token in _tokens(text):
        if "-" in token:
            first, _, last = token.partition("-")
            a, b = _weekday(first.strip(), token), _weekday(last.strip(), token)
            out.update((a + i) % 7 for i in range((b - a) % 7 + 1))
        else:
            out.add(_weekday(token, token))
    return frozenset(out)


def _weekday(word: str, token: str) -> int:
    try:
        return _WEEKDAY_NAMES[word.lower()]
    except KeyError:
        raise ScheduleError(
            "weekdays", "unknown weekday (use mon..sun, pn..nd or 1..7)", token
        ) from None



def format_weekdays(weekdays: Iterable[int]) -> str:
    """The inverse of :func:`parse_weekdays`: ``{0, 1, 4}`` -> ``"mon,tue,fri"``."""
    return ",".join(_WEEKDAY_ABBREVIATIONS[d] for d in sorted(weekdays))


def format_int_set(values: Iterable[int]) -> str:
    """``{1, 2, 3, 15}`` -> ``"1-3,15"``, the form :func:`parse_int_set` reads."""
    runs: list[list[int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in runs)


def parse_int_set(text: str, field: str, lo: int, hi: int) -> frozenset[int]:
    """Parse ``1,15,28-31`` into a set of integers within ``lo..hi``; ``""`` -> empty.

    Raises:
        ScheduleError: naming ``field`` for a non-number, a reversed range or a value out of range.
    """
    out: set[int] = set()
    for token in _tokens(text):
        first, sep, last = token.partition("-")
        try:
            a = int(first)
            b = int(last) if sep else a
        except ValueError:
            reason = f"expected numbers {lo}..{hi} or ranges like {lo}-{hi}"
            raise ScheduleError(field, reason, token) from None
        if a > b:
            raise ScheduleError(field, "range runs backwards", token)
        if a < lo or b > hi:
            raise ScheduleError(field, f"out of range {lo}..{hi}", token)
        out.update(range(a, b + 1))
    return frozenset(out)


def _tokens(text: str) -> list[str]:
    return [t.strip() for t in (text or "").replace(";", ",").split(",") if t.strip()]

