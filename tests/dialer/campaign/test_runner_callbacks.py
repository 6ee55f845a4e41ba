"""Callback windows through the runner (issue 13): dialled inside the window, never after it;
once it passes, the campaign's missed-callback rule hands the contact back.

Real PostgreSQL and the simulated PBX over TCP, as in test_runner_agents.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from dialer.agents.state import AgentState
from dialer.model import DialingMode, StatusSpec, SystemStatus
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

SETTINGS = dataclasses.replace(
    FAST, disposition_timeout_s=0.5, default_disposition="Sukces", missed_callback_check_s=0.2
)


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
    async with pbx_rig("q-win") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        cid = await store.add_contact(camp, ["+1005550401"], status="Sukces")  # only the callback dials it
        due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)
        end = due + dt.timedelta(seconds=30)
        cb = await store.schedule_callback(cid, due_at=due, window_end_at=end)
        async with running(runner):
            await runner.agents.login("win1", agent_interface(1))
            await wait_for(lambda: runner.board.state_of("win1") is AgentState.READY)
            await wait_for(lambda: _has_call(store, cid), what="the callback dialled")
    [(started, callback_id)] = await _calls(store, cid)
    assert due <= started < end and cb.id == callback_id


async def _has_call(store: Store, cid: int) -> bool:
    return bool(await _calls(store, cid))


async def test_a_window_that_passes_is_never_dialled_and_the_missed_rule_applies(store: Store) -> None:
    camp = await _campaign(store, "q-miss")
    await store.create_agent("miss1")
    async with pbx_rig("q-miss") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        cid = await store.add_contact(camp, ["+1005550402"], status="Sukces")
        due = dt.datetime.now(dt.UTC)
        end = due + dt.timedelta(seconds=0.6)
        cb = await store.schedule_callback(cid, due_at=due, window_end_at=end)
        async with running(runner):  # no agent: a progressive callback waits for one

            async def missed() -> bool:
                return (await store.get_callback(cb.id)).state == "missed"

            await wait_for(missed, what="the missed rule applied")
            await runner.agents.login("miss1", agent_interface(1))
            await wait_for(lambda: runner.board.state_of("miss1") is AgentState.READY)
            await wait_for(lambda: runner.clock.now() > end.timestamp() + 1.0)
    assert [] == await _calls(store, cid)  # its status says do not call: handed back, nothing dials it
    history = await store.callback_history(cb.id)
    assert ("engine", "missed") == (history[-1].actor, history[-1].action)


async def test_an_agent_free_after_the_window_does_not_get_the_callback(store: Store) -> None:
    camp = await _campaign(store, "q-late")
    await store.create_agent("late1")
    never = dataclasses.replace(SETTINGS, missed_callback_check_s=1e9)  # only the window holds it back
    async with pbx_rig("q-late") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=never)
        cid = await store.add_contact(camp, ["+1005550403"], status="Sukces")
        due = dt.datetime.now(dt.UTC)
        end = due + dt.timedelta(seconds=0.5)
        await store.schedule_callback(cid, due_at=due, window_end_at=end)
        async with running(runner):
            await wait_for(lambda: runner.clock.now() > end.timestamp())
            await runner.agents.login("late1", agent_interface(1))
            await wait_for(lambda: runner.board.state_of("late1") is AgentState.READY)
            await wait_for(lambda: runner.clock.now() > end.timestamp() + 1.5)
    assert [] == await _calls(store, cid)
