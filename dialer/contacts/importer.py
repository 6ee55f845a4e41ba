"""Loading parsed CSV rows into a campaign: batches, COPY, duplicates, line-numbered rejects.

Theory of operation: :func:`dialer.contacts.csv_reader.read_contacts` streams rows already
normalised (E.164 numbers, zones derived from the numbers) or rejected with a reason. Here
they are grouped into batches; each batch is one transaction: COPY into a temporary staging
table, reject rows whose number already exists in the campaign (an earlier batch, an
earlier import) or earlier in the same batch, then insert contacts and their numbers with
two set-based statements. A batch that fails on the database rolls back whole and stops the
import (:class:`~dialer.errors.ImportAborted` says how far it got); earlier batches stay,
so no batch is ever half-imported. Memory stays bounded by the batch size.

Time zone: the CSV's ``timezone`` column wins. Otherwise the contact's zone is derived from
its numbers when they all point to one and the same zone; when they do not (a US area code
spanning zones, numbers in two countries) the contact's zone stays empty and eligibility
uses each number's candidate zones, requiring the calling hours to hold in all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from dialer.contacts.csv_reader import ContactRow, RejectedRow
from dialer.errors import ImportAborted, NotFound, ValidationError

DEFAULT_BATCH = 5000

_STAGING_COLUMNS = ("line", "name", "timezone", "fields", "phones", "kinds", "zones")


@dataclass(frozen=True, slots=True)
class ImportReport:
    campaign: str
    imported: int
    rejected: int
    batches: int
    elapsed_s: float


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _contact_zone(row: ContactRow) -> str | None:
    if row.timezone:
        return row.timezone
    zones = {tuple(p.timezones) for p in row.phones}
    if len(zones) == 1:
        only = next(iter(zones))
        if len(only) == 1:
            return only[0]
    return None


async def import_contacts(
    pool: asyncpg.Pool,
    campaign: str,
    rows: Iterable[ContactRow | RejectedRow],
    *,
    status: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    source: str = "",
    on_reject: Callable[[RejectedRow], None] | None = None,
) -> ImportReport:
    """Import ``rows`` into ``campaign``; call ``on_reject`` for every rejected row.

    Args:
        status: the status imported contacts get (default: the campaign's default status).
        batch_size: rows per transaction.

    Raises:
        NotFound: no such campaign or status.
        ValidationError: the campaign has no default status and none was given.
        ImportAborted: a batch failed on the database; it was rolled back, earlier ones kept.
    """
    started = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        camp = await conn.fetchrow("SELECT id, default_status_id FROM campaigns WHERE name = $1", campaign)
        if camp is None:
            raise NotFound("campaign", campaign)
        if status is None:
            status_id = camp["default_status_id"]
            if status_id is None:
                raise ValidationError("status", f"campaign {campaign} has no default status; give one")
        else:
            status_id = await conn.fetchval(
                """SELECT s.id FROM campaign_statuses cs JOIN statuses s ON s.id = cs.status_id
                   WHERE cs.campaign_id = $1 AND s.name = $2""",
                camp["id"],
                status,
            )
            if status_id is None:
                raise NotFound("status", status)

    imported = rejected = batches = 0
    committed_line = 0

    def reject(r: RejectedRow) -> None:
        nonlocal rejected
        rejected += 1
        if on_reject is not None:
            on_reject(r)

    batch: list[ContactRow] = []

    async def flush() -> None:
        nonlocal imported, batches, committed_line
        if not batch:
            return
        try:
            n, dups = await _load_batch(pool, camp["id"], status_id, batch, source)
        except asyncpg.PostgresError as e:
            raise ImportAborted(
                f"import stopped at lines {batch[0].line}-{batch[-1].line}: {e}; that batch was rolled back,"
                f" {imported} rows up to line {committed_line} are kept",
                committed_through_line=committed_line,
                imported=imported,
            ) from e
        for d in dups:
            reject(d)
        imported += n
        batches += 1
        committed_line = batch[-1].line
        batch.clear()

    seen: set[str] = set()
    for row in rows:
        if isinstance(row, RejectedRow):
            reject(row)
            continue
        if row.timezone and not _known_zone(row.timezone):
            reject(RejectedRow(row.line, f"timezone: unknown time zone {row.timezone!r}"))
            continue
        numbers = list(dict.fromkeys(p.e164 for p in row.phones))
        dup = next((n for n in numbers if n in seen), None)
        if dup is not None:
            reject(RejectedRow(row.line, f"duplicate: {dup} appears earlier in the file"))
            continue
        seen.update(numbers)
        batch.append(row)
        if len(batch) >= batch_size:
            await flush()
            seen.clear()  # earlier batches are in the database now; the duplicate query sees them
    await flush()
    elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return ImportReport(campaign, imported, rejected, batches, elapsed)


async def _load_batch(
    pool: asyncpg.Pool, campaign_id: int, status_id: int, batch: list[ContactRow], source: str
) -> tuple[int, list[RejectedRow]]:
    records = []
    for r in batch:
        phones = list({p.e164: p for p in r.phones}.values())
        records.append(
            (
                r.line,
                r.name or "",
                _contact_zone(r),
                r.fields,
                [p.e164 for p in phones],
                [p.kind or "unknown" for p in phones],
                [list(p.timezones) for p in phones],
            )
        )
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """CREATE TEMP TABLE import_staging (line integer PRIMARY KEY, name text, timezone text,
                   fields jsonb, phones text[], kinds text[], zones jsonb) ON COMMIT DROP"""
        )
        await conn.copy_records_to_table("import_staging", records=records, columns=_STAGING_COLUMNS)
        dup_rows = await conn.fetch(
            """SELECT DISTINCT ON (s.line) s.line, x.e164
               FROM import_staging s CROSS JOIN LATERAL unnest(s.phones) AS x(e164)
               WHERE EXISTS (SELECT 1 FROM contact_phones p WHERE p.campaign_id = $1 AND p.e164 = x.e164)
               ORDER BY s.line""",
            campaign_id,
        )
        if dup_rows:
            await conn.execute(
                "DELETE FROM import_staging WHERE line = ANY($1::int[])", [d["line"] for d in dup_rows]
            )
        batch_id = await conn.fetchval(
            """INSERT INTO import_batches (campaign_id, source, first_line, last_line, imported)
               VALUES ($1, $2, $3, $4, 0) RETURNING id""",
            campaign_id,
            source,
            batch[0].line,
            batch[-1].line,
        )
        inserted = await conn.fetchval(
            """WITH ins AS (
                   INSERT INTO contacts (campaign_id, name, timezone, fields, status_id, import_batch,
                                         import_line)
                   SELECT $1, name, timezone, fields, $2, $3, line FROM import_staging ORDER BY line
                   RETURNING 1)
               SELECT count(*) FROM ins""",
            campaign_id,
            status_id,
            batch_id,
        )
        await conn.execute(
            """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, kind, timezones)
               SELECT c.id, $1, x.pos, x.e164, s.kinds[x.pos],
                      ARRAY(SELECT jsonb_array_elements_text(s.zones -> (x.pos::int - 1)))
               FROM import_staging s
               JOIN contacts c ON c.import_batch = $2 AND c.import_line = s.line
               CROSS JOIN LATERAL unnest(s.phones) WITH ORDINALITY AS x(e164, pos)""",
            campaign_id,
            batch_id,
        )
        await conn.execute("UPDATE import_batches SET imported = $2 WHERE id = $1", batch_id, inserted)
    dups = [RejectedRow(d["line"], f"duplicate: {d['e164']} is already in the campaign") for d in dup_rows]
    return int(inserted), dups
