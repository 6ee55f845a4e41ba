"""How one campaign runner's collaborators are built and wired: :func:`assemble`.

The runner keeps the loop and the decision; everything else is done by collaborators that
share a few pieces of state -- the :class:`~dialer.agents.board.AgentBoard`, the
:class:`~dialer.campaign.hopper.Hopper`, the :class:`~dialer.campaign.calls.CallTable` of
calls in flight, the :class:`~dialer.campaign.directory.AgentDirectory` and the
:class:`~dialer.campaign.writer.OutcomeWriter` -- and reach each other, and the runner,
only through narrow callables. This module is the one place that knows who gets what, the
way :mod:`dialer.app` is for the engine, so each collaborator can be built alone in a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dialer.agents.board import AgentBoard
from dialer.agents.state import AgentTimers
from dialer.campaign.agent_effects import AgentEffects
from dialer.campaign.calls import CallTable
from dialer.campaign.closing import AttemptCloser
from dialer.campaign.desk import AgentDesk
from dialer.campaign.dialing import Dialer
from dialer.campaign.directory import AgentDirectory
from dialer.campaign.dispositions import DispositionWriter
from dialer.campaign.hopper import Hopper
from dialer.campaign.housekeeping import Housekeeping
from dialer.campaign.memory import learned_statistics
from dialer.campaign.presence import AgentPresence
from dialer.campaign.recall import CampaignMemory
from dialer.campaign.settings import RunnerSettings
from dialer.campaign.writer import OutcomeWriter
from dialer.clock import Clock
from dialer.model import Campaign
from dialer.observability.metrics import DialerMetrics
from dialer.ports import ContactStore, PbxPort
from pacing import PacingPolicy

__all__ = ["RunnerParts", "assemble"]


@dataclass(frozen=True, slots=True)
class RunnerParts:
    """The shared state and the collaborators of one runner."""

    board: AgentBoard
    hopper: Hopper
    calls: CallTable
    directory: AgentDirectory
    writer: OutcomeWriter
    closer: AttemptCloser
    housekeeping: Housekeeping
    effects: AgentEffects
    dialer: Dialer
    desk: AgentDesk
    memory: CampaignMemory
    dispositions: DispositionWriter


def assemble(
    campaign: Campaign,
    *,
    store: ContactStore,
    pbx: PbxPort,
    clock: Clock,
    metrics: DialerMetrics,
    engine_id: str,
    settings: RunnerSettings,
    policy: PacingPolicy,
    ring_timeout_s: float,
    on_store_state: Callable[[bool], None],
    paused: Callable[[], bool],
    winding_down: Callable[[], bool],
    halted: Callable[[], bool],
    wake: Callable[[], None],
    on_campaign_changed: Callable[[], None] = lambda: None,
    presence: AgentPresence | None = None,
) -> RunnerParts:
    """Build a runner's state and collaborators and wire them to each other.

    Args:
        campaign, store, pbx, clock, metrics, engine_id, settings, policy: the runner's.
        ring_timeout_s: the ring timeout of every call (already at least 15 s).
        on_store_state: the writer found the database unreachable (False) or back (True).
        paused: whether launching is paused (then the hopper is not topped up).
        winding_down: whether the runner is draining or stopping.
        halted: whether launching stopped (paused or stopping).
        wake: asks the runner to decide now.
        on_campaign_changed: the dial path found the campaign paused or its schedule closed.
        presence: the engine's record of where its agents are busy (None: this campaign alone).
    """
    timers = AgentTimers(
        offer_timeout_s=settings.offer_timeout_s,
        disposition_timeout_s=settings.disposition_timeout_s,
        ring_timeout_s=ring_timeout_s,
    )
    board = AgentBoard(campaign.name, campaign.queue, timers)
    hopper = Hopper()
    calls = CallTable()
    directory = AgentDirectory(store)
    writer = OutcomeWriter(clock, settings, on_store_state)
    closer = AttemptCloser(
        campaign,
        store=store,
        writer=writer,
        hopper=hopper,
        calls=calls,
        directory=directory,
        board=board,
        policy=policy,
        metrics=metrics,
    )
    housekeeping = Housekeeping(
        campaign,
        store=store,
        pbx=pbx,
        clock=clock,
        settings=settings,
        engine_id=engine_id,
        hopper=hopper,
        board=board,
        calls=calls,
        writer=writer,
        paused=paused,
        winding_down=winding_down,
        wake=wake,
        perform=lambda fx: effects.perform(fx),  # effects is built below (it releases through us)
    )
    dispositions = DispositionWriter(
        campaign,
        settings=settings,
        store=store,
        writer=writer,
        hopper=hopper,
        calls=calls,
        directory=directory,
        clock=clock,
        release=housekeeping.release,
    )
    effects = AgentEffects(
        campaign,
        pbx=pbx,
        board=board,
        hopper=hopper,
        clock=clock,
        metrics=metrics,
        policy=policy,
        dispositions=dispositions,
        release=housekeeping.release,
        place_call=lambda lease, agent: dialer.launch(lease, agent),
        wake=wake,
        presence=presence,
    )
    dialer = Dialer(
        campaign,
        store=store,
        pbx=pbx,
        clock=clock,
        settings=settings,
        engine_id=engine_id,
        ring_timeout_s=ring_timeout_s,
        metrics=metrics,
        hopper=hopper,
        board=board,
        calls=calls,
        writer=writer,
        close=closer.close,
        perform=effects.perform,
        halted=halted,
        on_store_failure=housekeeping.note_store_failure,
        on_campaign_changed=on_campaign_changed,
    )
    desk = AgentDesk(
        board=board,
        hopper=hopper,
        clock=clock,
        perform=effects.perform_started,  # a click returns once the board changed
        settle=effects.perform_settled,  # a login or logout once the PBX answered
        resolve_agent=directory.resolve,
        wake=wake,
        home=lambda agent, interface: pbx.home(interface, directory.server_of(agent)),
    )
    memory = CampaignMemory(
        campaign,
        store=store,
        ledger=closer.ledger,
        stats=learned_statistics(policy),
        settings=settings.memory,
    )
    return RunnerParts(
        board, hopper, calls, directory, writer, closer, housekeeping, effects, dialer, desk, memory,
        dispositions,
    )
