"""CSV text of exported rows, for both front ends (the CLI writes it, the API streams it).

RFC 4180 quoting, ``\\r\\n`` line ends (what spreadsheets expect), one line at a time: an
export of any size is formatted in constant memory.

Formula injection (OWASP "CSV Injection"): a cell a spreadsheet would read as a formula —
text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return — is written with a
leading ``'``, which makes it text; contact names, custom fields and their names come from
imported files and web forms, so any of them may be ``=HYPERLINK(...)``. A phone number in
E.164 (``+48600123456``) is left as it is: it starts with ``+`` but is no formula, and every
export shows numbers that way.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Sequence

__all__ = ["csv_text", "neutralise"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def neutralise(cell: object) -> object:
    """``cell`` as a spreadsheet will show it as text, never run it (see the module docstring)."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START) and not _E164.fullmatch(cell):
        return "'" + cell
    return cell


async def csv_text(rows: AsyncIterator[Sequence[object]], *, chunk_rows: int = 200) -> AsyncIterator[str]:
    """``rows`` as CSV, ``chunk_rows`` lines per piece, formula-like text cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    count = 0
    async for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        count += 1
        if count >= chunk_rows:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            count = 0
    if buffer.tell():
        yield buffer.getvalue()
