"""The engines sharing the database (issue 15): ``GET /api/v1/engines``, supervisors and administrators.

Thin over the store (:meth:`dialer.store.owners.Owners.engines`, the same the CLI's ``dialer
engines`` prints): each engine's heartbeat, whether it is alive (a heartbeat within the
take-over time), the campaigns it owns and its calls in progress (attempts still open).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from dialer.api.context import Ctx, require_role
from dialer.store.users import Role, User

router = APIRouter(tags=["engines"])
Supervisor = Annotated[User, Depends(require_role(Role.SUPERVISOR, Role.ADMIN))]


class EngineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from dialer.model.EngineStatus

    engine_id: str
    host: str
    pid: int
    alive: bool
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    heartbeat_age_s: float
    stopped_at: dt.datetime | None
    max_campaigns: int
    campaigns: list[str]
    calls: int


@router.get("/engines", response_model=list[EngineOut], summary="The engines on this database, live first")
async def list_engines(ctx: Ctx, user: Supervisor) -> list[EngineOut]:
    del user
    own = ctx.engine.ownership
    expiry_s = own.takeover_s if own is not None else 10.0
    return [EngineOut.model_validate(e) for e in await ctx.store.engines(expiry_s=expiry_s)]
