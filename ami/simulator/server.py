"""The simulated PBX: an asyncio TCP server that speaks AMI like Asterisk 22.

Theory of operation: one :class:`SimulatedPbx` owns the listening socket, the AMI sessions,
the queues and the live calls. Reading uses the same sans-IO :class:`~ami.framing.AmiFramer`
as the client; each action is answered synchronously from the protocol callback (or after
an injected delay), and every event is encoded once and written to every logged-in session
that asked for events. Calls are :class:`~ami.simulator.calls.SimCall` scripts driven by
``loop.call_later``; simulated seconds are multiplied by ``time_scale`` so tests run a
15-second ring timeout in 150 ms.

Behaviour copied from the captures (``shared/ami-transcripts/``): banner
``Asterisk Call Manager/11.0.0``; Login answers ``Authentication accepted`` then
``FullyBooted`` (fact 7), a wrong secret ``Authentication failed`` after a delay and then
the socket closes; a restart sends ``Shutdown`` (``Restart: True``), refuses connections for
a moment and boots again with ``Uptime: 0`` and no calls (fact 8); queue admin answers and
errors as in ``queue-member-admin.txt`` (fact 9).

Fault injection (for tests and the CLI): :meth:`drop_connections`, :meth:`unreachable` and
:meth:`reachable`, :meth:`restart`,
:attr:`response_delay_s`, :attr:`queue_pause_lag_s`, :meth:`send_garbled`,
:attr:`suppressed_events`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import structlog

from ami.framing import AmiFramer, AmiMessage, GarbledMessage, encode
from ami.simulator import admin
from ami.simulator.calls import SimCall
from ami.simulator.channels import SimChannel
from ami.simulator.population import PopulationModel, PopulationParams
from ami.simulator.queues import SimMember, SimQueue

log = structlog.get_logger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
VERBOSITY = ("minimal", "full")


@dataclass(frozen=True, slots=True)
class SimAgent:
    """A queue member to create at boot (static member, like queues.conf ``member =>``)."""

    queue: str
    interface: str
    name: str


class _Session(asyncio.Protocol):
    """One AMI connection to the simulator."""

    def __init__(self, pbx: SimulatedPbx) -> None:
        self.pbx = pbx
        self.transport: asyncio.Transport | None = None
        self.framer = AmiFramer(expect_banner=False)
        self.authenticated = False
        self.events = True
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.pbx.sessions.add(self)
        transport.write(BANNER)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pbx.sessions.discard(self)
        self.closing = True

    def data_received(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            if isinstance(frame, GarbledMessage):
                log.info("sim_garbled_action", reason=frame.reason)
                continue
            if isinstance(frame, AmiMessage):
                self.pbx.handle_action(self, frame)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closing:
            self.transport.write(data)

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


class SimulatedPbx:
    """A PBX that behaves like the dialer dialplan on Asterisk 22, over real AMI.

    Args:
        username, secret: the one AMI user accepted.
        host, port: where to listen (``port=0`` picks a free port; see :attr:`port`).
        time_scale: real seconds per simulated second (0.01 runs 100x faster).
        verbosity: ``minimal`` (the least-privilege dialer user, as in the transcripts) or
            ``full`` (adds Newexten/VarSet, as with the ``dialplan`` read class).
        population: parameters of the load population for non-convention numbers.
        rng: the population's random generator (seeded by the caller).
        agents: static queue members created at boot (their queues are created with them).
        queues: the queues of queues.conf. As in Asterisk, no action creates one: QueueAdd and
            QueueRemove on another name answer "No such queue", QueueStatus/QueueSummary list
            nothing for it (fact 9), and a call sent into it leaves Queue() at once with
            QUEUESTATUS UNKNOWN (the dialplan's abandon path).
        agent_ring_s: how long a simulated agent's phone rings before answering.
        agent_talk_s: the agent hangs up after this long; None = the customer ends the call.
        agent_wrapup_s: wrap-up time before the member takes the next call.
        local_optimization: optimise a bridged Local pair away as Asterisk does (fact 11 of
            the transcripts' README); False models a PBX where it never happens.
        auth_fail_delay_s: real seconds before ``Authentication failed`` (Asterisk: ~1 s).
    """

    def __init__(
        self,
        *,
        username: str = "dialer",
        secret: str = "dialer-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 1.0,
        verbosity: str = "minimal",
        population: PopulationParams | None = None,
        rng: np.random.Generator | None = None,
        agents: Iterable[SimAgent] = (),
        queues: Iterable[str] = ("campaign1", "campaign-empty"),
        agent_ring_s: float = 1.0,
        agent_talk_s: float | None = None,
        agent_wrapup_s: float = 0.0,
        auth_fail_delay_s: float = 1.0,
        local_optimization: bool = True,
    ) -> None:
        if verbosity not in VERBOSITY:
            raise ValueError(f"verbosity: must be one of {', '.join(VERBOSITY)} (got {verbosity!r})")
        if time_scale <= 0:
            raise ValueError(f"time_scale: must be positive (got {time_scale})")
        self.username = username
        self._secret = secret
        self.host = host
        self.port = port
        self.time_scale = time_scale
        self.full_verbosity = verbosity == "full"
        self.population = PopulationModel(population or PopulationParams(), rng or np.random.default_rng(0))
        self.agent_ring_s = agent_ring_s
        self.agent_talk_s = agent_talk_s
        self.agent_wrapup_s = agent_wrapup_s
        self.local_optimization = local_optimization
        self.auth_fail_delay_s = auth_fail_delay_s
        self._initial_agents = tuple(agents)
        self._initial_queues = tuple(queues)
        self.sessions: set[_Session] = set()
        self.calls_by_uid: dict[str, SimCall] = {}
        self.channels: dict[str, SimChannel] = {}
        self.queues: dict[str, SimQueue] = {}
        # its configuration as `dialer asterisk check` sees it (ami/simulator/admin.py)
        self.contexts: list[str] = list(admin.DEFAULT_CONTEXTS)
        self.modules: list[str] = list(admin.DEFAULT_MODULES)
        self.globals: dict[str, str] = dict(admin.DEFAULT_GLOBALS)
        self.read_classes: tuple[str, ...] = admin.DEFAULT_READ
        self.write_classes: tuple[str, ...] | None = None  # None: every class
        self.response_delay_s = 0.0
        # fault: a QueuePause is answered at once but reaches the queue's members this many
        # simulated seconds late, so the queue may ring a member the engine believes paused, as
        # when the engine's pause was still in flight (a real queue rang an agent 7 ms after its
        # call ended, before the wrap-up pause arrived: issue 17 item 3)
        self.queue_pause_lag_s = 0.0
        # fault: events of these names are never sent (a lost event, a missing read class)
        self.suppressed_events: set[str] = set()
        self.events_sent = 0
        self.action_counts: Counter[str] = Counter()
        # actions answered "Asterisk is shutting down" (see shutdown()), by action name
        self.refused_actions: Counter[str] = Counter()
        self.shutting_down = False
        self._down = False
        self._server: asyncio.base_events.Server | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._boot()

    # -- lifecycle -----------------------------------------------------------------------

    def _boot(self) -> None:
        self.shutting_down = False
        self._booted_at = time.monotonic()
        self._t0 = time.monotonic()
        self._epoch0 = int(time.time())
        self._uid_seq = itertools.count(1)
        self._chan_seq = itertools.count(1)
        self.queues = {}
        for name in self._initial_queues:
            self.queues[name] = SimQueue(name)
        for agent in self._initial_agents:
            q = self.queue(agent.queue)
            q.members[agent.interface] = self._member(agent.queue, agent.interface, agent.name, "static")

    def _member(self, queue: str, interface: str, name: str, membership: str) -> SimMember:
        return SimMember(
            queue=queue,
            interface=interface,
            member_name=name,
            membership=membership,
            login_time=self.epoch(),
            ring_s=self.agent_ring_s,
            wrapup_s=self.agent_wrapup_s,
        )

    async def start(self) -> None:
        """Start listening; with ``port=0`` the chosen port is then in :attr:`port`.

        After :meth:`shutdown` without restart this is a fresh boot (``Uptime: 0``, no calls).
        """
        if self._down:
            self._boot()
            self._down = False
        self._loop = asyncio.get_running_loop()
        self._server = await self._loop.create_server(lambda: _Session(self), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("sim_pbx_listening", host=self.host, port=self.port)

    async def close(self) -> None:
        """Stop listening, hang up nothing (calls just vanish), close every session."""
        self._cancel_everything()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for s in list(self.sessions):
            s.close()

    def _cancel_everything(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()
        for call in list(self.calls_by_uid.values()):
            for th in call.timers:
                th.cancel()
        self.calls_by_uid.clear()
        self.channels.clear()

    # -- fault injection -----------------------------------------------------------------

    def drop_connections(self) -> None:
        """Close every AMI connection abruptly (no Shutdown); calls go on."""
        for s in list(self.sessions):
            if s.transport is not None:
                s.transport.abort()

    async def unreachable(self) -> None:
        """The network to this PBX fails: every AMI connection drops and new ones are refused
        until :meth:`reachable`; calls go on (and may end) unseen, as on a real Asterisk."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.drop_connections()

    async def reachable(self) -> None:
        """The network is back: listen again on the same port (the calls are as they went on)."""
        assert self._loop is not None
        if self._server is None:
            self._server = await self._loop.create_server(lambda: _Session(self), self.host, self.port)

    def send_garbled(self, data: bytes = b"this is not an AMI message\r\nnor: is this one\r\n\r\n") -> None:
        """Write a block that is not ``Key: Value`` lines to every logged-in session."""
        for s in list(self.sessions):
            if s.authenticated:
                s.write(data)

    async def restart(self, *, down_s: float = 0.2) -> None:
        """``core restart now``: Shutdown event, EOF, connections refused, then a fresh boot.

        In-flight calls vanish without events (Asterisk takes them down with it) and dynamic
        queue members are forgotten (``persistentmembers = no``).
        """
        self.emit("Shutdown", "system,all", [("Shutdown", "Cleanly"), ("Restart", "True")])
        await self._go_down()
        await asyncio.sleep(down_s)
        self._boot()
        assert self._loop is not None
        self._server = await self._loop.create_server(lambda: _Session(self), self.host, self.port)
        log.info("sim_pbx_restarted", port=self.port)

    async def shutdown(
        self, *, restart: bool = True, down_s: float = 0.2, gap_s: float = 0.05, cause: int = 16
    ) -> None:
        """``core restart now`` / ``core stop now`` the way Asterisk does it (issue 17 item 4).

        In asterisk.c's order: new work is refused at once (every AMI action but Logoff gets
        ``Response: Error`` ``Message: Asterisk is shutting down``); every channel is hung up
        (with ``cause``: a call in the queue shows QueueCallerAbandon, a ringing one an
        OriginateResponse Reason 1, as for any hang-up); ``gap_s`` real seconds later, once the
        channels are gone, ``Event: Shutdown`` (``Cleanly``, ``Restart: True|False``) and EOF.
        With ``restart`` the server refuses connections for ``down_s`` and boots afresh
        (``Uptime: 0``, dynamic members forgotten); without, it stays down until :meth:`start`.
        """
        self.shutting_down = True
        for call in list(self.calls_by_uid.values()):
            call.hangup_action(cause)
        await asyncio.sleep(gap_s)
        clean = "Cleanly" if not self.channels else "Uncleanly"
        restarting = "True" if restart else "False"
        self.emit("Shutdown", "system,all", [("Shutdown", clean), ("Restart", restarting)])
        await self._go_down()
        log.info("sim_pbx_shut_down", restart=restart)
        self._down = True
        if restart:
            await asyncio.sleep(down_s)
            await self.start()
            log.info("sim_pbx_restarted", port=self.port)

    async def _go_down(self) -> None:
        """EOF on every session, every call and timer forgotten, no more listening."""
        for s in list(self.sessions):
            s.close()
        self._cancel_everything()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    # -- services for calls ------------------------------------------------------------------

    def later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """Run ``fn(*args)`` after ``delay_s`` simulated seconds."""
        assert self._loop is not None
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(handle)
            fn(*args)

        handle = self._loop.call_later(max(0.0, delay_s) * self.time_scale, fire)
        self._timers.add(handle)
        return handle

    def sim_now(self) -> float:
        return (time.monotonic() - self._t0) / self.time_scale

    def epoch(self) -> int:
        return self._epoch0 + int(self.sim_now())

    def new_uniqueid(self) -> str:
        return f"{self._epoch0}.{next(self._uid_seq)}"

    def next_channel_seq(self) -> int:
        return next(self._chan_seq)

    @staticmethod
    def new_bridge_id() -> str:
        return str(uuid.uuid4())

    def new_channel(
        self, name: str, uniqueid: str, linkedid: str, context: str, exten: str, state: int
    ) -> SimChannel:
        ch = SimChannel(
            name=name,
            uniqueid=uniqueid,
            linkedid=linkedid,
            context=context,
            exten=exten,
            state=state,
            created_at=self.sim_now(),
        )
        self.channels[name] = ch
        return ch

    def remove_channel(self, ch: SimChannel) -> None:
        self.channels.pop(ch.name, None)

    def queue(self, name: str) -> SimQueue:
        """Queue ``name``, created if missing: the boot's configuration only (no action creates one)."""
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = SimQueue(name)
        return q

    def call_finished(self, call: SimCall) -> None:
        self.calls_by_uid.pop(call.c1.uniqueid, None)

    def dispatch_queue(self, q: SimQueue) -> None:
        """Give waiting callers (in order) to free members."""
        now = self.sim_now()
        for caller in list(q.callers):
            assert isinstance(caller, SimCall)
            if caller.state.value != "queued":
                continue
            member = q.free_member(now)
            if member is None:
                return
            caller.ring_member(member)

    def member_freed(self, member: SimMember) -> None:
        q = self.queues.get(member.queue)
        if q is None or member.interface not in q.members:
            return
        if member.wrapup_s > 0:
            self.later(member.wrapup_s, self.dispatch_queue, q)
        else:
            # after the current event sequence, as app_queue does on the next poll
            self.later(0.0, self.dispatch_queue, q)

    def emit(self, event: str, privilege: str, headers: list[tuple[str, str]]) -> None:
        if event in self.suppressed_events:
            return
        data = encode([("Event", event), ("Privilege", privilege), *headers])
        self.events_sent += 1
        for s in self.sessions:
            if s.authenticated and s.events:
                s.write(data)

    # -- actions -------------------------------------------------------------------------

    def _respond(
        self,
        session: _Session,
        msg: AmiMessage,
        headers: list[tuple[str, str]],
        then: Callable[[], None] | None = None,
    ) -> None:
        pairs: list[tuple[str, str]] = [headers[0]]
        if msg.action_id is not None:
            pairs.append(("ActionID", msg.action_id))
        pairs.extend(headers[1:])
        data = encode(pairs)

        def send() -> None:
            session.write(data)
            if then is not None:
                then()

        if self.response_delay_s > 0 and self._loop is not None:
            self._loop.call_later(self.response_delay_s, send)
        else:
            send()

    def _error(self, session: _Session, msg: AmiMessage, text: str) -> None:
        self._respond(session, msg, [("Response", "Error"), ("Message", text)])

    def handle_action(self, session: _Session, msg: AmiMessage) -> None:
        action = (msg.action or "").lower()
        self.action_counts[action] += 1
        if not session.authenticated:
            if action == "login":
                self._login(session, msg)
            elif action == "logoff":
                self._respond(
                    session,
                    msg,
                    [("Response", "Goodbye"), ("Message", "Thanks for all the fish.")],
                    then=session.close,
                )
            else:
                self._error(session, msg, "Authentication Required")
            return
        if self.shutting_down and action != "logoff":
            # manager.c: no action is processed once a shutdown began
            self.refused_actions[action] += 1
            self._error(session, msg, "Asterisk is shutting down")
            return
        handler = self._ACTIONS.get(action)
        if handler is None:
            self._error(session, msg, "Invalid/unknown command")
            return
        if not admin.permitted(self, action):
            self._error(session, msg, "Permission denied")
            return
        handler(self, session, msg)

    def _login(self, session: _Session, msg: AmiMessage) -> None:
        if msg.get("Username") == self.username and msg.get("Secret") == self._secret:
            session.authenticated = True
            session.events = (msg.get("Events") or "on").lower() not in ("off", "no", "false")
            uptime = str(int(time.monotonic() - self._booted_at))

            def booted() -> None:
                if session.events:
                    session.write(
                        encode(
                            [
                                ("Event", "FullyBooted"),
                                ("Privilege", "system,all"),
                                ("Uptime", uptime),
                                ("LastReload", uptime),
                                ("Status", "Fully Booted"),
                            ]
                        )
                    )

            self._respond(
                session, msg, [("Response", "Success"), ("Message", "Authentication accepted")], then=booted
            )
            return
        log.info("sim_login_failed", username=msg.get("Username"))
        assert self._loop is not None

        def fail() -> None:
            self._respond(
                session,
                msg,
                [("Response", "Error"), ("Message", "Authentication failed")],
                then=session.close,
            )

        self._loop.call_later(self.auth_fail_delay_s, fail)

    def _logoff(self, session: _Session, msg: AmiMessage) -> None:
        self._respond(
            session,
            msg,
            [("Response", "Goodbye"), ("Message", "Thanks for all the fish.")],
            then=session.close,
        )

    def _ping(self, session: _Session, msg: AmiMessage) -> None:
        self._respond(
            session, msg, [("Response", "Success"), ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]
        )

    def _originate(self, session: _Session, msg: AmiMessage) -> None:
        channel = msg.get("Channel")
        if not channel:
            self._error(session, msg, "Channel not specified")
            return
        tech, _, rest = channel.partition("/")
        number, _, trunk = rest.partition("@")
        trunk, _, local_options = trunk.partition("/")  # Local/x@ctx/n: channel options
        if tech not in ("Local", "PJSIP", "SIP", "IAX2", "DAHDI") or not number or not trunk:
            self._error(session, msg, "Invalid channel")
            return
        if msg.get("Application"):
            self._error(session, msg, "Application originate is not simulated; use Context/Exten")
            return
        variables: dict[str, str] = {}
        for item in msg.get_all("Variable"):
            for part in item.split(","):
                k, sep, v = part.partition("=")
                if sep:
                    variables[k.strip().lstrip("_")] = v
        try:
            timeout_s = float(msg.get("Timeout") or "30000") / 1000.0
        except ValueError:
            self._error(session, msg, "Invalid timeout")
            return
        cid_num, cid_name = _parse_callerid(msg.get("CallerID") or "")
        channel_id = msg.get("ChannelId")
        if channel_id and channel_id in self.calls_by_uid:
            self._error(session, msg, "Originate failed: channel id in use")
            return
        call = SimCall(
            self,
            action_id=msg.action_id or "",
            tech=tech,
            number=number,
            trunk=trunk,
            context=msg.get("Context") or "dialer-connect",
            exten=msg.get("Exten") or "s",
            timeout_s=timeout_s,
            cid_num=cid_num,
            cid_name=cid_name,
            channel_id=channel_id,
            variables=variables,
            behaviour=self.population.behaviour_for(number),
            local_options=local_options if tech == "Local" else "",
        )
        self._respond(session, msg, [("Response", "Success"), ("Message", "Originate successfully queued")])
        # the channel threads start right after the response (transcripts: +0.000 s)
        self.later(0.0, call.start)

    def _hangup(self, session: _Session, msg: AmiMessage) -> None:
        name = msg.get("Channel") or ""
        ch = self.channels.get(name)
        call = None
        if ch is not None:
            call = self.calls_by_uid.get(ch.linkedid)
        else:
            call = self.calls_by_uid.get(name)
        if call is None:
            self._error(session, msg, "No such channel")
            return
        try:
            cause = int(msg.get("Cause") or "16")
        except ValueError:
            cause = 16
        self._respond(session, msg, [("Response", "Success"), ("Message", "Channel Hungup")])
        call.hangup_action(cause)

    def _queue_add(self, session: _Session, msg: AmiMessage) -> None:
        qname, iface = msg.get("Queue"), msg.get("Interface")
        if not qname or not iface:
            self._error(session, msg, "'Queue' and 'Interface' not specified.")
            return
        q = self.queues.get(qname)
        if q is None:  # app_queue's RES_NOSUCHQUEUE: queues come from queues.conf only
            self._error(session, msg, "Unable to add interface to queue: No such queue")
            return
        if iface in q.members:
            self._error(session, msg, "Unable to add interface: Already there")
            return
        m = self._member(qname, iface, msg.get("MemberName") or iface, "dynamic")
        m.paused = (msg.get("Paused") or "false").lower() in ("true", "1", "yes")
        m.penalty = int(msg.get("Penalty") or "0")
        q.members[iface] = m
        self._respond(session, msg, [("Response", "Success"), ("Message", "Added interface to queue")])
        self.emit(
            "DeviceStateChange",
            "call,all",
            [("Device", f"Queue:{qname}_pause_{iface}"), ("State", "INUSE" if m.paused else "NOT_INUSE")],
        )
        self.emit("QueueMemberAdded", "agent,all", m.headers())
        self.later(0.0, self.dispatch_queue, q)

    def _queue_remove(self, session: _Session, msg: AmiMessage) -> None:
        qname, iface = msg.get("Queue") or "", msg.get("Interface") or ""
        q = self.queues.get(qname)
        if q is None:
            self._error(session, msg, "Unable to remove interface from queue: No such queue")
            return
        m = q.members.get(iface)
        if m is None:
            self._error(session, msg, "Unable to remove interface: Not there")
            return
        del q.members[iface]
        self._respond(session, msg, [("Response", "Success"), ("Message", "Removed interface from queue")])
        self.emit("QueueMemberRemoved", "agent,all", m.headers())
        self.emit(
            "DeviceStateChange",
            "call,all",
            [("Device", f"Queue:{qname}_pause_{iface}"), ("State", "NOT_INUSE")],
        )

    def _queue_pause(self, session: _Session, msg: AmiMessage) -> None:
        iface = msg.get("Interface") or ""
        qname = msg.get("Queue")
        paused = (msg.get("Paused") or "true").lower() in ("true", "1", "yes")
        targets = [
            q.members[iface]
            for q in self.queues.values()
            if iface in q.members and (qname is None or q.name == qname)
        ]
        if not targets:
            self._error(session, msg, "Interface not found")
            return
        text = "Interface paused successfully" if paused else "Interface unpaused successfully"
        self._respond(session, msg, [("Response", "Success"), ("Message", text)])
        if self.queue_pause_lag_s > 0:
            # The pause reaches the members late, while app_queue already rings one of them.
            self.later(self.queue_pause_lag_s, self._apply_pause, targets, iface, paused, msg.get("Reason"))
        else:
            self._apply_pause(targets, iface, paused, msg.get("Reason"))

    def _apply_pause(self, targets: list[SimMember], iface: str, paused: bool, reason: str | None) -> None:
        for m in targets:
            m.paused = paused
            m.paused_reason = (reason or "") if paused else ""
            if paused:
                m.last_pause = self.epoch()
            self.emit(
                "DeviceStateChange",
                "call,all",
                [("Device", f"Queue:{m.queue}_pause_{iface}"), ("State", "INUSE" if paused else "NOT_INUSE")],
            )
            self.emit("QueueMemberPause", "agent,all", m.headers())
            if not paused:
                self.later(0.0, self.dispatch_queue, self.queues[m.queue])

    def list_response(
        self,
        session: _Session,
        msg: AmiMessage,
        message: str,
        items: list[tuple[str, list[tuple[str, str]]]],
        complete: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        """A list answer: ``EventList: start``, the items, the ``complete`` event (+ ``extra``)."""
        aid = msg.action_id
        chunks = [
            encode(
                [
                    ("Response", "Success"),
                    *([("ActionID", aid)] if aid else []),
                    ("EventList", "start"),
                    ("Message", message),
                ]
            )
        ]
        for event, headers in items:
            chunks.append(encode([("Event", event), *headers, *([("ActionID", aid)] if aid else [])]))
        chunks.append(
            encode(
                [
                    ("Event", complete),
                    *([("ActionID", aid)] if aid else []),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(items))),
                    *(extra or []),
                ]
            )
        )
        data = b"".join(chunks)
        if self.response_delay_s > 0 and self._loop is not None:
            self._loop.call_later(self.response_delay_s, session.write, data)
        else:
            session.write(data)

    def _queue_status(self, session: _Session, msg: AmiMessage) -> None:
        qname = msg.get("Queue")
        items: list[tuple[str, list[tuple[str, str]]]] = []
        for q in sorted(self.queues.values(), key=lambda q: q.name):
            if qname and q.name != qname:
                continue
            items.append(("QueueParams", q.params_headers()))
            for m in q.members.values():
                items.append(("QueueMember", m.status_entry_headers()))
        self._list_response(session, msg, "Queue status will follow", items, "QueueStatusComplete")

    def _queue_summary(self, session: _Session, msg: AmiMessage) -> None:
        qname = msg.get("Queue")
        now = self.sim_now()
        items = [
            ("QueueSummary", q.summary_headers(now))
            for q in sorted(self.queues.values(), key=lambda q: q.name)
            if not qname or q.name == qname
        ]
        self._list_response(session, msg, "Queue summary will follow", items, "QueueSummaryComplete")

    def _core_show_channels(self, session: _Session, msg: AmiMessage) -> None:
        now = self.sim_now()
        items = []
        for ch in self.channels.values():
            d = int(now - ch.created_at)
            items.append(
                (
                    "CoreShowChannel",
                    [
                        *ch.headers(),
                        ("Application", ch.application),
                        ("ApplicationData", ch.application_data),
                        ("Duration", f"{d // 3600:02d}:{d // 60 % 60:02d}:{d % 60:02d}"),
                        ("BridgeId", ch.bridge_id),
                    ],
                )
            )
        self._list_response(session, msg, "Channels will follow", items, "CoreShowChannelsComplete")

    def _user_event(self, session: _Session, msg: AmiMessage) -> None:
        name = msg.get("UserEvent")
        if not name:
            self._error(session, msg, "UserEvent needs a name")
            return
        self._respond(session, msg, [("Response", "Success")])
        extra = [(k, v) for k, v in msg.headers if k.lower() not in ("action", "actionid", "userevent")]
        self.emit("UserEvent", "user,all", [("UserEvent", name), *extra])

    def _command(self, session: _Session, msg: AmiMessage) -> None:
        cmd = (msg.get("Command") or "").strip()
        out = admin.command_output(self, cmd)
        if out is not None:
            pass
        elif cmd == "core show version":
            out = ["Asterisk 22.10.1 (simulated by the dialer's simulate-pbx)"]
        elif cmd == "core show uptime":
            out = [f"System uptime: {int(time.monotonic() - self._booted_at)} seconds"]
        elif cmd == "core show channels count":
            out = [f"{len(self.channels)} active channels", f"{len(self.calls_by_uid)} active calls"]
        else:
            out = [f"No such command '{cmd}' (type 'core show help {cmd}' for other possible commands)"]
        self._respond(
            session,
            msg,
            [
                ("Response", "Success"),
                ("Message", "Command output follows"),
                *[("Output", line) for line in out],
            ],
        )

    respond = _respond  # for the handlers of ami/simulator/admin.py
    _list_response = list_response  # the name the handlers above use

    _ACTIONS: ClassVar[dict[str, Callable[[SimulatedPbx, _Session, AmiMessage], None]]] = {
        "logoff": _logoff,
        "ping": _ping,
        "originate": _originate,
        "hangup": _hangup,
        "queueadd": _queue_add,
        "queueremove": _queue_remove,
        "queuepause": _queue_pause,
        "queuestatus": _queue_status,
        "queuesummary": _queue_summary,
        "coreshowchannels": _core_show_channels,
        "userevent": _user_event,
        "command": _command,
        "listcommands": admin.list_commands,
        "showdialplan": admin.show_dialplan,
        "getvar": admin.getvar,
        "coresettings": admin.core_settings,
    }

    @property
    def live_calls(self) -> int:
        return len(self.calls_by_uid)


def _parse_callerid(text: str) -> tuple[str, str]:
    """``"Dialer" <5550000>`` -> ("5550000", "Dialer"); Asterisk's ast_callerid_parse, simplified."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, num = text[:-1].partition("<")
        return num.strip(), name.strip().strip('"')
    if text:
        return text, "<unknown>"
    return "<unknown>", "<unknown>"


__all__ = ["VERBOSITY", "SimAgent", "SimulatedPbx"]
