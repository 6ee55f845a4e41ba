"""Do-not-call entries: ``/api/v1/dnc`` (list, search, add) and ``/api/v1/dnc/{number}`` (remove).

A number goes on the global list or on one campaign's list; it is normalised to E.164 as
``dialer dnc add`` and the contact import do it (:func:`~dialer.contacts.phone.normalize`
with ``[contacts] default_region`` unless the body names a region), so a number typed
nationally and one stored internationally are the same entry.

Supervisors list, search and add numbers; only administrators take a number off a list
(a compliance decision: the person asked not to be called).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from dialer.api.context import Admin, ApiContext, Ctx, Supervisor
from dialer.api.errors import ApiError
from dialer.contacts.dnc_file import decode_dnc_file, read_dnc_lines
from dialer.contacts.phone import normalize
from dialer.store.dnc import ALL_LISTS, DncEntry

router = APIRouter(tags=["do not call"])

Campaign = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="a campaign's list (default: the global list)"),
]
Region = Annotated[str | None, Query(min_length=2, max_length=2, description="for national numbers")]


class DncAdd(BaseModel):
    model_config = {"extra": "forbid"}

    number: str = Field(min_length=1, max_length=64)
    campaign: str | None = Field(
        default=None, min_length=1, max_length=200, description="null: the global list"
    )
    region: str | None = Field(default=None, min_length=2, max_length=2, description="default: [contacts]")
    reason: str = Field(default="", max_length=500)


class DncOut(BaseModel):
    number: str = Field(description="E.164")
    campaign: str | None = Field(description="null: the global list")
    reason: str
    added_at: dt.datetime


class DncPage(BaseModel):
    total: int = Field(description="entries matching, on every page")
    entries: list[DncOut]


class DncRejectOut(BaseModel):
    line: int
    text: str
    reason: str


class DncImportOut(BaseModel):
    numbers: int = Field(description="distinct valid numbers in the file, now on the list")
    new: int = Field(description="of them, not on that list before")
    rejected: list[DncRejectOut] = Field(description="lines that are not a number, in line order")


MAX_DNC_FILE = 20 * 2**20  # bytes: a do-not-call list is a column of numbers, read whole


def _out(e: DncEntry) -> DncOut:
    return DncOut(number=e.e164, campaign=e.campaign, reason=e.reason, added_at=e.added_at)


def e164_of(ctx: ApiContext, number: str, region: str | None) -> str:
    return normalize(number, (region or ctx.default_region).upper()).e164


@router.get("/dnc", response_model=DncPage, summary="Listed numbers, newest first: filter, search, page")
async def list_dnc(
    ctx: Ctx,
    user: Supervisor,
    campaign: Annotated[
        str | None,
        Query(
            min_length=1, max_length=200, description="only this campaign's list; '-' = only the global list"
        ),
    ] = None,
    search: Annotated[
        str | None, Query(min_length=1, max_length=100, description="part of number or reason")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> DncPage:
    which = ALL_LISTS if campaign is None else (None if campaign == "-" else campaign)
    total, entries = await ctx.store.list_do_not_call(
        campaign=which, search=search, limit=limit, offset=offset
    )
    return DncPage(total=total, entries=[_out(e) for e in entries])


@router.post("/dnc", response_model=DncOut, status_code=201, summary="Put a number on a do-not-call list")
async def add_dnc(body: DncAdd, ctx: Ctx, user: Supervisor) -> DncOut:
    e164 = e164_of(ctx, body.number, body.region)
    return _out(
        await ctx.store.add_do_not_call(
            e164, campaign=body.campaign, reason=body.reason, at=ctx.clock.utcnow()
        )
    )


@router.post(
    "/dnc/imports", response_model=DncImportOut, summary="Put a file of numbers on a do-not-call list"
)
async def import_dnc(
    ctx: Ctx,
    user: Supervisor,
    file: Annotated[UploadFile, File(description="one number a line, or a CSV with the number first")],
    campaign: Campaign = None,
    region: Region = None,
    reason: Annotated[str, Query(max_length=500)] = "",
    encoding: Annotated[str, Query(min_length=1, max_length=40, description="e.g. utf-8, cp1250")] = "utf-8",
) -> DncImportOut:
    """What ``dialer dnc import`` does: the valid numbers go on the list in one transaction (all
    or none), the other lines come back with their line numbers."""
    data = await file.read(MAX_DNC_FILE + 1)
    if len(data) > MAX_DNC_FILE:
        raise ApiError("invalid_file", f"larger than {MAX_DNC_FILE // 2**20} MB", field="file")
    read = read_dnc_lines(
        decode_dnc_file(data, encoding).splitlines(), (region or ctx.default_region).upper()
    )
    new = 0
    if read.numbers:
        new = await ctx.store.add_do_not_call_many(read.numbers, campaign=campaign, reason=reason)
    return DncImportOut(
        numbers=len(read.numbers),
        new=new,
        rejected=[DncRejectOut(line=n, text=text, reason=why) for n, text, why in read.rejected],
    )


@router.delete("/dnc/{number}", status_code=204, summary="Take a number off a do-not-call list")
async def remove_dnc(
    number: Annotated[str, Path(min_length=1, max_length=64, description="as listed, or national")],
    ctx: Ctx,
    user: Admin,
    campaign: Campaign = None,
    region: Region = None,
) -> Response:
    e164 = e164_of(ctx, number, region)
    if not await ctx.store.remove_do_not_call(e164, campaign=campaign):
        where = f"the list of {campaign}" if campaign else "the global list"
        raise ApiError("not_found", f"the number is not on {where}", field="number", value=e164)
    return Response(status_code=204)
