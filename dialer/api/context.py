"""What every endpoint is handed: :class:`ApiContext`, and the authentication dependencies.

The composition root builds one :class:`ApiContext` (the store, the engine, the clock, the
``[api]`` settings) and the application keeps it in ``app.state``; endpoints take it with
``Depends(context)``, never from a global. :func:`current_user` turns the bearer token into
the :class:`~dialer.store.users.User` (401 otherwise); :func:`require_role` and
:func:`acting_agent` are the authorisation rules: an agent user acts only as its own agent,
supervisors and administrators act on any agent and campaign, only administrators manage
users.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Request

from config import ApiConfig, CampaignDefaultsConfig
from dialer.api.errors import ApiError
from dialer.api.passwords import hash_token
from dialer.api.ratelimit import LoginLimiter
from dialer.api.sessions import AgentSessions
from dialer.api.streams import Streams
from dialer.api.timing import Observe
from dialer.campaign.engine import Engine
from dialer.clock import Clock
from dialer.store.store import Store
from dialer.store.users import Role, User

__all__ = [
    "Admin",
    "ApiContext",
    "Supervisor",
    "TokenCache",
    "acting_agent",
    "bearer_token",
    "context",
    "current_user",
    "read_bearer",
    "require_role",
    "token_user",
]


class TokenCache:
    """Tokens checked in the last ``ttl_s``: most requests then cost no database read.

    Why: every request of an agent's screen is authenticated, and the token lookup was one
    round trip on the pool the engine dials with. Only positive answers are kept, for at most
    ``ttl_s`` of the clock: a token revoked or a user removed through this API is forgotten at
    once (:meth:`forget`, :meth:`clear`); one revoked, expired or removed behind its back
    (another engine process, the CLI, the passing of its expiry) is refused within ``ttl_s``,
    or within the event hub's ``recheck_s`` (10 s) if it has an open event stream: the hub's
    check of the streams' tokens puts them back fresh, or forgets them. That check is also
    why ``ttl_s`` is 30 s, three checks: with 5 s, an agent who clicked again after more than
    5 s (most clicks of ``benchmarks/api.py``'s agents, 2-6 s apart, and of real ones) waited
    for a database read on the engine's busy pool, the 50-100 ms tail of an action.
    """

    def __init__(self, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self._max = max_entries
        self._entries: dict[bytes, tuple[User, float]] = {}
        self.refreshing: dict[bytes, asyncio.Task[None]] = {}  # re-reads in flight (kept alive here)
        self.epoch = 0  # counts forgets: a re-read begun before one must not bring an entry back

    def get(self, token_hash: bytes, now_s: float) -> User | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if now_s - entry[1] >= self.ttl_s or now_s < entry[1]:
            del self._entries[token_hash]
            return None
        return entry[0]

    def due(self, token_hash: bytes, now_s: float) -> bool:
        """The entry is past half its life: re-read it now (off the request's path, see
        :func:`token_user`) so that a token in use is found here at its next request too."""
        entry = self._entries.get(token_hash)
        return entry is not None and now_s - entry[1] >= self.ttl_s / 2

    def put(self, token_hash: bytes, user: User, now_s: float) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()  # a flood of tokens: start over rather than grow
        self._entries[token_hash] = (user, now_s)

    def forget(self, token_hash: bytes) -> None:
        self.epoch += 1
        self._entries.pop(token_hash, None)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()


@dataclass
class ApiContext:
    """The API's collaborators (built by :func:`dialer.api.server.build_api_server`)."""

    store: Store
    engine: Engine
    clock: Clock
    settings: ApiConfig
    default_region: str
    limiter: LoginLimiter
    sessions: AgentSessions
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    tokens: TokenCache = field(default_factory=TokenCache)
    # the open event streams (fed by the server's EventHub; endpoints wake an agent's streams)
    streams: Streams = field(default_factory=Streams)
    # what ``POST /campaigns`` gives a new campaign for the AMD settings it leaves out, as
    # ``dialer campaign create`` does (the ``[campaigns]`` configuration)
    campaign_defaults: CampaignDefaultsConfig = field(default_factory=CampaignDefaultsConfig)
    # where each request's time to its response goes (the engine's metrics; ``dialer.api.timing``)
    observe_latency: Observe | None = None


# The dependencies are ``async def`` though they await nothing: FastAPI runs a plain ``def``
# dependency in a worker thread, two thread hand-offs per request on the engine's loop.


async def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(context)]


async def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer TOKEN`` (401 ``unauthorized`` without one)."""
    return read_bearer(request)


def read_bearer(request: Request) -> str:
    """:func:`bearer_token`, for code outside the dependency graph."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            "unauthorized",
            "send 'Authorization: Bearer TOKEN' (POST /api/v1/auth/login gives a token)",
            field="authorization",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def token_user(ctx: ApiContext, token: str) -> User | None:
    """The user of ``token`` (None: unknown, expired or revoked), through :class:`TokenCache`.

    A cached answer past half its life is re-read in a task of its own while this request
    goes on with it (never past ``ttl_s``): a token in steady use then never waits for the
    database, whose round trip on the engine's busy pool was the slow part of an agent's
    click (``benchmarks/api.py``: every request of an agent after a 5 s expiry).
    """
    token_hash = hash_token(token)
    now_s = ctx.clock.now()
    cache = ctx.tokens
    user = cache.get(token_hash, now_s)
    if user is None:
        user = await ctx.store.token_user(token_hash, ctx.clock.utcnow())
        if user is not None:
            cache.put(token_hash, user, now_s)
    elif cache.due(token_hash, now_s) and token_hash not in cache.refreshing:
        task = asyncio.create_task(_reread_token(ctx, token_hash, now_s, cache.epoch))
        cache.refreshing[token_hash] = task
        task.add_done_callback(lambda _: cache.refreshing.pop(token_hash, None))
    return user


async def _reread_token(ctx: ApiContext, token_hash: bytes, now_s: float, epoch: int) -> None:
    try:
        user = await ctx.store.token_user(token_hash, ctx.clock.utcnow())
    except Exception:  # the database is down: the entry runs out and the next request asks
        return
    if ctx.tokens.epoch != epoch:
        return  # forgotten meanwhile (a logout, a user changed): the next request asks
    if user is None:
        ctx.tokens.forget(token_hash)
    else:
        ctx.tokens.put(token_hash, user, now_s)


async def current_user(ctx: Ctx, token: Annotated[str, Depends(bearer_token)]) -> User:
    user = await token_user(ctx, token)
    if user is None:
        raise ApiError(
            "unauthorized",
            "the token is unknown, expired or revoked: log in again",
            field="authorization",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: Role):  # type: ignore[no-untyped-def]  # a FastAPI dependency factory
    """A dependency letting through only users with one of ``roles`` (403 ``forbidden``)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise ApiError(
                "forbidden", f"only {allowed} users may do this", field="role", value=user.role.value
            )
        return user

    return check


# Who may use the supervisor and the administrator endpoints (docs/api.md, "who may").
Supervisor = Annotated[User, Depends(require_role(Role.SUPERVISOR, Role.ADMIN))]
Admin = Annotated[User, Depends(require_role(Role.ADMIN))]


async def acting_agent(
    user: CurrentUser, agent: Annotated[str, Path(min_length=1, max_length=200, description="agent name")]
) -> str:
    """The agent named in the path, if the user may act as it (403 ``forbidden`` otherwise)."""
    if user.role is Role.AGENT and user.agent != agent:
        raise ApiError("forbidden", "an agent user acts only as its own agent", field="agent", value=agent)
    return agent


async def visible_campaign(
    ctx: Ctx, user: CurrentUser, campaign: Annotated[str, Path(min_length=1, max_length=200)]
) -> str:
    """A campaign the user may see: any for supervisors and admins, an agent's own ones."""
    if user.role is Role.AGENT and campaign not in await ctx.store.agent_campaigns(user.agent or ""):
        raise ApiError(
            "forbidden", "the agent is not assigned to this campaign", field="campaign", value=campaign
        )
    return campaign
