"""Contact import over HTTP: ``POST /api/v1/campaigns/{campaign}/imports`` (multipart upload).

The same service as ``dialer contacts import``: :meth:`~dialer.store.imports.Imports.import_csv`
(encoding, parsing, batches, duplicates, dry run, undialable-number warnings). The upload is
spooled by the framework to a temporary file (the first megabyte in memory, the rest on
disk) and read from there line by line, so a 200,000-row file never sits in the engine's
memory; rows are parsed in a worker thread, off the event loop that dials. The response
lists the rejected rows in line order, the first ``max_rejects`` of them (the count is
always whole).
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, File, Path, Query, UploadFile

from dialer.api.context import Ctx, Supervisor
from dialer.api.data_schemas import ImportOut, RejectOut, import_out
from dialer.contacts.csv_reader import RejectedRow
from dialer.store.imports import column_mapping

log = structlog.get_logger(__name__)

router = APIRouter(tags=["contacts"])

Column = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.post(
    "/campaigns/{campaign}/imports",
    response_model=ImportOut,
    summary="Import contacts from a CSV upload (per-row rejects in the response)",
)
async def import_contacts(
    ctx: Ctx,
    user: Supervisor,
    campaign: Annotated[str, Path(min_length=1, max_length=200)],
    file: Annotated[UploadFile, File(description="the CSV file: header row, a phone column")],
    encoding: Annotated[str, Query(min_length=1, max_length=40, description="e.g. utf-8, cp1250")] = "utf-8",
    region: Annotated[
        str | None, Query(min_length=2, max_length=2, description="for numbers without +; default [contacts]")
    ] = None,
    status: Annotated[
        str | None, Query(min_length=1, max_length=200, description="default: the campaign's")
    ] = None,
    name_column: Column = None,
    timezone_column: Column = None,
    phone_columns: Annotated[
        str | None, Query(min_length=1, max_length=1000, description="comma-separated")
    ] = None,
    dry_run: Annotated[bool, Query(description="check everything, store nothing")] = False,
    max_rejects: Annotated[int, Query(ge=0, le=100_000, description="rejects listed in the response")] = 1000,
) -> ImportOut:
    mapping = column_mapping(name_column, timezone_column, phone_columns)
    rejects: list[RejectOut] = []

    def keep(r: RejectedRow) -> None:
        if len(rejects) < max_rejects:
            rejects.append(RejectOut(line=r.line, reason=r.reason))

    report = await ctx.store.import_csv(
        campaign,
        file.file,
        region=region or ctx.default_region,
        encoding=encoding,
        mapping=mapping,
        status=status,
        source=(file.filename or "upload")[:200],
        dry_run=dry_run,
        on_reject=keep,
    )
    log.info(
        "api_import",
        campaign=campaign,
        imported=report.imported,
        rejected=report.rejected,
        dry_run=dry_run,
        by=user.name,
    )
    return import_out(report, rejects, report.rejected > len(rejects))
