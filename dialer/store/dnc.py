"""Do-not-call lists: the global one and each campaign's own.

A number on the global list (``campaign_id`` NULL) is never dialled; one on a campaign's
list is not dialled for that campaign. The lease query already skips listed numbers
(:mod:`dialer.store.eligibility`); just before it dials, the runner checks them again with
the lease's other rules in one query (``Store.recheck_before_dial``; DESIGN.md: DNC is
checked at dial time), as a number may be listed after its contact was leased.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun

# Which lists ``list_do_not_call`` reads: every list, or only the global one.
ALL_LISTS = "*"


@dataclass(frozen=True, slots=True)
class DncEntry:
    """A number on the global list (``campaign`` None) or on one campaign's list."""

    e164: str
    campaign: str | None
    reason: str
    added_at: dt.datetime


def _entry_from(row: asyncpg.Record) -> DncEntry:
    return DncEntry(row["e164"], row["campaign"], row["reason"], row["added_at"])


class DoNotCall(PoolNoun):
    """The do-not-call lists on the shared pool."""

    async def add_do_not_call(
        self, e164: str, *, campaign: str | None = None, reason: str = "", at: dt.datetime | None = None
    ) -> DncEntry:
        """Put a number on the global list (``campaign=None``) or on one campaign's list; the
        entry as stored (listed again: the reason is replaced, the date kept).

        ``at``: when it was listed (default now; a run in virtual time passes its clock's), which
        the audit report compares with each call's start.
        """
        async with self.pool.acquire() as conn:
            cid = None if campaign is None else await campaign_id_of(conn, campaign)
            row = await conn.fetchrow(
                "INSERT INTO do_not_call (e164, campaign_id, reason, added_at)"
                " VALUES ($1, $2, $3, coalesce($4, now()))"
                " ON CONFLICT (e164, campaign_id) DO UPDATE SET reason = EXCLUDED.reason"
                " RETURNING e164, $5::text AS campaign, reason, added_at",
                e164,
                cid,
                reason,
                at,
                campaign,
            )
        return _entry_from(row)

    async def remove_do_not_call(self, e164: str, *, campaign: str | None = None) -> bool:
        async with self.pool.acquire() as conn:
            cid = None if campaign is None else await campaign_id_of(conn, campaign)
            done = await conn.execute(
                "DELETE FROM do_not_call WHERE e164 = $1 AND campaign_id IS NOT DISTINCT FROM $2", e164, cid
            )
            return done != "DELETE 0"

    async def is_do_not_call(self, e164: str, campaign_id: int) -> bool:
        """Whether ``e164`` is listed for ``campaign_id`` (the dial path uses ``recheck_before_dial``)."""
        return bool(
            await self.pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM do_not_call"
                " WHERE e164 = $1 AND (campaign_id IS NULL OR campaign_id = $2))",
                e164,
                campaign_id,
            )
        )

    async def add_do_not_call_many(
        self, numbers: list[str], *, campaign: str | None = None, reason: str = ""
    ) -> int:
        """Put every number of ``numbers`` (E.164) on one list in one transaction (``dnc import``):
        all or none. Returns how many were not on that list before."""
        async with self.pool.acquire() as conn, conn.transaction():
            cid = None if campaign is None else await campaign_id_of(conn, campaign)
            new = await conn.fetchval(
                """WITH given AS (SELECT DISTINCT unnest($1::text[]) AS e164),
                   ins AS (INSERT INTO do_not_call (e164, campaign_id, reason)
                           SELECT e164, $2, $3 FROM given
                           ON CONFLICT (e164, campaign_id) DO UPDATE SET reason = EXCLUDED.reason
                           RETURNING (xmax = 0) AS inserted)
                   SELECT count(*) FILTER (WHERE inserted) FROM ins""",
                numbers,
                cid,
                reason,
            )
        return int(new)

    async def list_do_not_call(
        self,
        *,
        campaign: str | None = ALL_LISTS,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[DncEntry]]:
        """The listed numbers, newest first, and how many match in all.

        ``campaign``: :data:`ALL_LISTS` (every list), None (the global list) or a campaign's
        name (its own list). ``search``: a part of the number (its digits) or of the reason.

        Raises:
            NotFound: no such campaign.
        """
        async with self.pool.acquire() as conn:
            every = campaign == ALL_LISTS
            cid = None if every or campaign is None else await campaign_id_of(conn, campaign)
            digits = "".join(ch for ch in search or "" if ch.isdigit())
            where = """($1 OR d.campaign_id IS NOT DISTINCT FROM $2)
                       AND ($3::text IS NULL OR (length($4) > 0 AND d.e164 LIKE '%' || $4 || '%')
                            OR strpos(lower(d.reason), lower($3)) > 0)"""
            args = (every, cid, search or None, digits)
            total = await conn.fetchval(f"SELECT count(*) FROM do_not_call d WHERE {where}", *args)
            rows = await conn.fetch(
                f"""SELECT d.e164, c.name AS campaign, d.reason, d.added_at
                    FROM do_not_call d LEFT JOIN campaigns c ON c.id = d.campaign_id WHERE {where}
                    ORDER BY d.added_at DESC, d.e164 LIMIT $5 OFFSET $6""",
                *args,
                limit,
                offset,
            )
        return int(total), [_entry_from(r) for r in rows]
