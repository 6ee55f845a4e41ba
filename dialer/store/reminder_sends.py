"""The reminder service's sends: planning, claiming, recording, the log and the service's state.

Exactly once (issue 14 item 4): each send is one row of ``reminder_sends``, unique per
(callback, recipient, channel) and per (status change, channel), so planning the same
reminder again, from this engine or another, finds the row and never makes a second one.
A send is claimed before it is attempted (``pending`` → ``sending``, ``FOR UPDATE SKIP
LOCKED``, committed), so two engines never attempt one row; the result is written after.
If the engine dies between the provider's answer and that write, the row stays ``sending``:
:meth:`ReminderSends.recover_stale_sends` later hands it back (``pending``) only for a channel
whose provider deduplicates by the send's idempotency key (the HTTP gateway), and otherwise
marks it ``uncertain``, shown as a failure and never sent again: at most once wins over
at least once for a reminder.

Every change of a row's state writes a ``reminder_log`` line (the seed's log of operations).
All times come from the caller (the service's clock), so a run in virtual time plans and
sends at virtual times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from dialer.notify.planning import Defaults, Override, PlannedSend, Recipient, plan_callback
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun

# How far ahead a callback's reminders are planned, beyond their lead time.
PLAN_AHEAD = dt.timedelta(days=1)
FINAL = ("sent", "failed", "cancelled", "uncertain")


@dataclass(frozen=True, slots=True)
class ClaimedSend:
    """A claimed send with everything its message is rendered from."""

    id: int
    purpose: str
    recipient: str
    channel: str
    address: str
    tries: int
    deadline: dt.datetime
    template: dict[str, str] | None  # channel, subject, body, html
    contact_name: str
    fields: dict[str, Any]
    callback_at: dt.datetime | None
    timezone: str
    agent: str
    campaign: str
    language: str
    email_from: str
    sms_sender: str
    refused: str | None  # the customer's do-not-call or opt-out, checked again at send time


@dataclass(frozen=True, slots=True)
class ReminderLogEntry:
    send_id: int
    at: dt.datetime
    operation: str
    detail: str
    purpose: str
    recipient: str
    channel: str
    callback_id: int | None
    contact_id: int | None
    state: str
    provider_id: str | None


@dataclass(frozen=True, slots=True)
class ReminderServiceState:
    """The seed's panel: is the service running, when did it last run, what waits, what failed."""

    running: bool
    engines: tuple[str, ...]
    last_run_at: dt.datetime | None
    backlog: int
    failures_last_hour: int
    sent_last_hour: int


async def _log(conn: asyncpg.Connection, rows: list[tuple[int, str, str]], at: dt.datetime) -> None:
    if rows:
        await conn.executemany(
            "INSERT INTO reminder_log (send_id, at, operation, detail) VALUES ($1, $2, $3, $4)",
            [(i, at, op, detail) for i, op, detail in rows],
        )


_UPSERT = """
INSERT INTO reminder_sends (campaign_id, contact_id, callback_id, purpose, recipient, channel, template_id,
    agent_id, address, callback_due_at, send_at, deadline, next_try_at, state, error, finished_at)
SELECT campaign_id, contact_id, callback_id, 'reminder', recipient, channel, template_id, agent_id, address,
       callback_due_at, send_at, deadline, send_at,
       CASE WHEN error IS NULL THEN 'pending' ELSE 'cancelled' END, error,
       CASE WHEN error IS NULL THEN NULL ELSE $13::timestamptz END
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
            $8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::text[])
     AS p(campaign_id, contact_id, callback_id, recipient, channel, template_id, agent_id, address,
          callback_due_at, send_at, deadline, error)
ON CONFLICT (callback_id, recipient, channel) WHERE purpose = 'reminder' DO UPDATE SET
    template_id = EXCLUDED.template_id, agent_id = EXCLUDED.agent_id, address = EXCLUDED.address,
    callback_due_at = EXCLUDED.callback_due_at, send_at = EXCLUDED.send_at, deadline = EXCLUDED.deadline,
    next_try_at = EXCLUDED.next_try_at, state = EXCLUDED.state, error = EXCLUDED.error,
    finished_at = EXCLUDED.finished_at
WHERE reminder_sends.state IN ('pending', 'cancelled')
  AND (reminder_sends.template_id, reminder_sends.address, reminder_sends.callback_due_at,
       reminder_sends.send_at, reminder_sends.state,
       CASE WHEN reminder_sends.state = 'cancelled' THEN reminder_sends.error END)
      IS DISTINCT FROM (EXCLUDED.template_id, EXCLUDED.address, EXCLUDED.callback_due_at,
       EXCLUDED.send_at, EXCLUDED.state, EXCLUDED.error)
RETURNING id, (xmax = 0) AS inserted, state, error, send_at, recipient, channel
"""

_PLAN_INPUTS = """
WITH cand AS (
    SELECT cb.*, s.enabled, s.customer_enabled, s.customer_channel, s.customer_template,
           s.customer_lead_s,
           s.agent_enabled, s.agent_channel, s.agent_template, s.agent_lead_s,
           o.recipients AS o_recipients, o.channel AS o_channel, o.template_id AS o_template,
           o.lead_s AS o_lead
    FROM callbacks cb
    JOIN reminder_settings s ON s.campaign_id = cb.campaign_id AND s.enabled
    LEFT JOIN reminder_overrides o ON o.callback_id = cb.id
    WHERE cb.state = 'pending' AND cb.due_at > $1
      AND cb.due_at <= $1 + make_interval(secs => greatest(s.customer_lead_s, s.agent_lead_s,
                                                            coalesce(o.lead_s, 0)) + $2::double precision)
)
SELECT cand.*, c.name AS contact_name, c.timezone AS contact_tz, c.fields->>'email' AS email,
       cp.local_hours_start, cp.local_hours_end, cp.timezone AS campaign_tz,
       ph.e164 AS phone, ph.timezones AS zones,
       EXISTS (SELECT 1 FROM reminder_optouts x WHERE x.contact_id = c.id) AS opted_out,
       EXISTS (SELECT 1 FROM contact_phones p JOIN do_not_call d ON d.e164 = p.e164
               AND (d.campaign_id IS NULL OR d.campaign_id = c.campaign_id) WHERE p.contact_id = c.id) AS dnc,
       aa.email AS agent_email, aa.phone AS agent_phone
FROM cand
JOIN contacts c ON c.id = cand.contact_id
JOIN campaigns cp ON cp.id = cand.campaign_id
LEFT JOIN LATERAL (SELECT e164, timezones FROM contact_phones p
                   WHERE p.contact_id = c.id AND (p.id = cand.phone_id OR cand.phone_id IS NULL)
                     AND p.disabled_at IS NULL
                   ORDER BY p.id = cand.phone_id DESC, p.position LIMIT 1) ph ON true
LEFT JOIN reminder_agent_addresses aa ON aa.agent_id = cand.agent_id
"""


def _zones(row: asyncpg.Record) -> tuple[str, ...]:
    if row["contact_tz"]:
        return (row["contact_tz"],)
    return tuple(row["zones"] or ()) or (row["campaign_tz"],)


def _customer_refusal(row: asyncpg.Record) -> str | None:
    if row["dnc"]:
        return "the contact is on a do-not-call list"
    if row["opted_out"]:
        return "the contact opted out of reminders"
    return None


def _plan_row(row: asyncpg.Record) -> list[PlannedSend]:
    customer = Recipient({"sms": row["phone"] or "", "email": row["email"] or ""}, _customer_refusal(row))
    agent = (
        Recipient({"sms": row["agent_phone"] or "", "email": row["agent_email"] or ""})
        if row["agent_id"] is not None
        else None
    )
    override = Override(row["o_recipients"], row["o_channel"], row["o_template"], row["o_lead"])
    return plan_callback(
        row["due_at"],
        customer_default=Defaults(
            row["customer_enabled"], row["customer_channel"], row["customer_template"], row["customer_lead_s"]
        ),
        agent_default=Defaults(
            row["agent_enabled"], row["agent_channel"], row["agent_template"], row["agent_lead_s"]
        ),
        override=override,
        customer=customer,
        agent=agent,
        zones=_zones(row),
        hours=(row["local_hours_start"], row["local_hours_end"]),
    )


class ReminderSends(PoolNoun):
    """The reminder sends and their log on the shared pool."""

    async def plan_reminders(self, now: dt.datetime) -> int:
        """Plan (or re-plan) the reminders of every pending callback whose send time is within a
        day, and cancel the pending ones whose callback is gone, done, cancelled or moved
        beyond that. Returns how many rows changed."""
        changed = 0
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_PLAN_INPUTS, now, PLAN_AHEAD.total_seconds())
            wanted: dict[int, set[tuple[str, str]]] = {}
            log: list[tuple[int, str, str]] = []
            # one statement for every planned send: a pass costs the same round trips for ten
            # callbacks as for ten thousand (only rows whose plan changed are written and returned)
            columns: list[list[Any]] = [[] for _ in range(12)]
            for row in rows:
                for p in _plan_row(row):
                    wanted.setdefault(row["id"], set()).add((p.recipient, p.channel))
                    values = (
                        row["campaign_id"],
                        row["contact_id"],
                        row["id"],
                        p.recipient,
                        p.channel,
                        p.template_id,
                        row["agent_id"] if p.recipient == "agent" else None,
                        p.address,
                        row["due_at"],
                        p.send_at,
                        p.deadline,
                        p.skipped,
                    )
                    for column, value in zip(columns, values, strict=True):
                        column.append(value)
            for r in await conn.fetch(_UPSERT, *columns, now) if columns[0] else []:
                changed += 1
                if r["state"] == "cancelled":
                    log.append((r["id"], "skipped", r["error"] or ""))
                else:
                    op = "planned" if r["inserted"] else "replanned"
                    log.append(
                        (r["id"], op, f"{r['recipient']} {r['channel']} at {r['send_at'].isoformat()}")
                    )
            if wanted:
                stale = await conn.fetch(
                    """SELECT id, callback_id, recipient, channel FROM reminder_sends
                       WHERE purpose = 'reminder' AND state = 'pending'
                         AND callback_id = ANY($1::bigint[])""",
                    list(wanted),
                )
                drop = [
                    s["id"] for s in stale if (s["recipient"], s["channel"]) not in wanted[s["callback_id"]]
                ]
                changed += await self._cancel(conn, drop, "the callback's reminder rule changed", now, log)
            gone = await conn.fetch(
                """SELECT rs.id, cb.state, cb.due_at FROM reminder_sends rs
                   LEFT JOIN callbacks cb ON cb.id = rs.callback_id
                   WHERE rs.purpose = 'reminder' AND rs.state = 'pending'
                     AND (cb.id IS NULL OR cb.state <> 'pending'
                          OR cb.due_at IS DISTINCT FROM rs.callback_due_at)"""
            )
            for g in gone:
                reason = (
                    "the callback was deleted"
                    if g["state"] is None
                    else f"the callback is {g['state']}"
                    if g["state"] != "pending"
                    else "the callback moved"
                )
                changed += await self._cancel(conn, [g["id"]], reason, now, log)
            await _log(conn, log, now)
        return changed

    @staticmethod
    async def _cancel(
        conn: asyncpg.Connection,
        ids: list[int],
        reason: str,
        now: dt.datetime,
        log: list[tuple[int, str, str]],
    ) -> int:
        if not ids:
            return 0
        await conn.execute(
            "UPDATE reminder_sends SET state = 'cancelled', error = $2, finished_at = $3"
            " WHERE id = ANY($1::bigint[])",
            ids,
            reason,
            now,
        )
        log.extend((i, "cancelled", reason) for i in ids)
        return len(ids)

    async def plan_status_actions(self, now: dt.datetime, deadline_s: float) -> int:
        """Seed 001: a status change to a status with an action sends its template to the contact,
        once per change (unique per status change and channel)."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """INSERT INTO reminder_sends (campaign_id, contact_id, status_change_id, purpose, recipient,
                       channel, template_id, agent_id, address, send_at, deadline, next_try_at, state, error,
                       finished_at)
                   SELECT c.campaign_id, c.id, sc.id, 'status_action', 'customer', t.channel, t.id,
                          sc.agent_id,
                          coalesce(CASE WHEN t.channel = 'sms' THEN ph.e164
                                        ELSE c.fields->>'email' END, ''),
                          sc.changed_at, sc.changed_at + make_interval(secs => $2), sc.changed_at,
                          CASE WHEN r.refused IS NULL THEN 'pending' ELSE 'cancelled' END, r.refused,
                          CASE WHEN r.refused IS NULL THEN NULL ELSE $1::timestamptz END
                   FROM status_changes sc
                   JOIN contacts c ON c.id = sc.contact_id
                   JOIN reminder_status_actions a
                     ON a.campaign_id = c.campaign_id AND a.status_id = sc.to_status
                   JOIN reminder_templates t ON t.id = a.template_id
                   LEFT JOIN LATERAL (SELECT e164 FROM contact_phones p WHERE p.contact_id = c.id
                                      AND p.disabled_at IS NULL ORDER BY p.position LIMIT 1) ph ON true
                   CROSS JOIN LATERAL (SELECT CASE
                       WHEN EXISTS (SELECT 1 FROM contact_phones p JOIN do_not_call d ON d.e164 = p.e164
                                    AND (d.campaign_id IS NULL OR d.campaign_id = c.campaign_id)
                                    WHERE p.contact_id = c.id)
                           THEN 'the contact is on a do-not-call list'
                       WHEN EXISTS (SELECT 1 FROM reminder_optouts x WHERE x.contact_id = c.id)
                           THEN 'the contact opted out of reminders'
                       END AS refused) r
                   WHERE sc.changed_at >= a.created_at AND sc.changed_at > $1 - make_interval(secs => $2)
                     AND sc.changed_at <= $1
                   ON CONFLICT (status_change_id, channel) WHERE purpose = 'status_action' DO NOTHING
                   RETURNING id, state, error""",
                now,
                float(deadline_s),
            )
            await _log(
                conn,
                [
                    (
                        r["id"],
                        "planned" if r["state"] == "pending" else "skipped",
                        r["error"] or "status action",
                    )
                    for r in rows
                ],
                now,
            )
        return len(rows)

    async def recover_stale_sends(
        self, now: dt.datetime, stale_before: dt.datetime, *, resend_sms: bool
    ) -> int:
        """Sends left ``sending`` by an engine that died mid-send: back to ``pending`` for an
        SMS through a gateway that deduplicates by idempotency key, ``uncertain`` otherwise."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """UPDATE reminder_sends SET
                       state = CASE WHEN channel = 'sms' AND $3::boolean THEN 'pending' ELSE 'uncertain' END,
                       next_try_at = $1::timestamptz,
                       error = CASE WHEN channel = 'sms' AND $3::boolean THEN error
                               ELSE 'interrupted while sending; not sent again (the provider may have it)'
                               END,
                       finished_at = CASE WHEN channel = 'sms' AND $3::boolean THEN NULL
                                          ELSE $1::timestamptz END
                   WHERE state = 'sending' AND claimed_at < $2::timestamptz RETURNING id, state""",
                now,
                stale_before,
                resend_sms,
            )
            await _log(
                conn,
                [
                    (
                        r["id"],
                        "recovered" if r["state"] == "pending" else "uncertain",
                        "resent with the same idempotency key"
                        if r["state"] == "pending"
                        else "interrupted mid-send",
                    )
                    for r in rows
                ],
                now,
            )
        return len(rows)

    async def claim_reminder_sends(self, now: dt.datetime, engine_id: str, limit: int) -> list[ClaimedSend]:
        """Claim up to ``limit`` due sends (``FOR UPDATE SKIP LOCKED``) and commit the claim."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """WITH due AS (SELECT id FROM reminder_sends WHERE state = 'pending' AND next_try_at <= $1
                                ORDER BY next_try_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                   UPDATE reminder_sends rs SET state = 'sending', claimed_by = $2, claimed_at = $1,
                       tries = rs.tries + 1
                   FROM due WHERE rs.id = due.id RETURNING rs.id""",
                now,
                engine_id,
                limit,
            )
            ids = [r["id"] for r in rows]
            if not ids:
                return []
            await _log(conn, [(i, "claimed", engine_id) for i in ids], now)
            details = await conn.fetch(
                """SELECT rs.*, t.channel AS t_channel, t.subject, t.body, t.html,
                          c.name AS contact_name, c.fields, c.timezone AS contact_tz, cp.name AS campaign,
                          cp.timezone AS campaign_tz, cb.due_at AS callback_at, ag.name AS agent_name,
                          (SELECT p.timezones FROM contact_phones p WHERE p.contact_id = c.id
                           ORDER BY p.position LIMIT 1) AS zones,
                          coalesce(s.language, 'en') AS language, coalesce(s.email_from, '') AS email_from,
                          coalesce(s.sms_sender, '') AS sms_sender,
                          EXISTS (SELECT 1 FROM reminder_optouts x WHERE x.contact_id = c.id) AS opted_out,
                          EXISTS (SELECT 1 FROM contact_phones p JOIN do_not_call d ON d.e164 = p.e164
                                  AND (d.campaign_id IS NULL OR d.campaign_id = c.campaign_id)
                                  WHERE p.contact_id = c.id) AS dnc
                   FROM reminder_sends rs
                   JOIN campaigns cp ON cp.id = rs.campaign_id
                   LEFT JOIN contacts c ON c.id = rs.contact_id
                   LEFT JOIN reminder_templates t ON t.id = rs.template_id
                   LEFT JOIN callbacks cb ON cb.id = rs.callback_id
                   LEFT JOIN agents ag ON ag.id = coalesce(rs.agent_id, cb.agent_id)
                   LEFT JOIN reminder_settings s ON s.campaign_id = rs.campaign_id
                   WHERE rs.id = ANY($1::bigint[]) ORDER BY rs.next_try_at, rs.id""",
                ids,
            )
        return [_claimed(d) for d in details]

    async def finish_reminder_send(
        self,
        send_id: int,
        now: dt.datetime,
        *,
        state: str,
        provider_id: str | None = None,
        text_hash: str | None = None,
        error: str | None = None,
        retry_at: dt.datetime | None = None,
    ) -> None:
        """Record a claimed send's result: ``sent``, ``failed``, ``cancelled``, or ``pending``
        again with ``retry_at`` (a transient failure before the deadline)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE reminder_sends SET state = $2, provider_id = coalesce($3, provider_id),
                       text_hash = coalesce($4, text_hash), error = $5,
                       next_try_at = coalesce($6, next_try_at),
                       finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $7::timestamptz END
                   WHERE id = $1 AND state = 'sending'""",
                send_id,
                state,
                provider_id,
                text_hash,
                error,
                retry_at,
                now,
            )
            op = "retry" if state == "pending" else state
            detail = error or (f"provider id {provider_id}" if provider_id else "")
            if retry_at is not None:
                detail = f"{detail}; next try at {retry_at.isoformat()}"
            await _log(conn, [(send_id, op, detail)], now)

    async def reminder_heartbeat(
        self, engine_id: str, now: dt.datetime, *, started_at: dt.datetime, tick_s: float
    ) -> None:
        await self.pool.execute(
            """INSERT INTO reminder_services (engine_id, started_at, last_run_at, tick_s, stopped_at)
               VALUES ($1, $2, $3, $4, NULL)
               ON CONFLICT (engine_id) DO UPDATE SET started_at = EXCLUDED.started_at,
                   last_run_at = EXCLUDED.last_run_at, tick_s = EXCLUDED.tick_s, stopped_at = NULL""",
            engine_id,
            started_at,
            now,
            tick_s,
        )

    async def reminder_service_stopped(self, engine_id: str, now: dt.datetime) -> None:
        await self.pool.execute(
            "UPDATE reminder_services SET stopped_at = $2 WHERE engine_id = $1", engine_id, now
        )

    async def reminder_service_state(self, now: dt.datetime) -> ReminderServiceState:
        """Running: a service has run within three of its ticks (plus a minute) and not stopped."""
        async with self.pool.acquire() as conn:
            engines = await conn.fetch(
                """SELECT engine_id FROM reminder_services WHERE stopped_at IS NULL
                   AND last_run_at > $1::timestamptz - make_interval(secs => 3 * tick_s + 60)
                   ORDER BY engine_id""",
                now,
            )
            row = await conn.fetchrow(
                """SELECT (SELECT max(last_run_at) FROM reminder_services) AS last_run,
                          (SELECT count(*) FROM reminder_sends WHERE state = 'pending' AND next_try_at <= $1)
                              AS backlog,
                          (SELECT count(*) FROM reminder_sends WHERE state IN ('failed', 'uncertain')
                              AND finished_at > $1 - interval '1 hour') AS failures,
                          (SELECT count(*) FROM reminder_sends WHERE state = 'sent'
                              AND finished_at > $1 - interval '1 hour') AS sent""",
                now,
            )
        return ReminderServiceState(
            running=bool(engines),
            engines=tuple(e["engine_id"] for e in engines),
            last_run_at=row["last_run"],
            backlog=row["backlog"],
            failures_last_hour=row["failures"],
            sent_last_hour=row["sent"],
        )

    async def reminder_log(
        self, campaign: str, *, limit: int = 100, callback_id: int | None = None
    ) -> list[ReminderLogEntry]:
        """The campaign's log of operations, newest first."""
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            rows = await conn.fetch(
                """SELECT l.*, rs.purpose, rs.recipient, rs.channel, rs.callback_id, rs.contact_id, rs.state,
                          rs.provider_id
                   FROM reminder_log l JOIN reminder_sends rs ON rs.id = l.send_id
                   WHERE rs.campaign_id = $1 AND ($3::bigint IS NULL OR rs.callback_id = $3)
                   ORDER BY l.at DESC, l.id DESC LIMIT $2""",
                cid,
                limit,
                callback_id,
            )
        return [
            ReminderLogEntry(
                r["send_id"],
                r["at"],
                r["operation"],
                r["detail"],
                r["purpose"],
                r["recipient"],
                r["channel"],
                r["callback_id"],
                r["contact_id"],
                r["state"],
                r["provider_id"],
            )
            for r in rows
        ]


def _claimed(d: asyncpg.Record) -> ClaimedSend:
    template = (
        {"channel": d["t_channel"], "subject": d["subject"], "body": d["body"], "html": d["html"]}
        if d["t_channel"] is not None
        else None
    )
    zone = d["contact_tz"] or (
        d["zones"][0] if d["recipient"] == "customer" and d["zones"] else d["campaign_tz"]
    )
    refused = None
    if d["recipient"] == "customer":
        refused = (
            "the contact is on a do-not-call list"
            if d["dnc"]
            else ("the contact opted out of reminders" if d["opted_out"] else None)
        )
    return ClaimedSend(
        id=d["id"],
        purpose=d["purpose"],
        recipient=d["recipient"],
        channel=d["channel"],
        address=d["address"],
        tries=d["tries"],
        deadline=d["deadline"],
        template=template,
        contact_name=d["contact_name"] or "",
        fields=dict(d["fields"] or {}),
        callback_at=d["callback_at"],
        timezone=zone if d["recipient"] == "customer" else d["campaign_tz"],
        agent=d["agent_name"] or "",
        campaign=d["campaign"],
        language=d["language"],
        email_from=d["email_from"],
        sms_sender=d["sms_sender"],
        refused=refused,
    )
