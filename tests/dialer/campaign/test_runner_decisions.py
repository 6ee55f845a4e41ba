"""When the runner decides, and what it tells the pacer about the campaign's end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dialer.campaign.runner import CampaignRunner
from dialer.model import DialingMode
from dialer.store.store import Store
from pacing import CampaignSnapshot, DialDecision
from tests.dialer.campaign.runner_fixtures import ScriptedPolicy, make_runner, pbx_rig, running
from tests.dialer.conftest import make_campaign


class Recording(ScriptedPolicy):
    """Launches nothing; remembers what each decision was shown."""

    def __init__(self) -> None:
        self.seen: list[CampaignSnapshot] = []

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        self.seen.append(snapshot)
        return DialDecision(launch=0)


@asynccontextmanager
async def recorded(store: Store, queue: str) -> AsyncIterator[tuple[CampaignRunner, Recording]]:
    """A predictive campaign's runner, running, with a :class:`Recording` policy."""
    camp = await make_campaign(store, mode=DialingMode.PREDICTIVE, queue=queue)
    policy = Recording()
    async with pbx_rig(queue) as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, policy=policy)
        async with running(runner):
            yield runner, policy


async def test_a_quiet_campaign_is_still_decided_on_every_tick(store: Store) -> None:
    # a decision comes on the tick, a wake or an answer, not on every pass of the loop: with
    # nothing happening the tick alone must keep deciding (FAST: every 50 ms)
    async with recorded(store, "q-tick") as (_, policy):
        await asyncio.sleep(0.1)
        before = len(policy.seen)
        await asyncio.sleep(1.0)
        during = len(policy.seen) - before
    assert 8 <= during <= 40, during  # about 20 ticks, on a loaded machine fewer; never a busy loop


async def test_an_announced_end_reaches_the_pacer_as_the_seconds_left(store: Store) -> None:
    async with recorded(store, "q-end") as (runner, policy):
        await asyncio.sleep(0.2)
        assert all(s.dials_for_s is None for s in policy.seen)  # no end announced
        end = runner.clock.now() + 30.0
        runner.end_at(end)
        runner.wake()
        await asyncio.sleep(0.2)
        told = [(s.now_s, s.dials_for_s) for s in policy.seen if s.dials_for_s is not None]
        assert told and all(abs(now + left - end) < 1e-6 for now, left in told)
        runner.end_at(runner.clock.now() - 5.0)  # already past: nothing left, never negative
        runner.wake()
        await asyncio.sleep(0.2)
        assert 0.0 == policy.seen[-1].dials_for_s
