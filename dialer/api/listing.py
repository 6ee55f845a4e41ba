"""What the data lists share: the keyset page's parameters, and a CSV download as a streamed
response (with how the OpenAPI document describes one).

The rows come from the store's export (one snapshot through a server-side cursor) and leave
as they are formatted (:func:`dialer.store.csv_out.csv_text`): no export is ever held whole in
the engine's memory. The store checks the filters before the first row, so a bad filter is a
4xx body, never a cut-off download.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse

from dialer.api.schemas import MAX_ID
from dialer.store.attempt_log import MAX_PAGE
from dialer.store.csv_out import csv_text

__all__ = ["CSV_RESPONSE", "Page", "csv_download"]


@dataclass(frozen=True, slots=True)
class PageParams:
    after: int
    limit: int


def page_params(
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the next_after of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> PageParams:
    return PageParams(after, limit)


Page = Annotated[PageParams, Depends(page_params)]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "CSV, header row first", "content": {"text/csv": {"schema": {"type": "string"}}}}
}


def csv_download(rows: AsyncIterator[Sequence[object]], filename: str) -> StreamingResponse:
    return StreamingResponse(
        csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
