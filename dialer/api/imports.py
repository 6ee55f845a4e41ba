"""Contact import over HTTP: ``POST /api/v1/campaigns/{campaign}/imports`` (multipart upload).

The same service as ``dialer contacts import``: :meth:`~dialer.store.imports.Imports.import_csv`
(encoding, parsing, batches, duplicates, dry run, undialable-number warnings). The upload is
spooled by the framework to a temporary file (the first megabyte in memory, the rest on
disk) and read from there line by line, so a 200,000-row file never sits in the engine's
memory; rows are parsed in a worker thread, off the event loop that dials. The response
lists the rejected rows in line order, the first ``max_rejects`` of them (the count is
always whole).

``POST /campaigns/{campaign}/imports/stream`` is the same import answering as it goes: a line
of JSON (``application/x-ndjson``) every quarter second with the progress (bytes of the file
read, rows parsed, imported, rejected, batches), then the result as the plain endpoint gives
it. A file that cannot be read at all (no such campaign, an unknown encoding, no header) is
refused with its 4xx before the stream starts, as by the plain endpoint; an error after the
first rows (a batch the database refused: earlier batches stay) ends the stream with an
``error`` line carrying the same body a 4xx would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from dialer.api.context import ApiContext, Ctx, Supervisor
from dialer.api.data_schemas import ImportOut, RejectOut, import_out
from dialer.contacts.csv_reader import RejectedRow
from dialer.contacts.importer import ImportReport
from dialer.errors import DialerError
from dialer.store.imports import ImportProgress, column_mapping
from dialer.store.users import User

log = structlog.get_logger(__name__)

router = APIRouter(tags=["contacts"])

Column = Annotated[str | None, Query(min_length=1, max_length=200)]
Campaign = Annotated[str, Path(min_length=1, max_length=200)]
Upload = Annotated[UploadFile, File(description="the CSV file: header row, a phone column")]

#: Seconds between two progress lines of the streamed import.
PROGRESS_EVERY_S = 0.25


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The query of both import endpoints."""

    encoding: str
    region: str | None
    status: str | None
    name_column: str | None
    timezone_column: str | None
    phone_columns: str | None
    dry_run: bool
    max_rejects: int


def import_options(
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
) -> ImportOptions:
    return ImportOptions(
        encoding, region, status, name_column, timezone_column, phone_columns, dry_run, max_rejects
    )


Options = Annotated[ImportOptions, Depends(import_options)]


class _Import:
    """One import's run: the store call with its options, the rejects kept for the answer."""

    def __init__(
        self, ctx: ApiContext, user: User, campaign: str, file: UploadFile, opts: ImportOptions
    ) -> None:
        self.ctx, self.user, self.campaign, self.file, self.opts = ctx, user, campaign, file, opts
        self.rejects: list[RejectOut] = []
        self.progress = ImportProgress()

    def _keep(self, r: RejectedRow) -> None:
        if len(self.rejects) < self.opts.max_rejects:
            self.rejects.append(RejectOut(line=r.line, reason=r.reason))

    async def run(self) -> ImportOut:
        opts = self.opts
        report: ImportReport = await self.ctx.store.import_csv(
            self.campaign,
            self.file.file,
            region=opts.region or self.ctx.default_region,
            encoding=opts.encoding,
            mapping=column_mapping(opts.name_column, opts.timezone_column, opts.phone_columns),
            status=opts.status,
            source=(self.file.filename or "upload")[:200],
            dry_run=opts.dry_run,
            on_reject=self._keep,
            progress=self.progress,
        )
        log.info(
            "api_import",
            campaign=self.campaign,
            imported=report.imported,
            rejected=report.rejected,
            dry_run=opts.dry_run,
            by=self.user.name,
        )
        return import_out(report, self.rejects, report.rejected > len(self.rejects))

    def progress_line(self) -> dict[str, Any]:
        p = self.progress
        return {
            "event": "progress",
            "bytes_read": p.bytes_read,
            "bytes_total": self.file.size,
            "parsed": p.parsed,
            "imported": p.imported,
            "rejected": p.rejected,
            "batches": p.batches,
        }


@router.post(
    "/campaigns/{campaign}/imports",
    response_model=ImportOut,
    summary="Import contacts from a CSV upload (per-row rejects in the response)",
)
async def import_contacts(
    ctx: Ctx, user: Supervisor, campaign: Campaign, file: Upload, opts: Options
) -> ImportOut:
    return await _Import(ctx, user, campaign, file, opts).run()


_STREAM_DOC = {
    200: {
        "description": "lines of JSON: {event: progress, bytes_read, bytes_total, parsed, imported,"
        " rejected, batches} every 0.25 s, then {event: done, result: <ImportOut>} or"
        " {event: error, status, body: <the 4xx body>}",
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/campaigns/{campaign}/imports/stream",
    response_class=StreamingResponse,
    responses=_STREAM_DOC,  # type: ignore[arg-type]  # FastAPI's own dict shape
    summary="Import contacts from a CSV upload, answering with its progress as it goes",
)
async def import_contacts_stream(
    request: Request, ctx: Ctx, user: Supervisor, campaign: Campaign, file: Upload, opts: Options
) -> StreamingResponse:
    job = _Import(ctx, user, campaign, file, opts)
    task = asyncio.ensure_future(job.run())
    # a file that cannot be read at all is refused before the stream starts, with its own 4xx:
    # the campaign and status are checked before the first row is parsed, the header with it
    while not task.done() and job.progress.parsed == 0:
        await asyncio.wait({task}, timeout=0.02)
    if task.done():
        task.result()  # raises the store's error: the usual 4xx
    handler: Handler = request.app.exception_handlers[DialerError]
    return StreamingResponse(_lines(job, task, request, handler), media_type="application/x-ndjson")


Handler = Callable[[Request, Exception], Any]  # the application's handler of DialerError


async def _lines(
    job: _Import, task: asyncio.Future[ImportOut], request: Request, handler: Handler
) -> AsyncIterator[bytes]:
    try:
        while not task.done():
            yield _line(job.progress_line())
            await asyncio.wait({task}, timeout=PROGRESS_EVERY_S)
        yield _line(job.progress_line())
        try:
            yield _line({"event": "done", "result": task.result().model_dump(mode="json")})
        except DialerError as e:
            answer = await handler(request, e)
            yield _line({"event": "error", "status": answer.status_code, "body": json.loads(answer.body)})
    finally:
        if not task.done():  # the client went away: the import stops at a batch boundary
            task.cancel()


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"
