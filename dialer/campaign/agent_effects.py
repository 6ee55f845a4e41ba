"""The shell that performs the agent board's effects: :class:`AgentEffects`.

Theory of operation (h11's ``send()`` returning bytes): the :class:`~dialer.agents.board.AgentBoard`
is pure; every transition returns effects, and this shell performs them in order:

* queue membership (``QueueAdd``, ``QueuePause``, ``QueueRemove``) goes to the PBX without
  holding the runner behind the PBX's answer (issue 19 item 3: with a 2 s AMI response
  delay, awaiting each action one by one cut dialling from ~320 attempts in 180 s to 42).
  Each member's actions run as a chain of their own, in order (an add, then its pause, then
  the unpause that follows, as the board emitted them: AMI applies a session's actions in
  order, and the echo bookkeeping of :mod:`dialer.agents.membership` expects that order);
  different members' chains run at once (:mod:`dialer.campaign.member_actions`, which also
  drops a hold released before it was sent). :meth:`AgentEffects.perform` starts them and waits
  at most ``queue_grace_s`` (a fast PBX answers within it, so nothing changes there), then
  goes on while they finish in the background; :meth:`AgentEffects.perform_started` does not
  wait at all (the agent desk's clicks); :meth:`AgentEffects.perform_settled` (the agent
  desk's login and logout: they return once the PBX has or has dropped the member) and
  :meth:`AgentEffects.settle` (a stopping runner) wait for them. A PBX that is unavailable
  is logged (the board re-asserts membership from the member events and the ``QueueStatus``
  reconciliation once it is back);
* ``PlaceCall`` hands the reserved or accepted contact to the dial path (``place_call``),
  or, if its lease is gone, releases the agent's reservation;
* ``ReleaseContact`` gives the contact back; ``RecordDisposition`` and
  ``ApplyDefaultDisposition`` go to the :class:`~dialer.campaign.dispositions.DispositionWriter`;
* ``StateChanged`` feeds the pacing policy the wrap-up time it measured and wakes the runner
  when an agent becomes ready; log-in and record requests wake it too;
* ``CallReachedAgent`` is the agent's wait, observed into ``dialer_agent_wait_seconds``;
* with an engine's :class:`~dialer.campaign.presence.AgentPresence`, every change between free
  and busy is reported to the other campaigns of the engine, and what they report comes back
  here as :meth:`~dialer.agents.board.AgentBoard.set_elsewhere` (an agent busy in one campaign
  is not free in the others; :meth:`AgentEffects.presence_joined`).

Everything the runner, the agent desk and the dial path hand the board goes through
:meth:`AgentEffects.perform`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator

import structlog

from dialer.agents.board import AgentBoard
from dialer.agents.state import (
    BUSY_STATES,
    AgentEffect,
    AgentState,
    ApplyDefaultDisposition,
    CallReachedAgent,
    LoggedIn,
    LoggedOut,
    LogoutDeferred,
    PeerAnomaly,
    PlaceCall,
    QueueAdd,
    QueuePause,
    QueueRemove,
    RecordDisposition,
    RecordRequested,
    ReleaseContact,
    StateChanged,
)
from dialer.campaign.dispositions import DispositionWriter
from dialer.campaign.hopper import Hopper
from dialer.campaign.member_actions import MemberActions, QueueAction
from dialer.campaign.presence import AgentPresence
from dialer.clock import Clock
from dialer.errors import PbxUnavailable
from dialer.model import Campaign, LeasedContact
from dialer.observability.metrics import DialerMetrics
from dialer.ports import PbxPort
from pacing import PacingPolicy

log = structlog.get_logger(__name__)

__all__ = ["AgentEffects"]


class AgentEffects:
    """Performs the board's effects on the PBX, the store and the dial path (see the module docstring).

    Args:
        campaign: the campaign (its queue, metric labels).
        pbx: queue membership actions.
        board: releases a reservation whose contact has no lease.
        hopper: the leases of contacts held for an agent.
        clock: the runner's clock.
        metrics: the engine's event metrics.
        policy: the pacing policy; learns wrap-up times.
        dispositions: writes dispositions.
        release: gives contacts back to the store.
        place_call: starts the dial path for a held contact with an agent reserved.
        wake: asks the runner to decide now.
        queue_grace_s: how long :meth:`perform` waits for queue actions it started.
        presence: the engine's record of where its agents are busy (None: this campaign alone).
    """

    def __init__(
        self,
        campaign: Campaign,
        *,
        pbx: PbxPort,
        board: AgentBoard,
        hopper: Hopper,
        clock: Clock,
        metrics: DialerMetrics,
        policy: PacingPolicy,
        dispositions: DispositionWriter,
        release: Callable[[Iterable[int], str], None],
        place_call: Callable[[LeasedContact, str], None],
        wake: Callable[[], None],
        queue_grace_s: float = 0.05,
        presence: AgentPresence | None = None,
    ) -> None:
        self._campaign = campaign
        self._pbx = pbx
        self._board = board
        self._hopper = hopper
        self._clock = clock
        self._metrics = metrics
        self._policy = policy
        self._dispositions = dispositions
        self._release = release
        self._place_call = place_call
        self._wake = wake
        self._since: dict[str, tuple[AgentState, float]] = {}  # agent -> (state, since when)
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)
        self._grace_s = queue_grace_s
        self._members = MemberActions(self._queue_action, board.forget_echoes)
        self._presence = presence
        # This runner's own key, not the campaign's name: a campaign restarted while its old
        # runner still drains has two runners, and the old one's leave must not free the new
        # one's agents (an agent still in wrap-up in the old one is busy "elsewhere" too).
        self._presence_key = f"{campaign.name}/{id(self):x}"

    @contextlib.contextmanager
    def presence_joined(self) -> Iterator[None]:
        """While the runner runs, hear where the engine's other campaigns have their agents busy."""
        if self._presence is not None:
            self._presence.join(self._presence_key, self._on_elsewhere)
        try:
            yield
        finally:
            self.leave_presence()

    def leave_presence(self) -> None:
        """Stop hearing, and free this campaign's agents in the others (a runner ends)."""
        if self._presence is not None:
            self._presence.leave(self._presence_key)

    def _on_elsewhere(self, agent_id: str, campaigns: frozenset[str]) -> None:
        # Synchronous, so that the other campaign's reservation is on this board before this
        # runner decides again; the queue actions join their member's chain in order.
        effects = self._board.set_elsewhere(agent_id, campaigns, self._clock.now())
        for e in effects:
            if isinstance(e, QueueAdd | QueuePause | QueueRemove):
                self._members.submit(e)
        if not campaigns and self._board.state_of(agent_id) is AgentState.READY:
            self._wake()  # free everywhere again: it may take a call here

    @property
    def queue_actions_pending(self) -> int:
        """Members with a queue action not answered yet."""
        return self._members.pending

    async def perform(self, effects: Iterable[AgentEffect]) -> None:
        """Perform ``effects`` in order; queue actions are started, not awaited past the grace."""
        started = await self._perform_all(effects)
        if started and self._grace_s > 0:
            await asyncio.wait(started, timeout=self._grace_s)

    async def perform_started(self, effects: Iterable[AgentEffect]) -> None:
        """Like :meth:`perform`, not waiting for the PBX at all (an agent's click: the board,
        changed already, is the answer; the queue action follows in its member's order)."""
        await self._perform_all(effects)

    async def perform_settled(self, effects: Iterable[AgentEffect]) -> None:
        """Like :meth:`perform`, then wait until the PBX answered every queue action it started."""
        started = await self._perform_all(effects)
        if started:
            await asyncio.wait(started)

    async def settle(self, *, timeout_s: float | None = None) -> None:
        """Wait for every queue action in flight (a runner that stops); None: no limit."""
        chains = self._members.tasks()
        if chains:
            await asyncio.wait(chains, timeout=timeout_s)

    async def _perform_all(self, effects: Iterable[AgentEffect]) -> set[asyncio.Task[None]]:
        started: set[asyncio.Task[None]] = set()
        for e in effects:
            if isinstance(e, QueueAdd | QueuePause | QueueRemove):
                task = self._members.submit(e)
                if task is not None:
                    started.add(task)
            else:
                await self._perform_one(e)
        return started

    async def _queue_action(self, e: QueueAction) -> None:
        queue = self._campaign.queue
        try:
            if isinstance(e, QueueAdd):
                await self._pbx.queue_add(
                    queue, e.interface, member_name=e.member_name or e.agent_id, paused=e.paused
                )
                if e.paused and e.reason:
                    await self._pbx.queue_pause(queue, e.interface, paused=True, reason=e.reason)
            elif isinstance(e, QueuePause):
                await self._pbx.queue_pause(queue, e.interface, paused=e.paused, reason=e.reason or "")
            else:
                await self._pbx.queue_remove(queue, e.interface)
        except PbxUnavailable as err:
            self._log.warning("queue_action_failed", effect=type(e).__name__, error=str(err))
        except Exception as err:  # a bug must not kill the member's later actions
            self._log.error("queue_action_crashed", effect=type(e).__name__, error=repr(err))

    async def _perform_one(self, e: AgentEffect) -> None:
        if isinstance(e, PlaceCall):
            lease = self._hopper.held(e.contact)  # type: ignore[arg-type]
            if lease is None:
                self._log.warning("place_call_without_lease", agent=e.agent_id, contact_id=e.contact)
                await self.perform(
                    self._board.release_reservation(e.agent_id, self._clock.now(), reason="no lease")
                )
                return
            self._place_call(lease, e.agent_id)
        elif isinstance(e, ReleaseContact):
            if isinstance(e.contact, int):
                self._release([e.contact], e.reason)
        elif isinstance(e, RecordDisposition):
            self._dispositions.write(e.agent_id, e.attempt_id, e.contact, e.disposition)
        elif isinstance(e, ApplyDefaultDisposition):
            self._log.info("default_disposition", agent=e.agent_id, attempt_id=e.attempt_id, cause=e.cause)
            self._metrics.default_dispositions.labels(self._campaign.name, e.cause).inc()
            self._dispositions.write(e.agent_id, e.attempt_id, e.contact, None)
        elif isinstance(e, CallReachedAgent):
            self._metrics.agent_wait.labels(self._campaign.name).observe(e.free_for_s)
        elif isinstance(e, StateChanged):
            self._on_state_changed(e)
        elif isinstance(e, LoggedIn | LoggedOut | LogoutDeferred | RecordRequested):
            self._log.info(type(e).__name__.lower(), agent=e.agent_id)
            if isinstance(e, LoggedIn) and self._presence is not None:
                self._on_elsewhere(e.agent_id, self._presence.elsewhere(e.agent_id, self._presence_key))
            if isinstance(e, RecordRequested | LoggedIn):
                self._wake()
        elif isinstance(e, PeerAnomaly):
            self._log.warning("peer_anomaly", agent=e.agent_id, detail=e.detail)

    def _on_state_changed(self, e: StateChanged) -> None:
        if self._presence is not None:
            self._presence.report(e.agent_id, self._presence_key, busy=e.new in BUSY_STATES)
        prev = self._since.get(e.agent_id)
        self._since[e.agent_id] = (e.new, e.at_s)
        if prev is not None and prev[0] is e.old:
            if e.old is AgentState.TALKING and e.new is AgentState.WRAP_UP:
                pass  # talk time comes with Ended (talk_s), measured by the PBX
            elif e.old is AgentState.WRAP_UP:
                self._policy.observe_wrap(e.at_s, max(0.0, e.at_s - prev[1]))
        if e.new is AgentState.READY:
            self._wake()
