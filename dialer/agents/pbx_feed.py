"""The PBX's view of the agents: ``ami.agent_events`` and ``ami.outcome`` updates applied to a roster.

Theory of operation: the runner passes every update it reads to
:meth:`~dialer.agents.board.AgentBoard.feed`, which is :func:`feed` here. Member events
(QueueMemberAdded/Pause/Removed/Status) keep the board's idea of the queue member and its
device current; those that are echoes of our own queue actions are ignored
(:func:`~dialer.agents.membership.is_echo`), so only changes made on the PBX side move an agent:
a pause from the phone pauses it, a member removed by an administrator logs it out, a member
we never added (static, or added before a restart) logs it in. Agent call events and attempt
outcomes move agents through talking and wrap-up, tie a queue call to its attempt, and end
reserved calls that failed.

A call the PBX puts through to an agent is that agent's call, whatever the board thought the
agent was doing (issue 17 item 3): a queue rings a member a few milliseconds after its last
call ended, and the agent answers. The board pauses a member from the moment a call connects
(:mod:`dialer.agents.membership`), so this needs a call shorter than the pause's way to
Asterisk, or a pause lost on the way; when it happens anyway, the board
follows the PBX (:func:`_yield_to_pbx_call`): a wrap-up in progress ends with the campaign's
default disposition, as its timeout would end it (the board holds one call per agent, and a
contact must not stay leased for a disposition nobody can give while the agent talks to
someone else); an offered record goes back to the hopper unused; a held pause or logout
stays held for the end of the new call.

Peer updates never raise: whatever does not fit (an unknown member, an input the table refuses
in the agent's state, an attempt that belongs to another agent) becomes a
:class:`~dialer.agents.state.PeerAnomaly` effect, and reality wins over what the board held.
"""

from __future__ import annotations

from ami.agent_events import AgentCallEvent, AgentCallKind, AgentStateChange, AgentUpdate, MemberChange
from ami.outcome import AgentConnected, AttemptUpdate, Ended, Outcome
from dialer.agents.entry import AgentEntry, HeldCall
from dialer.agents.membership import PAUSE_REASON_PREFIX, is_echo, is_stale_hold
from dialer.agents.roster import Roster
from dialer.agents.state import (
    AgentEffect,
    AgentInput,
    AgentState,
    ApplyDefaultDisposition,
    CallReachedAgent,
    LoggedIn,
    PeerAnomaly,
    ReleaseContact,
    ReservationKind,
)
from dialer.errors import AgentError, IllegalAgentTransition

__all__ = ["REASON_PBX", "REASON_QUEUE_CALL", "BoardUpdate", "feed"]

BoardUpdate = AgentUpdate | AttemptUpdate  # what feed() accepts: ami.agent_events and ami.outcome

# The pause reason of a member paused on the PBX side without one.
REASON_PBX = "pbx"
# Why an offered record goes back unused when a queue call reaches its agent first.
REASON_QUEUE_CALL = "a queue call reached the agent"


def feed(roster: Roster, update: BoardUpdate, at_s: float) -> list[AgentEffect]:
    """Apply one update from ``ami.agent_events`` or ``ami.outcome``; never raises on its content."""
    if isinstance(update, AgentStateChange):
        return _on_member(roster, update, at_s)
    if isinstance(update, AgentCallEvent):
        return _on_agent_call(roster, update, at_s)
    if isinstance(update, AgentConnected):
        return _on_connected(roster, update, at_s)
    if isinstance(update, Ended):
        return _on_ended(roster, update, at_s)
    return []  # Answered, AmdDetected: nothing for agents


def _on_member(roster: Roster, upd: AgentStateChange, at_s: float) -> list[AgentEffect]:
    if upd.queue != roster.queue:
        return []
    agent_id = roster.by_interface.get(upd.interface)
    if agent_id is None:
        return [PeerAnomaly(None, upd.interface, f"{upd.change.value} for an unknown member", at_s)]
    agent = roster.agents[agent_id]
    if upd.change is not MemberChange.REMOVED:
        agent.device = upd.state  # current in every member event, echoes included
    if is_echo(agent, upd, at_s):
        return []
    effects: list[AgentEffect] = []
    if upd.change is MemberChange.REMOVED:
        agent.member, agent.member_paused, agent.member_reason = False, False, None
        if agent.state is AgentState.LOGGED_OUT:
            return []
        agent.member_gone = True
        roster.request_logout(agent, at_s, "removed on the PBX", effects, by_pbx=True)
        return effects
    if upd.change in (MemberChange.STATUS, MemberChange.SNAPSHOT) and agent.echoes:
        return []  # device-state news while our own action is in flight: its flags may be stale
    was_member = agent.member
    agent.member = True
    reason = upd.paused_reason or REASON_PBX
    if agent.state is AgentState.LOGGED_OUT:
        # A member we did not add: a static member, or one added by hand or before a restart.
        agent.member_gone = False
        roster.step(agent, AgentInput.LOGIN, at_s, effects)
        stale = is_stale_hold(agent, upd.paused, upd.paused_reason)
        if upd.paused and not stale:
            agent.pause_reason = reason
            roster.step(agent, AgentInput.PAUSE, at_s, effects)
        agent.member_paused, agent.member_reason = upd.paused, reason if upd.paused else None
        if stale:
            roster.sync(agent, at_s, effects)  # a hold of a previous run: lifted
        effects.append(LoggedIn(agent_id, at_s))
        return effects
    if upd.paused == agent.member_paused and was_member:
        if upd.paused and upd.change is MemberChange.PAUSE:
            if agent.state is AgentState.PAUSED:
                agent.pause_reason = agent.member_reason = reason  # re-paused on the phone, new reason
            elif not reason.startswith(PAUSE_REASON_PREFIX):
                # Paused on the phone while the dialer holds the member paused (a call, its
                # wrap-up): the agent's own pause, held for when the call is over.
                roster.request_pause(agent, at_s, reason, effects)
                agent.member_reason = reason
                return effects
        return []
    agent.member_paused = upd.paused
    if is_stale_hold(agent, upd.paused, upd.paused_reason):
        # Our own hold, left on the PBX after the dialer let the agent go (its release was
        # lost or timed out): not the agent's pause. Lift it (or relabel a paused agent's).
        agent.member_reason = upd.paused_reason
        effects.append(PeerAnomaly(agent.agent_id, agent.interface, f"stale {upd.paused_reason} pause", at_s))
        roster.sync(agent, at_s, effects)
        return effects
    if upd.paused:
        roster.request_pause(agent, at_s, reason, effects)
        agent.member_reason = agent.pause_reason if agent.state is AgentState.PAUSED else reason
    else:
        agent.member_reason = None
        if agent.state is AgentState.PAUSED:
            roster.step(agent, AgentInput.UNPAUSE, at_s, effects)
            agent.pause_reason = None
        agent.pending_pause = None
        # In a held state the dialer's pause is re-asserted by roster.sync.
    roster.sync(agent, at_s, effects)
    return effects


def _on_agent_call(roster: Roster, upd: AgentCallEvent, at_s: float) -> list[AgentEffect]:
    if upd.queue != roster.queue:
        return []
    agent_id = roster.by_interface.get(upd.interface)
    if agent_id is None:
        return [PeerAnomaly(None, upd.interface, f"agent {upd.kind.value} for an unknown member", at_s)]
    agent = roster.agents[agent_id]
    if upd.kind is AgentCallKind.CONNECT:
        agent.complete_due = False  # a new call: an AgentComplete still due was lost
        return _connect(roster, agent, None, at_s)
    if upd.kind is AgentCallKind.COMPLETE:
        if agent.complete_due and agent.state not in (AgentState.RESERVED, AgentState.TALKING):
            agent.complete_due = False
            return []  # the call whose wrap-up is over already: nothing left to move
        if agent.call is not None:
            agent.call.completed = True
        return _call_over(roster, agent, connected=True, at_s=at_s)
    return []  # called / ring-no-answer / dump: the queue tries members; no state of ours


def _on_connected(roster: Roster, upd: AgentConnected, at_s: float) -> list[AgentEffect]:
    agent_id = roster.by_attempt.get(upd.attempt_id)
    if agent_id is None and upd.agent is not None:
        agent_id = roster.by_interface.get(upd.agent) or (upd.agent if upd.agent in roster.agents else None)
    if agent_id is None:
        return [PeerAnomaly(None, upd.agent, f"attempt {upd.attempt_id} connected to no known agent", at_s)]
    return _connect(roster, roster.agents[agent_id], upd.attempt_id, at_s)


def _on_ended(roster: Roster, upd: Ended, at_s: float) -> list[AgentEffect]:
    outcome = upd.outcome
    if outcome.attempt_id in roster.awaiting_end:
        del roster.awaiting_end[outcome.attempt_id]
        return []  # its wrap-up is over already: not the call the agent is on now
    agent_id = roster.by_attempt.get(outcome.attempt_id)
    if agent_id is None:
        # A predictive call whose connect we never tied to the attempt: the queue's agent.
        if outcome.outcome is not Outcome.CONNECTED or outcome.agent is None:
            return []
        candidate = roster.by_interface.get(outcome.agent)
        if candidate is None:
            return []
        call = roster.agents[candidate].call
        if call is None or call.attempt_id is not None:
            return []
        agent_id = candidate
    agent = roster.agents[agent_id]
    if agent.call is None or agent.call.attempt_id not in (None, outcome.attempt_id):
        return []
    effects: list[AgentEffect] = []
    if agent.call.attempt_id is None:
        _try_attach(roster, agent, outcome.attempt_id, at_s, effects)
    agent.call.ended = True
    connected = outcome.outcome is Outcome.CONNECTED or agent.state in (
        AgentState.TALKING,
        AgentState.WRAP_UP,
    )
    return effects + _call_over(roster, agent, connected=connected, at_s=at_s)


def _connect(roster: Roster, agent: AgentEntry, attempt_id: str | None, at_s: float) -> list[AgentEffect]:
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
        roster.by_attempt.pop(call.attempt_id, None)
        agent.call = call = HeldCall(ReservationKind.QUEUE, None, None, at_s)
    if agent.state is AgentState.TALKING:
        if attempt_id is not None and call is not None and call.attempt_id is None:
            _try_attach(roster, agent, attempt_id, at_s, effects)
        return effects
    if agent.state in (AgentState.WRAP_UP, AgentState.OFFERED):
        _yield_to_pbx_call(roster, agent, at_s, effects)
    before = agent.state
    try:
        roster.step(agent, AgentInput.CONNECT, at_s, effects)
    except IllegalAgentTransition:
        return [PeerAnomaly(agent.agent_id, agent.interface, f"connect while {agent.state.value}", at_s)]
    if agent.call is None:  # a queue call: the queue chose a ready (or just-paused) agent
        agent.call = HeldCall(ReservationKind.QUEUE, None, None, at_s)
        if before is AgentState.PAUSED:
            agent.pending_pause = agent.pause_reason or "paused"  # the pause it raced with, held
        agent.record_requested_at = None
    if attempt_id is not None and agent.call.attempt_id is None:
        _try_attach(roster, agent, attempt_id, at_s, effects)
    effects.append(
        CallReachedAgent(agent.agent_id, agent.call.attempt_id, max(0.0, at_s - agent.free_since_at), at_s)
    )
    roster.sync(agent, at_s, effects)
    return effects


def _yield_to_pbx_call(roster: Roster, agent: AgentEntry, at_s: float, effects: list[AgentEffect]) -> None:
    """A call reached an agent in wrap-up or with an offer: end what the board held, PBX wins.

    The wrap-up gets the default disposition now (what its timeout would apply); the offer is
    given back unused. Held pause and logout requests are left held: they apply once the new
    call and its wrap-up are over. The agent is left ready, for the CONNECT that follows.
    """
    call = agent.call
    was = agent.state
    effects.append(
        PeerAnomaly(agent.agent_id, agent.interface, f"a call reached the agent in {was.value}", at_s)
    )
    if was is AgentState.WRAP_UP:
        roster.step(agent, AgentInput.DISPOSITION_TIMEOUT, at_s, effects)
        attempt_id, contact = (call.attempt_id, call.contact) if call else (None, None)
        effects.append(ApplyDefaultDisposition(agent.agent_id, attempt_id, contact, "queue_call"))
        roster.end_wrap_up(agent)
    else:
        roster.step(agent, AgentInput.SKIP, at_s, effects)
        if call is not None and call.contact is not None:
            effects.append(ReleaseContact(call.contact, REASON_QUEUE_CALL, agent.agent_id))
    if call is not None and call.attempt_id is not None:
        roster.by_attempt.pop(call.attempt_id, None)
    agent.call = None
    agent.offer_deadline_at = agent.wrap_deadline_at = None


def _try_attach(
    roster: Roster, agent: AgentEntry, attempt_id: str, at_s: float, effects: list[AgentEffect]
) -> None:
    """attach_attempt for peer-driven updates: a conflict is the peer's, reported, not raised."""
    try:
        roster.attach_attempt(agent.agent_id, attempt_id)
    except AgentError as err:
        effects.append(PeerAnomaly(agent.agent_id, agent.interface, str(err), at_s))


def _call_over(roster: Roster, agent: AgentEntry, *, connected: bool, at_s: float) -> list[AgentEffect]:
    effects: list[AgentEffect] = []
    event = AgentInput.CALL_ENDED if connected else AgentInput.CALL_FAILED
    if agent.state is AgentState.WRAP_UP:
        return []  # AgentComplete and Ended both say it; the first moved the agent
    try:
        roster.step(agent, event, at_s, effects)
    except IllegalAgentTransition:
        return [
            PeerAnomaly(agent.agent_id, agent.interface, f"{event.value} while {agent.state.value}", at_s)
        ]
    if agent.state is AgentState.WRAP_UP:
        agent.wrap_deadline_at = at_s + roster.timers.disposition_timeout_s
        roster.sync(agent, at_s, effects)
    else:
        roster.after_call(agent, at_s, effects)
    return effects
