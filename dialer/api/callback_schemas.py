"""Request and response bodies of the callback endpoints (:mod:`dialer.api.callbacks`, issue 13)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dialer.api.schemas import MAX_ID, NewNumber, _In
from dialer.callbacks.grid import MissedRule, SlotState
from dialer.model import Callback, CallbackChange, CallbackKind

__all__ = [
    "CallbackChangeOut",
    "CallbackIn",
    "CallbackOut",
    "GridIn",
    "GridOut",
    "PublicCallbackIn",
    "PublicCallbackOut",
    "RescheduleIn",
    "SlotOut",
]

Zone = Field(default=None, min_length=1, max_length=64, description="IANA zone; default: the campaign's")


class SlotOut(BaseModel):
    starts_at: dt.datetime = Field(description="UTC; book the slot by this instant")
    ends_at: dt.datetime
    local_start: dt.datetime = Field(description="in the time zone asked for")
    local_end: dt.datetime
    state: SlotState
    capacity: int
    booked: int
    remaining: int


class GridIn(_In):
    schedule: str = Field(min_length=1, max_length=200, description="opening days and hours (a schedule)")
    slot_min: int = Field(ge=5, le=1440)
    capacity: int | None = Field(default=None, ge=0, le=100_000, description="default: the campaign's agents")
    closed_dates: list[dt.date] = Field(default_factory=list, max_length=1000)
    missed_rule: MissedRule = MissedRule.CAMPAIGN
    retry_delay_s: int = Field(default=600, ge=60, le=86_400)
    personal_cap_per_day: int | None = Field(default=None, ge=1, le=10_000)
    regions: list[str] = Field(
        default_factory=list, max_length=300, description="web callback numbers' regions (ISO); empty: any"
    )


class GridOut(BaseModel):
    schedule: str
    timezone: str
    slot_min: int
    capacity: int | None
    closed_dates: list[dt.date]
    missed_rule: MissedRule
    retry_delay_s: int
    personal_cap_per_day: int | None
    regions: list[str]


class _When(_In):
    slot: dt.datetime | None = Field(default=None, description="a grid slot's start (books a place in it)")
    at: dt.datetime | None = Field(
        default=None, description="the time (without a slot); no offset: 'timezone'"
    )
    window_end: dt.datetime | None = Field(default=None, description="never dialled after this")
    timezone: str | None = Zone
    phone_position: int | None = Field(default=None, ge=1, le=10_000)
    new_number: NewNumber | None = None


class CallbackIn(_When):
    contact_id: int = Field(ge=1, le=MAX_ID)
    kind: CallbackKind = CallbackKind.CAMPAIGN
    agent: str | None = Field(default=None, min_length=1, max_length=200, description="personal: default you")


class RescheduleIn(_When):
    kind: CallbackKind | None = None
    agent: str | None = Field(default=None, min_length=1, max_length=200)


class CallbackOut(BaseModel):
    id: int
    contact_id: int
    contact_name: str
    kind: CallbackKind
    source: str = Field(description="agent, or web (a web callback request)")
    agent: str | None
    number: str | None = Field(description="the number it calls; null: the contact's numbers")
    due_at: dt.datetime
    window_end_at: dt.datetime | None
    slot: bool
    state: str
    requester_name: str | None

    @classmethod
    def of(cls, cb: Callback) -> CallbackOut:
        return cls(
            id=cb.id,
            contact_id=cb.contact_id,
            contact_name=cb.contact_name,
            kind=cb.kind,
            source=cb.source,
            agent=cb.agent,
            number=cb.e164,
            due_at=cb.due_at,
            window_end_at=cb.window_end_at,
            slot=cb.slot_id is not None,
            state=cb.state,
            requester_name=cb.requester_name,
        )


class CallbackChangeOut(BaseModel):
    changed_at: dt.datetime
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any]

    @classmethod
    def of(cls, c: CallbackChange) -> CallbackChangeOut:
        return cls(changed_at=c.changed_at, actor=c.actor, action=c.action, before=c.before, after=c.after)


class PublicCallbackIn(_In):
    campaign: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    number: str = Field(min_length=1, max_length=64)
    wanted_at: dt.datetime | None = Field(
        default=None, description="a time; the slot containing it is booked"
    )
    slot: dt.datetime | None = Field(default=None, description="a slot's start from the public grid")
    timezone: str | None = Zone
    consent: str = Field(min_length=1, max_length=2000, description="the consent text the person accepted")


class PublicCallbackOut(BaseModel):
    accepted: bool
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    duplicate: bool = Field(description="the same number already has a pending request: that booking")
