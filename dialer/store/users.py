"""Users of the HTTP API and their bearer tokens (migration 011).

A user has a role (``agent``, ``supervisor``, ``admin``) and, for an agent, the agent row it
acts as. The store keeps only hashes: the caller hashes the password (Argon2, in
:mod:`dialer.api.passwords`) and the token (SHA-256 of its random bytes), so no secret ever
reaches a query's parameters in clear. Live sessions (which agent is logged in to which
campaign) are not stored: the engine's agent boards hold them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from dialer.errors import InUse, NotFound, ValidationError
from dialer.model import Agent
from dialer.store.connection import PoolNoun

__all__ = ["Role", "User", "Users"]


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    """A user as the API sees it: never with the password hash."""

    id: int
    name: str
    role: Role
    agent: str | None  # the agent's name, for role agent
    created_at: dt.datetime


_USER_SELECT = """SELECT u.id, u.name, u.role, u.created_at, a.name AS agent_name
                  FROM users u LEFT JOIN agents a ON a.id = u.agent_id"""


def _user_from(row: asyncpg.Record) -> User:
    return User(row["id"], row["name"], Role(row["role"]), row["agent_name"], row["created_at"])


class Users(PoolNoun):
    """Users and tokens on the shared pool."""

    async def create_user(
        self, name: str, role: Role, password_hash: str, *, agent: str | None = None
    ) -> User:
        """Add a user; an agent user is linked to the agent row named ``agent``.

        Raises:
            ValidationError: empty or taken name, an agent link on another role, no agent for
                role agent, or the agent already has a user.
            NotFound: no such agent.
        """
        if not name.strip():
            raise ValidationError("name", "must not be empty", name)
        if role is Role.AGENT and not agent:
            raise ValidationError("agent", "a user with role agent needs the agent it acts as")
        if role is not Role.AGENT and agent:
            raise ValidationError("agent", f"only a user with role agent is linked to an agent, not {role}")
        async with self.pool.acquire() as conn, conn.transaction():
            agent_id = None
            if agent:
                agent_id = await conn.fetchval("SELECT id FROM agents WHERE name = $1", agent)
                if agent_id is None:
                    raise NotFound("agent", agent)
            try:
                await conn.execute(
                    "INSERT INTO users (name, role, password_hash, agent_id) VALUES ($1, $2, $3, $4)",
                    name,
                    role.value,
                    password_hash,
                    agent_id,
                )
            except asyncpg.UniqueViolationError as e:
                if "users_agent" in str(e.constraint_name):
                    raise ValidationError("agent", "this agent already has a user", agent) from None
                raise ValidationError("name", "a user with this name already exists", name) from None
            row = await conn.fetchrow(_USER_SELECT + " WHERE u.name = $1", name)
        return _user_from(row)

    async def list_users(self) -> list[User]:
        return [_user_from(r) for r in await self.pool.fetch(_USER_SELECT + " ORDER BY u.name")]

    async def get_user(self, name: str) -> User:
        row = await self.pool.fetchrow(_USER_SELECT + " WHERE u.name = $1", name)
        if row is None:
            raise NotFound("user", name)
        return _user_from(row)

    async def password_hash_of(self, name: str) -> str | None:
        """The stored hash of ``name``'s password (None: no such user) for the login check."""
        return await self.pool.fetchval("SELECT password_hash FROM users WHERE name = $1", name)

    async def set_password_hash(self, name: str, password_hash: str) -> None:
        """Replace a hash (Argon2 parameters raised since it was made: rehash at login)."""
        await self.pool.execute("UPDATE users SET password_hash = $2 WHERE name = $1", name, password_hash)

    async def remove_user(self, name: str) -> None:
        """Delete a user; their tokens go with them (ON DELETE CASCADE).

        Raises:
            NotFound: no such user.
            InUse: the last administrator (nobody could manage users any more).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            role = await conn.fetchval("SELECT role FROM users WHERE name = $1 FOR UPDATE", name)
            if role is None:
                raise NotFound("user", name)
            await _keep_an_admin(conn, name, role, None)
            await conn.execute("DELETE FROM users WHERE name = $1", name)

    async def update_user(
        self,
        name: str,
        *,
        role: Role | None = None,
        agent: str | None = None,
        password_hash: str | None = None,
    ) -> User:
        """Change a user's role, the agent an agent user acts as, or the password hash
        (None: unchanged; a role other than agent drops the agent link). The rules are
        :meth:`create_user`'s. A changed role or password revokes the user's tokens, so the
        next request logs in with the new rights.

        Raises:
            NotFound: no such user or agent.
            ValidationError: the role and the agent do not fit, or the agent has a user.
            InUse: it would leave no administrator.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                _USER_SELECT + " WHERE u.name = $1 FOR UPDATE OF u", name
            )
            if row is None:
                raise NotFound("user", name)
            old = _user_from(row)
            new_role = role or old.role
            new_agent = agent if agent is not None else (old.agent if new_role is Role.AGENT else None)
            if new_role is Role.AGENT and not new_agent:
                raise ValidationError("agent", "a user with role agent needs the agent it acts as")
            if new_role is not Role.AGENT and agent:
                reason = f"only a user with role agent is linked to an agent, not {new_role}"
                raise ValidationError("agent", reason)
            await _keep_an_admin(conn, name, old.role.value, new_role)
            agent_id = None
            if new_agent:
                agent_id = await conn.fetchval("SELECT id FROM agents WHERE name = $1", new_agent)
                if agent_id is None:
                    raise NotFound("agent", new_agent)
            try:
                await conn.execute(
                    "UPDATE users SET role = $2, agent_id = $3, password_hash = coalesce($4, password_hash)"
                    " WHERE id = $1",
                    old.id,
                    new_role.value,
                    agent_id,
                    password_hash,
                )
            except asyncpg.UniqueViolationError:
                raise ValidationError("agent", "this agent already has a user", new_agent) from None
            if new_role is not old.role or password_hash is not None:
                await conn.execute(
                    "UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
                    old.id,
                )
            return _user_from(await conn.fetchrow(_USER_SELECT + " WHERE u.id = $1", old.id))

    async def add_token(self, name: str, token_hash: bytes, expires_at: dt.datetime) -> None:
        """Record a new token of user ``name`` (its hash only)."""
        await self.pool.execute(
            "INSERT INTO api_tokens (token_hash, user_id, expires_at)"
            " SELECT $2, id, $3 FROM users WHERE name = $1",
            name,
            token_hash,
            expires_at,
        )

    async def token_user(self, token_hash: bytes, at: dt.datetime) -> User | None:
        """The user a token belongs to, or None when unknown, expired or revoked."""
        row = await self.pool.fetchrow(
            _USER_SELECT + " JOIN api_tokens t ON t.user_id = u.id"
            " WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
            token_hash,
            at,
        )
        return None if row is None else _user_from(row)

    async def revoke_token(self, token_hash: bytes, at: dt.datetime) -> bool:
        """Revoke a token (logout); False when it was not live."""
        done = await self.pool.execute(
            "UPDATE api_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
            token_hash,
            at,
        )
        return not done.endswith(" 0")

    async def agent_campaigns(self, agent: str) -> list[str]:
        """The names of the campaigns ``agent`` is assigned to."""
        return (await self.agents_campaigns([agent]))[agent]

    async def agents_campaigns(self, agents: Sequence[str]) -> dict[str, list[str]]:
        """The names of the campaigns each of ``agents`` is assigned to, in one round trip."""
        out: dict[str, list[str]] = {a: [] for a in agents}
        rows = await self.pool.fetch(
            """SELECT a.name AS agent, c.name FROM campaigns c
               JOIN campaign_agents ca ON ca.campaign_id = c.id JOIN agents a ON a.id = ca.agent_id
               WHERE a.name = ANY($1::text[]) ORDER BY c.name""",
            list(out),
        )
        for r in rows:
            out[r["agent"]].append(r["name"])
        return out

    async def live_tokens(self, token_hashes: Sequence[bytes], at: dt.datetime) -> dict[bytes, User]:
        """Which of ``token_hashes`` are live (not expired, not revoked, their user still there)
        and whose: the event streams' periodic check, one round trip for them all, which also
        keeps the API's token cache fresh for the tokens of open streams."""
        rows = await self.pool.fetch(
            """SELECT u.id, u.name, u.role, u.created_at, a.name AS agent_name, t.token_hash
               FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN agents a ON a.id = u.agent_id
               WHERE t.token_hash = ANY($1::bytea[]) AND t.revoked_at IS NULL AND t.expires_at > $2""",
            list(token_hashes),
            at,
        )
        return {bytes(r["token_hash"]): _user_from(r) for r in rows}

    async def list_agents(self) -> list[Agent]:
        """Every agent row (for user administration and the agent picker)."""
        rows = await self.pool.fetch("SELECT id, name, interface, active, server FROM agents ORDER BY name")
        return [Agent(r["id"], r["name"], r["interface"], r["active"], r["server"]) for r in rows]


async def _keep_an_admin(conn: asyncpg.Connection, name: str, role: str, new_role: Role | None) -> None:
    """Refuse removing (``new_role`` None) or demoting the last administrator."""
    if role != Role.ADMIN.value or new_role is Role.ADMIN:
        return
    others = await conn.fetchval("SELECT count(*) FROM users WHERE role = 'admin' AND name <> $1", name)
    if not others:
        raise InUse("role", "the last administrator; make another user admin first", name)
