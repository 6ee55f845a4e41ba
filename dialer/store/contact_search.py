"""Finding, showing, editing and exporting contacts (``dialer contacts``, ``/api/v1/contacts``).

One set of filters (:class:`ContactQuery`: campaign, status, a part of the name, digits of a
number) serves the list, the page and the export, checked here for both front ends. A list
is keyset-paged on the contact id (stable while the engine changes statuses); an export
streams through a server-side cursor in one snapshot, in columns ``dialer contacts import``
reads back (``name``, ``phone``, ``phone2``, ..., ``timezone``, then the custom fields) plus
what the campaign made of the contact (id, campaign, status, attempts, last outcome).

An edit changes what a person would correct on the screen: the name, the time zone, the
priority, custom fields (a field set to None is removed). Numbers and statuses change by
their own paths (callbacks with a new number, dispositions, transfers), which keep the
audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from dialer.errors import NotFound, ValidationError
from dialer.model import Contact
from dialer.store.attempt_log import AttemptLine, AttemptQuery, _stream, attempt_lines, check_page
from dialer.store.campaigns import check_zone
from dialer.store.connection import PoolNoun

__all__ = ["CallbackLine", "ContactDetail", "ContactLine", "ContactQuery", "ContactSearch"]

MAX_NAME = 200
MAX_FIELD_NAME = 100
# A custom field's value as the API and the CLI give it (None: remove the field in a merge).
FieldValue = str | int | float | bool | None
MAX_FIELD_VALUE = 2000
_PRIORITY = 1_000_000


@dataclass(frozen=True, slots=True)
class ContactQuery:
    """Which contacts: every given filter must hold. ``name`` matches a part, any case;
    ``number`` matches digits anywhere in a number (spaces and ``+`` ignored)."""

    campaign: str | None = None
    status: str | None = None
    name: str | None = None
    number: str | None = None


@dataclass(frozen=True, slots=True)
class ContactLine:
    id: int
    campaign: str
    name: str
    status: str
    timezone: str | None
    phones: tuple[str, ...]
    attempts: int
    last_outcome: str | None
    last_attempt_at: dt.datetime | None
    priority: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallbackLine:
    id: int
    kind: str
    state: str
    due_at: dt.datetime
    window_end_at: dt.datetime | None
    agent: str | None
    number: str | None


@dataclass(frozen=True, slots=True)
class ContactDetail:
    """A contact with its campaign, numbers, custom fields, attempts and callbacks."""

    contact: Contact
    campaign: str
    attempts: list[AttemptLine]
    callbacks: list[CallbackLine]


_FROM = """
FROM contacts c
JOIN campaigns cp ON cp.id = c.campaign_id
JOIN statuses s ON s.id = c.status_id
WHERE ($1::text IS NULL OR cp.name = $1)
  AND ($2::text IS NULL OR s.name = $2)
  AND ($3::text IS NULL OR c.name ILIKE $3)
  AND ($4::text IS NULL
       OR EXISTS (SELECT 1 FROM contact_phones p WHERE p.contact_id = c.id AND p.e164 LIKE $4))
  AND c.id > $5
"""
_SELECT = (
    """SELECT c.id, cp.name AS campaign, c.name, s.name AS status, c.timezone, c.fields, c.attempts,
       c.last_outcome, c.last_attempt_at, c.priority,
       ARRAY(SELECT p.e164 FROM contact_phones p WHERE p.contact_id = c.id ORDER BY p.position) AS phones"""
    + _FROM
    + " ORDER BY c.id"
)
_FIXED = ["id", "campaign", "name", "status", "timezone", "attempts", "last_outcome", "last_attempt_at"]


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _digits(number: str) -> str:
    digits = re.sub(r"[\s+().\-/]", "", number)
    if not digits.isdigit() or len(digits) < 3:
        raise ValidationError("number", "give at least 3 digits of the number", number)
    return digits


async def _args(conn: asyncpg.Connection, query: ContactQuery) -> list[object]:
    """The query's SQL arguments, checked: an unknown campaign or status is named, not an empty list."""
    if query.campaign is not None and (
        await conn.fetchval("SELECT 1 FROM campaigns WHERE name = $1", query.campaign) is None
    ):
        raise NotFound("campaign", query.campaign)
    if query.status is not None:
        known = await conn.fetchval(
            """SELECT 1 FROM statuses s LEFT JOIN campaign_statuses cs ON cs.status_id = s.id
               LEFT JOIN campaigns cp ON cp.id = cs.campaign_id
               WHERE s.name = $1 AND ($2::text IS NULL OR cp.name = $2) LIMIT 1""",
            query.status,
            query.campaign,
        )
        if known is None:
            where = f"campaign {query.campaign} has" if query.campaign else "there is"
            raise ValidationError("status", f"{where} no such status", query.status)
    name = None
    if query.name is not None:
        name = query.name.strip()
        if not name or len(name) > MAX_NAME:
            raise ValidationError("name", f"give 1 to {MAX_NAME} characters of the name", query.name)
    number = None if query.number is None else "%" + _digits(query.number) + "%"
    return [query.campaign, query.status, None if name is None else _like(name), number]


def _contact_line(r: asyncpg.Record) -> ContactLine:
    return ContactLine(
        id=r["id"],
        campaign=r["campaign"],
        name=r["name"],
        status=r["status"],
        timezone=r["timezone"],
        phones=tuple(r["phones"]),
        attempts=r["attempts"],
        last_outcome=r["last_outcome"],
        last_attempt_at=r["last_attempt_at"],
        priority=r["priority"],
        fields=dict(r["fields"] or {}),
    )


def _check_edit(
    name: str | None, timezone: str | None, fields: Mapping[str, FieldValue] | None, priority: int | None
) -> None:
    if name is not None and not name.strip():
        raise ValidationError("name", "must not be empty", name)
    if name is not None and len(name) > MAX_NAME:
        raise ValidationError("name", f"at most {MAX_NAME} characters", name)
    if timezone is not None:
        check_zone(timezone, "timezone")
    for key, value in (fields or {}).items():
        if not key.strip() or len(key) > MAX_FIELD_NAME:
            raise ValidationError("fields", f"a field name has 1 to {MAX_FIELD_NAME} characters", key)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValidationError(f"fields.{key}", "a custom field is a named text or number", value)
        if isinstance(value, str) and len(value) > MAX_FIELD_VALUE:
            raise ValidationError(f"fields.{key}", f"at most {MAX_FIELD_VALUE} characters", value)
    if priority is not None and not -_PRIORITY <= priority <= _PRIORITY:
        raise ValidationError("priority", f"must be between -{_PRIORITY} and {_PRIORITY}", priority)


class ContactSearch(PoolNoun):
    """Contacts found, shown, edited and exported on the shared pool."""

    async def search_contacts(
        self, query: ContactQuery, *, after: int = 0, limit: int = 100
    ) -> tuple[list[ContactLine], int | None]:
        """A page of contacts by id and the ``after`` of the next page (None: the last page).

        Raises:
            NotFound: no such campaign.
            ValidationError: an unknown status, a too short number, a bad page.
        """
        check_page(after, limit)
        async with self.pool.acquire() as conn:
            args = await _args(conn, query)
            rows = await conn.fetch(_SELECT + f" LIMIT {limit + 1}", *args, after)
        lines = [_contact_line(r) for r in rows[:limit]]
        return lines, (lines[-1].id if len(rows) > limit else None)

    async def contact_detail(self, contact_id: int) -> ContactDetail:
        """One contact with everything about it (attempts include the cleared ones, marked).

        Raises:
            NotFound: no such contact.
        """
        contact = await self.get_contact(contact_id)  # type: ignore[attr-defined]  # Contacts, in Store
        async with self.pool.acquire() as conn:
            campaign = await conn.fetchval("SELECT name FROM campaigns WHERE id = $1", contact.campaign_id)
            attempts = await attempt_lines(conn, AttemptQuery(contact_id=contact_id))
            callbacks = await conn.fetch(
                """SELECT cb.id, cb.kind, cb.state, cb.due_at, cb.window_end_at, ag.name AS agent, p.e164
                   FROM callbacks cb LEFT JOIN agents ag ON ag.id = cb.agent_id
                   LEFT JOIN contact_phones p ON p.id = cb.phone_id
                   WHERE cb.contact_id = $1 ORDER BY cb.due_at, cb.id""",
                contact_id,
            )
        return ContactDetail(
            contact=contact,
            campaign=campaign,
            attempts=attempts,
            callbacks=[
                CallbackLine(
                    r["id"], r["kind"], r["state"], r["due_at"], r["window_end_at"], r["agent"], r["e164"]
                )
                for r in callbacks
            ],
        )

    async def update_contact(
        self,
        contact_id: int,
        *,
        name: str | None = None,
        timezone: str | None = None,
        clear_timezone: bool = False,
        fields: Mapping[str, FieldValue] | None = None,
        priority: int | None = None,
        replace_fields: bool = False,
    ) -> ContactDetail:
        """Edit a contact's data; ``fields`` are merged (a None value removes the field).

        ``clear_timezone`` drops the contact's own zone, so its numbers' zones apply again.
        ``replace_fields``: ``fields`` replaces the custom fields whole (the agent's screen
        sends every field it shows). The numbers, status and schedule are never touched here:
        those are the disposition's, the importer's and the transfer's. The one edit for the
        supervisor's API and CLI and the agent's screen.

        Raises:
            NotFound: no such contact.
            ValidationError: a value breaks a rule (the field named).
        """
        _check_edit(name, timezone, fields, priority)
        if clear_timezone and timezone is not None:
            raise ValidationError("timezone", "give a time zone or clear it, not both", timezone)
        removed = [k for k, v in (fields or {}).items() if v is None]
        added = {k: v for k, v in (fields or {}).items() if v is not None}
        done = await self.pool.execute(
            """UPDATE contacts SET name = coalesce($2, name),
                   timezone = CASE WHEN $3 THEN NULL ELSE coalesce($4, timezone) END,
                   fields = CASE WHEN $8 THEN $6::jsonb ELSE (fields - $5::text[]) || $6::jsonb END,
                   priority = coalesce($7, priority)
               WHERE id = $1""",
            contact_id,
            name.strip() if name is not None else None,
            clear_timezone,
            timezone,
            removed,
            added,
            priority,
            replace_fields and fields is not None,
        )
        if done.split()[-1] == "0":
            raise NotFound("contact", contact_id)
        return await self.contact_detail(contact_id)

    async def export_contacts(self, query: ContactQuery) -> AsyncIterator[Sequence[object]]:
        """The header, then every matching contact as a CSV row, streamed from one snapshot.

        The filters are checked, and the columns found (the most numbers a contact has, every
        custom field name), before the first row, so a bad filter fails before anything is sent.
        """
        async with self.pool.acquire() as conn:
            args = await _args(conn, query)
            phones = await conn.fetchval(
                "SELECT coalesce(max((SELECT count(*) FROM contact_phones p WHERE p.contact_id = c.id)), 1)"
                + _FROM,
                *args,
                0,
            )
            found = await conn.fetch(
                "SELECT DISTINCT k FROM (SELECT c.fields"
                + _FROM
                + ") x, jsonb_object_keys(x.fields) k ORDER BY k",
                *args,
                0,
            )
        phones = int(phones)
        keys = [r["k"] for r in found if r["k"] not in _FIXED and not re.fullmatch(r"phone\d*", r["k"])]
        header = [
            "id", "campaign", "name", "status", "timezone",
            "phone", *[f"phone{i}" for i in range(2, phones + 1)],
            "attempts", "last_outcome", "last_attempt_at", *keys,
        ]  # fmt: skip

        def row(r: asyncpg.Record) -> list[object]:
            numbers = list(r["phones"]) + [""] * (phones - len(r["phones"]))
            fields = r["fields"] or {}
            last = r["last_attempt_at"]
            return [
                r["id"], r["campaign"], r["name"], r["status"], r["timezone"] or "",
                *numbers, r["attempts"], r["last_outcome"] or "", last.isoformat() if last else "",
                *[fields.get(k, "") for k in keys],
            ]  # fmt: skip

        return _stream(self.pool, _SELECT, [*args, 0], header, row)
