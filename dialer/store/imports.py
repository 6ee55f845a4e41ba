"""Contact import from a CSV file's bytes: the one service both ``dialer contacts import`` and
``POST /api/v1/campaigns/{campaign}/imports`` call.

The pipeline, in constant memory whatever the file's size: the bytes are split into lines and
decoded one by one (:mod:`dialer.contacts.encoding`: an undecodable byte is named by its line
and the likely Windows code page), parsed and normalised by
:func:`dialer.contacts.csv_reader.read_contacts`, and loaded in batches by
:func:`dialer.contacts.importer.import_contacts`. Parsing and normalising cost CPU (a
libphonenumber match per number): a long file is parsed in a child process
(:mod:`dialer.contacts.parser_process`), a short one in the importer's worker thread a batch
ahead; either way an import over HTTP does not stall the engine's event loop while it dials,
and the next batch is parsed while the database loads the current one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from dialer.contacts import importer
from dialer.contacts.csv_reader import ColumnMapping, ContactRow, RejectedRow
from dialer.contacts.encoding import DEFAULT_ENCODING, check_encoding
from dialer.contacts.importer import ImportReport
from dialer.contacts.parser_process import rows_of_file
from dialer.errors import ValidationError
from dialer.store.connection import PoolNoun

_Row = ContactRow | RejectedRow

__all__ = ["ImportProgress", "Imports", "column_mapping"]


@dataclass(slots=True)
class ImportProgress:
    """How far an import has come, updated as it goes (a front end reads it while it runs).

    ``bytes_read`` and ``parsed`` are counted where the file is read and parsed (a worker
    thread, a batch ahead of the load: plain int stores, read without a lock, at worst a step
    behind); ``imported``, ``rejected`` and ``batches`` after each batch is committed (or, in a
    dry run, checked and rolled back).
    """

    bytes_read: int = 0
    parsed: int = 0  # data rows read from the file, accepted or rejected by the reader
    imported: int = 0
    rejected: int = 0
    batches: int = 0

    def lines(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        for line in lines:
            self.bytes_read += len(line)
            yield line

    def rows_parsed(self, n: int) -> None:
        self.parsed += n

    def batch_done(self, imported: int, rejected: int) -> None:
        self.imported, self.rejected = imported, rejected
        self.batches += 1


def column_mapping(name: str | None, timezone: str | None, phones: str | None) -> ColumnMapping:
    """The columns as the front ends take them: names, phone columns comma-separated."""
    default = ColumnMapping()
    phone_columns = None
    if phones is not None:
        phone_columns = tuple(p.strip() for p in phones.split(",") if p.strip())
        if not phone_columns:
            raise ValidationError("phone_columns", "name at least one column", phones)
    return ColumnMapping(
        name=name or default.name, timezone=timezone or default.timezone, phones=phone_columns
    )


class Imports(PoolNoun):
    """Contact import on the shared pool."""

    async def import_csv(
        self,
        campaign: str,
        lines: Iterable[bytes],
        *,
        region: str,
        encoding: str = DEFAULT_ENCODING,
        mapping: ColumnMapping | None = None,
        status: str | None = None,
        batch_size: int = importer.DEFAULT_BATCH,
        source: str = "",
        dry_run: bool = False,
        on_reject: Callable[[RejectedRow], None] | None = None,
        progress: ImportProgress | None = None,
    ) -> ImportReport:
        """Import a CSV file's ``lines`` (a binary file, or any iterable of byte lines).

        Rejected rows go to ``on_reject`` in line order with one wording per reason;
        ``progress``, when given, is kept current as the import goes; see
        :func:`dialer.contacts.importer.import_contacts` for the rest.

        Raises:
            ValidationError: an unknown encoding or region, a bad batch size.
            CsvFormatError: the file as a whole (no header, no phone column, an undecodable line).
            NotFound: no such campaign or status.
            ImportAborted: a batch failed on the database; earlier batches are kept.
        """
        codec = check_encoding(encoding)
        # the header is read (and checked) with the first rows: before any batch is written
        rows = await rows_of_file(
            progress.lines(lines) if progress else lines,
            encoding=codec,
            region=region,
            mapping=mapping or ColumnMapping(),
            counted=progress.rows_parsed if progress else None,
        )
        return await importer.import_contacts(
            self.pool,
            campaign,
            rows,
            status=status,
            batch_size=batch_size,
            source=source,
            on_reject=on_reject,
            dry_run=dry_run,
            on_batch=progress.batch_done if progress else None,
        )
