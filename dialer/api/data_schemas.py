"""Bodies of the data endpoints (contacts, import, transfer, attempts, report), and their
conversions from the store's values: one place, so every endpoint shows a contact or an
attempt the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dialer.api.schemas import MAX_ID, PhoneOut, _In
from dialer.contacts.importer import ImportReport
from dialer.contacts.transfer import TransferCount, TransferResult
from dialer.store.attempt_log import AttemptLine
from dialer.store.contact_search import ContactDetail, ContactLine
from dialer.store.reports import Report

Name = Field(min_length=1, max_length=200)


class ContactLineOut(BaseModel):
    id: int
    campaign: str
    name: str
    status: str
    timezone: str | None
    phones: list[str]
    attempts: int
    last_outcome: str | None
    last_attempt_at: dt.datetime | None
    priority: int
    fields: dict[str, Any]


class ContactPage(BaseModel):
    items: list[ContactLineOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null: no more")


class AttemptLineOut(BaseModel):
    id: int
    campaign: str
    contact_id: int
    number: str
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    outcome: str | None
    hangup_cause: int | None
    agent: str | None
    status: str | None
    talk_s: float | None
    history_cleared: bool


class AttemptPage(BaseModel):
    items: list[AttemptLineOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null: no more")


class CallbackLineOut(BaseModel):
    id: int
    kind: str
    state: str
    due_at: dt.datetime
    window_end_at: dt.datetime | None
    agent: str | None
    number: str | None


class ContactDetailOut(BaseModel):
    id: int
    campaign: str
    name: str
    status: str
    timezone: str | None
    priority: int
    not_before: dt.datetime | None
    closed_reason: str | None
    fields: dict[str, Any]
    phones: list[PhoneOut]
    attempts: list[AttemptLineOut]
    callbacks: list[CallbackLineOut]


class ContactEdit(_In):
    """What a supervisor may correct; absent keys are left as they are."""

    name: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, min_length=1, max_length=64, description="IANA zone")
    clear_timezone: bool = Field(False, description="drop the contact's own zone (its numbers' apply)")
    fields: dict[str, str | None] | None = Field(None, description="merged; a null value removes the field")
    priority: int | None = Field(None, ge=-1_000_000, le=1_000_000)


class RejectOut(BaseModel):
    line: int
    reason: str


class WarningOut(BaseModel):
    reason: str
    rows: int
    first_line: int


class ImportOut(BaseModel):
    campaign: str
    dry_run: bool
    imported: int = Field(description="rows stored (a dry run: rows that would be)")
    rejected: int
    batches: int
    elapsed_s: float
    rejects: list[RejectOut] = Field(description="rejected rows in line order, the first max_rejects")
    rejects_truncated: bool
    warnings: list[WarningOut] = Field(
        description="imported rows the campaign can never dial as things stand"
    )


class TransferCountOut(BaseModel):
    campaign: str
    status: str
    matched: int
    in_call: int
    refusal: str | None = Field(description="why these records can never be moved, or null")


class TransferRequest(_In):
    from_campaign: str = Name
    status: str = Name
    to_campaign: str = Name
    new_status: str = Name
    limit: int | None = Field(None, ge=1, le=MAX_ID, description="at most this many records")


class TransferOut(BaseModel):
    from_campaign: str
    from_status: str
    to_campaign: str
    to_status: str
    matched: int
    moved: int
    skipped_leased: int
    history_cleared: bool
    message: str


class OutcomeDayOut(BaseModel):
    day: dt.date
    outcome: str
    attempts: int


class AbandonWindowOut(BaseModel):
    start: dt.datetime
    live: int
    abandoned: int
    rate: float | None


class AgentTalkOut(BaseModel):
    agent: str
    calls: int
    talk_s: float
    share: float


class ReportOut(BaseModel):
    campaign: str | None
    timezone: str
    since: dt.datetime
    until: dt.datetime
    window: str
    outcomes: list[OutcomeDayOut]
    abandons: list[AbandonWindowOut]
    talk: list[AgentTalkOut]


def contact_line_out(c: ContactLine) -> ContactLineOut:
    return ContactLineOut(
        id=c.id,
        campaign=c.campaign,
        name=c.name,
        status=c.status,
        timezone=c.timezone,
        phones=list(c.phones),
        attempts=c.attempts,
        last_outcome=c.last_outcome,
        last_attempt_at=c.last_attempt_at,
        priority=c.priority,
        fields=c.fields,
    )


def attempt_line_out(a: AttemptLine) -> AttemptLineOut:
    return AttemptLineOut(
        id=a.id,
        campaign=a.campaign,
        contact_id=a.contact_id,
        number=a.number,
        started_at=a.started_at,
        answered_at=a.answered_at,
        ended_at=a.ended_at,
        outcome=a.outcome,
        hangup_cause=a.hangup_cause,
        agent=a.agent,
        status=a.status,
        talk_s=a.talk_s,
        history_cleared=a.history_cleared,
    )


def contact_detail_out(d: ContactDetail) -> ContactDetailOut:
    c = d.contact
    return ContactDetailOut(
        id=c.id,
        campaign=d.campaign,
        name=c.name,
        status=c.status,
        timezone=c.timezone,
        priority=c.priority,
        not_before=c.not_before,
        closed_reason=c.closed_reason,
        fields=dict(c.fields or {}),
        phones=[
            PhoneOut(
                position=p.position,
                number=p.e164,
                kind=p.kind,
                window_start=p.window_start,
                window_end=p.window_end,
                disabled=p.disabled,
            )
            for p in c.phones
        ],
        attempts=[attempt_line_out(a) for a in d.attempts],
        callbacks=[
            CallbackLineOut(
                id=b.id,
                kind=b.kind,
                state=b.state,
                due_at=b.due_at,
                window_end_at=b.window_end_at,
                agent=b.agent,
                number=b.number,
            )
            for b in d.callbacks
        ],
    )


def import_out(report: ImportReport, rejects: list[RejectOut], truncated: bool) -> ImportOut:
    return ImportOut(
        campaign=report.campaign,
        dry_run=report.dry_run,
        imported=report.imported,
        rejected=report.rejected,
        batches=report.batches,
        elapsed_s=round(report.elapsed_s, 3),
        rejects=rejects,
        rejects_truncated=truncated,
        warnings=[WarningOut(reason=r, rows=n, first_line=line) for r, n, line in report.warnings],
    )


def transfer_count_out(c: TransferCount) -> TransferCountOut:
    return TransferCountOut(
        campaign=c.campaign, status=c.status, matched=c.matched, in_call=c.in_call, refusal=c.refusal
    )


def transfer_out(r: TransferResult) -> TransferOut:
    return TransferOut(
        from_campaign=r.from_campaign,
        from_status=r.from_status,
        to_campaign=r.to_campaign,
        to_status=r.to_status,
        matched=r.matched,
        moved=r.moved,
        skipped_leased=r.skipped_leased,
        history_cleared=r.history_cleared,
        message=r.describe(),
    )


def report_out(r: Report) -> ReportOut:
    return ReportOut(
        campaign=r.campaign,
        timezone=r.timezone,
        since=r.since,
        until=r.until,
        window=r.window,
        outcomes=[OutcomeDayOut(day=o.day, outcome=o.outcome, attempts=o.attempts) for o in r.outcomes],
        abandons=[
            AbandonWindowOut(start=w.start, live=w.live, abandoned=w.abandoned, rate=w.rate)
            for w in r.abandons
        ],
        talk=[AgentTalkOut(agent=t.agent, calls=t.calls, talk_s=t.talk_s, share=t.share) for t in r.talk],
    )
