"""Callbacks: a contact rescheduled for a time, for one agent (personal) or any (campaign).

A pending callback makes its contact due at ``due_at`` (the contact's ``callback_due_at``
is the earliest pending one, kept in step by every write here and by
:meth:`dialer.store.attempts.Attempts.close_attempt`, which marks the callback it dialled
done). A callback may take a place in a callback slot (a time range with a capacity) and
may be for another number, added to the contact with its own contact window.
"""

from __future__ import annotations

import datetime as dt

from dialer.errors import NotFound, SlotUnavailable, ValidationError
from dialer.model import Callback, CallbackKind
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun


class Callbacks(PoolNoun):
    """Callbacks and callback slots on the shared pool."""

    async def schedule_callback(
        self,
        contact_id: int,
        *,
        due_at: dt.datetime,
        kind: CallbackKind = CallbackKind.CAMPAIGN,
        agent_id: int | None = None,
        window_end_at: dt.datetime | None = None,
        phone_position: int | None = None,
        new_phone: str | None = None,
        new_phone_window: tuple[dt.time, dt.time] | None = None,
        new_phone_kind: str | None = None,
        slot_id: int | None = None,
        source: str = "agent",
    ) -> Callback:
        """Reschedule a contact as a callback (seed 003), optionally to a new number.

        A personal callback goes only to ``agent_id``; a campaign callback to any agent. A
        new number is added to the contact with its own contact window.

        Raises:
            ValidationError: a personal callback without an agent, or a window ending before it starts.
            SlotUnavailable: the slot is closed or full.
        """
        if kind is CallbackKind.PERSONAL and agent_id is None:
            raise ValidationError("agent", "a personal callback needs its agent")
        if window_end_at is not None and window_end_at <= due_at:
            raise ValidationError("window_end_at", "must be after the due time", window_end_at)
        async with self.pool.acquire() as conn, conn.transaction():
            c = await conn.fetchrow("SELECT * FROM contacts WHERE id = $1 FOR UPDATE", contact_id)
            if c is None:
                raise NotFound("contact", contact_id)
            if slot_id is not None:
                slot = await conn.fetchrow(
                    "SELECT * FROM callback_slots WHERE id = $1 AND campaign_id = $2 FOR UPDATE",
                    slot_id,
                    c["campaign_id"],
                )
                if slot is None:
                    raise NotFound("callback slot", slot_id)
                taken = await conn.fetchval(
                    "SELECT count(*) FROM callbacks WHERE slot_id = $1 AND state = 'pending'", slot_id
                )
                if slot["closed"] or taken >= slot["capacity"]:
                    raise SlotUnavailable("slot", "closed or full", slot_id)
            phone_id = None
            if new_phone is not None:
                start, end = new_phone_window or (None, None)
                phone_id = await conn.fetchval(
                    """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, window_start,
                                                 window_end, kind)
                       SELECT $1, $2, coalesce(max(position), 0) + 1, $3, $4, $5, coalesce($6, 'unknown')
                       FROM contact_phones WHERE contact_id = $1 RETURNING id""",
                    contact_id,
                    c["campaign_id"],
                    new_phone,
                    start,
                    end,
                    new_phone_kind,
                )
            elif phone_position is not None:
                phone_id = await conn.fetchval(
                    "SELECT id FROM contact_phones WHERE contact_id = $1 AND position = $2",
                    contact_id,
                    phone_position,
                )
                if phone_id is None:
                    raise ValidationError("phone_position", "the contact has no number there", phone_position)
            row = await conn.fetchrow(
                """INSERT INTO callbacks (contact_id, campaign_id, kind, source, agent_id, phone_id, slot_id,
                       due_at, window_end_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *""",
                contact_id,
                c["campaign_id"],
                kind.value,
                source,
                agent_id,
                phone_id,
                slot_id,
                due_at,
                window_end_at,
            )
            await conn.execute(
                """UPDATE contacts SET callback_due_at = (SELECT min(due_at) FROM callbacks
                                                         WHERE contact_id = $1 AND state = 'pending'),
                       agent_id = CASE WHEN $2::bigint IS NOT NULL THEN $2 ELSE agent_id END
                   WHERE id = $1""",
                contact_id,
                agent_id if kind is CallbackKind.PERSONAL else None,
            )
            return Callback(
                row["id"],
                contact_id,
                c["campaign_id"],
                kind,
                agent_id,
                phone_id,
                due_at,
                window_end_at,
                row["state"],
            )

    async def convert_to_campaign_callback(self, contact_id: int) -> bool:
        """Hand a contact's pending personal callbacks to any agent of the campaign, durably.

        Used once an absent agent's grace has passed (issue 5): the callback rows become
        campaign ones and the contact no longer belongs to the agent, so a restart does not
        send it back to them. Returns False when
        no personal callback was pending (a "my record" contact without a callback row is
        left to its agent: without the row nothing would make it dialable to others).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            c = await conn.fetchrow("SELECT id FROM contacts WHERE id = $1 FOR UPDATE", contact_id)
            if c is None:
                raise NotFound("contact", contact_id)
            converted = await conn.execute(
                "UPDATE callbacks SET kind = 'campaign', agent_id = NULL"
                " WHERE contact_id = $1 AND state = 'pending' AND kind = 'personal'",
                contact_id,
            )
            if int(converted.split()[-1]) == 0:
                return False
            await conn.execute("UPDATE contacts SET agent_id = NULL WHERE id = $1", contact_id)
            return True

    async def cancel_callback(self, callback_id: int) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await conn.fetchval(
                "UPDATE callbacks SET state = 'cancelled'"
                " WHERE id = $1 AND state = 'pending' RETURNING contact_id",
                callback_id,
            )
            if cid is None:
                raise NotFound("pending callback", callback_id)
            await conn.execute(
                """UPDATE contacts SET callback_due_at = (SELECT min(due_at) FROM callbacks
                                                         WHERE contact_id = $1 AND state = 'pending')
                   WHERE id = $1""",
                cid,
            )

    async def add_callback_slot(
        self, campaign: str, starts_at: dt.datetime, ends_at: dt.datetime, capacity: int
    ) -> int:
        if ends_at <= starts_at:
            raise ValidationError("ends_at", "must be after starts_at", ends_at)
        if capacity < 0:
            raise ValidationError("capacity", "must not be negative", capacity)
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            return await conn.fetchval(
                "INSERT INTO callback_slots (campaign_id, starts_at, ends_at, capacity)"
                " VALUES ($1, $2, $3, $4)"
                " RETURNING id",
                cid,
                starts_at,
                ends_at,
                capacity,
            )
