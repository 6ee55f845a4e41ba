"""Attempts for supervisors and administrators: filter, page, export as CSV.

Thin calls on the store's :class:`~dialer.store.attempt_log.AttemptLog`, the functions
``dialer attempts list|export`` call. Times without an offset are read as UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import structlog
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from dialer.api.context import Ctx, Supervisor
from dialer.api.data_schemas import AttemptPage, attempt_line_out
from dialer.api.exports import CSV_RESPONSE, csv_download
from dialer.api.schemas import MAX_ID
from dialer.model import Outcome
from dialer.store.attempt_log import MAX_PAGE, AttemptQuery

log = structlog.get_logger(__name__)

router = APIRouter(tags=["attempts"])

Campaign = Annotated[str | None, Query(min_length=1, max_length=200, description="campaign name")]
Since = Annotated[dt.datetime | None, Query(description="started at or after (no offset: UTC)")]
Until = Annotated[dt.datetime | None, Query(description="started before (no offset: UTC)")]


@router.get(
    "/attempts", response_model=AttemptPage, summary="Attempts by campaign, outcome, time; a page at a time"
)
async def list_attempts(
    ctx: Ctx,
    user: Supervisor,
    campaign: Campaign = None,
    outcome: Outcome | None = None,
    since: Since = None,
    until: Until = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the next_after of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AttemptPage:
    query = AttemptQuery(campaign=campaign, outcome=outcome, since=since, until=until)
    lines, next_after = await ctx.store.search_attempts(query, after=after, limit=limit)
    return AttemptPage(items=[attempt_line_out(a) for a in lines], next_after=next_after)


@router.get(
    "/attempts/export",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
    summary="Export the matching attempts as CSV (streamed)",
)
async def export_attempts(
    ctx: Ctx,
    user: Supervisor,
    campaign: Campaign = None,
    outcome: Outcome | None = None,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    query = AttemptQuery(campaign=campaign, outcome=outcome, since=since, until=until)
    rows = await ctx.store.export_attempts(query)
    log.info("api_attempts_export", campaign=campaign, by=user.name)
    return csv_download(rows, "attempts.csv")
