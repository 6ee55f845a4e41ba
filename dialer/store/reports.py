"""The operator's report: outcomes per day, abandon rate per window, talk share per agent.

``dialer report`` and ``GET /api/v1/report`` print the same :class:`Report`. What the numbers
mean is the metrics' (docs/monitoring.md): an attempt counts on the day (or window) it
started, in the report's time zone (the campaign's, else UTC, unless one is given); the
abandon rate is abandoned calls over live answers (answered + abandoned; machines are not
live), per hour, day or week; an agent's talk is the time from answer to hang-up of the calls
it took, and its share is that over all agents' talk in the period. Computed in SQL over
``attempts_campaign_started``, so a month of a busy campaign is one index range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dialer.errors import NotFound, ValidationError
from dialer.store.campaigns import check_zone
from dialer.store.connection import PoolNoun

__all__ = ["WINDOWS", "AbandonWindow", "AgentTalk", "OutcomeDay", "Report", "Reports"]

WINDOWS = ("hour", "day", "week")
DEFAULT_SPAN = dt.timedelta(days=7)
MAX_SPAN = dt.timedelta(days=400)


@dataclass(frozen=True, slots=True)
class OutcomeDay:
    day: dt.date
    outcome: str  # "open" for calls not ended yet
    attempts: int


@dataclass(frozen=True, slots=True)
class AbandonWindow:
    start: dt.datetime
    live: int
    abandoned: int
    rate: float | None  # abandoned / live; None without a live answer


@dataclass(frozen=True, slots=True)
class AgentTalk:
    agent: str
    calls: int
    talk_s: float
    share: float  # of all agents' talk in the period, 0..1


@dataclass(frozen=True, slots=True)
class Report:
    campaign: str | None  # None: every campaign
    timezone: str
    since: dt.datetime
    until: dt.datetime
    window: str
    outcomes: list[OutcomeDay]
    abandons: list[AbandonWindow]
    talk: list[AgentTalk]


_SCOPE = """FROM attempts a JOIN campaigns cp ON cp.id = a.campaign_id
WHERE ($1::text IS NULL OR cp.name = $1) AND a.started_at >= $2 AND a.started_at < $3"""

_OUTCOMES = f"""SELECT (a.started_at AT TIME ZONE $4)::date AS day, coalesce(a.outcome, 'open') AS outcome,
       count(*) AS n {_SCOPE} GROUP BY 1, 2 ORDER BY 1, 2"""

_ABANDONS = f"""SELECT date_trunc($5, a.started_at AT TIME ZONE $4) AT TIME ZONE $4 AS start,
       count(*) FILTER (WHERE a.outcome IN ('answered', 'abandoned')) AS live,
       count(*) FILTER (WHERE a.outcome = 'abandoned') AS abandoned
{_SCOPE} GROUP BY 1 HAVING count(*) FILTER (WHERE a.outcome IN ('answered', 'abandoned')) > 0 ORDER BY 1"""

_TALK = """SELECT ag.name AS agent, count(*) AS calls,
       coalesce(sum(extract(epoch FROM a.ended_at - a.answered_at)), 0)::float8 AS talk_s
FROM attempts a JOIN campaigns cp ON cp.id = a.campaign_id JOIN agents ag ON ag.id = a.agent_id
WHERE ($1::text IS NULL OR cp.name = $1) AND a.started_at >= $2 AND a.started_at < $3
  AND a.outcome = 'answered' AND a.answered_at IS NOT NULL AND a.ended_at IS NOT NULL
GROUP BY ag.name ORDER BY talk_s DESC, ag.name"""


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Reports(PoolNoun):
    """The report on the shared pool."""

    async def report(
        self,
        campaign: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        window: str = "day",
        timezone: str | None = None,
        now: dt.datetime | None = None,
    ) -> Report:
        """The report over [since, until) (default: the 7 days up to now); naive times are UTC.

        Raises:
            NotFound: no such campaign.
            ValidationError: an unknown window or time zone, until before since, over 400 days.
        """
        if window not in WINDOWS:
            raise ValidationError("window", f"must be one of: {', '.join(WINDOWS)}", window)
        end = _aware(until) if until is not None else (now or dt.datetime.now(dt.UTC))
        start = _aware(since) if since is not None else end - DEFAULT_SPAN
        if end <= start:
            raise ValidationError("until", "must be after since", end.isoformat())
        if end - start > MAX_SPAN:
            raise ValidationError("since", f"a report covers at most {MAX_SPAN.days} days", start.isoformat())
        async with self.pool.acquire() as conn:
            zone = timezone
            if campaign is not None:
                own = await conn.fetchval("SELECT timezone FROM campaigns WHERE name = $1", campaign)
                if own is None:
                    raise NotFound("campaign", campaign)
                zone = zone or own
            zone = zone or "UTC"
            check_zone(zone, "timezone")
            outcomes = await conn.fetch(_OUTCOMES, campaign, start, end, zone)
            abandons = await conn.fetch(_ABANDONS, campaign, start, end, zone, window)
            talk = await conn.fetch(_TALK, campaign, start, end)
        total = sum(r["talk_s"] for r in talk)
        return Report(
            campaign=campaign,
            timezone=zone,
            since=start,
            until=end,
            window=window,
            outcomes=[OutcomeDay(r["day"], r["outcome"], r["n"]) for r in outcomes],
            abandons=[
                AbandonWindow(
                    r["start"], r["live"], r["abandoned"], r["abandoned"] / r["live"] if r["live"] else None
                )
                for r in abandons
            ],
            talk=[
                AgentTalk(r["agent"], r["calls"], r["talk_s"], r["talk_s"] / total if total else 0.0)
                for r in talk
            ],
        )
