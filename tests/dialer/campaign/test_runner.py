"""The campaign runner end to end: real PostgreSQL, the simulated PBX over TCP."""

from __future__ import annotations

import dataclasses

from ami.outcome import AmdDetected
from dialer.campaign.runner import CampaignRunner
from dialer.clock import RealClock
from dialer.model import (
    AmdAction,
    Compliance,
    DialingMode,
    Outcome,
    RetryRule,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.store.store import Store
from pacing import CallObservation, CampaignSnapshot, DialDecision, DialMode, PredictivePolicy
from tests.dialer.campaign.runner_fixtures import (
    FAST,
    agent_interface,
    make_runner,
    pbx_rig,
    running,
    wait_for,
)
from tests.dialer.conftest import make_campaign

DONE = dataclasses.replace(FAST, default_disposition="Sukces")

TRIGGER_STATUS = {
    Trigger.BUSY: "Zajęty",
    Trigger.NO_ANSWER: "Nie odbiera",
    Trigger.CONGESTION: "Błąd",
    Trigger.MACHINE: "Automat",
    Trigger.ABANDONED: "Porzucone",
    Trigger.INVALID_NUMBER: "Zły numer",
}


async def _campaign_with_triggers(store: Store, **overrides: object) -> str:
    camp = await make_campaign(store, **overrides)
    for trigger, name in TRIGGER_STATUS.items():
        system = SystemStatus.CALL_PROGRESSIVE if trigger is Trigger.ABANDONED else SystemStatus.NOT_BEFORE
        # an abandoned contact is redialled at once, with an agent reserved (the 72 h lock is UK's)
        retry = RetryRule(delay_s=0) if trigger is Trigger.ABANDONED else RetryRule()
        await store.create_status(StatusSpec(name, system, trigger=trigger, retry=retry), campaign=camp)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    return camp


async def test_amd_set_on_the_campaign_hands_machines_to_agents_when_its_action_says_so(
    store: Store,
) -> None:
    """Issue 17 item 5: AMD from the campaign (not the code), action "agent": the dialplan (here
    the simulated PBX, reading DIALER_AMD_ACTION) connects a machine like a person, so the
    verdict only labels the call and nobody is dropped."""
    camp = await _campaign_with_triggers(
        store, mode=DialingMode.PREDICTIVE, queue="q-amd-agent", amd=True, amd_action=AmdAction.AGENT
    )
    people = [await store.add_contact(camp, [f"+100555{n:04d}"]) for n in range(2)]
    machines = [await store.add_contact(camp, [f"+120555{n:04d}"]) for n in range(2)]
    campaign = await store.get_campaign(camp)
    assert (True, AmdAction.AGENT) == (campaign.amd, campaign.amd_action)
    for n in (1, 2):
        await store.create_agent(f"aa{n}")
    async with pbx_rig("q-amd-agent") as rig:
        runner = make_runner(campaign, store, rig, settings=DONE)  # DONE: amd off in the code
        verdicts: list[str] = []
        feed = runner.on_attempt

        def watch(update: object) -> None:
            if isinstance(update, AmdDetected):
                verdicts.append(update.status)
            feed(update)

        runner.on_attempt = watch  # type: ignore[method-assign]
        async with running(runner):
            for n in (1, 2):
                await runner.agents.login(f"aa{n}", agent_interface(n))

            async def all_done() -> bool:
                contacts = [await store.get_contact(i) for i in people + machines]
                return all(c.attempts == 1 and c.status == "Sukces" for c in contacts)

            await wait_for(all_done, timeout_s=12)
    assert ["HUMAN", "HUMAN", "MACHINE", "MACHINE"] == sorted(verdicts)  # AMD ran on every call
    outcomes = [a.outcome for i in machines for a in await store.contact_attempts(i)]
    assert [Outcome.ANSWERED, Outcome.ANSWERED] == outcomes
    assert 4 == runner.stats().connects


async def test_progressive_campaign_writes_the_status_of_each_scripted_outcome(store: Store) -> None:
    camp = await _campaign_with_triggers(store, mode=DialingMode.PROGRESSIVE, queue="q-prog1")
    numbers = {
        "+1005550001": "Sukces",  # person: connected, default disposition
        "+2005550002": "Zajęty",
        "+3005550003": "Nie odbiera",
        "+4005550004": "Błąd",
        "+5005550005": "Zły numer",
    }
    ids = {n: await store.add_contact(camp, [n]) for n in numbers}
    campaign = await store.get_campaign(camp)
    await store.create_agent("a1")
    async with pbx_rig("q-prog1") as rig:
        runner = make_runner(campaign, store, rig, settings=DONE)
        async with running(runner):
            await runner.agents.login("a1", agent_interface(1))

            async def all_done() -> bool:
                contacts = [await store.get_contact(i) for i in ids.values()]
                return all(c.attempts == 1 and c.status != "Dzwonić" for c in contacts)

            await wait_for(all_done, timeout_s=9)
    got = {n: (await store.get_contact(i)).status for n, i in ids.items()}
    assert numbers == got
    stats = runner.stats()
    assert 5 == stats.attempts
    assert 1 == stats.connects


class UnreservedOnly:
    """A pacing policy that launches one call per decision with no agent reserved.

    It makes a predictive campaign's queue hand-off deterministic: with every agent paused,
    a live answer finds nobody in the queue and is abandoned after the connect limit.
    """

    mode = DialMode.PREDICTIVE

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        return DialDecision(launch=min(1, snapshot.lines_free), reserved=0, mode=DialMode.PREDICTIVE)

    def observe_call(self, observation: CallObservation) -> None:
        return None

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        return None

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        return None


async def test_abandoned_call_becomes_call_progressive_and_is_redialled_with_an_agent_reserved(
    store: Store,
) -> None:
    camp = await _campaign_with_triggers(store, mode=DialingMode.PREDICTIVE, queue="q-aband")
    cid = await store.add_contact(camp, ["+1005550101"])
    agent = await store.create_agent("ab1")
    campaign = await store.get_campaign(camp)
    async with pbx_rig("q-aband") as rig:
        runner = CampaignRunner(
            campaign,
            store=store,
            pbx=rig.pbx,
            clock=RealClock(),
            metrics=rig.metrics,
            engine_id="e1",
            settings=DONE,
            policy=UnreservedOnly(),
        )
        async with running(runner):
            await runner.agents.login("ab1", agent_interface(1), paused=True)

            async def abandoned() -> bool:
                return (await store.get_contact(cid)).status == "Porzucone"

            await wait_for(abandoned)
            await runner.agents.unpause("ab1")

            async def redialled() -> bool:
                return (await store.get_contact(cid)).status == "Sukces"

            await wait_for(redialled)
    first, second = await store.contact_attempts(cid)
    assert (Outcome.ABANDONED, None) == (first.outcome, first.agent_id)
    assert (Outcome.ANSWERED, agent.id) == (second.outcome, second.agent_id)
    name = campaign.name
    assert 1.0 == rig.metrics.registry.get_sample_value("dialer_abandons_total", {"campaign": name})
    assert 2.0 == rig.metrics.registry.get_sample_value("dialer_live_answers_total", {"campaign": name})
    assert 0.5 == runner.gauges().abandon_rate_by_window["24h"]
    # what the audit report reads (migration 006): the abandon played the message, the redial
    # of the abandoned contact had its agent reserved, both rang and have the number's zones
    rows = await store.pool.fetch(
        "SELECT info_message, agent_reserved, ring_s, zones FROM attempts WHERE contact_id = $1 ORDER BY id",
        cid,
    )
    assert [(True, False), (None, True)] == [(r["info_message"], r["agent_reserved"]) for r in rows]
    assert all(r["ring_s"] is not None and r["zones"] for r in rows)


async def test_predictive_campaign_with_amd_connects_people_and_marks_machines(
    store: Store,
) -> None:
    camp = await _campaign_with_triggers(store, mode=DialingMode.PREDICTIVE, queue="q-pred")
    people = [await store.add_contact(camp, [f"+100555{n:04d}"]) for n in range(6)]
    machines = [await store.add_contact(camp, [f"+120555{n:04d}"]) for n in range(3)]
    campaign = await store.get_campaign(camp)
    for n in (1, 2, 3):
        await store.create_agent(f"pr{n}")
    settings = dataclasses.replace(DONE, amd=True)
    async with pbx_rig("q-pred") as rig:
        runner = make_runner(campaign, store, rig, settings=settings)
        async with running(runner):
            for n in (1, 2, 3):
                await runner.agents.login(f"pr{n}", agent_interface(n))

            async def all_done() -> bool:
                contacts = [await store.get_contact(i) for i in people + machines]
                return all(c.attempts == 1 and c.status != "Dzwonić" for c in contacts)

            await wait_for(all_done, timeout_s=9)
            gauges = runner.gauges()
    statuses = {(await store.get_contact(i)).status for i in people}
    assert {"Sukces"} == statuses
    assert {"Automat"} == {(await store.get_contact(i)).status for i in machines}
    assert 6 == runner.stats().connects
    assert gauges.agents_by_state["ready"] + gauges.agents_by_state["wrap_up"] == 3
    latency = rig.metrics.registry.get_sample_value(
        "dialer_decision_latency_seconds_count", {"campaign": campaign.name}
    )
    assert latency is not None and latency > 0


async def test_uk_amd_false_positive_estimate_is_counted_by_the_pacer(store: Store) -> None:
    """Issue 11 item 4: AMD under UK is allowed with an estimate, and then the pacer counts it."""
    camp = await make_campaign(
        store, mode=DialingMode.PREDICTIVE, compliance=Compliance.UK, amd=True, amd_false_positive=0.012
    )
    async with pbx_rig("q-uk-fp") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=DONE)
        policy = runner.policy
        assert isinstance(policy, PredictivePolicy)
        assert 0.012 == policy.settings.amd_false_positive_rate
        assert policy.tracker.count_amd_false_positives and 0.012 == policy.tracker.amd_false_positive_rate
        agent_camp = await make_campaign(
            store, mode=DialingMode.PREDICTIVE, compliance=Compliance.UK, amd=True, amd_action=AmdAction.AGENT
        )
        runner = make_runner(await store.get_campaign(agent_camp), store, rig, settings=DONE)
        assert isinstance(runner.policy, PredictivePolicy)
        assert 0.0 == runner.policy.settings.amd_false_positive_rate  # nobody dropped: nothing to count
