"""A campaign's queue (issue 17 item 5): named like the campaign by default, checked at start.

Real PostgreSQL and the simulated PBX over TCP, which answers queue actions as Asterisk does
for a queue that is not in queues.conf (no action creates one).
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from structlog.testing import capture_logs

from dialer.model import DialingMode, Outcome
from dialer.store.store import Store
from tests.dialer.campaign.runner_fixtures import (
    FAST,
    agent_interface,
    make_runner,
    pbx_rig,
    running,
    wait_for,
)
from tests.dialer.conftest import make_campaign

QUICK_RECHECK = dataclasses.replace(FAST, queue_recheck_s=0.2, default_disposition="Sukces")


async def test_a_campaign_without_queue_uses_its_name_and_its_agents_join_that_queue(store: Store) -> None:
    name = await make_campaign(store, mode=DialingMode.PROGRESSIVE)  # no queue given
    campaign = await store.get_campaign(name)
    assert campaign.queue == name  # the queue dialer-connect falls back to (DIALER_CAMPAIGN)
    await store.add_contact(name, ["+1005557001"])
    await store.create_agent(f"{name}-a1")
    async with pbx_rig(name) as rig:
        runner = make_runner(campaign, store, rig, settings=QUICK_RECHECK)
        async with running(runner):
            await runner.agents.login(f"{name}-a1", agent_interface(1))
            await wait_for(lambda: agent_interface(1) in rig.sim.queues[name].members)
            # the call reaches the agent through that queue (a 100 person: connected)
            await wait_for(lambda: runner.stats().connects == 1)
        assert rig.sim.action_counts["queueadd"] >= 1


async def test_a_missing_queue_stops_dialling_says_so_and_resumes_once_configured(store: Store) -> None:
    name = await make_campaign(store, mode=DialingMode.PREDICTIVE, queue="q-not-configured")
    for i in range(3):
        await store.add_contact(name, [f"+100555710{i}"])
    campaign = await store.get_campaign(name)
    await store.create_agent(f"{name}-a1")
    async with pbx_rig("q-other") as rig:
        # built inside capture_logs: a logger bound earlier keeps the processors of its time
        with capture_logs() as logs:
            runner = make_runner(campaign, store, rig, settings=QUICK_RECHECK)
            async with running(runner):
                await runner.agents.login(f"{name}-a1", agent_interface(1))
                await wait_for(lambda: "queue_missing" in runner.paused_reasons())
                await asyncio.sleep(0.5)  # several ticks and rechecks: still nothing dialled
                assert rig.sim.action_counts["originate"] == 0
                assert 1.0 == rig.metrics.registry.get_sample_value(
                    "dialer_campaign_queue_missing", {"campaign": name}
                )
                # the operator adds the queue and reloads app_queue
                rig.sim.queue("q-not-configured")
                await wait_for(lambda: "queue_missing" not in runner.paused_reasons())
                # the agent's refused QueueAdd is repeated, and calls go out again
                await wait_for(lambda: agent_interface(1) in rig.sim.queues["q-not-configured"].members)
                await wait_for(lambda: rig.sim.action_counts["originate"] >= 1)
        assert 0.0 == rig.metrics.registry.get_sample_value(
            "dialer_campaign_queue_missing", {"campaign": name}
        )
    missing = [e for e in logs if e["event"] == "campaign_queue_missing"]
    assert len(missing) == 1, "said once, at error level, not every recheck"
    assert missing[0]["log_level"] == "error" and missing[0]["queue"] == "q-not-configured"
    assert any(e["event"] == "queue_missing_on_server" and e["server"] == "pbx1" for e in logs)


async def test_a_reserved_agent_is_the_attempts_agent_only_when_the_call_reached_them(store: Store) -> None:
    """Progressive: every call reserves an agent. The busy call and the abandoned one (the
    agent's phone rings past the 2 s connect limit) reached nobody: no agent on the attempt.
    The answered one carries the agent who talked."""
    name = await make_campaign(store, mode=DialingMode.PROGRESSIVE)
    busy = await store.add_contact(name, ["+2005557301"])
    talked = await store.add_contact(name, ["+1005557302"])
    agent = await store.create_agent(f"{name}-a1")
    campaign = await store.get_campaign(name)

    async def closed(cid: int) -> bool:
        return any(a.outcome is not None for a in await store.contact_attempts(cid))

    async with pbx_rig(name) as rig:
        runner = make_runner(campaign, store, rig, settings=QUICK_RECHECK)
        async with running(runner):
            await runner.agents.login(agent.name, agent_interface(1))
            await wait_for(lambda: closed(busy))
            await wait_for(lambda: closed(talked))
    [b] = await store.contact_attempts(busy)
    [t] = await store.contact_attempts(talked)
    assert (b.outcome, b.agent_id) == (Outcome.BUSY, None)
    assert (t.outcome, t.agent_id) == (Outcome.ANSWERED, agent.id)

    late = await make_campaign(store, mode=DialingMode.PROGRESSIVE)
    dropped = await store.add_contact(late, ["+1005557303"])
    slow = await store.create_agent(f"{late}-a1")
    async with pbx_rig(late, agent_ring_s=3.0) as rig:  # rings past the connect limit
        runner = make_runner(await store.get_campaign(late), store, rig, settings=QUICK_RECHECK)
        async with running(runner):
            await runner.agents.login(slow.name, agent_interface(2))
            await wait_for(lambda: closed(dropped))
    [d] = await store.contact_attempts(dropped)
    assert (d.outcome, d.agent_id) == (Outcome.ABANDONED, None)


@pytest.mark.parametrize("ending", ["drain", "stop"])
async def test_after_a_drain_or_a_stop_no_agent_stays_in_the_queue(store: Store, ending: str) -> None:
    """End to end against the simulated PBX: logged-in agents (one paused, one that just took
    a call) are QueueRemoved when the runner ends, by a drain or by a stop."""
    name = await make_campaign(store, mode=DialingMode.PROGRESSIVE)
    talked = await store.add_contact(name, [f"+100555740{len(ending)}"])
    a1 = await store.create_agent(f"{name}-a1")
    a2 = await store.create_agent(f"{name}-a2")
    async with pbx_rig(name) as rig:
        runner = make_runner(await store.get_campaign(name), store, rig, settings=QUICK_RECHECK)
        task = asyncio.ensure_future(runner.run())
        await runner.agents.login(a2.name, agent_interface(2))
        await runner.agents.pause(a2.name, reason="lunch")
        await runner.agents.login(a1.name, agent_interface(1))
        members = rig.sim.queues[name].members
        await wait_for(lambda: len(members) == 2 and members[agent_interface(2)].paused)

        async def answered() -> bool:
            return any(a.outcome is Outcome.ANSWERED for a in await store.contact_attempts(talked))

        await wait_for(answered)
        if ending == "drain":
            await runner.drain(timeout_s=3.0)
        else:
            runner.stop()
        await asyncio.wait_for(task, 5)
        assert members == {}
        assert rig.sim.action_counts["queueremove"] == 2
