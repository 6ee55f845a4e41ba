"""The reminder choices the CLI sets one at a time (``dialer reminders override|optout|
agent-address|status-action``), over HTTP for supervisors and administrators.

Thin over the same store functions (:mod:`dialer.store.reminders`: the recipients, channels,
lead times, templates of the right channel and E.164 numbers are checked there, once for every
front end). Each is a ``PUT`` of the whole choice and answers 204.
"""

from __future__ import annotations

from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from dialer.api.context import Ctx, Supervisor
from dialer.store.reminders import MAX_LEAD_S

log = structlog.get_logger(__name__)

router = APIRouter(tags=["reminders"])
Name = Annotated[str, Path(min_length=1, max_length=200)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


class OverrideIn(BaseModel):
    """A callback's own reminder choice (seed 002); a field left out keeps the campaign's."""

    model_config = ConfigDict(extra="forbid")
    recipients: Literal["customer", "agent", "both", "none"] | None = None
    channel: Literal["sms", "email"] | None = None
    template: str | None = Field(default=None, min_length=1, max_length=200, description="needs channel")
    lead_s: int | None = Field(default=None, ge=0, le=MAX_LEAD_S)


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opted_out: bool = Field(description="true: no customer reminders to this contact (pending: cancelled)")


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(default="", max_length=320)
    phone: str = Field(default="", max_length=20, description="E.164")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: str = Field(min_length=1, max_length=200)


@router.put(
    "/reminders/overrides/{callback_id}",
    status_code=204,
    summary="A callback's own reminder choice (dialer reminders override)",
)
async def set_override(ctx: Ctx, user: Supervisor, callback_id: Id, body: OverrideIn) -> None:
    choice = body.model_dump()
    await ctx.store.set_reminder_override(callback_id, **choice)
    log.info("api_reminder_override", callback=callback_id, by=user.name)


@router.put(
    "/reminders/optouts/{contact_id}",
    status_code=204,
    summary="A contact opts out of reminders, or back in (dialer reminders optout)",
)
async def set_optout(ctx: Ctx, user: Supervisor, contact_id: Id, body: OptOutIn) -> None:
    await ctx.store.set_reminder_optout(contact_id, body.opted_out)
    log.info("api_reminder_optout", contact=contact_id, opted_out=body.opted_out, by=user.name)


@router.put(
    "/agents/{agent}/reminder-address",
    status_code=204,
    summary="Where an agent gets reminders (dialer reminders agent-address)",
)
async def set_address(ctx: Ctx, user: Supervisor, agent: Name, body: AddressIn) -> None:
    await ctx.store.set_agent_reminder_address(agent, email=body.email, phone=body.phone)
    log.info("api_reminder_address", agent=agent, by=user.name)


@router.put(
    "/campaigns/{campaign}/reminder-actions/{status}",
    status_code=204,
    summary="The template a status with an action qualifier sends (dialer reminders status-action)",
)
async def set_action(ctx: Ctx, user: Supervisor, campaign: Name, status: Name, body: ActionIn) -> None:
    await ctx.store.set_status_action(campaign, status, body.template, at=ctx.clock.utcnow())
    log.info("api_reminder_action", campaign=campaign, status=status, by=user.name)
