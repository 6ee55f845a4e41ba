"""Contact CSV files: a stream of lines in, one accepted or rejected row per record out.

Theory of operation
-------------------
:func:`read_contacts` is a generator over a text stream, so a file of any size is read in
constant memory apart from the set of numbers already accepted (needed to report duplicates:
a row any of whose numbers an earlier accepted row holds is a duplicate of that line, one
wording whatever the column or the batch).
The whole-file checks (is there a header, is there a ``phone`` column, are the mapped
columns there) happen before the first row and raise :class:`~dialer.errors.CsvFormatError`;
from then on every record yields exactly one :class:`ContactRow` or :class:`RejectedRow` and a
bad record never stops the ones after it. Storing the rows (COPY, transactions) is the
store's business; this module does no I/O beyond iterating the stream it is given.

Line numbers are physical lines of the file where the record starts, the header being line
1, so a quoted cell spanning lines or a blank line shifts later numbers exactly as an editor
shows them. For that the stream must yield the file's lines as they are: open the file with
``newline=""`` (what the :mod:`csv` module asks for anyway).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import available_timezones

from dialer.contacts.phone import PhoneNumber, check_region, normalize, zone_for
from dialer.errors import CsvFormatError, InvalidNumber

__all__ = ["ColumnMapping", "ContactRow", "RejectedRow", "raw_records", "read_contacts"]

_BOM = "\ufeff"
_EXTRA_PHONE = re.compile(r"^phone(\d+)$")
_SYSTEM_ALIASES = {"localtime", "posixrules"}
_ZONE_MEMO = 1024  # distinct time-zone spellings remembered per file; a file has a few dozen


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which header names hold what; every other column becomes a custom field.

    Header names are matched case-insensitively. ``name`` and ``timezone`` are optional
    columns under their default names; a column mapped to another name must exist.
    """

    name: str = "name"
    timezone: str = "timezone"
    # None: auto — "phone", then "phone2", "phone3", ... in header order
    phones: tuple[str, ...] | None = None


_DEFAULT_MAPPING = ColumnMapping()


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One accepted record, numbers normalised, ready to be stored."""

    line: int  # line number in the file; the header is line 1
    name: str | None
    phones: tuple[PhoneNumber, ...]  # in column order; empty cells of phone2.. skipped; at least one
    timezone: str | None  # given (a valid IANA zone) or zone_for(first number) or None
    fields: dict[str, str]  # every other non-empty column, by header name

    def __reduce__(self) -> tuple[type[ContactRow], tuple[object, ...]]:
        # a long file's rows are pickled from the parser process (parser_process.py); the
        # dataclass default (a getstate walking fields(), a setattr per field) cost 2-3x
        return ContactRow, (self.line, self.name, self.phones, self.timezone, self.fields)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """One record that was not accepted, and why, in words for the operator."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class _Layout:
    """Column positions resolved from the header once, used for every row."""

    names: tuple[str, ...]
    phones: tuple[int, ...]
    name: int | None
    timezone: int | None
    fields: tuple[int, ...]


def read_contacts(
    stream: Iterable[str], *, default_region: str, mapping: ColumnMapping = _DEFAULT_MAPPING
) -> Iterator[ContactRow | RejectedRow]:
    """Read contacts from CSV lines with a header row.

    Args:
        stream: the file's lines (a text file opened with ``newline=""``, or any iterable of lines).
        default_region: region for numbers written without a country code ("PL").
        mapping: where the name, time zone and phone numbers are.

    Yields:
        A :class:`ContactRow` or a :class:`RejectedRow` per record, in file order. Blank lines
        are skipped. Reasons: ``missing value in column phone``, ``invalid number in column
        phone2: '12' (too short)``, ``duplicate of line 7 (+48221234567)``, ``unknown time zone
        'Mars/Base'``, ``wrong number of columns: 5, header has 4``, ``unreadable CSV: ...``.

    Raises:
        CsvFormatError: for the file as a whole (empty, no header, no phone column, duplicate
            header names, a mapped column missing, undecodable text); raised before the first
            row except for undecodable text, which can appear anywhere.
        ValidationError: ``default_region`` is not a region code (field ``region``).
    """
    region = check_region(default_region)
    lines = iter(stream)
    skipped, first = _header_line(_decoded(lines, 1))
    if first is None:
        raise CsvFormatError("file", "empty file: no header row")
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(itertools.chain([first], _decoded(lines, skipped + 2)), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as e:
        raise CsvFormatError("header", f"unreadable header row: {e}") from None
    layout = _layout(header, mapping)
    seen: dict[int, int] = {}  # e164 digits -> line of the accepted row that holds it
    zones = _ZoneNames()
    while True:
        line = skipped + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if skipped + reader.line_num + 1 == line:  # nothing consumed: the reader cannot go on
                raise CsvFormatError("file", f"unreadable CSV at line {line}: {e}") from None
            yield RejectedRow(line, f"unreadable CSV: {e}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        yield _row(line, row, layout, region, seen, zones)


def _header_line(lines: Iterator[str]) -> tuple[int, str | None]:
    """The blank lines skipped before the header, and the header line (BOM dropped); None: empty."""
    skipped = 0
    for raw in lines:
        if skipped == 0 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if raw.strip():
            return skipped, raw
        skipped += 1
    return skipped, None


def raw_records(stream: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Every record of the file as cells, with the line it starts on, numbered as
    :func:`read_contacts` numbers them (the header is the first): a rejects file copies
    the rejected rows as the operator wrote them."""
    lines = iter(stream)
    skipped, first = _header_line(lines)
    if first is None:
        return
    reader = csv.reader(itertools.chain([first], lines), delimiter=_sniff_delimiter(first))
    while True:
        line = skipped + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            continue
        yield line, row


def _decoded(lines: Iterator[str], first_line: int) -> Iterator[str]:
    """Pass lines through, turning a decoding failure into a whole-file error with a line number."""
    number = first_line
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError as e:
            raise CsvFormatError(
                "file", f"not valid text in the expected encoding near line {number}: {e.reason}"
            ) from None
        yield line
        number += 1


def _sniff_delimiter(header_line: str) -> str:
    # Polish Excel writes ';' (the comma is the decimal separator there); some tools write tabs.
    if "," not in header_line and ";" in header_line:
        return ";"
    if "," not in header_line and "\t" in header_line:
        return "\t"
    return ","


def _layout(header: list[str], mapping: ColumnMapping) -> _Layout:
    names = tuple(h.strip() for h in header)
    if not any(names):
        raise CsvFormatError("header", "no column names in the first row")
    index: dict[str, int] = {}
    for pos, column_name in enumerate(names):
        if not column_name:
            raise CsvFormatError("header", f"column {pos + 1} has no name", header)
        key = column_name.casefold()
        if key in index:
            raise CsvFormatError("header", f"duplicate column name {column_name!r}", header)
        index[key] = pos

    def find(column: str, what: str, *, required: bool) -> int | None:
        pos = index.get(column.strip().casefold())
        if pos is None and required:
            raise CsvFormatError("header", f"mapped {what} column {column!r} missing", list(names))
        return pos

    phones: tuple[int, ...]
    if mapping.phones is None:
        if "phone" not in index:
            raise CsvFormatError(
                "header", "no 'phone' column (phone2, phone3, ... add more numbers)", list(names)
            )
        extra = [pos for pos, n in enumerate(names) if _EXTRA_PHONE.match(n.casefold())]
        phones = (index["phone"], *extra)
    else:
        if not mapping.phones:
            raise CsvFormatError("phones", "map at least one phone column")
        found = [find(c, "phone", required=True) for c in mapping.phones]
        phones = tuple(p for p in found if p is not None)
        if len(set(phones)) != len(phones):
            raise CsvFormatError("phones", "a column is mapped twice", list(mapping.phones))
    # Optional under their default names; a name the user chose must be there.
    name = find(mapping.name, "name", required=mapping.name != _DEFAULT_MAPPING.name)
    timezone = find(mapping.timezone, "timezone", required=mapping.timezone != _DEFAULT_MAPPING.timezone)
    for what, role in (("name", name), ("timezone", timezone)):
        if role is not None and (role in phones or (what == "timezone" and role == name)):
            raise CsvFormatError(what, f"column {names[role]!r} is mapped to two roles")
    special = {*phones, name, timezone}
    return _Layout(
        names=names,
        phones=phones,
        name=name,
        timezone=timezone,
        fields=tuple(pos for pos in range(len(names)) if pos not in special),
    )


def _row(
    line: int, row: list[str], layout: _Layout, region: str, seen: dict[int, int], zones: _ZoneNames
) -> ContactRow | RejectedRow:
    if len(row) != len(layout.names):
        return RejectedRow(line, f"wrong number of columns: {len(row)}, header has {len(layout.names)}")
    phones: list[PhoneNumber] = []
    for rank, pos in enumerate(layout.phones):
        value = row[pos].strip()
        column = layout.names[pos]
        if not value:
            if rank == 0:
                return RejectedRow(line, f"missing value in column {column}")
            continue
        try:
            number = normalize(value, region)
        except InvalidNumber as e:
            return RejectedRow(line, f"invalid number in column {column}: {value!r} ({e.reason})")
        if all(number.e164 != p.e164 for p in phones):
            phones.append(number)
    timezone: str | None = None
    if layout.timezone is not None:
        timezone = row[layout.timezone].strip() or None
    if timezone is not None:
        canonical = zones.canonical(timezone)
        if canonical is None:
            return RejectedRow(line, f"unknown time zone {timezone!r}")
        timezone = canonical
    for number in phones:
        earlier = seen.get(int(number.e164[1:]))
        if earlier is not None:
            return RejectedRow(line, f"duplicate of line {earlier} ({number.e164})")
    for number in phones:
        seen.setdefault(int(number.e164[1:]), line)
    name = row[layout.name].strip() if layout.name is not None else ""
    return ContactRow(
        line=line,
        name=name or None,
        phones=tuple(phones),
        timezone=timezone if timezone is not None else zone_for(phones[0]),
        fields={layout.names[pos]: row[pos].strip() for pos in layout.fields if row[pos].strip()},
    )


class _ZoneNames:
    """Time-zone cells to canonical IANA names, remembered for one file.

    Only names in the IANA database count (``zoneinfo.available_timezones`` less the system
    aliases "localtime" and "posixrules", which name this machine's settings, not a place),
    because the store hands these names to PostgreSQL's ``AT TIME ZONE``. Matching is
    case-insensitive: "europe/warsaw" is what people type.
    """

    def __init__(self) -> None:
        self._memo: dict[str, str | None] = {}
        self._folded: dict[str, str] | None = None

    def canonical(self, name: str) -> str | None:
        if name in self._memo:
            return self._memo[name]
        if self._folded is None:
            self._folded = {z.casefold(): z for z in available_timezones() - _SYSTEM_ALIASES}
        if len(self._memo) >= _ZONE_MEMO:
            self._memo.clear()
        found = self._memo[name] = self._folded.get(name.casefold())
        return found
