"""Moving contacts between campaigns with a status change (seed 001, "przenoszenie kontaktów").

Rules from the seed: records whose status qualifier is *success* or *success-closing* are
never moved; no record is moved to a status whose qualifier is *none*; a move to a status
whose qualifier is *unused* clears the records' attempt history (counters reset; the attempt
rows themselves are kept, marked cleared, because every attempt is kept for audit). The
move is one transaction. Contacts leased by an engine at the moment (in a call) are left
where they are and counted as skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from dialer.errors import NotFound, TransferRefused, ValidationError
from dialer.model import UNMOVABLE_QUALIFIERS, Qualifier


@dataclass(frozen=True, slots=True)
class TransferResult:
    from_campaign: str
    from_status: str
    to_campaign: str
    to_status: str
    matched: int  # records in the source campaign and status
    moved: int
    skipped_leased: int
    history_cleared: bool

    def describe(self) -> str:
        return (
            f"moved {self.moved} of {self.matched} records from {self.from_campaign} / {self.from_status}"
            f" to {self.to_campaign} / {self.to_status}"
            + (f" ({self.skipped_leased} in a call, left in place)" if self.skipped_leased else "")
            + (" (attempt history cleared)" if self.history_cleared else "")
        )


async def _status(
    conn: asyncpg.Connection, campaign_id: int, campaign: str, name: str, field: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """SELECT s.id, s.name, s.qualifier FROM campaign_statuses cs JOIN statuses s ON s.id = cs.status_id
           WHERE cs.campaign_id = $1 AND s.name = $2""",
        campaign_id,
        name,
    )
    if row is None:
        raise ValidationError(field, f"campaign {campaign} has no such status", name)
    return row


@dataclass(frozen=True, slots=True)
class TransferCount:
    """The first step of a transfer (seed 001): how many records the chosen campaign and status hold."""

    campaign: str
    status: str
    matched: int  # records in the campaign with the status
    in_call: int  # of them, leased by an engine now: a move leaves them in place
    refusal: str | None  # why records of this status can never be moved (their qualifier), or None

    def describe(self) -> str:
        return (
            f"{self.matched} records in {self.campaign} / {self.status}"
            + (f" ({self.in_call} in a call)" if self.in_call else "")
            + (f"; {self.refusal}" if self.refusal else "")
        )


def _source_refusal(qualifier: str) -> str | None:
    if Qualifier(qualifier) in UNMOVABLE_QUALIFIERS:
        return f"records whose status qualifier is {qualifier} cannot be moved"
    return None


async def count_matching(
    conn: asyncpg.Connection, from_campaign: str, status: str, at: dt.datetime | None = None
) -> TransferCount:
    """How many records a transfer from ``from_campaign`` / ``status`` would consider.

    Raises:
        NotFound: no such campaign.
        ValidationError: the status is not one of the campaign's.
    """
    at = at or dt.datetime.now(dt.UTC)
    src_id = await conn.fetchval("SELECT id FROM campaigns WHERE name = $1", from_campaign)
    if src_id is None:
        raise NotFound("campaign", from_campaign)
    src = await _status(conn, src_id, from_campaign, status, "status")
    row = await conn.fetchrow(
        """SELECT count(*) AS n, count(*) FILTER (WHERE lease_owner IS NOT NULL AND lease_expires_at > $3)
                  AS leased
           FROM contacts WHERE campaign_id = $1 AND status_id = $2""",
        src_id,
        src["id"],
        at,
    )
    return TransferCount(from_campaign, status, row["n"], row["leased"], _source_refusal(src["qualifier"]))


async def move_contacts(
    conn: asyncpg.Connection,
    *,
    from_campaign: str,
    status: str,
    to_campaign: str,
    new_status: str,
    limit: int | None = None,
    at: dt.datetime | None = None,
) -> TransferResult:
    """Move records in one transaction (see the module doc for the rules).

    Raises:
        NotFound: a campaign does not exist.
        ValidationError: a status is not one of its campaign's, or ``limit`` is not positive.
        TransferRefused: the source qualifier is success/success-closing or the target's is none.
    """
    if limit is not None and limit < 1:
        raise ValidationError("limit", "must be a positive number", limit)
    at = at or dt.datetime.now(dt.UTC)
    async with conn.transaction():
        src_id = await conn.fetchval("SELECT id FROM campaigns WHERE name = $1", from_campaign)
        if src_id is None:
            raise NotFound("campaign", from_campaign)
        dst_id = await conn.fetchval("SELECT id FROM campaigns WHERE name = $1", to_campaign)
        if dst_id is None:
            raise NotFound("campaign", to_campaign)
        src = await _status(conn, src_id, from_campaign, status, "status")
        dst = await _status(conn, dst_id, to_campaign, new_status, "new_status")
        refusal = _source_refusal(src["qualifier"])
        if refusal is not None:
            raise TransferRefused("status", refusal, status)
        if Qualifier(dst["qualifier"]) is Qualifier.NONE:
            raise TransferRefused(
                "new_status", "records cannot be moved to a status whose qualifier is none", new_status
            )
        matched = await conn.fetchval(
            "SELECT count(*) FROM contacts WHERE campaign_id = $1 AND status_id = $2", src_id, src["id"]
        )
        clear = Qualifier(dst["qualifier"]) is Qualifier.UNUSED
        ids = [
            r["id"]
            for r in await conn.fetch(
                """SELECT id FROM contacts
                   WHERE campaign_id = $1 AND status_id = $2
                     AND (lease_owner IS NULL OR lease_expires_at <= $3)
                   ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED""",
                src_id,
                src["id"],
                at,
                limit,
            )
        ]
        eligible = await conn.fetchval(
            """SELECT count(*) FROM contacts WHERE campaign_id = $1 AND status_id = $2
               AND (lease_owner IS NULL OR lease_expires_at <= $3)""",
            src_id,
            src["id"],
            at,
        )
        await conn.execute(
            """UPDATE contacts SET campaign_id = $2, status_id = $3, lease_owner = NULL,
                   lease_expires_at = NULL,
                   callback_due_at = NULL, agent_id = NULL,
                   not_before = CASE WHEN $4 THEN NULL ELSE not_before END,
                   attempts = CASE WHEN $4 THEN 0 ELSE attempts END,
                   outcome_counts = CASE WHEN $4 THEN '{}'::jsonb ELSE outcome_counts END,
                   day_attempts = CASE WHEN $4 THEN 0 ELSE day_attempts END,
                   day_attempts_on = CASE WHEN $4 THEN NULL ELSE day_attempts_on END,
                   last_outcome = CASE WHEN $4 THEN NULL ELSE last_outcome END,
                   last_attempt_at = CASE WHEN $4 THEN NULL ELSE last_attempt_at END,
                   closed_reason = CASE WHEN $4 THEN NULL ELSE closed_reason END,
                   next_phone_pos = CASE WHEN $4 THEN 1 ELSE next_phone_pos END,
                   round_due_at = CASE WHEN $4 THEN NULL ELSE round_due_at END
               WHERE id = ANY($1::bigint[])""",
            ids,
            dst_id,
            dst["id"],
            clear,
        )
        await conn.execute(
            "UPDATE contact_phones SET campaign_id = $2 WHERE contact_id = ANY($1::bigint[])", ids, dst_id
        )
        await conn.execute(
            "UPDATE callbacks SET state = 'cancelled'"
            " WHERE contact_id = ANY($1::bigint[]) AND state = 'pending'",
            ids,
        )
        if clear:
            await conn.execute(
                "UPDATE attempts SET history_cleared_at = $2 WHERE contact_id = ANY($1::bigint[])"
                " AND history_cleared_at IS NULL",
                ids,
                at,
            )
        await conn.execute(
            """INSERT INTO status_changes (contact_id, from_status, to_status, from_campaign, to_campaign,
                   reason,
                   changed_at)
               SELECT unnest($1::bigint[]), $2, $3, $4, $5, 'transfer', $6""",
            ids,
            src["id"],
            dst["id"],
            src_id,
            dst_id,
            at,
        )
        return TransferResult(
            from_campaign=from_campaign,
            from_status=status,
            to_campaign=to_campaign,
            to_status=new_status,
            matched=matched,
            moved=len(ids),
            skipped_leased=matched - eligible,
            history_cleared=clear,
        )
