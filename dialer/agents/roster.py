"""The agents of one board, found by id, interface or attempt, and the steps every agent goes through.

:class:`Roster` owns the board's state: the :class:`~dialer.agents.entry.AgentEntry` of every
agent it has seen and two indexes (interface -> agent, attempt -> agent). Its steps are the
ones that the agent interface, the runner's decisions (:class:`~dialer.agents.board.AgentBoard`)
and the PBX's updates (:mod:`dialer.agents.pbx_feed`) share: move an agent through the
transition table (:meth:`Roster.step`, the only place a state is assigned), hold a logout or a
pause while the agent is busy and apply it when the call is over (:meth:`Roster.after_call`),
and keep the queue member in line with the state (:meth:`Roster.sync`).

Every step appends its effects to the caller's list (``dialer.agents.state``); misuse raises
:class:`~dialer.errors.AgentError` (an illegal input through :func:`~dialer.agents.state.transition`).
"""

from __future__ import annotations

from dialer.agents.entry import AgentEntry
from dialer.agents.index import AgentIndex
from dialer.agents.membership import sync_member
from dialer.agents.state import (
    BUSY_STATES,
    IDLE_STATES,
    AgentEffect,
    AgentInput,
    AgentState,
    AgentTimers,
    LoggedOut,
    LogoutDeferred,
    StateChanged,
    transition,
)
from dialer.errors import AgentError, UnknownAgent

__all__ = ["Roster"]

# How many attempts ended on the board may wait for their Ended at once; far above the calls
# any campaign has in flight, so only an Ended lost for good is ever forgotten.
_AWAITING_END_MAX = 10_000


class Roster:
    """The agents of one campaign's board and the steps they share (see the module docstring).

    Args:
        queue: the campaign's Asterisk queue, named in the queue actions.
        timers: offer, disposition and reservation limits.
    """

    def __init__(self, queue: str, timers: AgentTimers) -> None:
        self.queue = queue
        self.timers = timers
        self.agents: dict[str, AgentEntry] = {}
        self.index = AgentIndex()  # the agents filed for the decision, kept current by each entry
        self.by_interface: dict[str, str] = {}  # interface -> agent id (the interface's last agent)
        self.by_attempt: dict[str, str] = {}  # attempt id -> agent id, while the agent holds that call
        # Attempts whose wrap-up ended (a disposition, its timeout, or a queue call the PBX put
        # through) before their own Ended was read: that Ended, when it comes, belongs to no
        # agent any more and is not an answered call nobody took. Insertion-ordered and bounded
        # (an Ended that never comes must not grow it for ever).
        self.awaiting_end: dict[str, None] = {}

    def get(self, agent_id: str) -> AgentEntry:
        """The agent's entry.

        Raises:
            UnknownAgent: the board has never seen ``agent_id``.
        """
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def enroll(self, agent_id: str, interface: str, member_name: str | None, at_s: float) -> AgentEntry:
        """The entry of an agent logging in on ``interface`` (created on first sight), the interface bound.

        Raises:
            AgentError: another logged-in agent uses ``interface``.
            IllegalAgentTransition: the agent is already logged in; nothing is bound then.
        """
        owner = self.by_interface.get(interface)
        if owner is not None and owner != agent_id and self.agents[owner].state is not AgentState.LOGGED_OUT:
            raise AgentError(f"agent {agent_id!r}: interface {interface!r} is used by agent {owner!r}")
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = AgentEntry(agent_id, interface, member_name, since_at=at_s)
            self.agents[agent_id] = agent
            agent.index = self.index
            self.index.refile(agent)
        transition(agent_id, agent.state, AgentInput.LOGIN)  # raises before anything changes
        if agent.interface != interface:
            self.by_interface.pop(agent.interface, None)
            agent.interface = interface
        agent.member_name = member_name or agent.member_name
        self.by_interface[interface] = agent_id
        return agent

    def step(self, agent: AgentEntry, event: AgentInput, at_s: float, effects: list[AgentEffect]) -> None:
        """The only place an agent's state is assigned (through the table)."""
        new = transition(agent.agent_id, agent.state, event)
        if new is agent.state:
            return
        effects.append(StateChanged(agent.agent_id, agent.state, new, event, at_s))
        if new is AgentState.READY:
            agent.free_since_at = at_s
        agent.state, agent.since_at = new, at_s

    def attach_attempt(self, agent_id: str, attempt_id: str) -> None:
        """Tie ``attempt_id`` to the call ``agent_id`` holds (see :meth:`AgentBoard.attach_attempt`).

        Raises:
            AgentError: the agent holds no call, already has an attempt, or the attempt id is
                another agent's.
        """
        agent = self.get(agent_id)
        call = agent.call
        if call is None or agent.state not in (AgentState.RESERVED, AgentState.TALKING):
            raise AgentError(f"agent {agent_id!r} holds no call ({agent.state.value})")
        if call.attempt_id is not None and call.attempt_id != attempt_id:
            raise AgentError(f"agent {agent_id!r} already has attempt {call.attempt_id!r}")
        other = self.by_attempt.get(attempt_id)
        if other is not None and other != agent_id:
            raise AgentError(f"attempt {attempt_id!r} belongs to agent {other!r}")
        call.attempt_id = attempt_id
        self.by_attempt[attempt_id] = agent_id

    def request_logout(
        self, agent: AgentEntry, at_s: float, reason: str, effects: list[AgentEffect], *, by_pbx: bool = False
    ) -> None:
        """Log out now if idle; else hold the logout (``LogoutDeferred``) until the call is over."""
        transition(agent.agent_id, agent.state, AgentInput.LOGOUT)  # raises for a logged-out agent
        if agent.logout_requested_at is None:
            agent.logout_requested_at = at_s
            agent.logout_reason = reason
        elif by_pbx:
            agent.logout_reason = reason
        if agent.state in BUSY_STATES:
            effects.append(LogoutDeferred(agent.agent_id, agent.state, self.logout_deadline(agent)))
            return
        self._complete_logout(agent, at_s, effects)

    def _complete_logout(self, agent: AgentEntry, at_s: float, effects: list[AgentEffect]) -> None:
        requested_at = agent.logout_requested_at
        reason = agent.logout_reason or "requested"
        self.step(agent, AgentInput.LOGOUT, at_s, effects)
        agent.logout_requested_at = agent.logout_reason = None
        agent.pending_pause = agent.pause_reason = None
        agent.record_requested_at = None
        self.sync(agent, at_s, effects)
        agent.member_gone = False
        effects.append(LoggedOut(agent.agent_id, at_s, reason, requested_at))

    def request_pause(
        self, agent: AgentEntry, at_s: float, reason: str | None, effects: list[AgentEffect]
    ) -> None:
        """Pause now if ready; else hold the pause (``pending_pause``) until the call is over."""
        self.step(agent, AgentInput.PAUSE, at_s, effects)
        if agent.state is AgentState.PAUSED:
            agent.pause_reason = reason if reason is not None else agent.pause_reason
            agent.record_requested_at = None
        else:
            agent.pending_pause = reason or "paused"

    def end_wrap_up(self, agent: AgentEntry) -> None:
        """The agent's wrap-up is over: remember which end-of-call news is still to come.

        Call before :meth:`after_call` forgets the call. Asterisk sends AgentComplete and the
        customer channel's hangup in either order, milliseconds apart; an agent quick with the
        disposition (or a zero wrap-up) can finish between them.
        """
        call = agent.call
        if call is None:
            return
        if call.attempt_id is not None and not call.ended:
            self.awaiting_end[call.attempt_id] = None
            if len(self.awaiting_end) > _AWAITING_END_MAX:
                del self.awaiting_end[next(iter(self.awaiting_end))]
        agent.complete_due = not call.completed

    def after_call(self, agent: AgentEntry, at_s: float, effects: list[AgentEffect]) -> None:
        """The agent is idle again: forget the call, then apply a held logout or pause."""
        call = agent.call
        if call is not None and call.attempt_id is not None:
            self.by_attempt.pop(call.attempt_id, None)
        agent.call = None
        agent.offer_deadline_at = agent.wrap_deadline_at = None
        if agent.state in IDLE_STATES and agent.logout_requested_at is not None:
            self._complete_logout(agent, at_s, effects)
            return
        if agent.pending_pause is not None:
            reason, agent.pending_pause = agent.pending_pause, None
            if agent.state is AgentState.READY:
                agent.pause_reason = reason
                self.step(agent, AgentInput.PAUSE, at_s, effects)
        self.sync(agent, at_s, effects)

    def logout_deadline(self, agent: AgentEntry) -> float | None:
        """When a held logout completes at the latest; None when talking (unbounded) or not busy."""
        call = agent.call
        if agent.state is AgentState.RESERVED and call is not None:
            return call.started_at + self.timers.reserve_hold_s
        if agent.state is AgentState.OFFERED and agent.offer_deadline_at is not None:
            # Worst case: accepted at the last moment, then the call rings out.
            return agent.offer_deadline_at + self.timers.reserve_hold_s
        if agent.state is AgentState.WRAP_UP:
            return agent.wrap_deadline_at
        return None

    def sync(self, agent: AgentEntry, at_s: float, effects: list[AgentEffect]) -> None:
        """Make the queue member match the agent's state (:func:`~dialer.agents.membership.sync_member`)."""
        sync_member(agent, self.queue, at_s, effects)
