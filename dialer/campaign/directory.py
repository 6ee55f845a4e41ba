"""Board agent names to store agent ids and back: :class:`AgentDirectory`.

The board knows agents by name (the store's agent name); the store's rows (attempts,
dispositions, personal callbacks) carry the agent's id. The directory learns each pair once,
when the agent logs in, so that the outcome path and the disposition writes never wait on
the store for it.
"""

from __future__ import annotations

from dialer.errors import NotFound
from dialer.ports import ContactStore

__all__ = ["AgentDirectory"]


class AgentDirectory:
    """Store agent ids of the agents logged in to one runner.

    Args:
        store: where :meth:`resolve` looks agents up.
    """

    def __init__(self, store: ContactStore) -> None:
        self._store = store
        self._ids: dict[str, int | None] = {}  # board agent id -> store agent id
        self._names: dict[int, str] = {}
        self._servers: dict[str, str] = {}  # board agent id -> the server its phone is on

    async def resolve(self, agent: str) -> None:
        """Look ``agent`` up once; an agent the store does not know keeps no id."""
        if agent in self._ids:
            return
        try:
            found = await self._store.get_agent(agent)
        except NotFound:
            self._ids[agent] = None
            return
        self._ids[agent] = found.id
        self._names[found.id] = agent
        self._servers[agent] = found.server

    def server_of(self, agent: str) -> str:
        """The server the agent's record names ("": any, or not resolved)."""
        return self._servers.get(agent, "")

    def store_id(self, agent: str) -> int | None:
        """The store id of ``agent``; None if not resolved or unknown to the store."""
        return self._ids.get(agent)

    def name_of(self, store_id: int) -> str | None:
        """The board name of the agent with ``store_id``; None if not logged in here."""
        return self._names.get(store_id)
