"""Reading the attempts back: filter, page, export (``dialer attempts``, ``GET /api/v1/attempts``).

Every attempt is kept (audit), so the table grows by the campaign's call rate: a list is a
page of at most :data:`MAX_PAGE` rows, keyset-paged on the attempt id (``after`` the last id
seen) so that a page is as cheap on the millionth row as on the first and no row is skipped
or repeated while the engine writes new ones; an export streams through a server-side cursor
in one transaction (one consistent snapshot, constant memory). The filters are checked here,
once, for both front ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg

from dialer.errors import NotFound, ValidationError
from dialer.model import Outcome
from dialer.store.connection import PoolNoun

__all__ = [
    "ATTEMPT_COLUMNS",
    "MAX_PAGE",
    "AttemptLine",
    "AttemptLog",
    "AttemptQuery",
    "attempt_lines",
    "check_page",
    "parse_outcome",
]

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class AttemptQuery:
    """Which attempts: every given filter must hold. Times bound ``started_at``: [since, until)."""

    campaign: str | None = None
    outcome: Outcome | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    contact_id: int | None = None


@dataclass(frozen=True, slots=True)
class AttemptLine:
    """One attempt as an operator reads it (names, not ids)."""

    id: int
    campaign: str
    contact_id: int
    number: str
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    outcome: str | None  # None while the call is on
    hangup_cause: int | None
    agent: str | None
    status: str | None  # the status the outcome or the disposition gave the contact
    talk_s: float | None
    history_cleared: bool  # a move to an "unused" status cleared it from the contact's history

    def row(self) -> list[object]:
        return [
            self.id,
            self.campaign,
            self.contact_id,
            self.number,
            self.started_at.isoformat(),
            self.answered_at.isoformat() if self.answered_at else "",
            self.ended_at.isoformat() if self.ended_at else "",
            self.outcome or "",
            "" if self.hangup_cause is None else self.hangup_cause,
            self.agent or "",
            self.status or "",
            "" if self.talk_s is None else f"{self.talk_s:.1f}",
        ]


ATTEMPT_COLUMNS = [
    "id", "campaign", "contact_id", "number", "started_at", "answered_at", "ended_at", "outcome",
    "hangup_cause", "agent", "status", "talk_s",
]  # fmt: skip

_SELECT = """
SELECT a.id, cp.name AS campaign, a.contact_id, a.e164, a.started_at, a.answered_at, a.ended_at,
       a.outcome, a.hangup_cause, ag.name AS agent, s.name AS status,
       extract(epoch FROM a.ended_at - a.answered_at)::float8 AS talk_s,
       a.history_cleared_at IS NOT NULL AS cleared
FROM attempts a
JOIN campaigns cp ON cp.id = a.campaign_id
LEFT JOIN agents ag ON ag.id = a.agent_id
LEFT JOIN statuses s ON s.id = a.status_id
WHERE ($1::text IS NULL OR cp.name = $1)
  AND ($2::text IS NULL OR a.outcome = $2)
  AND ($3::timestamptz IS NULL OR a.started_at >= $3)
  AND ($4::timestamptz IS NULL OR a.started_at < $4)
  AND ($5::bigint IS NULL OR a.contact_id = $5)
  AND a.id > $6
ORDER BY a.id
"""


def parse_outcome(value: str | None) -> Outcome | None:
    """An outcome filter from text (``no-answer`` or ``no_answer``, any case)."""
    if value is None or value == "":
        return None
    try:
        return Outcome(value.strip().replace("-", "_").lower())
    except ValueError:
        raise ValidationError(
            "outcome", f"must be one of: {', '.join(o.value for o in Outcome)}", value
        ) from None


def check_page(after: int, limit: int) -> None:
    """The keyset page's bounds, shared by every list."""
    if not 0 <= after <= 2**63 - 1:
        raise ValidationError("after", "must be an id (0 or more)", after)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}", limit)


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A time bound; a naive one is read as UTC (the same for every front end)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _args(query: AttemptQuery) -> list[object]:
    since, until = _aware(query.since, "since"), _aware(query.until, "until")
    if since is not None and until is not None and until <= since:
        raise ValidationError("until", "must be after since", until.isoformat())
    outcome = query.outcome.value if query.outcome is not None else None
    return [query.campaign, outcome, since, until, query.contact_id]


def _line(r: asyncpg.Record) -> AttemptLine:
    return AttemptLine(
        id=r["id"],
        campaign=r["campaign"],
        contact_id=r["contact_id"],
        number=r["e164"],
        started_at=r["started_at"],
        answered_at=r["answered_at"],
        ended_at=r["ended_at"],
        outcome=r["outcome"],
        hangup_cause=r["hangup_cause"],
        agent=r["agent"],
        status=r["status"],
        talk_s=r["talk_s"],
        history_cleared=r["cleared"],
    )


async def _check_campaign(conn: asyncpg.Connection, campaign: str | None) -> None:
    if (
        campaign is not None
        and await conn.fetchval("SELECT 1 FROM campaigns WHERE name = $1", campaign) is None
    ):
        raise NotFound("campaign", campaign)


async def attempt_lines(
    conn: asyncpg.Connection, query: AttemptQuery, *, after: int = 0, limit: int | None = None
) -> list[AttemptLine]:
    """The attempts matching ``query`` with an id above ``after``, by id (on the caller's connection)."""
    sql = _SELECT + ("" if limit is None else f" LIMIT {int(limit)}")
    return [_line(r) for r in await conn.fetch(sql, *_args(query), after)]


class AttemptLog(PoolNoun):
    """Attempts read back on the shared pool."""

    async def search_attempts(
        self, query: AttemptQuery, *, after: int = 0, limit: int = 100
    ) -> tuple[list[AttemptLine], int | None]:
        """A page of attempts and the ``after`` of the next page (None: this was the last).

        Raises:
            NotFound: no such campaign.
            ValidationError: a bad bound, page or time range.
        """
        check_page(after, limit)
        async with self.pool.acquire() as conn:
            await _check_campaign(conn, query.campaign)
            lines = await attempt_lines(conn, query, after=after, limit=limit + 1)
        more = len(lines) > limit
        lines = lines[:limit]
        return lines, (lines[-1].id if more else None)

    async def export_attempts(self, query: AttemptQuery) -> AsyncIterator[Sequence[object]]:
        """The header, then every matching attempt as a CSV row, streamed from one snapshot.

        The checks run before the first row, so a bad filter fails before anything is sent.
        """
        args = _args(query)
        async with self.pool.acquire() as conn:
            await _check_campaign(conn, query.campaign)
        return _stream(self.pool, _SELECT, [*args, 0], ATTEMPT_COLUMNS, lambda r: _line(r).row())


async def _stream(
    pool: asyncpg.Pool, sql: str, args: Sequence[object], header: Sequence[object], row: object
) -> AsyncIterator[Sequence[object]]:
    """Rows of ``sql`` through a server-side cursor in one read-only transaction, after ``header``."""
    yield header
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        async for record in conn.cursor(sql, *args, prefetch=500):
            yield row(record)  # type: ignore[operator]
