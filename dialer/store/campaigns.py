"""Campaigns and the schedules they dial in: the definition of what to call, and when.

A campaign row names its schedule (the calling window, a from-to schedule) and its default
status; creating one links every active auto-add dictionary status to it (see
:mod:`dialer.store.statuses` for the statuses themselves). The module also holds the
helpers the other nouns read a campaign with: :func:`campaign_id_of` (the lookup by name
inside the caller's transaction), :data:`CAMPAIGN_SELECT` with :func:`campaign_from`,
:func:`schedule_from`, :func:`check_zone` and :func:`local_day`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from dialer.campaign.rules import (
    check_campaign,
    check_default_disposition,
    check_schedule_opens,
    check_servers,
)
from dialer.errors import InUse, NotFound, ValidationError
from dialer.model import (
    ANSWERED_NO_DISPOSITION,
    AmdAction,
    Campaign,
    CampaignSpec,
    CampaignState,
    CampaignSummary,
    Compliance,
    DialingMode,
    SystemStatus,
)
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.connection import PoolNoun


def check_zone(name: str, field: str) -> ZoneInfo:
    """The zone called ``name``; schedules, campaigns and contacts check theirs with it.

    Raises:
        ValidationError: naming ``field``, when there is no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe", a directory
        raise ValidationError(field, "unknown time zone", name) from None


def validate_campaign(spec: CampaignSpec) -> CampaignSpec:
    """Check a campaign definition before it reaches the database (:func:`check_campaign`).

    Returns the definition as stored (its caller ID in E.164, its queue named, by default after
    the campaign).

    Raises:
        ValidationError: naming the first wrong field and the rule.
    """
    spec = check_campaign(spec)
    check_zone(spec.timezone, "timezone")
    if not spec.queue:  # the queue the dialplan falls back to, so agents join the one calls go to
        spec = replace(spec, queue=spec.name)
    return spec


def local_day(at: dt.datetime, timezone: str) -> dt.date:
    """The calendar day of ``at`` in the campaign's zone (the per-day cap counts these)."""
    return at.astimezone(ZoneInfo(timezone)).date()


CAMPAIGN_SELECT = """
SELECT c.*, s.name AS schedule_name, st.name AS default_status_name, dd.name AS default_disposition_name
FROM campaigns c JOIN schedules s ON s.id = c.schedule_id
LEFT JOIN statuses st ON st.id = c.default_status_id
LEFT JOIN statuses dd ON dd.id = c.default_disposition_id
"""

# The columns a campaign's settings are written to, in CampaignSpec's order ($2..).
_SETTINGS = (
    "mode", "caller_id", "queue", "ring_timeout_s", "compliance", "abandon_cap", "local_hours_start",
    "local_hours_end", "timezone", "priority", "max_attempts", "max_attempts_per_day", "amd", "amd_action",
    "amd_message", "amd_false_positive", "worst_hour_cap", "servers",
)


_INSERT_CAMPAIGN_SQL = (
    f"INSERT INTO campaigns (name, {', '.join(_SETTINGS)}, schedule_id, state, demo)"
    f" VALUES ({', '.join(f'${i}' for i in range(1, len(_SETTINGS) + 5))}) RETURNING id"
)


def _settings_args(spec: CampaignSpec) -> list[object]:
    return [v.value if isinstance(v, StrEnum) else v for v in (getattr(spec, f) for f in _SETTINGS)]


def spec_of(c: Campaign) -> CampaignSpec:
    """The definition a stored campaign was made from (what an edit starts from)."""
    return CampaignSpec(
        name=c.name, schedule=c.schedule, mode=c.mode, caller_id=c.caller_id, queue=c.queue,
        ring_timeout_s=c.ring_timeout_s, compliance=c.compliance, abandon_cap=c.abandon_cap,
        local_hours_start=c.local_hours_start, local_hours_end=c.local_hours_end, timezone=c.timezone,
        state=c.state, priority=c.priority, max_attempts=c.max_attempts,
        max_attempts_per_day=c.max_attempts_per_day, default_disposition=c.default_disposition, amd=c.amd,
        amd_action=c.amd_action, amd_message=c.amd_message, amd_false_positive=c.amd_false_positive,
        worst_hour_cap=c.worst_hour_cap, demo=c.demo, servers=c.servers,
    )


async def _set_default_disposition(conn: asyncpg.Connection, cid: int, name: str | None) -> None:
    """Make ``name`` (None: migration 004's "answered, no disposition") the campaign's default disposition.

    The dictionary status is linked to the campaign when it is not yet.

    Raises:
        NotFound: the campaign has no status ``name`` (compared ignoring case).
        ValidationError: its system status is call.
    """
    if name is None:
        sid = await conn.fetchval(
            "SELECT id FROM statuses WHERE campaign_id IS NULL AND name = $1", ANSWERED_NO_DISPOSITION
        )
        if sid is None:
            return  # removed from the dictionary by hand: the engine then releases the contact
        await conn.execute(
            """INSERT INTO campaign_statuses (campaign_id, status_id, trigger, retry_delay_s, backoff,
                   backoff_factor, max_attempts)
               SELECT $1, id, NULL, retry_delay_s, backoff, backoff_factor, max_attempts FROM statuses
               WHERE id = $2 ON CONFLICT (campaign_id, status_id) DO NOTHING""",
            cid,
            sid,
        )
    else:
        row = await conn.fetchrow(
            """SELECT s.id, s.name, s.system_status
               FROM campaign_statuses cs JOIN statuses s ON s.id = cs.status_id
               WHERE cs.campaign_id = $1 AND lower(s.name) = lower($2)
               ORDER BY (s.name = $2) DESC LIMIT 1""",
            cid,
            name,
        )
        if row is None:
            raise NotFound("status", name)
        check_default_disposition(row["name"], SystemStatus(row["system_status"]))
        sid = row["id"]
    await conn.execute("UPDATE campaigns SET default_disposition_id = $2 WHERE id = $1", cid, sid)


def campaign_from(row: asyncpg.Record) -> Campaign:
    return Campaign(
        id=row["id"],
        name=row["name"],
        schedule=row["schedule_name"],
        mode=DialingMode(row["mode"]),
        caller_id=row["caller_id"],
        queue=row["queue"],
        ring_timeout_s=row["ring_timeout_s"],
        compliance=Compliance(row["compliance"]),
        abandon_cap=float(row["abandon_cap"]),
        local_hours_start=row["local_hours_start"],
        local_hours_end=row["local_hours_end"],
        timezone=row["timezone"],
        state=CampaignState(row["state"]),
        priority=row["priority"],
        max_attempts=row["max_attempts"],
        max_attempts_per_day=row["max_attempts_per_day"],
        default_status=row["default_status_name"],
        default_disposition=row["default_disposition_name"],
        amd=row["amd"],
        amd_action=AmdAction(row["amd_action"]),
        amd_message=row["amd_message"],
        amd_false_positive=float(row["amd_false_positive"]),
        worst_hour_cap=row["worst_hour_cap"],
        demo=row["demo"],
        servers=tuple(row["servers"]),
    )


def schedule_from(row: asyncpg.Record) -> Schedule:
    return Schedule(
        name=row["name"],
        frequency=Frequency(row["frequency"]),
        weekdays=frozenset(row["weekdays"]),
        months=frozenset(row["months"]),
        days=frozenset(row["days"]),
        run_at=row["run_at"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        interval_min=row["interval_min"],
        timezone=row["timezone"],
        active=row["active"],
        description=row["description"],
    )


def _schedule_args(schedule: Schedule) -> list[object]:
    """A schedule's columns in the order the INSERT and the UPDATE name them, name first."""
    return [
        schedule.name,
        schedule.description or "",
        Frequency(schedule.frequency).value,
        sorted(schedule.weekdays),
        sorted(schedule.months),
        sorted(schedule.days),
        schedule.run_at,
        schedule.window_start,
        schedule.window_end,
        schedule.interval_min,
        schedule.timezone,
        schedule.active,
    ]


async def _window_schedule_id(conn: asyncpg.Connection, name: str) -> int:
    """The id of schedule ``name``, which a campaign may dial in (a from-to window).

    Raises:
        ValidationError: no such schedule, or it is a run-at time.
    """
    sched = await conn.fetchrow("SELECT id, run_at FROM schedules WHERE name = $1", name)
    if sched is None:
        raise ValidationError("schedule", "no such schedule", name)
    if sched["run_at"] is not None:
        raise ValidationError(
            "schedule", "a campaign needs a from-to window schedule, not a run-at time", name
        )
    return int(sched["id"])


async def campaign_id_of(conn: asyncpg.Connection, name: str) -> int:
    """The id of campaign ``name``, on the caller's connection (inside its transaction).

    Raises:
        NotFound: no such campaign.
    """
    cid = await conn.fetchval("SELECT id FROM campaigns WHERE name = $1", name)
    if cid is None:
        raise NotFound("campaign", name)
    return cid


class Campaigns(PoolNoun):
    """Campaigns and schedules on the shared pool."""

    # -- schedules ---------------------------------------------------------------------

    async def create_schedule(self, schedule: Schedule) -> int:
        """Store a schedule; return its id.

        Raises:
            ValidationError: the name is taken (field ``name``).
        """
        check_zone(schedule.timezone, "timezone")
        check_schedule_opens(schedule)
        try:
            return await self.pool.fetchval(
                """INSERT INTO schedules (name, description, frequency, weekdays, months, days, run_at,
                       window_start, window_end, interval_min, timezone, active)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id""",
                *_schedule_args(schedule),
            )
        except asyncpg.UniqueViolationError:
            raise ValidationError("name", "a schedule with this name already exists", schedule.name) from None

    async def get_schedule(self, name: str) -> Schedule:
        row = await self.pool.fetchrow("SELECT * FROM schedules WHERE name = $1", name)
        if row is None:
            raise NotFound("schedule", name)
        return schedule_from(row)

    async def list_schedules(self) -> list[Schedule]:
        return [schedule_from(r) for r in await self.pool.fetch("SELECT * FROM schedules ORDER BY name")]

    async def update_schedule(self, name: str, /, **changes: object) -> Schedule:
        """Change any field of schedule ``name`` (its name too); the result is checked like a new one.

        A schedule campaigns dial in must stay a from-to window that can open.

        Raises:
            NotFound: no such schedule.
            ValidationError: a field is invalid (``ScheduleError``) or the new name is taken.
            InUse: campaigns dial in it and the change makes it a run-at time.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT * FROM schedules WHERE name = $1 FOR UPDATE", name)
            if row is None:
                raise NotFound("schedule", name)
            try:
                schedule = replace(schedule_from(row), **changes)  # type: ignore[arg-type]
            except TypeError:
                raise ValidationError("schedule", "unknown field", sorted(changes)) from None
            check_zone(schedule.timezone, "timezone")
            check_schedule_opens(schedule)
            users = await conn.fetch(
                "SELECT name FROM campaigns WHERE schedule_id = $1 ORDER BY name", row["id"]
            )
            if users and not schedule.is_window:
                raise InUse(
                    "run_at",
                    "campaigns dial in this schedule and need a from-to window: "
                    + ", ".join(r["name"] for r in users),
                )
            try:
                await conn.execute(
                    """UPDATE schedules SET name = $2, description = $3, frequency = $4, weekdays = $5,
                           months = $6, days = $7, run_at = $8, window_start = $9, window_end = $10,
                           interval_min = $11, timezone = $12, active = $13 WHERE id = $1""",
                    row["id"],
                    *_schedule_args(schedule),
                )
            except asyncpg.UniqueViolationError:
                reason = "a schedule with this name already exists"
                raise ValidationError("name", reason, schedule.name) from None
            return schedule

    async def remove_schedule(self, name: str) -> None:
        """Delete a schedule no campaign dials in.

        Raises:
            NotFound: no such schedule.
            InUse: campaigns dial in it (named in the reason).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            sid = await conn.fetchval("SELECT id FROM schedules WHERE name = $1 FOR UPDATE", name)
            if sid is None:
                raise NotFound("schedule", name)
            users = await conn.fetch("SELECT name FROM campaigns WHERE schedule_id = $1 ORDER BY name", sid)
            if users:
                raise InUse(
                    "schedule",
                    "campaigns dial in it; give them another schedule first: "
                    + ", ".join(r["name"] for r in users),
                    name,
                )
            await conn.execute("DELETE FROM schedules WHERE id = $1", sid)

    # -- campaigns ---------------------------------------------------------------------

    async def create_campaign(self, spec: CampaignSpec) -> Campaign:
        """Create a campaign; every active dictionary status marked auto-add joins it.

        The default status of imported contacts is the first such status whose system
        status is *call*, preferring qualifier *unused* ("Dzwonić" out of the box).

        Raises:
            ValidationError: a field is invalid or the name is taken.
            NotFound: the schedule does not exist.
        """
        spec = validate_campaign(spec)
        check_servers(spec.servers, "servers", self.known_servers)
        async with self.pool.acquire() as conn, conn.transaction():
            schedule_id = await _window_schedule_id(conn, spec.schedule)
            taken = await conn.fetchval("SELECT name FROM campaigns WHERE lower(name) = lower($1)", spec.name)
            if taken is not None:
                raise ValidationError(
                    "name", f"campaign {taken!r} already exists (names ignore case)", spec.name
                )
            try:
                cid = await conn.fetchval(
                    _INSERT_CAMPAIGN_SQL,
                    spec.name,
                    *_settings_args(spec),
                    schedule_id,
                    spec.state.value,
                    spec.demo,
                )
            except asyncpg.UniqueViolationError:
                raise ValidationError("name", "a campaign with this name already exists", spec.name) from None
            await conn.execute(
                """INSERT INTO campaign_statuses (campaign_id, status_id, trigger, retry_delay_s, backoff,
                       backoff_factor, max_attempts)
                   SELECT DISTINCT ON (coalesce(trigger, 'id' || id)) $1, id, trigger, retry_delay_s,
                          backoff, backoff_factor, max_attempts
                   FROM statuses WHERE campaign_id IS NULL AND auto_add AND active
                   ORDER BY coalesce(trigger, 'id' || id), id""",
                cid,
            )
            await conn.execute(
                """UPDATE campaigns SET default_status_id = (
                       SELECT s.id FROM campaign_statuses cs JOIN statuses s ON s.id = cs.status_id
                       WHERE cs.campaign_id = $1 AND s.system_status = 'call' AND s.active
                       ORDER BY (s.qualifier = 'unused') DESC, s.id LIMIT 1)
                   WHERE id = $1""",
                cid,
            )
            await _set_default_disposition(conn, cid, spec.default_disposition)
            return campaign_from(await conn.fetchrow(CAMPAIGN_SELECT + " WHERE c.id = $1", cid))

    async def update_campaign(self, name: str, /, **changes: object) -> Campaign:
        """Change a campaign's settings (any :class:`CampaignSpec` field but its name, state
        and demo flag); the result is checked like a new campaign. ``dialer campaign edit`` and
        ``PATCH /api/v1/campaigns/{campaign}`` both come here.

        The name stays: it is the campaign's handle in the engine, the metrics and the logs.
        The state changes through :meth:`set_campaign_state` (start, pause, stop).

        Raises:
            NotFound: no such campaign, or no such status for ``default_disposition``.
            ValidationError: a field is invalid (the first one named) or not editable.
        """
        for key in changes:
            if key not in (*_SETTINGS, "default_disposition", "schedule"):
                raise ValidationError(key, "cannot be changed by an edit")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(CAMPAIGN_SELECT + " WHERE c.name = $1 FOR UPDATE OF c", name)
            if row is None:
                raise NotFound("campaign", name)
            spec = validate_campaign(replace(spec_of(campaign_from(row)), **changes))  # type: ignore[arg-type]
            if "servers" in changes:
                check_servers(spec.servers, "servers", self.known_servers)
            sets = ", ".join(f"{col} = ${i}" for i, col in enumerate(_SETTINGS, start=2))
            await conn.execute(f"UPDATE campaigns SET {sets} WHERE id = $1", row["id"], *_settings_args(spec))
            if "schedule" in changes:
                schedule_id = await _window_schedule_id(conn, spec.schedule)
                await conn.execute(
                    "UPDATE campaigns SET schedule_id = $2 WHERE id = $1", row["id"], schedule_id
                )
            if "default_disposition" in changes:
                await _set_default_disposition(conn, row["id"], spec.default_disposition)
            return campaign_from(await conn.fetchrow(CAMPAIGN_SELECT + " WHERE c.id = $1", row["id"]))

    async def get_campaign(self, name: str) -> Campaign:
        row = await self.pool.fetchrow(CAMPAIGN_SELECT + " WHERE c.name = $1", name)
        if row is None:
            raise NotFound("campaign", name)
        return campaign_from(row)

    async def list_campaigns(self) -> list[Campaign]:
        return [campaign_from(r) for r in await self.pool.fetch(CAMPAIGN_SELECT + " ORDER BY c.name")]

    async def set_campaign_state(self, name: str, state: CampaignState) -> None:
        done = await self.pool.execute("UPDATE campaigns SET state = $2 WHERE name = $1", name, state.value)
        if done == "UPDATE 0":
            raise NotFound("campaign", name)

    async def delete_campaign(self, name: str) -> None:
        """Delete a stopped campaign that was never dialled, with its contacts and statuses.

        A campaign with attempts is refused: they are the record of calls made (the audit
        report and the retention rules keep them); stop it and leave it instead.

        Raises:
            NotFound: no such campaign.
            InUse: it has attempts, or it is not stopped.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT id, state FROM campaigns WHERE name = $1 FOR UPDATE", name)
            if row is None:
                raise NotFound("campaign", name)
            attempts = await conn.fetchval("SELECT count(*) FROM attempts WHERE campaign_id = $1", row["id"])
            if attempts:
                raise InUse(
                    "campaign", f"it has {attempts} attempts, the record of calls made; stop it instead", name
                )
            if row["state"] != CampaignState.STOPPED.value:
                raise InUse("state", "only a stopped campaign can be deleted; stop it first", row["state"])
            # its local statuses go with it (ON DELETE CASCADE), so first drop the campaign's own
            # references to them, which would otherwise hold the statuses
            await conn.execute(
                "UPDATE campaigns SET default_status_id = NULL, default_disposition_id = NULL WHERE id = $1",
                row["id"],
            )
            await conn.execute("DELETE FROM contacts WHERE campaign_id = $1", row["id"])
            await conn.execute("DELETE FROM campaigns WHERE id = $1", row["id"])

    async def outcomes_since(self, name: str, since: dt.datetime) -> dict[str, int]:
        """How many of the campaign's attempts ended with each outcome since ``since``
        (the live figures' "outcomes today"; open attempts are not counted)."""
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, name)
            rows = await conn.fetch(
                """SELECT outcome, count(*) AS n FROM attempts
                   WHERE campaign_id = $1 AND started_at >= $2 AND outcome IS NOT NULL
                   GROUP BY outcome ORDER BY outcome""",
                cid,
                since,
            )
        return {r["outcome"]: r["n"] for r in rows}

    async def campaign_summary(self, name: str, *, at: dt.datetime | None = None) -> CampaignSummary:
        """Counts for ``dialer campaign show``: contacts per status, dialable now, attempts."""
        campaign = await self.get_campaign(name)
        at = at or dt.datetime.now(dt.UTC)
        async with self.pool.acquire() as conn:
            by_status = {
                r["name"]: r["n"]
                for r in await conn.fetch(
                    """SELECT s.name, count(*) AS n FROM contacts c JOIN statuses s ON s.id = c.status_id
                       WHERE c.campaign_id = $1 GROUP BY s.name ORDER BY s.name""",
                    campaign.id,
                )
            }
            dialable = await conn.fetchval(
                "SELECT count(*) FROM contacts"
                " WHERE campaign_id = $1 AND dial_rank IS NOT NULL AND due_at <= $2",
                campaign.id,
                at,
            )
            attempts = await conn.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1", campaign.id
            )
        return CampaignSummary(
            campaign=campaign,
            contacts=sum(by_status.values()),
            dialable=dialable,
            by_status=by_status,
            attempts=attempts,
        )
