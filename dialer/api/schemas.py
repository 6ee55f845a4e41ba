"""The API's request and response bodies (pydantic models, which make the OpenAPI document).

Requests forbid unknown fields (a typo is an ``invalid_input`` naming it, not a silently
ignored key) and bound every string and number, so that what the store receives fits its
columns; the data-model rules themselves stay the store's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dialer.api.errors import ApiError
from dialer.api.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from dialer.model import CallbackKind
from dialer.store.users import Role

__all__ = [
    "HHMM",
    "AgentCampaignState",
    "AgentLogin",
    "AgentState",
    "CallbackRequest",
    "CampaignOut",
    "ContactEdit",
    "ContactOut",
    "DispositionRequest",
    "ErrorOut",
    "LoginRequest",
    "LoginResponse",
    "LogoutCountdownOut",
    "LogoutResponse",
    "NewNumber",
    "OfferOut",
    "PauseRequest",
    "PendingCallbackOut",
    "PreviewRequest",
    "StatusOut",
    "UserCreate",
    "UserEdit",
    "UserOut",
    "hhmm",
    "refuse_nulls",
]

Name = Field(min_length=1, max_length=200)
# PostgreSQL bigint; ids beyond it are not ours, and must be a 4xx rather than a driver error.
MAX_ID = 2**63 - 1


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every 4xx body (``docs/api.md`` lists the ids)."""

    error: str
    field: str | None
    reason: str
    value: Any = None


class LoginRequest(_In):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    name: str
    role: Role
    agent: str | None
    created_at: dt.datetime


class LoginResponse(BaseModel):
    token: str = Field(description="opaque bearer token: send as 'Authorization: Bearer TOKEN'")
    expires_at: dt.datetime
    user: UserOut


class UserCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    agent: str | None = Field(default=None, min_length=1, max_length=200)


class UserEdit(_In):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    agent: str | None = Field(default=None, min_length=1, max_length=200, description="for role agent")


class CampaignOut(BaseModel):
    name: str
    mode: str
    state: str
    queue: str
    timezone: str
    running_here: bool = Field(description="this engine runs it now (open schedule)")


class StatusOut(BaseModel):
    name: str
    system_status: str
    needs_date: bool = Field(description="'my record' and 'not before' need the date of the next call")


class AgentLogin(_In):
    interface: str | None = Field(
        default=None, min_length=1, max_length=200, description="default: the agent's stored interface"
    )
    campaigns: list[str] | None = Field(
        default=None, max_length=100, description="default: every campaign the agent is assigned to"
    )
    paused: bool = False
    pause_reason: str | None = Field(default=None, max_length=200)


class PauseRequest(_In):
    reason: str | None = Field(default=None, max_length=200)


class PreviewRequest(_In):
    campaign: str | None = Field(
        default=None, min_length=1, max_length=200, description="needed when logged in to several"
    )


class LogoutCountdownOut(BaseModel):
    waiting_for: str
    remaining_s: float | None = Field(description="null while talking: the call lasts as long as it lasts")


class AgentCampaignState(BaseModel):
    campaign: str
    mode: str
    state: str
    in_state_s: float
    pause_reason: str | None
    pending_pause: bool
    logout: LogoutCountdownOut | None
    wrap_up_left_s: float | None = Field(description="seconds before the default disposition")
    wrap_up_default: str | None = Field(
        default=None, description="the status the default disposition sets (in wrap-up; None: none set)"
    )
    offered_contact: int | None
    call_contact: int | None


class AgentState(BaseModel):
    agent: str
    logged_in: bool
    logging_out: bool
    campaigns: list[AgentCampaignState]
    waiting_for_campaigns: list[str] = Field(
        description="campaigns of this login not running now: joined when they start"
    )


class LogoutResponse(BaseModel):
    logged_out: bool = Field(description="true: done now; false: held until the calls end")
    remaining: list[LogoutCountdownOut]
    state: AgentState


class PhoneOut(BaseModel):
    position: int
    number: str
    kind: str
    window_start: dt.time | None
    window_end: dt.time | None
    disabled: bool


class AttemptOut(BaseModel):
    id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str | None
    number: str


class PendingCallbackOut(BaseModel):
    """A pending callback of the contact: a web one (``source`` web) shows who asked and when."""

    id: int
    kind: CallbackKind
    source: str
    due_at: dt.datetime
    window_end_at: dt.datetime | None
    number: str | None
    requester_name: str | None


class ContactOut(BaseModel):
    """The screen pop: the contact, its numbers, custom fields and attempt history."""

    id: int
    campaign: str
    name: str
    timezone: str | None
    status: str
    fields: dict[str, Any]
    phones: list[PhoneOut]
    attempts: list[AttemptOut]
    statuses: list[StatusOut] = Field(description="what a disposition may set")
    callbacks: list[PendingCallbackOut] = Field(
        default_factory=list, description="its pending callbacks (a web callback request: source web)"
    )


class OfferOut(BaseModel):
    campaign: str
    kind: str = Field(description="preview (asked for) or push_preview (pushed)")
    contact: ContactOut


class NewNumber(_In):
    number: str = Field(min_length=1, max_length=64)
    kind: str | None = Field(default=None, max_length=32, description="default: from the number")
    window_start: dt.time | None = None
    window_end: dt.time | None = None


class CallbackRequest(_In):
    kind: CallbackKind
    phone_position: int | None = Field(
        default=None, ge=1, le=10_000, description="one of the contact's numbers"
    )
    new_number: NewNumber | None = None
    slot: dt.datetime | None = Field(
        default=None, description="book a place in the grid slot starting then (its start is the date)"
    )
    window_end: dt.datetime | None = Field(
        default=None, description="without a slot: the callback is never dialled after this"
    )


class DispositionRequest(_In):
    status: str = Field(min_length=1, max_length=200)
    at: dt.datetime | None = Field(
        default=None,
        description="the next call's date and time: required by 'my record' and 'not before' and"
        " by a callback; without an offset it is read in 'timezone'",
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="default: the contact's time zone, else the campaign's"
    )
    callback: CallbackRequest | None = None


class ContactEdit(_In):
    """The agent's edit of the customer on the screen: a new name and/or the custom fields (whole)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    fields: dict[str, str | int | float | bool | None] | None = Field(
        default=None, max_length=100, description="replaces the custom fields whole"
    )


# A wall-clock time in a response: "HH:MM". (OpenAPI's "format: time" is RFC 3339's full-time,
# which requires an offset; our times are local to a zone named beside them.)
HHMM = r"^[0-2][0-9]:[0-5][0-9]$"


def hhmm(t: dt.time | None) -> str | None:
    return None if t is None else t.strftime("%H:%M")


def refuse_nulls(body: BaseModel, *, nullable: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """The fields a request gave, as a dict of changes; an explicit null is refused unless the
    field is in ``nullable`` (where null means "back to the default").

    Raises:
        ApiError: ``invalid_input`` naming the first field given as null.
    """
    given: dict[str, Any] = {}
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        if value is None and name not in nullable:
            raise ApiError("invalid_input", "must not be null (leave the field out to keep it)", field=name)
        given[name] = value
    return given
