"""The operator's report over HTTP: outcomes per day, abandon rate per window, talk share per
agent (:class:`~dialer.store.reports.Reports`, what ``dialer report`` prints); and a
campaign's day in quarter hours, the wallboard's chart of the abandon rate and the talk
share over the day (:class:`~dialer.store.day_chart.DayCharts`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dialer.api.campaigns import CampaignName
from dialer.api.context import Ctx, Supervisor
from dialer.store.day_chart import DayChart
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


@router.get(
    "/campaigns/{campaign}/day",
    response_model=DayChart,
    summary="The campaign's day in quarter hours: abandon rate over the trailing hour, talk share",
)
async def day_chart(
    ctx: Ctx,
    user: Supervisor,
    campaign: CampaignName,
    day: Annotated[dt.date | None, Query(description="default: today in the time zone")] = None,
    timezone: Annotated[
        str | None, Query(min_length=1, max_length=64, description="default: the campaign's")
    ] = None,
) -> DayChart:
    return await ctx.store.day_chart(campaign, day=day, timezone=timezone, now=ctx.clock.utcnow())
