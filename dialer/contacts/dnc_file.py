"""Reading a do-not-call file (``dialer dnc import``): one number a line, or a CSV whose first
column holds the number.

Pure: text lines in, the E.164 numbers and the rejected lines out (in line order, one wording
per reason), so the command can import what is valid in one transaction and report the rest.
Blank lines and lines starting with ``#`` are skipped; a first line that is not a number
(``number``, ``phone;reason``) is taken for a header. Numbers are normalised as the contact
import does (:func:`~dialer.contacts.phone.normalize`), so a list typed nationally matches
contacts stored in E.164.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable
from dataclasses import dataclass, field

from dialer.contacts.phone import normalize
from dialer.errors import InvalidNumber, ValidationError

__all__ = ["DncFile", "decode_dnc_file", "read_dnc_lines"]


@dataclass
class DncFile:
    numbers: list[str] = field(default_factory=list)  # E.164, first occurrence order, no repeats
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)
    header: bool = False


def decode_dnc_file(data: bytes, encoding: str) -> str:
    """The text of a do-not-call file's bytes (the CLI's file, the API's upload).

    Raises:
        ValidationError: field ``encoding``: unknown, or a line is not in it (the line named).
    """
    try:
        codec = codecs.lookup(encoding).name
    except (LookupError, ValueError):  # ValueError: a name with a NUL character in it
        raise ValidationError("encoding", "unknown encoding", encoding) from None
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValidationError(
            "encoding", f"line {line} is not {encoding}; try --encoding cp1250 (Windows)", encoding
        ) from None


def _first_cell(line: str) -> str:
    dialect = ";" if line.count(";") > line.count(",") else ","
    row = next(csv.reader([line], delimiter=dialect), [""])
    return (row[0] if row else "").strip()


def read_dnc_lines(lines: Iterable[str], region: str) -> DncFile:
    """The numbers of a do-not-call file; ``region`` reads numbers without a country code.

    Raises:
        ValidationError: field ``region`` when ``region`` is no known region code.
    """
    out = DncFile()
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        text = _first_cell(line.rstrip("\r\n"))
        if not text or text.startswith("#"):
            continue
        try:
            e164 = normalize(text, region).e164
        except InvalidNumber as e:
            if number == 1 and not any(ch.isdigit() for ch in text):
                out.header = True
                continue
            out.rejected.append((number, text, e.reason))
            continue
        if e164 not in seen:
            seen.add(e164)
            out.numbers.append(e164)
    return out
