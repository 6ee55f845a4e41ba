"""The wrap-up race through the whole engine (issue 17 item 3).

Real PostgreSQL and the simulated PBX over TCP, as in test_runner.py. A real queue rang an
agent 7 ms after its previous call ended, before the engine's wrap-up pause reached Asterisk;
the engine ignored that call ("connect while wrap_up"), so its contact got no status and stayed
leased. Here two customers answer at once for one agent: the second waits in the queue, and the
queue hands it to the agent the moment the first call ends.

The engine pauses the member as the queue connects it (dialer.agents.membership), so the pause
is on the PBX before the call ends and the agent's wrap-up is its own. The simulator's
``queue_pause_lag_s`` makes every QueuePause land late: longer than the call, and the queue
still wins (the board follows the PBX); shorter, and the waiting customer waits for the
agent's disposition.
"""

from __future__ import annotations

import dataclasses

import pacing
from ami.simulator.population import PopulationParams
from dialer.agents.state import AgentState
from dialer.campaign.settings import Disposition
from dialer.model import DialingMode, Outcome, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.campaign.runner_fixtures import (
    FAST,
    ScriptedPolicy,
    agent_interface,
    make_runner,
    pbx_rig,
    running,
    wait_for,
)
from tests.dialer.conftest import make_campaign

SETTINGS = dataclasses.replace(
    FAST, disposition_timeout_s=1.0, default_disposition="Domyślny", queue_timeout_s=1000.0
)
# Everyone answers after 1 s and would talk for long; the agent ends each call 250 s after
# answering it (2.5 s of real time at the simulator's time scale: room for a loaded machine).
TALKERS = PopulationParams(
    answer_p=1.0,
    machine_share=0.0,
    answer_median_s=1.0,
    answer_sigma=0.0,
    talk_median_s=3000.0,
    talk_sigma=0.0,
)


class TwoCallsPolicy(ScriptedPolicy):
    """Predictive pacing reduced to one decision: two calls for the first ready agent."""

    def __init__(self) -> None:
        self.launched = 0

    def decide(self, snapshot: pacing.CampaignSnapshot) -> pacing.DialDecision:
        if self.launched or snapshot.ready_agents < 1:
            return pacing.DialDecision(launch=0, mode=self.mode)
        self.launched = 2
        return pacing.DialDecision(launch=2, mode=self.mode)


async def test_queue_call_beating_the_wrap_up_pause_gets_its_status_and_releases_its_lease(
    store: Store,
) -> None:
    camp = await make_campaign(store, mode=DialingMode.PREDICTIVE, queue="q-race")
    await store.create_status(StatusSpec("Domyślny", SystemStatus.DO_NOT_CALL), campaign=camp)
    contacts = [await store.add_contact(camp, [f"+4850000050{n}"]) for n in (1, 2)]
    await store.create_agent("rc1", agent_interface(1))
    campaign = await store.get_campaign(camp)

    async def leased() -> list[int]:
        rows = await store.pool.fetch(
            "SELECT id FROM contacts WHERE id = ANY($1::bigint[]) AND lease_owner IS NOT NULL", contacts
        )
        return sorted(r["id"] for r in rows)

    async with pbx_rig("q-race", population=TALKERS, agent_ring_s=0.2, agent_talk_s=250.0) as rig:
        # 3 s of real time, longer than the call: the pause sent at connect lands after the
        # hang-up, and the queue wins
        rig.sim.queue_pause_lag_s = 300.0
        runner = make_runner(campaign, store, rig, settings=SETTINGS, policy=TwoCallsPolicy())
        member = agent_interface(1)

        def sim_member_in_call() -> bool:
            m = rig.sim.queues["q-race"].members.get(member)
            return m is not None and m.in_call

        async with running(runner):
            await runner.agents.login("rc1", member)
            # The first call ends, the board puts the agent into wrap-up, and the second
            # customer, waiting in the queue, reaches the agent before the pause does.
            await wait_for(
                lambda: len(runner.calls) == 1 and runner.board.state_of("rc1") is AgentState.TALKING
            )
            [second] = list(runner.calls)
            assert sim_member_in_call()
            # the board follows the PBX: the agent talks on the call the queue put through
            assert second.attempt_id == runner.board.view("rc1", runner.clock.now()).attempt_id
            # its own wrap-up ends in turn (by the timeout's default here)
            await wait_for(lambda: runner.board.state_of("rc1") is AgentState.WRAP_UP)
            await wait_for(lambda: runner.board.state_of("rc1") is AgentState.READY)

            async def settled() -> bool:
                return [] == await leased()

            await wait_for(settled)
            sim = rig.sim.queues["q-race"].members[member]
            # the board and the PBX agree: a free agent, an unpaused member not in a call
            await wait_for(lambda: not sim.paused)
            assert (False, False) == (sim.paused, sim.in_call)
        # counted by cause: the first call's status lost to the queue call, the second's timeout
        counted = [
            rig.metrics.registry.get_sample_value(
                "dialer_default_dispositions_total", {"campaign": camp, "cause": cause}
            )
            for cause in ("queue_call", "timeout")
        ]
        assert [1.0, 1.0] == counted

    attempts = {c: await store.contact_attempts(c) for c in contacts}
    statuses = {(await store.get_contact(c)).status for c in contacts}
    assert {Outcome.ANSWERED} == {a.outcome for rows in attempts.values() for a in rows}
    assert [1, 1] == [len(rows) for rows in attempts.values()]
    assert {"Domyślny"} == statuses  # the first call's wrap-up got the default when the second came


async def test_a_waiting_queue_call_waits_for_the_agents_own_disposition(store: Store) -> None:
    # the same two customers, a pause that lands within the call: the first call's wrap-up
    # is the agent's, and its contact gets the agent's status, not the default
    camp = await make_campaign(store, mode=DialingMode.PREDICTIVE, queue="q-calm")
    for name in ("Domyślny", "Sukces", "Odmowa"):
        await store.create_status(StatusSpec(name, SystemStatus.DO_NOT_CALL), campaign=camp)
    contacts = [await store.add_contact(camp, [f"+4850000060{n}"]) for n in (1, 2)]
    await store.create_agent("cm1", agent_interface(2))
    campaign = await store.get_campaign(camp)
    settings = dataclasses.replace(SETTINGS, disposition_timeout_s=30.0)
    member = agent_interface(2)

    async with pbx_rig("q-calm", population=TALKERS, agent_ring_s=0.2, agent_talk_s=250.0) as rig:
        rig.sim.queue_pause_lag_s = 100.0  # 1 s of real time: lands within the 2.5 s call
        runner = make_runner(campaign, store, rig, settings=settings, policy=TwoCallsPolicy())
        sim_queue = rig.sim.queues["q-calm"]
        async with running(runner):
            await runner.agents.login("cm1", member)
            await wait_for(
                lambda: len(runner.calls) == 2 and runner.board.state_of("cm1") is AgentState.TALKING
            )
            await wait_for(lambda: sim_queue.members[member].paused, what="the member paused in its call")
            await wait_for(lambda: runner.board.state_of("cm1") is AgentState.WRAP_UP)
            first = runner.board.view("cm1", runner.clock.now()).attempt_id
            # the second customer waits in the queue; the agent is not in a call
            assert (1, False) == (len(sim_queue.callers), sim_queue.members[member].in_call)
            await runner.agents.set_disposition("cm1", Disposition("Sukces"))
            await wait_for(lambda: runner.board.state_of("cm1") is AgentState.TALKING, what="the second call")
            second = runner.board.view("cm1", runner.clock.now()).attempt_id
            await wait_for(lambda: runner.board.state_of("cm1") is AgentState.WRAP_UP)
            await runner.agents.set_disposition("cm1", Disposition("Odmowa"))
            await wait_for(lambda: runner.board.state_of("cm1") is AgentState.READY)

            async def statuses() -> dict[str, str]:
                return {
                    str(a.id): (await store.get_contact(c)).status
                    for c in contacts
                    for a in await store.contact_attempts(c)
                }

            async def written() -> bool:
                return {"Sukces", "Odmowa"} == set((await statuses()).values())

            await wait_for(written, what="both dispositions written")
        default = rig.metrics.registry.get_sample_value(
            "dialer_default_dispositions_total", {"campaign": camp, "cause": "queue_call"}
        )
    assert {first: "Sukces", second: "Odmowa"} == await statuses()
    assert 0.0 == default  # exported at 0, never counted: no status lost
