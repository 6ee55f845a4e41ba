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
from fastapi import APIRouter, Depends, Path, Response

from dialer.api.auth import user_out
from dialer.api.context import Ctx, require_role
from dialer.api.passwords import check_password, hash_password
from dialer.api.schemas import UserCreate, UserOut
from dialer.store.users import Role, User

log = structlog.get_logger(__name__)

router = APIRouter(tags=["users"])
Admin = Annotated[User, Depends(require_role(Role.ADMIN))]


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
    await ctx.store.remove_user(name)
    ctx.tokens.clear()  # their tokens went with them
    log.info("api_user_removed", user=name, by=admin.name)
    return Response(status_code=204)
