"""The callback slot grid in PostgreSQL: a campaign's grid, the grid query, booking a place.

Theory of operation: the slots themselves are computed (:mod:`dialer.callbacks.grid`) from
the grid's schedule; a ``callback_slots`` row exists only for a slot something was booked in
(or that was closed by hand) and carries ``booked``, the pending and done callbacks in it,
which a trigger of migration 018 keeps in step with every write to ``callbacks``. So the grid
query for a month reads at most one row per slot of the month (index ``(campaign_id,
starts_at)``), however many callbacks are booked.

Booking is atomic (:func:`book_slot`): the slot's row is created or locked by one ``INSERT
... ON CONFLICT DO UPDATE`` (which waits for a concurrent booker and then sees its count),
the count is checked and the callback inserted in the caller's transaction; two agents
booking the last place at once -- one wins, the other gets :class:`~dialer.errors.SlotUnavailable`
("full"). The per-agent cap of personal callbacks per day takes a transaction-scoped advisory
lock on the agent, so the same agent booking twice at once cannot pass it either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from dialer.callbacks.grid import (
    NEXT_SLOT_HORIZON_DAYS,
    GridSpec,
    MissedRule,
    Slot,
    SlotState,
    SlotView,
    day_range,
    find_slot,
    grid_views,
    slot_state,
    slots_between,
    zone_named,
)
from dialer.contacts.phone import check_region
from dialer.errors import NotFound, SlotUnavailable, ValidationError
from dialer.store.campaigns import campaign_id_of, schedule_from
from dialer.store.connection import PoolNoun

# $1 campaign id. The grid, its schedule's columns, and the campaign's active agents.
_GRID_SQL = """
SELECT s.*, g.slot_min, g.capacity AS grid_capacity, g.closed_dates, g.missed_rule, g.retry_delay_s,
       g.personal_cap_per_day, g.regions,
       (SELECT count(*) FROM campaign_agents ca JOIN agents a ON a.id = ca.agent_id AND a.active
        WHERE ca.campaign_id = g.campaign_id) AS agents
FROM callback_grids g JOIN schedules s ON s.id = g.schedule_id
WHERE g.campaign_id = $1
"""

# $1 campaign id, $2 from, $3 to: the slot rows starting in [from, to).
_SLOT_ROWS_SQL = """SELECT starts_at, capacity, booked, closed FROM callback_slots
WHERE campaign_id = $1 AND starts_at >= $2 AND starts_at < $3"""

# Advisory lock class for "one agent's personal callbacks" (with the agent id as the key).
_AGENT_LOCK = 1313


def _spec(row: asyncpg.Record) -> GridSpec:
    return GridSpec(
        schedule=schedule_from(row),
        slot_min=row["slot_min"],
        capacity=row["grid_capacity"],
        closed_dates=frozenset(row["closed_dates"]),
        missed_rule=MissedRule(row["missed_rule"]),
        retry_delay_s=row["retry_delay_s"],
        personal_cap_per_day=row["personal_cap_per_day"],
        regions=frozenset(row["regions"]),
    )


async def grid_of(conn: asyncpg.Connection, campaign_id: int) -> tuple[GridSpec, int] | None:
    """The campaign's grid and its default capacity (the grid's, else its active agents)."""
    row = await conn.fetchrow(_GRID_SQL, campaign_id)
    if row is None:
        return None
    spec = _spec(row)
    return spec, spec.capacity if spec.capacity is not None else int(row["agents"])


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


async def book_slot(
    conn: asyncpg.Connection,
    campaign_id: int,
    starts_at: dt.datetime,
    now: dt.datetime,
    *,
    personal_agent_id: int | None = None,
    moving: int | None = None,
) -> tuple[int, Slot]:
    """Take a place in the grid's slot starting at ``starts_at``; the caller inserts the callback
    with the returned slot id in the same transaction (the trigger counts it). ``moving``: the
    callback being moved here, which the personal cap does not count twice.

    Raises:
        ValidationError: the campaign has no grid; the agent's personal cap for that day is reached.
        SlotUnavailable: no slot starts there, or it is past, closed or full.
    """
    found = await grid_of(conn, campaign_id)
    if found is None:
        raise ValidationError("slot", "the campaign has no callback grid (define one first)")
    spec, default_capacity = found
    slot = find_slot(spec, starts_at)
    if slot is None:
        raise SlotUnavailable("slot", "no slot of the campaign's grid starts then", _iso(starts_at))
    row = await conn.fetchrow(
        """INSERT INTO callback_slots (campaign_id, starts_at, ends_at, capacity) VALUES ($1, $2, $3, NULL)
           ON CONFLICT (campaign_id, starts_at) DO UPDATE SET ends_at = callback_slots.ends_at
           RETURNING id, capacity, booked, closed""",
        campaign_id,
        slot.starts_at,
        slot.ends_at,
    )
    capacity = row["capacity"] if row["capacity"] is not None else default_capacity
    state, _ = slot_state(spec, slot, now=now, capacity=capacity, booked=row["booked"], closed=row["closed"])
    if state is not SlotState.AVAILABLE:
        why = {
            SlotState.PAST: "the slot is in the past",
            SlotState.CLOSED: "the slot is closed",
            SlotState.FULL: "the slot is full: no place left",
        }[state]
        raise SlotUnavailable("slot", why, _iso(starts_at))
    if personal_agent_id is not None and spec.personal_cap_per_day is not None:
        await check_personal_cap(conn, spec, personal_agent_id, slot.starts_at, moving=moving)
    return row["id"], slot


async def check_personal_cap(
    conn: asyncpg.Connection, spec: GridSpec, agent_id: int, due_at: dt.datetime, *, moving: int | None = None
) -> None:
    """Refuse one more personal callback of the agent on ``due_at``'s local day past the cap."""
    if spec.personal_cap_per_day is None:
        return
    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _AGENT_LOCK, agent_id)
    day = spec.local_date(due_at)
    lo, hi = day_range(day, day, spec.zone)
    taken = await conn.fetchval(
        "SELECT count(*) FROM callbacks WHERE agent_id = $1 AND kind = 'personal' AND state = 'pending'"
        " AND due_at >= $2 AND due_at < $3 AND id IS DISTINCT FROM $4",
        agent_id,
        lo,
        hi,
        moving,
    )
    if taken >= spec.personal_cap_per_day:
        raise ValidationError(
            "agent",
            f"already has {taken} personal callbacks on {day.isoformat()},"
            " the campaign's cap per agent and day",
        )


async def check_campaign_cap(
    conn: asyncpg.Connection,
    campaign_id: int,
    agent_id: int,
    due_at: dt.datetime,
    *,
    moving: int | None = None,
) -> None:
    """:func:`check_personal_cap` for a callback outside any slot, when the campaign has a grid."""
    found = await grid_of(conn, campaign_id)
    if found is not None:
        await check_personal_cap(conn, found[0], agent_id, due_at, moving=moving)


async def next_free_slot(
    conn: asyncpg.Connection, campaign_id: int, after: dt.datetime
) -> dt.datetime | None:
    """The start of the first slot starting at or after ``after`` with a place left (None: none
    within :data:`~dialer.callbacks.grid.NEXT_SLOT_HORIZON_DAYS`)."""
    found = await grid_of(conn, campaign_id)
    if found is None:
        return None
    spec, default_capacity = found
    end = after + dt.timedelta(days=NEXT_SLOT_HORIZON_DAYS)
    rows = await _slot_rows(conn, campaign_id, after, end)
    for slot in slots_between(spec, after, end):
        capacity, booked, closed = _counts(rows.get(slot.starts_at), default_capacity)
        state, _ = slot_state(spec, slot, now=after, capacity=capacity, booked=booked, closed=closed)
        if state is SlotState.AVAILABLE:
            return slot.starts_at
    return None


async def _slot_rows(
    conn: asyncpg.Connection, campaign_id: int, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, asyncpg.Record]:
    rows = await conn.fetch(_SLOT_ROWS_SQL, campaign_id, start, end)
    return {r["starts_at"]: r for r in rows}


def _counts(row: asyncpg.Record | None, default_capacity: int) -> tuple[int, int, bool]:
    if row is None:
        return default_capacity, 0, False
    capacity = row["capacity"] if row["capacity"] is not None else default_capacity
    return capacity, row["booked"], row["closed"]


class CallbackGrids(PoolNoun):
    """Campaigns' callback grids and the grid query on the shared pool."""

    async def define_callback_grid(
        self,
        campaign: str,
        *,
        schedule: str,
        slot_min: int,
        capacity: int | None = None,
        closed_dates: Sequence[dt.date] = (),
        missed_rule: MissedRule | str = MissedRule.CAMPAIGN,
        retry_delay_s: int = 600,
        personal_cap_per_day: int | None = None,
        regions: Sequence[str] = (),
    ) -> GridSpec:
        """Create or replace a campaign's grid. Booked callbacks keep their slots.

        Raises:
            NotFound: no such campaign or schedule.
            ValidationError: a value breaks the grid's rules (:class:`~dialer.callbacks.grid.GridSpec`).
        """
        try:
            rule = MissedRule(missed_rule)
        except ValueError:
            raise ValidationError(
                "missed_rule", "must be one of " + ", ".join(r.value for r in MissedRule), missed_rule
            ) from None
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            srow = await conn.fetchrow("SELECT * FROM schedules WHERE name = $1", schedule)
            if srow is None:
                raise NotFound("schedule", schedule)
            spec = GridSpec(
                schedule=schedule_from(srow),
                slot_min=slot_min,
                capacity=capacity,
                closed_dates=frozenset(closed_dates),
                missed_rule=rule,
                retry_delay_s=retry_delay_s,
                personal_cap_per_day=personal_cap_per_day,
                regions=frozenset(check_region(r) for r in regions),
            )
            await conn.execute(
                """INSERT INTO callback_grids (campaign_id, schedule_id, slot_min, capacity, closed_dates,
                       missed_rule, retry_delay_s, personal_cap_per_day, regions)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (campaign_id) DO UPDATE SET schedule_id = EXCLUDED.schedule_id,
                       slot_min = EXCLUDED.slot_min, capacity = EXCLUDED.capacity,
                       closed_dates = EXCLUDED.closed_dates, missed_rule = EXCLUDED.missed_rule,
                       retry_delay_s = EXCLUDED.retry_delay_s,
                       personal_cap_per_day = EXCLUDED.personal_cap_per_day, regions = EXCLUDED.regions""",
                cid,
                srow["id"],
                slot_min,
                capacity,
                sorted(spec.closed_dates),
                rule.value,
                retry_delay_s,
                personal_cap_per_day,
                sorted(spec.regions),
            )
            return spec

    async def get_callback_grid(self, campaign: str) -> GridSpec:
        """Raises: NotFound: no such campaign, or it has no grid."""
        async with self.pool.acquire() as conn:
            found = await grid_of(conn, await campaign_id_of(conn, campaign))
        if found is None:
            raise NotFound("callback grid", campaign)
        return found[0]

    async def callback_grid(
        self, campaign: str, first: dt.date, last: dt.date, timezone: str, *, at: dt.datetime
    ) -> list[SlotView]:
        """The grid's slots from local date ``first`` to ``last`` in ``timezone``, each with its
        state and the places left, as of ``at``.

        Raises:
            NotFound: no such campaign or no grid. ValidationError: a bad zone or date range.
        """
        zone = zone_named(timezone)
        start, end = day_range(first, last, zone)
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            found = await grid_of(conn, cid)
            if found is None:
                raise NotFound("callback grid", campaign)
            spec, default_capacity = found
            rows = await conn.fetch(_SLOT_ROWS_SQL, cid, start, end)
        # one dict straight from the rows, by position (the month's 1,440 rows: no second dict)
        counts = {r[0]: (r[1], r[2], r[3]) for r in rows}
        return grid_views(spec, start, end, zone, now=at, default_capacity=default_capacity, counts=counts)

    async def close_callback_slot(self, campaign: str, starts_at: dt.datetime, closed: bool = True) -> None:
        """Close (or reopen) one slot of the grid by hand; its booked callbacks stay.

        Raises:
            NotFound: no campaign or grid. SlotUnavailable: no slot starts then.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            found = await grid_of(conn, cid)
            if found is None:
                raise NotFound("callback grid", campaign)
            slot = find_slot(found[0], starts_at)
            if slot is None:
                raise SlotUnavailable("slot", "no slot of the campaign's grid starts then", _iso(starts_at))
            await conn.execute(
                """INSERT INTO callback_slots (campaign_id, starts_at, ends_at, capacity, closed)
                   VALUES ($1, $2, $3, NULL, $4)
                   ON CONFLICT (campaign_id, starts_at) DO UPDATE SET closed = EXCLUDED.closed""",
                cid,
                slot.starts_at,
                slot.ends_at,
                closed,
            )
