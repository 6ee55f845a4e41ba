"""Do-not-call lists: the global one and each campaign's own.

A number on the global list (``campaign_id`` NULL) is never dialled; one on a campaign's
list is not dialled for that campaign. The lease query already skips listed numbers
(:mod:`dialer.store.eligibility`); just before it dials, the runner checks them again with
the lease's other rules in one query (``Store.recheck_before_dial``; DESIGN.md: DNC is
checked at dial time), as a number may be listed after its contact was leased.
"""

from __future__ import annotations

import datetime as dt

from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun


class DoNotCall(PoolNoun):
    """The do-not-call lists on the shared pool."""

    async def add_do_not_call(
        self, e164: str, *, campaign: str | None = None, reason: str = "", at: dt.datetime | None = None
    ) -> None:
        """Put a number on the global list (``campaign=None``) or on one campaign's list.

        ``at``: when it was listed (default now; a run in virtual time passes its clock's), which
        the audit report compares with each call's start.
        """
        async with self.pool.acquire() as conn:
            cid = None if campaign is None else await campaign_id_of(conn, campaign)
            await conn.execute(
                "INSERT INTO do_not_call (e164, campaign_id, reason, added_at)"
                " VALUES ($1, $2, $3, coalesce($4, now()))"
                " ON CONFLICT (e164, campaign_id) DO UPDATE SET reason = EXCLUDED.reason",
                e164,
                cid,
                reason,
                at,
            )

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
