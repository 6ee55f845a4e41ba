"""Numbers an import accepts but the campaign can never dial: warned about, not refused.

A number is only called when the campaign's calling hours hold in *every* zone it may be in
(the contact's own zone when it has one, else the number's candidate zones; see
:mod:`dialer.store.eligibility`). A US toll-free number has some 42 candidate zones, from
Guam to Hawaii, and no hour of 08:00-21:00 holds in all of them: imported as is, it sits in
the campaign forever (issue 16). Premium-rate and toll-free numbers are worth a word too:
they are rarely a person's own line. :class:`DialabilityTally` counts such rows per reason,
with the first line of each, for the import's summary.

Pure: zones and hours in, reasons out. The check samples the next 24 hours every 15 minutes
from a given instant (so DST offsets are today's), memoised per (zones, hours).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["FEW_HOURS", "NO_COMMON_HOUR", "PREMIUM", "TOLL_FREE", "DialabilityTally", "common_hours"]

NO_COMMON_HOUR = "no calling hour holds in all of the number's candidate time zones"
FEW_HOURS = "the number's candidate time zones leave under 3 calling hours a day"
_FEW_S = 3 * 3600
PREMIUM = "premium-rate number"
TOLL_FREE = "toll-free number"
_KIND_REASONS = {"premium": PREMIUM, "toll_free": TOLL_FREE}
_STEP = dt.timedelta(minutes=15)


def _in_window(t: dt.time, start: dt.time, end: dt.time) -> bool:
    """The SQL ``dialer_in_window``: [start, end), equal ends all day, start > end wraps midnight."""
    if start == end:
        return True
    if start < end:
        return start <= t < end
    return t >= start or t < end


@lru_cache(maxsize=256)
def common_hours(zones: tuple[str, ...], start: dt.time, end: dt.time, hour_utc: dt.datetime) -> float:
    """Seconds of the 24 hours from ``hour_utc`` inside [start, end) in all ``zones`` (15-minute steps)."""
    infos = [ZoneInfo(z) for z in zones]
    inside = sum(
        all(_in_window((hour_utc + step * _STEP).astimezone(z).time(), start, end) for z in infos)
        for step in range(24 * 4)
    )
    return inside * _STEP.total_seconds()


@dataclass
class DialabilityTally:
    """Rows whose first number cannot be dialled as things stand, per reason: (count, first line)."""

    hours_start: dt.time
    hours_end: dt.time
    at: dt.datetime  # the instant whose offsets are used (an import's start)
    found: dict[str, list[int]] = field(default_factory=dict)

    def check(self, line: int, kind: str, number_zones: Sequence[str], contact_zone: str | None) -> None:
        """Count the row at ``line`` whose first number has ``kind`` and candidate zones."""
        reason = _KIND_REASONS.get(kind)
        zones = (contact_zone,) if contact_zone else tuple(number_zones)
        if len(zones) > 1 and self.hours_start != self.hours_end:
            hour = self.at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
            seconds = common_hours(zones, self.hours_start, self.hours_end, hour)
            hours = NO_COMMON_HOUR if seconds == 0 else FEW_HOURS if seconds < _FEW_S else None
            if hours is not None:
                reason = hours if reason is None else f"{reason}; {hours}"
        if reason is not None:
            entry = self.found.setdefault(reason, [0, line])
            entry[0] += 1

    def summary(self) -> list[tuple[str, int, int]]:
        """(reason, rows, first line) per reason, most rows first."""
        return sorted(((r, n, first) for r, (n, first) in self.found.items()), key=lambda t: (-t[1], t[2]))
