"""The agent interface through the runner: preview modes, callbacks, negotiated logout, the
agents' time per minute (the wallboard's talk share).

Real PostgreSQL and the simulated PBX over TCP, as in test_runner.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable

from dialer.agents.state import AgentState
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import Disposition
from dialer.model import CallbackKind, DialingMode, Outcome, StatusSpec, SystemStatus
from dialer.store.store import Store
from pacing import PredictivePolicy
from tests.dialer.campaign.runner_fixtures import (
    FAST,
    agent_interface,
    make_runner,
    pbx_rig,
    running,
    wait_for,
)
from tests.dialer.conftest import make_campaign

SETTINGS = dataclasses.replace(FAST, disposition_timeout_s=3.0, default_disposition="Sukces")


async def _campaign(store: Store, queue: str, mode: DialingMode, **overrides: object) -> str:
    camp = await make_campaign(store, mode=mode, queue=queue, **overrides)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    await store.create_status(StatusSpec("Mój", SystemStatus.MY_RECORD), campaign=camp)
    await store.create_status(StatusSpec("Później", SystemStatus.NOT_BEFORE), campaign=camp)
    return camp


def _state(runner: CampaignRunner, agent: str, state: AgentState) -> Callable[[], bool]:
    return lambda: runner.board.state_of(agent) is state


async def _attempts(store: Store, cid: int, n: int) -> bool:
    return len([a for a in await store.contact_attempts(cid) if a.outcome is not None]) >= n


async def test_preview_agent_sees_the_record_then_accepts_and_the_call_is_placed(store: Store) -> None:
    camp = await _campaign(store, "q-prev", DialingMode.PREVIEW)
    cid = await store.add_contact(camp, ["+1005550201"], name="Jan Kowalski")
    agent = await store.create_agent("pv1")
    async with pbx_rig("q-prev") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("pv1", agent_interface(1))
            await runner.agents.request_record("pv1")
            await wait_for(_state(runner, "pv1", AgentState.OFFERED))
            record = runner.agents.offered("pv1")
            assert record is not None and (cid, "Jan Kowalski") == (record.contact_id, record.name)
            assert [] == await store.contact_attempts(cid)  # nothing dialled before the accept
            await runner.agents.accept("pv1")
            await wait_for(_state(runner, "pv1", AgentState.WRAP_UP))
            await runner.agents.set_disposition("pv1", Disposition("Sukces"))
            await wait_for(lambda: _attempts(store, cid, 1))

            async def settled() -> bool:
                return (await store.get_contact(cid)).status == "Sukces"

            await wait_for(settled)
    [attempt] = await store.contact_attempts(cid)
    assert (Outcome.ANSWERED, agent.id) == (attempt.outcome, attempt.agent_id)


async def test_push_preview_skip_gives_the_record_back_undialled(store: Store) -> None:
    camp = await _campaign(store, "q-push", DialingMode.PUSH_PREVIEW)
    cid = await store.add_contact(camp, ["+1005550202"])
    await store.create_agent("pp1")
    async with pbx_rig("q-push") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("pp1", agent_interface(1))  # pushed without asking
            await wait_for(_state(runner, "pp1", AgentState.OFFERED))
            await runner.agents.pause("pp1")  # held until the offer is over
            await runner.agents.skip("pp1")
            await wait_for(_state(runner, "pp1", AgentState.PAUSED))

            async def released() -> bool:
                c = await store.pool.fetchrow("SELECT lease_owner, attempts FROM contacts WHERE id = $1", cid)
                return c["lease_owner"] is None

            await wait_for(released)
    assert [] == await store.contact_attempts(cid)
    assert 0 == (await store.get_contact(cid)).attempts


async def test_logout_while_reserved_is_held_until_the_call_fails(store: Store) -> None:
    camp = await _campaign(store, "q-logout", DialingMode.PROGRESSIVE, ring_timeout_s=60)
    cid = await store.add_contact(camp, ["+3005550203"])  # rings until the timeout (600 ms here)
    await store.create_agent("lo1")
    async with pbx_rig("q-logout") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("lo1", agent_interface(1))
            await wait_for(_state(runner, "lo1", AgentState.RESERVED))
            pending = await runner.agents.logout("lo1")
            assert pending is not None and AgentState.RESERVED == pending.waiting_for
            assert pending.remaining_s is not None and pending.remaining_s > 0
            assert AgentState.RESERVED == runner.board.state_of("lo1")  # still held for the call
            await wait_for(_state(runner, "lo1", AgentState.LOGGED_OUT))
            await wait_for(lambda: _attempts(store, cid, 1))
    [attempt] = await store.contact_attempts(cid)
    assert Outcome.NO_ANSWER == attempt.outcome
    assert 1 == len(await store.contact_attempts(cid))  # the logged-out agent got no other call


async def test_personal_callback_goes_to_its_agent(store: Store) -> None:
    camp = await _campaign(store, "q-pcb", DialingMode.PROGRESSIVE)
    cid = await store.add_contact(camp, ["+1005550204"])
    a1 = await store.create_agent("pc1")
    await store.create_agent("pc2")
    async with pbx_rig("q-pcb") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("pc1", agent_interface(1))
            await wait_for(_state(runner, "pc1", AgentState.WRAP_UP))
            await runner.agents.login("pc2", agent_interface(2))  # free and longest idle from now on
            await runner.agents.pause("pc1")  # pc1 takes a break after this call
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.3)
            await runner.agents.set_disposition("pc1", Disposition("Mój", callback_at=due))
            await wait_for(_state(runner, "pc1", AgentState.PAUSED))
            await wait_for(lambda: runner.clock.now() > due.timestamp() + 0.3)
            assert 1 == len(await store.contact_attempts(cid))  # pc2 is free, but it is not theirs
            await runner.agents.unpause("pc1")
            await wait_for(lambda: _attempts(store, cid, 2))
    first, second = await store.contact_attempts(cid)
    assert (a1.id, a1.id) == (first.agent_id, second.agent_id)


async def test_personal_callback_of_an_away_agent_goes_to_anyone_after_the_grace(store: Store) -> None:
    camp = await _campaign(store, "q-grace", DialingMode.PROGRESSIVE)
    cid = await store.add_contact(camp, ["+1005550205"])
    await store.create_agent("gr1")
    a2 = await store.create_agent("gr2")
    async with pbx_rig("q-grace") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("gr1", agent_interface(1))
            await wait_for(_state(runner, "gr1", AgentState.WRAP_UP))
            await runner.agents.logout("gr1")  # held until the disposition
            due = dt.datetime.now(dt.UTC)
            await runner.agents.set_disposition("gr1", Disposition("Mój", callback_at=due))
            await wait_for(_state(runner, "gr1", AgentState.LOGGED_OUT))
            await runner.agents.login("gr2", agent_interface(2))
            await wait_for(lambda: _attempts(store, cid, 2))
    second = (await store.contact_attempts(cid))[1]
    assert a2.id == second.agent_id


async def test_campaign_callback_goes_to_any_agent(store: Store) -> None:
    camp = await _campaign(store, "q-ccb", DialingMode.PROGRESSIVE)
    cid = await store.add_contact(camp, ["+1005550206"])
    await store.create_agent("cc1")
    a2 = await store.create_agent("cc2")
    async with pbx_rig("q-ccb") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("cc1", agent_interface(1))
            await wait_for(_state(runner, "cc1", AgentState.WRAP_UP))
            await runner.agents.pause("cc1")
            await runner.agents.login("cc2", agent_interface(2))
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.2)
            await runner.agents.set_disposition(
                "cc1", Disposition("Później", callback_at=due, callback=CallbackKind.CAMPAIGN)
            )
            await wait_for(lambda: _attempts(store, cid, 2))
    second = (await store.contact_attempts(cid))[1]
    assert a2.id == second.agent_id
    assert second.started_at >= due


async def test_agent_who_sets_no_disposition_gets_the_default(store: Store) -> None:
    camp = await _campaign(store, "q-default", DialingMode.PROGRESSIVE)
    cid = await store.add_contact(camp, ["+1005550207"])
    await store.create_agent("df1")
    quick = dataclasses.replace(SETTINGS, disposition_timeout_s=0.2)
    async with pbx_rig("q-default") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=quick)
        async with running(runner):
            await runner.agents.login("df1", agent_interface(1))
            await wait_for(_state(runner, "df1", AgentState.WRAP_UP))
            await wait_for(_state(runner, "df1", AgentState.READY))

            async def settled() -> bool:
                return (await store.get_contact(cid)).status == "Sukces"

            await wait_for(settled)


async def test_logged_in_and_talking_time_reach_the_store_by_the_runners_end(store: Store) -> None:
    """The agents' time per minute (the wallboard's talk share over the day, dialer.campaign.occupancy)."""
    camp = await _campaign(store, "q-occ", DialingMode.PREVIEW)
    cid = await store.add_contact(camp, ["+1005550291"])
    await store.create_agent("oc1")
    await store.create_agent("oc2")  # logged in, never talks
    campaign = await store.get_campaign(camp)
    began = time.time()
    async with pbx_rig("q-occ") as rig:
        runner = make_runner(campaign, store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("oc1", agent_interface(1))
            await runner.agents.login("oc2", agent_interface(2))
            await runner.agents.request_record("oc1")
            await wait_for(_state(runner, "oc1", AgentState.OFFERED))
            await runner.agents.accept("oc1")
            await wait_for(_state(runner, "oc1", AgentState.WRAP_UP))
            await runner.agents.set_disposition("oc1", Disposition("Sukces"))

            async def settled() -> bool:
                return (await store.get_contact(cid)).status == "Sukces"

            await wait_for(settled)
    ended = time.time()
    rows = await store.pool.fetch(
        "SELECT minute, logged_in_s, talking_s FROM campaign_occupancy WHERE campaign_id = $1", campaign.id
    )
    logged_in = sum(r["logged_in_s"] for r in rows)
    talking = sum(r["talking_s"] for r in rows)
    # two agents for (nearly) the whole run, one of them talking for part of it
    assert 0 < talking < logged_in / 2
    assert logged_in <= 2 * (ended - began) + 0.5
    first, last = (dt.datetime.fromtimestamp(t, dt.UTC) for t in (began - 60, ended))
    assert all(first <= r["minute"] <= last for r in rows)
    chart = await store.day_chart(camp, timezone="UTC")
    assert sum(p.talking_s for p in chart.points) == talking


async def test_a_mode_changed_while_running_applies_at_once_and_keeps_what_pacing_learnt(
    store: Store,
) -> None:
    camp = await _campaign(store, "q-mode", DialingMode.PROGRESSIVE)
    first = await store.add_contact(camp, ["+1005550281"])
    await store.create_agent("md1")
    async with pbx_rig("q-mode") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        assert not isinstance(runner.policy, PredictivePolicy)
        async with running(runner):
            await runner.agents.login("md1", agent_interface(1))
            await wait_for(_state(runner, "md1", AgentState.WRAP_UP))  # progressive: reserved, dialled
            await runner.agents.set_disposition("md1", Disposition("Sukces"))
            await wait_for(lambda: _attempts(store, first, 1))
            learnt = runner.gauges().learned_answer_rate
            assert learnt is not None  # a progressive campaign's calls teach the predictive pacer too
            # the supervisor switches to preview: the next record is offered, not dialled
            await store.update_campaign(camp, mode=DialingMode.PREVIEW)
            runner.settings_changed()
            await wait_for(lambda: runner.campaign.mode is DialingMode.PREVIEW)
            second = await store.add_contact(camp, ["+1005550282"])
            await runner.agents.request_record("md1")
            await wait_for(_state(runner, "md1", AgentState.OFFERED))
            offered = runner.agents.offered("md1")
            assert offered is not None and second == offered.contact_id
            assert [] == await store.contact_attempts(second)  # offered, not dialled
            # and to predictive: the policy that decides is the one that learnt the first call
            await store.update_campaign(camp, mode=DialingMode.PREDICTIVE)
            runner.settings_changed()
            await wait_for(lambda: isinstance(runner.policy, PredictivePolicy))
            assert runner.policy.stats.outcomes.n_seen >= 1  # type: ignore[attr-defined]
            assert DialingMode.PREDICTIVE is runner.housekeeping._campaign.mode
