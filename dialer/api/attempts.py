"""Attempts for supervisors and administrators: filter, page, export as CSV.

Thin calls on the store's :class:`~dialer.store.attempt_log.AttemptLog`, the functions
``dialer attempts list|export`` call. Times without an offset are read as UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from dialer.api.context import Ctx, Supervisor
from dialer.api.data_schemas import AttemptPage
from dialer.api.listing import CSV_RESPONSE, Page, csv_download
from dialer.model import Outcome
from dialer.store.attempt_log import AttemptQuery

log = structlog.get_logger(__name__)

router = APIRouter(tags=["attempts"])


def attempt_query(
    campaign: Annotated[str | None, Query(min_length=1, max_length=200, description="campaign name")] = None,
    outcome: Outcome | None = None,
    since: Annotated[dt.datetime | None, Query(description="started at or after (no offset: UTC)")] = None,
    until: Annotated[dt.datetime | None, Query(description="started before (no offset: UTC)")] = None,
) -> AttemptQuery:
    """The attempt filters, as query parameters of the list and the export alike."""
    return AttemptQuery(campaign=campaign, outcome=outcome, since=since, until=until)


Filters = Annotated[AttemptQuery, Depends(attempt_query)]


@router.get(
    "/attempts", response_model=AttemptPage, summary="Attempts by campaign, outcome, time; a page at a time"
)
async def list_attempts(
    ctx: Ctx,
    user: Supervisor,
    query: Filters,
    page: Page,
) -> AttemptPage:
    lines, next_after = await ctx.store.search_attempts(query, after=page.after, limit=page.limit)
    return AttemptPage(items=lines, next_after=next_after)


@router.get(
    "/attempts/export",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
    summary="Export the matching attempts as CSV (streamed)",
)
async def export_attempts(ctx: Ctx, user: Supervisor, query: Filters) -> StreamingResponse:
    rows = await ctx.store.export_attempts(query)
    log.info("api_attempts_export", campaign=query.campaign, by=user.name)
    return csv_download(rows, "attempts.csv")
