"""One simulated outbound call: the events the dialer dialplan produces on Asterisk 22.

Theory of operation: a :class:`SimCall` is a little script driven by timers
(``loop.call_later`` through :meth:`SimulatedPbx.later`, never a task per call), so the
simulator holds thousands of calls. Each step emits the events the captured dialplan
emits at that point, in the order of ``shared/ami-transcripts/originate-*.txt``:

* origination: the Local pair ``;1``/``;2`` (``ChannelId`` gives the Uniqueids), LocalBridge,
  the Originate's own DialBegin (``Dest*`` headers only);
* the far end (``sim-pstn`` semantics, chosen by :mod:`ami.simulator.population`): ring,
  answer, busy, congestion, unallocated (cause 1) or ring until the Originate Timeout. When
  the trunk context is not ``sim-pstn`` the call goes through a trunk context as in the
  ``originate-via-dial-*`` captures: ``;2`` Dial()s an inner Local pair and re-signals
  failures to the originated leg;
* after the answer, on ``;1``: optional AMD() with UserEvent DialerAMD, then the campaign
  queue with its connect limit (QueueCallerJoin, AgentCalled/AgentConnect/AgentComplete),
  or UserEvent DialerAbandon and a 1 s message when no agent took the call in time;
* hang-ups from either side with the causes where Asterisk puts them (fact 2 of the
  transcripts' README: the real cause is on ``;2``);
* Local channel optimization (fact 11, ``originate-local-optimized-reserved-agent.txt``):
  when the originated pair sits between two bridges — ``;2`` with the trunk leg, ``;1`` with
  the agent — and the far end sends media, Asterisk swaps the trunk leg into the agent's
  bridge, reports LocalOptimizationEnd ``Success: No`` and hangs up both halves at once; the
  customer and the agent talk on until one of them hangs up. A ``/n`` on the originated
  channel (``Local/...@dialer-out/n``) prevents it, as in Asterisk.

OriginateResponse is placed where the captures mostly show it; the README's fact 1 says
clients must not rely on its position anyway.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ami.simulator.channels import (
    CAUSE_TEXT,
    STATE_BUSY,
    STATE_DOWN,
    STATE_RING,
    STATE_RINGING,
    STATE_UP,
    SimChannel,
)
from ami.simulator.population import Behaviour, FarEnd
from ami.simulator.queues import DEVICE_INUSE, DEVICE_NOT_INUSE, SimMember, SimQueue

if TYPE_CHECKING:
    from ami.simulator.server import SimulatedPbx

CALL = "call,all"
AGENT = "agent,all"
USER = "user,all"

# OriginateResponse Reason codes (Asterisk AST_CONTROL_*; transcripts' README fact 2).
REASON_FAILED = 0
REASON_HANGUP = 1
REASON_NO_ANSWER = 3
REASON_ANSWERED = 4
REASON_BUSY = 5
REASON_CONGESTION = 8

# The message AMD action "message" leaves on a machine: the greeting's end and the recording
# (simulated seconds; a real one lasts as long as its sound file).
AMD_MESSAGE_S = 3.0
# The abandon message of dialer-connect lasts 1 s (Playback(dialer-abandon-msg), capture).
ABANDON_MESSAGE_S = 1.0
# Local optimization comes ~40 ms after the agent's BridgeEnter, when the first frames pass
# (originate-local-optimized-reserved-agent.txt: +2.005 s -> +2.046 s).
OPTIMIZE_AFTER_S = 0.04
# Default connect limit: 2 s, the legal limit for connecting an answered call to an agent
# (DESIGN.md regulatory facts; the dialplan's DIALER_QUEUE_TIMEOUT default).
DEFAULT_QUEUE_TIMEOUT_S = 2.0


class CallState(enum.Enum):
    DIALING = "dialing"
    RINGING = "ringing"
    AMD = "amd"
    QUEUED = "queued"
    AGENT_RINGING = "agent_ringing"
    BRIDGED = "bridged"
    ABANDON_MESSAGE = "abandon_message"
    DONE = "done"


class SimCall:
    """The script of one originated call; owned by the :class:`SimulatedPbx`."""

    def __init__(
        self,
        pbx: SimulatedPbx,
        *,
        action_id: str,
        tech: str,
        number: str,
        trunk: str,
        context: str,
        exten: str,
        timeout_s: float,
        cid_num: str,
        cid_name: str,
        channel_id: str | None,
        variables: dict[str, str],
        behaviour: Behaviour,
        local_options: str = "",
    ) -> None:
        self.pbx = pbx
        self.action_id = action_id
        self.number = number
        self.trunk = trunk
        self.context = context
        self.exten = exten
        self.timeout_s = timeout_s
        self.variables = variables
        self.behaviour = behaviour
        self.state = CallState.DIALING
        self.via_trunk = tech == "Local" and trunk != "sim-pstn"
        self.single_channel = tech != "Local"
        self.amd = context.endswith("-amd") or variables.get("DIALER_AMD", "") in ("1", "yes", "true")
        # asterisk-conf/extensions.conf: QNAME = DIALER_QUEUE, else DIALER_CAMPAIGN
        self.queue_name = variables.get("DIALER_QUEUE") or variables.get("DIALER_CAMPAIGN") or "campaign1"
        try:
            self.queue_timeout_s = float(variables.get("DIALER_QUEUE_TIMEOUT") or DEFAULT_QUEUE_TIMEOUT_S)
        except ValueError:
            self.queue_timeout_s = DEFAULT_QUEUE_TIMEOUT_S
        self.reserved_agent = variables.get("DIALER_AGENT") or None
        self.timers: list[asyncio.TimerHandle] = []
        self._agent_timer: asyncio.TimerHandle | None = None
        self.answered_at = 0.0
        self.joined_at = 0.0
        self.connected_at = 0.0
        self.member: SimMember | None = None
        self.a1: SimChannel | None = None
        self.a2: SimChannel | None = None
        self.bridge_outer = ""
        self.bridge_inner = ""
        self.queue: SimQueue | None = None
        # Whether the Local pair will be optimised away once both halves are bridged (fact 11):
        # only through a trunk context (;2 bridged with the trunk leg), with media, no /n.
        self.optimizable = (
            self.via_trunk and behaviour.media and pbx.local_optimization and "n" not in local_options
        )
        self.optimized = False

        uid = channel_id or pbx.new_uniqueid()
        seq = pbx.next_channel_seq()
        if self.single_channel:
            self.c1 = pbx.new_channel(f"{tech}/{trunk}-{seq:08x}", uid, uid, trunk, number, STATE_DOWN)
            self.c2: SimChannel | None = None
        else:
            base = f"Local/{number}@{trunk}-{seq:08x}"
            self.c1 = pbx.new_channel(base + ";1", uid, uid, trunk, number, STATE_DOWN)
            uid2 = f"{channel_id};2" if channel_id else pbx.new_uniqueid()
            self.c2 = pbx.new_channel(base + ";2", uid2, uid, trunk, number, STATE_RING)
        self.dial_string = f"{tech}/{number}@{trunk}"
        self.cid_num = cid_num
        self.cid_name = cid_name
        # the inner pair of a trunk context (None when dialling sim-pstn directly)
        self.t1: SimChannel | None = None
        self.t2: SimChannel | None = None
        pbx.calls_by_uid[uid] = self

    # -- helpers ---------------------------------------------------------------------------

    def _emit(self, event: str, priv: str, *parts: list[tuple[str, str]]) -> None:
        headers: list[tuple[str, str]] = []
        for p in parts:
            headers.extend(p)
        self.pbx.emit(event, priv, headers)

    def _later(self, delay_s: float, fn: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        handle = self.pbx.later(delay_s, self._guard, fn, args)
        self.timers.append(handle)
        return handle

    def _guard(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        if self.state is not CallState.DONE:
            fn(*args)

    def _state(self, ch: SimChannel, state: int) -> None:
        ch.state = state
        self._emit("Newstate", CALL, ch.headers())

    def _dsc(self, device: str, state: str) -> None:
        self._emit("DeviceStateChange", CALL, [("Device", device), ("State", state)])

    def _hangup(self, ch: SimChannel, cause: int) -> None:
        ch.up = False
        self._emit(
            "Hangup", CALL, ch.headers(), [("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, ""))]
        )
        self.pbx.remove_channel(ch)

    def _hangup_request(self, ch: SimChannel, cause: int, soft: bool = False) -> None:
        self._emit(
            "SoftHangupRequest" if soft else "HangupRequest", CALL, ch.headers(), [("Cause", str(cause))]
        )

    def _set_callerid(self, ch: SimChannel, conn: bool) -> None:
        ch.cid_num, ch.cid_name = self.cid_num, self.cid_name
        self._emit(
            "NewCallerid", CALL, ch.headers(), [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")]
        )
        if conn:
            self._set_connected(ch)

    def _set_connected(self, ch: SimChannel) -> None:
        ch.conn_num, ch.conn_name = self.cid_num, self.cid_name
        self._emit("NewConnectedLine", CALL, ch.headers())

    def _new_local_pair(self, c1: SimChannel, c2: SimChannel) -> None:
        self._emit("Newchannel", CALL, c1.headers())
        self._emit("Newchannel", CALL, c2.headers())

    def _local_bridge(self, c1: SimChannel, c2: SimChannel, context: str, exten: str) -> None:
        self._emit(
            "LocalBridge",
            CALL,
            c1.local_headers("One"),
            c2.local_headers("Two"),
            [("Context", context), ("Exten", exten), ("LocalOptimization", "Yes")],
        )

    def _originate_response(self, reason: int) -> None:
        ok = reason == REASON_ANSWERED
        self._emit(
            "OriginateResponse",
            CALL,
            [
                ("ActionID", self.action_id),
                ("Response", "Success" if ok else "Failure"),
                ("Channel", self.c1.name if ok else self.dial_string),
                ("Context", self.context),
                ("Exten", self.exten),
                ("Reason", str(reason)),
                ("Uniqueid", self.c1.uniqueid),
                ("CallerIDNum", self.cid_num),
                ("CallerIDName", self.cid_name),
            ],
        )

    def _noise(self, ch: SimChannel, app: str, data: str, var: tuple[str, str] | None = None) -> None:
        """Newexten/VarSet as real Asterisk sends with the ``dialplan`` read class (full verbosity)."""
        if not self.pbx.full_verbosity:
            return
        ch.application, ch.application_data = app, data
        self._emit(
            "Newexten",
            "dialplan,all",
            ch.headers(),
            [("Extension", ch.exten), ("Application", app), ("AppData", data)],
        )
        if var is not None:
            self._emit("VarSet", "dialplan,all", ch.headers(), [("Variable", var[0]), ("Value", var[1])])

    def _finish(self) -> None:
        self.state = CallState.DONE
        for t in self.timers:
            t.cancel()
        self.timers.clear()
        self.pbx.call_finished(self)

    # -- origination -----------------------------------------------------------------------

    def start(self) -> None:
        """Right after ``Response: Success``: channels appear and the far end is dialled."""
        c1, c2 = self.c1, self.c2
        if c2 is None:
            self._emit("Newchannel", CALL, c1.headers())
            self._set_callerid(c1, conn=True)
        else:
            self._new_local_pair(c1, c2)
            self._set_callerid(c1, conn=True)
            self._set_callerid(c2, conn=True)
            self._local_bridge(c1, c2, self.trunk, self.number)
        for name, value in self.variables.items():
            self._noise(c1, "Set", f"{name}={value}", (name, value))
        if self.via_trunk:
            assert c2 is not None
            self._emit("DialBegin", CALL, c1.headers("Dest"), [("DialString", f"{self.number}@{self.trunk}")])
            self._noise(c2, "Dial", f"Local/{self.number}@sim-pstn,60")
            seq = self.pbx.next_channel_seq()
            base = f"Local/{self.number}@sim-pstn-{seq:08x}"
            t1 = self.pbx.new_channel(
                base + ";1", self.pbx.new_uniqueid(), c1.uniqueid, "sim-pstn", self.number, STATE_DOWN
            )
            t2 = self.pbx.new_channel(
                base + ";2", self.pbx.new_uniqueid(), c1.uniqueid, "sim-pstn", self.number, STATE_RING
            )
            self.t1, self.t2 = t1, t2
            self._new_local_pair(t1, t2)
            self._set_callerid(t1, conn=True)
            self._set_callerid(t2, conn=True)
            self._local_bridge(t1, t2, "sim-pstn", self.number)
            self._emit(
                "DialBegin",
                CALL,
                c2.headers(),
                t1.headers("Dest"),
                [("DialString", f"Local/{self.number}@sim-pstn")],
            )
        else:
            dial = f"{self.number}@{self.trunk}"
            self._emit("DialBegin", CALL, c1.headers("Dest"), [("DialString", dial)])
        far = self.behaviour.far_end
        if far in (FarEnd.PERSON, FarEnd.MACHINE):
            self._ring()
            if self.behaviour.ring_s < self.timeout_s:
                self._later(self.behaviour.ring_s, self._answer)
            else:
                self._later(self.timeout_s, self._no_answer)
        elif far is FarEnd.NO_ANSWER:
            self._ring()
            self._later(self.timeout_s, self._no_answer)
        elif far is FarEnd.BUSY:
            if self.behaviour.ring_s > 0:
                self._ring()
                self._later(self.behaviour.ring_s, self._busy_or_congestion, "BUSY", 17, REASON_BUSY)
            else:
                self._busy_or_congestion("BUSY", 17, REASON_BUSY)
        elif far is FarEnd.CONGESTION:
            self._busy_or_congestion("CONGESTION", 34, REASON_CONGESTION)
        else:
            self._unallocated()

    def _far(self) -> tuple[SimChannel, SimChannel | None]:
        """The pair that plays the called party: the inner pair via a trunk, else ;1/;2."""
        if self.t1 is not None:
            return self.t1, self.t2
        return self.c1, self.c2

    def _ring(self) -> None:
        self.state = CallState.RINGING
        c1 = self.c1
        if self.t1 is not None:
            assert self.c2 is not None
            if self.t2 is not None:
                self._noise(self.t2, "Ringing", "")
            self._state(self.t1, STATE_RINGING)
            self._state(c1, STATE_RINGING)
            self._emit("DialState", CALL, c1.headers("Dest"), [("DialStatus", "RINGING")])
            self._emit(
                "DialState", CALL, self.c2.headers(), self.t1.headers("Dest"), [("DialStatus", "RINGING")]
            )
            self._dsc(self.t1.device, "INUSE")
            self._dsc(c1.device, "INUSE")
        else:
            if self.c2 is not None:
                self._noise(self.c2, "Ringing", "")
            self._state(c1, STATE_RINGING)
            self._emit("DialState", CALL, c1.headers("Dest"), [("DialStatus", "RINGING")])
            self._dsc(c1.device, "INUSE")

    # -- failures before answer ----------------------------------------------------------------

    def _busy_or_congestion(self, status: str, cause: int, reason: int) -> None:
        c1, c2 = self.c1, self.c2
        if self.t1 is not None:
            t1, t2 = self.t1, self.t2
            assert t2 is not None and c2 is not None
            self._state(t2, STATE_BUSY)
            self._dsc(t1.device, "INUSE")
            self._emit("DialEnd", CALL, c2.headers(), t1.headers("Dest"), [("DialStatus", status)])
            self._hangup_request(t2, 0)
            self._hangup(t1, 0)
            self._hangup_request(t2, 16, soft=True)
            self._hangup(t2, cause)
            self._state(c2, STATE_BUSY)
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", status)])
            self._hangup_request(c2, 0)
            self._dsc(t1.device, "NOT_INUSE")
            self._dsc(c1.device, "INUSE")
            self._originate_response(reason)
            self._hangup(c1, 0)
            self._dsc(c1.device, "NOT_INUSE")
            self._hangup_request(c2, 16, soft=True)
            self._hangup(c2, cause)
            self._dsc(c1.device, "NOT_INUSE")
        elif c2 is not None:
            self._state(c2, STATE_BUSY)
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", status)])
            self._hangup_request(c2, 0)
            self._dsc(c1.device, "INUSE")
            self._hangup(c1, 0)
            self._originate_response(reason)
            self._hangup_request(c2, 16, soft=True)
            self._hangup(c2, cause)
            self._dsc(c1.device, "NOT_INUSE")
            self._dsc(c1.device, "NOT_INUSE")
        else:
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", status)])
            self._originate_response(reason)
            self._hangup(c1, cause)
        self._finish()

    def _unallocated(self) -> None:
        c1, c2 = self.c1, self.c2
        if self.t1 is not None:
            t1, t2 = self.t1, self.t2
            assert t2 is not None and c2 is not None
            self._hangup_request(t2, 16, soft=True)
            self._hangup_request(t1, 1)
            self._hangup(t2, 1)
            self._dsc(t1.device, "NOT_INUSE")
            self._emit("DialEnd", CALL, c2.headers(), t1.headers("Dest"), [("DialStatus", "NOANSWER")])
            self._hangup(t1, 1)
            self._hangup_request(c2, 16, soft=True)
            self._hangup_request(c1, 1)
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", "NOANSWER")])
            self._hangup(c2, 1)
            self._originate_response(REASON_FAILED)
            self._dsc(t1.device, "NOT_INUSE")
            self._hangup(c1, 1)
            self._dsc(c1.device, "NOT_INUSE")
        elif c2 is not None:
            self._hangup_request(c2, 16, soft=True)
            self._hangup_request(c1, 1)
            self._hangup(c2, 1)
            self._dsc(c1.device, "NOT_INUSE")
            self._originate_response(REASON_FAILED)
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", "NOANSWER")])
            self._hangup(c1, 1)
            self._dsc(c1.device, "NOT_INUSE")
        else:
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", "CHANUNAVAIL")])
            self._originate_response(REASON_FAILED)
            self._hangup(c1, 1)
        self._finish()

    def _no_answer(self) -> None:
        c1, c2 = self.c1, self.c2
        if self.t1 is not None:
            t1, t2 = self.t1, self.t2
            assert t2 is not None and c2 is not None
            self._hangup_request(c2, 19)
            self._originate_response(REASON_NO_ANSWER)
            self._hangup(c1, 19)
            self._emit("DialEnd", CALL, c2.headers(), t1.headers("Dest"), [("DialStatus", "CANCEL")])
            self._hangup_request(t2, 19)
            self._hangup(t1, 19)
            self._dsc(c1.device, "NOT_INUSE")
            self._hangup_request(t2, 16, soft=True)
            self._hangup(t2, 19)
            self._hangup_request(c2, 16, soft=True)
            self._hangup(c2, 19)
            self._dsc(t1.device, "NOT_INUSE")
        elif c2 is not None:
            self._hangup_request(c2, 19)
            self._hangup(c1, 19)
            self._originate_response(REASON_NO_ANSWER)
            self._hangup_request(c2, 16, soft=True)
            self._hangup(c2, 19)
            self._dsc(c1.device, "NOT_INUSE")
            self._dsc(c1.device, "NOT_INUSE")
        else:
            self._originate_response(REASON_NO_ANSWER)
            self._hangup(c1, 19)
        self._finish()

    # -- answer and the connect dialplan ---------------------------------------------------

    def _answer(self) -> None:
        c1, c2 = self.c1, self.c2
        self.answered_at = self.pbx.sim_now()
        if self.t1 is not None:
            t1, t2 = self.t1, self.t2
            assert t2 is not None and c2 is not None
            t2.priority = 4
            self._noise(t2, "Answer", "")
            self._state(t2, STATE_UP)
            self._state(t1, STATE_UP)
            self._emit("DialEnd", CALL, c2.headers(), t1.headers("Dest"), [("DialStatus", "ANSWER")])
            self._state(c2, STATE_UP)
            self.bridge_inner = self.pbx.new_bridge_id()
            self._bridge("BridgeCreate", self.bridge_inner, 0)
            self._state(c1, STATE_UP)
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", "ANSWER")])
            self._bridge("BridgeEnter", self.bridge_inner, 1, t1)
            self._bridge("BridgeEnter", self.bridge_inner, 2, c2)
        else:
            if c2 is not None:
                c2.priority = 4
                self._noise(c2, "Answer", "")
                self._state(c2, STATE_UP)
            self._state(c1, STATE_UP)
            self._emit("DialEnd", CALL, c1.headers("Dest"), [("DialStatus", "ANSWER")])
            self._dsc(c1.device, "INUSE")
        c1.context, c1.exten, c1.priority = self.context, self.exten, 1
        self._originate_response(REASON_ANSWERED)
        self._dsc(c1.device, "INUSE")
        # the called party hangs up talk_s after answering, wherever the call is by then
        self._later(self.behaviour.talk_s, self._far_hangup, 16)
        if self.amd:
            self.state = CallState.AMD
            if not self.context.endswith("-amd"):
                c1.context = f"{self.context}-amd"  # GotoIf(DIALER_AMD=1 ?dialer-connect-amd,s,1)
            self._noise(c1, "AMD", "")
            self._later(self.behaviour.amd_s, self._amd_result)
        else:
            self._connect()

    def _amd_result(self) -> None:
        c1 = self.c1
        status = "MACHINE" if self.behaviour.far_end is FarEnd.MACHINE else "HUMAN"
        c1.priority = 3
        extra = [
            (h, self.variables[v])
            for h, v in (("LeadId", "DIALER_LEAD_ID"), ("AttemptId", "DIALER_ATTEMPT_ID"))
            if v in self.variables
        ]
        self._noise(c1, "UserEvent", "DialerAMD", ("AMDSTATUS", status))
        self._emit(
            "UserEvent",
            USER,
            c1.headers(),
            [("UserEvent", "DialerAMD")],
            extra,
            [("AMDStatus", status), ("AMDCause", self.behaviour.amd_cause)],
        )
        action = self.variables.get("DIALER_AMD_ACTION", "hangup") if status == "MACHINE" else "agent"
        if action == "message":  # WaitForSilence, Playback(DIALER_AMD_MESSAGE), Hangup
            self._noise(c1, "Playback", self.variables.get("DIALER_AMD_MESSAGE", ""))
            self._later(AMD_MESSAGE_S, self._dialplan_hangup)
        elif action != "agent":
            self._dialplan_hangup()
        else:  # a person, or a machine the campaign hands to an agent: the same hand-off
            c1.context = self.context.removesuffix("-amd")
            self._connect()

    def _connect(self) -> None:
        """dialer-connect: a reserved agent gets a direct bridge, everyone else the queue."""
        if self.reserved_agent:
            self._ring_agent(
                SimMember(
                    queue="",
                    interface=self.reserved_agent,
                    member_name=self.reserved_agent,
                    ring_s=self.pbx.agent_ring_s,
                ),
                queued=False,
            )
            return
        c1 = self.c1
        c1.priority = 4
        self._noise(c1, "Queue", f"{self.queue_name},,,,{self.queue_timeout_s:g}")
        q = self.pbx.queues.get(self.queue_name)
        if q is None:
            # app_queue: "Unable to join queue" -- Queue() returns at once with QUEUESTATUS
            # UNKNOWN, no QueueCallerJoin; dialer-connect's abandon path follows.
            self._abandon(self.queue_name, "UNKNOWN")
            return
        self.queue = q
        q.callers.append(self)
        self.joined_at = self.pbx.sim_now()
        self.state = CallState.QUEUED
        if len(q.callers) == 1:
            self._dsc(f"Queue:{q.name}", "RINGING")
        self._emit(
            "QueueCallerJoin",
            AGENT,
            c1.headers(),
            [("Queue", q.name), ("Position", str(len(q.callers))), ("Count", str(len(q.callers)))],
        )
        self._emit("MusicOnHoldStart", CALL, c1.headers(), [("Class", "default")])
        self._later(self.queue_timeout_s, self._queue_timeout)
        self.pbx.dispatch_queue(q)

    def ring_member(self, member: SimMember) -> None:
        """Called by the PBX when a free member is found for this queued caller."""
        self._ring_agent(member, queued=True)

    def _ring_agent(self, member: SimMember, *, queued: bool) -> None:
        c1 = self.c1
        self.member = member
        self.state = CallState.AGENT_RINGING
        iface = member.interface
        tech, _, rest = iface.partition("/")
        seq = self.pbx.next_channel_seq()
        if tech == "Local":
            exten, _, ctx = rest.partition("@")
            a1 = self.pbx.new_channel(
                f"{iface}-{seq:08x};1",
                self.pbx.new_uniqueid(),
                c1.uniqueid,
                ctx or "default",
                exten,
                STATE_DOWN,
            )
            a2 = self.pbx.new_channel(
                f"{iface}-{seq:08x};2",
                self.pbx.new_uniqueid(),
                c1.uniqueid,
                ctx or "default",
                exten,
                STATE_RING,
            )
            self.a1, self.a2 = a1, a2
            self._emit("Newchannel", CALL, a1.headers())
            self._emit("Newchannel", CALL, a2.headers())
            a1.cid_num, a1.cid_name = self.cid_num, self.cid_name
            self._emit(
                "NewCallerid",
                CALL,
                a1.headers(),
                [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
            )
            if not queued:  # Dial() sets the connected line before ringing (the capture)
                self._set_connected(a1)
            self._set_callerid(a2, conn=True)
            self._local_bridge(a1, a2, a1.context, a1.exten)
        else:
            a1 = self.pbx.new_channel(
                f"{iface}-{seq:08x}", self.pbx.new_uniqueid(), c1.uniqueid, "default", "s", STATE_DOWN
            )
            self.a1, self.a2 = a1, None
            self._emit("Newchannel", CALL, a1.headers())
            a1.cid_num, a1.cid_name = self.cid_num, self.cid_name
            self._emit(
                "NewCallerid",
                CALL,
                a1.headers(),
                [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
            )
        member_hdr = [("Queue", member.queue), ("Interface", iface), ("MemberName", member.member_name)]
        if queued:
            self._emit("AgentCalled", AGENT, c1.headers(), a1.headers("Dest"), member_hdr)
        self._emit("DialBegin", CALL, c1.headers(), a1.headers("Dest"), [("DialString", iface)])
        a1.state = STATE_RINGING
        self._emit("Newstate", CALL, a1.headers())
        if queued or self.a2 is None:  # Queue() sets it once the member rings (originate-answer-agent)
            self._set_connected(a1)
        self._dsc(iface, "INUSE")
        if queued:
            member.status = DEVICE_INUSE
            member.ringing = True
            self._emit("QueueMemberStatus", AGENT, member.headers())
        self._emit("DialState", CALL, c1.headers(), a1.headers("Dest"), [("DialStatus", "RINGING")])
        self._agent_timer = self._later(member.ring_s, self._agent_answer, queued)
        if not queued:  # Dial(${DIALER_AGENT},${QTIMEOUT}) in asterisk-conf/extensions.conf
            self._later(self.queue_timeout_s, self._reserved_timeout)

    def _reserved_timeout(self) -> None:
        if self.state is not CallState.AGENT_RINGING:
            return
        self._cancel_agent_ring("NOANSWER")
        self._abandon(self.queue_name, "NOANSWER")

    def _agent_answer(self, queued: bool) -> None:
        if self.state is not CallState.AGENT_RINGING:
            return
        c1, a1, a2, member = self.c1, self.a1, self.a2, self.member
        assert a1 is not None and member is not None
        now = self.pbx.sim_now()
        if a2 is not None:
            self._state(a2, STATE_UP)
            self._dsc(member.interface, "INUSE")
        self._state(a1, STATE_UP)
        self._dsc(member.interface, "INUSE")
        self._emit("DialEnd", CALL, c1.headers(), a1.headers("Dest"), [("DialStatus", "ANSWER")])
        self.connected_at = now
        self.state = CallState.BRIDGED
        member.in_call = True
        member.ringing = False
        if queued and self.queue is not None:
            q = self.queue
            self._emit("MusicOnHoldStop", CALL, c1.headers())
            position = q.callers.index(self) + 1 if self in q.callers else 1
            q.callers.remove(self)
            if not q.callers:
                self._dsc(f"Queue:{q.name}", "NOT_INUSE")
            self._emit(
                "QueueCallerLeave",
                AGENT,
                c1.headers(),
                [("Queue", q.name), ("Position", str(position)), ("Count", str(len(q.callers)))],
            )
            self._emit(
                "AgentConnect",
                AGENT,
                c1.headers(),
                a1.headers("Dest"),
                [
                    ("Queue", q.name),
                    ("Interface", member.interface),
                    ("MemberName", member.member_name),
                    ("HoldTime", str(round(now - self.joined_at))),
                    ("RingTime", str(round(member.ring_s))),
                ],
            )
        self.bridge_outer = self.pbx.new_bridge_id()
        self._bridge("BridgeCreate", self.bridge_outer, 0)
        self._bridge("BridgeEnter", self.bridge_outer, 1, a1)
        self._bridge("BridgeEnter", self.bridge_outer, 2, c1)
        if self.pbx.agent_talk_s is not None:
            self._later(self.pbx.agent_talk_s, self._agent_hangup)
        if self.optimizable:
            self._later(OPTIMIZE_AFTER_S, self._optimize)

    def _optimize(self) -> None:
        """Asterisk optimises our Local pair out: the trunk leg takes ;1's place by the agent.

        The order of the events is the capture's; ``Success: No`` is what Asterisk 22 says
        although the swap worked (bridge.c ``try_swap_optimize_out``, README fact 11).
        """
        c1, c2, t1 = self.c1, self.c2, self.t1
        if self.state is not CallState.BRIDGED or c2 is None or t1 is None:
            return
        self._emit(
            "LocalOptimizationBegin",
            CALL,
            c1.local_headers("One"),
            c2.local_headers("Two"),
            t1.headers("Source"),
            [("DestUniqueId", c2.uniqueid), ("Id", "0")],
        )
        self._bridge("BridgeLeave", self.bridge_inner, 1, t1)
        self._bridge("BridgeLeave", self.bridge_outer, 1, c1)
        self._bridge("BridgeEnter", self.bridge_outer, 2, t1, swap=c1.uniqueid)
        self._emit(
            "LocalOptimizationEnd",
            CALL,
            c1.local_headers("One"),
            c2.local_headers("Two"),
            [("Success", "No"), ("Id", "0")],
        )
        self._bridge("BridgeLeave", self.bridge_inner, 0, c2)
        self._bridge("BridgeDestroy", self.bridge_inner, 0)
        self._hangup_request(c2, 16, soft=True)
        self._hangup_request(c1, 16)
        self._hangup(c2, 16)
        self._hangup_request(c1, 16, soft=True)
        self._hangup(c1, 16)
        self._dsc(c1.device, "NOT_INUSE")
        self.optimized = True

    def _optimized_end(self, *, agent_first: bool, cause: int = 16) -> None:
        """The conversation of an optimised call ends: the trunk leg and the agent legs go."""
        t1, t2 = self.t1, self.t2
        assert t1 is not None and t2 is not None and self.a1 is not None
        if agent_first:
            talk = self._agent_leaves(t1)
            self._bridge("BridgeDestroy", self.bridge_outer, 0)
            self._hangup_request(t1, 16)
            self._hangup_request(t2, 16, soft=True)
            self._hangup(t2, 16)
            self._hangup(t1, 16)
        else:
            self._hangup_request(t2, 16, soft=True)
            self._hangup_request(t1, cause)
            self._hangup(t2, cause)
            self._bridge("BridgeLeave", self.bridge_outer, 1, t1)
            talk = self._agent_complete("caller")
            self._hangup_agent_legs()
            self._hangup(t1, cause)
        self._release_member(wrap=True, talk_s=talk)
        self._finish()

    def _bridge(
        self, event: str, bridge_id: str, count: int, ch: SimChannel | None = None, *, swap: str = ""
    ) -> None:
        block = [
            ("BridgeUniqueid", bridge_id),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(count)),
            ("BridgeVideoSourceMode", "none"),
        ]
        if ch is not None:
            ch.bridge_id = bridge_id if event == "BridgeEnter" else ""
            self._emit(event, CALL, block, ch.headers(), [("SwapUniqueid", swap)] if swap else [])
        else:
            self._emit(event, CALL, block)

    def _queue_timeout(self) -> None:
        """Queue()'s timeout: no agent took the call within the connect limit -> abandon path."""
        if self.state is CallState.AGENT_RINGING:
            self._cancel_agent_ring()
        if self.state is not CallState.QUEUED:
            return
        c1 = self.c1
        q = self.queue
        assert q is not None
        now = self.pbx.sim_now()
        position = q.callers.index(self) + 1
        self._emit(
            "QueueCallerAbandon",
            AGENT,
            c1.headers(),
            [
                ("Queue", q.name),
                ("Position", str(position)),
                ("OriginalPosition", str(position)),
                ("HoldTime", str(round(now - self.joined_at))),
            ],
        )
        self._emit("MusicOnHoldStop", CALL, c1.headers())
        q.callers.remove(self)
        q.abandoned += 1
        if not q.callers:
            self._dsc(f"Queue:{q.name}", "NOT_INUSE")
        self._emit(
            "QueueCallerLeave",
            AGENT,
            c1.headers(),
            [("Queue", q.name), ("Position", str(position)), ("Count", str(len(q.callers)))],
        )
        self._abandon(q.name, "TIMEOUT")

    def _abandon(self, queue: str, status: str) -> None:
        """No agent in time: UserEvent DialerAbandon, the 1 s message, hang up."""
        c1 = self.c1
        self.state = CallState.ABANDON_MESSAGE
        c1.priority = 14
        self._noise(c1, "Set", f"DIALER_NOCONNECT={status}", ("DIALER_NOCONNECT", status))
        ids = [
            (h, self.variables[v])
            for h, v in (("LeadId", "DIALER_LEAD_ID"), ("AttemptId", "DIALER_ATTEMPT_ID"))
            if v in self.variables
        ]
        self._emit(
            "UserEvent",
            USER,
            c1.headers(),
            [("UserEvent", "DialerAbandon")],
            ids,
            [
                ("Campaign", self.variables.get("DIALER_CAMPAIGN", "")),
                ("Queue", queue),
                ("QueueStatus", status),
            ],
        )
        self._noise(c1, "Playback", "dialer-abandon-msg")
        self._later(ABANDON_MESSAGE_S, self._dialplan_hangup)

    def _cancel_agent_ring(self, status: str = "CANCEL") -> None:
        c1, a1, a2, member = self.c1, self.a1, self.a2, self.member
        assert a1 is not None and member is not None
        if self._agent_timer is not None:
            self._agent_timer.cancel()
            self._agent_timer = None
        self._emit("DialEnd", CALL, c1.headers(), a1.headers("Dest"), [("DialStatus", status)])
        if self.queue is not None and member.queue:
            self._emit(
                "AgentRingNoAnswer",
                AGENT,
                c1.headers(),
                a1.headers("Dest"),
                [
                    ("Queue", member.queue),
                    ("Interface", member.interface),
                    ("MemberName", member.member_name),
                    ("RingTime", "0"),
                ],
            )
        if a2 is not None:
            self._hangup_request(a2, 16)
        self._hangup(a1, 16)
        if a2 is not None:
            self._hangup_request(a2, 16, soft=True)
            self._hangup(a2, 16)
        member.ringing = False
        self._release_member(wrap=False)
        self.state = CallState.QUEUED if self.queue is not None and self in self.queue.callers else self.state

    def _release_member(self, *, wrap: bool, talk_s: float = 0.0) -> None:
        member = self.member
        if member is None:
            return
        member.in_call = False
        member.status = DEVICE_NOT_INUSE
        if wrap:
            member.calls_taken += 1
            member.last_call = self.pbx.epoch()
            member.wrap_until = self.pbx.sim_now() + member.wrapup_s
            if self.queue is not None:
                self.queue.completed += 1
                self.queue.talk_time_total += round(talk_s)
        if member.queue:
            self._emit("QueueMemberStatus", AGENT, member.headers())
        self._dsc(member.interface, "NOT_INUSE")
        self.member = None
        if member.queue:
            self.pbx.member_freed(member)

    def _agent_complete(self, reason: str) -> float:
        c1, a1, member = self.c1, self.a1, self.member
        assert a1 is not None and member is not None
        talk = self.pbx.sim_now() - self.connected_at
        if member.queue:
            self._emit(
                "AgentComplete",
                AGENT,
                c1.headers(),
                a1.headers("Dest"),
                [
                    ("Queue", member.queue),
                    ("Interface", member.interface),
                    ("MemberName", member.member_name),
                    ("HoldTime", str(round(self.connected_at - self.joined_at))),
                    ("TalkTime", str(round(talk))),
                    ("Reason", reason),
                ],
            )
        return talk

    def _hangup_agent_legs(self) -> None:
        a1, a2 = self.a1, self.a2
        if a1 is None:
            return
        self._bridge("BridgeLeave", self.bridge_outer, 0, a1)
        self._bridge("BridgeDestroy", self.bridge_outer, 0)
        if a2 is not None:
            self._hangup_request(a2, 16)
        self._hangup(a1, 16)
        if a2 is not None:
            self._hangup_request(a2, 16, soft=True)
            self._hangup(a2, 16)

    # -- hang-ups after answer ---------------------------------------------------------------

    def _far_hangup(self, cause: int) -> None:
        """The called person hangs up (sim-pstn's Hangup(16) after talk_s)."""
        if self.optimized:
            self._optimized_end(agent_first=False, cause=cause)
            return
        c1, c2 = self.c1, self.c2
        if self.t1 is not None:
            t1, t2 = self.t1, self.t2
            assert t2 is not None and c2 is not None
            self._hangup_request(t2, 16, soft=True)
            self._hangup_request(t1, cause)
            self._hangup(t2, cause)
            self._bridge("BridgeLeave", self.bridge_inner, 1, t1)
            self._hangup(t1, cause)
            self._bridge("BridgeLeave", self.bridge_inner, 0, c2)
            self._hangup_request(c2, 16, soft=True)
            self._hangup_request(c1, cause)
            self._bridge("BridgeDestroy", self.bridge_inner, 0)
        elif c2 is not None:
            self._hangup_request(c2, 16, soft=True)
            self._hangup_request(c1, cause)
            self._hangup(c2, cause)
        self._caller_side_gone()
        if self.t1 is not None and c2 is not None:
            self._hangup(c2, cause)
        self._hangup(c1, cause)
        self._dsc(c1.device, "NOT_INUSE")
        self._finish()

    def _caller_side_gone(self) -> None:
        """What ;1's dialplan does when its far end is gone, by where the call is."""
        c1 = self.c1
        state = self.state
        if state is CallState.AGENT_RINGING:
            self._cancel_agent_ring()
            state = self.state
        if state is CallState.BRIDGED:
            talk = self._agent_complete("caller")
            self._bridge("BridgeLeave", self.bridge_outer, 1, c1)
            self._hangup_request(c1, 16, soft=True)
            self._hangup_agent_legs()
            self._release_member(wrap=True, talk_s=talk)
        elif state is CallState.QUEUED and self.queue is not None:
            q = self.queue
            self._emit("MusicOnHoldStop", CALL, c1.headers())
            position = q.callers.index(self) + 1
            self._emit(
                "QueueCallerAbandon",
                AGENT,
                c1.headers(),
                [
                    ("Queue", q.name),
                    ("Position", str(position)),
                    ("OriginalPosition", str(position)),
                    ("HoldTime", str(round(self.pbx.sim_now() - self.joined_at))),
                ],
            )
            q.callers.remove(self)
            q.abandoned += 1
            if not q.callers:
                self._dsc(f"Queue:{q.name}", "NOT_INUSE")
            self._emit(
                "QueueCallerLeave",
                AGENT,
                c1.headers(),
                [("Queue", q.name), ("Position", str(position)), ("Count", str(len(q.callers)))],
            )
            self._hangup_request(c1, 16, soft=True)
        else:
            self._hangup_request(c1, 16, soft=True)

    def _agent_leaves(self, other: SimChannel) -> float:
        """The agent hangs up first; ``other`` is left alone in the bridge. Returns the talk."""
        a1, a2 = self.a1, self.a2
        assert a1 is not None
        if a2 is not None:
            self._hangup_request(a2, 16, soft=True)
            self._hangup_request(a1, 16)
            self._hangup(a2, 16)
        talk = self._agent_complete("agent")
        self._bridge("BridgeLeave", self.bridge_outer, 1, a1)
        self._hangup(a1, 16)
        self._bridge("BridgeLeave", self.bridge_outer, 0, other)
        return talk

    def _agent_hangup(self) -> None:
        """The agent ends the talk first (--agent-talk): Queue() returns and ;1 is hung up."""
        if self.optimized:
            self._optimized_end(agent_first=True)
            return
        talk = self._agent_leaves(self.c1)
        self._bridge("BridgeDestroy", self.bridge_outer, 0)
        self.a1 = self.a2 = None
        self._release_member(wrap=True, talk_s=talk)
        self.state = CallState.ABANDON_MESSAGE  # past the queue: plain dialplan hang-up follows
        self._dialplan_hangup()

    def _dialplan_hangup(self, cause: int = 16) -> None:
        """;1's dialplan hangs up (machine after AMD, after the abandon message, Hangup action)."""
        c1, c2 = self.c1, self.c2
        if self.state is CallState.AGENT_RINGING:
            self._cancel_agent_ring()
        if self.state in (CallState.QUEUED, CallState.BRIDGED):
            # hung up by the Hangup action while waiting or talking: the queue sees the caller go
            self._caller_side_gone()
        else:
            self._hangup_request(c1, cause, soft=True)
        if c2 is not None:
            self._hangup_request(c2, cause)
        self._hangup(c1, cause)
        self._dsc(c1.device, "NOT_INUSE")
        if c2 is not None:
            self._hangup_request(c2, 16, soft=True)
            if self.t1 is not None:
                t1, t2 = self.t1, self.t2
                assert t2 is not None
                self._bridge("BridgeLeave", self.bridge_inner, 1, c2)
                self._hangup(c2, cause)
                self._bridge("BridgeLeave", self.bridge_inner, 0, t1)
                self._bridge("BridgeDestroy", self.bridge_inner, 0)
                self._hangup_request(t2, cause)
                self._hangup(t1, cause)
                self._hangup_request(t2, 16, soft=True)
                self._hangup(t2, cause)
            else:
                self._hangup(c2, cause)
            self._dsc(c1.device, "NOT_INUSE")
        self._finish()

    def hangup_action(self, cause: int) -> None:
        """AMI ``Hangup`` of one of this call's channels."""
        if self.state is CallState.DONE:
            return
        if self.optimized:  # our halves are gone: hanging up the call ends the conversation
            self._optimized_end(agent_first=False, cause=cause)
            return
        if self.state in (CallState.DIALING, CallState.RINGING):
            c1, c2 = self.c1, self.c2
            self._hangup_request(c1, cause, soft=True)
            self._hangup(c1, cause)
            self._originate_response(REASON_HANGUP)
            for ch in (self.t1, self.t2, c2):
                if ch is not None and ch.up:
                    self._hangup_request(ch, 16, soft=True)
                    self._hangup(ch, cause)
            self._dsc(c1.device, "NOT_INUSE")
            self._finish()
            return
        self._dialplan_hangup(cause)

    def far_end_hangs_up(self) -> None:
        """The called person hangs up now, as at the end of its talk time, if it has answered.

        For tests whose people never hang up by themselves: they end the calls on cue, once
        what they wait for (an engine started under load, say) has happened.
        """
        if self.state not in (CallState.DIALING, CallState.RINGING, CallState.DONE):
            self._far_hangup(16)

    def channels(self) -> list[SimChannel]:
        return [c for c in (self.c1, self.c2, self.t1, self.t2, self.a1, self.a2) if c is not None and c.up]
