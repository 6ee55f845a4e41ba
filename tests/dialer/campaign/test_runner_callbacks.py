"""Callback windows through the runner (issue 13): dialled inside the window, never after it;
once it passes, the campaign's missed-callback rule hands the contact back.

In virtual time: the whole :class:`~dialer.campaign.runner.CampaignRunner` on the real store
(the embedded PostgreSQL) against the in-memory virtual PBX, on a clock that jumps from timer
to timer but stands still while a store call is out
(:class:`~benchmarks.engine.database_clock.DatabaseAwareClock`). Windows of minutes and the
runner's real check intervals (a tick a second, the missed rule every 15 s) take a fraction
of a second, and every instant the tests compare is the clock's, not the machine's: the
outcome does not depend on how loaded the machine is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry

from benchmarks.callcentre import SCENARIOS
from benchmarks.engine.database_clock import DatabaseAwareClock
from benchmarks.engine.virtual_pbx import VirtualPbx
from dialer.agents.state import AgentState
from dialer.campaign.runner import CampaignRunner
from dialer.clock import RealClock
from dialer.model import DialingMode, StatusSpec, SystemStatus
from dialer.observability.metrics import DialerMetrics
from dialer.store.store import Store
from tests.dialer.campaign.runner_fixtures import FAST
from tests.dialer.conftest import make_campaign

# The runner's own intervals, not shortened: virtual time costs nothing to wait out.
SETTINGS = dataclasses.replace(
    FAST,
    tick_s=1.0,
    disposition_timeout_s=30.0,
    default_disposition="Sukces",
    missed_callback_check_s=15.0,
    callback_grace_s=60.0,
)
INTERFACE = "PJSIP/cb-agent"


@dataclasses.dataclass
class Rig:
    runner: CampaignRunner
    clock: DatabaseAwareClock
    pbx: VirtualPbx

    @property
    def t0(self) -> dt.datetime:
        return self.clock.utcnow()

    async def until(self, at: dt.datetime) -> None:
        await self.clock.run_until(at.timestamp())

    async def login(self, agent: str) -> None:
        await self.runner.agents.login(agent, INTERFACE)
        await self.clock.run_until(self.clock.now() + 1.0)
        assert self.runner.board.state_of(agent) is AgentState.READY


@asynccontextmanager
async def virtual_runner(store: Store, campaign: str, settings: object = SETTINGS) -> AsyncIterator[Rig]:
    """The campaign's runner on a virtual clock from now (whole seconds), running."""
    clock = DatabaseAwareClock(float(int(RealClock().now())), store.pool)
    pbx = VirtualPbx(clock, SCENARIOS["S1"], shift_s=3600.0)
    runner = CampaignRunner(
        await store.get_campaign(campaign),
        store=store,
        pbx=pbx,
        clock=clock,
        metrics=DialerMetrics(CollectorRegistry()),
        engine_id="e-cb",
        settings=settings,  # type: ignore[arg-type]
    )
    task = asyncio.ensure_future(runner.run())
    try:
        yield Rig(runner, clock, pbx)
    finally:
        runner.stop()
        for _ in range(60):
            if task.done():
                break
            await clock.run_until(clock.now() + 1.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pbx.close()
    assert [] == pbx.errors


async def _campaign(store: Store, queue: str) -> str:
    camp = await make_campaign(store, mode=DialingMode.PROGRESSIVE, queue=queue)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    return camp


async def _calls(store: Store, cid: int) -> list[tuple[dt.datetime, int | None]]:
    rows = await store.pool.fetch(
        "SELECT started_at, callback_id FROM attempts WHERE contact_id = $1 ORDER BY id", cid
    )
    return [(r["started_at"], r["callback_id"]) for r in rows]


async def test_a_callback_is_dialled_inside_its_window(store: Store) -> None:
    camp = await _campaign(store, "q-win")
    await store.create_agent("win1")
    cid = await store.add_contact(camp, ["+1005550401"], status="Sukces")  # only the callback dials it
    async with virtual_runner(store, camp) as rig:
        await rig.login("win1")
        due = rig.t0 + dt.timedelta(minutes=2)
        end = due + dt.timedelta(minutes=5)
        cb = await store.schedule_callback(cid, due_at=due, window_end_at=end)
        await rig.until(due - dt.timedelta(seconds=1))
        assert [] == await _calls(store, cid)  # not before its time
        await rig.until(end + dt.timedelta(minutes=5))
    [(started, callback_id)] = await _calls(store, cid)
    assert due <= started < due + dt.timedelta(seconds=SETTINGS.tick_s + 1) and cb.id == callback_id


async def test_a_window_that_passes_is_never_dialled_and_the_missed_rule_applies(store: Store) -> None:
    camp = await _campaign(store, "q-miss")
    await store.create_agent("miss1")
    cid = await store.add_contact(camp, ["+1005550402"], status="Sukces")
    async with virtual_runner(store, camp) as rig:  # no agent: a progressive callback waits for one
        due = rig.t0 + dt.timedelta(seconds=10)
        end = due + dt.timedelta(minutes=2)
        cb = await store.schedule_callback(cid, due_at=due, window_end_at=end)
        await rig.until(end - dt.timedelta(seconds=1))
        assert "pending" == (await store.get_callback(cb.id)).state  # still inside its window
        await rig.until(end + dt.timedelta(seconds=SETTINGS.missed_callback_check_s + 1))
        assert "missed" == (await store.get_callback(cb.id)).state
        await rig.login("miss1")
        await rig.until(end + dt.timedelta(minutes=10))
    assert [] == await _calls(store, cid)  # its status says do not call: handed back, nothing dials it
    history = await store.callback_history(cb.id)
    assert ("engine", "missed") == (history[-1].actor, history[-1].action)


async def test_an_agent_free_after_the_window_does_not_get_the_callback(store: Store) -> None:
    camp = await _campaign(store, "q-late")
    await store.create_agent("late1")
    never = dataclasses.replace(SETTINGS, missed_callback_check_s=1e9)  # only the window holds it back
    cid = await store.add_contact(camp, ["+1005550403"], status="Sukces")
    async with virtual_runner(store, camp, never) as rig:
        due = rig.t0 + dt.timedelta(seconds=10)
        end = due + dt.timedelta(minutes=2)
        cb = await store.schedule_callback(cid, due_at=due, window_end_at=end)
        await rig.until(end + dt.timedelta(seconds=1))
        await rig.login("late1")
        await rig.until(end + dt.timedelta(minutes=10))
        assert "pending" == (await store.get_callback(cb.id)).state  # the missed rule never ran
    assert [] == await _calls(store, cid)
