"""Queue and agent events, turned into frozen updates for the engine's agent-state listener.

Theory of operation: the engine adds agents to campaign queues with ``QueueAdd`` and needs to
know, without polling, whether each one is free, ringing, talking or paused. Asterisk tells
it through two families of events (privilege class ``agent``):

* member events — QueueMemberAdded/Removed/Status/Pause (and the older spelling
  QueueMemberPaused), plus the ``QueueMember`` rows of a QueueStatus reply — carry the member's
  device state, pause flag and call counters: they become :class:`AgentStateChange`;
* call events — AgentCalled/AgentConnect/AgentComplete/AgentRingNoAnswer/AgentDump — say what
  the queue did with one caller and one member: they become :class:`AgentCallEvent`, which
  also names the caller's channel ids so the engine can match it to an attempt.

Everything else yields None. Pure: messages in, updates out.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from ami.framing import AmiMessage


class DeviceState(enum.IntEnum):
    """A member's device state, the ``Status`` header (Asterisk's ``enum ast_device_state``)."""

    UNKNOWN = 0
    NOT_INUSE = 1
    INUSE = 2
    BUSY = 3
    INVALID = 4
    UNAVAILABLE = 5
    RINGING = 6
    RINGINUSE = 7
    ONHOLD = 8


class MemberChange(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    STATUS = "status"
    PAUSE = "pause"
    SNAPSHOT = "snapshot"  # a QueueMember row of a QueueStatus reply


class AgentCallKind(enum.StrEnum):
    CALLED = "called"  # the queue rings the member for a caller
    CONNECT = "connect"  # the member answered: bridged with the caller
    COMPLETE = "complete"  # the bridged call ended
    RING_NO_ANSWER = "ring_no_answer"  # the member did not answer in the queue's timeout
    DUMP = "dump"  # the member hung up while the caller was being announced


@dataclass(frozen=True, slots=True)
class AgentStateChange:
    change: MemberChange
    queue: str
    interface: str
    member_name: str | None
    state: DeviceState
    paused: bool
    paused_reason: str | None
    in_call: bool
    calls_taken: int | None
    membership: str | None  # static / dynamic / realtime
    at_s: float

    @property
    def available(self) -> bool:
        """Can take a call now: a member, not paused, device free, not in a call."""
        return (
            self.change is not MemberChange.REMOVED
            and not self.paused
            and not self.in_call
            and self.state is DeviceState.NOT_INUSE
        )


@dataclass(frozen=True, slots=True)
class AgentCallEvent:
    kind: AgentCallKind
    queue: str
    interface: str
    member_name: str | None
    caller_uniqueid: str | None  # the caller's channel (our ;1 half): routes to the attempt
    caller_linkedid: str | None
    agent_channel: str | None  # the member's channel for this call (DestChannel)
    hold_s: float | None  # caller's wait in the queue, seconds (HoldTime)
    ring_s: float | None  # member ring time (RingTime / Ringtime ms for RingNoAnswer)
    talk_s: float | None  # TalkTime, on complete
    reason: str | None  # AgentComplete: caller / agent / transfer
    at_s: float


AgentUpdate = AgentStateChange | AgentCallEvent


def _int(msg: AmiMessage, name: str) -> int | None:
    value = msg.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _seconds(msg: AmiMessage, name: str, *, scale: float = 1.0) -> float | None:
    value = _int(msg, name)
    return None if value is None else value * scale


def _flag(msg: AmiMessage, name: str) -> bool:
    return (msg.get(name) or "").strip().lower() in ("1", "true", "yes")


def _state(msg: AmiMessage) -> DeviceState:
    code = _int(msg, "Status")
    try:
        return DeviceState(code) if code is not None else DeviceState.UNKNOWN
    except ValueError:
        return DeviceState.UNKNOWN


def _member(change: MemberChange) -> Callable[[AmiMessage, float], AgentUpdate | None]:
    def parse(msg: AmiMessage, at_s: float) -> AgentUpdate | None:
        queue = msg.get("Queue")
        # QueueMember rows (QueueStatus) say Location/Name; the events Interface/MemberName.
        interface = msg.get("Interface") or msg.get("Location")
        if not queue or not interface:
            return None
        return AgentStateChange(
            change=change,
            queue=queue,
            interface=interface,
            member_name=msg.get("MemberName") or msg.get("Name") or None,
            state=_state(msg),
            paused=_flag(msg, "Paused"),
            paused_reason=msg.get("PausedReason") or None,
            in_call=_flag(msg, "InCall"),
            calls_taken=_int(msg, "CallsTaken"),
            membership=msg.get("Membership") or None,
            at_s=at_s,
        )

    return parse


def _call(kind: AgentCallKind) -> Callable[[AmiMessage, float], AgentUpdate | None]:
    def parse(msg: AmiMessage, at_s: float) -> AgentUpdate | None:
        queue, interface = msg.get("Queue"), msg.get("Interface")
        if not queue or not interface:
            return None
        if kind is AgentCallKind.RING_NO_ANSWER:
            ring = _seconds(msg, "Ringtime", scale=0.001)  # milliseconds on this event
        else:
            ring = _seconds(msg, "RingTime")
        return AgentCallEvent(
            kind=kind,
            queue=queue,
            interface=interface,
            member_name=msg.get("MemberName") or None,
            caller_uniqueid=msg.get("Uniqueid"),
            caller_linkedid=msg.get("Linkedid"),
            agent_channel=msg.get("DestChannel"),
            hold_s=_seconds(msg, "HoldTime"),
            ring_s=ring,
            talk_s=_seconds(msg, "TalkTime"),
            reason=msg.get("Reason") if kind is AgentCallKind.COMPLETE else None,
            at_s=at_s,
        )

    return parse


# Event name (lower case) -> parser. Source: Asterisk 22 app_queue.c manager event docs;
# spellings confirmed by shared/ami-transcripts/queue-member-admin.txt and the originate
# captures (QueueMemberPause, not QueueMemberPaused, on Asterisk 22).
_PARSERS: dict[str, Callable[[AmiMessage, float], AgentUpdate | None]] = {
    "queuememberadded": _member(MemberChange.ADDED),
    "queuememberremoved": _member(MemberChange.REMOVED),
    "queuememberstatus": _member(MemberChange.STATUS),
    "queuememberpause": _member(MemberChange.PAUSE),
    "queuememberpaused": _member(MemberChange.PAUSE),
    "queuemember": _member(MemberChange.SNAPSHOT),
    "agentcalled": _call(AgentCallKind.CALLED),
    "agentconnect": _call(AgentCallKind.CONNECT),
    "agentcomplete": _call(AgentCallKind.COMPLETE),
    "agentringnoanswer": _call(AgentCallKind.RING_NO_ANSWER),
    "agentdump": _call(AgentCallKind.DUMP),
}

AGENT_EVENTS = frozenset(_PARSERS)


def agent_event(msg: AmiMessage, at_s: float) -> AgentUpdate | None:
    """The agent update ``msg`` carries, or None when it is not a queue/agent event.

    Never raises on a peer's message: missing or malformed headers give None or defaults.
    """
    event = msg.event
    if event is None:
        return None
    parser = _PARSERS.get(event.lower())
    return parser(msg, at_s) if parser else None
