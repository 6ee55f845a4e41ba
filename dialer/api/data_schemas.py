"""Bodies of the data endpoints (contacts, import, transfer, attempts, report).

The store's own values (:class:`~dialer.store.contact_search.ContactLine`,
:class:`~dialer.store.attempt_log.AttemptLine`, :class:`~dialer.store.reports.Report`, ...,
frozen dataclasses) are answered as they are: pydantic documents and checks them, so the API
and the CLI cannot show a contact differently. What is here wraps them (pages, the detail,
the import and transfer reports) or is a request body.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dialer.api.agent_views import phones_out
from dialer.api.schemas import MAX_ID, PhoneOut, _In
from dialer.contacts.importer import ImportReport
from dialer.contacts.transfer import TransferResult
from dialer.store.attempt_log import AttemptLine
from dialer.store.contact_search import CallbackLine, ContactDetail, ContactLine

Name = Field(min_length=1, max_length=200)


class ContactPage(BaseModel):
    items: list[ContactLine]
    next_after: int | None = Field(description="pass as `after` for the next page; null: no more")


class AttemptPage(BaseModel):
    items: list[AttemptLine]
    next_after: int | None = Field(description="pass as `after` for the next page; null: no more")


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
    attempts: list[AttemptLine]
    callbacks: list[CallbackLine]


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
        phones=phones_out(c.phones),
        attempts=d.attempts,
        callbacks=d.callbacks,
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
