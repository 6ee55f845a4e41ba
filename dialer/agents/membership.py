"""Queue membership: what the PBX should have for an agent, the actions that make it so, their echoes.

Theory of operation: the board keeps what it believes the PBX has for each agent (member or
not, paused or not, with which reason: the ``member*`` fields of
:class:`~dialer.agents.entry.AgentEntry`) and, after every change of the agent's state,
:func:`sync_member` emits the ``QueueAdd``/``QueuePause``/``QueueRemove`` that makes the PBX
match the state: a member is unpaused only while *ready*; reserved, offered, talking and
wrap-up agents are paused with a ``dialer:`` reason so that the queue does not hand them a
predictive call on top of the one the dialer holds them for (queues.conf ``wrapuptime`` cannot
do this: wrap-up lasts until the disposition, not a fixed time).

A talking agent is paused too, although a busy device already keeps the queue away: the pause
must be on the PBX *before* the call ends. Asterisk frees the member the moment the call hangs
up and rings it with the next waiting caller within milliseconds, before a wrap-up pause sent
on hang-up can arrive; the agent then takes a call in wrap-up and the disposition it was about
to give is replaced by the default (:func:`~dialer.agents.pbx_feed._yield_to_pbx_call`). Paused
from the moment the queue connects them, the agent goes from the call into wrap-up with the
queue already kept away; the same one action per queue call, sent earlier. Only a call shorter
than the action's round trip can still race.

Asterisk echoes each action as a QueueMemberAdded/Pause/Removed event within a millisecond
(shared/ami-transcripts/queue-member-admin.txt). :func:`sync_member` records the echo each
action will cause and :func:`is_echo` consumes it, so that only changes made on the PBX side
(a pause from the phone, a member removed by an administrator) move an agent
(:mod:`dialer.agents.pbx_feed`).

The PBX is asked for the truth too (issue 19 item 3): :func:`reconcile_member` takes what a
``QueueStatus`` said (the member present or not) and re-adds a member the PBX lost, and
:func:`is_stale_hold` tells a ``dialer:`` pause the PBX still shows on an agent the dialer
no longer holds (a hold whose release was lost with a connection or timed out): that is our
own leftover, to be lifted, not an agent's pause to obey.

Pure: effects are appended to the caller's list; no I/O.
"""

from __future__ import annotations

from ami.agent_events import AgentStateChange, MemberChange
from dialer.agents.entry import AgentEntry, MemberEcho
from dialer.agents.state import AgentEffect, AgentState, QueueAdd, QueuePause, QueueRemove

__all__ = [
    "ECHO_WINDOW_S",
    "ELSEWHERE_REASON",
    "PAUSE_REASON_PREFIX",
    "forget_last_echoes",
    "is_echo",
    "is_stale_hold",
    "reconcile_member",
    "sync_member",
]

# Pause reasons the dialer itself sets on queue members (visible in `queue show`).
PAUSE_REASON_PREFIX = "dialer:"
_HOLD_REASONS = {
    AgentState.RESERVED: PAUSE_REASON_PREFIX + "reserved",
    AgentState.OFFERED: PAUSE_REASON_PREFIX + "offered",
    AgentState.TALKING: PAUSE_REASON_PREFIX + "talking",
    AgentState.WRAP_UP: PAUSE_REASON_PREFIX + "wrap-up",
}
# A ready agent busy in another campaign of the engine (AgentEntry.elsewhere).
ELSEWHERE_REASON = PAUSE_REASON_PREFIX + "elsewhere"
# How long an expected echo of our own queue action stays expected, from when the board
# emitted the action. Asterisk 22 sends it within 1 ms of the action's response
# (queue-member-admin.txt), but the action may wait behind the member's earlier ones, each as
# slow as the PBX answers (issue 19 item 3: at 1.5 s a response, echoes were 5 s late, taken
# for changes made on the PBX, and an old pause event overwrote what the dialer had since
# asked for, stranding agents paused). The bound only keeps a lost action's echo (Response:
# Error, no event) from swallowing a genuine PBX change forever; the QueueStatus
# reconciliation corrects whatever such a swallowed change left.
ECHO_WINDOW_S = 30.0


def sync_member(agent: AgentEntry, queue: str, at_s: float, effects: list[AgentEffect]) -> None:
    """Append the queue actions that make the PBX's member match ``agent``'s state; expect their echoes."""
    if agent.member_gone:
        return  # the logout is held: do not re-add
    member, paused, reason = _desired_member(agent)
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
        # holds (reserved -> talking -> wrap-up) do not re-send just to relabel, nor does a
        # queue call that reached an agent whose own pause was on its way.
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


def forget_last_echoes(agent: AgentEntry, expected: list[tuple[MemberChange, bool | None]]) -> bool:
    """Drop ``agent``'s last expected echoes if they are ``expected`` (oldest first); else nothing."""
    n = len(expected)
    tail = list(agent.echoes)[-n:] if n else []
    if len(tail) != n or [(e.change, e.paused) for e in tail] != expected:
        return False
    for _ in range(n):
        agent.echoes.pop()
    return True


def is_stale_hold(agent: AgentEntry, paused: bool, reason: str | None) -> bool:
    """Whether the PBX shows one of the dialer's own holds on an agent the dialer does not hold."""
    held_here = agent.state in _HOLD_REASONS or (agent.state is AgentState.READY and bool(agent.elsewhere))
    return paused and (reason or "").startswith(PAUSE_REASON_PREFIX) and not held_here


def reconcile_member(
    agent: AgentEntry,
    queue: str,
    present: bool,
    at_s: float,
    effects: list[AgentEffect],
    *,
    forget_echoes: bool,
) -> bool:
    """Re-add ``agent``'s member if a ``QueueStatus`` shows it ``present`` no more; returns whether it did.

    An agent with our own action still in flight is left alone (the reply may predate the
    action), unless ``forget_echoes``: after a reconnect, actions that were in flight died
    with the connection and their echoes will never come.
    """
    if forget_echoes:
        agent.echoes.clear()
    while agent.echoes and agent.echoes[0].at_s < at_s - ECHO_WINDOW_S:
        agent.echoes.popleft()
    if present or agent.echoes or agent.state is AgentState.LOGGED_OUT or agent.member_gone:
        return False
    agent.member = agent.member_paused = False
    agent.member_reason = None
    sync_member(agent, queue, at_s, effects)
    return True


def _desired_member(agent: AgentEntry) -> tuple[bool, bool, str | None]:
    """(member, paused, reason) the PBX should have."""
    state = agent.state
    if state is AgentState.LOGGED_OUT:
        return (False, False, None)
    if state is AgentState.READY:
        return (True, True, ELSEWHERE_REASON) if agent.elsewhere else (True, False, None)
    if state is AgentState.PAUSED:
        return (True, True, agent.pause_reason)
    return (True, True, _HOLD_REASONS[state])
