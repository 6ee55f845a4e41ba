"""The parts a CampaignRunner shares with its collaborators, built without a runner.

Each collaborator test (test_closing, test_dialing, test_agent_effects, test_housekeeping,
test_desk) builds the one object it tests from these parts, on the real store and a
:class:`~dialer.clock.VirtualClock` that starts at the wall-clock time (so the store's
leases and attempt times are today's, in whole seconds) and moves only when a test says so. The outcome
writer runs for real; :func:`written` waits until it has nothing left.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from ami.agent_events import AgentStateChange, MemberChange
from dialer.agents.board import AgentBoard
from dialer.agents.state import AgentTimers
from dialer.campaign.agent_effects import AgentEffects
from dialer.campaign.calls import CallTable, InFlightCall
from dialer.campaign.closing import AttemptCloser
from dialer.campaign.directory import AgentDirectory
from dialer.campaign.dispositions import DispositionWriter
from dialer.campaign.hopper import Hopper
from dialer.campaign.housekeeping import Housekeeping
from dialer.campaign.settings import RunnerSettings
from dialer.campaign.writer import OutcomeWriter
from dialer.clock import RealClock, VirtualClock
from dialer.model import Campaign, DialingMode, DialRefusal, LeasedContact
from dialer.observability.metrics import DialerMetrics
from dialer.ports import PbxPort
from dialer.store.store import Store
from pacing import DialMode, PacingPolicy, policy_for, profile_named
from tests.dialer.campaign.runner_fixtures import FAST, wait_for
from tests.dialer.conftest import make_campaign

ENGINE = "e-parts"


class MemberLog:
    """A PBX listener that keeps the queue-member changes it hears of."""

    def __init__(self) -> None:
        self.changes: list[tuple[MemberChange, str, bool, str | None]] = []

    def on_attempt(self, update: Any) -> None:
        pass

    def on_agent(self, update: Any) -> None:
        if isinstance(update, AgentStateChange):
            self.changes.append((update.change, update.interface, update.paused, update.paused_reason))

    def on_connection(self, up: bool) -> None:
        pass


class CommitThenFail(Store):
    """A real store whose first ``open_checked_attempt`` commits and then reports a dropped connection."""

    failed: list[int]

    async def open_checked_attempt(
        self, lease: LeasedContact, *, at: dt.datetime, agent_reserved: bool, engine_id: str | None = None
    ) -> int | DialRefusal:
        attempt = await super().open_checked_attempt(
            lease, at=at, agent_reserved=agent_reserved, engine_id=engine_id
        )
        if not self.failed and isinstance(attempt, int):
            self.failed.append(attempt)
            raise ConnectionResetError("connection lost after COMMIT")
        return attempt


@dataclass
class Parts:
    campaign: Campaign
    store: Store
    settings: RunnerSettings
    clock: VirtualClock
    registry: CollectorRegistry
    metrics: DialerMetrics
    writer: OutcomeWriter
    hopper: Hopper
    calls: CallTable
    directory: AgentDirectory
    board: AgentBoard
    policy: PacingPolicy
    store_states: list[bool] = field(default_factory=list)
    woken: list[float] = field(default_factory=list)

    def wake(self) -> None:
        """A collaborator's ``wake`` callback: records when the runner would have been woken."""
        self.woken.append(self.clock.now())

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, {"campaign": self.campaign.name, **labels})

    async def lease(self, limit: int = 1, *, agent_reserved: bool = False) -> list[LeasedContact]:
        """Lease up to ``limit`` contacts to :data:`ENGINE` and put them in the hopper."""
        leases = await self.store.lease_contacts(
            self.campaign.id,
            at=self.clock.utcnow(),
            limit=limit,
            owner=ENGINE,
            ttl_s=self.settings.lease_ttl_s,
            agent_reserved=agent_reserved,
            agent_ids=None if agent_reserved else [],
        )
        self.hopper.add(leases, self.clock.now())
        return leases

    def closer(self) -> AttemptCloser:
        """The outcome path over these parts."""
        return AttemptCloser(
            self.campaign,
            store=self.store,
            writer=self.writer,
            hopper=self.hopper,
            calls=self.calls,
            directory=self.directory,
            board=self.board,
            policy=self.policy,
            metrics=self.metrics,
        )

    def housekeeping(self, pbx: PbxPort, *, paused: bool = False, winding_down: bool = False) -> Housekeeping:
        """Housekeeping over these parts; adopted calls close through :meth:`closer`."""
        return Housekeeping(
            self.campaign,
            store=self.store,
            pbx=pbx,
            clock=self.clock,
            settings=self.settings,
            engine_id=ENGINE,
            hopper=self.hopper,
            board=self.board,
            calls=self.calls,
            writer=self.writer,
            paused=lambda: paused,
            winding_down=lambda: winding_down,
            wake=self.wake,
            perform=lambda fx: self.effects(pbx, lambda lease, agent: None).perform(fx),
        )

    def dispositions(self, pbx: PbxPort) -> DispositionWriter:
        """The disposition writer over these parts (releases through :meth:`housekeeping`)."""
        return DispositionWriter(
            self.campaign,
            settings=self.settings,
            store=self.store,
            writer=self.writer,
            hopper=self.hopper,
            calls=self.calls,
            directory=self.directory,
            clock=self.clock,
            release=self.housekeeping(pbx).release,
        )

    def effects(self, pbx: PbxPort, place_call: Callable[[LeasedContact, str], None]) -> AgentEffects:
        """The board's effects performed on ``pbx`` and these parts; calls go to ``place_call``."""
        return AgentEffects(
            self.campaign,
            pbx=pbx,
            board=self.board,
            hopper=self.hopper,
            clock=self.clock,
            metrics=self.metrics,
            policy=self.policy,
            dispositions=self.dispositions(pbx),
            release=self.housekeeping(pbx).release,
            place_call=place_call,
            wake=self.wake,
        )

    async def dialled(self, lease: LeasedContact, *, agent: str | None = None) -> InFlightCall:
        """Do what the dial path does for ``lease`` short of the Originate: an open attempt in flight."""
        self.hopper.take(lease.contact_id)
        attempt = await self.store.open_attempt(lease, at=self.clock.utcnow(), engine_id=ENGINE)
        self.hopper.mark_dialled(lease.contact_id)
        call = InFlightCall(str(attempt), lease, agent, self.clock.now())
        self.calls.add(call)
        return call


async def campaign_of(
    store: Store, *, mode: DialingMode = DialingMode.PREDICTIVE, **spec: object
) -> Campaign:
    return await store.get_campaign(await make_campaign(store, mode=mode, **spec))


@asynccontextmanager
async def parts(
    store: Store, campaign: Campaign, *, settings: RunnerSettings = FAST, start_at: dt.datetime | None = None
) -> AsyncIterator[Parts]:
    """The parts on a virtual clock from ``start_at`` (default: now, in whole seconds)."""
    start = float(int(RealClock().now())) if start_at is None else start_at.timestamp()
    clock = VirtualClock(start)  # whole seconds: times round-trip the store
    registry = CollectorRegistry()
    states: list[bool] = []
    writer = OutcomeWriter(clock, settings, states.append)
    timers = AgentTimers(
        offer_timeout_s=settings.offer_timeout_s,
        disposition_timeout_s=settings.disposition_timeout_s,
        ring_timeout_s=float(campaign.ring_timeout_s),
    )
    p = Parts(
        campaign=campaign,
        store=store,
        settings=settings,
        clock=clock,
        registry=registry,
        metrics=DialerMetrics(registry),
        writer=writer,
        hopper=Hopper(),
        calls=CallTable(),
        directory=AgentDirectory(store),
        board=AgentBoard(campaign.name, campaign.queue, timers),
        policy=policy_for(DialMode.PREDICTIVE, profile_named(campaign.compliance.value)),
        store_states=states,
    )
    task = asyncio.ensure_future(writer.run())
    try:
        yield p
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def written(p: Parts) -> None:
    """Wait until the outcome writer has written (or dropped) everything submitted."""
    await wait_for(lambda: 0 == p.writer.pending)
