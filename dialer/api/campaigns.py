"""Campaign endpoints: what agents see of their campaigns, and the supervisors' administration.

Agents list their own campaigns and the statuses a disposition may set. Supervisors and
administrators list, show, create and edit campaigns (every setting of
:class:`~dialer.model.CampaignSpec`: mode, hours, ring time, caller ID, queue, schedule,
compliance profile, caps, AMD), start, pause and stop them, and read their live figures;
only administrators delete one, and only while it has no attempts. The rules are the
store's (:meth:`~dialer.store.campaigns.Campaigns.update_campaign` and friends), the same the
CLI's ``dialer campaign`` commands use; this module only maps bodies to them.

The live figures are the numbers the Prometheus metrics show (the runner's scrape-time
gauges: agents by state, calls, abandon rate per window, dial level, fallback, hopper depth)
plus the campaign's outcomes today, from the attempts table.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

from dialer.api.agent_views import disposition_statuses, needs_date
from dialer.api.context import Admin, ApiContext, Ctx, CurrentUser, Supervisor, visible_campaign
from dialer.api.errors import ApiError
from dialer.api.schemas import HHMM, CampaignOut, StatusOut, hhmm, refuse_nulls
from dialer.campaign.runner import CampaignRunner
from dialer.model import AmdAction, Campaign, CampaignSpec, CampaignState, Compliance, DialingMode
from dialer.store.users import Role

router = APIRouter(tags=["campaigns"])

CampaignName = Annotated[str, Path(min_length=1, max_length=200, description="campaign name")]
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]  # an integer column


class CampaignSettings(BaseModel):
    """Every editable setting; in an edit, only the fields given change."""

    model_config = {"extra": "forbid"}

    schedule: str | None = Field(default=None, min_length=1, max_length=200, description="a from-to window")
    mode: DialingMode | None = None
    caller_id: str | None = Field(default=None, max_length=64, description="E.164 or national; '' = none")
    queue: str | None = Field(default=None, max_length=200, description="'' = the campaign's name")
    ring_timeout_s: Int32 | None = Field(default=None, description="15-120 s")
    compliance: Compliance | None = None
    abandon_cap: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    local_hours_start: dt.time | None = Field(default=None, description="HH:MM in the called person's zone")
    local_hours_end: dt.time | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    priority: Int32 | None = Field(default=None)
    max_attempts: Int32 | None = Field(default=None, description="per contact, every outcome")
    max_attempts_per_day: Int32 | None = Field(default=None)
    default_disposition: str | None = Field(
        default=None, min_length=1, max_length=200, description="null: 'answered, no disposition'"
    )
    amd: bool | None = None
    amd_action: AmdAction | None = None
    amd_message: str | None = Field(default=None, max_length=200)
    amd_false_positive: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    servers: list[Annotated[str, Field(max_length=63)]] | None = Field(
        default=None, max_length=100, description="[[ami.servers]] names or groups; [] = every server"
    )


class CampaignCreate(CampaignSettings):
    name: str = Field(min_length=1, max_length=200)
    schedule: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]  # required here
    state: CampaignState = CampaignState.STOPPED


class CampaignDetail(BaseModel):
    name: str
    schedule: str
    mode: DialingMode
    state: CampaignState
    caller_id: str
    queue: str
    ring_timeout_s: int
    compliance: Compliance
    abandon_cap: float
    local_hours_start: str = Field(pattern=HHMM, description="HH:MM")
    local_hours_end: str = Field(pattern=HHMM, description="HH:MM")
    timezone: str
    priority: int
    max_attempts: int
    max_attempts_per_day: int
    default_status: str | None
    default_disposition: str | None
    amd: bool
    amd_action: AmdAction
    amd_message: str
    amd_false_positive: float
    servers: list[str] = Field(default=[], description="the AMI servers or groups it dials through")
    demo: bool = Field(description="generated demo data: never dialled by 'dialer run'")
    running_here: bool = Field(description="this engine runs it now")
    contacts: int | None = Field(default=None, description="with GET of one campaign")
    dialable: int | None = Field(default=None, description="contacts due now")
    by_status: dict[str, int] | None = None
    attempts: int | None = None


class CampaignFigures(BaseModel):
    """The live figures: what the metrics show (zeros and nulls while no runner runs it here)."""

    campaign: str
    state: CampaignState
    running_here: bool
    schedule_open: bool | None
    paused_reasons: list[str] = Field(description="why no call is launched now (empty: dialling)")
    agents_by_state: dict[str, int]
    calls_ringing: int
    calls_connected: int = Field(description="answered calls, the customers waiting among them")
    customers_waiting: int = Field(description="answered, no agent yet (the queue's callers)")
    hopper_depth: int
    dial_level: float | None
    predictive_fallback: bool
    abandon_rate_by_window: dict[str, float]
    abandon_cap: float
    day: dt.date = Field(description="today in the campaign's time zone")
    outcomes_today: dict[str, int]


def detail(ctx: ApiContext, c: Campaign, **summary: Any) -> CampaignDetail:
    fields = {k: getattr(c, k) for k in CampaignDetail.model_fields if hasattr(c, k)}
    fields.update(local_hours_start=hhmm(c.local_hours_start), local_hours_end=hhmm(c.local_hours_end))
    return CampaignDetail(**fields, running_here=ctx.engine.runner(c.name) is not None, **summary)


def calls_now(runner: CampaignRunner) -> dict[str, int]:
    """A running campaign's calls now: ringing, answered (connected) and, of those, the
    customers still waiting for an agent (the figures endpoint and the wallboard's stream)."""
    connected = sum(1 for call in runner.calls if call.answered_at is not None)
    return {
        "calls_ringing": len(runner.calls) - connected,
        "calls_connected": connected,
        "customers_waiting": runner.calls.customers_waiting(),
    }


async def figures_of(ctx: ApiContext, name: str) -> CampaignFigures:
    campaign = await ctx.store.get_campaign(name)
    now = ctx.clock.utcnow()
    day = now.astimezone(ZoneInfo(campaign.timezone)).date()
    midnight = dt.datetime.combine(day, dt.time(0), ZoneInfo(campaign.timezone))
    outcomes = await ctx.store.outcomes_since(name, midnight)
    runner = ctx.engine.runner(name)
    out: dict[str, Any] = {
        "campaign": name,
        "state": campaign.state,
        "running_here": runner is not None,
        "abandon_cap": campaign.abandon_cap,
        "day": day,
        "outcomes_today": outcomes,
    }
    if runner is None:
        return CampaignFigures(
            **out,
            schedule_open=None,
            paused_reasons=[],
            agents_by_state={},
            calls_ringing=0,
            calls_connected=0,
            customers_waiting=0,
            hopper_depth=0,
            dial_level=None,
            predictive_fallback=False,
            abandon_rate_by_window={},
        )
    g = runner.gauges()
    out.update(calls_now(runner))
    return CampaignFigures(
        **out,
        schedule_open=g.schedule_open,
        paused_reasons=list(runner.paused_reasons()),
        agents_by_state=g.agents_by_state,
        hopper_depth=g.hopper_depth,
        dial_level=g.dial_level,
        predictive_fallback=g.predictive_fallback,
        abandon_rate_by_window=g.abandon_rate_by_window,
    )


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


@router.post("/campaigns", response_model=CampaignDetail, status_code=201, summary="Create a campaign")
async def create_campaign(body: CampaignCreate, ctx: Ctx, user: Supervisor) -> CampaignDetail:
    given = refuse_nulls(body, nullable={"default_disposition"})
    d = ctx.campaign_defaults
    amd = {
        "amd": d.amd,
        "amd_action": d.amd_action,
        "amd_message": d.amd_message,
        "amd_false_positive": d.amd_false_positive,
    }
    try:
        amd["amd_action"] = AmdAction(d.amd_action)
    except ValueError:
        raise ApiError(
            "invalid_value",
            "the [campaigns] amd_action of the configuration is unknown",
            field="amd_action",
            value=d.amd_action,
        ) from None
    campaign = await ctx.store.create_campaign(CampaignSpec(**(amd | given)))  # type: ignore[arg-type]
    ctx.engine.wake()
    return detail(ctx, campaign)


@router.get("/campaigns/{campaign}", response_model=CampaignDetail, summary="A campaign: settings and counts")
async def show_campaign(campaign: CampaignName, ctx: Ctx, user: Supervisor) -> CampaignDetail:
    s = await ctx.store.campaign_summary(campaign, at=ctx.clock.utcnow())
    return detail(
        ctx, s.campaign, contacts=s.contacts, dialable=s.dialable, by_status=s.by_status, attempts=s.attempts
    )


@router.patch(
    "/campaigns/{campaign}",
    response_model=CampaignDetail,
    summary="Change settings (mode, hours, ring time, caller ID, schedule, AMD...): only those given",
)
async def edit_campaign(
    campaign: CampaignName, body: CampaignSettings, ctx: Ctx, user: Supervisor
) -> CampaignDetail:
    changes = refuse_nulls(body, nullable={"default_disposition"})
    if not changes:
        raise ApiError("invalid_input", "name at least one setting to change", field="body")
    updated = await ctx.store.update_campaign(campaign, **changes)
    runner = ctx.engine.runner(campaign)
    if runner is not None:
        runner.settings_changed()  # a new mode applies at its next turn, not within 5 s
    ctx.engine.wake()
    return detail(ctx, updated)


@router.delete(
    "/campaigns/{campaign}",
    status_code=204,
    summary="Delete a stopped campaign that has no attempts (409 in_use otherwise)",
)
async def delete_campaign(campaign: CampaignName, ctx: Ctx, user: Admin) -> Response:
    if ctx.engine.runner(campaign) is not None:
        raise ApiError(
            "in_use",
            "this engine still runs the campaign; stop it and retry when it is drained",
            field="campaign",
            value=campaign,
        )
    await ctx.store.delete_campaign(campaign)
    return Response(status_code=204)


def _state_endpoint(state: CampaignState, verb: str) -> None:
    async def change(campaign: CampaignName, ctx: Ctx, user: Supervisor) -> CampaignDetail:
        await ctx.store.set_campaign_state(campaign, state)
        ctx.engine.wake()
        return detail(ctx, await ctx.store.get_campaign(campaign))

    change.__name__ = f"{verb}_campaign"
    router.post(
        f"/campaigns/{{campaign}}/{verb}", response_model=CampaignDetail, summary=f"Set the campaign {state}"
    )(change)


for _state, _verb in (
    (CampaignState.RUNNING, "start"),
    (CampaignState.PAUSED, "pause"),
    (CampaignState.STOPPED, "stop"),
):
    _state_endpoint(_state, _verb)


@router.get(
    "/campaigns/{campaign}/figures",
    response_model=CampaignFigures,
    summary="Live figures: the metrics' numbers and today's outcomes",
)
async def campaign_figures(campaign: CampaignName, ctx: Ctx, user: Supervisor) -> CampaignFigures:
    return await figures_of(ctx, campaign)
