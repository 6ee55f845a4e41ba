"""Read-only campaign endpoints: the campaigns a user may see, and the statuses an agent may set.

(Campaign administration comes with the supervisor endpoints of a later change.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from dialer.api.agent_views import disposition_statuses, needs_date
from dialer.api.context import Ctx, CurrentUser, visible_campaign
from dialer.api.schemas import CampaignOut, StatusOut
from dialer.store.users import Role

router = APIRouter(tags=["campaigns"])


@router.get("/campaigns", response_model=list[CampaignOut], summary="Campaigns the user may see")
async def list_campaigns(ctx: Ctx, user: CurrentUser) -> list[CampaignOut]:
    campaigns = await ctx.store.list_campaigns()
    if user.role is Role.AGENT:
        mine = set(await ctx.store.agent_campaigns(user.agent or ""))
        campaigns = [c for c in campaigns if c.name in mine]
    return [
        CampaignOut(
            name=c.name,
            mode=c.mode.value,
            state=c.state.value,
            queue=c.queue,
            timezone=c.timezone,
            running_here=ctx.engine.runner(c.name) is not None,
        )
        for c in campaigns
    ]


@router.get(
    "/campaigns/{campaign}/statuses",
    response_model=list[StatusOut],
    summary="The statuses a disposition may set (active, not hidden)",
)
async def statuses(ctx: Ctx, campaign: Annotated[str, Depends(visible_campaign)]) -> list[StatusOut]:
    return [
        StatusOut(name=s.name, system_status=s.system_status.value, needs_date=needs_date(s))
        for s in await disposition_statuses(ctx, campaign)
    ]
