"""Contact transfer (seed 001) over HTTP: first the count, then the move with the same rules.

``GET /transfers/count`` answers how many records the chosen campaign and status hold (and
how many are in a call now, and whether the status may be moved at all); ``POST /transfers``
moves them in one transaction (:func:`dialer.contacts.transfer.move_contacts`, what
``dialer contacts move`` runs) and reports how many moved from where to where.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Query

from dialer.api.context import Ctx, Supervisor
from dialer.api.data_schemas import TransferOut, TransferRequest, transfer_out
from dialer.contacts.transfer import TransferCount

log = structlog.get_logger(__name__)

router = APIRouter(tags=["transfers"])

Required = Query(min_length=1, max_length=200)


@router.get(
    "/transfers/count", response_model=TransferCount, summary="How many records a transfer would move"
)
async def count(
    ctx: Ctx,
    user: Supervisor,
    from_campaign: Annotated[str, Required],
    status: Annotated[str, Required],
) -> TransferCount:
    return await ctx.store.count_transfer(from_campaign, status, at=ctx.clock.utcnow())


@router.post("/transfers", response_model=TransferOut, summary="Move records to a campaign and status")
async def move(ctx: Ctx, user: Supervisor, body: TransferRequest) -> TransferOut:
    result = await ctx.store.move_contacts(
        from_campaign=body.from_campaign,
        status=body.status,
        to_campaign=body.to_campaign,
        new_status=body.new_status,
        limit=body.limit,
        at=ctx.clock.utcnow(),
    )
    log.info("api_transfer", message=result.describe(), by=user.name)
    return transfer_out(result)
