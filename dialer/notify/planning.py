"""When and to whom a callback's reminders go: pure rules, no I/O.

Seed 002: a campaign has defaults for customers and for agents (on/off, channel, template,
lead time before the callback's start) and a callback may override them (recipients
customer / agent / both, channel, template, lead). Issue 14 item 3 adds the customer's
protections: no SMS outside the contact's calling hours (the campaign's local hours in every
zone the contact may be in), sent at the next allowed moment when the lead time falls at
night, and nothing to a contact on the do-not-call list or opted out. A reminder that cannot
go out before the callback is skipped with its reason (it is logged, not silently dropped).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

CUSTOMER = "customer"
AGENT = "agent"
SMS = "sms"
EMAIL = "email"
CHANNELS = (SMS, EMAIL)
RECIPIENTS = ("customer", "agent", "both", "none")


@dataclass(frozen=True, slots=True)
class Defaults:
    """A campaign's default for one kind of recipient (seed 002's two tabs)."""

    enabled: bool
    channel: str
    template_id: int | None
    lead_s: int


@dataclass(frozen=True, slots=True)
class Override:
    """A callback's own choice; ``None`` keeps the campaign's default."""

    recipients: str | None = None
    channel: str | None = None
    template_id: int | None = None
    lead_s: int | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """What is known of one recipient: addresses per channel and what forbids sending."""

    addresses: dict[str, str]
    refused: str | None = None  # "do-not-call", "opted out": the customer's protections


@dataclass(frozen=True, slots=True)
class PlannedSend:
    recipient: str
    channel: str
    template_id: int | None
    address: str
    send_at: dt.datetime
    deadline: dt.datetime
    skipped: str | None  # why it will not be sent; None: it will


def in_hours(at: dt.datetime, zones: tuple[str, ...], start: dt.time, end: dt.time) -> bool:
    """``at`` inside [start, end) local time in every zone (start == end: all day; start > end wraps)."""
    if start == end:
        return True
    for zone in zones:
        t = at.astimezone(ZoneInfo(zone)).time()
        inside = start <= t < end if start < end else (t >= start or t < end)
        if not inside:
            return False
    return True


def next_allowed(at: dt.datetime, zones: tuple[str, ...], start: dt.time, end: dt.time) -> dt.datetime | None:
    """The first moment from ``at`` on that is inside the hours in every zone (None: none within 3 days)."""
    if in_hours(at, zones, start, end):
        return at
    candidates = []
    for zone in zones:
        tz = ZoneInfo(zone)
        day = at.astimezone(tz).date()
        for k in range(4):
            cand = dt.datetime.combine(day + dt.timedelta(days=k), start, tzinfo=tz).astimezone(dt.UTC)
            if cand > at and in_hours(cand, zones, start, end):
                candidates.append(cand)
    return min(candidates, default=None)


def plan_callback(
    due_at: dt.datetime,
    *,
    customer_default: Defaults,
    agent_default: Defaults,
    override: Override | None,
    customer: Recipient,
    agent: Recipient | None,
    zones: tuple[str, ...],
    hours: tuple[dt.time, dt.time],
) -> list[PlannedSend]:
    """The sends one callback wants: one per recipient it reminds, each with its time or the
    reason it is skipped. The deadline of every send is the callback's time."""
    o = override or Override()
    if o.recipients is not None:
        wanted = {CUSTOMER: o.recipients in ("customer", "both"), AGENT: o.recipients in ("agent", "both")}
    else:
        wanted = {CUSTOMER: customer_default.enabled, AGENT: agent_default.enabled}
    out: list[PlannedSend] = []
    for kind, default, who in ((CUSTOMER, customer_default, customer), (AGENT, agent_default, agent)):
        if not wanted[kind]:
            continue
        channel = o.channel or default.channel
        template = o.template_id if o.template_id is not None else default.template_id
        lead = o.lead_s if o.lead_s is not None else default.lead_s
        send_at = due_at - dt.timedelta(seconds=lead)
        skipped = None
        address = ""
        if who is None:
            skipped = "the callback has no agent"
        else:
            address = who.addresses.get(channel, "")
            skipped = who.refused
        if skipped is None and template is None:
            skipped = f"no {channel} template chosen"
        if skipped is None and not address:
            skipped = f"no {'phone number' if channel == SMS else 'e-mail address'} for the {kind}"
        if skipped is None and kind == CUSTOMER and channel == SMS:
            allowed = next_allowed(send_at, zones, *hours)
            if allowed is None or allowed >= due_at:
                skipped = "no allowed hour for an SMS before the callback"
            else:
                send_at = allowed
        out.append(PlannedSend(kind, channel, template, address, send_at, due_at, skipped))
    return out


def retry_at(now: dt.datetime, tries: int, *, base_s: float, cap_s: float) -> dt.datetime:
    """When a transiently failed send is tried again: doubling from ``base_s`` up to ``cap_s``."""
    delay = min(cap_s, base_s * 2 ** max(0, tries - 1))
    return now + dt.timedelta(seconds=delay)
