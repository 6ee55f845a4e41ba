"""CSV text of exported rows, for both front ends (the CLI writes it, the API streams it).

RFC 4180 quoting, ``\\r\\n`` line ends (what spreadsheets expect), one line at a time: an
export of any size is formatted in constant memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence

__all__ = ["csv_text"]


async def csv_text(rows: AsyncIterator[Sequence[object]], *, chunk_rows: int = 200) -> AsyncIterator[str]:
    """``rows`` as CSV, ``chunk_rows`` lines per piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    count = 0
    async for row in rows:
        writer.writerow(row)
        count += 1
        if count >= chunk_rows:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            count = 0
    if buffer.tell():
        yield buffer.getvalue()
