"""The operator's report over HTTP: outcomes per day, abandon rate per window, talk share per
agent (:class:`~dialer.store.reports.Reports`, what ``dialer report`` prints)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dialer.api.context import Ctx, Supervisor
from dialer.store.reports import Report

router = APIRouter(tags=["report"])


@router.get(
    "/report", response_model=Report, summary="Outcomes per day, abandon rate per window, talk per agent"
)
async def report(
    ctx: Ctx,
    user: Supervisor,
    campaign: Annotated[str | None, Query(min_length=1, max_length=200, description="default: all")] = None,
    since: Annotated[dt.datetime | None, Query(description="default: 7 days before until")] = None,
    until: Annotated[dt.datetime | None, Query(description="default: now")] = None,
    window: Literal["hour", "day", "week"] = "day",
    timezone: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="days and windows in; default the campaign's"),
    ] = None,
) -> Report:
    return await ctx.store.report(
        campaign, since=since, until=until, window=window, timezone=timezone, now=ctx.clock.utcnow()
    )
