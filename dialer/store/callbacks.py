"""Callbacks: a contact rescheduled for a time, for one agent (personal) or any (campaign).

A pending callback makes its contact due at ``due_at`` (the contact's ``callback_due_at``
is the earliest pending one, kept in step by every write here and by
:meth:`dialer.store.attempts.Attempts.close_attempt`, which marks the callback it dialled
done). A callback may take a place in a slot of the campaign's grid (:mod:`dialer.store.callback_grid`)
and may be for another number, added to the contact with its own contact window.

Rules that hold (issue 13): a callback with a window is leased only inside it
(:mod:`dialer.store.eligibility`) and never dialled past its end (the lease's ``dial_until``);
:meth:`Callbacks.apply_missed_callbacks` applies the campaign's missed-callback rule once the
window has passed; a personal callback counts against its agent's cap per day when the grid
sets one. Every change is kept in ``callback_changes`` by a trigger (migration 018) with the
actor this module sets for the transaction (:func:`act_as`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from dialer.callbacks.grid import MissedRule
from dialer.errors import NotFound, SlotUnavailable, ValidationError
from dialer.model import Callback, CallbackChange, CallbackKind
from dialer.store.callback_grid import book_slot, check_campaign_cap, grid_of, next_free_slot
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun

_SELECT = """
SELECT b.*, p.e164, a.name AS agent_name, c.name AS contact_name
FROM callbacks b JOIN contacts c ON c.id = b.contact_id
LEFT JOIN contact_phones p ON p.id = b.phone_id
LEFT JOIN agents a ON a.id = b.agent_id
"""

_SYNC_CONTACT = """UPDATE contacts SET callback_due_at = (SELECT min(due_at) FROM callbacks
                                                       WHERE contact_id = $1 AND state = 'pending')
                   WHERE id = $1"""

# A personal callback due now, per agent (the first 100 of each), and the callbacks handed from
# an agent to the whole campaign after a time, with the agent they were taken from.
_DUE_FOR_AGENTS = f"""
SELECT * FROM (
    SELECT s.*, row_number() OVER (PARTITION BY s.agent_id ORDER BY s.due_at) AS nth
    FROM ({_SELECT}) s
    WHERE s.agent_name = ANY($1::text[]) AND s.kind = 'personal' AND s.state = 'pending'
      AND s.due_at <= $2 AND (s.window_end_at IS NULL OR s.window_end_at > $2)
) d WHERE d.nth <= 100 ORDER BY d.due_at
"""
_HANDED_FROM_AGENTS = f"""
SELECT h.for_agent, h.changed_at, s.* FROM (
    SELECT ch.callback_id, ag.name AS for_agent, max(ch.changed_at) AS changed_at
    FROM callback_changes ch JOIN agents ag ON ag.id = (ch.before ->> 'agent_id')::bigint
    WHERE ch.action = 'handed_to_campaign' AND ch.changed_at > $2 AND ag.name = ANY($1::text[])
    GROUP BY ch.callback_id, ag.name
) h JOIN ({_SELECT}) s ON s.id = h.callback_id ORDER BY s.due_at
"""

# What one agent's desktop is told: its due callbacks, and (when, callback) of those handed over.
AgentCallbackNotices = tuple[list[Callback], list[tuple[dt.datetime, Callback]]]

# A time this far in the past is a mistake, not clock skew between a browser and the engine.
_PAST_SLACK = dt.timedelta(minutes=5)


def callback_of(row: asyncpg.Record) -> Callback:
    return Callback(
        row["id"],
        row["contact_id"],
        row["campaign_id"],
        CallbackKind(row["kind"]),
        row["agent_id"],
        row["phone_id"],
        row["due_at"],
        row["window_end_at"],
        row["state"],
        source=row["source"],
        slot_id=row["slot_id"],
        e164=row["e164"],
        agent=row["agent_name"],
        contact_name=row["contact_name"],
        requester_name=row["requester_name"],
    )


async def act_as(conn: asyncpg.Connection, actor: str | None, action: str | None = None) -> None:
    """Name who changes callbacks in this transaction (and what for) in their history."""
    await conn.execute(
        "SELECT set_config('dialer.actor', $1, true), set_config('dialer.action', $2, true)",
        actor or "",
        action or "",
    )


async def read_callback(conn: asyncpg.Connection, callback_id: int) -> Callback:
    row = await conn.fetchrow(_SELECT + " WHERE b.id = $1", callback_id)
    if row is None:
        raise NotFound("callback", callback_id)
    return callback_of(row)


async def _phone_for(
    conn: asyncpg.Connection,
    contact: asyncpg.Record,
    phone_position: int | None,
    new_phone: str | None,
    new_phone_window: tuple[dt.time, dt.time] | None,
    new_phone_kind: str | None,
) -> int | None:
    """The number a callback calls: a new one added to the contact, one of its own, or None."""
    if new_phone is not None:
        start, end = new_phone_window or (None, None)
        return await conn.fetchval(
            """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, window_start,
                                         window_end, kind)
               SELECT $1, $2, coalesce(max(position), 0) + 1, $3, $4, $5, coalesce($6, 'unknown')
               FROM contact_phones WHERE contact_id = $1 RETURNING id""",
            contact["id"],
            contact["campaign_id"],
            new_phone,
            start,
            end,
            new_phone_kind,
        )
    if phone_position is not None:
        phone_id = await conn.fetchval(
            "SELECT id FROM contact_phones WHERE contact_id = $1 AND position = $2",
            contact["id"],
            phone_position,
        )
        if phone_id is None:
            raise ValidationError("phone_position", "the contact has no number there", phone_position)
        return phone_id
    return None


def _check_times(
    due_at: dt.datetime, window_end_at: dt.datetime | None, now: dt.datetime, *, new: bool
) -> None:
    if window_end_at is not None and window_end_at <= due_at:
        raise ValidationError("window_end_at", "must be after the due time", window_end_at.isoformat())
    if not new and due_at < now - _PAST_SLACK:
        raise ValidationError("due_at", "is in the past", due_at.isoformat())


async def _take_listed_slot(conn: asyncpg.Connection, slot_id: int, campaign_id: int) -> None:
    """A place in a slot row given by id (a slot added by hand, outside any grid)."""
    slot = await conn.fetchrow(
        "SELECT * FROM callback_slots WHERE id = $1 AND campaign_id = $2 FOR UPDATE", slot_id, campaign_id
    )
    if slot is None:
        raise NotFound("callback slot", slot_id)
    if slot["closed"] or (slot["capacity"] is not None and slot["booked"] >= slot["capacity"]):
        raise SlotUnavailable("slot", "closed or full", slot_id)


async def retry_in_window(
    conn: asyncpg.Connection, callback_id: int, campaign_id: int, at: dt.datetime
) -> bool:
    """After a callback's call ended without a connect at ``at``: under the missed rule ``retry``
    the callback stays pending, due again after the grid's retry delay, while that is still
    inside its window. Called by ``close_attempt`` in its transaction; True when it was kept."""
    grid = await grid_of(conn, campaign_id)
    if grid is None or grid[0].missed_rule is not MissedRule.RETRY:
        return False
    again = at + dt.timedelta(seconds=grid[0].retry_delay_s)
    await act_as(conn, "engine", "retry_in_window")
    contact_id = await conn.fetchval(
        "UPDATE callbacks SET state = 'pending', due_at = $2"
        " WHERE id = $1 AND state = 'done' AND window_end_at > $2 RETURNING contact_id",
        callback_id,
        again,
    )
    if contact_id is None:
        return False
    await conn.execute(_SYNC_CONTACT, contact_id)
    return True


class Callbacks(PoolNoun):
    """Callbacks and callback slots on the shared pool."""

    async def schedule_callback(
        self,
        contact_id: int,
        *,
        due_at: dt.datetime | None = None,
        kind: CallbackKind = CallbackKind.CAMPAIGN,
        agent_id: int | None = None,
        window_end_at: dt.datetime | None = None,
        phone_position: int | None = None,
        new_phone: str | None = None,
        new_phone_window: tuple[dt.time, dt.time] | None = None,
        new_phone_kind: str | None = None,
        slot_id: int | None = None,
        slot_at: dt.datetime | None = None,
        source: str = "agent",
        actor: str | None = None,
        requester_name: str | None = None,
        consent_text: str | None = None,
        at: dt.datetime | None = None,
        release_lease: bool = False,
    ) -> Callback:
        """Reschedule a contact as a callback (seed 003), optionally to a new number.

        A personal callback goes only to ``agent_id``; a campaign callback to any agent. A
        new number is added to the contact with its own contact window. ``slot_at`` books a
        place in the grid's slot starting then (its start is the due time, its end the
        window's end); ``at`` is now (default: the database's clock). ``release_lease``: the
        contact's lease ends with the callback's booking (an agent's disposition kept it
        until now: :meth:`~dialer.store.attempts.Attempts.set_disposition`).

        Raises:
            ValidationError: a personal callback without an agent, no time, a window ending
                before it starts, the agent's personal cap reached.
            SlotUnavailable: the slot is not on the grid, past, closed or full.
        """
        if kind is CallbackKind.PERSONAL and agent_id is None:
            raise ValidationError("agent", "a personal callback needs its agent")
        if due_at is None and slot_at is None:
            raise ValidationError("due_at", "give the callback's time or a slot of the grid")
        now = at or dt.datetime.now(dt.UTC)
        personal = agent_id if kind is CallbackKind.PERSONAL else None
        async with self.pool.acquire() as conn, conn.transaction():
            await act_as(conn, actor or source)
            c = await conn.fetchrow("SELECT * FROM contacts WHERE id = $1 FOR UPDATE", contact_id)
            if c is None:
                raise NotFound("contact", contact_id)
            if slot_at is not None:
                slot_id, slot = await book_slot(
                    conn, c["campaign_id"], slot_at, now, personal_agent_id=personal
                )
                due_at, window_end_at = slot.starts_at, slot.ends_at
            else:
                assert due_at is not None
                _check_times(due_at, window_end_at, now, new=True)
                if slot_id is not None:
                    await _take_listed_slot(conn, slot_id, c["campaign_id"])
                if personal is not None:
                    await check_campaign_cap(conn, c["campaign_id"], personal, due_at)
            phone_id = await _phone_for(conn, c, phone_position, new_phone, new_phone_window, new_phone_kind)
            cb_id = await conn.fetchval(
                """INSERT INTO callbacks (contact_id, campaign_id, kind, source, agent_id, phone_id, slot_id,
                       due_at, window_end_at, requester_name, consent_text)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id""",
                contact_id,
                c["campaign_id"],
                kind.value,
                source,
                agent_id,
                phone_id,
                slot_id,
                due_at,
                window_end_at,
                requester_name,
                consent_text,
            )
            await conn.execute(_SYNC_CONTACT, contact_id)
            if personal is not None or release_lease:
                await conn.execute(
                    "UPDATE contacts SET agent_id = coalesce($2, agent_id),"
                    " lease_owner = CASE WHEN $3 THEN NULL ELSE lease_owner END,"
                    " lease_expires_at = CASE WHEN $3 THEN NULL ELSE lease_expires_at END"
                    " WHERE id = $1",
                    contact_id,
                    personal,
                    release_lease,
                )
            return await read_callback(conn, cb_id)

    async def reschedule_callback(
        self,
        callback_id: int,
        *,
        due_at: dt.datetime | None = None,
        window_end_at: dt.datetime | None = None,
        slot_at: dt.datetime | None = None,
        kind: CallbackKind | None = None,
        agent_id: int | None = None,
        phone_position: int | None = None,
        new_phone: str | None = None,
        new_phone_window: tuple[dt.time, dt.time] | None = None,
        new_phone_kind: str | None = None,
        actor: str | None = None,
        at: dt.datetime | None = None,
    ) -> Callback:
        """Move a pending callback (all three kinds, seed 003): a new slot, or a new date with
        its from-to (``due_at``, ``window_end_at``), and/or another number or kind. The same
        rules as booking; the old slot's place is freed; the change goes into the history.

        Raises:
            NotFound: no pending callback ``callback_id``.
            ValidationError / SlotUnavailable: as :meth:`schedule_callback`; a time in the past.
        """
        now = at or dt.datetime.now(dt.UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            await act_as(conn, actor, "rescheduled")
            contact_id = await conn.fetchval("SELECT contact_id FROM callbacks WHERE id = $1", callback_id)
            c = await conn.fetchrow("SELECT * FROM contacts WHERE id = $1 FOR UPDATE", contact_id)
            old = await conn.fetchrow(
                "SELECT * FROM callbacks WHERE id = $1 AND state = 'pending' FOR UPDATE", callback_id
            )
            if c is None or old is None:
                raise NotFound("pending callback", callback_id)
            new_kind = kind or CallbackKind(old["kind"])
            new_agent = agent_id if agent_id is not None else old["agent_id"]
            if new_kind is CallbackKind.PERSONAL and new_agent is None:
                raise ValidationError("agent", "a personal callback needs its agent")
            personal = new_agent if new_kind is CallbackKind.PERSONAL else None
            slot_id = old["slot_id"]
            new_due, new_end = old["due_at"], old["window_end_at"]
            same_slot = (
                slot_at is not None
                and slot_id is not None
                and slot_at
                == await conn.fetchval("SELECT starts_at FROM callback_slots WHERE id = $1", slot_id)
            )
            if slot_at is not None and not same_slot:
                slot_id, slot = await book_slot(
                    conn, c["campaign_id"], slot_at, now, personal_agent_id=personal, moving=callback_id
                )
                new_due, new_end = slot.starts_at, slot.ends_at
            elif due_at is not None:
                _check_times(due_at, window_end_at, now, new=False)
                slot_id, new_due, new_end = None, due_at, window_end_at
                if personal is not None:
                    await check_campaign_cap(conn, c["campaign_id"], personal, due_at, moving=callback_id)
            elif window_end_at is not None:
                raise ValidationError("due_at", "give the new time with its window end")
            phone_id = await _phone_for(conn, c, phone_position, new_phone, new_phone_window, new_phone_kind)
            await conn.execute(
                """UPDATE callbacks SET kind = $2, agent_id = $3, slot_id = $4, due_at = $5,
                       window_end_at = $6,
                       phone_id = coalesce($7, phone_id)
                   WHERE id = $1""",
                callback_id,
                new_kind.value,
                personal,
                slot_id,
                new_due,
                new_end,
                phone_id,
            )
            await conn.execute(_SYNC_CONTACT, contact_id)
            await conn.execute(
                "UPDATE contacts SET agent_id = $2 WHERE id = $1 AND ($2::bigint IS NOT NULL OR $3)",
                contact_id,
                personal,
                old["kind"] == "personal" and personal is None,
            )
            return await read_callback(conn, callback_id)

    async def get_callback(self, callback_id: int) -> Callback:
        async with self.pool.acquire() as conn:
            return await read_callback(conn, callback_id)

    async def contact_callbacks(self, contact_id: int) -> list[Callback]:
        """The contact's pending callbacks by due time (the agent's screen pop shows them)."""
        rows = await self.pool.fetch(
            _SELECT + " WHERE b.contact_id = $1 AND b.state = 'pending' ORDER BY b.due_at, b.id", contact_id
        )
        return [callback_of(r) for r in rows]

    async def list_callbacks(
        self,
        campaign: str,
        *,
        state: str | None = "pending",
        agent: str | None = None,
        source: str | None = None,
        limit: int = 500,
    ) -> list[Callback]:
        """A campaign's callbacks by due time (``state`` None: every state); ``agent``: its personal ones."""
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            rows = await conn.fetch(
                _SELECT
                + """ WHERE b.campaign_id = $1 AND ($2::text IS NULL OR b.state = $2)
                      AND ($3::text IS NULL OR a.name = $3) AND ($4::text IS NULL OR b.source = $4)
                      ORDER BY b.due_at, b.id LIMIT $5""",
                cid,
                state,
                agent,
                source,
                limit,
            )
        return [callback_of(r) for r in rows]

    async def agents_callback_notices(
        self, agents: Sequence[str], at: dt.datetime, since: dt.datetime
    ) -> dict[str, AgentCallbackNotices]:
        """What the desktops of ``agents`` are told (issue 13), in one round trip for them all:
        per agent, its personal callbacks due now (inside their window, at most 100), and those
        handed to the campaign after ``since`` (the agent was away) with when that happened, so
        that each event stream keeps only the ones after it opened."""
        out: dict[str, AgentCallbackNotices] = {a: ([], []) for a in agents}
        if not out:
            return out
        names = list(out)
        async with self.pool.acquire() as conn:
            due = await conn.fetch(_DUE_FOR_AGENTS, names, at)
            handed = await conn.fetch(_HANDED_FROM_AGENTS, names, since)
        for r in due:
            out[r["agent_name"]][0].append(callback_of(r))
        for r in handed:
            out[r["for_agent"]][1].append((r["changed_at"], callback_of(r)))
        return out

    async def callback_history(self, callback_id: int) -> list[CallbackChange]:
        """Every change of the callback, oldest first (who, when, from what to what)."""
        async with self.pool.acquire() as conn:
            await read_callback(conn, callback_id)
            rows = await conn.fetch(
                "SELECT * FROM callback_changes WHERE callback_id = $1 ORDER BY id", callback_id
            )
        return [
            CallbackChange(
                r["callback_id"], r["changed_at"], r["actor"], r["action"], r["before"], r["after"]
            )
            for r in rows
        ]

    async def apply_missed_callbacks(self, campaign_id: int, at: dt.datetime) -> int:
        """Apply the campaign's missed-callback rule to its callbacks whose window has passed.

        ``next_slot`` moves a callback to the grid's next slot with room (and hands it to the
        campaign when there is none); ``campaign`` and ``retry`` (whose retries inside the
        window :func:`retry_in_window` made) hand the contact back to the campaign's ordinary
        dialling (the callback becomes ``missed``, a personal one's
        contact no longer belongs to its agent). A contact leased right now is left for the
        next pass: its call started inside the window. Returns how many callbacks were handled.
        """
        async with self.pool.acquire() as conn:
            grid = await grid_of(conn, campaign_id)
            rule = grid[0].missed_rule if grid is not None else MissedRule.CAMPAIGN
            rows = await conn.fetch(
                """SELECT b.id, b.contact_id FROM callbacks b JOIN contacts c ON c.id = b.contact_id
                   WHERE b.campaign_id = $1 AND b.state = 'pending' AND b.window_end_at <= $2
                     AND (c.lease_owner IS NULL OR c.lease_expires_at <= $2)
                   ORDER BY b.window_end_at LIMIT 500""",
                campaign_id,
                at,
            )
            for r in rows:
                async with conn.transaction():
                    await self._missed(conn, r["id"], r["contact_id"], campaign_id, rule, at)
        return len(rows)

    @staticmethod
    async def _missed(
        conn: asyncpg.Connection,
        callback_id: int,
        contact_id: int,
        campaign_id: int,
        rule: MissedRule,
        at: dt.datetime,
    ) -> None:
        await conn.execute("SELECT id FROM contacts WHERE id = $1 FOR UPDATE", contact_id)
        cb = await conn.fetchrow(
            "SELECT * FROM callbacks WHERE id = $1 AND state = 'pending' AND window_end_at <= $2 FOR UPDATE",
            callback_id,
            at,
        )
        if cb is None:
            return  # dialled or moved meanwhile
        if rule is MissedRule.NEXT_SLOT:
            starts = await next_free_slot(conn, campaign_id, at)
            if starts is not None:
                personal = cb["agent_id"] if cb["kind"] == "personal" else None
                try:
                    slot_id, slot = await book_slot(
                        conn, campaign_id, starts, at, personal_agent_id=personal, moving=callback_id
                    )
                except (SlotUnavailable, ValidationError):
                    slot_id = None
                if slot_id is not None:
                    await act_as(conn, "engine", "moved_to_next_slot")
                    await conn.execute(
                        "UPDATE callbacks SET slot_id = $2, due_at = $3, window_end_at = $4 WHERE id = $1",
                        callback_id,
                        slot_id,
                        slot.starts_at,
                        slot.ends_at,
                    )
                    await conn.execute(_SYNC_CONTACT, contact_id)
                    return
        await act_as(conn, "engine", "missed")
        await conn.execute("UPDATE callbacks SET state = 'missed' WHERE id = $1", callback_id)
        await conn.execute(_SYNC_CONTACT, contact_id)
        if cb["kind"] == "personal":
            await conn.execute("UPDATE contacts SET agent_id = NULL WHERE id = $1", contact_id)

    async def convert_to_campaign_callback(self, contact_id: int) -> bool:
        """Hand a contact's pending personal callbacks to any agent of the campaign, durably.

        Used once an absent agent's grace has passed (issue 5): the callback rows become
        campaign ones and the contact no longer belongs to the agent, so a restart does not
        send it back to them. Returns False when
        no personal callback was pending (a "my record" contact without a callback row is
        left to its agent: without the row nothing would make it dialable to others).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            await act_as(conn, "engine", "handed_to_campaign")
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

    async def cancel_callback(self, callback_id: int, *, actor: str | None = None) -> None:
        """Cancel a pending callback (its slot's place is freed; kept in the history).

        Raises:
            NotFound: no pending callback ``callback_id``.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            await act_as(conn, actor, "cancelled")
            cid = await conn.fetchval(
                "UPDATE callbacks SET state = 'cancelled'"
                " WHERE id = $1 AND state = 'pending' RETURNING contact_id",
                callback_id,
            )
            if cid is None:
                raise NotFound("pending callback", callback_id)
            await conn.execute(_SYNC_CONTACT, cid)

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
