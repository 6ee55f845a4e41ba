"""User administration (administrators only): ``/api/v1/users``.

The same rules as ``dialer user create``: the password rules of
:func:`~dialer.api.passwords.check_password`, the store's rules for names, roles and the agent
link. The password arrives in the request body and is hashed off the event loop; it is
never echoed, logged or stored in clear.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Response

from dialer.api.auth import user_out
from dialer.api.context import Admin, Ctx
from dialer.api.errors import ApiError
from dialer.api.passwords import check_password, hash_password
from dialer.api.schemas import UserCreate, UserEdit, UserOut

log = structlog.get_logger(__name__)

router = APIRouter(tags=["users"])


@router.get("/users", response_model=list[UserOut], summary="Every user")
async def list_users(ctx: Ctx, admin: Admin) -> list[UserOut]:
    return [user_out(u) for u in await ctx.store.list_users()]


@router.post("/users", response_model=UserOut, status_code=201, summary="Add a user")
async def create_user(body: UserCreate, ctx: Ctx, admin: Admin) -> UserOut:
    check_password(body.password)
    hashed = await asyncio.to_thread(hash_password, body.password)
    user = await ctx.store.create_user(body.name, body.role, hashed, agent=body.agent)
    log.info("api_user_created", user=user.name, role=user.role.value, by=admin.name)
    return user_out(user)


@router.delete("/users/{name}", status_code=204, summary="Remove a user (their tokens with them)")
async def remove_user(
    ctx: Ctx, admin: Admin, name: Annotated[str, Path(min_length=1, max_length=200)]
) -> Response:
    await ctx.store.remove_user(name)  # never the last administrator (409 in_use)
    ctx.tokens.clear()  # their tokens went with them
    log.info("api_user_removed", user=name, by=admin.name)
    return Response(status_code=204)


@router.get("/users/{name}", response_model=UserOut, summary="One user")
async def show_user(
    ctx: Ctx, admin: Admin, name: Annotated[str, Path(min_length=1, max_length=200)]
) -> UserOut:
    return user_out(await ctx.store.get_user(name))


@router.patch(
    "/users/{name}",
    response_model=UserOut,
    summary="Change a user's role, agent or password (their tokens are revoked on a role or password change)",
)
async def edit_user(
    body: UserEdit, ctx: Ctx, admin: Admin, name: Annotated[str, Path(min_length=1, max_length=200)]
) -> UserOut:
    if body.role is None and body.agent is None and body.password is None:
        raise ApiError("invalid_input", "name at least one of role, agent, password", field="body")
    hashed = None
    if body.password is not None:
        check_password(body.password)
        hashed = await asyncio.to_thread(hash_password, body.password)
    user = await ctx.store.update_user(name, role=body.role, agent=body.agent, password_hash=hashed)
    ctx.tokens.clear()  # cached sessions hold the old role and agent (revoked ones must go at once)
    log.info(
        "api_user_changed", user=user.name, role=user.role.value, password=hashed is not None, by=admin.name
    )
    return user_out(user)
