"""The campaign runner end to end: real PostgreSQL, the simulated PBX over TCP."""

from __future__ import annotations

import dataclasses

from dialer.model import DialingMode, StatusSpec, SystemStatus, Trigger
from dialer.store import Store
from tests.dialer.conftest import make_campaign
from tests.dialer.runner_fixtures import FAST, agent_interface, make_runner, pbx_rig, running, wait_for

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
        await store.create_status(StatusSpec(name, system, trigger=trigger), campaign=camp)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    return camp


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
    await store.create_agent("a1", agent_interface(1))
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
