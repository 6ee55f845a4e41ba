"""The event streams open in this process, by agent: :class:`Streams` and :class:`Subscription`.

Kept apart from the hub that feeds them (:mod:`dialer.api.event_hub`) so that the context
every endpoint is handed can carry them without importing the boards' readers: an endpoint
that changed an agent calls :meth:`Streams.changed` and that agent's streams look at once,
rather than at the hub's next look.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dialer.api.watcher import AgentWatcher

__all__ = ["Streams", "Subscription"]


@dataclass(eq=False)
class Subscription:
    """One open stream: what wakes it and what the hub left for it.

    ``watcher`` is None for supervisors and administrators (they get the figures).
    """

    token_hash: bytes
    watcher: AgentWatcher | None
    supervisor: bool
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    tick: bool = False  # a second passed: countdowns and figures speak
    notices: list[str] = field(default_factory=list)  # messages the hub built (callbacks, figures)
    expired: bool = False  # the token is no longer live: the stream ends

    @property
    def agent(self) -> str | None:
        return None if self.watcher is None else self.watcher.agent

    def say(self, messages: list[str]) -> None:
        if messages:
            self.notices += messages
            self.wake.set()


class Streams:
    """The open streams (see the module docstring)."""

    def __init__(self, readers: int = 4) -> None:
        self.by_agent: dict[str, set[Subscription]] = {}
        self.all: set[Subscription] = set()
        # How many streams read the database at once (screen pops, assignments): the pool is
        # the engine's, and 200 streams each popping a screen on every call took the
        # connections the dialling waited for (benchmarks/api.py: attempts/s halved with the
        # streams open). A stream's state events never wait for it.
        self.reads = asyncio.Semaphore(readers)

    def add(self, sub: Subscription) -> None:
        self.all.add(sub)
        if sub.agent is not None:
            self.by_agent.setdefault(sub.agent, set()).add(sub)
        sub.wake.set()  # the first look sends the current state

    def discard(self, sub: Subscription) -> None:
        self.all.discard(sub)
        if sub.agent is not None:
            subs = self.by_agent.get(sub.agent)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.by_agent[sub.agent]

    def changed(self, agent: str) -> None:
        """The agent's state may have changed: its streams look now."""
        for sub in self.by_agent.get(agent, ()):
            sub.wake.set()

    def wake_all(self) -> None:
        for sub in self.all:
            sub.wake.set()
