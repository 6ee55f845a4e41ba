"""Callback endpoints (issue 13): the slot grid, planning and rescheduling callbacks, their
history, and the public web callback request a website sends.

Thin calls on the store (:mod:`dialer.store.callbacks`, :mod:`dialer.store.callback_grid`,
:mod:`dialer.store.web_callbacks`), which holds every rule; the CLI calls the same functions.
Authorisation: anyone who may see a campaign sees its grid and callbacks; an agent user plans
personal callbacks only for itself and touches only its own personal ones; supervisors and
administrators define grids. The public endpoint takes no bearer token but a site's
``X-Api-Key`` (each website its own, ``dialer callbacks site-add`` or ``/callback-sites``), and
a browser's page only from the site's origins (CORS: :mod:`dialer.api.public_cors`); it
answers a number on a do-not-call list with the same ``callback_refused`` whatever the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request

from dialer.api.callback_schemas import (
    CallbackChangeOut,
    CallbackIn,
    CallbackOut,
    GridIn,
    GridOut,
    PublicCallbackIn,
    PublicCallbackOut,
    RescheduleIn,
    SlotOut,
)
from dialer.api.context import ApiContext, Ctx, CurrentUser, require_role, visible_campaign
from dialer.api.errors import ApiError
from dialer.api.public_cors import allow_origin
from dialer.api.schemas import MAX_ID, ErrorOut, NewNumber
from dialer.callbacks.grid import instant_in
from dialer.contacts.phone import normalize
from dialer.errors import ValidationError
from dialer.model import Callback, CallbackKind
from dialer.store.users import Role, User
from dialer.store.web_callbacks import WebSite

router = APIRouter(tags=["callbacks"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "slot_unavailable / callback_refused"},
    429: {"model": ErrorOut, "description": "rate_limited"},
}
Campaign = Annotated[str, Depends(visible_campaign)]
CallbackId = Annotated[int, Path(ge=1, le=MAX_ID)]
Supervisor = Depends(require_role(Role.SUPERVISOR, Role.ADMIN))


async def _zone_of(ctx: ApiContext, campaign: str, timezone: str | None) -> str:
    return timezone or (await ctx.store.get_campaign(campaign)).timezone


def _number(
    ctx: ApiContext, new: NewNumber | None
) -> tuple[str | None, str | None, tuple[dt.time, dt.time] | None]:
    """A new number's E.164, kind and contact window (all None without one)."""
    if new is None:
        return None, None, None
    try:
        parsed = normalize(new.number, ctx.default_region)
    except ValidationError as err:
        raise ApiError("invalid_value", err.reason, field="new_number.number", value=new.number) from None
    if (new.window_start is None) != (new.window_end is None):
        raise ApiError("invalid_value", "give both ends of the contact window or neither", field="new_number")
    window = (new.window_start, new.window_end) if new.window_start and new.window_end else None
    return parsed.e164, new.kind or parsed.kind, window


async def _personal_agent(
    ctx: ApiContext, user: User, kind: CallbackKind | None, agent: str | None
) -> int | None:
    """The store id of a personal callback's agent: an agent user's own, or the one named."""
    if kind is not CallbackKind.PERSONAL:
        if agent is not None:
            raise ApiError(
                "invalid_value", "only a personal callback has an agent", field="agent", value=agent
            )
        return None
    name = agent or user.agent
    if name is None:
        raise ApiError("invalid_value", "a personal callback needs its agent", field="agent")
    if user.role is Role.AGENT and name != user.agent:
        raise ApiError(
            "forbidden", "an agent plans personal callbacks only for itself", field="agent", value=name
        )
    return (await ctx.store.get_agent(name)).id


async def _own_callback(ctx: ApiContext, user: User, campaign: str, callback_id: int) -> Callback:
    """The campaign's callback ``callback_id`` if the user may change it (404 / 403 otherwise)."""
    cb = await ctx.store.get_callback(callback_id)
    if cb.campaign_id != (await ctx.store.get_campaign(campaign)).id:
        raise ApiError("not_found", f"callback {callback_id} is not in campaign {campaign}", field="callback")
    if user.role is Role.AGENT and cb.kind is CallbackKind.PERSONAL and cb.agent != user.agent:
        raise ApiError("forbidden", "another agent's personal callback", field="callback", value=callback_id)
    return cb


def _actor(user: User) -> str:
    return f"{user.role.value}:{user.name}"


async def _when(
    ctx: ApiContext, user: User, campaign: str, body: CallbackIn | RescheduleIn
) -> dict[str, Any]:
    """What planning and rescheduling pass alike: the times in UTC, the number, who and when."""
    zone = await _zone_of(ctx, campaign, body.timezone)
    number, kind, window = _number(ctx, body.new_number)
    return {
        "due_at": instant_in(body.at, zone, value_field="at"),
        "window_end_at": instant_in(body.window_end, zone, value_field="window_end"),
        "slot_at": instant_in(body.slot, zone, value_field="slot"),
        "phone_position": body.phone_position,
        "new_phone": number,
        "new_phone_kind": kind,
        "new_phone_window": window,
        "actor": _actor(user),
        "at": ctx.clock.utcnow(),
    }


@router.get(
    "/campaigns/{campaign}/callback-grid",
    response_model=GridOut,
    summary="The campaign's callback slot grid definition",
)
async def get_grid(ctx: Ctx, campaign: Campaign) -> GridOut:
    spec = await ctx.store.get_callback_grid(campaign)
    return GridOut(
        schedule=spec.schedule.name,
        timezone=spec.schedule.timezone,
        slot_min=spec.slot_min,
        capacity=spec.capacity,
        closed_dates=sorted(spec.closed_dates),
        missed_rule=spec.missed_rule,
        retry_delay_s=spec.retry_delay_s,
        personal_cap_per_day=spec.personal_cap_per_day,
        regions=sorted(spec.regions),
    )


@router.put(
    "/campaigns/{campaign}/callback-grid",
    response_model=GridOut,
    summary="Define the campaign's callback slot grid (supervisors, administrators)",
    dependencies=[Supervisor],
)
async def put_grid(ctx: Ctx, campaign: Campaign, body: GridIn) -> GridOut:
    await ctx.store.define_callback_grid(
        campaign,
        schedule=body.schedule,
        slot_min=body.slot_min,
        capacity=body.capacity,
        closed_dates=body.closed_dates,
        missed_rule=body.missed_rule,
        retry_delay_s=body.retry_delay_s,
        personal_cap_per_day=body.personal_cap_per_day,
        regions=body.regions,
    )
    return await get_grid(ctx, campaign)


@router.get(
    "/campaigns/{campaign}/callback-slots",
    response_model=list[SlotOut],
    summary="The grid's slots for a date range, each with its state and places left",
)
async def slots(
    ctx: Ctx,
    campaign: Campaign,
    first: Annotated[dt.date, Query(alias="from")],
    last: Annotated[dt.date | None, Query(alias="to", description="default: 'from'")] = None,
    timezone: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> list[SlotOut]:
    return await _slots(ctx, campaign, first, last, timezone)


async def _slots(
    ctx: ApiContext, campaign: str, first: dt.date, last: dt.date | None, timezone: str | None
) -> list[SlotOut]:
    zone = await _zone_of(ctx, campaign, timezone)
    views = await ctx.store.callback_grid(campaign, first, last or first, zone, at=ctx.clock.utcnow())
    return [SlotOut.model_validate(v, from_attributes=True) for v in views]


@router.get(
    "/campaigns/{campaign}/callbacks", response_model=list[CallbackOut], summary="The campaign's callbacks"
)
async def list_callbacks(
    ctx: Ctx,
    campaign: Campaign,
    state: Annotated[str | None, Query(pattern="^(pending|done|cancelled|missed)$")] = "pending",
    agent: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    source: Annotated[str | None, Query(pattern="^(agent|web)$")] = None,
) -> list[CallbackOut]:
    found = await ctx.store.list_callbacks(campaign, state=state, agent=agent, source=source)
    return [CallbackOut.of(cb) for cb in found]


@router.post(
    "/campaigns/{campaign}/callbacks",
    response_model=CallbackOut,
    status_code=201,
    summary="Plan a callback for a contact: a grid slot, or a time with its window",
    responses=_RESPONSES,
)
async def plan(ctx: Ctx, user: CurrentUser, campaign: Campaign, body: CallbackIn) -> CallbackOut:
    contact = await ctx.store.get_contact(body.contact_id)
    if contact.campaign_id != (await ctx.store.get_campaign(campaign)).id:
        raise ApiError(
            "not_found", f"contact {body.contact_id} is not in campaign {campaign}", field="contact_id"
        )
    cb = await ctx.store.schedule_callback(
        body.contact_id,
        kind=body.kind,
        agent_id=await _personal_agent(ctx, user, body.kind, body.agent),
        **await _when(ctx, user, campaign, body),
    )
    return CallbackOut.of(cb)


@router.get(
    "/campaigns/{campaign}/callbacks/{callback_id}", response_model=CallbackOut, summary="One callback"
)
async def one(ctx: Ctx, user: CurrentUser, campaign: Campaign, callback_id: CallbackId) -> CallbackOut:
    return CallbackOut.of(await _own_callback(ctx, user, campaign, callback_id))


@router.get(
    "/campaigns/{campaign}/callbacks/{callback_id}/history",
    response_model=list[CallbackChangeOut],
    summary="Every change of the callback: who, when, from what to what",
)
async def history(
    ctx: Ctx, user: CurrentUser, campaign: Campaign, callback_id: CallbackId
) -> list[CallbackChangeOut]:
    await _own_callback(ctx, user, campaign, callback_id)
    return [CallbackChangeOut.of(c) for c in await ctx.store.callback_history(callback_id)]


@router.post(
    "/campaigns/{campaign}/callbacks/{callback_id}/reschedule",
    response_model=CallbackOut,
    summary="Reschedule: another slot, or a date with its from-to, another number or kind",
    responses=_RESPONSES,
)
async def reschedule(
    ctx: Ctx, user: CurrentUser, campaign: Campaign, callback_id: CallbackId, body: RescheduleIn
) -> CallbackOut:
    cb = await _own_callback(ctx, user, campaign, callback_id)
    new_kind = body.kind or cb.kind
    agent_id = None
    if body.kind is not None or body.agent is not None:
        agent_id = await _personal_agent(ctx, user, new_kind, body.agent)
    moved = await ctx.store.reschedule_callback(
        callback_id, kind=body.kind, agent_id=agent_id, **await _when(ctx, user, campaign, body)
    )
    return CallbackOut.of(moved)


@router.delete(
    "/campaigns/{campaign}/callbacks/{callback_id}", response_model=CallbackOut, summary="Cancel a callback"
)
async def cancel(ctx: Ctx, user: CurrentUser, campaign: Campaign, callback_id: CallbackId) -> CallbackOut:
    await _own_callback(ctx, user, campaign, callback_id)
    await ctx.store.cancel_callback(callback_id, actor=_actor(user))
    return CallbackOut.of(await ctx.store.get_callback(callback_id))


# -- public: a website's web callback requests ------------------------------------------------


async def site_of_request(
    ctx: Ctx, request: Request, x_api_key: Annotated[str | None, Header(max_length=200)] = None
) -> WebSite:
    """The site whose key the request carries; a browser's page must be of one of its origins
    (the answer then names that origin for CORS: :mod:`dialer.api.public_cors`)."""
    site = None if not x_api_key else await ctx.store.callback_site_by_key(x_api_key)
    if site is None:
        raise ApiError("unauthorized", "send the site's key as 'X-Api-Key'", field="x-api-key")
    origin = request.headers.get("origin")
    if origin is not None:
        if origin not in site.origins:
            raise ApiError(
                "forbidden", "the site's key is not for pages of this origin", field="origin", value=origin
            )
        allow_origin(request.scope, origin)
    return site


Site = Annotated[WebSite, Depends(site_of_request)]


@router.get(
    "/public/callbacks/slots",
    response_model=list[SlotOut],
    summary="The site's campaign's free slots (X-Api-Key)",
    tags=["public"],
)
async def public_slots(
    ctx: Ctx,
    site: Site,
    first: Annotated[dt.date, Query(alias="from")],
    last: Annotated[dt.date | None, Query(alias="to")] = None,
    timezone: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> list[SlotOut]:
    return await _slots(ctx, site.campaign, first, last, timezone)


@router.post(
    "/public/callbacks",
    response_model=PublicCallbackOut,
    status_code=201,
    summary="A web callback request from a website (X-Api-Key): books a slot",
    responses=_RESPONSES,
    tags=["public"],
)
async def public_request(ctx: Ctx, site: Site, body: PublicCallbackIn, request: Request) -> PublicCallbackOut:
    if body.campaign != site.campaign:
        raise ApiError(
            "forbidden", "the site's key is for another campaign", field="campaign", value=body.campaign
        )
    try:
        parsed = normalize(body.number, ctx.default_region)
    except ValidationError as err:
        raise ApiError("invalid_value", err.reason, field="number", value=body.number) from None
    zone = await _zone_of(ctx, site.campaign, body.timezone)
    now = ctx.clock.utcnow()
    wanted = instant_in(body.wanted_at, zone, value_field="wanted_at")
    if wanted is not None and wanted < now:
        raise ApiError("invalid_value", "is in the past", field="wanted_at", value=str(body.wanted_at))
    result = await ctx.store.request_web_callback(
        site,
        e164=parsed.e164,
        name=body.name,
        consent_text=body.consent,
        source_addr=request.client.host if request.client else "unknown",
        at=now,
        wanted_at=wanted,
        slot_at=instant_in(body.slot, zone, value_field="slot"),
        timezones=parsed.timezones,
        region=parsed.region,
    )
    if not result.accepted:
        raise ApiError("callback_refused", "this request cannot be accepted")
    return PublicCallbackOut(
        accepted=True, starts_at=result.starts_at, ends_at=result.ends_at, duplicate=result.duplicate
    )
