"""Statuses: the dictionary, the statuses local to a campaign, and each campaign's retry rules.

A status lives in the dictionary (``campaign_id`` NULL) or belongs to one campaign; a
campaign uses the statuses linked to it in ``campaign_statuses``, each with the campaign's
own retry rule and (for automatic ones) the trigger that sets it. At most one status per
trigger per campaign. :data:`DEFAULT_RULES` is what a trigger does when the campaign has no
status for it (applied by :meth:`dialer.store.attempts.Attempts.close_attempt`).
"""

from __future__ import annotations

import asyncpg

from dialer.campaign.rules import check_status
from dialer.errors import NotFound, ValidationError
from dialer.model import (
    Backoff,
    Qualifier,
    RetryRule,
    Status,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun

# Retry rules used when a campaign has no status for an automatic trigger. Judgement calls:
# a busy line is often free again within minutes; an unanswered phone is worth an hour;
# congestion is usually our own trunk and clears fast; a machine is retried later in the day
# (the UK profile additionally locks it for 24 h); an abandoned call is retried only in
# progressive fashion by its status, so without one it waits an hour like no-answer.
DEFAULT_RULES: dict[Trigger, RetryRule] = {
    Trigger.BUSY: RetryRule(delay_s=600),
    Trigger.NO_ANSWER: RetryRule(delay_s=3600),
    Trigger.CONGESTION: RetryRule(delay_s=300),
    Trigger.MACHINE: RetryRule(delay_s=4 * 3600),
    Trigger.ABANDONED: RetryRule(delay_s=3600),
    Trigger.INVALID_NUMBER: RetryRule(delay_s=0),
}


def rule_from(row: asyncpg.Record) -> RetryRule:
    return RetryRule(
        delay_s=row["retry_delay_s"],
        backoff=Backoff(row["backoff"]),
        factor=row["backoff_factor"],
        max_attempts=row["max_attempts"],
    )


def status_from(row: asyncpg.Record) -> Status:
    return Status(
        id=row["id"],
        name=row["name"],
        system_status=SystemStatus(row["system_status"]),
        qualifier=Qualifier(row["qualifier"]),
        trigger=Trigger(row["trigger"]) if row["trigger"] else None,
        campaign_id=row["campaign_id"],
        auto_add=row["auto_add"],
        hidden=row["hidden"],
        active=row["active"],
        retry=rule_from(row),
    )


async def campaign_status_row(conn: asyncpg.Connection, campaign_id: int, name: str) -> asyncpg.Record:
    """Status ``name`` as linked to the campaign (``c_*``: the campaign's retry rule for it).

    Raises:
        NotFound: the campaign has no status of that name.
    """
    row = await conn.fetchrow(
        """SELECT s.*, cs.retry_delay_s AS c_delay, cs.backoff AS c_backoff,
                  cs.backoff_factor AS c_factor, cs.max_attempts AS c_max
           FROM campaign_statuses cs JOIN statuses s ON s.id = cs.status_id
           WHERE cs.campaign_id = $1 AND s.name = $2""",
        campaign_id,
        name,
    )
    if row is None:
        raise NotFound("status", name)
    return row


class Statuses(PoolNoun):
    """The status dictionary and campaigns' statuses on the shared pool."""

    async def create_status(self, spec: StatusSpec, *, campaign: str | None = None) -> Status:
        """Add a status to the dictionary, or (``campaign`` given) a status local to a campaign.

        A local status is linked to its campaign at once, with its trigger.

        Raises:
            ValidationError: the name is taken, or the campaign already has a status for the trigger.
            NotFound: no such campaign.
        """
        check_status(spec)
        async with self.pool.acquire() as conn, conn.transaction():
            campaign_id = None
            if campaign is not None:
                campaign_id = await campaign_id_of(conn, campaign)
            taken = await conn.fetchval(
                "SELECT name FROM statuses"
                " WHERE campaign_id IS NOT DISTINCT FROM $1 AND lower(name) = lower($2)",
                campaign_id,
                spec.name,
            )
            if taken is not None:
                where = f"campaign {campaign}" if campaign else "the dictionary"
                raise ValidationError(
                    "name", f"{where} already has this status as {taken!r} (names ignore case)", spec.name
                )
            try:
                row = await conn.fetchrow(
                    """INSERT INTO statuses (campaign_id, name, system_status, qualifier, trigger, auto_add,
                           hidden, active, retry_delay_s, backoff, backoff_factor, max_attempts)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
                    campaign_id,
                    spec.name,
                    spec.system_status.value,
                    spec.qualifier.value,
                    spec.trigger.value if spec.trigger else None,
                    spec.auto_add,
                    spec.hidden,
                    spec.active,
                    spec.retry.delay_s,
                    spec.retry.backoff.value,
                    spec.retry.factor,
                    spec.retry.max_attempts,
                )
            except asyncpg.UniqueViolationError:
                where = f"campaign {campaign}" if campaign else "the dictionary"
                raise ValidationError("name", f"{where} already has this status", spec.name) from None
            if campaign_id is not None:
                await self._link_status(conn, campaign_id, row["id"], campaign)
            return status_from(row)

    async def _link_status(
        self,
        conn: asyncpg.Connection,
        campaign_id: int,
        status_id: int,
        campaign: str | None,
        rule: RetryRule | None = None,
    ) -> None:
        try:
            await conn.execute(
                """INSERT INTO campaign_statuses (campaign_id, status_id, trigger, retry_delay_s, backoff,
                       backoff_factor, max_attempts)
                   SELECT $1, s.id, s.trigger, coalesce($3, s.retry_delay_s), coalesce($4, s.backoff),
                          coalesce($5, s.backoff_factor), CASE WHEN $6 THEN $7 ELSE s.max_attempts END
                   FROM statuses s WHERE s.id = $2
                   ON CONFLICT (campaign_id, status_id) DO UPDATE
                   SET retry_delay_s = EXCLUDED.retry_delay_s, backoff = EXCLUDED.backoff,
                       backoff_factor = EXCLUDED.backoff_factor, max_attempts = EXCLUDED.max_attempts""",
                campaign_id,
                status_id,
                rule.delay_s if rule else None,
                rule.backoff.value if rule else None,
                rule.factor if rule else None,
                rule is not None,
                rule.max_attempts if rule else None,
            )
        except asyncpg.UniqueViolationError:
            raise ValidationError(
                "trigger", f"campaign {campaign} already has a status set automatically on this trigger"
            ) from None

    async def add_status(self, campaign: str, status: str, *, retry: RetryRule | None = None) -> None:
        """Add a dictionary status to a campaign (or change the campaign's retry rule for it).

        Raises:
            NotFound: no such campaign or dictionary status.
            ValidationError: the campaign already has a status for the same trigger.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            campaign_id = await campaign_id_of(conn, campaign)
            status_id = await conn.fetchval(
                "SELECT id FROM statuses WHERE name = $1 AND (campaign_id IS NULL OR campaign_id = $2)"
                " ORDER BY campaign_id NULLS LAST LIMIT 1",
                status,
                campaign_id,
            )
            if status_id is None:
                raise NotFound("status", status)
            await self._link_status(conn, campaign_id, status_id, campaign, retry)

    async def list_statuses(self, campaign: str | None = None) -> list[Status]:
        """The dictionary (``campaign=None``) or a campaign's statuses with its retry rules."""
        if campaign is None:
            rows = await self.pool.fetch("SELECT * FROM statuses WHERE campaign_id IS NULL ORDER BY id")
            return [status_from(r) for r in rows]
        async with self.pool.acquire() as conn:
            campaign_id = await campaign_id_of(conn, campaign)
            rows = await conn.fetch(
                """SELECT s.id, s.campaign_id, s.name, s.system_status, s.qualifier, cs.trigger, s.auto_add,
                          s.hidden, s.active, cs.retry_delay_s, cs.backoff, cs.backoff_factor, cs.max_attempts
                   FROM campaign_statuses cs JOIN statuses s ON s.id = cs.status_id
                   WHERE cs.campaign_id = $1 ORDER BY s.id""",
                campaign_id,
            )
            return [status_from(r) for r in rows]

    async def set_default_status(self, campaign: str, status: str) -> None:
        """Make one of the campaign's statuses the one contacts get when none is named.

        Raises:
            NotFound: no such campaign, or the campaign has no status of that name.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            row = await campaign_status_row(conn, cid, status)
            await conn.execute("UPDATE campaigns SET default_status_id = $2 WHERE id = $1", cid, row["id"])
