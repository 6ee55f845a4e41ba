"""What the data commands share (``contacts list|search|export``, ``attempts``, ``report``):
time options, keyset pages, CSV output to a file or standard output."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from dialer.errors import ValidationError
from dialer.store.attempt_log import MAX_PAGE
from dialer.store.csv_out import csv_text


def parse_time(value: str | None, field: str) -> dt.datetime | None:
    """An ISO date or date-time (``2026-11-30``, ``2026-11-30T08:00+01:00``); no offset: UTC."""
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(field, "not an ISO date or date-time (e.g. 2026-11-30T08:00)", value) from None


def add_page_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--after", type=int, default=0, help="the id the previous page ended at (see its last line)"
    )
    p.add_argument("--limit", type=int, default=50, help=f"rows per page (1-{MAX_PAGE}, default 50)")


def page_footer(next_after: int | None) -> str | None:
    return None if next_after is None else f"more: --after {next_after}"


async def write_csv(rows: AsyncIterator[Sequence[object]], output: str | None) -> int:
    """Write the export to ``output`` (``-`` or None: standard output); returns the rows written."""
    count = -1  # the header is not a row

    async def counted() -> AsyncIterator[Sequence[object]]:
        nonlocal count
        async for row in rows:
            count += 1
            yield row

    with contextlib.ExitStack() as stack:
        if output in (None, "-"):
            out: Any = sys.stdout
        else:
            path = Path(output)
            if not path.parent.is_dir():
                raise ValidationError("output", "the folder does not exist", str(path.parent))
            out = stack.enter_context(path.open("w", encoding="utf-8", newline=""))  # noqa: ASYNC230  # the CLI process does nothing else
        async for piece in csv_text(counted()):
            out.write(piece)
    return max(count, 0)
