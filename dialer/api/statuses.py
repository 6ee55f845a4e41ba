"""The status dictionary and each campaign's statuses (seed 004): ``/api/v1/statuses`` and
``/api/v1/campaigns/{campaign}/status-settings``.

Every field of the seed: the name, the system status (call, my record, do not call, not
before, call progressive), the automatic trigger ("set this status automatically when"),
auto-add to new campaigns, hidden, active, and the qualifier (seed 001), with the retry rule
the dialer applies after it. A campaign uses dictionary statuses (each with the campaign's
own retry rule) and statuses of its own, which are not in the dictionary. The rules are the
store's (:func:`~dialer.campaign.rules.check_status`, one status per trigger per campaign, a
status held by contacts is not removed), as for ``dialer status``.

Supervisors read the dictionary and manage campaigns' statuses; administrators change the
dictionary (configuration shared by every campaign).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from dialer.api.campaigns import CampaignName
from dialer.api.context import Admin, Ctx, Supervisor
from dialer.api.errors import ApiError
from dialer.api.schemas import refuse_nulls
from dialer.model import Backoff, Qualifier, RetryRule, Status, StatusSpec, SystemStatus, Trigger

router = APIRouter(tags=["statuses"])

StatusName = Annotated[str, Path(min_length=1, max_length=200, description="status name")]


class RetryIn(BaseModel):
    model_config = {"extra": "forbid"}

    delay_s: int = Field(default=3600, ge=0, le=2**31 - 1, description="wait before the next call")
    backoff: Backoff = Backoff.FIXED
    factor: float = Field(
        default=2.0, ge=1, le=1e6, allow_inf_nan=False, description="multiplicative backoff"
    )
    max_attempts: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="attempts ending so; null: the campaign's caps"
    )

    def rule(self) -> RetryRule:
        return RetryRule(self.delay_s, self.backoff, self.factor, self.max_attempts)


class StatusFields(BaseModel):
    """A status's fields; in an edit only those given change."""

    model_config = {"extra": "forbid"}

    name: str | None = Field(default=None, min_length=1, max_length=200)
    system_status: SystemStatus | None = None
    qualifier: Qualifier | None = None
    trigger: Trigger | None = Field(default=None, description="set automatically when a call ends so")
    auto_add: bool | None = Field(default=None, description="added to every new campaign")
    hidden: bool | None = Field(default=None, description="agents do not see it")
    active: bool | None = None
    retry: RetryIn | None = None


class StatusCreate(StatusFields):
    name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]  # required here


class StatusDetail(BaseModel):
    name: str
    system_status: SystemStatus
    qualifier: Qualifier
    trigger: Trigger | None
    auto_add: bool
    hidden: bool
    active: bool
    retry: RetryIn
    local: bool = Field(description="the campaign's own status, not in the dictionary")


class CampaignStatusAdd(BaseModel):
    """Add a dictionary status (``status``) or create a status of the campaign's own (``create``)."""

    model_config = {"extra": "forbid"}

    status: str | None = Field(default=None, min_length=1, max_length=200, description="a dictionary status")
    create: StatusCreate | None = Field(default=None, description="a new status of this campaign only")
    retry: RetryIn | None = Field(default=None, description="the campaign's rule (default: the status's)")


def status_detail(s: Status) -> StatusDetail:
    r = s.retry
    return StatusDetail(
        name=s.name,
        system_status=s.system_status,
        qualifier=s.qualifier,
        trigger=s.trigger,
        auto_add=s.auto_add,
        hidden=s.hidden,
        active=s.active,
        local=s.campaign_id is not None,
        retry=RetryIn(delay_s=r.delay_s, backoff=r.backoff, factor=r.factor, max_attempts=r.max_attempts),
    )


def _changes(body: StatusFields) -> dict[str, Any]:
    given = refuse_nulls(body, nullable={"trigger"})
    if "retry" in given:
        given["retry"] = body.retry.rule() if body.retry else RetryRule()
    return given


def _spec(body: StatusCreate) -> StatusSpec:
    return StatusSpec(**_changes(body))


# -- the dictionary ------------------------------------------------------------------------


@router.get("/statuses", response_model=list[StatusDetail], summary="The status dictionary")
async def list_statuses(ctx: Ctx, user: Supervisor) -> list[StatusDetail]:
    return [status_detail(s) for s in await ctx.store.list_statuses()]


@router.post("/statuses", response_model=StatusDetail, status_code=201, summary="Add a dictionary status")
async def create_status(body: StatusCreate, ctx: Ctx, user: Admin) -> StatusDetail:
    return status_detail(await ctx.store.create_status(_spec(body)))


@router.get("/statuses/{status}", response_model=StatusDetail, summary="One dictionary status")
async def show_status(status: StatusName, ctx: Ctx, user: Supervisor) -> StatusDetail:
    return status_detail(await ctx.store.get_status(status))


@router.patch("/statuses/{status}", response_model=StatusDetail, summary="Change a dictionary status")
async def edit_status(status: StatusName, body: StatusFields, ctx: Ctx, user: Admin) -> StatusDetail:
    changes = _changes(body)
    if not changes:
        raise ApiError("invalid_input", "name at least one field to change", field="body")
    return status_detail(await ctx.store.update_status(status, **changes))


@router.delete(
    "/statuses/{status}",
    status_code=204,
    summary="Delete a dictionary status no campaign uses (409 otherwise)",
)
async def remove_status(status: StatusName, ctx: Ctx, user: Admin) -> Response:
    await ctx.store.remove_status(status)
    return Response(status_code=204)


# -- a campaign's statuses -----------------------------------------------------------------


@router.get(
    "/campaigns/{campaign}/status-settings",
    response_model=list[StatusDetail],
    summary="Every status of the campaign with its trigger and the campaign's retry rule",
)
async def campaign_statuses(campaign: CampaignName, ctx: Ctx, user: Supervisor) -> list[StatusDetail]:
    return [status_detail(s) for s in await ctx.store.list_statuses(campaign)]


@router.post(
    "/campaigns/{campaign}/status-settings",
    response_model=StatusDetail,
    status_code=201,
    summary="Add a dictionary status to the campaign, or create one of its own",
)
async def add_campaign_status(
    campaign: CampaignName, body: CampaignStatusAdd, ctx: Ctx, user: Supervisor
) -> StatusDetail:
    if (body.status is None) == (body.create is None):
        raise ApiError(
            "invalid_input", "give exactly one of 'status' (from the dictionary) and 'create'", field="status"
        )
    rule = body.retry.rule() if body.retry else None
    if body.create is not None:
        name = (await ctx.store.create_status(_spec(body.create), campaign=campaign)).name
        if rule is not None:
            await ctx.store.add_status(campaign, name, retry=rule)
    else:
        assert body.status is not None
        name = body.status
        await ctx.store.add_status(campaign, name, retry=rule)
    return status_detail(await ctx.store.get_status(name, campaign=campaign))


@router.patch(
    "/campaigns/{campaign}/status-settings/{status}",
    response_model=StatusDetail,
    summary="Change the campaign's retry rule for a status (and any field of a status of its own)",
)
async def edit_campaign_status(
    campaign: CampaignName, status: StatusName, body: StatusFields, ctx: Ctx, user: Supervisor
) -> StatusDetail:
    changes = _changes(body)
    if not changes:
        raise ApiError("invalid_input", "name at least one field to change", field="body")
    rule = changes.pop("retry", None)
    current = await ctx.store.get_status(status, campaign=campaign)
    if changes:
        if current.campaign_id is None:
            raise ApiError(
                "invalid_value",
                f"a dictionary status: change it with PATCH /statuses/{status}",
                field=sorted(changes)[0],
                value=None,
            )
        status = (await ctx.store.update_status(status, campaign=campaign, **changes)).name
    if rule is not None:
        await ctx.store.add_status(campaign, status, retry=rule)
    return status_detail(await ctx.store.get_status(status, campaign=campaign))


@router.delete(
    "/campaigns/{campaign}/status-settings/{status}",
    status_code=204,
    summary="Take a status off the campaign (409 in_use while contacts have it or it is a default)",
)
async def remove_campaign_status(
    campaign: CampaignName, status: StatusName, ctx: Ctx, user: Supervisor
) -> Response:
    await ctx.store.remove_campaign_status(campaign, status)
    return Response(status_code=204)
