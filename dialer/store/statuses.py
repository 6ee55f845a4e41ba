"""Statuses: the dictionary, the statuses local to a campaign, and each campaign's retry rules.

A status lives in the dictionary (``campaign_id`` NULL) or belongs to one campaign; a
campaign uses the statuses linked to it in ``campaign_statuses``, each with the campaign's
own retry rule and (for automatic ones) the trigger that sets it. At most one status per
trigger per campaign. :data:`DEFAULT_RULES` is what a trigger does when the campaign has no
status for it (applied by :meth:`dialer.store.attempts.Attempts.close_attempt`).
"""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from dialer.campaign.rules import check_retry_rule, check_status
from dialer.errors import InUse, NotFound, ValidationError
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
        check_retry_rule(spec.retry)
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
                    *_columns(spec),
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
            ValidationError: the campaign already has a status for the same trigger, or the
                retry rule is invalid.
        """
        if retry is not None:
            check_retry_rule(retry)
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

    async def get_status(self, name: str, *, campaign: str | None = None) -> Status:
        """A dictionary status, or (``campaign`` given) the campaign's status with its retry rule.

        Raises:
            NotFound: no such status (or campaign).
        """
        for status in await self.list_statuses(campaign):
            if status.name == name:
                return status
        raise NotFound("status", name)

    async def update_status(self, name: str, /, *, campaign: str | None = None, **changes: object) -> Status:
        """Change any field of a dictionary status (``campaign=None``) or a campaign's local one.

        ``changes`` are :class:`StatusSpec` fields; the result is checked like a new status
        (:func:`check_status`). The name, system status, qualifier and the hidden and active
        flags are the status's wherever it is used. The trigger is kept in step in every
        campaign using the status; the retry rule here is the status's default, which
        campaigns get when the status is added to them (each campaign's own rule changes with
        :meth:`add_status`).

        Raises:
            NotFound: no such status (or campaign).
            ValidationError: a field is invalid, the new name is taken, or a campaign using the
                status already has another one on the new trigger.
        """
        for key in changes:
            if key not in StatusSpec.__dataclass_fields__:
                raise ValidationError(key, "not a field of a status")
        async with self.pool.acquire() as conn, conn.transaction():
            cid = None if campaign is None else await campaign_id_of(conn, campaign)
            row = await conn.fetchrow(
                "SELECT * FROM statuses WHERE campaign_id IS NOT DISTINCT FROM $1 AND name = $2 FOR UPDATE",
                cid,
                name,
            )
            if row is None:
                raise NotFound("status", name)
            old = status_from(row)
            spec = StatusSpec(
                name=old.name, system_status=old.system_status, qualifier=old.qualifier, trigger=old.trigger,
                auto_add=old.auto_add, hidden=old.hidden, active=old.active, retry=old.retry,
            )
            spec = replace(spec, **changes)  # type: ignore[arg-type]
            check_status(spec)
            check_retry_rule(spec.retry)
            if spec.name.lower() != old.name.lower():
                taken = await conn.fetchval(
                    "SELECT name FROM statuses"
                    " WHERE campaign_id IS NOT DISTINCT FROM $1 AND lower(name) = lower($2)",
                    cid,
                    spec.name,
                )
                if taken is not None:
                    reason = f"a status {taken!r} already exists (names ignore case)"
                    raise ValidationError("name", reason, spec.name)
            try:
                updated = await conn.fetchrow(
                    """UPDATE statuses SET name = $2, system_status = $3, qualifier = $4, trigger = $5,
                           auto_add = $6, hidden = $7, active = $8, retry_delay_s = $9, backoff = $10,
                           backoff_factor = $11, max_attempts = $12 WHERE id = $1 RETURNING *""",
                    row["id"],
                    *_columns(spec),
                )
                await conn.execute(
                    "UPDATE campaign_statuses SET trigger = $2"
                    " WHERE status_id = $1 AND trigger IS DISTINCT FROM $2",
                    row["id"],
                    spec.trigger.value if spec.trigger else None,
                )
            except asyncpg.UniqueViolationError:
                raise ValidationError(
                    "trigger", "a campaign using this status already has another status on this trigger",
                    spec.trigger.value if spec.trigger else None,
                ) from None
            return status_from(updated)

    async def remove_status(self, name: str) -> None:
        """Delete a dictionary status no campaign uses.

        Raises:
            NotFound: no such dictionary status.
            InUse: campaigns use it (remove it from them first).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            sid = await conn.fetchval(
                "SELECT id FROM statuses WHERE campaign_id IS NULL AND name = $1 FOR UPDATE", name
            )
            if sid is None:
                raise NotFound("status", name)
            users = await conn.fetch(
                """SELECT c.name FROM campaign_statuses cs JOIN campaigns c ON c.id = cs.campaign_id
                   WHERE cs.status_id = $1 ORDER BY c.name""",
                sid,
            )
            if users:
                raise InUse(
                    "status",
                    "campaigns use it; remove it from them first: " + ", ".join(r["name"] for r in users),
                    name,
                )
            await _refuse_held_status(conn, sid, name)
            await conn.execute("DELETE FROM statuses WHERE id = $1", sid)

    async def remove_campaign_status(self, campaign: str, status: str) -> None:
        """Take a status off a campaign (a status local to the campaign is deleted with it).

        Raises:
            NotFound: no such campaign, or the campaign has no such status.
            InUse: contacts of the campaign have it, or it is the campaign's default status
                or default disposition.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            row = await campaign_status_row(conn, cid, status)
            defaults = await conn.fetchrow(
                "SELECT default_status_id, default_disposition_id FROM campaigns WHERE id = $1 FOR UPDATE",
                cid,
            )
            for column, what in (("default_status_id", "default status"), ("default_disposition_id",
                                                                          "default disposition")):
                if defaults[column] == row["id"]:
                    raise InUse("status", f"it is the campaign's {what}; choose another first", status)
            await _refuse_held_status(conn, row["id"], status, campaign_id=cid)
            await conn.execute("DELETE FROM campaign_statuses WHERE campaign_id = $1 AND status_id = $2", cid,
                               row["id"])
            if row["campaign_id"] == cid:
                await conn.execute("DELETE FROM statuses WHERE id = $1", row["id"])


async def _refuse_held_status(
    conn: asyncpg.Connection, status_id: int, name: str, *, campaign_id: int | None = None
) -> None:
    """Raise :class:`InUse` when contacts (of ``campaign_id``, or of any campaign) have the status."""
    held = await conn.fetchval(
        "SELECT count(*) FROM contacts WHERE status_id = $1 AND ($2::bigint IS NULL OR campaign_id = $2)",
        status_id,
        campaign_id,
    )
    if held:
        raise InUse("status", f"{held} contacts have it; move them to another status first", name)


def _columns(spec: StatusSpec) -> tuple[object, ...]:
    """A status's columns from name to max_attempts, in the order of the INSERT and the UPDATE."""
    return (
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
