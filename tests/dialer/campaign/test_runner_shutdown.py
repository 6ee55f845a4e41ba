"""Dialling into a PBX shutdown, through the whole engine (issue 17 item 4).

Real PostgreSQL and the simulated PBX over TCP, as in test_runner.py. On ``core restart now``
the engine under test sent 16-20 Originates that Asterisk refused, each leaving a cancelled
attempt row, and counted the calls the restart cut as abandons. Here the simulator shuts down
as asterisk.c does (actions refused, every channel hung up, then ``Event: Shutdown`` and EOF,
then a fresh boot) while two agents talk and more customers wait in the queue; the engine's
policy wants six calls up at all times, so it tries to replace every call that ends.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pacing
from ami.simulator.population import PopulationParams
from dialer.agents.state import AgentState
from dialer.campaign.runner import CampaignRunner
from dialer.model import DialingMode, Outcome
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

SETTINGS = dataclasses.replace(FAST, queue_timeout_s=1000.0)  # 10 s real: customers wait
# Everyone answers after 1 s (10 ms) and would talk for long.
TALKERS = PopulationParams(
    answer_p=1.0,
    machine_share=0.0,
    answer_median_s=1.0,
    answer_sigma=0.0,
    talk_median_s=3000.0,
    talk_sigma=0.0,
)
TARGET = 6


class KeepSixUp(ScriptedPolicy):
    """Predictive pacing reduced to a target: always six calls up while an agent is logged in."""

    def decide(self, snapshot: pacing.CampaignSnapshot) -> pacing.DialDecision:
        if snapshot.ready_agents + len(snapshot.talking_elapsed_s) + len(snapshot.wrapping_elapsed_s) < 1:
            return pacing.DialDecision(launch=0, mode=self.mode)
        up = len(snapshot.ringing_ages_s) + snapshot.customers_waiting + len(snapshot.talking_elapsed_s)
        return pacing.DialDecision(launch=max(0, TARGET - up), mode=self.mode)


def _talking(runner: CampaignRunner) -> int:
    return sum(1 for a in ("sd1", "sd2") if runner.board.state_of(a) is AgentState.TALKING)


async def test_restart_stops_launching_cuts_calls_apart_from_abandons_and_dialling_resumes(
    store: Store,
) -> None:
    camp = await make_campaign(store, mode=DialingMode.PREDICTIVE, queue="q-shut")
    contacts = [await store.add_contact(camp, [f"+485000006{n:02d}"]) for n in range(40)]
    for n in (1, 2):
        await store.create_agent(f"sd{n}", agent_interface(n))
    campaign = await store.get_campaign(camp)

    async with pbx_rig("q-shut", population=TALKERS, agent_ring_s=0.2) as rig:
        runner = make_runner(campaign, store, rig, settings=SETTINGS, policy=KeepSixUp())
        async with running(runner):
            for n in (1, 2):
                await runner.agents.login(f"sd{n}", agent_interface(n))
            await wait_for(lambda: _talking(runner) == 2 and runner.calls.customers_waiting() >= 2)
            waiting = {c.attempt_id for c in runner.calls if c.answered_at and c.connected_at is None}

            await rig.sim.shutdown(restart=True, down_s=0.5, gap_s=0.1)
            back_at = dt.datetime.now(dt.UTC)
            refused_originates = rig.sim.refused_actions["originate"]

            async def dialling_again() -> bool:
                rows = await store.pool.fetch(
                    "SELECT 1 FROM attempts a JOIN contacts c ON c.id = a.contact_id"
                    " WHERE c.campaign_id = $1 AND a.started_at > $2",
                    campaign.id,
                    back_at,
                )
                return len(rows) >= TARGET and rig.sim.live_calls >= TARGET

            await wait_for(dialling_again)  # the agents re-added to the fresh queue, calls placed
            tally = runner.closer.tally
            abandons, rate = tally.abandons, tally.abandon_rates(runner.clock.now())["24h"]

    rows = await store.pool.fetch(
        "SELECT a.id, a.outcome, a.hangup_cause_text FROM attempts a JOIN contacts c ON c.id = a.contact_id"
        " WHERE c.campaign_id = $1",
        campaign.id,
    )
    by_id = {str(r["id"]): r for r in rows}
    cancelled = [r for r in rows if r["outcome"] == Outcome.CANCELLED.value]
    assert waiting and {Outcome.PBX_SHUTDOWN.value} == {by_id[a]["outcome"] for a in waiting}
    assert [] == [r["id"] for r in rows if r["outcome"] == Outcome.ABANDONED.value]
    assert (0, 0.0) == (abandons, rate)
    # the first sign stopped launching: at most the launches already under way were refused
    # (refused by Asterisk "shutting down", or by the client that knew it already), each
    # leaving a cancelled row that says it was not placed
    assert refused_originates <= len(cancelled) <= TARGET
    assert all(r["hangup_cause_text"].startswith("not placed: originate refused") for r in cancelled)
    for cid in contacts:  # a cancelled row counts no attempt against its contact
        tries = await store.contact_attempts(cid)
        placed = [a for a in tries if a.outcome is not None and a.outcome is not Outcome.CANCELLED]
        assert len(placed) == (await store.get_contact(cid)).attempts
