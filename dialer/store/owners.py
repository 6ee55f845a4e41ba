"""Engines and the campaigns they own: heartbeats, take-over, the fencing check (issue 15).

Theory of operation. Several ``dialer run`` processes share one database; each campaign is run
by one of them at a time, its *owner* (migration 021: ``campaign_owners``). An engine refreshes
its ``engines`` row and the heartbeat of every campaign it owns in one transaction
(:meth:`Owners.engine_heartbeat`); a campaign whose heartbeat is older than the take-over
time, or that a stopping engine handed back, may be taken by any engine
(:meth:`Owners.take_campaign`), and taking it increases its *token*. The database's ``now()``
is the one clock, so engines whose hosts disagree about the time still agree about expiry.

Fencing. The campaign writes that matter most -- opening an attempt (a call is about to be
placed) and closing one (its outcome moves the contact) -- carry the writer's
:class:`~dialer.model.Fence`; :func:`owner_holds` is the one SQL condition that checks it, used
by both statements in :mod:`dialer.store.attempts`. It takes a share lock on the owner row,
so a take-over (an UPDATE of that row) waits for a write in progress to commit, and a write
that starts after it sees the new token and is refused.

After a take-over the new owner claims the attempts still open in the campaign
(:meth:`Owners.claim_campaign_attempts`) and settles them as a restarted engine settles its
own: the calls still up on the PBX are adopted, the rest closed as lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dialer.model import EngineStatus
from dialer.store.connection import PoolNoun

__all__ = ["Owners", "owner_holds"]


def owner_holds(campaign: str, engine: str, token: str, *, lock: bool = True) -> str:
    """SQL: true when ``engine`` owns ``campaign`` with ``token`` (a NULL token: no fence).

    The arguments are SQL expressions (parameters such as ``$7`` or columns), never input.
    ``lock``: share-lock the owner row, so a take-over waits for the write the check guards
    (and then sees it); a check that only reports (no write depends on it) needs no lock,
    and a row lock is a write of the owner row's header on every attempt.
    """
    return (
        f"({token}::bigint IS NULL OR EXISTS (SELECT 1 FROM campaign_owners fence"
        f" WHERE fence.campaign_id = {campaign} AND fence.engine_id = {engine}::text"
        f" AND fence.token = {token}::bigint{' FOR SHARE' if lock else ''}))"
    )


class Owners(PoolNoun):
    """The ``engines`` and ``campaign_owners`` rows (see the module docstring)."""

    async def engine_heartbeat(
        self,
        engine_id: str,
        tokens: Mapping[int, int],
        *,
        host: str = "",
        pid: int = 0,
        max_campaigns: int = 0,
    ) -> set[int]:
        """Refresh this engine's row and its campaigns' heartbeats; return the campaigns it still owns.

        A campaign missing from the answer was taken over (another token) or deleted: the
        caller stops its runner.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO engines (engine_id, host, pid, max_campaigns)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (engine_id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL,
                       host = $2, pid = $3, max_campaigns = $4,
                       started_at = CASE WHEN engines.pid = $3 AND engines.stopped_at IS NULL
                                         THEN engines.started_at ELSE now() END""",
                engine_id,
                host,
                pid,
                max_campaigns,
            )
            rows = await conn.fetch(
                """UPDATE campaign_owners o SET heartbeat_at = now()
                   FROM (SELECT unnest($2::bigint[]) AS id, unnest($3::bigint[]) AS token) mine
                   WHERE o.campaign_id = mine.id AND o.token = mine.token AND o.engine_id = $1
                   RETURNING o.campaign_id""",
                engine_id,
                list(tokens),
                list(tokens.values()),
            )
        return {r["campaign_id"] for r in rows}

    async def live_engines(self, *, expiry_s: float) -> int:
        """How many engines have sent a heartbeat within ``expiry_s`` and not stopped."""
        count = await self.pool.fetchval(
            """SELECT count(*) FROM engines
               WHERE stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1)""",
            expiry_s,
        )
        return int(count)

    async def take_campaign(
        self, engine_id: str, campaign_id: int, *, expiry_s: float
    ) -> tuple[int, str | None] | None:
        """Take ``campaign_id`` if it is free, handed back, expired or this engine id's own.

        This engine id's own: only one process runs under an id, so a row under it with a
        token this process does not hold is its previous run's (a restart takes it at once).
        Returns the new token and whom it was taken from, or None when another engine holds it.
        """
        row = await self.pool.fetchrow(
            """INSERT INTO campaign_owners AS o (campaign_id, engine_id, token, heartbeat_at, acquired_at)
               VALUES ($2, $1, 1, now(), now())
               ON CONFLICT (campaign_id) DO UPDATE SET engine_id = $1, token = o.token + 1,
                   heartbeat_at = now(), acquired_at = now(), previous_engine_id = o.engine_id
               WHERE o.engine_id IS NULL OR o.engine_id = $1
                  OR o.heartbeat_at IS NULL OR o.heartbeat_at <= now() - make_interval(secs => $3)
               RETURNING o.token, o.previous_engine_id AS previous""",
            engine_id,
            campaign_id,
            expiry_s,
        )
        if row is None:
            return None
        return int(row["token"]), row["previous"]

    async def hand_back_campaigns(self, engine_id: str, campaign_ids: Sequence[int] | None = None) -> int:
        """Free this engine's campaigns (all of them when ``campaign_ids`` is None) for another
        engine to take at once; with None the engine is marked stopped too. Returns how many."""
        async with self.pool.acquire() as conn, conn.transaction():
            done = await conn.execute(
                """UPDATE campaign_owners SET engine_id = NULL, heartbeat_at = NULL
                   WHERE engine_id = $1 AND ($2::bigint[] IS NULL OR campaign_id = ANY($2::bigint[]))""",
                engine_id,
                None if campaign_ids is None else list(campaign_ids),
            )
            if campaign_ids is None:
                await conn.execute("UPDATE engines SET stopped_at = now() WHERE engine_id = $1", engine_id)
        return int(done.split()[-1])

    async def claim_campaign_attempts(self, engine_id: str, campaign_id: int) -> int:
        """Take over the campaign's open attempts of other engines, and their contacts' leases.

        Also the answered attempts whose contact another engine still holds for a disposition
        (its agent's decision died with it): the new owner gives them the default disposition
        as a restarted engine does. Returns how many attempts were claimed.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """WITH waiting AS (
                       SELECT a.id FROM attempts a JOIN contacts c ON c.id = a.contact_id
                       WHERE a.campaign_id = $2 AND a.engine_id <> $1 AND a.outcome = 'answered'
                         AND a.status_id IS NULL AND c.lease_owner = a.engine_id
                         AND a.id = (SELECT max(id) FROM attempts WHERE contact_id = a.contact_id))
                   UPDATE attempts SET engine_id = $1, handed_over_at = NULL
                   WHERE (campaign_id = $2 AND ended_at IS NULL AND engine_id <> $1)
                      OR id IN (SELECT id FROM waiting)
                   RETURNING contact_id""",
                engine_id,
                campaign_id,
            )
            await conn.execute(
                """UPDATE contacts SET lease_owner = $1
                   WHERE id = ANY($2::bigint[]) AND lease_owner IS NOT NULL""",
                engine_id,
                [r["contact_id"] for r in rows],
            )
        return len(rows)

    async def adopt_free_handed_over(self, engine_id: str, *, expiry_s: float) -> int:
        """Claim the attempts handed over in campaigns no live engine owns (the stopping engine
        handed them back): this engine is about to take them. Returns how many were claimed."""
        done = await self.pool.execute(
            """WITH claimed AS (
                   UPDATE attempts SET engine_id = $1, handed_over_at = NULL
                   WHERE id IN (SELECT a.id FROM attempts a
                                LEFT JOIN campaign_owners o ON o.campaign_id = a.campaign_id
                                WHERE a.handed_over_at IS NOT NULL AND a.ended_at IS NULL
                                  AND (o.engine_id IS NULL OR o.engine_id = $1
                                       OR o.heartbeat_at <= now() - make_interval(secs => $2))
                                FOR UPDATE OF a SKIP LOCKED)
                   RETURNING contact_id)
               UPDATE contacts SET lease_owner = $1
               WHERE id IN (SELECT contact_id FROM claimed) AND lease_owner IS NOT NULL""",
            engine_id,
            expiry_s,
        )
        return int(done.split()[-1])

    async def engines(self, *, expiry_s: float) -> list[EngineStatus]:
        """Every engine that has run on this database, the live ones first (``dialer engines``)."""
        rows = await self.pool.fetch(
            """SELECT e.*, extract(epoch FROM now() - e.heartbeat_at)::float8 AS age,
                      e.stopped_at IS NULL AND e.heartbeat_at > now() - make_interval(secs => $1) AS alive,
                      ARRAY(SELECT c.name FROM campaign_owners o JOIN campaigns c ON c.id = o.campaign_id
                            WHERE o.engine_id = e.engine_id ORDER BY c.name) AS campaigns,
                      (SELECT count(*) FROM attempts a WHERE a.ended_at IS NULL AND a.engine_id = e.engine_id)
                          AS calls
               FROM engines e ORDER BY alive DESC, e.engine_id""",
            expiry_s,
        )
        return [
            EngineStatus(
                engine_id=r["engine_id"],
                host=r["host"],
                pid=r["pid"],
                started_at=r["started_at"],
                heartbeat_at=r["heartbeat_at"],
                heartbeat_age_s=max(0.0, r["age"]),
                stopped_at=r["stopped_at"],
                alive=r["alive"],
                max_campaigns=r["max_campaigns"],
                campaigns=tuple(r["campaigns"]),
                calls=int(r["calls"]),
            )
            for r in rows
        ]

    async def unowned_campaigns(self, campaign_ids: Sequence[int], *, expiry_s: float) -> list[int]:
        """Those of ``campaign_ids`` that no live engine owns (the alert's gauge)."""
        rows = await self.pool.fetch(
            """SELECT u.id FROM unnest($1::bigint[]) AS u(id)
               WHERE NOT EXISTS (SELECT 1 FROM campaign_owners o WHERE o.campaign_id = u.id
                                 AND o.engine_id IS NOT NULL
                                 AND o.heartbeat_at > now() - make_interval(secs => $2))""",
            list(campaign_ids),
            expiry_s,
        )
        return [r["id"] for r in rows]
