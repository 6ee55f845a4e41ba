"""Local wall-clock time and UTC instants in one IANA zone, across daylight-saving changes.

Theory of operation: a wall-clock reading maps to zero instants (in the gap when clocks go
forward), one, or two (in the repeated hour when they go back). :mod:`zoneinfo` resolves a
reading with ``fold`` but never reports a gap, so the functions here find the UTC-offset
change itself by bisection (:func:`_transition`) and define the two mappings a schedule needs:

* :func:`first_instant`: one reading -> one instant, its first occurrence, or the first valid
  instant after a gap (a trigger or run-at minute);
* :func:`wall_span_instants`: a span of readings ``[start, end)`` -> the instants whose reading
  lies inside it, as at most two UTC intervals (a window).

Pure: no clock, no I/O. Instants in and out are timezone-aware UTC ``datetime`` objects (see
:mod:`dialer.schedules.schedule` for why UTC is the only safe currency).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["MIDNIGHT", "UTC", "Interval", "first_instant", "wall_reading", "wall_span_instants"]

UTC = dt.UTC
#: 00:00: a window 00:00-00:00 is the whole day (a start equal to its end means nothing else).
MIDNIGHT = dt.time(0, 0)

#: An interval of UTC instants ``[start, end)``.
Interval = tuple[dt.datetime, dt.datetime]


def wall_reading(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The naive local wall-clock reading of ``instant`` in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _offset(instant: dt.datetime, zone: ZoneInfo) -> dt.timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _transition(before: dt.datetime, after: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first instant in (before, after] with ``after``'s UTC offset (one change assumed).

    Bisects on whole seconds: tz transitions fall on whole seconds, and the gap searched is
    at most a day, so this is about seventeen ``astimezone`` calls, only on DST days.
    """
    target = _offset(after, zone)
    lo, hi = 0, int((after - before).total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(before + dt.timedelta(seconds=mid), zone) == target:
            hi = mid
        else:
            lo = mid
    return before + dt.timedelta(seconds=hi)


def first_instant(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The instant of a wall-clock time: its first occurrence, or the first valid instant after a gap."""
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if wall_reading(early, zone) == wall:
        return early
    # In a gap, fold=0 applies the offset before the transition and lands after it;
    # fold=1 applies the offset after it and lands before it. The transition is between.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(early, other), max(early, other)
    return _transition(lo, hi, zone)


def wall_span_instants(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> list[Interval]:
    """The instants whose wall-clock time lies in [start, end), as at most two UTC intervals.

    Each side of a UTC-offset change maps wall time to instants by subtracting its own
    offset; the preimage is the union of the two pieces, each clipped to its side.
    """
    candidates = [w.replace(tzinfo=zone, fold=f).astimezone(UTC) for w in (start, end) for f in (0, 1)]
    lo, hi = min(candidates), max(candidates)
    off_lo, off_hi = _offset(lo, zone), _offset(hi, zone)
    naive_lo, naive_hi = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    if off_lo == off_hi:
        return [(naive_lo - off_lo, naive_hi - off_lo)]
    change = _transition(lo, hi, zone)
    pieces = [
        (naive_lo - off_lo, min(naive_hi - off_lo, change)),
        (max(naive_lo - off_hi, change), naive_hi - off_hi),
    ]
    pieces = [(s, e) for s, e in pieces if s < e]
    if len(pieces) == 2 and pieces[0][1] >= pieces[1][0]:
        pieces = [(pieces[0][0], max(pieces[0][1], pieces[1][1]))]
    return pieces

