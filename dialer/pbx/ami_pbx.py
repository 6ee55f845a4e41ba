"""The production :class:`~dialer.ports.PbxPort`: an ``ami.pool.AmiPool`` of Asterisk servers.

The pool already picks the least-loaded connected server and counts calls in flight; this
adapter only translates. A refused Originate (every server down or full, Asterisk said
Error, bad input) becomes :class:`~dialer.errors.PbxUnavailable` so the runner closes the
attempt as cancelled. An Originate whose response was lost with the connection or timed out
is *not* refused: the AMI client keeps tracking it and it ends like any attempt in flight
(tracked after a reconnect, else ``lost``), so the runner must not treat it as undialled.

A campaign may name the servers it dials through (``OriginateRequest.servers``: names or
groups, resolved by the pool). An agent whose record names a server (:meth:`AmiPbx.home`) is
a queue member there only, and the calls placed for it go there: its phone is registered on
that server and no other can ring it (issue 15 item 3).

Queue actions go to every connected server (a campaign's queue lives on each server its
calls may land on), an agent's with a home server to that one; an "Already there" to a
QueueAdd and a "Not there" to a QueueRemove mean the member already is as asked, and count as
success (issue 19 item 6: ten such warnings per reconnect). :meth:`AmiPbx.queue_members`
asks every server's ``QueueStatus`` for the reconciliation of queue members.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from ami.client import AmiClient, ConnectionState
from ami.errors import (
    AmiActionError,
    AmiActionFailed,
    AmiCapacityError,
    AmiConnectionLost,
    AmiError,
    AmiNotConnected,
    AmiTimeout,
    AmiUnknownServer,
)
from ami.pool import AmiPool
from dialer.errors import PbxUnavailable
from dialer.observability.metrics import ServerGauges
from dialer.ports import OriginateRequest, PbxListener

log = structlog.get_logger(__name__)

# Originate refusals: the call was certainly not placed.
_REFUSED = (AmiCapacityError, AmiNotConnected, AmiActionFailed, AmiActionError)
# The call may have been placed: the client tracks it to its end.
_IN_DOUBT = (AmiConnectionLost, AmiTimeout)

# Answers that mean the PBX already is as the action asks (queue-member-admin.txt): success.
_ALREADY_SO = {"QueueAdd": "Already there", "QueueRemove": "Not there"}

_TAG = "dlr-"  # ami.client tags each originated channel dlr-<attempt id> (ChannelId, Uniqueid)


def _amd_variables(call: OriginateRequest) -> dict[str, str]:
    """What the dialplan's dialer-connect-amd does with a machine (asterisk-conf/extensions.conf)."""
    if not call.amd:
        return {}
    out = {"DIALER_AMD_ACTION": call.amd_action}
    if call.amd_message:
        out["DIALER_AMD_MESSAGE"] = call.amd_message
    return out


class AmiPbx:
    """A :class:`~dialer.ports.PbxPort` over an :class:`ami.pool.AmiPool`."""

    def __init__(self, pool: AmiPool) -> None:
        self.pool = pool
        self._listeners: list[PbxListener] = []
        self._homes: dict[str, str] = {}  # member interface -> the server its phone is on
        self._was_connected = self.connected
        for client in pool.clients:
            client.add_state_listener(self._on_state)
        pool.add_update_listener(self._on_attempt)
        pool.add_agent_listener(self._on_agent)

    @property
    def connected(self) -> bool:
        return any(c.connected for c in self.pool.clients)

    def lines_free(self, servers: tuple[str, ...] = ()) -> int:
        try:
            return self.pool.free(self.pool.resolve(servers))
        except AmiUnknownServer:
            return 0  # the originate says why (originate_refused)

    def reaches(self, servers: tuple[str, ...] = (), interface: str | None = None) -> bool:
        home = self._homes.get(interface or "")
        try:
            return any(c.connected for c in self.pool.resolve((home,) if home else servers))
        except AmiUnknownServer:
            return True  # not a reason to skip the attempt row: the originate refuses, saying why

    def home(self, interface: str, server: str) -> None:
        if server:
            self._homes[interface] = server
        else:
            self._homes.pop(interface, None)

    def _members_on(self, interface: str) -> list[AmiClient]:
        """The connected servers where ``interface`` is (to be) a queue member."""
        home = self._homes.get(interface)
        if home is None:
            return self._connected()
        try:
            client = self.pool.client(home)
        except AmiUnknownServer:
            log.error("agent_server_unknown", interface=interface, server=home)
            return []
        return [client] if client.connected else []

    def server_gauges(self) -> list[ServerGauges]:
        """Per-server state for :class:`dialer.observability.metrics.EngineCollector` (``servers=``)."""
        return [ServerGauges(c.name, c.connected, c.in_flight, c.channel_limit) for c in self.pool.clients]

    def subscribe(self, listener: PbxListener) -> None:
        self._listeners.append(listener)

    def _on_attempt(self, update: Any) -> None:
        for listener in self._listeners:
            listener.on_attempt(update)

    def _on_agent(self, update: Any) -> None:
        for listener in self._listeners:
            listener.on_agent(update)

    def _on_state(self, client: AmiClient, state: ConnectionState) -> None:
        up = self.connected
        if up != self._was_connected:
            self._was_connected = up
            for listener in self._listeners:
                listener.on_connection(up)

    async def originate(self, call: OriginateRequest) -> None:
        try:
            home = self._homes.get(call.agent_interface or "")
            await self.pool.originate(
                call.attempt_id,
                call.number,
                servers=(home,) if home else call.servers,
                campaign=call.campaign,
                queue=call.queue,
                caller_id=call.caller_id,
                timeout_s=call.ring_timeout_s,
                amd=call.amd,
                agent=call.agent_interface,
                queue_timeout_s=call.queue_timeout_s,
                variables=_amd_variables(call),
            )
        except _REFUSED as err:
            raise PbxUnavailable(f"originate refused: {type(err).__name__}: {err}") from err
        except _IN_DOUBT as err:
            log.warning("originate_in_doubt", attempt_id=call.attempt_id, error=type(err).__name__)

    async def hangup(self, attempt_id: str) -> None:
        for client in self._connected():
            try:
                await client.hangup(attempt_id)
                return
            except AmiError:
                continue

    def _connected(self) -> list[AmiClient]:
        return [c for c in self.pool.clients if c.connected]

    async def _each(self, what: str, calls: list[Any]) -> None:
        if not calls:
            raise PbxUnavailable(f"{what}: no AMI server connected")
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, AmiActionFailed) and _ALREADY_SO.get(what, "\0") in result.message:
                continue  # the member is already as asked (e.g. after a reconnect): done
            if isinstance(result, AmiActionFailed):
                log.info("queue_action_refused", action=what, error=str(result))
            elif isinstance(result, AmiError):
                log.warning("queue_action_failed", action=what, error=type(result).__name__)
            elif isinstance(result, BaseException):
                raise result

    async def queue_add(self, queue: str, interface: str, *, member_name: str, paused: bool) -> None:
        await self._each(
            "QueueAdd",
            [
                c.queue_add(queue, interface, member_name=member_name, paused=paused)
                for c in self._members_on(interface)
            ],
        )

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._each(
            "QueueRemove", [c.queue_remove(queue, interface) for c in self._members_on(interface)]
        )

    async def queue_pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None:
        await self._each(
            "QueuePause",
            [
                c.queue_pause(interface, paused, queue=queue, reason=reason or None)
                for c in self._members_on(interface)
            ],
        )

    async def queue_exists(self, queue: str) -> bool | None:
        """Whether ``queue`` is configured on every connected server; None when none could be asked.

        A QueueStatus naming the queue answers with its ``QueueParams`` row when it exists and
        with an empty list when it does not (fact 9 of the transcripts' README): queues cannot
        be created over AMI, so the engine can only check and say so.
        """
        answered = False
        exists = True
        for client in self._connected():
            try:
                report = await client.queue_status(queue)
            except AmiError as err:
                log.warning("queue_check_failed", server=client.name, queue=queue, error=type(err).__name__)
                continue
            answered = True
            if not any(q.queue == queue for q in report.queues):
                log.error("queue_missing_on_server", server=client.name, queue=queue)
                exists = False
        return exists if answered else None

    async def queue_members(self, queue: str) -> set[str] | None:
        """Members of ``queue`` on every connected server they belong on (a member one of them
        lost is missing); an agent with a home server counts there only."""
        clients = self._connected()
        if not clients:
            return None
        reports = await asyncio.gather(*(c.queue_status(queue) for c in clients), return_exceptions=True)
        on: dict[str, set[str]] = {}
        for client, report in zip(clients, reports, strict=True):
            if isinstance(report, AmiError):
                log.warning("queue_status_failed", queue=queue, error=type(report).__name__)
                return None
            if isinstance(report, BaseException):
                raise report
            on[client.name] = {m.interface for m in report.members if m.queue == queue}
        seen = set().union(*on.values())
        return {i for i in seen if all(i in on[c.name] for c in self._members_on(i) if c.name in on)}

    async def adopt_attempts(self, ages_s: Mapping[str, float]) -> set[str] | None:
        """Follow the attempts of ``ages_s`` (id -> age in seconds) still up on some server.

        Returns the ids now followed (their updates come through the listeners like those
        of calls placed here); None, adopting nothing, unless every server answered.
        """
        listings: list[tuple[AmiClient, dict[str, list[Any]]]] = []
        for client in self.pool.clients:
            if not client.connected:
                return None
            try:
                listings.append((client, await client.calls_listed(ages_s)))
            except AmiError:
                return None
        adopted: set[str] = set()
        for client, calls in listings:
            for attempt_id, channels in calls.items():
                if attempt_id in adopted:
                    continue
                try:
                    client.adopt(attempt_id, channels, age_s=ages_s[attempt_id])
                except AmiActionError:
                    continue  # already followed here
                adopted.add(attempt_id)
        return adopted

    def release_attempts(self, attempt_ids: Iterable[str]) -> dict[str, list[str]]:
        """Stop following calls handed over to another engine; their channel ids by attempt."""
        ids = list(attempt_ids)
        released: dict[str, list[str]] = {}
        for client in self.pool.clients:
            released.update(client.release(ids))
        return released
