"""The reminder service for supervisors (issue 14): a campaign's rules and templates, its log,
and whether the service runs (seed 002's panel). ``/api/v1/reminders/...`` and
``/api/v1/campaigns/{campaign}/reminders...``.

Thin over the store: the rules (templates render against the sample, templates match their
channel, lead times within a week) are :mod:`dialer.store.reminders`', the same the CLI uses.
Secrets never pass here: the channels' settings are the configuration's, not the API's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from dialer.api.context import Ctx, require_role
from dialer.store.reminder_sends import ReminderLogEntry, ReminderServiceState
from dialer.store.reminders import MAX_LEAD_S, ReminderSettings
from dialer.store.users import Role, User

router = APIRouter(tags=["reminders"])
Supervisor = Annotated[User, Depends(require_role(Role.SUPERVISOR, Role.ADMIN))]
Campaign = Annotated[str, Path(min_length=1, max_length=200)]
Channel = Literal["sms", "email"]
Lead = Field(default=None, ge=0, le=MAX_LEAD_S)
TemplateName = Field(default=None, min_length=1, max_length=200)


class SettingsOut(BaseModel):
    enabled: bool
    customer_enabled: bool
    customer_channel: Channel
    customer_template: str | None
    customer_lead_s: int
    agent_enabled: bool
    agent_channel: Channel
    agent_template: str | None
    agent_lead_s: int
    email_from: str
    sms_sender: str
    language: Literal["en", "pl"]


class SettingsIn(BaseModel):
    """Only the fields given change; a template by name (``null`` clears it)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    customer_enabled: bool | None = None
    customer_channel: Channel | None = None
    customer_template: str | None = TemplateName
    customer_lead_s: int | None = Lead
    agent_enabled: bool | None = None
    agent_channel: Channel | None = None
    agent_template: str | None = TemplateName
    agent_lead_s: int | None = Lead
    email_from: str | None = Field(default=None, max_length=320)
    sms_sender: str | None = Field(default=None, max_length=20)
    language: Literal["en", "pl"] | None = None


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    body: str = Field(min_length=1, max_length=20000)
    subject: str = Field(default="", max_length=500)
    html: str = Field(default="", max_length=100000)


class SmsLengthOut(BaseModel):
    encoding: Literal["gsm7", "ucs2"]
    units: int
    parts: int


class TemplateOut(BaseModel):
    name: str
    channel: Channel
    subject: str
    body: str
    html: str


class TemplateSaved(TemplateOut):
    sample_subject: str
    sample_text: str
    sms: SmsLengthOut | None = Field(description="the sample's SMS length and parts (SMS templates)")


def _settings_out(s: ReminderSettings) -> SettingsOut:
    return SettingsOut(**{k: getattr(s, k) for k in SettingsOut.model_fields})


@router.get(
    "/reminders/service", response_model=ReminderServiceState, summary="Whether the reminder service runs"
)
async def service_state(ctx: Ctx, user: Supervisor) -> ReminderServiceState:
    return await ctx.store.reminder_service_state(ctx.clock.utcnow())


@router.get(
    "/campaigns/{campaign}/reminders", response_model=SettingsOut, summary="A campaign's reminder rules"
)
async def get_settings(ctx: Ctx, user: Supervisor, campaign: Campaign) -> SettingsOut:
    return _settings_out(await ctx.store.reminder_settings(campaign))


@router.put("/campaigns/{campaign}/reminders", response_model=SettingsOut, summary="Change reminder rules")
async def put_settings(ctx: Ctx, user: Supervisor, campaign: Campaign, body: SettingsIn) -> SettingsOut:
    # a template given as null clears it; any other null changes nothing
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k in ("customer_template", "agent_template")
    }
    return _settings_out(await ctx.store.set_reminder_settings(campaign, **changes))


@router.get(
    "/campaigns/{campaign}/reminder-templates",
    response_model=list[TemplateOut],
    summary="A campaign's templates",
)
async def list_templates(ctx: Ctx, user: Supervisor, campaign: Campaign) -> list[TemplateOut]:
    return [
        TemplateOut.model_validate(
            {
                "name": t.name,
                "channel": t.text.channel,
                "subject": t.text.subject,
                "body": t.text.body,
                "html": t.text.html,
            }
        )
        for t in await ctx.store.reminder_templates(campaign)
    ]


@router.put(
    "/campaigns/{campaign}/reminder-templates/{name}",
    response_model=TemplateSaved,
    summary="Save a template (refused unless it renders against the sample)",
)
async def save_template(
    ctx: Ctx,
    user: Supervisor,
    campaign: Campaign,
    name: Annotated[str, Path(min_length=1, max_length=200)],
    body: TemplateIn,
) -> TemplateSaved:
    t, check = await ctx.store.save_reminder_template(
        campaign, name, channel=body.channel, body=body.body, subject=body.subject, html=body.html
    )
    sms = check.sms
    return TemplateSaved(
        name=t.name,
        channel=body.channel,
        subject=body.subject,
        body=body.body,
        html=body.html,
        sample_subject=check.rendered.subject,
        sample_text=check.rendered.text,
        sms=SmsLengthOut.model_validate({"encoding": sms.encoding, "units": sms.units, "parts": sms.parts})
        if sms
        else None,
    )


@router.get(
    "/campaigns/{campaign}/reminders/log",
    response_model=list[ReminderLogEntry],
    summary="The log, newest first",
)
async def get_log(
    ctx: Ctx,
    user: Supervisor,
    campaign: Campaign,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    callback: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[ReminderLogEntry]:
    return await ctx.store.reminder_log(campaign, limit=limit, callback_id=callback)
