"""The agent board: every agent of one campaign, their states, and the queue membership behind them.

Theory of operation: the runner owns one :class:`AgentBoard` per campaign and talks to it in
two directions. The *agent interface* (login, logout, pause, request a record, accept, skip,
set a disposition) and the runner's own decisions (reserve an agent, offer a record, attach
the attempt id of a call it placed) are method calls; the PBX's view arrives through
:meth:`AgentBoard.feed` (``ami.agent_events`` updates and ``ami.outcome`` attempt updates).
Every call returns effects (``dialer.agents.state``) for the runner to perform: queue actions,
calls to place, contacts to release, dispositions to write. Timeouts (offer, disposition) fire
from :meth:`AgentBoard.tick`, driven by the runner's clock; :meth:`AgentBoard.next_deadline_at`
says when to call it.

Queue membership. The board keeps what it believes the PBX has for each agent (member or not,
paused or not) and, after every change, emits the ``QueueAdd``/``QueuePause``/``QueueRemove``
that makes the PBX match the state: a member is unpaused only while *ready*; reserved, offered
and wrap-up agents are paused with a ``dialer:`` reason so that the queue does not hand them a
predictive call on top of the one the dialer holds them for (queues.conf ``wrapuptime`` cannot
do this: wrap-up lasts until the disposition, not a fixed time). Asterisk echoes each action
as a QueueMemberAdded/Pause/Removed event within a millisecond
(shared/ami-transcripts/queue-member-admin.txt); the board expects those echoes and ignores
them, so that only changes made on the PBX side (a pause from the phone, a member removed by
an administrator) move an agent. Peer updates never raise: what does not fit becomes a
:class:`~dialer.agents.state.PeerAnomaly` effect. Misuse of the agent interface raises
:class:`~dialer.agents.state.AgentError`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from ami.agent_events import (
    AgentCallEvent,
    AgentCallKind,
    AgentStateChange,
    AgentUpdate,
    DeviceState,
    MemberChange,
)
from ami.outcome import AgentConnected, AttemptUpdate, Ended, Outcome
from dialer.agents.state import (
    BUSY_STATES,
    IDLE_STATES,
    AgentEffect,
    AgentInput,
    AgentState,
    AgentTimers,
    ApplyDefaultDisposition,
    CallReachedAgent,
    LoggedIn,
    LoggedOut,
    LogoutDeferred,
    PeerAnomaly,
    PlaceCall,
    QueueAdd,
    QueuePause,
    QueueRemove,
    RecordDisposition,
    RecordRequested,
    ReleaseContact,
    ReservationKind,
    StateChanged,
    transition,
)
from dialer.errors import AgentError, IllegalAgentTransition, UnknownAgent

_E = TypeVar("_E")
BoardUpdate = AgentUpdate | AttemptUpdate  # what feed() accepts: ami.agent_events and ami.outcome

__all__ = [
    "PAUSE_REASON_PREFIX",
    "AgentBoard",
    "AgentView",
    "BoardUpdate",
    "LogoutCountdown",
    "effects_of_type",
]

# Pause reasons the dialer itself sets on queue members (visible in `queue show`).
PAUSE_REASON_PREFIX = "dialer:"
_HOLD_REASONS = {
    AgentState.RESERVED: PAUSE_REASON_PREFIX + "reserved",
    AgentState.OFFERED: PAUSE_REASON_PREFIX + "offered",
    AgentState.WRAP_UP: PAUSE_REASON_PREFIX + "wrap-up",
}
REASON_OFFER_TIMEOUT = "offer timeout"
REASON_PBX = "pbx"
# How long an expected echo of our own queue action stays expected. Asterisk 22 sends it
# within 1 ms of the action's response (queue-member-admin.txt); 5 s is our generous bound, so
# a lost action (Response: Error, no event) cannot make a later genuine PBX change look like one.
ECHO_WINDOW_S = 5.0

# Device states in which a ready member's phone cannot take a call we would reserve it for
# (Asterisk's enum ast_device_state): on another call, ringing, on hold, or not registered.
# UNKNOWN is not among them: some channel drivers never report a state.
_DEVICE_CANNOT_TAKE = frozenset(
    {
        DeviceState.INUSE,
        DeviceState.BUSY,
        DeviceState.RINGING,
        DeviceState.RINGINUSE,
        DeviceState.ONHOLD,
        DeviceState.UNAVAILABLE,
        DeviceState.INVALID,
    }
)

_DEVICE_UNREACHABLE = frozenset({DeviceState.UNAVAILABLE, DeviceState.INVALID})

_RESERVABLE = frozenset(ReservationKind) - {
    ReservationKind.QUEUE,
    ReservationKind.PREVIEW,
    ReservationKind.PUSH_PREVIEW,
}


@dataclass(frozen=True, slots=True)
class LogoutCountdown:
    """A held (negotiated) logout, for an agent UI's countdown.

    ``deadline_at``/``remaining_s`` bound when the logout completes at the latest; both are
    None while the agent is talking (the call lasts as long as it lasts; wrap-up then adds at
    most the disposition timeout).
    """

    agent_id: str
    requested_at: float
    waiting_for: AgentState
    deadline_at: float | None
    remaining_s: float | None


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    interface: str
    state: AgentState
    since_at: float
    in_state_s: float
    kind: ReservationKind | None  # the call the agent is busy with
    contact: Hashable | None
    attempt_id: str | None
    pending_logout: LogoutCountdown | None
    pending_pause: bool
    pause_reason: str | None
    device: DeviceState  # the member's device state as the PBX last reported it


@dataclass(slots=True)
class _Call:
    kind: ReservationKind
    contact: Hashable | None
    attempt_id: str | None
    started_at: float


@dataclass(slots=True)
class _Echo:
    change: MemberChange
    paused: bool | None  # for PAUSE echoes
    at_s: float


@dataclass(slots=True)
class _Agent:
    agent_id: str
    interface: str
    member_name: str | None
    state: AgentState = AgentState.LOGGED_OUT
    since_at: float = 0.0
    free_since_at: float = 0.0  # when the agent last became ready
    call: _Call | None = None
    offer_deadline_at: float | None = None
    wrap_deadline_at: float | None = None
    logout_requested_at: float | None = None
    logout_reason: str | None = None
    member_gone: bool = False  # the PBX removed the member: no QueueRemove at logout
    pending_pause: str | None = None  # the reason of a held pause
    pause_reason: str | None = None
    record_requested_at: float | None = None
    # What we believe the PBX has for this member.
    member: bool = False
    member_paused: bool = False
    member_reason: str | None = None
    device: DeviceState = DeviceState.UNKNOWN  # the member's device, from the last member event
    echoes: deque[_Echo] = field(default_factory=deque)


class AgentBoard:
    """All agents of one campaign (see the module docstring).

    Args:
        campaign_id: for the runner's logs; the board does not use it.
        queue: the campaign's Asterisk queue; member events of other queues are ignored.
        timers: offer, disposition, ring and connect limits.
    """

    def __init__(self, campaign_id: str, queue: str, timers: AgentTimers | None = None) -> None:
        self.campaign_id = campaign_id
        self.queue = queue
        self.timers = timers or AgentTimers()
        self._agents: dict[str, _Agent] = {}
        self._by_interface: dict[str, str] = {}
        self._by_attempt: dict[str, str] = {}

    # ================================================================ agent interface

    def login(
        self,
        agent_id: str,
        interface: str,
        at_s: float,
        *,
        member_name: str | None = None,
        paused: bool = False,
        pause_reason: str | None = None,
    ) -> list[AgentEffect]:
        """Log an agent in: effects ``QueueAdd`` and ``LoggedIn``.

        Raises:
            IllegalAgentTransition: the agent is already logged in.
            AgentError: another logged-in agent uses ``interface``.
        """
        if not interface:
            raise AgentError(f"agent {agent_id!r}: interface is empty")
        owner = self._by_interface.get(interface)
        if owner is not None and owner != agent_id and self._agents[owner].state is not AgentState.LOGGED_OUT:
            raise AgentError(f"agent {agent_id!r}: interface {interface!r} is used by agent {owner!r}")
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = _Agent(agent_id, interface, member_name, since_at=at_s)
            self._agents[agent_id] = agent
        transition(agent_id, agent.state, AgentInput.LOGIN)  # raises before anything changes
        if agent.interface != interface:
            self._by_interface.pop(agent.interface, None)
            agent.interface = interface
        agent.member_name = member_name or agent.member_name
        self._by_interface[interface] = agent_id
        effects: list[AgentEffect] = []
        self._step(agent, AgentInput.LOGIN, at_s, effects)
        if paused:
            agent.pause_reason = pause_reason
            self._step(agent, AgentInput.PAUSE, at_s, effects)
        self._sync(agent, at_s, effects)
        effects.append(LoggedIn(agent_id, at_s))
        return effects

    def logout(self, agent_id: str, at_s: float, *, reason: str = "requested") -> list[AgentEffect]:
        """Log out now if idle; else hold the logout until the agent's call is over.

        A held logout is reported by :meth:`logout_countdown` and completes (``QueueRemove``,
        ``LoggedOut``) when the reserved call fails, the offer is skipped or times out, or the
        wrap-up ends with a disposition (set or defaulted).

        Raises:
            UnknownAgent, IllegalAgentTransition: the agent is not logged in.
        """
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        self._request_logout(agent, at_s, reason, effects)
        return effects

    def cancel_logout(self, agent_id: str) -> bool:
        """Withdraw a held logout (the agent changed their mind); False if none was held.

        A logout the PBX forced (member removed) cannot be withdrawn: the member is gone.
        """
        agent = self._get(agent_id)
        if agent.logout_requested_at is None or agent.member_gone:
            return False
        agent.logout_requested_at = agent.logout_reason = None
        return True

    def pause(self, agent_id: str, at_s: float, *, reason: str | None = None) -> list[AgentEffect]:
        """Pause a ready agent now; a busy one when its call (and wrap-up) is over."""
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        self._request_pause(agent, at_s, reason, effects)
        self._sync(agent, at_s, effects)
        return effects

    def unpause(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """Make a paused agent ready; for a busy agent, cancel a held pause."""
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        self._step(agent, AgentInput.UNPAUSE, at_s, effects)
        agent.pending_pause = None
        if agent.state is AgentState.READY:
            agent.pause_reason = None
        self._sync(agent, at_s, effects)
        return effects

    def request_record(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """Preview: a ready agent asks for a record; effect ``RecordRequested``."""
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        self._step(agent, AgentInput.REQUEST_RECORD, at_s, effects)
        if agent.record_requested_at is None:
            agent.record_requested_at = at_s
        effects.append(RecordRequested(agent_id, at_s))
        return effects

    def accept(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """The agent accepts the offered record: reserved for it, effect ``PlaceCall``."""
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        self._step(agent, AgentInput.ACCEPT, at_s, effects)
        assert agent.call is not None  # OFFERED always carries its call
        agent.call.started_at = at_s
        agent.offer_deadline_at = None
        effects.append(PlaceCall(agent_id, agent.call.contact, agent.call.kind))
        self._sync(agent, at_s, effects)
        return effects

    def skip(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """The agent skips the offered record: released unused (``ReleaseContact``)."""
        return self._end_offer(self._get(agent_id), AgentInput.SKIP, at_s, "skipped")

    def set_disposition(self, agent_id: str, at_s: float, disposition: object) -> list[AgentEffect]:
        """The agent's disposition for the call in wrap-up: ``RecordDisposition``, then ready.

        ``disposition`` is opaque here (the store's status, callback time, new number).
        """
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        call = agent.call
        self._step(agent, AgentInput.DISPOSITION, at_s, effects)
        effects.append(
            RecordDisposition(
                agent_id, call.attempt_id if call else None, call.contact if call else None, disposition
            )
        )
        self._after_call(agent, at_s, effects)
        return effects

    # ================================================================ runner decisions

    def reserve(
        self,
        agent_id: str,
        contact: Hashable,
        at_s: float,
        kind: ReservationKind = ReservationKind.PROGRESSIVE,
    ) -> list[AgentEffect]:
        """Hold a ready agent for one call to ``contact``: effect ``PlaceCall``.

        Raises:
            AgentError: ``kind`` is a preview kind (use :meth:`offer`) or ``QUEUE``.
            IllegalAgentTransition: the agent is not ready (never reserved for two calls).
        """
        if kind not in _RESERVABLE:
            raise AgentError(f"agent {agent_id!r}: {kind.value} is not a reservation kind")
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        self._step(agent, AgentInput.RESERVE, at_s, effects)
        agent.call = _Call(kind, contact, None, at_s)
        agent.record_requested_at = None
        effects.append(PlaceCall(agent_id, contact, kind))
        self._sync(agent, at_s, effects)
        return effects

    def offer(self, agent_id: str, contact: Hashable, at_s: float) -> list[AgentEffect]:
        """Show ``contact`` to a ready agent: preview if the agent asked, else push-preview.

        Nothing is dialled until :meth:`accept`; :meth:`tick` times the offer out.
        """
        agent = self._get(agent_id)
        effects: list[AgentEffect] = []
        self._step(agent, AgentInput.OFFER, at_s, effects)
        kind = ReservationKind.PUSH_PREVIEW if agent.record_requested_at is None else ReservationKind.PREVIEW
        agent.call = _Call(kind, contact, None, at_s)
        agent.record_requested_at = None
        agent.offer_deadline_at = at_s + self.timers.offer_timeout_s
        self._sync(agent, at_s, effects)
        return effects

    def attach_attempt(self, agent_id: str, attempt_id: str) -> None:
        """Tie the attempt the runner wrote for a reserved agent's call to that agent.

        Raises:
            AgentError: the agent holds no call, already has an attempt, or the attempt id is
                another agent's.
        """
        agent = self._get(agent_id)
        call = agent.call
        if call is None or agent.state not in (AgentState.RESERVED, AgentState.TALKING):
            raise AgentError(f"agent {agent_id!r} holds no call ({agent.state.value})")
        if call.attempt_id is not None and call.attempt_id != attempt_id:
            raise AgentError(f"agent {agent_id!r} already has attempt {call.attempt_id!r}")
        other = self._by_attempt.get(attempt_id)
        if other is not None and other != agent_id:
            raise AgentError(f"attempt {attempt_id!r} belongs to agent {other!r}")
        call.attempt_id = attempt_id
        self._by_attempt[attempt_id] = agent_id

    def release_reservation(self, agent_id: str, at_s: float, *, reason: str) -> list[AgentEffect]:
        """A reserved call that will not happen (Originate refused, blocked at dial time).

        The contact is released (``ReleaseContact``) only if no attempt was attached: an
        attempt's outcome already decides the contact's fate.
        """
        agent = self._get(agent_id)
        call = agent.call
        effects: list[AgentEffect] = []
        self._step(agent, AgentInput.CALL_FAILED, at_s, effects)
        if call is not None and call.attempt_id is None and call.contact is not None:
            effects.append(ReleaseContact(call.contact, reason, agent_id))
        self._after_call(agent, at_s, effects)
        return effects

    def tick(self, now_s: float) -> list[AgentEffect]:
        """Fire due offer and disposition timeouts, earliest first."""
        due: list[tuple[float, str]] = []
        for agent in self._agents.values():
            if agent.state is AgentState.OFFERED and agent.offer_deadline_at is not None:
                if agent.offer_deadline_at <= now_s:
                    due.append((agent.offer_deadline_at, agent.agent_id))
            elif agent.state is AgentState.WRAP_UP and agent.wrap_deadline_at is not None:
                if agent.wrap_deadline_at <= now_s:
                    due.append((agent.wrap_deadline_at, agent.agent_id))
        effects: list[AgentEffect] = []
        for at_s, agent_id in sorted(due):
            agent = self._agents[agent_id]
            if agent.state is AgentState.OFFERED:
                effects += self._end_offer(agent, AgentInput.OFFER_TIMEOUT, at_s, REASON_OFFER_TIMEOUT)
            else:
                call = agent.call
                self._step(agent, AgentInput.DISPOSITION_TIMEOUT, at_s, effects)
                effects.append(
                    ApplyDefaultDisposition(
                        agent_id, call.attempt_id if call else None, call.contact if call else None
                    )
                )
                self._after_call(agent, at_s, effects)
        return effects

    def next_deadline_at(self) -> float | None:
        """When :meth:`tick` next has something to do, or None."""
        times = [
            t
            for a in self._agents.values()
            for t in (
                a.offer_deadline_at if a.state is AgentState.OFFERED else None,
                a.wrap_deadline_at if a.state is AgentState.WRAP_UP else None,
            )
            if t is not None
        ]
        return min(times) if times else None

    # ================================================================ the PBX's view

    def feed(self, update: BoardUpdate, at_s: float) -> list[AgentEffect]:
        """Apply one update from ``ami.agent_events`` or ``ami.outcome``; never raises on its content."""
        if isinstance(update, AgentStateChange):
            return self._on_member(update, at_s)
        if isinstance(update, AgentCallEvent):
            return self._on_agent_call(update, at_s)
        if isinstance(update, AgentConnected):
            return self._on_connected(update, at_s)
        if isinstance(update, Ended):
            return self._on_ended(update, at_s)
        return []  # Answered, AmdDetected: nothing for agents

    def _on_member(self, upd: AgentStateChange, at_s: float) -> list[AgentEffect]:
        if upd.queue != self.queue:
            return []
        agent_id = self._by_interface.get(upd.interface)
        if agent_id is None:
            return [PeerAnomaly(None, upd.interface, f"{upd.change.value} for an unknown member", at_s)]
        agent = self._agents[agent_id]
        if upd.change is not MemberChange.REMOVED:
            agent.device = upd.state  # current in every member event, echoes included
        if self._is_echo(agent, upd, at_s):
            return []
        effects: list[AgentEffect] = []
        if upd.change is MemberChange.REMOVED:
            agent.member, agent.member_paused, agent.member_reason = False, False, None
            if agent.state is AgentState.LOGGED_OUT:
                return []
            agent.member_gone = True
            self._request_logout(agent, at_s, "removed on the PBX", effects, by_pbx=True)
            return effects
        if upd.change in (MemberChange.STATUS, MemberChange.SNAPSHOT) and agent.echoes:
            return []  # device-state news while our own action is in flight: its flags may be stale
        was_member = agent.member
        agent.member = True
        reason = upd.paused_reason or REASON_PBX
        if agent.state is AgentState.LOGGED_OUT:
            # A member we did not add: a static member, or one added by hand or before a restart.
            agent.member_gone = False
            self._step(agent, AgentInput.LOGIN, at_s, effects)
            if upd.paused:
                agent.pause_reason = reason
                self._step(agent, AgentInput.PAUSE, at_s, effects)
            agent.member_paused, agent.member_reason = upd.paused, reason if upd.paused else None
            effects.append(LoggedIn(agent_id, at_s))
            return effects
        if upd.paused == agent.member_paused and was_member:
            if upd.paused and agent.state is AgentState.PAUSED and upd.change is MemberChange.PAUSE:
                agent.pause_reason = agent.member_reason = reason  # re-paused on the phone, new reason
            return []
        agent.member_paused = upd.paused
        if upd.paused:
            self._request_pause(agent, at_s, reason, effects)
            agent.member_reason = agent.pause_reason if agent.state is AgentState.PAUSED else reason
        else:
            agent.member_reason = None
            if agent.state is AgentState.PAUSED:
                self._step(agent, AgentInput.UNPAUSE, at_s, effects)
                agent.pause_reason = None
            agent.pending_pause = None
            # In a held state the dialer's pause is re-asserted by _sync.
        self._sync(agent, at_s, effects)
        return effects

    def _on_agent_call(self, upd: AgentCallEvent, at_s: float) -> list[AgentEffect]:
        if upd.queue != self.queue:
            return []
        agent_id = self._by_interface.get(upd.interface)
        if agent_id is None:
            return [PeerAnomaly(None, upd.interface, f"agent {upd.kind.value} for an unknown member", at_s)]
        agent = self._agents[agent_id]
        if upd.kind is AgentCallKind.CONNECT:
            return self._connect(agent, None, at_s)
        if upd.kind is AgentCallKind.COMPLETE:
            return self._call_over(agent, connected=True, at_s=at_s)
        return []  # called / ring-no-answer / dump: the queue tries members; no state of ours

    def _on_connected(self, upd: AgentConnected, at_s: float) -> list[AgentEffect]:
        agent_id = self._by_attempt.get(upd.attempt_id)
        if agent_id is None and upd.agent is not None:
            agent_id = self._by_interface.get(upd.agent) or (upd.agent if upd.agent in self._agents else None)
        if agent_id is None:
            return [
                PeerAnomaly(None, upd.agent, f"attempt {upd.attempt_id} connected to no known agent", at_s)
            ]
        return self._connect(self._agents[agent_id], upd.attempt_id, at_s)

    def _on_ended(self, upd: Ended, at_s: float) -> list[AgentEffect]:
        outcome = upd.outcome
        agent_id = self._by_attempt.get(outcome.attempt_id)
        if agent_id is None:
            # A predictive call whose connect we never tied to the attempt: the queue's agent.
            if outcome.outcome is not Outcome.CONNECTED or outcome.agent is None:
                return []
            candidate = self._by_interface.get(outcome.agent)
            if candidate is None:
                return []
            call = self._agents[candidate].call
            if call is None or call.attempt_id is not None:
                return []
            agent_id = candidate
        agent = self._agents[agent_id]
        if agent.call is None or agent.call.attempt_id not in (None, outcome.attempt_id):
            return []
        effects: list[AgentEffect] = []
        if agent.call.attempt_id is None:
            self._try_attach(agent, outcome.attempt_id, at_s, effects)
        connected = outcome.outcome is Outcome.CONNECTED or agent.state in (
            AgentState.TALKING,
            AgentState.WRAP_UP,
        )
        return effects + self._call_over(agent, connected=connected, at_s=at_s)

    def _connect(self, agent: _Agent, attempt_id: str | None, at_s: float) -> list[AgentEffect]:
        effects: list[AgentEffect] = []
        call = agent.call
        if (
            attempt_id is not None
            and call is not None
            and call.attempt_id is not None
            and call.attempt_id != attempt_id
            and agent.state in (AgentState.RESERVED, AgentState.TALKING)
        ):
            # The outcome machine says this agent took another call than the one we hold it
            # for: a queue call beat our QueuePause to Asterisk. Reality wins: the agent is on
            # that call; the held attempt is no longer theirs (its Dial will find them busy).
            effects.append(
                PeerAnomaly(
                    agent.agent_id,
                    agent.interface,
                    f"took attempt {attempt_id} while held for attempt {call.attempt_id}",
                    at_s,
                )
            )
            self._by_attempt.pop(call.attempt_id, None)
            agent.call = call = _Call(ReservationKind.QUEUE, None, None, at_s)
        if agent.state is AgentState.TALKING:
            if attempt_id is not None and call is not None and call.attempt_id is None:
                self._try_attach(agent, attempt_id, at_s, effects)
            return effects
        before = agent.state
        try:
            self._step(agent, AgentInput.CONNECT, at_s, effects)
        except IllegalAgentTransition:
            return [PeerAnomaly(agent.agent_id, agent.interface, f"connect while {agent.state.value}", at_s)]
        if agent.call is None:  # a queue call: the queue chose a ready (or just-paused) agent
            agent.call = _Call(ReservationKind.QUEUE, None, None, at_s)
            if before is AgentState.PAUSED:
                agent.pending_pause = agent.pause_reason or "paused"  # the pause it raced with, held
            agent.record_requested_at = None
        if attempt_id is not None and agent.call.attempt_id is None:
            self._try_attach(agent, attempt_id, at_s, effects)
        effects.append(
            CallReachedAgent(
                agent.agent_id, agent.call.attempt_id, max(0.0, at_s - agent.free_since_at), at_s
            )
        )
        self._sync(agent, at_s, effects)
        return effects

    def _try_attach(self, agent: _Agent, attempt_id: str, at_s: float, effects: list[AgentEffect]) -> None:
        """attach_attempt for peer-driven updates: a conflict is the peer's, reported, not raised."""
        try:
            self.attach_attempt(agent.agent_id, attempt_id)
        except AgentError as err:
            effects.append(PeerAnomaly(agent.agent_id, agent.interface, str(err), at_s))

    def _call_over(self, agent: _Agent, *, connected: bool, at_s: float) -> list[AgentEffect]:
        effects: list[AgentEffect] = []
        event = AgentInput.CALL_ENDED if connected else AgentInput.CALL_FAILED
        if agent.state is AgentState.WRAP_UP:
            return []  # AgentComplete and Ended both say it; the first moved the agent
        try:
            self._step(agent, event, at_s, effects)
        except IllegalAgentTransition:
            return [
                PeerAnomaly(agent.agent_id, agent.interface, f"{event.value} while {agent.state.value}", at_s)
            ]
        if agent.state is AgentState.WRAP_UP:
            agent.wrap_deadline_at = at_s + self.timers.disposition_timeout_s
            self._sync(agent, at_s, effects)
        else:
            self._after_call(agent, at_s, effects)
        return effects

    # ================================================================ queries

    def counts(self) -> dict[AgentState, int]:
        """Agents per state, every state present (for ``dialer_agents{state}``)."""
        out = dict.fromkeys(AgentState, 0)
        for agent in self._agents.values():
            out[agent.state] += 1
        return out

    def agents_by_state(self) -> dict[str, int]:
        """``dialer_agents{state}``: every state's count plus ``logging_out`` (held logouts)."""
        out = {state.value: n for state, n in self.counts().items()}
        out["logging_out"] = self.logging_out()
        return out

    def logging_out(self) -> int:
        """Agents with a held logout (the runner's "logging out" gauge)."""
        return sum(1 for a in self._agents.values() if a.logout_requested_at is not None)

    def logged_in(self) -> int:
        return sum(1 for a in self._agents.values() if a.state is not AgentState.LOGGED_OUT)

    def free_agents(self) -> list[str]:
        """Ready agents whose phone can take a call, longest-idle first (fairness), ties by id.

        A ready agent whose device the PBX reports in use, ringing or unregistered (a manual
        call, a phone that lost its registration) is left out until a member event says free.
        """
        ready = [
            a
            for a in self._agents.values()
            if a.state is AgentState.READY and a.device not in _DEVICE_CANNOT_TAKE
        ]
        return [a.agent_id for a in sorted(ready, key=lambda a: (a.since_at, a.agent_id))]

    def awaiting_record(self) -> list[str]:
        """Preview: ready agents who asked for a record, oldest request first."""
        asking = [
            a
            for a in self._agents.values()
            if a.state is AgentState.READY and a.record_requested_at is not None
        ]
        return [a.agent_id for a in sorted(asking, key=lambda a: (a.record_requested_at or 0.0, a.agent_id))]

    def state_of(self, agent_id: str) -> AgentState:
        """The agent's state; an agent never seen is logged out."""
        agent = self._agents.get(agent_id)
        return agent.state if agent else AgentState.LOGGED_OUT

    def is_away(self, agent_id: str) -> bool:
        """Not going to take a call soon: logged out, paused, logging out, or phone unregistered."""
        agent = self._agents.get(agent_id)
        if agent is None or agent.state in (AgentState.LOGGED_OUT, AgentState.PAUSED):
            return True
        return agent.logout_requested_at is not None or agent.device in _DEVICE_UNREACHABLE

    def agent_for_interface(self, interface: str) -> str | None:
        return self._by_interface.get(interface)

    def agent_for_attempt(self, attempt_id: str) -> str | None:
        return self._by_attempt.get(attempt_id)

    def agent_ids(self) -> list[str]:
        return sorted(self._agents)

    def logout_countdown(self, agent_id: str, now_s: float) -> LogoutCountdown | None:
        """The held logout of ``agent_id`` with its remaining time, or None."""
        agent = self._get(agent_id)
        if agent.logout_requested_at is None:
            return None
        deadline = self._logout_deadline(agent)
        return LogoutCountdown(
            agent_id,
            agent.logout_requested_at,
            agent.state,
            deadline,
            None if deadline is None else max(0.0, deadline - now_s),
        )

    def view(self, agent_id: str, now_s: float) -> AgentView:
        """One agent's state, time in state and call (the pacer reads talk / wrap-up elapsed)."""
        agent = self._get(agent_id)
        call = agent.call
        return AgentView(
            agent_id=agent.agent_id,
            interface=agent.interface,
            state=agent.state,
            since_at=agent.since_at,
            in_state_s=max(0.0, now_s - agent.since_at),
            kind=call.kind if call else None,
            contact=call.contact if call else None,
            attempt_id=call.attempt_id if call else None,
            pending_logout=self.logout_countdown(agent_id, now_s),
            pending_pause=agent.pending_pause is not None,
            pause_reason=agent.pause_reason,
            device=agent.device,
        )

    def views(self, now_s: float) -> list[AgentView]:
        return [self.view(agent_id, now_s) for agent_id in sorted(self._agents)]

    # ================================================================ internals

    def _get(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def _step(self, agent: _Agent, event: AgentInput, at_s: float, effects: list[AgentEffect]) -> None:
        """The only place an agent's state is assigned (through the table)."""
        new = transition(agent.agent_id, agent.state, event)
        if new is agent.state:
            return
        effects.append(StateChanged(agent.agent_id, agent.state, new, event, at_s))
        if new is AgentState.READY:
            agent.free_since_at = at_s
        agent.state, agent.since_at = new, at_s

    def _request_logout(
        self, agent: _Agent, at_s: float, reason: str, effects: list[AgentEffect], *, by_pbx: bool = False
    ) -> None:
        transition(agent.agent_id, agent.state, AgentInput.LOGOUT)  # raises for a logged-out agent
        if agent.logout_requested_at is None:
            agent.logout_requested_at = at_s
            agent.logout_reason = reason
        elif by_pbx:
            agent.logout_reason = reason
        if agent.state in BUSY_STATES:
            effects.append(LogoutDeferred(agent.agent_id, agent.state, self._logout_deadline(agent)))
            return
        self._complete_logout(agent, at_s, effects)

    def _complete_logout(self, agent: _Agent, at_s: float, effects: list[AgentEffect]) -> None:
        requested_at = agent.logout_requested_at
        reason = agent.logout_reason or "requested"
        self._step(agent, AgentInput.LOGOUT, at_s, effects)
        agent.logout_requested_at = agent.logout_reason = None
        agent.pending_pause = agent.pause_reason = None
        agent.record_requested_at = None
        self._sync(agent, at_s, effects)
        agent.member_gone = False
        effects.append(LoggedOut(agent.agent_id, at_s, reason, requested_at))

    def _request_pause(
        self, agent: _Agent, at_s: float, reason: str | None, effects: list[AgentEffect]
    ) -> None:
        self._step(agent, AgentInput.PAUSE, at_s, effects)
        if agent.state is AgentState.PAUSED:
            agent.pause_reason = reason if reason is not None else agent.pause_reason
            agent.record_requested_at = None
        else:
            agent.pending_pause = reason or "paused"

    def _end_offer(self, agent: _Agent, event: AgentInput, at_s: float, reason: str) -> list[AgentEffect]:
        effects: list[AgentEffect] = []
        call = agent.call
        self._step(agent, event, at_s, effects)
        if event is AgentInput.OFFER_TIMEOUT:
            agent.pause_reason = reason
        if call is not None and call.contact is not None:
            effects.append(ReleaseContact(call.contact, reason, agent.agent_id))
        self._after_call(agent, at_s, effects)
        return effects

    def _after_call(self, agent: _Agent, at_s: float, effects: list[AgentEffect]) -> None:
        """The agent is idle again: forget the call, then apply a held logout or pause."""
        call = agent.call
        if call is not None and call.attempt_id is not None:
            self._by_attempt.pop(call.attempt_id, None)
        agent.call = None
        agent.offer_deadline_at = agent.wrap_deadline_at = None
        if agent.state in IDLE_STATES and agent.logout_requested_at is not None:
            self._complete_logout(agent, at_s, effects)
            return
        if agent.pending_pause is not None:
            reason, agent.pending_pause = agent.pending_pause, None
            if agent.state is AgentState.READY:
                agent.pause_reason = reason
                self._step(agent, AgentInput.PAUSE, at_s, effects)
        self._sync(agent, at_s, effects)

    def _logout_deadline(self, agent: _Agent) -> float | None:
        call = agent.call
        if agent.state is AgentState.RESERVED and call is not None:
            return call.started_at + self.timers.reserve_hold_s
        if agent.state is AgentState.OFFERED and agent.offer_deadline_at is not None:
            # Worst case: accepted at the last moment, then the call rings out.
            return agent.offer_deadline_at + self.timers.reserve_hold_s
        if agent.state is AgentState.WRAP_UP:
            return agent.wrap_deadline_at
        return None

    def _desired_member(self, agent: _Agent) -> tuple[bool, bool, str | None] | None:
        """(member, paused, reason) the PBX should have; None: leave as it is (talking)."""
        state = agent.state
        if state is AgentState.LOGGED_OUT:
            return (False, False, None)
        if state is AgentState.READY:
            return (True, False, None)
        if state is AgentState.PAUSED:
            return (True, True, agent.pause_reason)
        if state is AgentState.TALKING:
            return None
        return (True, True, _HOLD_REASONS[state])

    def _sync(self, agent: _Agent, at_s: float, effects: list[AgentEffect]) -> None:
        desired = self._desired_member(agent)
        if desired is None or agent.member_gone:
            return  # talking: leave the member as it is; gone: the logout is held, do not re-add
        member, paused, reason = desired
        aid, q, iface = agent.agent_id, self.queue, agent.interface
        if not member:
            if agent.member:
                effects.append(QueueRemove(aid, q, iface))
                agent.echoes.append(_Echo(MemberChange.REMOVED, None, at_s))
            agent.member = agent.member_paused = False
            agent.member_reason = None
            return
        if not agent.member:
            effects.append(QueueAdd(aid, q, iface, agent.member_name, paused, reason))
            agent.echoes.append(_Echo(MemberChange.ADDED, None, at_s))
        elif agent.member_paused != paused or (
            # The agent's own pause shows its reason to supervisors (queue show); the dialer's
            # holds (reserved -> talking -> wrap-up) do not re-send just to relabel.
            agent.state is AgentState.PAUSED and agent.member_reason != reason
        ):
            effects.append(QueuePause(aid, q, iface, paused, reason))
            agent.echoes.append(_Echo(MemberChange.PAUSE, paused, at_s))
        agent.member, agent.member_paused, agent.member_reason = True, paused, reason

    def _is_echo(self, agent: _Agent, upd: AgentStateChange, at_s: float) -> bool:
        echoes = agent.echoes
        while echoes and echoes[0].at_s < at_s - ECHO_WINDOW_S:
            echoes.popleft()
        if not echoes:
            return False
        head = echoes[0]
        if head.change is not upd.change:
            return False
        if head.change is MemberChange.PAUSE and head.paused != upd.paused:
            return False
        echoes.popleft()
        return True


def effects_of_type(effects: Iterable[AgentEffect], kind: type[_E]) -> list[_E]:
    """The effects of one type, in order (for the runner's dispatch and for tests)."""
    return [e for e in effects if isinstance(e, kind)]
