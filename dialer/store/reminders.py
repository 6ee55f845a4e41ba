"""What the reminder service is told: templates, per-campaign settings, per-callback overrides,
opt-outs, agents' addresses and status actions (issue 14 items 2, 3 and 5; seed 002).

Every front end saves through these methods, so the rules are checked once, here: a template
must render against the sample (:func:`dialer.notify.templates.check_template`), a default
or an override names a template of its campaign and of its channel, lead times lie within
a week, a status action's status has the matching "action" qualifier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from dialer.errors import NotFound, ValidationError
from dialer.notify.planning import CHANNELS, RECIPIENTS
from dialer.notify.templates import LANGUAGES, TemplateCheck, TemplateText, check_template
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun
from dialer.store.statuses import campaign_status_row

MAX_LEAD_S = 7 * 24 * 3600
_ACTION_CHANNEL = {"action_email": "email", "action_sms": "sms"}


@dataclass(frozen=True, slots=True)
class ReminderTemplate:
    id: int
    campaign: str
    name: str
    text: TemplateText


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    """A campaign's reminder rules (seed 002: on/off, defaults for customers and for agents)."""

    campaign: str
    enabled: bool = False
    customer_enabled: bool = True
    customer_channel: str = "sms"
    customer_template: str | None = None
    customer_lead_s: int = 3600
    agent_enabled: bool = True
    agent_channel: str = "email"
    agent_template: str | None = None
    agent_lead_s: int = 3600
    email_from: str = ""
    sms_sender: str = ""
    language: str = "en"


_SETTABLE = {f for f in ReminderSettings.__dataclass_fields__ if f != "campaign"}


async def _template_id(
    conn: asyncpg.Connection, campaign_id: int, name: str, channel: str, field: str
) -> int:
    row = await conn.fetchrow(
        "SELECT id, channel FROM reminder_templates WHERE campaign_id = $1 AND name = $2", campaign_id, name
    )
    if row is None:
        raise ValidationError(field, "no template of that name in the campaign", name)
    if row["channel"] != channel:
        raise ValidationError(field, f"is a {row['channel']} template, the channel is {channel}", name)
    return int(row["id"])


def _check_lead(field: str, value: int) -> None:
    if not 0 <= value <= MAX_LEAD_S:
        raise ValidationError(field, f"must be between 0 and {MAX_LEAD_S} seconds (a week)", value)


def _check_channel(field: str, value: str) -> None:
    if value not in CHANNELS:
        raise ValidationError(field, "must be sms or email", value)


class Reminders(PoolNoun):
    """Reminder templates and rules on the shared pool."""

    async def save_reminder_template(
        self, campaign: str, name: str, *, channel: str, body: str, subject: str = "", html: str = ""
    ) -> tuple[ReminderTemplate, TemplateCheck]:
        """Add or replace a template; refused unless it renders against the sample.

        Returns the template and what the sample rendered to (with an SMS's length and parts).

        Raises:
            TemplateRefused: it does not render, or breaks its channel's rule.
            ValidationError: an empty name, or a channel change while defaults use it.
        """
        if not name.strip():
            raise ValidationError("name", "must not be empty")
        text = TemplateText(channel, body, subject, html)
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            language = await conn.fetchval(
                "SELECT language FROM reminder_settings WHERE campaign_id = $1", cid
            )
            check = check_template(text, language=language or "en")
            used = await conn.fetchval(
                """SELECT t.channel FROM reminder_templates t WHERE t.campaign_id = $1 AND t.name = $2
                   AND t.channel <> $3 AND (EXISTS (SELECT 1 FROM reminder_settings s
                        WHERE t.id IN (s.customer_template, s.agent_template))
                     OR EXISTS (SELECT 1 FROM reminder_status_actions a WHERE a.template_id = t.id))""",
                cid,
                name,
                channel,
            )
            if used is not None:
                raise ValidationError("channel", f"the template is in use as a {used} template", channel)
            tid = await conn.fetchval(
                """INSERT INTO reminder_templates (campaign_id, name, channel, subject, body, html)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (campaign_id, name) DO UPDATE SET channel = EXCLUDED.channel,
                       subject = EXCLUDED.subject, body = EXCLUDED.body, html = EXCLUDED.html,
                       updated_at = now()
                   RETURNING id""",
                cid,
                name,
                channel,
                subject,
                body,
                html,
            )
        return ReminderTemplate(tid, campaign, name, text), check

    async def reminder_templates(self, campaign: str) -> list[ReminderTemplate]:
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            rows = await conn.fetch(
                "SELECT * FROM reminder_templates WHERE campaign_id = $1 ORDER BY name", cid
            )
        return [
            ReminderTemplate(
                r["id"], campaign, r["name"], TemplateText(r["channel"], r["body"], r["subject"], r["html"])
            )
            for r in rows
        ]

    async def reminder_settings(self, campaign: str) -> ReminderSettings:
        """The campaign's rules (the defaults, reminders off, if never set)."""
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            return await _settings(conn, cid, campaign)

    async def set_reminder_settings(self, campaign: str, **changes: object) -> ReminderSettings:
        """Change some of a campaign's rules (names of :class:`ReminderSettings`' fields).

        Templates are given by name; ``None`` clears one.

        Raises:
            ValidationError: an unknown field, a bad channel, lead time or language, or a
                template that is not the campaign's or not of the channel.
        """
        unknown = sorted(set(changes) - _SETTABLE)
        if unknown:
            raise ValidationError(unknown[0], "is not a reminder setting")
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            current = await _settings(conn, cid, campaign, lock=True)
            merged = {**{f: getattr(current, f) for f in _SETTABLE}, **changes}
            for kind in ("customer", "agent"):
                _check_channel(f"{kind}_channel", str(merged[f"{kind}_channel"]))
                lead = merged[f"{kind}_lead_s"]
                if not isinstance(lead, int) or isinstance(lead, bool):
                    raise ValidationError(f"{kind}_lead_s", "must be a whole number of seconds", lead)
                _check_lead(f"{kind}_lead_s", lead)
            if merged["language"] not in LANGUAGES:
                raise ValidationError(
                    "language", f"must be one of {', '.join(LANGUAGES)}", merged["language"]
                )
            ids: dict[str, int | None] = {}
            for kind in ("customer", "agent"):
                name = merged[f"{kind}_template"]
                ids[kind] = (
                    None
                    if name is None
                    else await _template_id(
                        conn, cid, str(name), str(merged[f"{kind}_channel"]), f"{kind}_template"
                    )
                )
            await conn.execute(
                """INSERT INTO reminder_settings (campaign_id, enabled, customer_enabled, customer_channel,
                       customer_template, customer_lead_s, agent_enabled, agent_channel, agent_template,
                       agent_lead_s, email_from, sms_sender, language, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())
                   ON CONFLICT (campaign_id) DO UPDATE SET enabled = EXCLUDED.enabled,
                       customer_enabled = EXCLUDED.customer_enabled,
                       customer_channel = EXCLUDED.customer_channel,
                       customer_template = EXCLUDED.customer_template,
                       customer_lead_s = EXCLUDED.customer_lead_s,
                       agent_enabled = EXCLUDED.agent_enabled, agent_channel = EXCLUDED.agent_channel,
                       agent_template = EXCLUDED.agent_template, agent_lead_s = EXCLUDED.agent_lead_s,
                       email_from = EXCLUDED.email_from, sms_sender = EXCLUDED.sms_sender,
                       language = EXCLUDED.language, updated_at = now()""",
                cid,
                bool(merged["enabled"]),
                bool(merged["customer_enabled"]),
                merged["customer_channel"],
                ids["customer"],
                merged["customer_lead_s"],
                bool(merged["agent_enabled"]),
                merged["agent_channel"],
                ids["agent"],
                merged["agent_lead_s"],
                str(merged["email_from"]),
                str(merged["sms_sender"]),
                merged["language"],
            )
            return await _settings(conn, cid, campaign)

    async def set_reminder_override(
        self,
        callback_id: int,
        *,
        recipients: str | None = None,
        channel: str | None = None,
        template: str | None = None,
        lead_s: int | None = None,
    ) -> None:
        """A callback's own reminder choice (seed 002: chosen on the task itself); ``None`` keeps
        the campaign's default. The template must be of the channel the callback ends up with.

        Raises:
            NotFound: no such callback.
            ValidationError: bad recipients, channel, template or lead time.
        """
        if recipients is not None and recipients not in RECIPIENTS:
            raise ValidationError("recipients", f"must be one of {', '.join(RECIPIENTS)}", recipients)
        if channel is not None:
            _check_channel("channel", channel)
        if lead_s is not None:
            _check_lead("lead_s", lead_s)
        async with self.pool.acquire() as conn, conn.transaction():
            cb = await conn.fetchrow("SELECT campaign_id FROM callbacks WHERE id = $1", callback_id)
            if cb is None:
                raise NotFound("callback", callback_id)
            tid = None
            if template is not None:
                if channel is None:
                    raise ValidationError("template", "name the channel the template is for", template)
                tid = await _template_id(conn, cb["campaign_id"], template, channel, "template")
            await conn.execute(
                """INSERT INTO reminder_overrides (callback_id, recipients, channel, template_id, lead_s)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (callback_id) DO UPDATE SET recipients = EXCLUDED.recipients,
                       channel = EXCLUDED.channel, template_id = EXCLUDED.template_id,
                       lead_s = EXCLUDED.lead_s""",
                callback_id,
                recipients,
                channel,
                tid,
                lead_s,
            )

    async def set_reminder_optout(self, contact_id: int, opted_out: bool = True) -> None:
        """A contact's opt-out of reminders (a customer reminder to them is cancelled)."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)", contact_id):
                raise NotFound("contact", contact_id)
            if opted_out:
                await conn.execute(
                    "INSERT INTO reminder_optouts (contact_id) VALUES ($1) ON CONFLICT DO NOTHING", contact_id
                )
            else:
                await conn.execute("DELETE FROM reminder_optouts WHERE contact_id = $1", contact_id)

    async def set_agent_reminder_address(self, agent: str, *, email: str = "", phone: str = "") -> None:
        """Where agent ``agent`` gets reminders (an e-mail address, an E.164 number)."""
        if email and ("@" not in email or any(c.isspace() for c in email)):
            raise ValidationError("email", "is not an e-mail address", email)
        if phone and not (phone.startswith("+") and phone[1:].isdigit() and 6 <= len(phone) <= 16):
            raise ValidationError("phone", "must be an E.164 number (+ and digits)", phone)
        async with self.pool.acquire() as conn:
            aid = await conn.fetchval("SELECT id FROM agents WHERE name = $1", agent)
            if aid is None:
                raise NotFound("agent", agent)
            await conn.execute(
                """INSERT INTO reminder_agent_addresses (agent_id, email, phone) VALUES ($1, $2, $3)
                   ON CONFLICT (agent_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone""",
                aid,
                email,
                phone,
            )

    async def set_status_action(
        self, campaign: str, status: str, template: str, *, at: dt.datetime | None = None
    ) -> None:
        """Seed 001: setting ``status`` (qualifier "action – send e-mail/SMS by template") sends ``template``.

        Status changes from ``at`` (default now) on are acted on; earlier ones never.

        Raises:
            ValidationError: the status has no action qualifier, or the template's channel differs.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            row = await campaign_status_row(conn, cid, status)
            channel = _ACTION_CHANNEL.get(row["qualifier"])
            if channel is None:
                raise ValidationError(
                    "status", "its qualifier is not action_email or action_sms", row["qualifier"]
                )
            tid = await _template_id(conn, cid, template, channel, "template")
            await conn.execute(
                """INSERT INTO reminder_status_actions (campaign_id, status_id, template_id, created_at)
                   VALUES ($1, $2, $3, coalesce($4, now()))
                   ON CONFLICT (campaign_id, status_id) DO UPDATE SET template_id = EXCLUDED.template_id""",
                cid,
                row["id"],
                tid,
                at,
            )


async def _settings(
    conn: asyncpg.Connection, campaign_id: int, campaign: str, *, lock: bool = False
) -> ReminderSettings:
    row = await conn.fetchrow(
        f"""SELECT s.*, ct.name AS customer_template_name, at.name AS agent_template_name
            FROM reminder_settings s
            LEFT JOIN reminder_templates ct ON ct.id = s.customer_template
            LEFT JOIN reminder_templates at ON at.id = s.agent_template
            WHERE s.campaign_id = $1 {"FOR UPDATE OF s" if lock else ""}""",
        campaign_id,
    )
    if row is None:
        return ReminderSettings(campaign)
    return ReminderSettings(
        campaign=campaign,
        enabled=row["enabled"],
        customer_enabled=row["customer_enabled"],
        customer_channel=row["customer_channel"],
        customer_template=row["customer_template_name"],
        customer_lead_s=row["customer_lead_s"],
        agent_enabled=row["agent_enabled"],
        agent_channel=row["agent_channel"],
        agent_template=row["agent_template_name"],
        agent_lead_s=row["agent_lead_s"],
        email_from=row["email_from"],
        sms_sender=row["sms_sender"],
        language=row["language"],
    )
