"""A CSV download as a streamed response, and how the OpenAPI document describes one.

The rows come from the store's export (one snapshot through a server-side cursor) and leave
as they are formatted (:func:`dialer.store.csv_out.csv_text`): no export is ever held whole in
the engine's memory. The store checks the filters before the first row, so a bad filter is a
4xx body, never a cut-off download.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from dialer.store.csv_out import csv_text

__all__ = ["CSV_RESPONSE", "csv_download"]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "CSV, header row first", "content": {"text/csv": {"schema": {"type": "string"}}}}
}


def csv_download(rows: AsyncIterator[Sequence[object]], filename: str) -> StreamingResponse:
    return StreamingResponse(
        csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
