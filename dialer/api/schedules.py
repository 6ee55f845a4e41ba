"""Schedules (seed 000, *harmonogramy*): ``/api/v1/schedules``.

Every field of the seed: name, description, frequency (daily, weekly on chosen weekdays,
monthly in chosen months and/or days), a run-at time or a from-to window (00:00-00:00: all
day) with an optional interval, the time zone, and whether it is active. The rules are the
:class:`~dialer.schedules.schedule.Schedule` value's own and the store's (a schedule a
campaign dials in stays a window; one in use is not deleted), as for ``dialer schedule``.

Supervisors read them; administrators create, edit and delete them (configuration).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from dialer.api.context import Admin, Ctx, Supervisor
from dialer.api.errors import ApiError
from dialer.api.schemas import HHMM, hhmm, refuse_nulls
from dialer.schedules.schedule import Frequency, Schedule

router = APIRouter(tags=["schedules"])

ScheduleName = Annotated[str, Path(min_length=1, max_length=200, description="schedule name")]
# the fields an edit may set to null: a run-at schedule has no window, and the other way round
_NULLABLE = {"run_at", "window_start", "window_end", "interval_min"}


class ScheduleFields(BaseModel):
    """A schedule's fields; in an edit only those given change."""

    model_config = {"extra": "forbid"}

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    frequency: Frequency | None = None
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(
        default=None, max_length=7, description="weekly: 0 = Monday .. 6 = Sunday; none = every day"
    )
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        default=None, max_length=12, description="monthly: none = every month"
    )
    days: list[Annotated[int, Field(ge=1, le=31)]] | None = Field(
        default=None, max_length=31, description="monthly: days of the month; none = every day"
    )
    run_at: dt.time | None = Field(default=None, description="run at HH:MM (not with a window)")
    window_start: dt.time | None = Field(default=None, description="open from HH:MM")
    window_end: dt.time | None = Field(default=None, description="to HH:MM; 00:00-00:00 = all day")
    interval_min: int | None = Field(default=None, ge=1, le=1440, description="every N minutes in the window")
    timezone: str | None = Field(default=None, min_length=1, max_length=64, description="IANA zone")
    active: bool | None = Field(default=None, description="only active schedules run / open")


class ScheduleCreate(ScheduleFields):
    name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]  # required here
    frequency: Frequency  # type: ignore[assignment]


class ScheduleOut(BaseModel):
    name: str
    description: str
    frequency: Frequency
    weekdays: list[int]
    months: list[int]
    days: list[int]
    run_at: str | None = Field(pattern=HHMM, description="HH:MM")
    window_start: str | None = Field(pattern=HHMM, description="HH:MM")
    window_end: str | None = Field(pattern=HHMM, description="HH:MM")
    interval_min: int | None
    timezone: str
    active: bool
    describe: str = Field(description="one line, as 'dialer schedule list' shows it")


def schedule_out(s: Schedule) -> ScheduleOut:
    return ScheduleOut(
        name=s.name,
        description=s.description,
        frequency=s.frequency,
        weekdays=sorted(s.weekdays),
        months=sorted(s.months),
        days=sorted(s.days),
        run_at=hhmm(s.run_at),
        window_start=hhmm(s.window_start),
        window_end=hhmm(s.window_end),
        interval_min=s.interval_min,
        timezone=s.timezone,
        active=s.active,
        describe=s.describe(),
    )


def _fields(body: ScheduleFields) -> dict[str, Any]:
    given = refuse_nulls(body, nullable=_NULLABLE)
    for key in ("weekdays", "months", "days"):
        if key in given:
            given[key] = frozenset(given[key])
    return given


@router.get("/schedules", response_model=list[ScheduleOut], summary="Every schedule")
async def list_schedules(ctx: Ctx, user: Supervisor) -> list[ScheduleOut]:
    return [schedule_out(s) for s in await ctx.store.list_schedules()]


@router.post("/schedules", response_model=ScheduleOut, status_code=201, summary="Add a schedule")
async def create_schedule(body: ScheduleCreate, ctx: Ctx, user: Admin) -> ScheduleOut:
    schedule = Schedule(**_fields(body))
    await ctx.store.create_schedule(schedule)
    return schedule_out(schedule)


@router.get("/schedules/{schedule}", response_model=ScheduleOut, summary="One schedule")
async def show_schedule(schedule: ScheduleName, ctx: Ctx, user: Supervisor) -> ScheduleOut:
    return schedule_out(await ctx.store.get_schedule(schedule))


@router.patch(
    "/schedules/{schedule}",
    response_model=ScheduleOut,
    summary="Change fields of a schedule (null clears run_at, the window or the interval)",
)
async def edit_schedule(schedule: ScheduleName, body: ScheduleFields, ctx: Ctx, user: Admin) -> ScheduleOut:
    changes = _fields(body)
    if not changes:
        raise ApiError("invalid_input", "name at least one field to change", field="body")
    updated = await ctx.store.update_schedule(schedule, **changes)
    ctx.engine.wake()
    return schedule_out(updated)


@router.delete(
    "/schedules/{schedule}",
    status_code=204,
    summary="Delete a schedule no campaign uses (409 in_use otherwise)",
)
async def remove_schedule(schedule: ScheduleName, ctx: Ctx, user: Admin) -> Response:
    await ctx.store.remove_schedule(schedule)
    return Response(status_code=204)
