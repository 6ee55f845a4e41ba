"""A connected call whose Local pair Asterisk optimises away, through the whole engine.

Real PostgreSQL and the simulated PBX over TCP, as in test_runner.py. The simulator, like
Asterisk 22 (fact 11 of the transcripts' README, ``originate-local-optimized-reserved-agent``),
swaps the trunk leg into the agent's bridge once the customer's media flows and hangs up the
``;1`` our ChannelId names about 40 ms after the agent answered, while customer and agent go
on talking. The engine must keep the attempt open, the agent talking and the next customer
undialled until the conversation really ends, and learn the real talk time.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pacing
from ami.simulator.population import PopulationParams
from dialer.agents.state import AgentState
from dialer.campaign.settings import Disposition
from dialer.model import DialingMode, Outcome, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.campaign.runner_fixtures import (
    FAST,
    TIME_SCALE,
    agent_interface,
    make_runner,
    pbx_rig,
    running,
    wait_for,
)
from tests.dialer.conftest import make_campaign

SETTINGS = dataclasses.replace(FAST, disposition_timeout_s=10.0, default_disposition="Sukces")
# Every customer answers after 1 s and talks, with media, until 300 s after answering
# (3 s of real time at the simulator's time scale: room for a loaded machine).
TALK_AFTER_ANSWER_S = 300.0
TALKERS = PopulationParams(
    answer_p=1.0,
    machine_share=0.0,
    answer_median_s=1.0,
    answer_sigma=0.0,
    talk_median_s=TALK_AFTER_ANSWER_S,
    talk_sigma=0.0,
)


class RecordingPolicy:
    """The campaign's own policy, recording the talk times the engine teaches it."""

    def __init__(self, inner: pacing.PacingPolicy) -> None:
        self.inner = inner
        self.mode = inner.mode
        self.talks: list[float] = []

    def decide(self, snapshot: pacing.CampaignSnapshot) -> pacing.DialDecision:
        return self.inner.decide(snapshot)

    def observe_call(self, observation: pacing.CallObservation) -> None:
        self.inner.observe_call(observation)

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        self.talks.append(talk_s)
        self.inner.observe_talk(t_s, talk_s)

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        self.inner.observe_wrap(t_s, wrap_s)


async def test_optimised_call_keeps_its_agent_talking_until_the_conversation_ends(store: Store) -> None:
    camp = await make_campaign(store, mode=DialingMode.PROGRESSIVE, queue="q-opt")
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    first = await store.add_contact(camp, ["+48500000401"])
    second = await store.add_contact(camp, ["+48500000402"])
    agent = await store.create_agent("op1")
    campaign = await store.get_campaign(camp)
    profile = pacing.profile_named(campaign.compliance.value)
    policy = RecordingPolicy(pacing.policy_for(pacing.DialMode.PROGRESSIVE, profile))

    async def attempts() -> list[tuple[int, Outcome | None]]:
        return [(a.contact_id, a.outcome) for c in (first, second) for a in await store.contact_attempts(c)]

    async with pbx_rig("q-opt", population=TALKERS) as rig:
        runner = make_runner(campaign, store, rig, settings=SETTINGS, policy=policy)

        def optimised() -> bool:
            return any(call.optimized for call in rig.sim.calls_by_uid.values())

        def state() -> AgentState:
            return runner.board.state_of("op1")

        async with running(runner):
            await runner.agents.login("op1", agent_interface(1))
            await wait_for(optimised)  # our ;1 is gone, the conversation goes on
            # The engine reads the PBX's events after the simulator wrote them: under load it may
            # still be learning that the agent answered. From then on it must keep them talking.
            await wait_for(lambda: state() is AgentState.TALKING or not optimised())
            seen: list[tuple[AgentState, list[tuple[int, Outcome | None]]]] = []
            while True:
                sample = (state(), await attempts())
                if not optimised():  # the conversation may have ended while sampling
                    break
                seen.append(sample)
                await asyncio.sleep(0.02)
            assert seen, "the engine never showed the agent talking while the conversation went on"
            (dialled, _), *_ = seen[0][1]
            talking = [(AgentState.TALKING, [(dialled, None)])] * len(seen)
            assert talking == seen  # no wrap-up, no other customer while they talk
            await wait_for(lambda: state() is AgentState.WRAP_UP)
            await runner.agents.set_disposition("op1", Disposition("Sukces"))

            async def next_one_dialled() -> bool:
                return len(await attempts()) == 2

            await wait_for(next_one_dialled)
    [attempt] = await store.contact_attempts(dialled)
    assert (Outcome.ANSWERED, agent.id) == (attempt.outcome, attempt.agent_id)
    row = await store.pool.fetchrow("SELECT answered_at, ended_at FROM attempts WHERE id = $1", attempt.id)
    talked_s = (row["ended_at"] - row["answered_at"]).total_seconds()
    # answer -> hang-up is the customer's 300 s (3 s here); the ;1 went after ~1.04 s (10 ms)
    assert talked_s >= 0.9 * TALK_AFTER_ANSWER_S * TIME_SCALE
    assert policy.talks[0] >= 0.9 * (TALK_AFTER_ANSWER_S - 1.0) * TIME_SCALE  # agent answered 1 s in
