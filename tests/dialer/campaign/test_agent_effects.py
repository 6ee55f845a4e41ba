"""Agent effects alone: the board's effects performed on the virtual PBX, the store and the dial path."""

from __future__ import annotations

import asyncio

from ami.agent_events import MemberChange
from benchmarks.callcentre import SCENARIOS
from benchmarks.engine.virtual_pbx import VirtualPbx
from dialer.agents.state import (
    AgentInput,
    AgentState,
    CallReachedAgent,
    QueuePause,
    ReleaseContact,
    ReservationKind,
    StateChanged,
)
from dialer.campaign.agent_effects import AgentEffects
from dialer.errors import PbxUnavailable
from dialer.model import LeasedContact
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import MemberLog, Parts, campaign_of, parts, written


class _PauseRefused(VirtualPbx):
    """A virtual PBX that cannot pause (as an AMI connection lost in the middle of a batch)."""

    async def queue_pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None:
        raise PbxUnavailable("no AMI connection")


def _rig(
    p: Parts, pbx_class: type[VirtualPbx] = VirtualPbx
) -> tuple[AgentEffects, MemberLog, list[tuple[int, str]]]:
    pbx = pbx_class(p.clock, SCENARIOS["S1"])
    members = MemberLog()
    pbx.subscribe(members)
    placed: list[tuple[int, str]] = []

    def place_call(lease: LeasedContact, agent: str) -> None:
        placed.append((lease.contact_id, agent))

    return p.effects(pbx, place_call), members, placed


async def test_a_paused_login_adds_the_member_paused_then_sets_its_reason_and_wakes_the_runner(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    async with parts(store, camp) as p:
        effects, members, _ = _rig(p)
        now = p.clock.now()
        await effects.perform(p.board.login("ae1", "PJSIP/ae1", now, paused=True, pause_reason="break"))
        await effects.perform(p.board.login("ae2", "PJSIP/ae2", now))
        await asyncio.sleep(0)  # the PBX reports members a loop turn later
        assert [
            (MemberChange.ADDED, "PJSIP/ae1", True, None),
            (MemberChange.PAUSE, "PJSIP/ae1", True, "break"),
            (MemberChange.ADDED, "PJSIP/ae2", False, None),
        ] == members.changes
        assert p.woken  # a login may free an agent: the runner decides at once


async def test_a_refused_queue_action_is_logged_and_the_next_effect_still_performed(store: Store) -> None:
    camp = await campaign_of(store)
    await store.add_contact(camp.name, ["+1005550901"])
    async with parts(store, camp) as p:
        effects, _, _ = _rig(p, _PauseRefused)
        [lease] = await p.lease()
        p.hopper.take(lease.contact_id)
        await effects.perform(
            [
                QueuePause("ae3", camp.queue, "PJSIP/ae3", True, "dialer:reserved"),
                ReleaseContact(lease.contact_id, "skipped", "ae3"),
            ]
        )
        await written(p)
    assert (
        await store.pool.fetchval("SELECT lease_owner FROM contacts WHERE id = $1", lease.contact_id) is None
    )


async def test_a_reservation_places_the_call_and_one_whose_lease_is_gone_is_released(store: Store) -> None:
    camp = await campaign_of(store)
    for i in range(2):
        await store.add_contact(camp.name, [f"+100555091{i}"])
    async with parts(store, camp) as p:
        effects, _, placed = _rig(p)
        now = p.clock.now()
        for agent in ("ae4", "ae5"):
            await effects.perform(p.board.login(agent, f"PJSIP/{agent}", now))
        held, gone = await p.lease(2)
        p.hopper.take(held.contact_id)
        await effects.perform(p.board.reserve("ae4", held.contact_id, now, ReservationKind.PROGRESSIVE))
        await effects.perform(p.board.reserve("ae5", gone.contact_id, now, ReservationKind.PROGRESSIVE))
        assert [(held.contact_id, "ae4")] == placed
        assert (AgentState.RESERVED, AgentState.READY) == (p.board.state_of("ae4"), p.board.state_of("ae5"))


async def test_the_end_of_a_wrap_up_teaches_pacing_its_length_and_a_ready_agent_wakes_the_runner(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    async with parts(store, camp) as p:
        effects, _, _ = _rig(p)
        t = p.clock.now()
        await effects.perform(
            [
                StateChanged("ae6", AgentState.TALKING, AgentState.WRAP_UP, AgentInput.CALL_ENDED, t),
                StateChanged("ae6", AgentState.WRAP_UP, AgentState.READY, AgentInput.DISPOSITION, t + 12.0),
                CallReachedAgent("ae6", "1", 3.5, t + 13.0),
            ]
        )
        wrap = p.policy.stats.wrap_time  # type: ignore[attr-defined]
        assert 1 == wrap.n_seen
        assert [t] == p.woken  # the clock did not move: woken once, at the ready
        assert 1.0 == p.sample("dialer_agent_free_to_connect_seconds_count")
        assert 3.5 == p.sample("dialer_agent_free_to_connect_seconds_sum")
