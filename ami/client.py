"""The asyncio shell around one Asterisk server's AMI: connection, login, actions, reconnect.

Theory of operation. The shell only moves bytes, timers and reconnects; every decision
about a call is taken by the pure layers it feeds (:mod:`ami.framing` for bytes,
:class:`ami.routing.EventRouter` to find the attempt, :class:`ami.outcome.AttemptMachine`
per attempt, :func:`ami.agent_events.agent_event` for queue members).

How panoramisk is used, and where it is not. The transport is a subclass of panoramisk's
``AMIProtocol`` (an ``asyncio.Protocol``), but three of panoramisk's choices fight an
engine that must see every event of a call in order:

* ``AMIProtocol.data_received`` parses inside the callback with a ``str.split`` that loses
  repeated headers and treats a garbled block as a message; we override it to feed our
  sans-IO :class:`~ami.framing.AmiFramer` and handle each frame synchronously, in arrival
  order (STYLE rule 7).
* ``Manager.dispatch`` ``ensure_future``s a handler per event, so two events of one call
  can be handled out of order; we never call it.
* ``Action.multi`` treats an async Originate's ``successfully queued`` and QueueAdd's
  ``Added interface to queue`` as the start of a list, so the OriginateResponse and
  member events are swallowed by the action's future. We correlate responses by ActionID
  ourselves: a plain action ends at its ``Response``; a list action (``EventList: start``)
  at its ``...Complete`` event.

``Manager``'s fixed-delay reconnect and non-raising login are replaced too: login raises
:class:`~ami.errors.AmiAuthError` naming server and user; reconnects back off
exponentially with jitter from an injected RNG.

Losing the connection never forgets a call: every attempt in flight becomes *suspect*;
after the next login :class:`ami.inflight.InFlightAudit` checks every call followed against
``CoreShowChannels``: a call still up is re-tracked with its channels corrected, one gone
ends with what the list and its events prove (``LOST`` when nothing does). The same audit
runs every ``audit_every_s`` for calls with no event for ``audit_quiet_s``. If no reconnect
succeeds within ``lost_after_s`` the suspects end as ``LOST``. :meth:`AmiClient.adopt`
follows a call another engine placed; :meth:`AmiClient.release` stops following calls
handed over to another engine.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from panoramisk.ami_protocol import AMIProtocol

from ami.agent_events import agent_event
from ami.errors import (
    AmiActionError,
    AmiActionFailed,
    AmiAuthError,
    AmiConnectionLost,
    AmiNotConnected,
    AmiProtocolError,
    AmiTimeout,
)
from ami.framing import UNCONSUMED_EVENTS, AmiFramer, AmiMessage, Banner, Frame, GarbledMessage, encode
from ami.inflight import InFlightAudit, attempts_on_pbx
from ami.outcome import AMD_ACTION_AGENT, VAR_AMD_ACTION, AttemptMachine, Ended
from ami.routing import EventRouter
from ami.shutdown import DEFAULT_GRACE_S, ShutdownWatch, is_shutdown_refusal
from config.model import AmiServerConfig

log = structlog.get_logger(__name__)

# Default connect limit in seconds: an answered call must reach an agent within 2 s
# (DESIGN.md regulatory facts); the dialplan's DIALER_QUEUE_TIMEOUT default.
DEFAULT_QUEUE_TIMEOUT_S = 2.0


# Responses that mean the action worked: Success; Follows (Command on Asterisk < 14);
# Goodbye (Logoff). Same set as panoramisk's Message.success_responses.
_SUCCESS = frozenset({"Success", "Follows", "Goodbye"})
# A response slower than this is logged with its action and time (a PBX under load).
SLOW_RESPONSE_S = 1.0


class ConnectionState(enum.Enum):
    """Observable connection state (one gauge per server later)."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    SHUTTING_DOWN = "shutting_down"  # logged in, but the server said it is shutting down
    BACKOFF = "backoff"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class OriginateQueued:
    """Asterisk accepted the Originate; the call's progress arrives as updates."""

    attempt_id: str
    server: str
    action_id: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class QueueMemberEntry:
    """One ``QueueMember`` row of a QueueStatus answer."""

    queue: str
    interface: str
    member_name: str
    membership: str
    status: int
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int


@dataclass(frozen=True, slots=True)
class QueueParamsEntry:
    """One ``QueueParams`` row of a QueueStatus answer."""

    queue: str
    calls: int
    completed: int
    abandoned: int
    strategy: str


@dataclass(frozen=True, slots=True)
class QueueStatusReport:
    queues: tuple[QueueParamsEntry, ...]
    members: tuple[QueueMemberEntry, ...]


def backoff_delay_s(attempt: int, *, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full-range jitter in [0.5, 1.5) of the nominal delay.

    Jitter spreads the reconnects of many dialers after an Asterisk restart (the "thundering
    herd" AWS describes in "Exponential Backoff And Jitter", 2015).
    """
    nominal = min(max_s, initial_s * (2**attempt))
    return nominal * (0.5 + rng.random())


class _Pending:
    """An action waiting for its response (and, for lists, its events)."""

    __slots__ = ("action", "events", "future", "is_list", "response")

    def __init__(self, action: str, future: asyncio.Future[Any], is_list: bool) -> None:
        self.action = action
        self.future = future
        self.is_list = is_list
        self.response: AmiMessage | None = None
        self.events: list[AmiMessage] = []


class _AmiProtocol(AMIProtocol):
    """panoramisk's protocol class with our framer in ``data_received`` (see module doc)."""

    def __init__(self, client: AmiClient) -> None:
        self._client = client
        self._framer = AmiFramer(expect_banner=True, skip=UNCONSUMED_EVENTS)
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.closed = False
        self._client._protocol = self  # before any data_received: the banner may come at once

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            frames = self._framer.feed(data)
            self._client.events_skipped += self._framer.skipped
            self._framer.skipped = 0
        except AmiProtocolError as e:  # a peer we cannot read on from (bounded reads, framing.py)
            self.closed = True
            self._client._on_protocol_error(self, e)
            self.abort()
            return
        for frame in frames:
            self._client._on_frame(self, frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._client._on_connection_lost(self, exc)

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            raise AmiNotConnected("AMI connection is closed")
        self.transport.write(data)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


UpdateListener = Callable[[Any], None]


class AmiClient:
    """One Asterisk server's AMI, for the engine.

    Args:
        server: host, port, user, secret (revealed only inside the Login action),
            channel limit, ping interval, connect timeout.
        rng: jitter source for reconnect backoff (seed it in tests).
        clock: monotonic seconds for the attempt machines' ``at_s``.
        trunk_context: dialplan context the customer is dialled through (``Local/N@ctx``).
        connect_context: context an answered customer lands in.
        backoff_initial_s, backoff_max_s: reconnect backoff bounds.
        lost_after_s: how long in-flight attempts wait for a reconnect before ending LOST.
        action_timeout_s: default time to wait for an action's response.
        settle_after_s: once an attempt's outcome is decided, how long to wait for its last
            hang-ups before ending it anyway (``AttemptMachine.settle``).
        shutdown_grace_s: how long an ending decided by a hang-up waits for a sign that the
            server is shutting down (:mod:`ami.shutdown`).
        audit_every_s, audit_quiet_s: how often calls with no event for ``audit_quiet_s``
            are checked against ``CoreShowChannels`` (:mod:`ami.inflight`).
    """

    def __init__(
        self,
        server: AmiServerConfig,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        trunk_context: str = "dialer-out",
        connect_context: str = "dialer-connect",
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        lost_after_s: float = 30.0,
        action_timeout_s: float = 10.0,
        settle_after_s: float = 10.0,
        shutdown_grace_s: float = DEFAULT_GRACE_S,
        audit_every_s: float = 10.0,
        audit_quiet_s: float = 30.0,
    ) -> None:
        self.server = server
        self.name = server.name
        self._rng = rng or random.Random()
        self._clock = clock
        self.trunk_context = trunk_context
        self.connect_context = connect_context
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._lost_after_s = lost_after_s
        self._action_timeout_s = action_timeout_s
        self._state = ConnectionState.DISCONNECTED
        self._protocol: _AmiProtocol | None = None
        self._banner: asyncio.Future[str] | None = None
        self._pending: dict[str, _Pending] = {}
        self._action_seq = 0
        self._router = EventRouter()
        self._machines: dict[str, AttemptMachine] = {}
        self._channel_names: dict[str, str] = {}
        self._suspect: set[str] = set()
        self._settle_timers: dict[str, asyncio.TimerHandle] = {}
        self._settle_after_s = settle_after_s
        self._lost_timer: asyncio.TimerHandle | None = None
        self._connection_lost: asyncio.Event = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._auditor: asyncio.Task[None] | None = None
        self._audit_every_s = audit_every_s
        self._audit_owed: set[str] = set()  # skipped by the reconnect audit: checked next period
        self.audit = InFlightAudit(
            self.name,
            machines=lambda: self._machines,
            list_channels=self.core_show_channels,
            deliver=self._deliver,
            clock=clock,
            quiet_after_s=audit_quiet_s,
        )
        self._closing = False
        self._update_listeners: list[UpdateListener] = []
        self._agent_listeners: list[UpdateListener] = []
        self._state_listeners: list[Callable[[AmiClient, ConnectionState], None]] = []
        self._update_queue: asyncio.Queue[Any] | None = None
        self._agent_queue: asyncio.Queue[Any] | None = None
        self.garbled_messages = 0
        self.events_received = 0
        self.events_skipped = 0  # noise dropped unread (ami.framing.UNCONSUMED_EVENTS)
        self.reconnects = 0
        self.last_uptime_s: int | None = None
        self._pbx_shutdown = ShutdownWatch(self.name, self._emit_update, grace_s=shutdown_grace_s)

    # -- observation ---------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state is ConnectionState.CONNECTED

    @property
    def in_flight(self) -> int:
        """Attempts originated here and not yet ended (what the channel limit counts)."""
        return len(self._machines)

    @property
    def channel_limit(self) -> int:
        return self.server.channel_limit

    def add_update_listener(self, listener: UpdateListener) -> None:
        """``listener(update)`` is called synchronously, in order, for every AttemptUpdate."""
        self._update_listeners.append(listener)

    def add_agent_listener(self, listener: UpdateListener) -> None:
        """``listener(update)`` for every queue-member/agent update (ami.agent_events)."""
        self._agent_listeners.append(listener)

    def add_state_listener(self, listener: Callable[[AmiClient, ConnectionState], None]) -> None:
        self._state_listeners.append(listener)

    async def updates(self) -> AsyncIterator[Any]:
        """Async iterator over AttemptUpdates (an alternative to a listener), from the first call on."""
        if self._update_queue is None:
            self._update_queue = asyncio.Queue()
        while True:
            yield await self._update_queue.get()

    async def agent_updates(self) -> AsyncIterator[Any]:
        """Async iterator over agent updates (ami.agent_events), from the first call on."""
        if self._agent_queue is None:
            self._agent_queue = asyncio.Queue()
        while True:
            yield await self._agent_queue.get()

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        for listener in self._state_listeners:
            listener(self, state)

    # -- connection lifecycle ---------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and log in once, then keep the connection up in the background.

        Raises:
            AmiAuthError: Asterisk refused the user/secret (not retried: a config error).
            AmiConnectionLost: the server could not be reached or closed the connection.
        """
        if self._supervisor is not None:
            raise AmiActionError(f"AMI client {self.name!r} is already started")
        self._closing = False
        await self._connect_once()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ami-supervisor-{self.name}")

    async def start(self) -> bool:
        """Like :meth:`connect`, but an unreachable server is retried in the background.

        Returns whether the first connection succeeded.

        Raises:
            AmiAuthError: Asterisk refused the user/secret.
        """
        try:
            await self.connect()
            return True
        except AmiConnectionLost as e:
            log.warning("ami_server_unreachable", server=self.name, error=str(e))
            self._connection_lost.set()
            self._supervisor = asyncio.create_task(self._supervise(), name=f"ami-supervisor-{self.name}")
            return False

    async def _connect_once(self) -> None:
        loop = asyncio.get_running_loop()
        srv = self.server
        self._set_state(ConnectionState.CONNECTING)
        self._connection_lost = asyncio.Event()
        self._banner = loop.create_future()
        log.info("ami_connecting", server=self.name, host=srv.host, port=srv.port)
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: _AmiProtocol(self), srv.host, srv.port),
                srv.connect_timeout_s,
            )
            await asyncio.wait_for(asyncio.shield(self._banner), srv.connect_timeout_s)
        except (OSError, TimeoutError, AmiProtocolError) as e:
            self._drop_protocol()
            self._set_state(ConnectionState.DISCONNECTED)
            raise AmiConnectionLost(
                f"cannot connect to AMI server {self.name!r} ({srv.host}:{srv.port}): {e!r}"
            ) from e
        try:
            resp = await self._send(
                [
                    ("Action", "Login"),
                    ("Username", srv.username),
                    ("Secret", srv.secret.reveal()),
                    ("Events", "on"),
                ],
                timeout=srv.connect_timeout_s + 2.0,
                check=False,
            )
        except AmiTimeout as e:
            self._drop_protocol()
            self._set_state(ConnectionState.DISCONNECTED)
            raise AmiConnectionLost(
                f"AMI server {self.name!r} did not answer the Login within "
                f"{srv.connect_timeout_s + 2.0:g} s (connect_timeout_s + 2): it is overloaded or not "
                "answering actions; retrying"
            ) from e
        except AmiConnectionLost as e:
            self._drop_protocol()
            self._set_state(ConnectionState.DISCONNECTED)
            raise AmiConnectionLost(
                f"AMI server {self.name!r} closed the connection during login: {e}"
            ) from e
        if resp.response != "Success":
            self._drop_protocol()
            self._set_state(ConnectionState.DISCONNECTED)
            log.error(
                "ami_login_failed", server=self.name, username=srv.username, message=resp.get("Message")
            )
            raise AmiAuthError(self.name, srv.username, resp.get("Message") or "no message")
        self._set_state(ConnectionState.CONNECTED)
        log.info("ami_connected", server=self.name, username=srv.username)
        self._pinger = asyncio.create_task(self._ping_loop(), name=f"ami-ping-{self.name}")
        if self._auditor is None:
            self._auditor = asyncio.create_task(self._audit_loop(), name=f"ami-audit-{self.name}")
        if self._lost_timer is not None:
            self._lost_timer.cancel()
            self._lost_timer = None
        if self._machines:
            await self._reconcile()
        if not self._suspect:  # the calls a shutdown took away are reconciled: it is over
            self._pbx_shutdown.booted()

    def _drop_protocol(self) -> None:
        if self._protocol is not None:
            self._protocol.abort()
            self._protocol = None

    async def _supervise(self) -> None:
        """Reconnect with backoff whenever the connection drops, until close()."""
        failures = 0
        while not self._closing:
            await self._connection_lost.wait()
            if self._closing:
                return
            self._set_state(ConnectionState.BACKOFF)
            delay = backoff_delay_s(
                failures, initial_s=self._backoff_initial_s, max_s=self._backoff_max_s, rng=self._rng
            )
            log.info("ami_reconnect_scheduled", server=self.name, delay_s=round(delay, 3), failures=failures)
            await asyncio.sleep(delay)
            if self._closing:
                return
            try:
                await self._connect_once()
            except AmiAuthError:
                failures += 1  # logged in _connect_once; an operator may fix the secret
                self._connection_lost.set()
            except AmiConnectionLost as e:
                failures += 1
                log.warning("ami_reconnect_failed", server=self.name, error=str(e), failures=failures)
                self._connection_lost.set()
            else:
                failures = 0
                self.reconnects += 1

    async def _ping_loop(self) -> None:
        interval = self.server.ping_interval_s
        while True:
            await asyncio.sleep(interval)
            try:
                await self._send([("Action", "Ping")], timeout=interval)  # unanswered by the next one: dead
            except AmiTimeout:
                log.warning("ami_ping_timeout", server=self.name)
                if self._protocol is not None:
                    self._protocol.abort()
                return
            except AmiConnectionLost:
                return

    async def _audit_loop(self) -> None:
        """Every ``audit_every_s``: calls quiet for long are checked against the PBX."""
        while True:
            await asyncio.sleep(self._audit_every_s)
            due = set(self.audit.quiet(self._clock())) | (self._audit_owed & self._machines.keys())
            if not due or not self.connected:
                continue
            try:
                result = await self.audit.check(due, reason="quiet")
            except (AmiConnectionLost, AmiNotConnected, AmiTimeout):
                continue  # the reconnect audits every call; a hung server is the pinger's
            self._audit_owed = set(result.skipped_ids)

    async def close(self, *, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - STYLE rule 15: keyword timeout=
        """Log off and stop; attempts still in flight end as LOST (never silently dropped)."""
        self._closing = True
        if self.connected:
            try:
                await self._send([("Action", "Logoff")], timeout=timeout, check=False)
            except (AmiConnectionLost, AmiTimeout):
                pass
        await self._shutdown()

    async def terminate(self) -> None:
        """Stop now: abort the socket without Logoff."""
        self._closing = True
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._connection_lost.set()
        for task in (self._supervisor, self._pinger, self._auditor):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._supervisor = self._pinger = self._auditor = None
        self._drop_protocol()
        if self._lost_timer is not None:
            self._lost_timer.cancel()
            self._lost_timer = None
        self._end_lost(list(self._machines))
        self._pbx_shutdown.flush()
        self._set_state(ConnectionState.CLOSED)

    # -- frames in --------------------------------------------------------------------------

    def _on_frame(self, protocol: _AmiProtocol, frame: Frame) -> None:
        if protocol is not self._protocol:
            return
        if isinstance(frame, AmiMessage):
            self._on_message(frame)
        elif isinstance(frame, Banner):
            if self._banner is not None and not self._banner.done():
                self._banner.set_result(frame.text)
        elif isinstance(frame, GarbledMessage):
            self.garbled_messages += 1
            log.warning("ami_message_garbled", server=self.name, reason=frame.reason, size=len(frame.raw))

    def _on_message(self, msg: AmiMessage) -> None:
        action_id = msg.action_id
        event = msg.event
        if event is None:
            pending = self._pending.get(action_id) if action_id is not None else None
            if pending is None:
                log.debug("ami_unexpected_response", server=self.name, action_id=action_id)
                return
            if (
                pending.is_list
                and msg.response == "Success"
                and (msg.get("EventList") or "").lower() == "start"
            ):
                pending.response = msg
                return
            self._pending.pop(action_id or "", None)
            if not pending.future.done():
                pending.future.set_result(msg)
            return
        if action_id is not None and event != "OriginateResponse":
            pending = self._pending.get(action_id)
            if pending is not None and pending.is_list:
                if (msg.get("EventList") or "").lower() == "complete" or event.endswith("Complete"):
                    self._pending.pop(action_id, None)
                    if not pending.future.done():
                        pending.future.set_result(pending.events)
                else:
                    pending.events.append(msg)
                    if event == "QueueMember":  # a snapshot row: the agent listener learns it too
                        self._deliver_agent(agent_event(msg, self._clock()))
                return
        self._on_event(msg)

    def _on_event(self, msg: AmiMessage) -> None:
        self.events_received += 1
        event = msg.event
        now = self._clock()
        if event == "FullyBooted":
            uptime = msg.get("Uptime")
            self.last_uptime_s = int(uptime) if uptime and uptime.isdigit() else None
        elif event == "Shutdown":
            log.warning("ami_server_shutdown", server=self.name, restart=msg.get("Restart"))
            self._shutdown_sign("Shutdown event")
        attempt_id = self._router.route(msg)
        if attempt_id is not None:
            machine = self._machines.get(attempt_id)
            if machine is not None:
                if event == "Newchannel" and msg.get("Uniqueid") == f"dlr-{attempt_id}":
                    self._channel_names[attempt_id] = msg.get("Channel") or ""
                elif event == "BridgeEnter" and msg.get("SwapUniqueid") == f"dlr-{attempt_id}":
                    # Local optimisation (transcripts' README fact 11): the customer's channel
                    # took our ;1's place, which is about to hang up; hangup() aims at it now.
                    self._channel_names[attempt_id] = msg.get("Channel") or ""
                self._deliver(attempt_id, machine.feed(msg, now))
                if not machine.done and machine.decided and attempt_id not in self._settle_timers:
                    self._settle_timers[attempt_id] = asyncio.get_running_loop().call_later(
                        self._settle_after_s, self._settle, attempt_id
                    )
        self._deliver_agent(agent_event(msg, now))

    def _deliver_agent(self, update: Any) -> None:
        if update is None:
            return
        for listener in self._agent_listeners:
            listener(update)
        if self._agent_queue is not None:
            self._agent_queue.put_nowait(update)

    def _deliver(self, attempt_id: str, updates: Iterable[Any]) -> None:
        for update in updates:
            if isinstance(update, Ended):
                machine = self._machines.get(attempt_id)
                self._forget(attempt_id)
                # A call a shutdown cut is no abandon (ami.shutdown): relabelled, or held briefly.
                update = self._pbx_shutdown.ending(machine, update)
                if update is None:
                    continue
            self._emit_update(update)

    def _emit_update(self, update: Any) -> None:
        if isinstance(update, Ended):
            # debug: the campaign's "attempt_ended" (with the stored outcome) is the one line
            # per attempt event at info (issue 16 item 6)
            log.debug(
                "ami_attempt_ended",
                server=self.name,
                attempt_id=update.outcome.attempt_id,
                outcome=str(update.outcome.outcome),
            )
        for listener in self._update_listeners:
            listener(update)
        if self._update_queue is not None:
            self._update_queue.put_nowait(update)

    @property
    def shutting_down(self) -> bool:
        """The server said it is shutting down (until the next login)."""
        return self._pbx_shutdown.shutting_down

    def _shutdown_sign(self, why: str) -> None:
        """The server is shutting down: no more calls through it until it is back."""
        self._pbx_shutdown.sign(why)
        if self._state is ConnectionState.CONNECTED:
            self._set_state(ConnectionState.SHUTTING_DOWN)

    def _settle(self, attempt_id: str) -> None:
        """Safety timer: a decided outcome whose last Hangup never came ends anyway."""
        self._settle_timers.pop(attempt_id, None)
        machine = self._machines.get(attempt_id)
        if machine is not None:
            log.warning("attempt_settled_without_hangup", server=self.name, attempt_id=attempt_id)
            self._deliver(attempt_id, machine.settle(self._clock()))

    def _forget(self, attempt_id: str) -> None:
        timer = self._settle_timers.pop(attempt_id, None)
        if timer is not None:
            timer.cancel()
        self._machines.pop(attempt_id, None)
        self._router.forget(attempt_id)
        self._channel_names.pop(attempt_id, None)
        self._suspect.discard(attempt_id)

    def _on_protocol_error(self, protocol: _AmiProtocol, err: AmiProtocolError) -> None:
        if protocol is not self._protocol:
            return
        log.error("ami_protocol_error", server=self.name, error=str(err))
        if self._banner is not None and not self._banner.done():
            self._banner.set_exception(err)

    def _on_connection_lost(self, protocol: _AmiProtocol, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        for action_id, pending in list(self._pending.items()):
            if not pending.future.done():
                pending.future.set_exception(AmiConnectionLost(f"AMI connection to {self.name!r} lost"))
            self._pending.pop(action_id, None)
        if self._pinger is not None:
            self._pinger.cancel()
            self._pinger = None
        if self._banner is not None and not self._banner.done():
            self._banner.set_exception(AmiConnectionLost("closed before the banner"))
        was_connected = self._state in (ConnectionState.CONNECTED, ConnectionState.SHUTTING_DOWN)
        self._set_state(ConnectionState.DISCONNECTED)
        if was_connected:
            log.warning(
                "ami_connection_lost",
                server=self.name,
                error=repr(exc) if exc else None,
                in_flight=len(self._machines),
            )
            self._suspect.update(self._machines)
            if self._suspect and self._lost_timer is None:
                loop = asyncio.get_running_loop()
                self._lost_timer = loop.call_later(self._lost_after_s, self._lost_timeout)
        self._connection_lost.set()

    def _lost_timeout(self) -> None:
        self._lost_timer = None
        if not self.connected:
            self._end_lost(list(self._suspect))

    def _end_lost(self, attempt_ids: Sequence[str]) -> None:
        now = self._clock()
        if attempt_ids:
            log.warning("attempts_lost", server=self.name, count=len(attempt_ids))
        for attempt_id in attempt_ids:
            machine = self._machines.get(attempt_id)
            if machine is not None:
                self._deliver(attempt_id, machine.lost(now))
            self._forget(attempt_id)

    async def _reconcile(self) -> None:
        """After a (re)login: audit every call followed (:mod:`ami.inflight`), suspects or not."""
        try:
            result = await self.audit.check(None, reason="reconnect")
        except (AmiConnectionLost, AmiNotConnected):
            return  # still suspect: the next login asks again, lost_after_s bounds the wait
        except AmiTimeout:
            # a hung Asterisk: drop the connection so the suspects go through the loss path
            log.warning("ami_reconcile_timeout", server=self.name, suspect=len(self._suspect))
            if self._protocol is not None:
                self._protocol.abort()
            return
        self._audit_owed |= set(result.skipped_ids)
        self._suspect.clear()

    async def calls_listed(self, attempt_ids: Iterable[str]) -> dict[str, list[AmiMessage]]:
        """``CoreShowChannels`` rows of the calls of ``attempt_ids`` up here (none: left out).

        Raises:
            AmiTimeout, AmiNotConnected, AmiConnectionLost.
        """
        return attempts_on_pbx(await self.core_show_channels(), attempt_ids)

    def adopt(self, attempt_id: str, channels: Sequence[AmiMessage], *, age_s: float) -> None:
        """Follow a call another engine (or a previous run) placed, from its channels' rows.

        ``channels`` are its ``CoreShowChannel`` rows (:func:`ami.inflight.attempts_on_pbx`);
        its machine starts where they say it is (ringing, answered, with an agent) and its
        updates (``Answered``, ``AgentConnected``, in time ``Ended``) go to the listeners.

        Raises:
            AmiActionError: the attempt is already followed here.
        """
        if attempt_id in self._machines:
            raise AmiActionError(f"attempt {attempt_id!r} is already in flight")
        tag = f"dlr-{attempt_id}"
        started = self._clock() - age_s
        machine = AttemptMachine(attempt_id, action_id=tag, channel_id=tag, started_at_s=started)
        self._machines[attempt_id] = machine
        self._router.register(attempt_id, action_id=tag, channel_id=tag)
        log.info("attempt_adopted", server=self.name, attempt_id=attempt_id, channels=len(channels))
        self._deliver(attempt_id, machine.resync(channels, self._clock()))

    def release(self, attempt_ids: Iterable[str]) -> dict[str, list[str]]:
        """Stop following calls handed over to another engine; their channel ids, by attempt.

        No update is delivered for them (they are not over: the next engine adopts them).
        """
        released: dict[str, list[str]] = {}
        for attempt_id in attempt_ids:
            machine = self._machines.get(attempt_id)
            if machine is None:
                continue
            released[attempt_id] = machine.channel_ids()
            self._forget(attempt_id)
        return released

    # -- actions out ------------------------------------------------------------------------

    def _next_action_id(self, action: str) -> str:
        self._action_seq += 1
        return f"{action.lower()}-{self._action_seq}"

    async def _send(
        self,
        headers: Sequence[tuple[str, object]],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - STYLE rule 15: keyword timeout=
        check: bool = True,
        is_list: bool = False,
        action_id: str | None = None,
    ) -> Any:
        action = str(headers[0][1])
        aid = action_id or self._next_action_id(action)
        data = encode([headers[0], ("ActionID", aid), *headers[1:]])
        protocol = self._protocol
        if protocol is None:
            raise AmiNotConnected(f"AMI server {self.name!r} is not connected")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        pending = _Pending(action, future, is_list)
        self._pending[aid] = pending
        limit = timeout or self._action_timeout_s
        sent_at = time.monotonic()
        try:
            protocol.write(data)
            result = await asyncio.wait_for(asyncio.shield(future), limit)
        except TimeoutError as e:
            raise AmiTimeout(
                f"no response to AMI {action} from {self.name!r} within {limit:g} s"
            ) from e
        finally:
            self._pending.pop(aid, None)
        elapsed = time.monotonic() - sent_at
        if elapsed >= SLOW_RESPONSE_S:  # issue 19 item 3: a slow PBX says so, action by action
            log.warning("ami_response_slow", server=self.name, action=action, elapsed_s=round(elapsed, 3))
        failed = isinstance(result, AmiMessage) and result.response not in _SUCCESS
        if failed and is_shutdown_refusal(result.get("Message")):
            self._shutdown_sign(f"{action} refused")
        if is_list:
            if pending.response is None and isinstance(result, AmiMessage):
                if check and failed:
                    raise AmiActionFailed(action, result.get("Message") or "")
                return []
            return result
        if check and failed:
            raise AmiActionFailed(action, result.get("Message") or "")
        return result

    async def action(
        self,
        headers: Mapping[str, object] | Sequence[tuple[str, object]],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - STYLE rule 15: keyword timeout=
    ) -> AmiMessage:
        """Send any action; return its response.

        Raises:
            AmiActionFailed: ``Response: Error``. AmiTimeout, AmiNotConnected, AmiConnectionLost.
        """
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        result: AmiMessage = await self._send(pairs, timeout=timeout)
        return result

    async def ping(self, *, timeout: float | None = None) -> AmiMessage:  # noqa: ASYNC109 - STYLE rule 15
        result: AmiMessage = await self._send([("Action", "Ping")], timeout=timeout)
        return result

    async def originate(
        self,
        attempt_id: str,
        number: str,
        *,
        campaign: str,
        queue: str,
        caller_id: str,
        timeout_s: float,
        amd: bool = False,
        agent: str | None = None,
        queue_timeout_s: float = DEFAULT_QUEUE_TIMEOUT_S,
        variables: Mapping[str, str] | None = None,
    ) -> OriginateQueued:
        """Originate one call asynchronously; its progress arrives as AttemptUpdates.

        The attempt is registered before the action is written, so events that overtake
        the response (a slow Asterisk) are not lost. ``ActionID`` and ``ChannelId`` are
        both ``dlr-<attempt_id>``.

        Raises:
            AmiActionError: bad input (CR/LF in a value, duplicate attempt id).
            AmiActionFailed: Asterisk refused the Originate (the attempt is forgotten).
            AmiNotConnected: not logged in (the attempt is not registered).
            AmiConnectionLost: the connection dropped before the response; the attempt
                stays tracked and ends like any in-flight attempt (tracked or LOST).
        """
        if attempt_id in self._machines:
            raise AmiActionError(f"attempt {attempt_id!r} is already in flight")
        if not self.connected:
            raise AmiNotConnected(f"AMI server {self.name!r} is not connected")
        tag = f"dlr-{attempt_id}"
        chan_vars = {
            "DIALER_ATTEMPT_ID": attempt_id,
            "DIALER_CAMPAIGN": campaign,
            "DIALER_QUEUE": queue,
            "DIALER_QUEUE_TIMEOUT": f"{queue_timeout_s:g}",
            "DIALER_AMD": "1" if amd else "0",
        }
        if agent:
            chan_vars["DIALER_AGENT"] = agent
        chan_vars.update(variables or {})
        for name, value in chan_vars.items():
            # manager.c splits each Variable header on ',' (several NAME=VALUE in one header),
            # so a comma would silently cut the value on a real Asterisk
            if "," in value or "=" in name or not name:
                raise AmiActionError(
                    f"channel variable {name!r}: value {value!r} contains ',' or the name is bad"
                )
        headers: list[tuple[str, object]] = [
            ("Action", "Originate"),
            ("Channel", f"Local/{number}@{self.trunk_context}"),
            ("Context", self.connect_context),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Timeout", str(int(timeout_s * 1000))),
            ("CallerID", caller_id),
            ("Async", "true"),
            ("ChannelId", tag),
            ("Variable", [f"{k}={v}" for k, v in chan_vars.items()]),
        ]
        encode(headers)  # raises AmiActionError on CR/LF before anything is registered
        self._machines[attempt_id] = AttemptMachine(
            attempt_id,
            action_id=tag,
            channel_id=tag,
            started_at_s=self._clock(),
            machine_to_agent=amd and chan_vars.get(VAR_AMD_ACTION) == AMD_ACTION_AGENT,
        )
        self._router.register(attempt_id, action_id=tag, channel_id=tag)
        log.debug("originate_sent", server=self.name, attempt_id=attempt_id, campaign=campaign)
        try:
            await self._send(headers, action_id=tag, timeout=self._action_timeout_s)
        except AmiActionFailed:
            self._forget(attempt_id)
            raise
        except AmiNotConnected:
            self._forget(attempt_id)
            raise
        except AmiTimeout:
            # Asterisk may or may not have queued it: keep tracking, like a lost connection
            log.warning("originate_response_timeout", server=self.name, attempt_id=attempt_id)
            raise
        return OriginateQueued(attempt_id=attempt_id, server=self.name, action_id=tag, channel_id=tag)

    async def hangup(self, attempt_id: str, *, cause: int = 16) -> None:
        """Hang up an attempt's originated channel (e.g. the runner gives up on it).

        Raises:
            AmiActionFailed: the channel no longer exists.
        """
        channel = self._channel_names.get(attempt_id) or f"dlr-{attempt_id}"
        await self._send([("Action", "Hangup"), ("Channel", channel), ("Cause", str(cause))])

    async def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str | None = None,
        paused: bool = False,
        penalty: int = 0,
    ) -> None:
        """QueueAdd (Asterisk: ``Unable to add interface: Already there`` -> AmiActionFailed)."""
        await self._send(
            [
                ("Action", "QueueAdd"),
                ("Queue", queue),
                ("Interface", interface),
                ("Penalty", str(penalty)),
                ("Paused", "true" if paused else "false"),
                ("MemberName", member_name or interface),
            ]
        )

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._send([("Action", "QueueRemove"), ("Queue", queue), ("Interface", interface)])

    async def queue_pause(
        self, interface: str, paused: bool, *, queue: str | None = None, reason: str | None = None
    ) -> None:
        """QueuePause; without ``queue`` it applies to every queue the interface is in."""
        headers: list[tuple[str, object]] = [
            ("Action", "QueuePause"),
            ("Interface", interface),
            ("Paused", "true" if paused else "false"),
        ]
        if queue is not None:
            headers.append(("Queue", queue))
        if reason:
            headers.append(("Reason", reason))
        await self._send(headers)

    async def queue_status(self, queue: str | None = None) -> QueueStatusReport:
        headers: list[tuple[str, object]] = [("Action", "QueueStatus")]
        if queue is not None:
            headers.append(("Queue", queue))
        events: list[AmiMessage] = await self._send(headers, is_list=True)
        queues = tuple(
            QueueParamsEntry(
                queue=m.get("Queue") or "",
                calls=_int(m.get("Calls")),
                completed=_int(m.get("Completed")),
                abandoned=_int(m.get("Abandoned")),
                strategy=m.get("Strategy") or "",
            )
            for m in events
            if m.event == "QueueParams"
        )
        members = tuple(
            QueueMemberEntry(
                queue=m.get("Queue") or "",
                interface=m.get("Location") or "",
                member_name=m.get("Name") or "",
                membership=m.get("Membership") or "",
                status=_int(m.get("Status")),
                paused=m.get("Paused") == "1",
                paused_reason=m.get("PausedReason") or "",
                in_call=m.get("InCall") == "1",
                calls_taken=_int(m.get("CallsTaken")),
            )
            for m in events
            if m.event == "QueueMember"
        )
        return QueueStatusReport(queues=queues, members=members)

    async def core_show_channels(self) -> list[AmiMessage]:
        result: list[AmiMessage] = await self._send([("Action", "CoreShowChannels")], is_list=True)
        return [m for m in result if m.event == "CoreShowChannel"]


def _int(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        return 0
