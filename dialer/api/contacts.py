"""Contacts for supervisors and administrators: search and page, show one, edit, export as CSV.

Thin calls on the store's :class:`~dialer.store.contact_search.ContactSearch` (the same
functions ``dialer contacts list|search|show|export`` call), which checks every filter.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from dialer.api.context import Ctx, Supervisor
from dialer.api.data_schemas import (
    ContactDetailOut,
    ContactEdit,
    ContactPage,
    contact_detail_out,
)
from dialer.api.listing import CSV_RESPONSE, Page, csv_download
from dialer.api.schemas import MAX_ID
from dialer.store.contact_search import ContactQuery

log = structlog.get_logger(__name__)

router = APIRouter(tags=["contacts"])

ContactId = Annotated[int, Path(ge=1, le=MAX_ID)]


def contact_query(
    campaign: Annotated[str | None, Query(min_length=1, max_length=200, description="campaign name")] = None,
    status: Annotated[str | None, Query(min_length=1, max_length=200, description="status name")] = None,
    name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="part of the name, any case")
    ] = None,
    number: Annotated[str | None, Query(min_length=1, max_length=40, description="3 or more digits")] = None,
) -> ContactQuery:
    """The contact filters, as query parameters of the list and the export alike."""
    return ContactQuery(campaign=campaign, status=status, name=name, number=number)


Filters = Annotated[ContactQuery, Depends(contact_query)]


@router.get("/contacts", response_model=ContactPage, summary="Search contacts, a page at a time (by id)")
async def list_contacts(
    ctx: Ctx,
    user: Supervisor,
    query: Filters,
    page: Page,
) -> ContactPage:
    lines, next_after = await ctx.store.search_contacts(query, after=page.after, limit=page.limit)
    return ContactPage(items=lines, next_after=next_after)


@router.get(
    "/contacts/export",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
    summary="Export the matching contacts as CSV (streamed; re-importable columns)",
)
async def export_contacts(ctx: Ctx, user: Supervisor, query: Filters) -> StreamingResponse:
    rows = await ctx.store.export_contacts(query)
    log.info("api_contacts_export", campaign=query.campaign, by=user.name)
    return csv_download(rows, "contacts.csv")


@router.get(
    "/contacts/{contact_id}",
    response_model=ContactDetailOut,
    summary="One contact: numbers, custom fields, attempts, callbacks",
)
async def show_contact(ctx: Ctx, user: Supervisor, contact_id: ContactId) -> ContactDetailOut:
    return contact_detail_out(await ctx.store.contact_detail(contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactDetailOut, summary="Edit a contact's data")
async def edit_contact(
    ctx: Ctx, user: Supervisor, contact_id: ContactId, body: ContactEdit
) -> ContactDetailOut:
    detail = await ctx.store.update_contact(
        contact_id,
        name=body.name,
        timezone=body.timezone,
        clear_timezone=body.clear_timezone,
        fields=body.fields,
        priority=body.priority,
    )
    log.info("api_contact_edited", contact=contact_id, by=user.name)
    return contact_detail_out(detail)
