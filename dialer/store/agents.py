"""Agents: who takes the calls, and which campaigns each works on.

An agent is a row with a name and the interface the PBX reaches it on; ``campaign_agents``
assigns agents to campaigns. Live state (logged in, paused, on a call) is not stored here:
the engine keeps it (:mod:`dialer.agents`).
"""

from __future__ import annotations

import asyncpg

from dialer.campaign.rules import check_interface
from dialer.errors import NotFound, ValidationError
from dialer.model import Agent
from dialer.store.campaigns import campaign_id_of
from dialer.store.connection import PoolNoun


def _agent_from(row: asyncpg.Record) -> Agent:
    return Agent(row["id"], row["name"], row["interface"], row["active"])


class Agents(PoolNoun):
    """Agents and their campaigns on the shared pool."""

    async def create_agent(self, name: str, interface: str = "") -> Agent:
        """Store an agent; its interface ("" = given at login) is checked by :func:`check_interface`.

        Raises:
            ValidationError: the name is empty or taken, the interface malformed or another
                agent's (compared ignoring case, as Asterisk does).
        """
        if not name.strip():
            raise ValidationError("name", "must not be empty", name)
        interface = check_interface(interface)
        taken = await self.pool.fetchval("SELECT name FROM agents WHERE lower(name) = lower($1)", name)
        if taken is not None:
            raise ValidationError("name", f"agent {taken!r} already exists (names ignore case)", name)
        try:
            row = await self.pool.fetchrow(
                "INSERT INTO agents (name, interface) VALUES ($1, $2) RETURNING *", name, interface
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
