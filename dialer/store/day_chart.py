"""A campaign's day in quarter hours: the abandon rate over the trailing hour and the talk share.

The wallboard's day chart (issue 10) reads it (``GET /api/v1/campaigns/{c}/day``), so a
supervisor who opens the screen in the afternoon sees the morning, across restarts and
engines. Per quarter hour of the day in the campaign's time zone (or a given one):

* live answers and abandons of the calls that *ended* in it, as the live abandon windows
  and the gauges count them (``attempts_campaign_ended``, migration 005), and the abandon
  rate over the hour ending with the quarter (the wallboard's "1 h" window, as it stood);
* the agent-seconds logged in and talking, from ``campaign_occupancy`` (migration 031,
  written by the runners, :mod:`dialer.campaign.occupancy`), and the talk share, talking
  over logged in.

Quarter hours are counted from the Unix epoch: every time zone in use today is a whole
number of quarter hours from UTC, so they are the local quarter hours as well; a day that
has 23 or 25 hours (DST) has 92 or 100 of them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dialer.errors import ValidationError
from dialer.store.campaigns import campaign_id_of, check_zone
from dialer.store.connection import PoolNoun

__all__ = ["MAX_AGE_DAYS", "QUARTER_S", "DayChart", "DayCharts", "DayPoint", "day_points"]

QUARTER_S = 900
_HOUR_QUARTERS = 4
MAX_AGE_DAYS = 400  # as far back as the operator's report reaches

_ANSWERS = """SELECT floor(extract(epoch FROM ended_at) / 900)::bigint AS q,
       count(*) AS live, count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned
FROM attempts WHERE campaign_id = $1 AND ended_at >= $2 AND ended_at < $3
  AND outcome IN ('answered', 'abandoned')
GROUP BY 1"""

_OCCUPANCY = """SELECT floor(extract(epoch FROM minute) / 900)::bigint AS q,
       sum(logged_in_s)::float8 AS logged_in_s, sum(talking_s)::float8 AS talking_s
FROM campaign_occupancy WHERE campaign_id = $1 AND minute >= $2 AND minute < $3
GROUP BY 1"""

_RECORD = """INSERT INTO campaign_occupancy (campaign_id, minute, logged_in_s, talking_s)
SELECT $1, m, l, t FROM unnest($2::timestamptz[], $3::float8[], $4::float8[]) AS u(m, l, t)
ON CONFLICT (campaign_id, minute) DO UPDATE
SET logged_in_s = campaign_occupancy.logged_in_s + excluded.logged_in_s,
    talking_s = campaign_occupancy.talking_s + excluded.talking_s"""


@dataclass(frozen=True, slots=True)
class DayPoint:
    """One quarter hour (``start`` aware UTC)."""

    start: dt.datetime
    live: int
    abandoned: int
    abandon_rate_1h: float | None  # over the hour ending with this quarter; None: no live answer
    logged_in_s: float
    talking_s: float
    talk_share: float | None  # talking over logged in; None: nobody logged in


@dataclass(frozen=True, slots=True)
class DayChart:
    campaign: str
    timezone: str
    day: dt.date
    points: list[DayPoint]  # every quarter hour from the day's start to now (or its end)


def day_points(
    first: int,
    last: int,
    answers: Mapping[int, tuple[int, int]],
    occupancy: Mapping[int, tuple[float, float]],
) -> list[DayPoint]:
    """The points of quarters ``first`` .. ``last`` (inclusive; quarter numbers since the epoch).

    ``answers`` maps a quarter to (live, abandoned) and may hold the three quarters before
    ``first`` (the first points' trailing hour); ``occupancy`` maps one to (logged in,
    talking) agent-seconds.
    """
    points = []
    for q in range(first, last + 1):
        live, abandoned = answers.get(q, (0, 0))
        hour = [answers.get(q - k, (0, 0)) for k in range(_HOUR_QUARTERS)]
        hour_live = sum(h[0] for h in hour)
        logged_in, talking = occupancy.get(q, (0.0, 0.0))
        points.append(
            DayPoint(
                start=dt.datetime.fromtimestamp(q * QUARTER_S, dt.UTC),
                live=live,
                abandoned=abandoned,
                abandon_rate_1h=sum(h[1] for h in hour) / hour_live if hour_live else None,
                logged_in_s=logged_in,
                talking_s=talking,
                talk_share=min(talking / logged_in, 1.0) if logged_in > 0 else None,
            )
        )
    return points


def day_bounds(day: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The day's start and end (the next day's start), aware, in ``zone``."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(0), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
    return start, end


class DayCharts(PoolNoun):
    """The agent time the runners write, and the day chart read back."""

    async def record_occupancy(
        self, campaign_id: int, minutes: Sequence[tuple[dt.datetime, float, float]]
    ) -> None:
        """Add (minute, logged-in seconds, talking seconds) rows to the campaign's agent time."""
        if not minutes:
            return
        starts, logged, talking = zip(*minutes, strict=True)
        async with self.pool.acquire() as conn:
            await conn.execute(_RECORD, campaign_id, list(starts), list(logged), list(talking))

    async def day_chart(
        self,
        campaign: str,
        *,
        day: dt.date | None = None,
        timezone: str | None = None,
        now: dt.datetime | None = None,
    ) -> DayChart:
        """The campaign's ``day`` (default today) in ``timezone`` (default the campaign's).

        Raises:
            NotFound: no such campaign.
            ValidationError: an unknown time zone, a day after today or over 400 days ago.
        """
        now = now or dt.datetime.now(dt.UTC)
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            zone = timezone or await conn.fetchval("SELECT timezone FROM campaigns WHERE id = $1", cid)
            today = now.astimezone(check_zone(zone, "timezone")).date()
            day = day or today
            if day > today:
                raise ValidationError("day", f"is after today ({today} in {zone})", day.isoformat())
            if (today - day).days > MAX_AGE_DAYS:
                raise ValidationError("day", f"is more than {MAX_AGE_DAYS} days ago", day.isoformat())
            start, end = day_bounds(day, zone)
            until = min(end, now)
            first = math.floor(start.timestamp() / QUARTER_S)
            last = math.ceil(until.timestamp() / QUARTER_S) - 1
            since = dt.datetime.fromtimestamp((first - _HOUR_QUARTERS + 1) * QUARTER_S, dt.UTC)
            answers = await conn.fetch(_ANSWERS, cid, since, until)
            occupancy = await conn.fetch(_OCCUPANCY, cid, start, until)
        return DayChart(
            campaign=campaign,
            timezone=zone,
            day=day,
            points=day_points(
                first,
                last,
                {r["q"]: (r["live"], r["abandoned"]) for r in answers},
                {r["q"]: (r["logged_in_s"], r["talking_s"]) for r in occupancy},
            ),
        )
