"""One agent in two campaigns of one engine: never busy in both (dialer.campaign.presence).

Real PostgreSQL and the simulated PBX over TCP. The agent logs in to both campaigns, as
``POST /agents/{agent}/login`` does for an agent assigned to both. Without the engine's
presence record, campaign B saw the agent ready and free while it was in wrap-up in A, and
reserved them for a new customer (or, had the agent been held for a call in B, A's queue could
put a customer through to them, and B's customer would answer to nobody).
"""

from __future__ import annotations

import asyncio
import dataclasses

from dialer.agents.state import BUSY_STATES, AgentState
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import Disposition
from dialer.model import DialingMode, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.campaign.runner_fixtures import FAST, agent_interface, pbx_rig, wait_for
from tests.dialer.campaign.test_engine import engine_running
from tests.dialer.campaign.test_runner_race import TALKERS
from tests.dialer.conftest import make_campaign

SETTINGS = dataclasses.replace(FAST, disposition_timeout_s=60.0, default_disposition="Sukces")


async def _campaign(store: Store, queue: str, contacts: int, first: int) -> str:
    camp = await make_campaign(store, mode=DialingMode.PROGRESSIVE, queue=queue)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    for n in range(contacts):
        await store.add_contact(camp, [f"+4850000{first + n:04d}"])
    return camp


async def test_an_agent_in_wrap_up_in_one_campaign_is_not_reserved_by_the_other(store: Store) -> None:
    a = await _campaign(store, "q-pa", 1, 7001)  # one customer: after it, A has nobody to call
    b = await _campaign(store, "q-pb", 1, 7101)
    await store.create_agent("pp1")
    member = agent_interface(3)
    async with (
        pbx_rig(
            "q-pa", more_queues=("q-pb",), population=TALKERS, agent_ring_s=0.2, agent_talk_s=100.0
        ) as rig,
        engine_running(store, rig, "engine-P", campaigns={a, b}, settings=SETTINGS) as engine,
    ):
        await wait_for(lambda: engine.runner(a) is not None and engine.runner(b) is not None)
        ra, rb = engine.runner(a), engine.runner(b)
        assert isinstance(ra, CampaignRunner) and isinstance(rb, CampaignRunner)
        overlaps: list[tuple[AgentState, AgentState]] = []
        b_busy_since: list[float] = []

        async def watch() -> None:  # both boards, every few milliseconds
            loop = asyncio.get_running_loop()
            while True:
                sa, sb = ra.board.state_of("pp1"), rb.board.state_of("pp1")
                if sa in BUSY_STATES and sb in BUSY_STATES:
                    overlaps.append((sa, sb))
                if sb in BUSY_STATES and not b_busy_since:
                    b_busy_since.append(loop.time())
                await asyncio.sleep(0.002)

        watcher = asyncio.ensure_future(watch())
        try:
            await ra.agents.login("pp1", member)
            await wait_for(lambda: ra.board.state_of("pp1") is AgentState.RESERVED)
            await rb.agents.login("pp1", member)  # joins B while A holds them
            await wait_for(lambda: ra.board.state_of("pp1") is AgentState.WRAP_UP, what="A's wrap-up")
            await asyncio.sleep(0.5)  # B decides ten times meanwhile
            # ready in B, but not free there, and B's queue member paused
            sim_b = rig.sim.queues["q-pb"].members[member]
            assert (AgentState.READY, [], []) == (
                rb.board.state_of("pp1"),
                rb.board.free_agents(),
                b_busy_since,
            )
            assert (True, "dialer:elsewhere") == (sim_b.paused, sim_b.paused_reason)
            disposed_at = asyncio.get_running_loop().time()
            await ra.agents.set_disposition("pp1", Disposition("Sukces"))
            await wait_for(lambda: rb.board.state_of("pp1") in BUSY_STATES, what="B's reservation")
            await wait_for(lambda: rb.board.state_of("pp1") is AgentState.WRAP_UP, what="B's wrap-up")
            assert (AgentState.READY, []) == (ra.board.state_of("pp1"), ra.board.free_agents())
            sim_a = rig.sim.queues["q-pa"].members[member]
            await wait_for(lambda: sim_a.paused and sim_a.paused_reason == "dialer:elsewhere")
            await rb.agents.set_disposition("pp1", Disposition("Sukces"))
            # free everywhere: both members unpaused again, the agent free in both
            await wait_for(lambda: not sim_a.paused and not sim_b.paused, what="both members unpaused")
            assert (["pp1"], ["pp1"]) == (ra.board.free_agents(), rb.board.free_agents())
        finally:
            watcher.cancel()
    assert [] == overlaps
    assert b_busy_since and b_busy_since[0] >= disposed_at
