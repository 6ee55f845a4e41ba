"""Web callback requests (seed 003 "oddzwanianie internetowe"): websites, their keys, the requests.

Theory of operation: a website is a *callback site* with its own API key (only the key's
SHA-256 is stored) and the one campaign it books into. :meth:`WebCallbacks.request_web_callback`
takes one request from outside and, in one transaction: counts the site's requests for the
number and for the source address in the last hour (every request is recorded, accepted or
refused, so the limits count attempts, not successes), refuses a number on a do-not-call list
with the same answer as an accepted request minus the booking (the caller learns nothing
about the list), answers a repeat of a pending request with the callback already booked
(deduplication), finds or adds the contact by number, and books the wanted slot -- or the slot
containing the wanted time -- in the campaign's grid like any callback. The callback's
``source`` is ``web``: agents see it as a web callback preview and reschedule it as any other.

A site names the *origins* its pages call from (CORS, :mod:`dialer.callbacks.sites`); a key is
rotated (a new one, the old one refused at once) or the site revoked, which keeps its row and
its request history -- the hourly limits and the audit still count them -- and refuses its key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from dialer.callbacks.grid import find_slot, slots_between
from dialer.callbacks.sites import parse_origins
from dialer.errors import NotFound, RateLimited, SlotUnavailable, ValidationError
from dialer.model import Callback
from dialer.store.callback_grid import book_slot, grid_of
from dialer.store.callbacks import act_as, read_callback
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun

__all__ = ["WebCallbackResult", "WebCallbacks", "WebSite", "site_key_hash"]

#: Requests per number and per source address per hour (issue 13), per site.
PER_NUMBER_PER_HOUR = 3
PER_SOURCE_PER_HOUR = 20


def site_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_key(key: str) -> None:
    if len(key) < 16:
        raise ValidationError("key", "an API key needs at least 16 characters")


@dataclass(frozen=True, slots=True)
class WebSite:
    id: int
    name: str
    campaign: str
    origins: tuple[str, ...] = ()
    created_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    key_rotated_at: dt.datetime | None = None


_SITE_SQL = """SELECT s.id, s.name, c.name AS campaign, s.origins, s.created_at, s.revoked_at,
       s.key_rotated_at
FROM callback_sites s JOIN campaigns c ON c.id = s.campaign_id"""


def _site(row: asyncpg.Record) -> WebSite:
    return WebSite(
        row["id"],
        row["name"],
        row["campaign"],
        tuple(row["origins"]),
        row["created_at"],
        row["revoked_at"],
        row["key_rotated_at"],
    )


@dataclass(frozen=True, slots=True)
class WebCallbackResult:
    """What the website is told: the booked slot; ``callback`` None when the number is refused."""

    accepted: bool
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    duplicate: bool
    callback: Callback | None


class WebCallbacks(PoolNoun):
    """Callback sites and web callback requests on the shared pool."""

    async def add_callback_site(
        self, name: str, campaign: str, key: str, origins: Sequence[str] = ()
    ) -> WebSite:
        """Register a website, its API key (kept only as a hash) and the origins it calls from.

        Raises:
            NotFound: no such campaign. ValidationError: an empty name, a short key, a name
            taken, an origin that is not ``scheme://host[:port]``.
        """
        if not name.strip():
            raise ValidationError("name", "must not be empty")
        _check_key(key)
        allowed = parse_origins(origins)
        async with self.pool.acquire() as conn:
            cid = await campaign_id_of(conn, campaign)
            try:
                sid = await conn.fetchval(
                    "INSERT INTO callback_sites (name, campaign_id, key_hash, origins)"
                    " VALUES ($1, $2, $3, $4) RETURNING id",
                    name,
                    cid,
                    site_key_hash(key),
                    list(allowed),
                )
            except asyncpg.UniqueViolationError:
                raise ValidationError(
                    "name", "a site of that name exists (revoked sites keep their names)", name
                ) from None
            return _site(await conn.fetchrow(_SITE_SQL + " WHERE s.id = $1", sid))

    async def list_callback_sites(self, campaign: str | None = None) -> list[WebSite]:
        """Every site (revoked ones too), by name; only ``campaign``'s when given.

        Raises:
            NotFound: no such campaign.
        """
        async with self.pool.acquire() as conn:
            if campaign is None:
                rows = await conn.fetch(_SITE_SQL + " ORDER BY s.name")
            else:
                cid = await campaign_id_of(conn, campaign)
                rows = await conn.fetch(_SITE_SQL + " WHERE s.campaign_id = $1 ORDER BY s.name", cid)
        return [_site(r) for r in rows]

    async def get_callback_site(self, name: str) -> WebSite:
        """Raises: NotFound: no site of that name."""
        row = await self.pool.fetchrow(_SITE_SQL + " WHERE s.name = $1", name)
        if row is None:
            raise NotFound("callback site", name)
        return _site(row)

    async def set_callback_site_origins(self, name: str, origins: Sequence[str]) -> WebSite:
        """Replace the origins a site's pages may call from (an empty list: server-to-server only).

        Raises:
            NotFound: no such site. ValidationError: an origin is not ``scheme://host[:port]``.
        """
        allowed = parse_origins(origins)
        row = await self.pool.fetchrow(
            "UPDATE callback_sites SET origins = $2 WHERE name = $1 RETURNING id", name, list(allowed)
        )
        if row is None:
            raise NotFound("callback site", name)
        return await self.get_callback_site(name)

    async def rotate_callback_site_key(self, name: str, key: str, *, at: dt.datetime) -> WebSite:
        """Give a site a new key; the old one is refused from this moment.

        Raises:
            NotFound: no such site. ValidationError: a short key, or the site is revoked.
        """
        _check_key(key)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT revoked_at FROM callback_sites WHERE name = $1 FOR UPDATE", name
            )
            if row is None:
                raise NotFound("callback site", name)
            if row["revoked_at"] is not None:
                raise ValidationError("site", "is revoked: add a new site instead", name)
            await conn.execute(
                "UPDATE callback_sites SET key_hash = $2, key_rotated_at = $3 WHERE name = $1",
                name,
                site_key_hash(key),
                at,
            )
        return await self.get_callback_site(name)

    async def revoke_callback_site(self, name: str, *, at: dt.datetime) -> WebSite:
        """Refuse the site's key from now on; its row and its requests stay (revoking twice is
        harmless: the first time is kept).

        Raises:
            NotFound: no such site.
        """
        row = await self.pool.fetchrow(
            "UPDATE callback_sites SET revoked_at = coalesce(revoked_at, $2) WHERE name = $1 RETURNING id",
            name,
            at,
        )
        if row is None:
            raise NotFound("callback site", name)
        return await self.get_callback_site(name)

    async def callback_site_by_key(self, key: str) -> WebSite | None:
        """The site in use whose key this is (None: unknown, or the site is revoked)."""
        row = await self.pool.fetchrow(
            _SITE_SQL + " WHERE s.key_hash = $1 AND s.revoked_at IS NULL", site_key_hash(key)
        )
        return None if row is None else _site(row)

    async def callback_origin_known(self, origin: str) -> bool:
        """Whether a site in use names ``origin`` (the CORS preflight, before any key is seen)."""
        return bool(
            await self.pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM callback_sites WHERE origins @> ARRAY[$1::text]"
                " AND revoked_at IS NULL)",
                origin,
            )
        )

    async def request_web_callback(
        self,
        site: WebSite,
        *,
        e164: str,
        name: str,
        consent_text: str,
        source_addr: str,
        at: dt.datetime,
        wanted_at: dt.datetime | None = None,
        slot_at: dt.datetime | None = None,
        timezones: Sequence[str] = (),
        region: str | None = None,
    ) -> WebCallbackResult:
        """Book a web callback request (see the module docstring); ``e164`` is already validated.

        Raises:
            RateLimited: the number's or the address's hourly limit is reached.
            ValidationError: the number is not of the grid's regions (``region``: the number's).
            ValidationError / SlotUnavailable: no grid, the time is not in a free slot or past.
        """
        if (wanted_at is None) == (slot_at is None):
            raise ValidationError("wanted_at", "give one of wanted_at and slot")
        hour_ago = at - dt.timedelta(hours=1)
        async with self.pool.acquire() as conn, conn.transaction():
            await act_as(conn, f"web:{site.name}")
            cid = await campaign_id_of(conn, site.campaign)
            await conn.execute(
                "SELECT pg_advisory_xact_lock(1314, $1)", site.id
            )  # one site's counts at a time
            counts = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE e164 = $2) AS by_number,
                          count(*) FILTER (WHERE source_addr = $3) AS by_source
                   FROM web_callback_requests WHERE site_id = $1 AND requested_at > $4
                     AND (e164 = $2 OR source_addr = $3)""",
                site.id,
                e164,
                source_addr,
                hour_ago,
            )
            if counts["by_number"] >= PER_NUMBER_PER_HOUR:
                raise RateLimited("number", f"at most {PER_NUMBER_PER_HOUR} requests per number an hour")
            if counts["by_source"] >= PER_SOURCE_PER_HOUR:
                raise RateLimited("source", f"at most {PER_SOURCE_PER_HOUR} requests per address an hour")

            async def record(outcome: str, callback_id: int | None) -> None:
                await conn.execute(
                    "INSERT INTO web_callback_requests"
                    " (site_id, e164, source_addr, requested_at, callback_id, outcome)"
                    " VALUES ($1, $2, $3, $4, $5, $6)",
                    site.id,
                    e164,
                    source_addr,
                    at,
                    callback_id,
                    outcome,
                )

            listed = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM do_not_call"
                " WHERE e164 = $1 AND (campaign_id IS NULL OR campaign_id = $2))",
                e164,
                cid,
            )
            if listed:
                await record("refused", None)
                return WebCallbackResult(False, None, None, False, None)
            grid = await grid_of(conn, cid)
            if grid is not None and grid[0].regions and region not in grid[0].regions:
                allowed = ", ".join(sorted(grid[0].regions))
                raise ValidationError(
                    "number", f"the campaign takes web callbacks for numbers of {allowed}", e164
                )
            start = slot_at if slot_at is not None else await _slot_containing(conn, cid, wanted_at)
            same = await conn.fetchrow(
                """SELECT b.* FROM callbacks b JOIN contact_phones p ON p.id = b.phone_id
                   WHERE b.campaign_id = $1 AND b.source = 'web' AND b.state = 'pending' AND p.e164 = $2""",
                cid,
                e164,
            )
            if same is not None:
                await record("duplicate", same["id"])
                cb = await read_callback(conn, same["id"])
                return WebCallbackResult(True, cb.due_at, cb.window_end_at, True, cb)
            slot_id, slot = await book_slot(conn, cid, start, at)
            contact_id, phone_id = await _contact_for(conn, cid, e164, name, timezones)
            cb_id = await conn.fetchval(
                """INSERT INTO callbacks (contact_id, campaign_id, kind, source, phone_id, slot_id, due_at,
                       window_end_at, requester_name, consent_text)
                   VALUES ($1, $2, 'campaign', 'web', $3, $4, $5, $6, $7, $8) RETURNING id""",
                contact_id,
                cid,
                phone_id,
                slot_id,
                slot.starts_at,
                slot.ends_at,
                name,
                consent_text,
            )
            await conn.execute(
                "UPDATE contacts SET callback_due_at = (SELECT min(due_at) FROM callbacks"
                " WHERE contact_id = $1 AND state = 'pending') WHERE id = $1",
                contact_id,
            )
            await record("booked", cb_id)
            cb = await read_callback(conn, cb_id)
            return WebCallbackResult(True, slot.starts_at, slot.ends_at, False, cb)


async def _slot_containing(
    conn: asyncpg.Connection, campaign_id: int, wanted_at: dt.datetime | None
) -> dt.datetime:
    """The start of the grid's slot that contains ``wanted_at``."""
    assert wanted_at is not None
    found = await grid_of(conn, campaign_id)
    if found is None:
        raise ValidationError("campaign", "the campaign takes no web callbacks (it has no callback grid)")
    spec = found[0]
    length = dt.timedelta(minutes=spec.slot_min)
    for slot in slots_between(spec, wanted_at - length, wanted_at + dt.timedelta(seconds=1)):
        if slot.starts_at <= wanted_at < slot.ends_at and find_slot(spec, slot.starts_at) is not None:
            return slot.starts_at
    raise SlotUnavailable("wanted_at", "is outside the campaign's callback hours", wanted_at.isoformat())


async def _contact_for(
    conn: asyncpg.Connection, campaign_id: int, e164: str, name: str, timezones: Sequence[str]
) -> tuple[int, int]:
    """The campaign's contact with this number (the first), or a new one: (contact id, phone id)."""
    row = await conn.fetchrow(
        "SELECT contact_id, id FROM contact_phones WHERE campaign_id = $1 AND e164 = $2 ORDER BY id LIMIT 1",
        campaign_id,
        e164,
    )
    if row is not None:
        return row["contact_id"], row["id"]
    status_id = await conn.fetchval("SELECT default_status_id FROM campaigns WHERE id = $1", campaign_id)
    if status_id is None:
        raise NotFound("default status of campaign", campaign_id)
    contact_id = await conn.fetchval(
        "INSERT INTO contacts (campaign_id, name, status_id, fields) VALUES ($1, $2, $3, $4) RETURNING id",
        campaign_id,
        name,
        status_id,
        {"source": "web callback"},
    )
    phone_id = await conn.fetchval(
        "INSERT INTO contact_phones (contact_id, campaign_id, position, e164, timezones)"
        " VALUES ($1, $2, 1, $3, $4) RETURNING id",
        contact_id,
        campaign_id,
        e164,
        list(timezones),
    )
    return contact_id, phone_id
