"""The outcome of one originated call, derived from the AMI messages routed to it.

Theory of operation: an :class:`AttemptMachine` is fed, in arrival order, every message the
:class:`~ami.routing.EventRouter` assigns to its attempt. Each message is first reduced to a
:class:`Signal` (answered, agent answered, customer hung up, ...) by looking at what it means
in the protocol — which half of the Local channel it is about, the ``Reason`` of the
OriginateResponse, the ``DialStatus`` — never at channel numbers, timings or header order.
The signal then moves the :class:`CallState` through ``_TRANSITIONS``; nothing else assigns
the state. Alongside, the machine keeps the bookkeeping the outcome needs: which of the two
halves exist and have hung up (with their causes), the OriginateResponse ``Reason``, the
instants of answer / agent connect / hang-up.

What real Asterisk taught us (``shared/ami-transcripts/README.md``):

* OriginateResponse comes anywhere (fact 1). So answer is whichever of three signs comes
  first (``;1`` Newstate Up, the Originate's own DialEnd ANSWER, OriginateResponse Reason 4),
  and a call is only *over* when the OriginateResponse has arrived **and** every half that
  exists has hung up — the far end's cause may come after the OriginateResponse.
* The far end's cause is on the ``;2`` half (fact 2); the ``;1`` half says 0 for busy.
* ``QueueCallerAbandon`` means both "our timeout" and "the caller hung up" (fact 5): the
  ``;2`` Hangup first means the customer left; our ``DialerAbandon`` UserEvent (or our ``;1``
  hanging up first) means we dropped them.
* AMD results and the abandon path are only visible through UserEvents (fact 6).
* Once media flows, Asterisk optimises our Local pair away (fact 11): LocalOptimizationBegin
  names our halves, a channel of the call enters the bridge in our ``;1``'s place
  (BridgeEnter ``SwapUniqueid``), LocalOptimizationEnd says ``Success: No`` even when the swap
  worked, and both halves hang up while the customer and the agent go on talking. From then
  on (and likewise when an agent's Local pair is optimised) a half's Hangup is not the end
  of the conversation: the last channel of the call (``Linkedid`` = our ChannelId, which
  survives the swap) hanging up is — not even AgentComplete, which Queue() derives from the
  same unreliable ``Success``.

Pure: no asyncio, no panoramisk, no logging; times are passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ami.errors import IllegalTransition
from ami.framing import AmiMessage
from ami.hangup_causes import CauseClass, ReasonClass, hangup_cause, originate_reason
from ami.routing import LOCAL_HALF_TWO_SUFFIX

# --- names shared with asterisk-conf/extensions.conf (a test parses the dialplan for them) ---
USER_EVENT_AMD = "DialerAMD"
USER_EVENT_ABANDON = "DialerAbandon"
AMD_STATUS_HEADER = "AMDStatus"
AMD_CAUSE_HEADER = "AMDCause"
AMD_MACHINE = "MACHINE"
# Channel variables the client sets on the Originate and the dialplan reads.
VAR_ATTEMPT_ID = "DIALER_ATTEMPT_ID"
VAR_CAMPAIGN = "DIALER_CAMPAIGN"
VAR_QUEUE = "DIALER_QUEUE"
VAR_QUEUE_TIMEOUT = "DIALER_QUEUE_TIMEOUT"
VAR_AMD = "DIALER_AMD"
VAR_AGENT = "DIALER_AGENT"
VAR_AMD_ACTION = "DIALER_AMD_ACTION"  # hangup (default), message or agent: what a machine gets
VAR_AMD_MESSAGE = "DIALER_AMD_MESSAGE"  # the sound the message action plays
AMD_ACTION_AGENT = "agent"
DIALER_VARIABLES = (
    VAR_ATTEMPT_ID, VAR_CAMPAIGN, VAR_QUEUE, VAR_QUEUE_TIMEOUT, VAR_AMD, VAR_AGENT, VAR_AMD_ACTION,
    VAR_AMD_MESSAGE,
)
# The connect limit: a live answer not connected to an agent within 2 s is abandoned (Ofcom
# persistent-misuse policy; FTC TSR 16 CFR 310.4(b)(4)). The dialplan's default queue timeout.
CONNECT_LIMIT_S = 2

_CHANNEL_STATE_UP = "6"  # AST_STATE_UP (include/asterisk/channelstate.h)


class Outcome(enum.StrEnum):
    CONNECTED = "connected"  # a person answered and reached an agent
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"  # channel unavailable / other failure
    INVALID_NUMBER = "invalid_number"  # unallocated number (cause 1 etc.)
    MACHINE = "machine"  # AMD said machine
    ABANDONED = "abandoned"  # person answered, no agent within the connect limit
    HANGUP_WAITING = "hangup_waiting"  # person hung up while waiting for an agent
    LOST = "lost"  # we lost track (AMI connection lost / restart): outcome unknown
    # The PBX shut down or restarted under the call (``core stop/restart now``): it was cut,
    # not abandoned by us nor left by the person (ami.client tells it from the Shutdown event
    # or an action refused "shutting down"); a call that had reached an agent stays CONNECTED.
    PBX_SHUTDOWN = "pbx_shutdown"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    attempt_id: str
    outcome: Outcome
    reason: int | None  # OriginateResponse Reason code
    cause: int | None  # Q.850 hangup cause of the far end (the ;2 half)
    cause_txt: str | None
    agent: str | None  # queue member interface / agent that took the call
    ring_s: float | None  # originate -> answer (or -> failure)
    wait_s: float | None  # answer -> agent connected (or -> abandon/hangup)
    talk_s: float | None  # agent connected -> hangup
    uniqueid: str | None
    linkedid: str | None
    amd_status: str | None  # AMDSTATUS / AMDCAUSE when AMD ran
    amd_cause: str | None
    # An abandon the dialplan announced (our DialerAbandon UserEvent, sent right before the
    # information message plays): the message was played. False for an abandon by our own
    # hang-up, and for every other ending (the compliance audit, issue 11).
    info_message: bool = False


@dataclass(frozen=True, slots=True)
class Answered:
    attempt_id: str
    at_s: float


@dataclass(frozen=True, slots=True)
class AmdDetected:
    attempt_id: str
    status: str
    cause: str | None
    at_s: float


@dataclass(frozen=True, slots=True)
class AgentConnected:
    attempt_id: str
    agent: str | None
    at_s: float
    wait_s: float | None


@dataclass(frozen=True, slots=True)
class Ended:
    outcome: CallOutcome


AttemptUpdate = Answered | AmdDetected | AgentConnected | Ended


class CallState(enum.Enum):
    DIALING = "dialing"  # originate sent, nobody answered yet
    ANSWERED = "answered"  # the customer is up; AMD may be running
    WAITING = "waiting"  # a person is waiting for an agent (queue or reserved agent)
    ABANDONING = "abandoning"  # QueueCallerAbandon seen: our timeout or their hang-up?
    CONNECTED = "connected"  # talking to an agent
    CLEARING = "clearing"  # the outcome is decided; waiting for the last hang-ups
    ENDED = "ended"  # final: no transitions out (the machine ignores input here)


class Signal(enum.Enum):
    ORIGINATE_REJECTED = "originate_rejected"  # the Originate action got Response: Error
    ORIGINATE_FAILED = "originate_failed"  # OriginateResponse: Failure
    ANSWER = "answer"
    AMD_HUMAN = "amd_human"
    AMD_MACHINE = "amd_machine"
    QUEUE_JOIN = "queue_join"
    QUEUE_ABANDON = "queue_abandon"  # QueueCallerAbandon (ambiguous, fact 5)
    DIALER_ABANDON = "dialer_abandon"  # our UserEvent: no agent in time, message played
    AGENT_ANSWER = "agent_answer"
    AGENT_COMPLETE = "agent_complete"
    CUSTOMER_HANGUP = "customer_hangup"  # the far end's half hung up first
    DIALER_HANGUP = "dialer_hangup"  # our (;1) half hung up first


class Verdict(enum.Enum):
    """What the outcome will be once the call has cleared."""

    FROM_CODES = "from_codes"  # a failed originate: Reason + far-end cause decide at the end
    FAILED = "failed"
    CONNECTED = "connected"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    HANGUP_WAITING = "hangup_waiting"


_S, _G, _V = CallState, Signal, Verdict
_Entry = tuple[CallState, Verdict | None]


def _stay(state: CallState, *signals: Signal) -> dict[tuple[CallState, Signal], _Entry]:
    return {(state, sig): (state, None) for sig in signals}


# The transition table: (state, signal) -> (new state, verdict decided by this step).
# Every (non-final state, signal) pair has an entry — real Asterisk reorders messages
# (fact 1), so "this cannot happen here" is written down as an explicit "stay", and a test
# checks the table is complete; ENDED has no entries, so stepping past the end raises.
_TRANSITIONS: dict[tuple[CallState, Signal], _Entry] = {
    # Dialling: only the OriginateResponse decides a failure (its Reason is the reliable
    # classifier, fact 2); hang-ups before it just record their causes.
    (_S.DIALING, _G.ANSWER): (_S.ANSWERED, None),
    (_S.DIALING, _G.ORIGINATE_FAILED): (_S.CLEARING, _V.FROM_CODES),
    (_S.DIALING, _G.ORIGINATE_REJECTED): (_S.CLEARING, _V.FAILED),
    # A reserved agent's Dial answered before any other sign of the customer's answer is
    # impossible; but if the ;1 Newstate Up was missed, the agent answering proves it.
    (_S.DIALING, _G.AGENT_ANSWER): (_S.CONNECTED, None),
    **_stay(
        _S.DIALING,
        _G.AMD_HUMAN,
        _G.AMD_MACHINE,
        _G.QUEUE_JOIN,
        _G.QUEUE_ABANDON,
        _G.DIALER_ABANDON,
        _G.AGENT_COMPLETE,
        _G.CUSTOMER_HANGUP,
        _G.DIALER_HANGUP,
    ),
    # Answered: AMD may run, then the queue or a reserved agent.
    (_S.ANSWERED, _G.AMD_HUMAN): (_S.WAITING, None),
    (_S.ANSWERED, _G.AMD_MACHINE): (_S.CLEARING, _V.MACHINE),
    (_S.ANSWERED, _G.QUEUE_JOIN): (_S.WAITING, None),
    (_S.ANSWERED, _G.QUEUE_ABANDON): (_S.ABANDONING, None),
    (_S.ANSWERED, _G.DIALER_ABANDON): (_S.CLEARING, _V.ABANDONED),
    (_S.ANSWERED, _G.AGENT_ANSWER): (_S.CONNECTED, None),
    (_S.ANSWERED, _G.CUSTOMER_HANGUP): (_S.CLEARING, _V.HANGUP_WAITING),
    # We hung up a live answer without an agent: that is the definition of an abandon.
    (_S.ANSWERED, _G.DIALER_HANGUP): (_S.CLEARING, _V.ABANDONED),
    **_stay(_S.ANSWERED, _G.ANSWER, _G.ORIGINATE_FAILED, _G.ORIGINATE_REJECTED, _G.AGENT_COMPLETE),
    # Waiting for an agent.
    (_S.WAITING, _G.AGENT_ANSWER): (_S.CONNECTED, None),
    (_S.WAITING, _G.QUEUE_ABANDON): (_S.ABANDONING, None),
    (_S.WAITING, _G.DIALER_ABANDON): (_S.CLEARING, _V.ABANDONED),
    (_S.WAITING, _G.CUSTOMER_HANGUP): (_S.CLEARING, _V.HANGUP_WAITING),
    (_S.WAITING, _G.DIALER_HANGUP): (_S.CLEARING, _V.ABANDONED),
    (_S.WAITING, _G.AMD_MACHINE): (_S.CLEARING, _V.MACHINE),
    **_stay(
        _S.WAITING,
        _G.ANSWER,
        _G.AMD_HUMAN,
        _G.QUEUE_JOIN,
        _G.ORIGINATE_FAILED,
        _G.ORIGINATE_REJECTED,
        _G.AGENT_COMPLETE,
    ),
    # QueueCallerAbandon seen: the next decisive sign tells whose decision it was (fact 5).
    (_S.ABANDONING, _G.DIALER_ABANDON): (_S.CLEARING, _V.ABANDONED),
    (_S.ABANDONING, _G.DIALER_HANGUP): (_S.CLEARING, _V.ABANDONED),
    (_S.ABANDONING, _G.CUSTOMER_HANGUP): (_S.CLEARING, _V.HANGUP_WAITING),
    # The dialplan may try the queue again (or a reserved agent) after a timeout.
    (_S.ABANDONING, _G.AGENT_ANSWER): (_S.CONNECTED, None),
    (_S.ABANDONING, _G.QUEUE_JOIN): (_S.WAITING, None),
    **_stay(
        _S.ABANDONING,
        _G.ANSWER,
        _G.AMD_HUMAN,
        _G.AMD_MACHINE,
        _G.QUEUE_ABANDON,
        _G.ORIGINATE_FAILED,
        _G.ORIGINATE_REJECTED,
        _G.AGENT_COMPLETE,
    ),
    # Talking to an agent: whoever hangs up (or the queue reporting completion) ends it.
    (_S.CONNECTED, _G.CUSTOMER_HANGUP): (_S.CLEARING, _V.CONNECTED),
    (_S.CONNECTED, _G.DIALER_HANGUP): (_S.CLEARING, _V.CONNECTED),
    (_S.CONNECTED, _G.AGENT_COMPLETE): (_S.CLEARING, _V.CONNECTED),
    **_stay(
        _S.CONNECTED,
        _G.ANSWER,
        _G.AMD_HUMAN,
        _G.AMD_MACHINE,
        _G.QUEUE_JOIN,
        _G.QUEUE_ABANDON,
        _G.DIALER_ABANDON,
        _G.AGENT_ANSWER,
        _G.ORIGINATE_FAILED,
        _G.ORIGINATE_REJECTED,
    ),
    # Decided: only bookkeeping (causes, the OriginateResponse) until the call has cleared.
    **_stay(_S.CLEARING, *Signal),
}


def transition(state: CallState, signal: Signal) -> _Entry:
    """Look up one step of the table.

    Raises:
        IllegalTransition: the table has no entry for ``(state, signal)``.
    """
    try:
        return _TRANSITIONS[(state, signal)]
    except KeyError:
        raise IllegalTransition(state, signal) from None


_FROM_REASON: dict[ReasonClass, Outcome] = {
    ReasonClass.BUSY: Outcome.BUSY,
    ReasonClass.NO_ANSWER: Outcome.NO_ANSWER,
    ReasonClass.CONGESTION: Outcome.CONGESTION,
}
_FROM_CAUSE: dict[CauseClass, Outcome] = {
    CauseClass.BUSY: Outcome.BUSY,
    CauseClass.NO_ANSWER: Outcome.NO_ANSWER,
    CauseClass.CONGESTION: Outcome.CONGESTION,
    CauseClass.INVALID_NUMBER: Outcome.INVALID_NUMBER,
    CauseClass.FAILED: Outcome.FAILED,
    CauseClass.NORMAL: Outcome.FAILED,
    CauseClass.UNKNOWN: Outcome.FAILED,
}
# Reason 1 (the far end hung up before answering) with a normal clearing: it was offered
# the call and let it go — for redialling purposes that is no answer, not a broken line.
_AFTER_FAR_HANGUP: dict[CauseClass, Outcome] = {CauseClass.NORMAL: Outcome.NO_ANSWER}
_REASON_FAR_HANGUP = 1


# A Dial()'s DIALSTATUS, used only when neither the Reason nor the cause says anything. Only
# the unambiguous ones: NOANSWER is not (fact 4: the Originate's DialEnd says NOANSWER for an
# unallocated number), CHANUNAVAIL/CANCEL are failures anyway.
_FROM_DIAL_STATUS: dict[str, Outcome] = {"BUSY": Outcome.BUSY, "CONGESTION": Outcome.CONGESTION}


def classify_failure(reason: int | None, cause: int | None, dial_status: str | None = None) -> Outcome:
    """Outcome of an Originate that was not answered, from its Reason and the far-end cause.

    A cause that says the number itself is wrong wins (a trunk may re-signal an unallocated
    number as congestion); otherwise a decisive Reason (busy, ring timeout, congestion) wins
    (fact 2: the ``;1`` cause is 0 for those); otherwise the cause's class decides, and when
    the cause says nothing (0, or a normal clearing) a BUSY/CONGESTION ``dial_status`` does.
    """
    cause_class = hangup_cause(cause).klass if cause is not None else CauseClass.UNKNOWN
    if cause_class is CauseClass.INVALID_NUMBER:
        return Outcome.INVALID_NUMBER
    reason_class = originate_reason(reason).klass if reason is not None else ReasonClass.BY_CAUSE
    by_reason = _FROM_REASON.get(reason_class)
    if by_reason is not None:
        return by_reason
    if cause_class in (CauseClass.UNKNOWN, CauseClass.NORMAL) and dial_status in _FROM_DIAL_STATUS:
        return _FROM_DIAL_STATUS[dial_status]
    if reason == _REASON_FAR_HANGUP and cause_class in _AFTER_FAR_HANGUP:
        return _AFTER_FAR_HANGUP[cause_class]
    return _FROM_CAUSE[cause_class]


_VERDICT_OUTCOME: dict[Verdict, Outcome] = {
    Verdict.FAILED: Outcome.FAILED,
    Verdict.CONNECTED: Outcome.CONNECTED,
    Verdict.MACHINE: Outcome.MACHINE,
    Verdict.ABANDONED: Outcome.ABANDONED,
    Verdict.HANGUP_WAITING: Outcome.HANGUP_WAITING,
}


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _agent_from_channel(channel: str | None) -> str | None:
    """``Local/agent1@sim-agents-00000006;1`` -> ``Local/agent1@sim-agents`` (the interface)."""
    if not channel:
        return None
    base = channel.split(";", 1)[0]
    head, dash, tail = base.rpartition("-")
    if dash and tail and all(c in "0123456789abcdef" for c in tail.lower()):
        return head
    return base


class AttemptMachine:
    """The outcome state machine of one originated attempt (see the module docstring).

    Args:
        attempt_id: ours, echoed in every update.
        action_id: the Originate's ActionID (``Response``/``OriginateResponse`` carry it).
        channel_id: the Originate's ChannelId: the ``;1`` Uniqueid (``;2`` gets a suffix).
        started_at_s: when the Originate was sent, on the caller's clock.
    """

    def __init__(
        self,
        attempt_id: str,
        *,
        action_id: str,
        channel_id: str,
        started_at_s: float,
        machine_to_agent: bool = False,
    ) -> None:
        # AMD action "agent": the dialplan hands a machine to an agent like a person, so the
        # verdict MACHINE is a label (kept in the outcome's amd_status), not the call's end.
        self.machine_to_agent = machine_to_agent
        self.attempt_id = attempt_id
        self.action_id = action_id
        self.channel_id = channel_id
        self.started_at_s = started_at_s
        self.state = CallState.DIALING
        self.done = False
        self.outcome: CallOutcome | None = None
        self._one = channel_id
        self._two = channel_id + LOCAL_HALF_TWO_SUFFIX
        self._verdict: Verdict | None = None
        self._verdict_at: float | None = None
        self._decided_by: Signal | None = None
        self._opened: set[str] = set()
        self._hung: dict[str, tuple[int | None, str | None, float]] = {}
        self._response_seen = False
        self._response_at: float | None = None
        self._reason: int | None = None
        self._linkedid: str | None = None
        self._answered_at: float | None = None
        self._connected_at: float | None = None
        self._talk_end_at: float | None = None
        self._queue_abandon_at: float | None = None
        self._agent: str | None = None
        self._agent_by_dest: dict[str, str] = {}
        self._amd_status: str | None = None
        self._amd_cause: str | None = None
        self._agent_complete = False
        self._optimized = False
        # Channels of this call still up (Linkedid == our ChannelId: trunk and agent legs too);
        # only consulted once a Local optimisation took our halves out of the call.
        self._linked: set[str] = set()
        self._amd_reported = False
        self._amd_var_status: str | None = None
        self._dial_status: str | None = None
        self._amd_at = 0.0
        # When a message about this call last arrived (the in-flight audit asks the PBX about
        # calls quiet for long: ami.inflight).
        self.last_event_at_s = started_at_s
        self._info_message = False

    # ----------------------------------------------------------------- feeding

    def feed(self, msg: AmiMessage, at_s: float) -> list[AttemptUpdate]:
        """Consume one message routed to this attempt; return the progress it makes.

        Unknown events are ignored; anything after :class:`Ended` yields nothing.
        """
        if self.done:
            return []
        self.last_event_at_s = at_s
        updates: list[AttemptUpdate] = []
        for signal in self._signals(msg, at_s):
            self._apply(signal, at_s, updates)
        self._maybe_end(at_s, updates)
        return updates

    def lost(self, at_s: float) -> list[AttemptUpdate]:
        """The AMI connection was lost or the PBX restarted: the outcome is unknown.

        Returns ``[Ended(LOST)]`` keeping what was learnt so far, or ``[]`` if already ended.
        """
        if self.done:
            return []
        return [self._end(Outcome.LOST, at_s)]

    def settle(self, at_s: float) -> list[AttemptUpdate]:
        """Give up waiting for the last hang-ups: end with the decided outcome, else LOST.

        For the shell's safety timer: an outcome that is decided (say busy, waiting only for
        the far end's cause) is not thrown away because a Hangup never arrived.
        """
        if self.done:
            return []
        if self.state is CallState.CLEARING and self._verdict is not None:
            return [self._end(self._decided_outcome(), at_s)]
        return self.lost(at_s)

    @property
    def ended_by_hangup(self) -> bool:
        """The outcome was decided by a channel hanging up, not by anyone's signalling.

        A call in the queue whose halves hang up, or a ringing call the PBX hung up
        (OriginateResponse Reason 1), may have been cut by a PBX shutting down: Asterisk hangs
        every channel up *before* it sends its ``Shutdown`` event, so the shell holds such an
        ending briefly to see whether a shutdown explains it.
        """
        by = self._decided_by
        if by in (Signal.CUSTOMER_HANGUP, Signal.DIALER_HANGUP):
            return True
        return by is Signal.ORIGINATE_FAILED and self._reason == _REASON_FAR_HANGUP

    def resync(self, channels: Sequence[AmiMessage], at_s: float) -> list[AttemptUpdate]:
        """Catch up with the PBX's own list of this call's channels (``CoreShowChannel`` rows).

        For when messages may have been missed (the AMI connection dropped, an engine adopts
        a call another one placed): ``channels`` are the rows of this call's channels still up
        (our halves, and every channel whose ``Linkedid`` is our ChannelId). What the list
        proves is applied as the events would have been: our ``;1`` Up is the answer; ``;1``
        in a bridge (it only enters one with an agent) or our halves gone while other channels
        of the call go on (a Local optimisation) is the agent connect; a channel we thought up
        and that is not listed hung up (a synthetic Hangup, cause unknown). A call with no
        channel left ends: with its decided outcome, as ``connected`` if it had reached an
        agent, else ``lost`` (gone, and no evidence of how).
        """
        if self.done:
            return []
        self.last_event_at_s = at_s
        live = {m.get("Uniqueid") or "": m for m in channels}
        one = live.get(self._one)
        updates: list[AttemptUpdate] = []
        for uid in (self._one, self._two):
            if uid in live:
                self._opened.add(uid)
        others = {u for u, m in live.items() if u not in (self._one, self._two) and u}
        # Our pair swapped out while the rest of the call goes on: only a call answered and
        # bridged to an agent is optimised (fact 11).
        swapped = bool(others) and self._one not in live and self._two not in live
        if swapped or (one is not None and one.get("ChannelState") == _CHANNEL_STATE_UP):
            self._apply(Signal.ANSWER, at_s, updates)
        if self._answered_at is not None:
            self._response_seen = True  # Asterisk sends the OriginateResponse at the answer
            self._optimized = self._optimized or swapped
        bridge = one.get("BridgeId") if one is not None else None
        if (bridge or self._optimized) and self.state in (
            CallState.DIALING,
            CallState.ANSWERED,
            CallState.WAITING,
            CallState.ABANDONING,
        ):
            for m in channels:
                if bridge and m.get("BridgeId") == bridge and m.get("Uniqueid") != self._one:
                    self._agent = self._agent or _agent_from_channel(m.get("Channel"))
            self._apply(Signal.AGENT_ANSWER, at_s, updates)
        if not live:
            # Gone, and which side left first is unknown: only what was decided stands.
            if self.state is CallState.CONNECTED:
                self._talk_end_at = at_s
                return [*updates, self._end(Outcome.CONNECTED, at_s)]
            return updates + self.settle(at_s)
        gone = [u for u in self._linked if u not in live]
        self._linked |= others
        halves = (self._two, self._one)
        gone += [u for u in halves if u in self._opened and u not in self._hung and u not in live]
        for uid in gone:
            for signal in self._on_hangup(AmiMessage.of(Event="Hangup", Uniqueid=uid), at_s):
                self._apply(signal, at_s, updates)
        self._maybe_end(at_s, updates)
        return updates

    @property
    def linked_ids(self) -> frozenset[str]:
        """Uniqueids of the call's other channels (Linkedid = our ChannelId) seen up."""
        return frozenset(self._linked)

    def channel_ids(self) -> list[str]:
        """For a hand-over record: our ChannelId (every channel of the call has it as its
        Linkedid, even after an optimisation), then the Uniqueids of the channels believed up."""
        ids = [u for u in (self._two,) if u in self._opened and u not in self._hung]
        return [self._one, *ids, *sorted(self._linked)]

    @property
    def decided(self) -> bool:
        """The outcome is known; only the last hang-ups (and their causes) are awaited."""
        return self.done or (self.state is CallState.CLEARING and self._verdict is not None)

    # ----------------------------------------------------------------- reading messages

    def _signals(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        event = msg.event
        if event is None:
            if msg.response is not None and msg.action_id == self.action_id:
                if msg.response.lower() == "error":
                    self._response_seen, self._response_at = True, at_s
                    return [Signal.ORIGINATE_REJECTED]
            return []
        reader = _READERS.get(event.lower())
        return reader(self, msg, at_s) if reader else []

    def _on_newchannel(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        uid = msg.get("Uniqueid")
        if uid and msg.get("Linkedid") == self._one:
            self._linked.add(uid)
        if uid == self._one or uid == self._two:
            self._opened.add(uid)
            if uid == self._one:
                self._linkedid = msg.get("Linkedid") or self._linkedid
                if (msg.get("Channel") or "").startswith("Local/"):
                    self._opened.add(self._two)
        return []

    def _on_newstate(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        uid = msg.get("Uniqueid")
        if uid == self._one:
            self._opened.add(uid)
            if msg.get("ChannelState") == _CHANNEL_STATE_UP:
                return [Signal.ANSWER]
        elif uid == self._two:
            self._opened.add(uid)
        return []

    def _on_originate_response(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        if msg.action_id != self.action_id and msg.get("Uniqueid") != self._one:
            return []
        self._response_seen = True
        self._response_at = at_s
        self._reason = _int_or_none(msg.get("Reason"))
        answered = self._reason is not None and originate_reason(self._reason).klass is ReasonClass.ANSWERED
        if answered or (msg.get("Response") or "").lower() == "success":
            # Success names the real channel (fact 3), so it exists; a Local one has two halves.
            self._opened.add(self._one)
            if (msg.get("Channel") or "").startswith("Local/"):
                self._opened.add(self._two)
            return [Signal.ANSWER]
        # Failure names the dial string and echoes our ChannelId as Uniqueid whether or not a
        # channel was ever created (an unknown endpoint creates none), so it proves nothing:
        # only the channels we saw are waited for. A channel is announced (Newchannel) when it
        # is created, long before its dial can fail.
        return [Signal.ORIGINATE_FAILED]

    def _on_dial_begin(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        # Our ;1 dialling out is the hand-off to an agent (Queue member or reserved agent).
        if msg.get("Uniqueid") == self._one:
            dest = msg.get("DestUniqueid")
            if dest and dest not in self._agent_by_dest:
                agent = _agent_from_channel(msg.get("DestChannel")) or msg.get("DialString")
                if agent:
                    self._agent_by_dest[dest] = agent
        return []

    def _on_dial_end(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        status = (msg.get("DialStatus") or "").strip().upper()
        uid = msg.get("Uniqueid")
        if status != "ANSWER":
            # The dial towards the customer: the trunk Dial() of our ;2 half, or the
            # Originate's own dial (only Dest* headers). Kept as a last-resort classifier.
            if uid == self._two or (uid is None and msg.get("DestUniqueid") == self._one):
                self._dial_status = self._dial_status or status
            return []
        if uid is None and msg.get("DestUniqueid") == self._one:
            return [Signal.ANSWER]  # the Originate's own dial (fact 4: only Dest* headers)
        if uid == self._one:
            dest = msg.get("DestUniqueid") or ""
            self._agent = (
                self._agent or self._agent_by_dest.get(dest) or _agent_from_channel(msg.get("DestChannel"))
            )
            return [Signal.AGENT_ANSWER]
        return []

    def _on_agent_called(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        dest, interface = msg.get("DestUniqueid"), msg.get("Interface")
        if dest and interface:
            self._agent_by_dest[dest] = interface
        return []

    def _on_agent_connect(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        self._agent = msg.get("Interface") or self._agent
        return [Signal.AGENT_ANSWER]

    def _on_agent_complete(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        self._agent = self._agent or msg.get("Interface")
        if self._optimized and self._linked:
            # Queue() follows the swap by the same LocalOptimizationEnd "Success" that lies
            # (fact 11), so its AgentComplete may name the optimised-away ;1 leaving while the
            # customer and the agent still talk: only the call's last channel ends it then.
            return []
        self._agent_complete = True
        return [Signal.AGENT_COMPLETE]

    def _on_queue_join(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        return [Signal.QUEUE_JOIN]

    def _on_queue_abandon(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        if self._queue_abandon_at is None:
            self._queue_abandon_at = at_s
        return [Signal.QUEUE_ABANDON]

    def _on_user_event(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        name = msg.get("UserEvent")
        if name == USER_EVENT_AMD:
            status = (msg.get(AMD_STATUS_HEADER) or "").strip().upper()
            if self._amd_status is None:
                self._amd_status = status
                self._amd_cause = msg.get(AMD_CAUSE_HEADER) or None
                self._amd_at = at_s
            return [Signal.AMD_MACHINE if status == AMD_MACHINE else Signal.AMD_HUMAN]
        if name == USER_EVENT_ABANDON:
            return [Signal.DIALER_ABANDON]
        return []

    def _on_var_set(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        # Only seen when the "dialplan" read class is granted (fact 6): AMD() sets AMDSTATUS
        # then AMDCAUSE on the answered ;1 half, so a dialplan without our UserEvent still
        # reports its result. The first report (VarSet or UserEvent) is the one kept.
        if msg.get("Uniqueid") != self._one:
            return []
        variable, value = (msg.get("Variable") or "").upper(), msg.get("Value") or ""
        if variable == "AMDSTATUS":
            self._amd_var_status = value.strip().upper()
        elif variable == "AMDCAUSE" and self._amd_var_status and self._amd_status is None:
            self._amd_status, self._amd_cause, self._amd_at = self._amd_var_status, value or None, at_s
            return [Signal.AMD_MACHINE if self._amd_status == AMD_MACHINE else Signal.AMD_HUMAN]
        return []

    def _on_local_optimization(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        # A Local pair of this call is being optimised away (fact 11): LocalOptimizationBegin
        # names the pair (LocalOne*/LocalTwo*) and the channel swapped in (Source*). Ours: its
        # halves then hang up while the conversation goes on between the other channels. An
        # agent's (a Local queue member): Queue() follows it by the same unreliable
        # ``Success`` and may report AgentComplete while the agent still talks. Either way a
        # half's Hangup or AgentComplete no longer ends the call; its last channel does.
        # LocalOptimizationEnd's ``Success`` is no evidence: Asterisk 22 says "No" even when
        # the swap worked (bridge.c try_swap_optimize_out), and a swap that really failed
        # leaves the pair in the call, hanging up with everyone else when it ends.
        ids = {msg.get("LocalOneUniqueid"), msg.get("LocalTwoUniqueid")}
        linked = {msg.get("LocalOneLinkedid"), msg.get("LocalTwoLinkedid")}
        if self._one in ids or self._two in ids or self._one in linked or ids & self._linked:
            self._optimized = True
        return []

    def _on_bridge_enter(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        # A channel entering a bridge in place of one of our call's (``SwapUniqueid``) is the
        # swap itself, even if the LocalOptimizationBegin before it was missed.
        swapped = msg.get("SwapUniqueid")
        if swapped and (swapped in (self._one, self._two) or swapped in self._linked):
            self._optimized = True
        return []

    def _on_hangup(self, msg: AmiMessage, at_s: float) -> list[Signal]:
        uid = msg.get("Uniqueid")
        if uid in self._linked:
            self._linked.discard(uid)
            if self._optimized and not self._linked:
                return [Signal.CUSTOMER_HANGUP]  # the last channel of the call is gone
        if uid not in (self._one, self._two) or uid in self._hung:
            return []
        self._opened.add(uid)
        self._hung[uid] = (_int_or_none(msg.get("Cause")), msg.get("Cause-txt"), at_s)
        if self._optimized:
            return []  # the halves leave an optimised-away call that goes on without them
        is_local = self._two in self._opened
        if uid == self._two:
            # The far end's half hung up while ours was still up: the customer left.
            return [] if self._one in self._hung else [Signal.CUSTOMER_HANGUP]
        if not is_local:
            return [Signal.CUSTOMER_HANGUP]  # one channel only: it is the customer's
        return [] if self._two in self._hung else [Signal.DIALER_HANGUP]

    # ----------------------------------------------------------------- stepping

    def _apply(self, signal: Signal, at_s: float, updates: list[AttemptUpdate]) -> None:
        before = self.state
        step = Signal.AMD_HUMAN if signal is Signal.AMD_MACHINE and self.machine_to_agent else signal
        new_state, verdict = transition(before, step)
        if signal is Signal.ANSWER and self._answered_at is None and before is CallState.DIALING:
            self._answered_at = at_s
            updates.append(Answered(self.attempt_id, at_s))
        if signal in (Signal.AMD_HUMAN, Signal.AMD_MACHINE) and not self._amd_reported:
            self._amd_reported = True
            updates.append(
                AmdDetected(self.attempt_id, self._amd_status or "", self._amd_cause, self._amd_at)
            )
        if new_state is CallState.CONNECTED and before is not CallState.CONNECTED:
            if self._answered_at is None:
                self._answered_at = at_s
                updates.append(Answered(self.attempt_id, at_s))
            self._connected_at = at_s
            wait = at_s - self._answered_at
            updates.append(AgentConnected(self.attempt_id, self._agent, at_s, wait))
        if before is CallState.CONNECTED and new_state is CallState.CLEARING:
            self._talk_end_at = at_s
        if verdict is not None:
            self._verdict, self._verdict_at, self._decided_by = verdict, at_s, signal
        if signal is Signal.DIALER_ABANDON:
            self._info_message = True
        self.state = new_state

    def _cleared(self) -> bool:
        if not self._response_seen:
            return False
        if self._optimized:
            return not self._linked
        return all(uid in self._hung for uid in self._opened)

    def _maybe_end(self, at_s: float, updates: list[AttemptUpdate]) -> None:
        if self.state is not CallState.CLEARING or self._verdict is None or not self._cleared():
            return
        updates.append(self._end(self._decided_outcome(), at_s))

    def _decided_outcome(self) -> Outcome:
        assert self._verdict is not None
        if self._verdict is Verdict.FROM_CODES:
            cause, _ = self._far_cause()
            return classify_failure(self._reason, cause, self._dial_status)
        return _VERDICT_OUTCOME[self._verdict]

    # ----------------------------------------------------------------- the result

    def _far_cause(self) -> tuple[int | None, str | None]:
        """The far end's cause: the ``;2`` half's, else ours when it says more than 0."""
        two, one = self._hung.get(self._two), self._hung.get(self._one)
        for half in (two, one):
            if half is not None and half[0]:
                return half[0], half[1]
        for half in (two, one):
            if half is not None:
                return half[0], half[1]
        return None, None

    def _end(self, outcome: Outcome, at_s: float) -> Ended:
        cause, cause_txt = self._far_cause()
        answered = self._answered_at
        if answered is not None:
            ring = answered - self.started_at_s
        else:
            instants = [t for (_, _, t) in self._hung.values()]
            if self._response_at is not None:
                instants.append(self._response_at)
            ring = (min(instants) if instants else at_s) - self.started_at_s
        wait: float | None = None
        talk: float | None = None
        if answered is not None:
            if self._connected_at is not None:
                wait = self._connected_at - answered
                talk = (self._talk_end_at if self._talk_end_at is not None else at_s) - self._connected_at
            elif outcome in (Outcome.ABANDONED, Outcome.HANGUP_WAITING):
                stop = self._queue_abandon_at if outcome is Outcome.ABANDONED else None
                stop = stop if stop is not None else self._verdict_at
                wait = (stop if stop is not None else at_s) - answered
        result = CallOutcome(
            attempt_id=self.attempt_id,
            outcome=outcome,
            reason=self._reason,
            cause=cause,
            cause_txt=cause_txt,
            agent=self._agent if self._connected_at is not None else None,
            ring_s=ring,
            wait_s=wait,
            talk_s=talk,
            uniqueid=self._one if self._one in self._opened else None,
            linkedid=self._linkedid or (self._one if self._one in self._opened else None),
            amd_status=self._amd_status,
            amd_cause=self._amd_cause,
            info_message=self._info_message and outcome is Outcome.ABANDONED,
        )
        self.done = True
        self.outcome = result
        self.state = CallState.ENDED
        return Ended(result)


_READERS: dict[str, Callable[[AttemptMachine, AmiMessage, float], list[Signal]]] = {
    "newchannel": AttemptMachine._on_newchannel,
    "newstate": AttemptMachine._on_newstate,
    "originateresponse": AttemptMachine._on_originate_response,
    "dialbegin": AttemptMachine._on_dial_begin,
    "dialend": AttemptMachine._on_dial_end,
    "agentcalled": AttemptMachine._on_agent_called,
    "agentconnect": AttemptMachine._on_agent_connect,
    "agentcomplete": AttemptMachine._on_agent_complete,
    "queuecallerjoin": AttemptMachine._on_queue_join,
    "queuecallerabandon": AttemptMachine._on_queue_abandon,
    "userevent": AttemptMachine._on_user_event,
    "localoptimizationbegin": AttemptMachine._on_local_optimization,
    "localoptimizationend": AttemptMachine._on_local_optimization,
    "bridgeenter": AttemptMachine._on_bridge_enter,
    "varset": AttemptMachine._on_var_set,
    "hangup": AttemptMachine._on_hangup,
}
