"""The compliance audit and the retention of call records over HTTP (``dialer compliance
report`` and ``dialer db prune``).

``GET /campaigns/{campaign}/compliance`` (supervisors, administrators): one row per rule with
the count of calls that broke it and the first attempt ids, from
:meth:`~dialer.store.compliance.Audit.audit_campaign`, the store function the CLI prints.
``POST /records/prune`` (administrators: it deletes the record of calls made, a compliance
decision like taking a number off a do-not-call list): :meth:`~dialer.store.compliance.Audit.prune_records`,
which refuses fewer than 183 days whoever asks.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from dialer.api.context import Admin, Ctx, Supervisor

log = structlog.get_logger(__name__)

router = APIRouter(tags=["compliance"])


class AuditRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from dialer.audit.AuditRow

    rule: str
    violations: int
    attempt_ids: list[int]
    detail: str


class ComplianceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from dialer.audit.ComplianceReport

    campaign: str
    profile: str
    since: dt.datetime
    until: dt.datetime
    attempts: int
    live_answers: int
    abandoned: int
    violations: int = Field(description="over every row; 0: the period is clean (the CLI exits 3 otherwise)")
    rows: list[AuditRowOut]


class PruneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than_days: float = Field(description="at least 183 (six months: Ofcom's minimum)")


class PruneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from dialer.store.compliance.PruneResult

    cutoff: dt.datetime
    attempts: int
    status_changes: int
    occupancy_minutes: int = Field(description="the wallboard's per-minute agent time, campaign by campaign")


@router.get(
    "/campaigns/{campaign}/compliance",
    response_model=ComplianceOut,
    summary="The compliance audit of a campaign's calls (dialer compliance report)",
)
async def compliance_report(
    ctx: Ctx,
    user: Supervisor,
    campaign: Annotated[str, Path(min_length=1, max_length=200)],
    since: Annotated[dt.datetime | None, Query(description="first call start included; default: all")] = None,
    until: Annotated[dt.datetime | None, Query(description="calls started before this; default: now")] = None,
) -> ComplianceOut:
    del user
    report = await ctx.store.audit_campaign(campaign, since=since, until=until, now=ctx.clock.utcnow())
    return ComplianceOut.model_validate(report)


@router.post(
    "/records/prune",
    response_model=PruneOut,
    summary="Delete call records older than N days, at least 183 (dialer db prune; admin)",
)
async def prune_records(ctx: Ctx, user: Admin, body: PruneIn) -> PruneOut:
    done = await ctx.store.prune_records(body.older_than_days, at=ctx.clock.utcnow())
    log.info("api_prune", cutoff=done.cutoff.isoformat(), attempts=done.attempts, by=user.name)
    return PruneOut.model_validate(done)
