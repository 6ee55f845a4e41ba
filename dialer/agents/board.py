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

The board is the front of four modules: the state it owns is a
:class:`~dialer.agents.roster.Roster` of :class:`~dialer.agents.entry.AgentEntry` records, with
the steps every agent goes through; :mod:`dialer.agents.membership` keeps each agent's queue
member in line with its state (paused with a ``dialer:`` reason while the dialer holds it) and
recognises the PBX's echoes of our own queue actions; :mod:`dialer.agents.pbx_feed` applies the
PBX's updates. What the board hands out are the frozen values of :mod:`dialer.agents.views`.

Peer updates never raise: what does not fit becomes a
:class:`~dialer.agents.state.PeerAnomaly` effect. Misuse of the agent interface raises
:class:`~dialer.errors.AgentError`.
"""

from __future__ import annotations

from collections.abc import Hashable

from ami.agent_events import DeviceState, MemberChange
from dialer.agents import pbx_feed
from dialer.agents.entry import AgentEntry, HeldCall
from dialer.agents.index import BoardLoad
from dialer.agents.membership import forget_last_echoes, reconcile_member
from dialer.agents.pbx_feed import BoardUpdate
from dialer.agents.roster import Roster
from dialer.agents.state import (
    AgentEffect,
    AgentInput,
    AgentState,
    AgentTimers,
    ApplyDefaultDisposition,
    LoggedIn,
    PlaceCall,
    RecordDisposition,
    RecordRequested,
    ReleaseContact,
    ReservationKind,
)
from dialer.agents.views import AgentView, LogoutCountdown
from dialer.errors import AgentError

__all__ = ["AgentBoard"]

REASON_OFFER_TIMEOUT = "offer timeout"

_DEVICE_UNREACHABLE = frozenset({DeviceState.UNAVAILABLE, DeviceState.INVALID})

_RESERVABLE = frozenset(ReservationKind) - {
    ReservationKind.QUEUE,
    ReservationKind.PREVIEW,
    ReservationKind.PUSH_PREVIEW,
}


class AgentBoard:
    """All agents of one campaign (see the module docstring).

    Args:
        campaign_id: for the runner's logs; the board does not use it.
        queue: the campaign's Asterisk queue; member events of other queues are ignored.
        timers: offer, disposition, ring and connect limits.
    """

    def __init__(self, campaign_id: str, queue: str, timers: AgentTimers | None = None) -> None:
        self.campaign_id = campaign_id
        self._roster = Roster(queue, timers or AgentTimers())

    @property
    def queue(self) -> str:
        return self._roster.queue

    @property
    def timers(self) -> AgentTimers:
        return self._roster.timers

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
        agent = self._roster.enroll(agent_id, interface, member_name, at_s)
        effects: list[AgentEffect] = []
        self._roster.step(agent, AgentInput.LOGIN, at_s, effects)
        if paused:
            agent.pause_reason = pause_reason
            self._roster.step(agent, AgentInput.PAUSE, at_s, effects)
        self._roster.sync(agent, at_s, effects)
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
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        self._roster.request_logout(agent, at_s, reason, effects)
        return effects

    def cancel_logout(self, agent_id: str) -> bool:
        """Withdraw a held logout (the agent changed their mind); False if none was held.

        A logout the PBX forced (member removed) cannot be withdrawn: the member is gone.
        """
        agent = self._roster.get(agent_id)
        if agent.logout_requested_at is None or agent.member_gone:
            return False
        agent.logout_requested_at = agent.logout_reason = None
        return True

    def pause(self, agent_id: str, at_s: float, *, reason: str | None = None) -> list[AgentEffect]:
        """Pause a ready agent now; a busy one when its call (and wrap-up) is over."""
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        self._roster.request_pause(agent, at_s, reason, effects)
        self._roster.sync(agent, at_s, effects)
        return effects

    def unpause(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """Make a paused agent ready; for a busy agent, cancel a held pause."""
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        self._roster.step(agent, AgentInput.UNPAUSE, at_s, effects)
        agent.pending_pause = None
        if agent.state is AgentState.READY:
            agent.pause_reason = None
        self._roster.sync(agent, at_s, effects)
        return effects

    def request_record(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """Preview: a ready agent asks for a record; effect ``RecordRequested``."""
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        self._roster.step(agent, AgentInput.REQUEST_RECORD, at_s, effects)
        if agent.record_requested_at is None:
            agent.record_requested_at = at_s
        effects.append(RecordRequested(agent_id, at_s))
        return effects

    def accept(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """The agent accepts the offered record: reserved for it, effect ``PlaceCall``."""
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        self._roster.step(agent, AgentInput.ACCEPT, at_s, effects)
        assert agent.call is not None  # OFFERED always carries its call
        agent.call.started_at = at_s
        agent.offer_deadline_at = None
        effects.append(PlaceCall(agent_id, agent.call.contact, agent.call.kind))
        self._roster.sync(agent, at_s, effects)
        return effects

    def skip(self, agent_id: str, at_s: float) -> list[AgentEffect]:
        """The agent skips the offered record: released unused (``ReleaseContact``)."""
        return self._end_offer(self._roster.get(agent_id), AgentInput.SKIP, at_s, "skipped")

    def set_disposition(self, agent_id: str, at_s: float, disposition: object) -> list[AgentEffect]:
        """The agent's disposition for the call in wrap-up: ``RecordDisposition``, then ready.

        ``disposition`` is opaque here (the store's status, callback time, new number).
        """
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        call = agent.call
        self._roster.step(agent, AgentInput.DISPOSITION, at_s, effects)
        effects.append(
            RecordDisposition(
                agent_id, call.attempt_id if call else None, call.contact if call else None, disposition
            )
        )
        self._roster.end_wrap_up(agent)
        self._roster.after_call(agent, at_s, effects)
        return effects

    def set_elsewhere(self, agent_id: str, campaigns: frozenset[str], at_s: float) -> list[AgentEffect]:
        """The engine's other campaigns where the agent is busy now (``AgentEntry.elsewhere``).

        A ready agent busy elsewhere is not free here and its member is paused; returns that
        queue action (nothing for an agent never logged in here).
        """
        agent = self._roster.agents.get(agent_id)
        if agent is None or agent.elsewhere == campaigns:
            return []
        agent.elsewhere = campaigns
        effects: list[AgentEffect] = []
        self._roster.sync(agent, at_s, effects)  # logged out: desired "no member", nothing sent
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
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        self._roster.step(agent, AgentInput.RESERVE, at_s, effects)
        agent.call = HeldCall(kind, contact, None, at_s)
        agent.record_requested_at = None
        effects.append(PlaceCall(agent_id, contact, kind))
        self._roster.sync(agent, at_s, effects)
        return effects

    def offer(self, agent_id: str, contact: Hashable, at_s: float) -> list[AgentEffect]:
        """Show ``contact`` to a ready agent: preview if the agent asked, else push-preview.

        Nothing is dialled until :meth:`accept`; :meth:`tick` times the offer out.
        """
        agent = self._roster.get(agent_id)
        effects: list[AgentEffect] = []
        self._roster.step(agent, AgentInput.OFFER, at_s, effects)
        kind = ReservationKind.PUSH_PREVIEW if agent.record_requested_at is None else ReservationKind.PREVIEW
        agent.call = HeldCall(kind, contact, None, at_s)
        agent.record_requested_at = None
        agent.offer_deadline_at = at_s + self.timers.offer_timeout_s
        self._roster.sync(agent, at_s, effects)
        return effects

    def attach_attempt(self, agent_id: str, attempt_id: str) -> None:
        """Tie the attempt the runner wrote for a reserved agent's call to that agent.

        Raises:
            AgentError: the agent holds no call, already has an attempt, or the attempt id is
                another agent's.
        """
        self._roster.attach_attempt(agent_id, attempt_id)

    def release_reservation(self, agent_id: str, at_s: float, *, reason: str) -> list[AgentEffect]:
        """A reserved call that will not happen (Originate refused, blocked at dial time).

        The contact is released (``ReleaseContact``) only if no attempt was attached: an
        attempt's outcome already decides the contact's fate.
        """
        agent = self._roster.get(agent_id)
        call = agent.call
        effects: list[AgentEffect] = []
        self._roster.step(agent, AgentInput.CALL_FAILED, at_s, effects)
        if call is not None and call.attempt_id is None and call.contact is not None:
            effects.append(ReleaseContact(call.contact, reason, agent_id))
        self._roster.after_call(agent, at_s, effects)
        return effects

    def tick(self, now_s: float) -> list[AgentEffect]:
        """Fire due offer and disposition timeouts, earliest first."""
        due = self._roster.index.due(now_s)
        effects: list[AgentEffect] = []
        for at_s, agent_id in due:
            agent = self._roster.agents[agent_id]
            if agent.state is AgentState.OFFERED:
                effects += self._end_offer(agent, AgentInput.OFFER_TIMEOUT, at_s, REASON_OFFER_TIMEOUT)
            else:
                call = agent.call
                self._roster.step(agent, AgentInput.DISPOSITION_TIMEOUT, at_s, effects)
                effects.append(
                    ApplyDefaultDisposition(
                        agent_id, call.attempt_id if call else None, call.contact if call else None
                    )
                )
                self._roster.end_wrap_up(agent)
                self._roster.after_call(agent, at_s, effects)
        return effects

    def next_deadline_at(self) -> float | None:
        """When :meth:`tick` next has something to do, or None."""
        deadlines = self._roster.index.deadlines
        return deadlines[0][0] if deadlines else None

    # ================================================================ the PBX's view

    def feed(self, update: BoardUpdate, at_s: float) -> list[AgentEffect]:
        """Apply one update from ``ami.agent_events`` or ``ami.outcome``; never raises on its content.

        See :mod:`dialer.agents.pbx_feed`.
        """
        return pbx_feed.feed(self._roster, update, at_s)

    # ================================================================ queries

    def reconcile_members(
        self, present: set[str], at_s: float, *, after_reconnect: bool
    ) -> list[AgentEffect]:
        """Re-add the members a ``QueueStatus`` no longer shows (``present``: interfaces it shows).

        ``after_reconnect``: our actions in flight died with the connection (their echoes
        are forgotten). A member shown paused by a hold of ours that ended is lifted by the
        snapshot rows themselves (:func:`~dialer.agents.pbx_feed.feed`).
        """
        effects: list[AgentEffect] = []
        for agent in self._roster.agents.values():
            reconcile_member(
                agent, self.queue, agent.interface in present, at_s, effects, forget_echoes=after_reconnect
            )
        return effects

    def forget_echoes(self, interface: str, expected: list[tuple[MemberChange, bool | None]]) -> bool:
        """Drop the member's last expected echoes if they are ``expected`` (oldest first).

        For actions dropped before they were sent (:mod:`dialer.campaign.member_actions`):
        their echoes will never come. Returns False, dropping nothing, if they do not match.
        """
        agent_id = self._roster.by_interface.get(interface)
        if agent_id is None:
            return False
        return forget_last_echoes(self._roster.agents[agent_id], expected)

    def counts(self) -> dict[AgentState, int]:
        """Agents per state, every state present (for ``dialer_agents{state}``)."""
        return dict(self._roster.index.counts)

    def agents_by_state(self) -> dict[str, int]:
        """``dialer_agents{state}``: every state's count plus ``logging_out`` (held logouts)."""
        out = {state.value: n for state, n in self.counts().items()}
        out["logging_out"] = self.logging_out()
        return out

    def logging_out(self) -> int:
        """Agents with a held logout (the runner's "logging out" gauge)."""
        return sum(1 for a in self._roster.agents.values() if a.logout_requested_at is not None)

    def logged_in(self) -> int:
        return len(self._roster.agents) - self._roster.index.counts[AgentState.LOGGED_OUT]

    def talking(self) -> int:
        """Agents talking now (the wallboard's talk share, :mod:`dialer.campaign.occupancy`)."""
        return self._roster.index.counts[AgentState.TALKING]

    def free_agents(self) -> list[str]:
        """Ready agents whose phone can take a call, longest-idle first (fairness), ties by id.

        A ready agent whose device the PBX reports in use, ringing or unregistered (a manual
        call, a phone that lost its registration) is left out until a member event says free.
        """
        return [agent_id for _, agent_id in self._roster.index.free]

    def free_count(self) -> int:
        """How many agents :meth:`free_agents` lists (without listing them)."""
        return len(self._roster.index.free)

    def awaiting_record(self) -> list[str]:
        """Preview: ready agents who asked for a record, oldest request first."""
        return [agent_id for _, agent_id in self._roster.index.asking]

    def load(self, now_s: float) -> BoardLoad:
        """What the pacing policy reads of the agents (elapsed talk and wrap-up, counts) at ``now_s``."""
        return self._roster.index.load(now_s)

    def state_of(self, agent_id: str) -> AgentState:
        """The agent's state; an agent never seen is logged out."""
        agent = self._roster.agents.get(agent_id)
        return agent.state if agent else AgentState.LOGGED_OUT

    def is_away(self, agent_id: str) -> bool:
        """Not going to take a call soon: logged out, paused, logging out, or phone unregistered."""
        agent = self._roster.agents.get(agent_id)
        if agent is None or agent.state in (AgentState.LOGGED_OUT, AgentState.PAUSED):
            return True
        return agent.logout_requested_at is not None or agent.device in _DEVICE_UNREACHABLE

    def agent_for_interface(self, interface: str) -> str | None:
        return self._roster.by_interface.get(interface)

    def agent_for_attempt(self, attempt_id: str) -> str | None:
        return self._roster.by_attempt.get(attempt_id)

    def finished_before_end(self, attempt_id: str) -> bool:
        """Whether an agent finished ``attempt_id`` (wrap-up over) before its Ended was read.

        Ask before feeding that Ended: feeding it forgets the attempt. Such an Ended is the
        news of a call an agent took, not of an answered call no one took.
        """
        return attempt_id in self._roster.awaiting_end

    def agent_ids(self) -> list[str]:
        return sorted(self._roster.agents)

    def logout_countdown(self, agent_id: str, now_s: float) -> LogoutCountdown | None:
        """The held logout of ``agent_id`` with its remaining time, or None."""
        agent = self._roster.get(agent_id)
        if agent.logout_requested_at is None:
            return None
        deadline = self._roster.logout_deadline(agent)
        return LogoutCountdown(
            agent_id,
            agent.logout_requested_at,
            agent.state,
            deadline,
            None if deadline is None else max(0.0, deadline - now_s),
        )

    def view(self, agent_id: str, now_s: float) -> AgentView:
        """One agent's state, time in state and call (the pacer reads talk / wrap-up elapsed)."""
        agent = self._roster.get(agent_id)
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
        return [self.view(agent_id, now_s) for agent_id in sorted(self._roster.agents)]

    # ================================================================ internals

    def _end_offer(self, agent: AgentEntry, event: AgentInput, at_s: float, reason: str) -> list[AgentEffect]:
        effects: list[AgentEffect] = []
        call = agent.call
        self._roster.step(agent, event, at_s, effects)
        if event is AgentInput.OFFER_TIMEOUT:
            agent.pause_reason = reason
        if call is not None and call.contact is not None:
            effects.append(ReleaseContact(call.contact, reason, agent.agent_id))
        self._roster.after_call(agent, at_s, effects)
        return effects
