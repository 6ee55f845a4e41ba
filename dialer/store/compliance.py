"""The compliance audit, read from the attempts table, and the retention of those records.

Theory of operation. :meth:`Audit.compliance_report` answers, for one campaign and a
period, "which calls broke a rule?" with one query per rule (the rules and their names are in
:mod:`dialer.audit`, which also prints the result). It reads what each attempt row recorded at
the time (migration 006: the number's candidate zones at dial time, whether an agent was
reserved, the ring time, whether an abandoned call heard the information message), plus the
do-not-call lists (with the time each entry was added: a number listed *after* a call does not
make that call a violation) and the campaign's configuration (its local hours, its profile).
It never asks the engine: a report of a campaign whose engines are gone, or ran on another
machine, is the same report. Rows written before migration 006 lack those columns; the
report then falls back to the contact's current zones and to ``ended_at - started_at`` for
the ring time, and an unknown information message is not counted.

The abandon rate is evaluated at every live answer over the window before it (US 30 days,
UK 24 hours; the caller passes the profile's window and cap, the store does not import the
pacing package), in SQL (a ``RANGE`` window over the answer times), so a month of a
million calls never comes to Python.

Retention (Ofcom: keep call records at least six months; the FTC TSR asks two years for
some records). Nothing is deleted automatically: attempts and status changes stay until an
operator runs :meth:`Audit.prune_records` (``dialer db prune --older-than DAYS``), which
refuses a cut-off younger than :data:`MIN_RETENTION_DAYS` and deletes, in one transaction,
closed attempts started before the cut-off and status changes made before it. Contacts,
campaigns and the do-not-call lists are never pruned by it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from dialer.audit import MAX_IDS, AuditRow, ComplianceReport
from dialer.campaign.rules import audit_limits
from dialer.errors import NotFound, ValidationError
from dialer.store.attempt_log import _aware
from dialer.store.connection import PoolNoun
from dialer.store.eligibility import ZONES

#: Shortest retention ``prune_records`` accepts: six months and a few days (Ofcom's minimum).
MIN_RETENTION_DAYS = 183
#: Longest: a thousand years, far past any record and inside what a date can hold.
MAX_RETENTION_DAYS = 365_250

#: FCC 47 CFR 64.1200(a)(6): an unanswered call rings at least 15 seconds.
MIN_RING_S = 15.0

# US TSR 16 CFR 310.4(c): whatever the campaign says, 08:00-21:00 at the called person's place.
_US_HOURS = (dt.time(8), dt.time(21))

# Calls placed by campaign $1 in [$2, $3): a cancelled attempt was never placed.
_PLACED = """a.campaign_id = $1 AND a.started_at >= $2 AND a.started_at < $3
    AND a.outcome IS DISTINCT FROM 'cancelled'"""

# Each statement returns (n, ids): how many attempts break the rule and the first $4 of them.
_COUNT = "SELECT count(*) AS n, (array_agg(v.id ORDER BY v.id))[1:$4] AS ids FROM ({}) v"

_OUTSIDE_HOURS_SQL = _COUNT.format(
    f"""
SELECT a.id FROM attempts a
JOIN campaigns cam ON cam.id = a.campaign_id
JOIN contacts c ON c.id = a.contact_id
LEFT JOIN contact_phones p ON p.id = a.phone_id
CROSS JOIN LATERAL (SELECT coalesce(a.zones, {ZONES.format(zone="cam.timezone")}) AS zones) z
WHERE {_PLACED}
  AND (NOT dialer_in_hours(a.started_at, z.zones, cam.local_hours_start, cam.local_hours_end)
       OR (cam.compliance = 'us' AND NOT dialer_in_hours(a.started_at, z.zones, $5::time, $6::time)))
"""
)

_DO_NOT_CALL_SQL = _COUNT.format(
    f"""
SELECT a.id FROM attempts a
WHERE {_PLACED}
  AND EXISTS (SELECT 1 FROM do_not_call d
              WHERE d.e164 = a.e164 AND (d.campaign_id IS NULL OR d.campaign_id = a.campaign_id)
                AND d.added_at <= a.started_at)
"""
)

_SHORT_RING_SQL = _COUNT.format(
    f"""
SELECT a.id FROM attempts a
WHERE {_PLACED} AND a.outcome = 'no_answer'
  AND coalesce(a.ring_s, extract(epoch FROM a.ended_at - a.started_at)) < $5
"""
)

# A call to a number within 72 h of the end of an abandoned call to it (24 h of a machine),
# with no agent reserved for it (Ofcom's persistent-misuse policy; DESIGN.md). Driven from the
# few abandoned and machine calls through attempts_number.
_UK_LOCK_SQL = _COUNT.format(
    f"""
SELECT DISTINCT a.id FROM attempts b
JOIN attempts a ON a.campaign_id = b.campaign_id AND a.e164 = b.e164
     AND a.started_at > b.ended_at
     AND a.started_at < b.ended_at + CASE b.outcome WHEN 'abandoned' THEN interval '72 hours'
                                                    ELSE interval '24 hours' END
WHERE b.campaign_id = $1 AND b.outcome IN ('abandoned', 'machine')
  AND b.ended_at >= $2::timestamptz - interval '72 hours' AND b.ended_at < $3
  AND {_PLACED} AND a.agent_reserved IS NOT TRUE
"""
)

_NO_MESSAGE_SQL = _COUNT.format(
    f"""
SELECT a.id FROM attempts a
WHERE {_PLACED} AND a.outcome = 'abandoned' AND a.info_message = false
"""
)

_TOTALS_SQL = f"""
SELECT count(*) AS placed,
       count(*) FILTER (WHERE a.outcome IN ('answered', 'abandoned')) AS live,
       count(*) FILTER (WHERE a.outcome = 'abandoned') AS abandoned
FROM attempts a WHERE {_PLACED}
"""

# $1 campaign, $2 since, $3 until, $4 ids, $5 window, $6 cap. The rate at each live answer of
# the period over the window before it (answers before the period count in their windows).
_ABANDON_SQL = """
WITH live AS (
    SELECT a.id, coalesce(a.answered_at, a.ended_at) AS t, a.outcome = 'abandoned' AS ab
    FROM attempts a
    WHERE a.campaign_id = $1 AND a.outcome IN ('answered', 'abandoned')
      AND a.started_at >= $2::timestamptz - $5::interval - interval '1 day' AND a.started_at < $3
),
w AS (
    SELECT id, t, ab, count(*) OVER win AS n, count(*) FILTER (WHERE ab) OVER win AS k
    FROM live
    WINDOW win AS (ORDER BY t RANGE BETWEEN $5::interval PRECEDING AND CURRENT ROW)
),
judged AS (
    SELECT id, t, n, k, ab AND k > $6::float8 * n AS over FROM w WHERE t >= $2 AND t < $3
)
SELECT count(*) FILTER (WHERE over) AS n,
       (array_agg(id ORDER BY t, id) FILTER (WHERE over))[1:$4] AS ids,
       (array_agg(k ORDER BY k::float8 / n DESC, t))[1] AS worst_k,
       (array_agg(n ORDER BY k::float8 / n DESC, t))[1] AS worst_n,
       (array_agg(t ORDER BY k::float8 / n DESC, t))[1] AS worst_at
FROM judged
"""


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What :meth:`Audit.prune_records` deleted."""

    cutoff: dt.datetime
    attempts: int
    status_changes: int
    occupancy_minutes: int


class Audit(PoolNoun):
    """The audit report and the retention of call records on the shared pool."""

    async def compliance_report(
        self,
        campaign: str,
        *,
        since: dt.datetime,
        until: dt.datetime,
        abandon_window_s: float,
        abandon_cap: float,
        max_ids: int = MAX_IDS,
    ) -> ComplianceReport:
        """The audit of ``campaign``'s calls started in ``[since, until)`` (see the module docstring).

        ``abandon_window_s`` and ``abandon_cap`` are the campaign profile's
        (``pacing.profile_named``); the UK repeat-call locks are checked under the UK profile.

        Raises:
            ValidationError: a naive bound, or ``until`` not after ``since``.
            NotFound: no such campaign.
        """
        for name, value in (("from", since), ("to", until)):
            if value.tzinfo is None:
                raise ValidationError(name, "must have a time zone", value)
        if until <= since:
            raise ValidationError("to", f"must be after from ({since.isoformat()})", until.isoformat())
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT id, compliance FROM campaigns WHERE name = $1", campaign)
            if row is None:
                raise NotFound("campaign", campaign)
            cid, profile = row["id"], row["compliance"]
            span = (cid, since, until, max_ids)
            totals = await conn.fetchrow(_TOTALS_SQL, cid, since, until)
            rows = [
                await _abandon_row(conn, span, dt.timedelta(seconds=abandon_window_s), abandon_cap),
                _row("outside_local_hours", await conn.fetchrow(_OUTSIDE_HOURS_SQL, *span, *_US_HOURS)),
                _row("do_not_call", await conn.fetchrow(_DO_NOT_CALL_SQL, *span), "listed before the call"),
                _row("ring_under_15s", await conn.fetchrow(_SHORT_RING_SQL, *span, MIN_RING_S), "no answer"),
            ]
            if profile == "uk":
                rows.append(_row("uk_repeat_lock", await conn.fetchrow(_UK_LOCK_SQL, *span), "72 h / 24 h"))
            else:
                rows.append(AuditRow("uk_repeat_lock", 0, (), f"not applicable ({profile} profile)"))
            rows.append(_row("abandon_without_message", await conn.fetchrow(_NO_MESSAGE_SQL, *span)))
        return ComplianceReport(
            campaign=campaign,
            profile=profile,
            since=since,
            until=until,
            attempts=totals["placed"],
            live_answers=totals["live"],
            abandoned=totals["abandoned"],
            rows=tuple(rows),
        )

    async def audit_campaign(
        self, campaign: str, *, since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime
    ) -> ComplianceReport:
        """The report both front ends show: the campaign profile's abandon window and cap
        (:func:`dialer.campaign.rules.audit_limits`), every call from ``since`` (default: the
        first) to ``until`` (default: ``now``); a bound without an offset is UTC.

        Raises:
            ValidationError: ``until`` not after ``since``.
            NotFound: no such campaign.
        """
        profile = await self.pool.fetchval("SELECT compliance FROM campaigns WHERE name = $1", campaign)
        if profile is None:
            raise NotFound("campaign", campaign)
        window_s, cap = audit_limits(profile)
        return await self.compliance_report(
            campaign,
            since=_aware(since, "from") or dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
            until=_aware(until, "to") or now,
            abandon_window_s=window_s,
            abandon_cap=cap,
        )

    async def prune_records(self, older_than_days: float, *, at: dt.datetime) -> PruneResult:
        """Delete closed attempts and status changes older than ``older_than_days`` before ``at``.

        The wallboard's minutes of agent time (``campaign_occupancy``) before the cut-off go
        with them: counts without a person in them, but a row per campaign and minute, which
        nothing else ever deletes.

        Raises:
            ValidationError: fewer than :data:`MIN_RETENTION_DAYS` days (records must be kept
                at least six months), more than :data:`MAX_RETENTION_DAYS` (or not a number),
                or a naive ``at``.
        """
        if not older_than_days <= MAX_RETENTION_DAYS:  # NaN too: no cut-off a calendar holds
            raise ValidationError("older-than", f"must be at most {MAX_RETENTION_DAYS} days", older_than_days)
        if older_than_days < MIN_RETENTION_DAYS:
            raise ValidationError(
                "older-than",
                f"must be at least {MIN_RETENTION_DAYS} days:"
                " call records are kept at least six months (Ofcom)",
                older_than_days,
            )
        if at.tzinfo is None:
            raise ValidationError("at", "must have a time zone", at)
        cutoff = at - dt.timedelta(days=older_than_days)
        async with self.pool.acquire() as conn, conn.transaction():
            attempts = await conn.execute(
                "DELETE FROM attempts WHERE started_at < $1 AND ended_at IS NOT NULL", cutoff
            )
            changes = await conn.execute("DELETE FROM status_changes WHERE changed_at < $1", cutoff)
            minutes = await conn.execute("DELETE FROM campaign_occupancy WHERE minute < $1", cutoff)
        return PruneResult(cutoff, *(int(tag.split()[-1]) for tag in (attempts, changes, minutes)))


def _row(rule: str, record: asyncpg.Record, detail: str = "") -> AuditRow:
    return AuditRow(rule, record["n"], tuple(record["ids"] or ()), detail)


async def _abandon_row(
    conn: asyncpg.Connection,
    span: tuple[int, dt.datetime, dt.datetime, int],
    window: dt.timedelta,
    cap: float,
) -> AuditRow:
    """The abandon-rate row: abandons that put their window over ``cap``, and the worst window."""
    record = await conn.fetchrow(_ABANDON_SQL, *span, window, cap)
    name = f"abandon_rate_{_window_name(window)}"
    if record["worst_n"] is None:
        return AuditRow(name, 0, (), f"no live answers (cap {cap:.1%})")
    k, n = record["worst_k"], record["worst_n"]
    detail = (
        f"worst {k / n:.2%} ({k}/{n}) in the window ending {record['worst_at'].isoformat()}; cap {cap:.1%}"
    )
    return AuditRow(name, record["n"], tuple(record["ids"] or ()), detail)


def _window_name(window: dt.timedelta) -> str:
    hours = window.total_seconds() / 3600
    if hours >= 48 and hours % 24 == 0:
        return f"{int(hours // 24)}d"
    return f"{hours:g}h"

