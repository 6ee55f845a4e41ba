"""The agent desk alone: requests applied to the board at the runner's time, effects performed at once.

The desk over the real store, the virtual PBX and the agent effects of the same parts; the
dial path is a list of the calls it was asked to place.
"""

from __future__ import annotations

from ami.agent_events import MemberChange
from benchmarks.callcentre import SCENARIOS
from benchmarks.engine.virtual_pbx import VirtualPbx
from dialer.agents.state import AgentState, ReservationKind
from dialer.campaign.desk import AgentDesk
from dialer.model import DialingMode, LeasedContact
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import MemberLog, Parts, campaign_of, parts, written


def _desk(p: Parts) -> tuple[AgentDesk, MemberLog, list[tuple[int, str]]]:
    pbx = VirtualPbx(p.clock, SCENARIOS["S1"])
    members = MemberLog()
    pbx.subscribe(members)
    placed: list[tuple[int, str]] = []

    def place_call(lease: LeasedContact, agent: str) -> None:
        placed.append((lease.contact_id, agent))

    desk = AgentDesk(
        board=p.board,
        hopper=p.hopper,
        clock=p.clock,
        perform=p.effects(pbx, place_call).perform,
        resolve_agent=p.directory.resolve,
        wake=p.wake,
    )
    return desk, members, placed


async def test_login_learns_the_store_id_adds_the_queue_member_and_wakes_the_runner(store: Store) -> None:
    camp = await campaign_of(store)
    agent = await store.create_agent("dk1", "PJSIP/dk1")
    async with parts(store, camp) as p:
        desk, members, _ = _desk(p)
        await desk.login("dk1", "PJSIP/dk1", member_name="Desk One")
        await p.clock.run_until(p.clock.now())  # the PBX reports the member a loop turn later
        assert agent.id == p.directory.store_id("dk1")
        assert [(MemberChange.ADDED, "PJSIP/dk1", False, None)] == members.changes
        assert AgentState.READY == desk.view("dk1").state
        assert p.woken


async def test_views_are_taken_at_the_runners_time(store: Store) -> None:
    camp = await campaign_of(store)
    async with parts(store, camp) as p:
        desk, _, _ = _desk(p)
        await desk.login("dk2", "PJSIP/dk2")
        await desk.pause("dk2", reason="lunch")
        await p.clock.run_until(p.clock.now() + 90.0)
        view = desk.view("dk2")
        assert (AgentState.PAUSED, 90.0, "lunch") == (view.state, view.in_state_s, view.pause_reason)
        assert ["dk2"] == [v.agent_id for v in desk.views()]


async def test_a_logout_while_reserved_is_held_and_can_be_withdrawn(store: Store) -> None:
    camp = await campaign_of(store)
    async with parts(store, camp) as p:
        desk, _, _ = _desk(p)
        await desk.login("dk3", "PJSIP/dk3")
        p.board.reserve("dk3", 1, p.clock.now(), ReservationKind.PROGRESSIVE)  # the runner's decision
        pending = await desk.logout("dk3")
        assert pending is not None and AgentState.RESERVED == pending.waiting_for
        assert pending == desk.logout_countdown("dk3")
        assert desk.cancel_logout("dk3")
        assert desk.logout_countdown("dk3") is None
        assert AgentState.RESERVED == desk.view("dk3").state


async def test_preview_offered_record_is_shown_then_accepted_or_skipped(store: Store) -> None:
    camp = await campaign_of(store, mode=DialingMode.PREVIEW)
    for i in range(2):
        await store.add_contact(camp.name, [f"+100555111{i}"])
    async with parts(store, camp) as p:
        desk, _, placed = _desk(p)
        first, second = await p.lease(2)
        for name in ("dk4", "dk5"):
            await desk.login(name, f"PJSIP/{name}")
            await desk.request_record(name)
        for name, lease in (("dk4", first), ("dk5", second)):  # what the runner's decision does
            p.hopper.take(lease.contact_id)
            p.board.offer(name, lease.contact_id, p.clock.now())
        assert (first, second) == (desk.offered("dk4"), desk.offered("dk5"))
        await desk.accept("dk4")
        await desk.skip("dk5")
        assert [(first.contact_id, "dk4")] == placed
        assert (None, AgentState.READY) == (desk.offered("dk5"), desk.view("dk5").state)
        await written(p)
    owner = await store.pool.fetchval("SELECT lease_owner FROM contacts WHERE id = $1", second.contact_id)
    assert owner is None  # the skipped record went back to the store undialled
