"""Agent administration: the agent records behind the agent endpoints of :mod:`dialer.api.agents`.

``/api/v1/agents`` lists and creates agents; ``PATCH`` and ``DELETE /agents/{agent}`` change
and remove one; ``GET /agents/{agent}/record`` shows it with its campaigns and its user;
``PUT /agents/{agent}/campaigns`` sets the campaigns it works on. (``GET /agents/{agent}``
is the agent's live state, served by :mod:`dialer.api.agents`.) The rules are the store's
(the interface's form and uniqueness, no removal of an agent with history or a user), as for
``dialer agent``.

Supervisors list, show, edit (interface, active) and assign agents; administrators create
and remove them (accounts, as users are).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from dialer.api.context import Admin, ApiContext, Ctx, Supervisor
from dialer.api.errors import ApiError
from dialer.model import Agent

router = APIRouter(tags=["agent records"])

AgentName = Annotated[str, Path(min_length=1, max_length=200, description="agent name")]


class AgentRecord(BaseModel):
    name: str
    interface: str = Field(description="the queue member interface ('' = given at login)")
    active: bool = Field(description="an inactive agent cannot log in")
    server: str = Field(default="", description="the Asterisk server its phone is registered on ('' = any)")
    campaigns: list[str]
    user: str | None = Field(description="the API user acting as this agent")
    logged_in: bool = Field(description="logged in on this engine now")


class AgentCreate(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=200)
    interface: str = Field(default="", max_length=200, description="e.g. PJSIP/1001; '' = given at login")
    server: str = Field(default="", max_length=63, description="[[ami.servers]] name; '' = any server")
    campaigns: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default=[], max_length=1000)


class AgentEdit(BaseModel):
    model_config = {"extra": "forbid"}

    interface: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    server: str | None = Field(default=None, max_length=63)


class AgentCampaigns(BaseModel):
    model_config = {"extra": "forbid"}

    campaigns: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=1000)


async def record_of(ctx: ApiContext, agent: Agent) -> AgentRecord:
    users = [u.name for u in await ctx.store.list_users() if u.agent == agent.name]
    return AgentRecord(
        name=agent.name,
        interface=agent.interface,
        active=agent.active,
        server=agent.server,
        campaigns=await ctx.store.agent_campaigns(agent.name),
        user=users[0] if users else None,
        logged_in=ctx.sessions.get(agent.name) is not None,
    )


@router.get("/agents", response_model=list[AgentRecord], summary="Every agent with its campaigns")
async def list_agents(ctx: Ctx, user: Supervisor) -> list[AgentRecord]:
    return [await record_of(ctx, a) for a in await ctx.store.list_agents()]


@router.post("/agents", response_model=AgentRecord, status_code=201, summary="Add an agent")
async def create_agent(body: AgentCreate, ctx: Ctx, user: Admin) -> AgentRecord:
    for campaign in body.campaigns:  # before anything is written: all or nothing
        await ctx.store.get_campaign(campaign)
    agent = await ctx.store.create_agent(body.name, body.interface, server=body.server)
    if body.campaigns:
        await ctx.store.set_agent_campaigns(agent.name, body.campaigns)
    return await record_of(ctx, agent)


@router.get("/agents/{agent}/record", response_model=AgentRecord, summary="An agent's record")
async def show_agent(agent: AgentName, ctx: Ctx, user: Supervisor) -> AgentRecord:
    return await record_of(ctx, await ctx.store.get_agent(agent))


@router.patch(
    "/agents/{agent}", response_model=AgentRecord, summary="Change an agent's interface or active flag"
)
async def edit_agent(agent: AgentName, body: AgentEdit, ctx: Ctx, user: Supervisor) -> AgentRecord:
    if body.interface is None and body.active is None and body.server is None:
        raise ApiError("invalid_input", "name at least one field to change", field="body")
    return await record_of(
        ctx,
        await ctx.store.update_agent(agent, interface=body.interface, active=body.active, server=body.server),
    )


@router.put(
    "/agents/{agent}/campaigns", response_model=AgentRecord, summary="Set the campaigns the agent works on"
)
async def assign_agent(agent: AgentName, body: AgentCampaigns, ctx: Ctx, user: Supervisor) -> AgentRecord:
    await ctx.store.set_agent_campaigns(agent, body.campaigns)
    return await record_of(ctx, await ctx.store.get_agent(agent))


@router.delete(
    "/agents/{agent}",
    status_code=204,
    summary="Remove an agent without calls, callbacks or a user (409 in_use: set it inactive instead)",
)
async def remove_agent(agent: AgentName, ctx: Ctx, user: Admin) -> Response:
    if ctx.sessions.get(agent) is not None:
        raise ApiError(
            "in_use", "the agent is logged in on this engine; log it out first", field="agent", value=agent
        )
    await ctx.store.remove_agent(agent)
    return Response(status_code=204)
