"""Loading parsed CSV rows into a campaign: batches, COPY, duplicates, line-numbered rejects.

Theory of operation: :func:`dialer.contacts.csv_reader.read_contacts` streams rows already
normalised (E.164 numbers, zones derived from the numbers) or rejected with a reason. Here
they are grouped into batches; each batch is one transaction: reject rows whose number
already exists in the campaign (an earlier batch, an earlier import; one query with the
batch's numbers as arrays) or earlier in the same batch, then COPY the rest straight into
contacts and their numbers, ids drawn from the contacts' sequence in line order. A batch
that fails on the database rolls back whole and stops the import
(:class:`~dialer.errors.ImportAborted` says how far it got); earlier batches stay, so no
batch is ever half-imported. Memory stays bounded by the batch size.

Parsing and loading overlap (issue 18 item 5): the rows of the next batch are read (checked
for duplicates, held) while the database loads the current one; one batch is in flight at a
time, so batches commit in file order and each batch's duplicate query sees all before it.
Rows given as a plain iterable (the CSV reader, whose phone-number parsing is most of an
import's CPU) are pulled a batch at a time in a worker thread (:func:`_rows_of`); an async
iterable is the caller's to schedule.

Rejected rows reach ``on_reject`` in line order: the reader's rejects of a batch are held
until the batch's own (numbers already in the campaign) are known, then both go out sorted.
A dry run (``dry_run=True``) does all of it, the duplicate queries included, and rolls every
batch back: the report is what the import would do, and nothing is stored. Accepted rows
whose first number the campaign can never dial as things stand (premium, toll-free, candidate
zones without a common calling hour) are counted per reason in ``ImportReport.warnings``
(:mod:`dialer.contacts.dialability`); they are imported all the same.

Time zone: the CSV's ``timezone`` column wins. Otherwise the contact's zone is derived from
its numbers when they all point to one and the same zone; when they do not (a US area code
spanning zones, numbers in two countries) the contact's zone stays empty and eligibility
uses each number's candidate zones, requiring the calling hours to hold in all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from dialer.contacts.csv_reader import ContactRow, RejectedRow
from dialer.contacts.dialability import DialabilityTally
from dialer.contacts.phone import PhoneNumber
from dialer.errors import ImportAborted, NotFound, ValidationError

DEFAULT_BATCH = 5000

_CONTACT_COLUMNS = (
    "id",
    "campaign_id",
    "name",
    "timezone",
    "fields",
    "status_id",
    "import_batch",
    "import_line",
)
_PHONE_COLUMNS = ("contact_id", "campaign_id", "position", "e164", "kind", "timezones")

_Row = ContactRow | RejectedRow


@dataclass(frozen=True, slots=True)
class ImportReport:
    campaign: str
    imported: int
    rejected: int
    batches: int
    elapsed_s: float
    dry_run: bool = False
    # (reason, rows, first line): accepted rows the campaign's hours or the number's kind
    # make undialable in practice (dialability.py), most rows first
    warnings: list[tuple[str, int, int]] = field(default_factory=list)


class _DryRun(Exception):
    """Raised inside a dry run's batch transaction so that it rolls back."""

    def __init__(self, inserted: int, dups: list[RejectedRow]) -> None:
        self.inserted = inserted
        self.dups = dups


def _take(rows: Iterator[_Row], n: int) -> list[_Row]:
    return list(itertools.islice(rows, n))


def _settle(future: asyncio.Future[list[_Row]]) -> None:
    """Retrieve what a prefetch the import no longer waits for raised (the file closed under it)."""
    if not future.cancelled():
        future.exception()


async def _rows_of(rows: Iterable[_Row] | AsyncIterable[_Row], chunk: int) -> AsyncIterator[_Row]:
    """``rows`` in order; a plain iterable is read ``chunk`` rows ahead in a worker thread.

    One read at a time, each started when the previous one's rows are handed out: while the
    import awaits the database with a full batch, the thread parses the next one (the GIL is
    free while the loop waits on the socket). The iterator is only ever advanced by one thread.
    """
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
        return
    source = iter(rows)
    ahead = asyncio.ensure_future(asyncio.to_thread(_take, source, chunk))
    try:
        while True:
            got = await ahead
            if not got:
                return
            ahead = asyncio.ensure_future(asyncio.to_thread(_take, source, chunk))
            for row in got:
                yield row
    finally:
        if not ahead.done():
            ahead.add_done_callback(_settle)


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
    if len(row.phones) == 1:  # most rows: no set to build
        only = row.phones[0].timezones
        return only[0] if len(only) == 1 else None
    zones = {tuple(p.timezones) for p in row.phones}
    if len(zones) == 1:
        only = next(iter(zones))
        if len(only) == 1:
            return only[0]
    return None


async def import_contacts(
    pool: asyncpg.Pool,
    campaign: str,
    rows: Iterable[ContactRow | RejectedRow] | AsyncIterable[ContactRow | RejectedRow],
    *,
    status: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    source: str = "",
    on_reject: Callable[[RejectedRow], None] | None = None,
    dry_run: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``rows`` into ``campaign``; call ``on_reject`` for every rejected row, in line order.

    Args:
        rows: parsed rows, in file order (an async iterable lets the caller parse off the loop).
        status: the status imported contacts get (default: the campaign's default status).
        batch_size: rows per transaction.
        dry_run: check everything, store nothing (every batch is rolled back).
        on_batch: called after each batch with the rows imported and rejected so far (progress).

    Raises:
        NotFound: no such campaign or status.
        ValidationError: the campaign has no default status and none was given.
        ImportAborted: a batch failed on the database; it was rolled back, earlier ones kept.
    """
    started = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        camp = await conn.fetchrow(
            "SELECT id, default_status_id, local_hours_start, local_hours_end FROM campaigns WHERE name = $1",
            campaign,
        )
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

    if batch_size < 1:
        raise ValidationError("batch_size", "must be a positive number", batch_size)
    imported = rejected = batches = 0
    committed_line = 0
    own_batches: list[int] = []  # this import's batches, to tell its own rows from earlier contacts
    held: list[RejectedRow] = []  # rejects since the last flush, sent once the batch's own are known
    tally = DialabilityTally(camp["local_hours_start"], camp["local_hours_end"], started)

    def send(rows: list[RejectedRow]) -> None:
        nonlocal rejected
        rejected += len(rows)
        if on_reject is not None:
            for r in sorted(rows, key=lambda r: r.line):
                on_reject(r)

    batch: list[ContactRow] = []
    # the batch the database loads while the next one is read: its load, its rows and the
    # rejects read before it. One at a time, so batches commit in file order and each one's
    # duplicate query sees every batch before it.
    loading: tuple[asyncio.Future[tuple[int, list[RejectedRow]]], list[ContactRow], list[RejectedRow]] | None
    loading = None

    async def settle() -> None:
        """Wait for the batch being loaded; count it, send its rejects, report progress."""
        nonlocal loading, imported, batches, committed_line
        if loading is None:
            return
        load, rows_, before = loading
        loading = None
        try:
            n, dups = await load
        except _DryRun as done:
            n, dups = done.inserted, done.dups
        except asyncpg.PostgresError as e:
            raise ImportAborted(
                f"import stopped at lines {rows_[0].line}-{rows_[-1].line}: {e}; that batch was rolled back,"
                f" {imported} rows up to line {committed_line} are kept",
                committed_through_line=committed_line,
                imported=imported,
            ) from e
        duplicate = {d.line for d in dups}
        for r in rows_:
            if r.line not in duplicate:
                first = r.phones[0]
                tally.check(r.line, first.kind, first.timezones, _contact_zone(r))
        send([*before, *dups])
        imported += n
        batches += 1
        committed_line = rows_[-1].line
        if on_batch is not None:
            on_batch(imported, rejected)

    async def flush() -> None:
        """Hand the rows read so far to the database once the batch before them is in."""
        nonlocal loading
        await settle()
        if not batch:
            send(held)
        else:
            rows_ = list(batch)
            load = _load_batch(pool, camp["id"], status_id, rows_, source, dry_run, own_batches)
            loading = (asyncio.ensure_future(load), rows_, list(held))
            batch.clear()
        held.clear()

    # number -> line of the row that holds it, this batch (earlier ones are in the database, or
    # for a dry run, kept here: nothing reached the database)
    seen: dict[str, int] = {}
    try:
        async for row in _rows_of(rows, batch_size):
            if isinstance(row, RejectedRow):
                held.append(row)
                continue
            if row.timezone and not _known_zone(row.timezone):
                held.append(RejectedRow(row.line, f"unknown time zone {row.timezone!r}"))
                continue
            phones = row.phones
            numbers = [phones[0].e164] if len(phones) == 1 else list(dict.fromkeys(p.e164 for p in phones))
            dup = next((n for n in numbers if n in seen), None)
            if dup is not None:
                held.append(RejectedRow(row.line, f"duplicate of line {seen[dup]} ({dup})"))
                continue
            for n in numbers:
                seen[n] = row.line
            batch.append(row)
            if len(batch) >= batch_size:
                await flush()
                if not dry_run:
                    seen.clear()  # earlier batches reach the database first; its duplicate query sees them
        await flush()
        await settle()
    except Exception:
        await settle()  # a batch read before the fault is loaded first (or its failure raised), as before
        raise
    finally:
        if loading is not None:  # cancelled: the batch's transaction is rolled back with its load
            loading[0].cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loading[0]
    elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return ImportReport(campaign, imported, rejected, batches, elapsed, dry_run, tally.summary())


async def _load_batch(
    pool: asyncpg.Pool,
    campaign_id: int,
    status_id: int,
    batch: list[ContactRow],
    source: str,
    dry_run: bool,
    own_batches: list[int],
) -> tuple[int, list[RejectedRow]]:
    """One batch in one transaction; appends its id to ``own_batches`` (this file's batches).

    The rows' numbers are checked against the campaign first (one query with the numbers as
    arrays); the rest are COPYed straight into ``contacts`` and ``contact_phones`` with ids
    taken from the contacts' sequence in line order (issue 18 item 5: a staging table and two
    ``INSERT ... SELECT`` joins made loading alone cost twice a plain COPY).
    """
    lines: list[int] = []
    numbers: list[str] = []
    phones_of: list[list[PhoneNumber]] = []
    for r in batch:
        phones = list(r.phones) if len(r.phones) == 1 else list({p.e164: p for p in r.phones}.values())
        phones_of.append(phones)
        for p in phones:
            lines.append(r.line)
            numbers.append(p.e164)
    async with pool.acquire() as conn, conn.transaction():
        # a number already in the campaign: from an earlier batch of this same file (named by
        # its line, as the reader names a duplicate within a batch) or from before
        dup_rows = await conn.fetch(
            """SELECT DISTINCT ON (s.line) s.line, s.e164, c.import_line,
                      coalesce(c.import_batch = ANY($2::bigint[]), false) AS own
               FROM unnest($3::int[], $4::text[]) AS s(line, e164)
               JOIN contact_phones p ON p.campaign_id = $1 AND p.e164 = s.e164
               JOIN contacts c ON c.id = p.contact_id
               ORDER BY s.line, own DESC, c.import_line""",
            campaign_id,
            own_batches,
            lines,
            numbers,
        )
        duplicate = {d["line"] for d in dup_rows}
        kept = [(r, phones) for r, phones in zip(batch, phones_of, strict=True) if r.line not in duplicate]
        batch_id, ids = await conn.fetchrow(
            """WITH b AS (
                   INSERT INTO import_batches (campaign_id, source, first_line, last_line, imported)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id)
               SELECT b.id, ARRAY(SELECT nextval('contacts_id_seq') FROM generate_series(1, $5)) FROM b""",
            campaign_id,
            source,
            batch[0].line,
            batch[-1].line,
            len(kept),
        )
        contacts = []
        numbered = []
        for contact_id, (r, phones) in zip(sorted(ids), kept, strict=True):  # ids rise with the lines
            name, zone = r.name or "", _contact_zone(r)
            contacts.append((contact_id, campaign_id, name, zone, r.fields, status_id, batch_id, r.line))
            for pos, p in enumerate(phones, start=1):
                kind = p.kind or "unknown"
                numbered.append((contact_id, campaign_id, pos, p.e164, kind, list(p.timezones)))
        if contacts:
            await conn.copy_records_to_table("contacts", records=contacts, columns=_CONTACT_COLUMNS)
            await conn.copy_records_to_table("contact_phones", records=numbered, columns=_PHONE_COLUMNS)
        dups = [
            RejectedRow(
                d["line"],
                f"duplicate of line {d['import_line']} ({d['e164']})"
                if d["own"]
                else f"duplicate of a contact already in the campaign ({d['e164']})",
            )
            for d in dup_rows
        ]
        if dry_run:
            raise _DryRun(len(kept), dups)  # leaves the transaction: rolled back
        own_batches.append(batch_id)
    return len(kept), dups
