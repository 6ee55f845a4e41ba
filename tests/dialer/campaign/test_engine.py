"""The engine supervisor: crash reconciliation, runners following campaigns, AMI loss, drain.

Real PostgreSQL and the simulated PBX over TCP. A "crashed" engine is simulated the way
SIGKILL leaves things: leases and an attempt row written, nothing closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ami.client import AmiClient
from dialer.agents.state import AgentState
from dialer.campaign.engine import Engine
from dialer.campaign.ownership import Ownership
from dialer.clock import RealClock
from dialer.model import CampaignState, DialingMode, Outcome, RetryRule, StatusSpec, SystemStatus, Trigger
from dialer.observability.metrics import EngineCollector
from dialer.store.store import Store
from tests.dialer.campaign.runner_fixtures import (
    FAST,
    PgProxy,
    Rig,
    agent_interface,
    pbx_rig,
    server_config,
    wait_for,
)
from tests.dialer.conftest import make_campaign

SETTINGS = dataclasses.replace(FAST, default_disposition="Sukces")


async def _campaign(store: Store, queue: str, **kw: object) -> str:
    camp = await make_campaign(store, mode=DialingMode.PROGRESSIVE, queue=queue, **kw)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    # a lost attempt fires the congestion/failed trigger: retried at once here
    await store.create_status(
        StatusSpec("Błąd", SystemStatus.NOT_BEFORE, trigger=Trigger.CONGESTION, retry=RetryRule(delay_s=0)),
        campaign=camp,
    )
    await store.create_status(
        StatusSpec("Zajęty", SystemStatus.NOT_BEFORE, trigger=Trigger.BUSY, retry=RetryRule(delay_s=3600)),
        campaign=camp,
    )
    return camp


@asynccontextmanager
async def engine_running(store: Store, rig: Rig, engine_id: str, **kw: object) -> AsyncIterator[Engine]:
    kw.setdefault("dial_demo", True)  # make_campaign's campaigns are flagged demo
    kw.setdefault("settings", SETTINGS)
    engine = Engine(
        store=store,
        pbx=rig.pbx,
        clock=RealClock(),
        metrics=rig.metrics,
        engine_id=engine_id,
        poll_s=0.1,
        **kw,  # type: ignore[arg-type]
    )
    task = asyncio.ensure_future(engine.run())
    try:
        await asyncio.wait_for(engine.started.wait(), 5)
        yield engine
    finally:
        engine.stop()
        await asyncio.wait_for(task, 5)


async def _crash_leftovers(store: Store, camp: str, engine_id: str) -> tuple[int, int]:
    """What SIGKILL leaves: one contact with an open attempt, one only leased; both leases lapse."""
    at = RealClock().utcnow()
    leases = await store.lease_contacts(camp, at=at, limit=2, owner=engine_id, ttl_s=0.2)
    dialled, leased = leases
    attempt = await store.open_attempt(dialled, at=at)
    await asyncio.sleep(0.3)  # the dead engine renews nothing
    return attempt, leased.contact_id


async def test_dialer_run_skips_a_campaign_flagged_demo_with_one_clear_log_line(store: Store) -> None:
    camp = await _campaign(store, "q-demo")
    cid = await store.add_contact(camp, ["+2005550499"])
    assert (await store.get_campaign(camp)).demo
    async with pbx_rig("q-demo") as rig, engine_running(
        store, rig, "engine-D", campaigns={camp}, dial_demo=False
    ) as engine:
        await asyncio.sleep(0.5)  # several polls
        assert engine.runner(camp) is None
        assert {camp} == engine.demo_refused  # logged (campaign_demo_refused) once, not every poll
    assert [] == await store.contact_attempts(cid)
    await store.update_campaign(camp, priority=1)  # the engine of `dialer demo` does dial it
    async with pbx_rig("q-demo") as rig, engine_running(store, rig, "engine-D", campaigns={camp}) as engine:
        await wait_for(lambda: engine.runner(camp) is not None)
        assert set() == engine.demo_refused


async def test_restart_closes_open_attempts_as_lost_and_loses_no_contact(store: Store) -> None:
    camp = await _campaign(store, "q-crash")
    a = await store.add_contact(camp, ["+2005550401"])
    b = await store.add_contact(camp, ["+2005550402"])
    c = await store.add_contact(camp, ["+2005550403"])
    _attempt, leased = await _crash_leftovers(store, camp, "engine-A")
    assert a == (await store.contact_attempts(a))[0].contact_id
    async with pbx_rig("q-crash") as rig, engine_running(store, rig, "engine-A", campaigns={camp}) as engine:
        assert engine.reconciled is not None
        assert (0, 1) == (engine.reconciled.adopted, engine.reconciled.closed_lost)
        assert 1 == engine.reconciled.released_own  # its own lapsed lease, freed at once
        await wait_for(lambda: engine.runner(camp) is not None)
        runner = engine.runner(camp)
        assert runner is not None
        await store.create_agent("cr1")
        await runner.agents.login("cr1", agent_interface(1))

        async def all_busy() -> bool:
            return all([(await store.get_contact(i)).status == "Zajęty" for i in (a, b, c)])

        await wait_for(all_busy)
    attempts = {i: [x.outcome for x in await store.contact_attempts(i)] for i in (a, b, c)}
    # the lost attempt counts and is retried once; nobody else is dialled twice
    assert {a: [Outcome.LOST, Outcome.BUSY], b: [Outcome.BUSY], c: [Outcome.BUSY]} == attempts
    assert leased in (b, c)
    assert [] == await store.open_attempts("engine-A")


async def _placed_by_a_dead_engine(store: Store, rig: Rig, camp: str, queue: str, owner: str) -> int:
    """A call ``owner`` placed before it died: its attempt row open, its AMI session gone, the
    call ringing on for 300 simulated seconds (3 s here, longer than a restart or a take-over)."""
    at = RealClock().utcnow()
    [lease] = await store.lease_contacts(camp, at=at, limit=1, owner=owner, ttl_s=0.2)
    attempt = await store.open_attempt(lease, at=at)
    dead = AmiClient(server_config(rig.sim.port), rng=random.Random(2))
    await dead.start()
    await dead.originate(str(attempt), lease.e164, campaign=camp, queue=queue, caller_id="", timeout_s=300)
    await dead.terminate()
    return attempt


async def _followed_to_its_end(store: Store, engine: Engine, camp: str) -> None:
    """The engine follows the one adopted call until its attempt is closed."""
    await wait_for(lambda: engine.runner(camp) is not None)
    runner = engine.runner(camp)
    assert runner is not None and 1 == runner.in_flight  # adopted, not closed as lost

    async def closed() -> bool:
        return [] == await store.open_attempts(engine.engine_id)

    await wait_for(closed)


async def test_restart_adopts_a_ringing_attempt_and_follows_it_to_its_real_outcome(
    store: Store,
) -> None:
    camp = await _campaign(store, "q-adopt", ring_timeout_s=60)
    cid = await store.add_contact(camp, ["+3005550404"])  # rings until the Originate's timeout
    async with pbx_rig("q-adopt") as rig:
        attempt = await _placed_by_a_dead_engine(store, rig, camp, "q-adopt", "engine-B")
        async with engine_running(store, rig, "engine-B", campaigns={camp}) as engine:
            assert engine.reconciled is not None
            assert (1, 0) == (engine.reconciled.adopted, engine.reconciled.closed_lost)
            await _followed_to_its_end(store, engine, camp)
    [only] = await store.contact_attempts(cid)
    # followed to its end: the ring timeout, not "lost" (issue 17 item 2)
    assert (attempt, Outcome.NO_ANSWER) == (only.id, only.outcome)


async def test_a_take_over_adopts_the_former_owners_call_still_up_and_follows_it_to_its_real_outcome(
    store: Store,
) -> None:
    # Issue 15 item 2: the owner placed a call and died (SIGKILL: no hand-over, its heartbeat
    # lapses); another engine takes the campaign, finds the call still up on the PBX and follows it.
    camp = await _campaign(store, "q-take", ring_timeout_s=60)
    camp_id = (await store.get_campaign(camp)).id
    cid = await store.add_contact(camp, ["+3005550414"])
    assert (1, None) == await store.take_campaign("engine-X", camp_id, expiry_s=30)
    async with pbx_rig("q-take") as rig:
        attempt = await _placed_by_a_dead_engine(store, rig, camp, "q-take", "engine-X")
        ownership = Ownership(store, "engine-Y", takeover_s=0.4)  # engine-X's heartbeat is older
        async with engine_running(store, rig, "engine-Y", campaigns={camp}, ownership=ownership) as engine:
            await _followed_to_its_end(store, engine, camp)
            assert [] == await store.open_attempts("engine-X")  # claimed by the new owner
    [only] = await store.contact_attempts(cid)
    # followed to its end: the ring timeout, not "lost"
    assert (attempt, Outcome.NO_ANSWER) == (only.id, only.outcome)


async def test_engine_starts_a_runner_for_a_running_campaign_and_drains_it_when_stopped(store: Store) -> None:
    camp = await _campaign(store, "q-super")
    async with pbx_rig("q-super") as rig, engine_running(store, rig, "engine-C", campaigns={camp}) as engine:
        await wait_for(lambda: engine.runner(camp) is not None)
        assert [camp] == [g.campaign for g in engine.gauges()]
        await store.set_campaign_state(camp, CampaignState.PAUSED)
        await wait_for(lambda: engine.runner(camp) is None)
        await store.set_campaign_state(camp, CampaignState.RUNNING)
        await wait_for(lambda: engine.runner(camp) is not None)


async def test_lost_ami_connection_pauses_dialling_and_it_resumes_after_the_reconnect(store: Store) -> None:
    camp = await _campaign(store, "q-amidrop", ring_timeout_s=60)
    ringing = await store.add_contact(camp, ["+3005550405"])
    later = [await store.add_contact(camp, [f"+200555{n:04d}"]) for n in range(406, 409)]
    await store.create_agent("ad1")
    async with (
        pbx_rig("q-amidrop") as rig,
        engine_running(store, rig, "engine-D", campaigns={camp}) as engine,
    ):
        await wait_for(lambda: engine.runner(camp) is not None)
        runner = engine.runner(camp)
        assert runner is not None
        await runner.agents.login("ad1", agent_interface(1))
        await wait_for(lambda: bool(rig.sim.calls_by_uid))  # ringing on the PBX
        restart = asyncio.ensure_future(rig.sim.restart(down_s=0.6))  # calls vanish with it
        await wait_for(lambda: "pbx_down" in runner.paused_reasons())
        await restart

        async def all_tried() -> bool:  # every contact has an attempt closed
            return all([(await store.get_contact(i)).attempts >= 1 for i in [ringing, *later]])

        await wait_for(all_tried)
        await wait_for(lambda: runner.board.state_of("ad1") is AgentState.READY)
        assert () == runner.paused_reasons()
    tries = await store.contact_attempts(ringing)
    # the call vanished with the PBX, whose Shutdown event came first: closed as cut by the
    # shutdown (issue 17 item 4), retried by the rules
    assert Outcome.PBX_SHUTDOWN == tries[0].outcome
    for before, after in itertools.pairwise(tries):
        assert before.ended_at is not None and after.started_at >= before.ended_at  # never two at once
    for i in later:
        assert [Outcome.BUSY] == [x.outcome for x in await store.contact_attempts(i)]


async def test_drain_waits_for_the_call_in_progress_and_releases_the_leases(store: Store) -> None:
    camp = await _campaign(store, "q-drain", ring_timeout_s=60)
    first = await store.add_contact(camp, ["+3005550410"])
    rest = [await store.add_contact(camp, [f"+200555{n:04d}"]) for n in range(411, 414)]
    await store.create_agent("dr1")
    async with pbx_rig("q-drain") as rig:
        engine = Engine(
            dial_demo=True,
            store=store,
            pbx=rig.pbx,
            clock=RealClock(),
            metrics=rig.metrics,
            engine_id="engine-E",
            settings=SETTINGS,
            poll_s=0.1,
            campaigns={camp},
        )
        task = asyncio.ensure_future(engine.run())
        await wait_for(lambda: engine.runner(camp) is not None)
        runner = engine.runner(camp)
        assert runner is not None
        await runner.agents.login("dr1", agent_interface(1))
        await wait_for(lambda: runner.board.state_of("dr1") is AgentState.RESERVED)
        await engine.drain(timeout_s=5)
        await asyncio.wait_for(task, 5)
    assert [Outcome.NO_ANSWER] == [x.outcome for x in await store.contact_attempts(first)]
    for i in rest:
        row = await store.pool.fetchrow("SELECT lease_owner, attempts FROM contacts WHERE id = $1", i)
        assert (None, 0) == (row["lease_owner"], row["attempts"])


async def test_lost_database_pauses_dialling_keeps_outcomes_and_writes_them_when_back(db_dsn: str) -> None:
    proxy = PgProxy(db_dsn)
    await proxy.start()
    store = await Store.open(proxy.dsn, min_size=1, max_size=4, migrate_now=False)
    try:
        camp = await _campaign(store, "q-dbdown", ring_timeout_s=60)
        ringing = await store.add_contact(camp, ["+3005550420"])
        later = [await store.add_contact(camp, [f"+200555{n:04d}"]) for n in range(421, 424)]
        await store.create_agent("db1")
        async with (
            pbx_rig("q-dbdown") as rig,
            engine_running(store, rig, "engine-F", campaigns={camp}) as engine,
        ):
            await wait_for(lambda: engine.runner(camp) is not None)
            runner = engine.runner(camp)
            assert runner is not None
            await runner.agents.login("db1", agent_interface(1))
            await wait_for(lambda: bool(rig.sim.calls_by_uid))  # the first call rings on the PBX
            await proxy.cut()
            await wait_for(lambda: "store_down" in runner.paused_reasons())
            await wait_for(lambda: runner.stats().attempts == 1)  # the ringing call ended meanwhile
            assert runner.stats().pending_writes >= 1  # its outcome is kept in memory
            await asyncio.sleep(0.3)
            dialled_while_down = sum(runner.stats().by_outcome.values())
            await proxy.restore()

            async def all_tried() -> bool:
                return all([(await store.get_contact(i)).attempts == 1 for i in [ringing, *later]])

            await wait_for(all_tried)
        assert 1 == dialled_while_down  # only the call already ringing ended; nothing new was placed
        assert [Outcome.NO_ANSWER] == [x.outcome for x in await store.contact_attempts(ringing)]
        for i in later:
            assert [Outcome.BUSY] == [x.outcome for x in await store.contact_attempts(i)]
    finally:
        await store.close()
        await proxy.close()


async def test_engine_gauges_feed_the_scrape_time_collector(store: Store) -> None:
    camp = await _campaign(store, "q-gauges", ring_timeout_s=120)  # rings 1.2 s here: scraped before
    await store.add_contact(camp, ["+3005550430"])
    async with pbx_rig("q-gauges") as rig, engine_running(store, rig, "engine-G", campaigns={camp}) as engine:
        rig.metrics.add_collector(EngineCollector(campaigns=engine.gauges, servers=rig.pbx.server_gauges))
        await wait_for(lambda: engine.runner(camp) is not None)
        runner = engine.runner(camp)
        assert runner is not None
        await store.create_agent("gg1")
        await runner.agents.login("gg1", agent_interface(1))
        await wait_for(lambda: runner.in_flight == 1)
        registry = rig.metrics.registry
        assert 1.0 == registry.get_sample_value("dialer_lines_in_use", {"campaign": camp})
        assert 1.0 == registry.get_sample_value("dialer_agents", {"campaign": camp, "state": "reserved"})
        assert 1.0 == registry.get_sample_value("dialer_ami_connected", {"server": "pbx1"})
