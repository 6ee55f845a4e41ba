"""Logging in and out of the API: ``POST /api/v1/auth/login``, ``/auth/logout``, ``GET /me``.

A login checks the password off the event loop (Argon2 costs tens of milliseconds of CPU,
which the engine's loop must not lose), under the per-user and per-address failure limits of
:class:`~dialer.api.ratelimit.LoginLimiter`, and answers a fresh opaque token; the store
keeps only its hash and its expiry. Logging out revokes the token at once. A wrong user
name and a wrong password get the same answer, in the same time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request, Response

from dialer.api.context import Ctx, CurrentUser, bearer_token
from dialer.api.errors import ApiError
from dialer.api.passwords import hash_token, new_token, verify_password
from dialer.api.schemas import LoginRequest, LoginResponse, UserOut
from dialer.store.users import User

log = structlog.get_logger(__name__)

router = APIRouter(tags=["auth"])


def user_out(user: User) -> UserOut:
    return UserOut(name=user.name, role=user.role, agent=user.agent, created_at=user.created_at)


@router.post("/auth/login", response_model=LoginResponse, summary="Log in: a bearer token for the user")
async def login(body: LoginRequest, request: Request, ctx: Ctx) -> LoginResponse:
    address = request.client.host if request.client else "unknown"
    now_s = ctx.clock.now()
    wait = ctx.limiter.retry_after_s(body.name, address, now_s)
    if wait > 0:
        log.warning("api_login_limited", user=body.name, address=address)
        raise ApiError(
            "too_many_attempts",
            f"too many failed logins; try again in {int(wait) + 1} s",
            field="name",
            value=body.name,
            headers={"Retry-After": str(int(wait) + 1)},
        )
    stored = await ctx.store.password_hash_of(body.name)
    ok, rehashed = await asyncio.to_thread(verify_password, stored, body.password)
    if not ok:
        ctx.limiter.failed(body.name, address, now_s)
        log.info("api_login_failed", user=body.name, address=address)
        raise ApiError("bad_credentials", "wrong user name or password", field="name", value=body.name)
    ctx.limiter.succeeded(body.name)
    if rehashed is not None:
        await ctx.store.set_password_hash(body.name, rehashed)
    token = new_token()
    expires_at = ctx.clock.utcnow() + dt.timedelta(seconds=ctx.settings.token_ttl_s)
    await ctx.store.add_token(body.name, hash_token(token), expires_at)
    user = await ctx.store.get_user(body.name)
    log.info("api_login", user=user.name, role=user.role.value, address=address)
    return LoginResponse(token=token, expires_at=expires_at, user=user_out(user))


@router.post("/auth/logout", status_code=204, summary="Log out: the token is revoked")
async def logout(ctx: Ctx, user: CurrentUser, token: Annotated[str, Depends(bearer_token)]) -> Response:
    await ctx.store.revoke_token(hash_token(token), ctx.clock.utcnow())
    ctx.tokens.forget(hash_token(token))  # after the revocation (a lookup racing it: refused within the ttl)
    log.info("api_logout", user=user.name)
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, summary="The logged-in user")
async def me(user: CurrentUser) -> UserOut:
    return user_out(user)
