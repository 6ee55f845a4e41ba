"""Several Asterisk servers at once, each with its own channel limit.

The engine asks the pool, not a server, to originate: the pool picks the connected server
with the lowest load (calls in flight / channel limit) and refuses with
:class:`~ami.errors.AmiCapacityError` when every server is down or full. A server's calls in
flight are counted from the moment its client registers the attempt (synchronously, before
the Originate is written), so concurrent originates never overshoot a limit.

Several servers per campaign (issue 15 item 3): an originate may be limited to some servers
(a campaign's ``servers``, names or groups of ``[[ami.servers]]``, :meth:`AmiPool.resolve`).
Health counts besides free channels: a server whose last Originate was refused (Asterisk said
Error, it is shutting down) is tried after the healthy ones for ``cooldown_s``; a server that
drops is out of the rotation until its client has logged in again (and reconciled its calls
against ``CoreShowChannels``, :class:`ami.inflight.InFlightAudit`). The choice itself is the
pure :func:`choose`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from ami.client import AmiClient, ConnectionState, OriginateQueued
from ami.errors import AmiActionFailed, AmiCapacityError, AmiConnectionLost, AmiNotConnected, AmiUnknownServer

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What :func:`choose` knows of one server."""

    name: str
    connected: bool
    in_flight: int
    channel_limit: int
    cooling: bool = False  # its last Originate was refused a moment ago


def choose(candidates: Iterable[Candidate]) -> str | None:
    """The server to originate on: connected, with room; healthy before cooling, then the lowest
    in-flight/limit share (ties: the order given). None when none can take a call."""
    best: tuple[bool, float] | None = None
    chosen: str | None = None
    for c in candidates:
        if not c.connected or c.channel_limit <= 0 or c.in_flight >= c.channel_limit:
            continue
        key = (c.cooling, c.in_flight / c.channel_limit)
        if best is None or key < best:
            best, chosen = key, c.name
    return chosen


class AmiPool:
    """Least-loaded, healthy choice among several :class:`AmiClient`s."""

    def __init__(
        self,
        clients: Sequence[AmiClient],
        *,
        cooldown_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [c.name for c in clients]
        if len(set(names)) != len(names):
            raise ValueError(f"AMI server names must be unique, got {names}")
        self.clients = tuple(clients)
        self._by_name = {c.name: c for c in clients}
        self._groups: dict[str, tuple[str, ...]] = {}
        for c in clients:
            group = c.server.group
            if group and group not in self._by_name:
                self._groups[group] = (*self._groups.get(group, ()), c.name)
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._refused_at: dict[str, float] = {}

    def resolve(self, names: Iterable[str]) -> tuple[AmiClient, ...]:
        """The clients of server or group ``names``; every client when ``names`` is empty.

        Raises:
            AmiUnknownServer: a name is neither a configured server nor a group.
        """
        wanted = list(names)
        if not wanted:
            return self.clients
        out: dict[str, AmiClient] = {}
        for name in wanted:
            if name in self._by_name:
                out[name] = self._by_name[name]
            elif name in self._groups:
                out.update((n, self._by_name[n]) for n in self._groups[name])
            else:
                raise AmiUnknownServer(
                    f"no AMI server or group {name!r} (configured: {', '.join(sorted(self._by_name))})"
                )
        return tuple(out.values())

    def client(self, name: str) -> AmiClient:
        """The client of server ``name`` (not a group).

        Raises:
            AmiUnknownServer: no such server.
        """
        found = self._by_name.get(name)
        if found is None:
            raise AmiUnknownServer(f"no AMI server {name!r} (configured: {', '.join(sorted(self._by_name))})")
        return found

    def _cooling(self, name: str) -> bool:
        at = self._refused_at.get(name)
        return at is not None and self._clock() - at < self._cooldown_s

    def pick(self, among: Sequence[AmiClient] | None = None) -> AmiClient | None:
        """The client :func:`choose` takes among ``among`` (default: every server), else None."""
        pool = self.clients if among is None else among
        name = choose(
            Candidate(c.name, c.connected, c.in_flight, c.channel_limit, self._cooling(c.name)) for c in pool
        )
        return None if name is None else self._by_name[name]

    def states(self) -> dict[str, ConnectionState]:
        """Per-server connection state (for a metric)."""
        return {c.name: c.state for c in self.clients}

    @property
    def in_flight(self) -> int:
        return sum(c.in_flight for c in self.clients)

    @property
    def capacity(self) -> int:
        """Free channels on connected servers."""
        return self.free(self.clients)

    @staticmethod
    def free(clients: Iterable[AmiClient]) -> int:
        """Free channels on those of ``clients`` that are connected."""
        return sum(max(0, c.channel_limit - c.in_flight) for c in clients if c.connected)

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

    async def originate(
        self, attempt_id: str, number: str, *, servers: Sequence[str] = (), **kwargs: Any
    ) -> OriginateQueued:
        """Originate on the least-loaded healthy server of ``servers`` (names or groups; empty:
        any), other arguments as :meth:`AmiClient.originate`.

        Raises:
            AmiCapacityError: every such server is down or at its channel limit.
            AmiUnknownServer: ``servers`` names a server or group not configured.
        """
        among = self.resolve(servers)
        client = self.pick(among)
        if client is None:
            raise AmiCapacityError(
                f"no AMI server can take a call: {len(among)} eligible, "
                f"{sum(c.connected for c in among)} connected, all at their channel limit or down"
            )
        try:
            queued = await client.originate(attempt_id, number, **kwargs)
        except (AmiActionFailed, AmiNotConnected):
            self._refused_at[client.name] = self._clock()
            raise
        self._refused_at.pop(client.name, None)
        return queued

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
