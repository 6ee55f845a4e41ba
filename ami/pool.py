"""Several Asterisk servers at once, each with its own channel limit.

The engine asks the pool, not a server, to originate: the pool picks the connected server
with the lowest load (calls in flight / channel limit) and refuses with
:class:`~ami.errors.AmiCapacityError` when every server is down or full. A server's calls in
flight are counted from the moment its client registers the attempt (synchronously, before
the Originate is written), so concurrent originates never overshoot a limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from ami.client import AmiClient, ConnectionState, OriginateQueued
from ami.errors import AmiCapacityError, AmiConnectionLost

log = structlog.get_logger(__name__)


class AmiPool:
    """Least-loaded choice among several :class:`AmiClient`s."""

    def __init__(self, clients: Sequence[AmiClient]) -> None:
        names = [c.name for c in clients]
        if len(set(names)) != len(names):
            raise ValueError(f"AMI server names must be unique, got {names}")
        self.clients = tuple(clients)

    def pick(self) -> AmiClient | None:
        """The connected server with the lowest in-flight/limit ratio that has room, else None."""
        best: AmiClient | None = None
        best_load = 2.0
        for client in self.clients:
            limit = client.channel_limit
            if not client.connected or limit <= 0 or client.in_flight >= limit:
                continue
            load = client.in_flight / limit
            if load < best_load:
                best, best_load = client, load
        return best

    def states(self) -> dict[str, ConnectionState]:
        """Per-server connection state (for a metric)."""
        return {c.name: c.state for c in self.clients}

    @property
    def in_flight(self) -> int:
        return sum(c.in_flight for c in self.clients)

    @property
    def capacity(self) -> int:
        """Free channels on connected servers."""
        return sum(max(0, c.channel_limit - c.in_flight) for c in self.clients if c.connected)

    def add_update_listener(self, listener: Callable[[Any], None]) -> None:
        for c in self.clients:
            c.add_update_listener(listener)

    def add_agent_listener(self, listener: Callable[[Any], None]) -> None:
        for c in self.clients:
            c.add_agent_listener(listener)

    async def connect(self) -> None:
        """Connect every server; servers that cannot be reached now keep retrying.

        Raises:
            AmiAuthError: a server refused the configured user/secret (a configuration error).
            AmiConnectionLost: no server at all could be reached.
        """
        results = await asyncio.gather(*(c.start() for c in self.clients), return_exceptions=True)
        reached = 0
        for result in results:
            if isinstance(result, BaseException):
                raise result
            reached += bool(result)
        if reached == 0 and self.clients:
            raise AmiConnectionLost("no AMI server could be reached")

    async def originate(self, attempt_id: str, number: str, **kwargs: Any) -> OriginateQueued:
        """Originate on the least-loaded server (arguments as :meth:`AmiClient.originate`).

        Raises:
            AmiCapacityError: every server is down or at its channel limit.
        """
        client = self.pick()
        if client is None:
            raise AmiCapacityError(
                f"no AMI server can take a call: {len(self.clients)} configured, "
                f"{sum(c.connected for c in self.clients)} connected, all at their channel limit or down"
            )
        return await client.originate(attempt_id, number, **kwargs)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
