"""Contacts: who to call, on which numbers, and the leases that hand them to an engine.

A contact belongs to one campaign, has a status of that campaign and one or more numbers
(``contact_phones``, in dialling order). Bulk loading is :mod:`dialer.contacts.importer`
(COPY on the pool); moving contacts between campaigns is :mod:`dialer.contacts.transfer`.

Theory of operation of leasing: an engine leases the dialable contacts of a running
campaign whose schedule is open (:meth:`Contacts.lease_contacts`; the rules are in
:mod:`dialer.store.eligibility`) for ``ttl_s`` seconds, renews the leases of the calls it
still works on, gives back the ones it will not dial, and a lease that is neither renewed
nor closed by an attempt expires and is reclaimed (a crashed engine's). Opening and closing
the attempts that use a lease is :mod:`dialer.store.attempts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dialer.contacts import transfer
from dialer.errors import NotFound, ValidationError
from dialer.model import CampaignState, Compliance, Contact, DialRefusal, Fence, LeasedContact, Phone
from dialer.store import attempt_sql, eligibility
from dialer.store.campaigns import (
    CAMPAIGN_SELECT,
    campaign_from,
    campaign_id_of,
    check_zone,
    local_day,
    schedule_from,
)
from dialer.store.connection import PoolNoun
from dialer.store.owners import owner_holds
from dialer.store.statuses import campaign_status_row

# A campaign's row (:data:`CAMPAIGN_SELECT`) with its schedule's as one composite column.
_CAMPAIGN_AND_SCHEDULE = CAMPAIGN_SELECT.replace("SELECT c.*,", "SELECT c.*, s AS schedule_row,", 1)


class Contacts(PoolNoun):
    """Contacts, their numbers and their leases on the shared pool."""

    async def add_contact(
        self,
        campaign: str,
        phones: Sequence[str | tuple[str, dict[str, Any]]],
        *,
        name: str = "",
        timezone: str | None = None,
        fields: dict[str, Any] | None = None,
        status: str | None = None,
        priority: int = 0,
        not_before: dt.datetime | None = None,
    ) -> int:
        """Add one contact with already-normalised E.164 numbers; return its id.

        A phone is ``"+48..."`` or ``("+48...", {"kind":, "timezones":, "window_start":,
        "window_end":})``. Bulk loading goes through :mod:`dialer.contacts.importer`.

        Raises:
            ValidationError: no numbers, an unknown time zone or status.
        """
        if not phones:
            raise ValidationError("phone", "a contact needs at least one number")
        if timezone is not None:
            check_zone(timezone, "timezone")
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            if status is None:
                status_id = await conn.fetchval("SELECT default_status_id FROM campaigns WHERE id = $1", cid)
                if status_id is None:
                    raise ValidationError("status", f"campaign {campaign} has no default status")
            else:
                status_id = (await campaign_status_row(conn, cid, status))["id"]
            contact_id = await conn.fetchval(
                """INSERT INTO contacts (campaign_id, name, timezone, fields, status_id, priority, not_before)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
                cid,
                name,
                timezone,
                fields or {},
                status_id,
                priority,
                not_before,
            )
            for pos, phone in enumerate(phones, start=1):
                e164, extra = (phone, {}) if isinstance(phone, str) else phone
                await conn.execute(
                    """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, kind, timezones,
                           window_start, window_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                    contact_id,
                    cid,
                    pos,
                    e164,
                    extra.get("kind", "unknown"),
                    list(extra.get("timezones", ())),
                    extra.get("window_start"),
                    extra.get("window_end"),
                )
            return contact_id

    async def get_contact(self, contact_id: int) -> Contact:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                """SELECT c.*, s.name AS status_name FROM contacts c JOIN statuses s ON s.id = c.status_id
                   WHERE c.id = $1""",
                contact_id,
            )
            if row is None:
                raise NotFound("contact", contact_id)
            phones = await conn.fetch(
                "SELECT * FROM contact_phones WHERE contact_id = $1 ORDER BY position", contact_id
            )
        return Contact(
            id=row["id"],
            campaign_id=row["campaign_id"],
            name=row["name"],
            timezone=row["timezone"],
            fields=row["fields"],
            status=row["status_name"],
            not_before=row["not_before"],
            agent_id=row["agent_id"],
            attempts=row["attempts"],
            priority=row["priority"],
            closed_reason=row["closed_reason"],
            phones=tuple(
                Phone(
                    p["id"],
                    p["position"],
                    p["e164"],
                    p["kind"],
                    tuple(p["timezones"]),
                    p["window_start"],
                    p["window_end"],
                    p["disabled_at"] is not None,
                )
                for p in phones
            ),
        )

    # -- leasing -----------------------------------------------------------------------

    async def lease_contacts(
        self,
        campaign: str | int,
        *,
        at: dt.datetime,
        limit: int,
        owner: str,
        ttl_s: float = 120.0,
        agent_reserved: bool = False,
        agent_ids: Sequence[int] | None = None,
        check_schedule: bool = True,
    ) -> list[LeasedContact]:
        """Lease up to ``limit`` dialable contacts of a running campaign to engine ``owner``.

        Two engines calling this at once never get the same contact (``FOR UPDATE SKIP
        LOCKED``); a lease ends at ``at + ttl_s`` unless renewed. The rules are in
        :mod:`dialer.store.eligibility`. Returns ``[]`` when the campaign is not running or its
        schedule is closed at ``at``. Each lease carries ``dial_until``, the end of the
        contact's current window (the hours, the number's window, the schedule), past which
        it must not be dialled.
        """
        if at.tzinfo is None:
            raise ValidationError("at", "must be timezone-aware", at)
        if limit < 1:
            raise ValidationError("limit", "must be at least 1", limit)
        if ttl_s <= 0:
            raise ValidationError("ttl_s", "must be positive", ttl_s)
        # The campaign and its schedule in one read, then the lease statement, with no transaction
        # around them: a campaign paused or a schedule closed in between is refused at dial time
        # (the dial-time checks), and every lease is one round trip fewer each way.
        where = " WHERE c.id = $1" if isinstance(campaign, int) else " WHERE c.name = $1"
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_CAMPAIGN_AND_SCHEDULE + where, campaign)
            if row is None:
                raise NotFound("campaign", campaign)
            camp = campaign_from(row)
            if camp.state is not CampaignState.RUNNING:
                return []
            sched = schedule_from(row["schedule_row"])
            if check_schedule and (not sched.active or not sched.is_open(at)):
                return []
            return await eligibility.lease(
                conn,
                campaign_id=camp.id,
                at=at,
                limit=limit,
                owner=owner,
                ttl_s=ttl_s,
                agent_reserved=agent_reserved,
                agent_ids=agent_ids,
                local_day=local_day(at, camp.timezone),
                max_attempts=camp.max_attempts,
                max_per_day=camp.max_attempts_per_day,
                uk_locks=camp.compliance is Compliance.UK,
                hours_start=camp.local_hours_start,
                hours_end=camp.local_hours_end,
                timezone=camp.timezone,
                schedule_close=sched.next_close(at) if check_schedule else None,
            )

    async def recheck_before_dial(
        self, lease: LeasedContact, *, at: dt.datetime, agent_reserved: bool
    ) -> DialRefusal | None:
        """Whether ``lease`` may still be dialled at ``at``: the lease's rules once more, one query.

        Between the lease and the Originate the hours may have passed, the number may have been
        listed or its window closed, the caps reached, a UK lock set, the campaign paused or its
        schedule closed (issue 11). Returns the first rule that refuses, None when none does;
        ``agent_reserved`` is whether the call has an agent reserved (the UK locks and "call
        progressive" yield to one, as in the lease). The statement of the dial path's
        :meth:`~dialer.store.attempts.Attempts.open_checked_attempt` with nothing written
        (:func:`dialer.store.attempt_sql.open_checked`).

        Raises:
            ValidationError: ``at`` is naive.
            NotFound: the contact or its number is gone.
        """
        if at.tzinfo is None:
            raise ValidationError("at", "must be timezone-aware", at)
        refusal = await attempt_sql.open_checked(
            self.pool, lease, at=at, agent_reserved=agent_reserved, engine_id=None, write=False
        )
        assert not isinstance(refusal, int)  # nothing written
        return refusal

    async def renew_leases(
        self,
        owner: str,
        contact_ids: Sequence[int],
        *,
        at: dt.datetime,
        ttl_s: float,
        fence: Fence | None = None,
    ) -> list[int]:
        """Extend ``owner``'s leases; returns the ids still held (a lost lease is missing).

        With ``fence`` only while it still holds each contact's campaign: a former owner that
        wakes up after a take-over does not keep its contacts from the new one (unlocked: a
        renewal racing the take-over at worst holds a contact one lease longer).
        """
        rows = await self.pool.fetch(
            f"""UPDATE contacts SET lease_expires_at = $3
               WHERE id = ANY($2::bigint[]) AND lease_owner = $1 AND lease_expires_at > $4
                 AND {owner_holds("campaign_id", "$1", "$5", lock=False)} RETURNING id""",
            owner,
            list(contact_ids),
            at + dt.timedelta(seconds=ttl_s),
            at,
            None if fence is None else fence.token,
        )
        return sorted(r["id"] for r in rows)

    async def release_leases(
        self, owner: str, contact_ids: Sequence[int], *, fence: Fence | None = None
    ) -> int:
        """Give contacts back undialled (the engine changed its mind); returns how many.

        With ``fence`` only while it still holds each contact's campaign, as for renewals: a
        former owner that wakes up after a take-over changes nothing (its leases expire).
        """
        done = await self.pool.execute(
            f"""UPDATE contacts SET lease_owner = NULL, lease_expires_at = NULL
               WHERE id = ANY($2::bigint[]) AND lease_owner = $1
                 AND {owner_holds("campaign_id", "$1", "$3", lock=False)}""",
            owner,
            list(contact_ids),
            None if fence is None else fence.token,
        )
        return int(done.split()[-1])

    async def reclaim_expired_leases(self, at: dt.datetime) -> int:
        """Clear leases that expired before ``at`` (a crashed engine's); returns how many."""
        done = await self.pool.execute(
            "UPDATE contacts SET lease_owner = NULL, lease_expires_at = NULL"
            " WHERE lease_owner IS NOT NULL AND lease_expires_at <= $1",
            at,
        )
        return int(done.split()[-1])

    async def release_own_leases(self, engine_id: str, keep: Sequence[int]) -> int:
        """An engine (re)starting under ``engine_id`` frees its previous run's leases now.

        Only one process runs under an engine id, so every lease it holds at start was its
        previous run's: waiting out their expiry only delays dialling. ``keep``: contacts
        whose call or disposition is still pending (adopted calls, answered holds).
        """
        done = await self.pool.execute(
            "UPDATE contacts SET lease_owner = NULL, lease_expires_at = NULL"
            " WHERE lease_owner = $1 AND NOT (id = ANY($2::bigint[]))",
            engine_id,
            list(keep),
        )
        return int(done.split()[-1])

    # -- bulk operations ---------------------------------------------------------------

    async def count_transfer(
        self, from_campaign: str, status: str, *, at: dt.datetime | None = None
    ) -> transfer.TransferCount:
        """A transfer's first step (seed 001): the records in ``from_campaign`` / ``status``."""
        async with self.pool.acquire() as conn:
            return await transfer.count_matching(conn, from_campaign, status, at)

    async def move_contacts(
        self,
        *,
        from_campaign: str,
        status: str,
        to_campaign: str,
        new_status: str,
        limit: int | None = None,
        at: dt.datetime | None = None,
    ) -> transfer.TransferResult:
        """Contact transfer (seed 001) in one transaction; see :mod:`dialer.contacts.transfer`."""
        async with self.pool.acquire() as conn:
            return await transfer.move_contacts(
                conn,
                from_campaign=from_campaign,
                status=status,
                to_campaign=to_campaign,
                new_status=new_status,
                limit=limit,
                at=at,
            )
