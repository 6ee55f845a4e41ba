"""Agents: who takes the calls, and which campaigns each works on.

An agent is a row with a name and the interface the PBX reaches it on; ``campaign_agents``
assigns agents to campaigns. Live state (logged in, paused, on a call) is not stored here:
the engine keeps it (:mod:`dialer.agents`).
"""

from __future__ import annotations

import asyncpg

from dialer.campaign.rules import check_interface, check_servers
from dialer.errors import InUse, NotFound, ValidationError
from dialer.model import Agent
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun


def _agent_from(row: asyncpg.Record) -> Agent:
    return Agent(row["id"], row["name"], row["interface"], row["active"], row["server"])


class Agents(PoolNoun):
    """Agents and their campaigns on the shared pool."""

    async def create_agent(self, name: str, interface: str = "", *, server: str = "") -> Agent:
        """Store an agent; its interface ("" = given at login) is checked by :func:`check_interface`,
        its server ("" = any: the phone reaches every server) against the configured ones.

        Raises:
            ValidationError: the name is empty or taken, the interface malformed or another
                agent's (compared ignoring case, as Asterisk does), the server unknown.
        """
        if not name.strip():
            raise ValidationError("name", "must not be empty", name)
        interface = check_interface(interface)
        server = self._agent_server(server)
        taken = await self.pool.fetchval("SELECT name FROM agents WHERE lower(name) = lower($1)", name)
        if taken is not None:
            raise ValidationError("name", f"agent {taken!r} already exists (names ignore case)", name)
        try:
            row = await self.pool.fetchrow(
                "INSERT INTO agents (name, interface, server) VALUES ($1, $2, $3) RETURNING *",
                name,
                interface,
                server,
            )
        except asyncpg.UniqueViolationError as err:
            if getattr(err, "constraint_name", "") == "agents_interface_unique":
                raise ValidationError(
                    "interface",
                    "another agent already uses this interface (compared ignoring case)",
                    interface,
                ) from None
            raise ValidationError("name", "an agent with this name already exists", name) from None
        return _agent_from(row)

    async def get_agent(self, name: str) -> Agent:
        row = await self.pool.fetchrow("SELECT * FROM agents WHERE name = $1", name)
        if row is None:
            raise NotFound("agent", name)
        return _agent_from(row)

    async def assign_agent(self, campaign: str, agent: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            cid = await campaign_id_of(conn, campaign)
            aid = await conn.fetchval("SELECT id FROM agents WHERE name = $1", agent)
            if aid is None:
                raise NotFound("agent", agent)
            await conn.execute("INSERT INTO campaign_agents VALUES ($1, $2) ON CONFLICT DO NOTHING", cid, aid)

    async def campaign_agents(self, campaign: str) -> list[Agent]:
        rows = await self.pool.fetch(
            """SELECT a.* FROM agents a JOIN campaign_agents ca ON ca.agent_id = a.id
               JOIN campaigns c ON c.id = ca.campaign_id WHERE c.name = $1 ORDER BY a.name""",
            campaign,
        )
        return [_agent_from(r) for r in rows]

    def _agent_server(self, server: str) -> str:
        """An agent's server: "" (any), or one configured server (not a group: a phone is
        registered on one server)."""
        if not server.strip():
            return ""
        [name] = check_servers([server], "server")
        if self.known_servers is not None and self.known_servers.get(name) != (name,):
            configured = ", ".join(sorted(k for k, v in self.known_servers.items() if v == (k,))) or "none"
            raise ValidationError("server", f"no such AMI server (configured: {configured})", server)
        return name

    async def update_agent(
        self,
        name: str,
        *,
        interface: str | None = None,
        active: bool | None = None,
        server: str | None = None,
    ) -> Agent:
        """Change an agent's interface (checked as at creation), its active flag or its server
        (None: unchanged).

        An inactive agent cannot log in (the API refuses, autologin skips it); its history stays.

        Raises:
            NotFound: no such agent.
            ValidationError: the interface is malformed or another agent's.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT * FROM agents WHERE name = $1 FOR UPDATE", name)
            if row is None:
                raise NotFound("agent", name)
            new_interface = row["interface"] if interface is None else check_interface(interface)
            new_active = row["active"] if active is None else active
            new_server = row["server"] if server is None else self._agent_server(server)
            try:
                row = await conn.fetchrow(
                    "UPDATE agents SET interface = $2, active = $3, server = $4 WHERE id = $1 RETURNING *",
                    row["id"],
                    new_interface,
                    new_active,
                    new_server,
                )
            except asyncpg.UniqueViolationError:
                raise ValidationError(
                    "interface", "another agent already uses this interface (compared ignoring case)",
                    new_interface,
                ) from None
            return _agent_from(row)

    async def remove_agent(self, name: str) -> None:
        """Delete an agent that never took a call and has no user; its campaign assignments go.

        An agent with attempts or callbacks is refused: reports attribute talk time to it, so
        mark it inactive instead; a linked user must be removed first (it would act as nobody).

        Raises:
            NotFound: no such agent.
            InUse: it has attempts, callbacks or a user.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            aid = await conn.fetchval("SELECT id FROM agents WHERE name = $1 FOR UPDATE", name)
            if aid is None:
                raise NotFound("agent", name)
            user = await conn.fetchval("SELECT name FROM users WHERE agent_id = $1", aid)
            if user is not None:
                raise InUse("agent", f"user {user!r} acts as this agent; remove that user first", name)
            used = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM attempts WHERE agent_id = $1)"
                " OR EXISTS (SELECT 1 FROM callbacks WHERE agent_id = $1)"
                " OR EXISTS (SELECT 1 FROM contacts WHERE agent_id = $1)",
                aid,
            )
            if used:
                raise InUse(
                    "agent", "it has calls, callbacks or records of its own; set it inactive instead", name
                )
            await conn.execute("DELETE FROM agents WHERE id = $1", aid)

    async def set_agent_campaigns(self, name: str, campaigns: list[str]) -> list[str]:
        """Make ``campaigns`` exactly the campaigns ``name`` works on; return them sorted.

        Raises:
            NotFound: no such agent or campaign (nothing changed).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            aid = await conn.fetchval("SELECT id FROM agents WHERE name = $1 FOR UPDATE", name)
            if aid is None:
                raise NotFound("agent", name)
            ids = [await campaign_id_of(conn, c) for c in dict.fromkeys(campaigns)]
            await conn.execute(
                "DELETE FROM campaign_agents WHERE agent_id = $1 AND NOT campaign_id = ANY($2::bigint[])",
                aid,
                ids,
            )
            await conn.executemany(
                "INSERT INTO campaign_agents VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(cid, aid) for cid in ids],
            )
        return sorted(dict.fromkeys(campaigns))
