"""Crash-safety gaps closed: answered contacts after a crash, the answered hold, doubtful opens.

Real PostgreSQL and the simulated PBX over TCP. A crash is what SIGKILL leaves in the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from ami.client import AmiClient
from ami.simulator.population import PopulationParams
from dialer.agents.state import AgentState
from dialer.campaign.engine import Engine
from dialer.campaign.settings import Disposition
from dialer.clock import RealClock
from dialer.model import (
    ANSWERED_HOLD_S,
    AttemptResult,
    CallbackKind,
    DialingMode,
    Outcome,
    StatusSpec,
    SystemStatus,
)
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import CommitThenFail
from tests.dialer.campaign.runner_fixtures import (
    FAST,
    agent_interface,
    make_runner,
    pbx_rig,
    running,
    server_config,
    wait_for,
)
from tests.dialer.campaign.test_engine import _campaign, engine_running
from tests.dialer.conftest import make_campaign

# people who answer after 1 s and stay on the line for an hour (simulated): only an agent ends the call
PATIENT = PopulationParams(
    answer_p=1.0,
    machine_share=0.0,
    answer_median_s=1.0,
    answer_sigma=0.0,
    talk_median_s=3600.0,
    talk_sigma=0.0,
)


async def _answered_then_crashed(
    store: Store, camp: str, engine_ids: list[str], agent_id: int | None
) -> list[int]:
    """Calls answered and talked; each engine died before its agent's disposition."""
    at = RealClock().utcnow()
    leases = await store.lease_contacts(camp, at=at, limit=len(engine_ids), owner="crashing", ttl_s=120)
    assert len(engine_ids) == len(leases)
    attempts = []
    for lease, engine_id in zip(leases, engine_ids, strict=True):
        await store.pool.execute(
            "UPDATE contacts SET lease_owner = $2 WHERE id = $1", lease.contact_id, engine_id
        )
        attempt = await store.open_attempt(dataclasses.replace(lease, lease_owner=engine_id), at=at)
        await store.close_attempt(
            attempt, AttemptResult(Outcome.ANSWERED, at, answered_at=at, agent_id=agent_id)
        )
        attempts.append(attempt)
    return attempts


async def test_restart_gives_the_default_disposition_to_a_contact_answered_before_the_crash(
    store: Store,
) -> None:
    camp = await _campaign(store, "q-wrapcrash")
    cid = await store.add_contact(camp, ["+1005550501"])
    agent = await store.create_agent("wc1")
    [attempt] = await _answered_then_crashed(store, camp, ["engine-W"], agent.id)
    held = await store.pool.fetchrow("SELECT lease_owner FROM contacts WHERE id = $1", cid)
    assert "engine-W" == held["lease_owner"]  # the store holds it for a disposition that never comes
    async with (
        pbx_rig("q-wrapcrash") as rig,
        engine_running(store, rig, "engine-W", campaigns={camp}) as engine,
    ):
        assert engine.reconciled is not None
        assert 1 == engine.reconciled.defaulted
    contact = await store.get_contact(cid)
    assert "Sukces" == contact.status  # SETTINGS.default_disposition, a do-not-call status
    row = await store.pool.fetchrow("SELECT lease_owner FROM contacts WHERE id = $1", cid)
    assert row["lease_owner"] is None
    [only] = await store.contact_attempts(cid)  # never dialled again
    assert (attempt, Outcome.ANSWERED, agent.id) == (only.id, only.outcome, only.agent_id)
    assert [] == await store.awaiting_disposition("engine-W")


async def test_restart_uses_the_campaign_default_disposition_and_leaves_other_engines_alone(
    store: Store,
) -> None:
    camp = await make_campaign(store, mode=DialingMode.PROGRESSIVE, queue="q-wrapdef")
    await store.create_status(StatusSpec("Rozmowa", SystemStatus.DO_NOT_CALL), campaign=camp)
    mine = await store.add_contact(camp, ["+1005550502"])
    theirs = await store.add_contact(camp, ["+1005550503"])
    await store.update_campaign(camp, default_disposition="Rozmowa")
    first, _ = await _answered_then_crashed(store, camp, ["engine-X", "engine-Y"], None)
    if (await store.contact_attempts(mine))[0].id != first:
        mine, theirs = theirs, mine
    async with pbx_rig("q-wrapdef") as rig:
        engine = Engine(
            dial_demo=True,
            store=store,
            pbx=rig.pbx,
            clock=RealClock(),
            metrics=rig.metrics,
            engine_id="engine-X",
            settings=dataclasses.replace(FAST, default_disposition=None),
        )
        report = await engine.reconcile()
        assert 1 == report.defaulted
    assert "Rozmowa" == (await store.get_contact(mine)).status
    other = await store.pool.fetchrow("SELECT lease_owner FROM contacts WHERE id = $1", theirs)
    assert "engine-Y" == other["lease_owner"]  # still another (live) engine's wrap-up


async def test_an_answered_contact_in_wrap_up_keeps_the_answered_hold_across_renewals(store: Store) -> None:
    camp = await _campaign(store, "q-hold")
    cid = await store.add_contact(camp, ["+1005550504"])
    await store.create_agent("ho1")
    settings = dataclasses.replace(FAST, lease_ttl_s=2.0, lease_renew_s=0.1, disposition_timeout_s=30.0)
    async with pbx_rig("q-hold") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=settings)
        async with running(runner):
            await runner.agents.login("ho1", agent_interface(1))
            await wait_for(lambda: runner.board.state_of("ho1") is AgentState.WRAP_UP)
            await wait_for(lambda: bool(runner.calls.awaiting_disposition()))
            renewed_after = dt.datetime.now(dt.UTC)

            async def renewed() -> bool:
                row = await store.pool.fetchrow(
                    "SELECT lease_expires_at, last_outcome FROM contacts WHERE id = $1", cid
                )
                return row["last_outcome"] == "answered" and row[
                    "lease_expires_at"
                ] > renewed_after + dt.timedelta(seconds=ANSWERED_HOLD_S - 60)

            # several renewals later the hold is still the store's hour, not lease_ttl_s
            await wait_for(renewed)
            await wait_for(lambda: runner.housekeeping.last_renewed_at > renewed_after.timestamp() + 0.3)
            assert await renewed()
            assert runner.board.state_of("ho1") is AgentState.WRAP_UP


async def test_an_attempt_opened_as_the_database_failed_is_cancelled_without_a_restart(db_dsn: str) -> None:
    store = await CommitThenFail.open(db_dsn, min_size=1, max_size=4, migrate_now=False)
    assert isinstance(store, CommitThenFail)
    store.failed = []
    try:
        camp = await _campaign(store, "q-doubt")
        cid = await store.add_contact(camp, ["+2005550505"])  # busy: one real attempt, then an hour's wait
        await store.create_agent("do1")
        async with pbx_rig("q-doubt") as rig:
            runner = make_runner(await store.get_campaign(camp), store, rig, engine_id="engine-D")
            async with running(runner):
                await runner.agents.login("do1", agent_interface(1))

                async def settled() -> bool:
                    return (
                        [] == await store.open_attempts("engine-D")
                        and (await store.get_contact(cid)).status == "Zajęty"
                    )

                await wait_for(settled)
        [doubtful] = store.failed
        attempts = {a.id: a for a in await store.contact_attempts(cid)}
        assert Outcome.CANCELLED == attempts[doubtful].outcome  # closed by the runner, not a restart
        assert [Outcome.BUSY] == [a.outcome for a in attempts.values() if a.id != doubtful]
        assert 1 == (await store.get_contact(cid)).attempts  # the cancelled one counts nothing
    finally:
        await store.close()


async def test_an_adopted_call_that_reaches_an_agent_closes_as_answered_with_its_agent(store: Store) -> None:
    camp = await _campaign(store, "q-adoptag", ring_timeout_s=60)
    # a number of no scripted class: PATIENT answers it and waits as long as it takes (a class
    # 100 person hangs up 80 ms after answering, often before a loaded machine has restarted
    # the engine and logged the agent in); the agent ends the call
    cid = await store.add_contact(camp, ["+48500002999"])
    agent = await store.create_agent("aa1")
    at = RealClock().utcnow()
    [lease] = await store.lease_contacts(camp, at=at, limit=1, owner="engine-G", ttl_s=0.2)
    attempt = await store.open_attempt(lease, at=at)
    async with pbx_rig("q-adoptag", population=PATIENT, agent_talk_s=8.0) as rig:
        # the previous process placed the call, then died; the person waits in the queue
        old = AmiClient(server_config(rig.sim.port), rng=random.Random(3))
        await old.start()
        await old.originate(
            str(attempt),
            lease.e164,
            campaign=camp,
            queue="q-adoptag",
            caller_id="",
            timeout_s=300,
            queue_timeout_s=6000,  # 60 s here: longer than the restart and the agent's login take
        )
        await old.terminate()
        async with engine_running(store, rig, "engine-G", campaigns={camp}) as engine:
            assert engine.reconciled is not None and 1 == engine.reconciled.adopted
            await wait_for(lambda: engine.runner(camp) is not None)
            runner = engine.runner(camp)
            assert runner is not None and 1 == runner.in_flight
            await runner.agents.login("aa1", agent_interface(1))  # the queue connects the caller

            async def dispositioned() -> bool:
                return (await store.get_contact(cid)).status == "Sukces"  # the default, after wrap-up

            await wait_for(dispositioned)
    [only] = await store.contact_attempts(cid)  # answered once, never dialled again
    assert (attempt, Outcome.ANSWERED, agent.id) == (only.id, only.outcome, only.agent_id)
    assert await store.pool.fetchval("SELECT answered_at IS NOT NULL FROM attempts WHERE id = $1", attempt)
    row = await store.pool.fetchrow("SELECT lease_owner FROM contacts WHERE id = $1", cid)
    assert row["lease_owner"] is None


async def test_a_personal_callback_handed_to_the_campaign_after_the_grace_stays_handed_over(
    store: Store,
) -> None:
    camp = await _campaign(store, "q-conv")
    await store.create_status(StatusSpec("Oddzwonić", SystemStatus.NOT_BEFORE), campaign=camp)
    cid = await store.add_contact(camp, ["+1005550507"])
    await store.create_agent("cv1")
    a2 = await store.create_agent("cv2")
    settings = dataclasses.replace(FAST, disposition_timeout_s=3.0, default_disposition="Sukces")
    async with pbx_rig("q-conv") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=settings)
        async with running(runner):
            await runner.agents.login("cv1", agent_interface(1))
            await wait_for(lambda: runner.board.state_of("cv1") is AgentState.WRAP_UP)
            await runner.agents.logout("cv1")  # held until the disposition
            due = dt.datetime.now(dt.UTC)
            await runner.agents.set_disposition(
                "cv1", Disposition("Oddzwonić", callback_at=due, callback=CallbackKind.PERSONAL)
            )
            await wait_for(lambda: runner.board.state_of("cv1") is AgentState.LOGGED_OUT)
            await runner.agents.login("cv2", agent_interface(2), paused=True)  # leases, dials nothing

            async def handed_over() -> bool:
                row = await store.pool.fetchrow(
                    "SELECT kind, agent_id FROM callbacks WHERE contact_id = $1 AND state = 'pending'", cid
                )
                return row is not None and (row["kind"], row["agent_id"]) == ("campaign", None)

            await wait_for(handed_over)  # written, not only decided in memory
            await runner.drain(timeout_s=1.0)  # gives the waiting lease back, as a stop would
    assert 1 == len(await store.contact_attempts(cid))
    # what a restarted engine sees: a callback any agent may take, no longer cv1's
    at = RealClock().utcnow()
    [lease] = await store.lease_contacts(
        camp, at=at, limit=1, owner="engine-R", agent_reserved=True, agent_ids=[a2.id]
    )
    assert (cid, None, "callback") == (lease.contact_id, lease.agent_id, lease.reason)


async def test_a_callback_the_store_refuses_leaves_the_status_and_frees_the_contact(store: Store) -> None:
    # the disposition keeps the lease until the callback is booked; a refused booking (here a
    # window that ends when it starts) must not leave the contact leased to this engine
    camp = await _campaign(store, "q-refuse")
    await store.create_status(StatusSpec("Oddzwonić", SystemStatus.NOT_BEFORE), campaign=camp)
    cid = await store.add_contact(camp, ["+1005550508"])
    await store.create_agent("rf1")
    settings = dataclasses.replace(FAST, disposition_timeout_s=30.0)
    async with pbx_rig("q-refuse") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=settings)
        async with running(runner):
            await runner.agents.login("rf1", agent_interface(1))
            await wait_for(lambda: runner.board.state_of("rf1") is AgentState.WRAP_UP)
            await runner.agents.logout("rf1")  # nothing else dialled meanwhile
            due = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            await runner.agents.set_disposition(
                "rf1",
                Disposition("Oddzwonić", callback_at=due, callback_until=due, callback=CallbackKind.PERSONAL),
            )

            async def given_back() -> bool:
                row = await store.pool.fetchrow("SELECT lease_owner FROM contacts WHERE id = $1", cid)
                return row["lease_owner"] is None and runner.hopper.in_progress == 0

            await wait_for(given_back)
    contact = await store.get_contact(cid)
    assert ("Oddzwonić", due) == (contact.status, contact.not_before)
    assert 0 == await store.pool.fetchval("SELECT count(*) FROM callbacks WHERE contact_id = $1", cid)
