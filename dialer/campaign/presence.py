"""Where each agent is busy across the campaigns one engine runs: :class:`AgentPresence`.

Why: an agent logs in to every campaign it is assigned to (``POST /agents/{agent}/login``), and
each campaign's runner keeps its own board. Without a word between them, an agent in wrap-up
in campaign A is ready and free in campaign B: B's progressive path reserves them for a new
customer, B's queue rings them, and while B holds them for a call still ringing, A's queue may
put a waiting customer through to them, so that B's customer answers to nobody (an abandon).

Theory of operation: each runner's :class:`~dialer.campaign.agent_effects.AgentEffects`
reports every agent's change between free (ready, paused, logged out) and busy (reserved,
offered, talking, wrap-up) with :meth:`AgentPresence.report`. The registry keeps, per agent,
the campaigns where it is busy, and on every change tells each other joined campaign the set
busy outside it (its listener calls :meth:`~dialer.agents.board.AgentBoard.set_elsewhere`, which
takes the agent out of the free agents and pauses its member there). Everything runs on the
engine's event loop and the listeners are synchronous, so a runner's reservation is known to
every other board before any of them decides again.

The registry's "campaigns" are the runners' keys (``AgentEffects``: the campaign's name and the
runner), so that a campaign restarted while its old runner still drains counts as two.

Only the campaigns of one engine are covered: an agent's API session joins the runners of the
engine that served its login (:mod:`dialer.api.sessions`). Pure bookkeeping, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["AgentPresence", "ElsewhereListener"]

# Told (agent, the campaigns other than the listener's where the agent is busy now).
ElsewhereListener = Callable[[str, frozenset[str]], None]


class AgentPresence:
    """The campaigns where each agent is busy, and the runners to tell (see the module docstring)."""

    def __init__(self) -> None:
        self._busy: dict[str, frozenset[str]] = {}  # agent -> campaigns where it is busy now
        self._listeners: dict[str, ElsewhereListener] = {}  # campaign -> its runner's listener

    def join(self, campaign: str, listener: ElsewhereListener) -> None:
        """A runner starts (``campaign``: its key): it is told of agents busy elsewhere from now on."""
        self._listeners[campaign] = listener

    def leave(self, campaign: str) -> None:
        """The runner of ``campaign`` stops: its agents are busy there no more."""
        self._listeners.pop(campaign, None)
        for agent in [a for a, where in self._busy.items() if campaign in where]:
            self.report(agent, campaign, busy=False)

    def elsewhere(self, agent: str, campaign: str) -> frozenset[str]:
        """The campaigns other than ``campaign`` where ``agent`` is busy now."""
        return self._busy.get(agent, frozenset()) - {campaign}

    def report(self, agent: str, campaign: str, *, busy: bool) -> None:
        """``agent`` became busy (or free) in ``campaign``; tell the other campaigns if that changed."""
        where = self._busy.get(agent, frozenset())
        if (campaign in where) == busy:
            return
        where = where | {campaign} if busy else where - {campaign}
        if where:
            self._busy[agent] = where
        else:
            del self._busy[agent]
        for other, listener in list(self._listeners.items()):
            if other != campaign:
                listener(agent, where - {other})
