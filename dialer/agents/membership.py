"""Queue membership: what the PBX should have for an agent, the actions that make it so, their echoes.

Theory of operation: the board keeps what it believes the PBX has for each agent (member or
not, paused or not, with which reason: the ``member*`` fields of
:class:`~dialer.agents.entry.AgentEntry`) and, after every change of the agent's state,
:func:`sync_member` emits the ``QueueAdd``/``QueuePause``/``QueueRemove`` that makes the PBX
match the state: a member is unpaused only while *ready*; reserved, offered and wrap-up agents
are paused with a ``dialer:`` reason so that the queue does not hand them a predictive call on
top of the one the dialer holds them for (queues.conf ``wrapuptime`` cannot do this: wrap-up
lasts until the disposition, not a fixed time). A talking agent's member is left as it is.

Asterisk echoes each action as a QueueMemberAdded/Pause/Removed event within a millisecond
(shared/ami-transcripts/queue-member-admin.txt). :func:`sync_member` records the echo each
action will cause and :func:`is_echo` consumes it, so that only changes made on the PBX side
(a pause from the phone, a member removed by an administrator) move an agent
(:mod:`dialer.agents.pbx_feed`).

Pure: effects are appended to the caller's list; no I/O.
"""

from __future__ import annotations

from ami.agent_events import AgentStateChange, MemberChange
from dialer.agents.entry import AgentEntry, MemberEcho
from dialer.agents.state import AgentEffect, AgentState, QueueAdd, QueuePause, QueueRemove

__all__ = ["ECHO_WINDOW_S", "PAUSE_REASON_PREFIX", "is_echo", "sync_member"]

# Pause reasons the dialer itself sets on queue members (visible in `queue show`).
PAUSE_REASON_PREFIX = "dialer:"
_HOLD_REASONS = {
    AgentState.RESERVED: PAUSE_REASON_PREFIX + "reserved",
    AgentState.OFFERED: PAUSE_REASON_PREFIX + "offered",
    AgentState.WRAP_UP: PAUSE_REASON_PREFIX + "wrap-up",
}
# How long an expected echo of our own queue action stays expected. Asterisk 22 sends it
# within 1 ms of the action's response (queue-member-admin.txt); 5 s is our generous bound, so
# a lost action (Response: Error, no event) cannot make a later genuine PBX change look like one.
ECHO_WINDOW_S = 5.0


def sync_member(agent: AgentEntry, queue: str, at_s: float, effects: list[AgentEffect]) -> None:
    """Append the queue actions that make the PBX's member match ``agent``'s state; expect their echoes."""
    desired = _desired_member(agent)
    if desired is None or agent.member_gone:
        return  # talking: leave the member as it is; gone: the logout is held, do not re-add
    member, paused, reason = desired
    aid, q, iface = agent.agent_id, queue, agent.interface
    if not member:
        if agent.member:
            effects.append(QueueRemove(aid, q, iface))
            agent.echoes.append(MemberEcho(MemberChange.REMOVED, None, at_s))
        agent.member = agent.member_paused = False
        agent.member_reason = None
        return
    if not agent.member:
        effects.append(QueueAdd(aid, q, iface, agent.member_name, paused, reason))
        agent.echoes.append(MemberEcho(MemberChange.ADDED, None, at_s))
    elif agent.member_paused != paused or (
        # The agent's own pause shows its reason to supervisors (queue show); the dialer's
        # holds (reserved -> talking -> wrap-up) do not re-send just to relabel.
        agent.state is AgentState.PAUSED and agent.member_reason != reason
    ):
        effects.append(QueuePause(aid, q, iface, paused, reason))
        agent.echoes.append(MemberEcho(MemberChange.PAUSE, paused, at_s))
    agent.member, agent.member_paused, agent.member_reason = True, paused, reason


def is_echo(agent: AgentEntry, upd: AgentStateChange, at_s: float) -> bool:
    """Whether ``upd`` is the echo of our own oldest action in flight (then consumed); drops stale ones."""
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


def _desired_member(agent: AgentEntry) -> tuple[bool, bool, str | None] | None:
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
