"""Dial-time compliance through the runner: do-not-call, calling hours, schedule, ring time."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pacing
from dialer.agents.state import AgentState
from dialer.model import Compliance, DialingMode, StatusSpec, SystemStatus
from dialer.schedules.schedule import Frequency, Schedule
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

SETTINGS = dataclasses.replace(FAST, default_disposition="Sukces")


async def _campaign(
    store: Store, queue: str, mode: DialingMode = DialingMode.PROGRESSIVE, **kw: object
) -> str:
    camp = await make_campaign(store, mode=mode, queue=queue, **kw)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    return camp


def _zone_at_local_hour(hours: set[int]) -> str:
    """A fixed-offset zone whose local hour now is in ``hours`` (Etc/GMT signs are inverted)."""
    now = dt.datetime.now(dt.UTC)
    for offset in range(-12, 15):
        if (now.hour + offset) % 24 in hours:
            return f"Etc/GMT{-offset:+d}" if offset else "UTC"
    raise AssertionError("no zone found")


async def test_do_not_call_numbers_are_never_dialled_the_others_are(store: Store) -> None:
    camp = await _campaign(store, "q-dnc")
    blocked = await store.add_contact(camp, ["+1005550301"])
    blocked_here = await store.add_contact(camp, ["+1005550302"])
    allowed = await store.add_contact(camp, ["+1005550303"])
    await store.add_do_not_call("+1005550301")
    await store.add_do_not_call("+1005550302", campaign=camp)
    await store.create_agent("dn1")
    async with pbx_rig("q-dnc") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("dn1", agent_interface(1))

            async def done() -> bool:
                return (await store.get_contact(allowed)).status == "Sukces"

            await wait_for(done)
    assert [] == await store.contact_attempts(blocked)
    assert [] == await store.contact_attempts(blocked_here)


async def test_number_put_on_the_list_after_the_lease_is_checked_again_at_dial_time(store: Store) -> None:
    camp = await _campaign(store, "q-dnc2", DialingMode.PREVIEW)
    cid = await store.add_contact(camp, ["+1005550304"])
    await store.create_agent("dn2")
    async with pbx_rig("q-dnc2") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("dn2", agent_interface(1))
            await runner.agents.request_record("dn2")
            await wait_for(lambda: runner.board.state_of("dn2") is AgentState.OFFERED)
            await store.add_do_not_call("+1005550304", reason="asked by phone")
            await runner.agents.accept("dn2")
            await wait_for(lambda: runner.board.state_of("dn2") is AgentState.READY)
    assert [] == await store.contact_attempts(cid)


async def test_contacts_outside_their_local_calling_hours_wait(store: Store) -> None:
    camp = await _campaign(store, "q-hours", local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    asleep = await store.add_contact(camp, ["+1005550305"], timezone=_zone_at_local_hour({23, 0, 1, 2, 3}))
    awake = await store.add_contact(camp, ["+1005550306"], timezone=_zone_at_local_hour({11, 12, 13, 14}))
    await store.create_agent("hr1")
    async with pbx_rig("q-hours") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("hr1", agent_interface(1))

            async def done() -> bool:
                return (await store.get_contact(awake)).status == "Sukces"

            await wait_for(done)
            await wait_for(lambda: runner.board.state_of("hr1") is AgentState.READY)
            assert 0 == runner.hopper.depth
    assert [] == await store.contact_attempts(asleep)


async def test_closed_schedule_dials_nothing(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    end = (now + dt.timedelta(hours=3)).time().replace(second=0, microsecond=0)
    sched = Schedule(name="LATER_TODAY", frequency=Frequency.DAILY, window_start=start, window_end=end)
    await store.create_schedule(sched)
    camp = await _campaign(store, "q-sched", schedule="LATER_TODAY")
    cid = await store.add_contact(camp, ["+1005550307"])
    await store.create_agent("sc1")
    async with pbx_rig("q-sched") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            await runner.agents.login("sc1", agent_interface(1))
            await wait_for(lambda: "schedule_closed" in runner.paused_reasons())
            assert runner.gauges().schedule_open is False
    assert [] == await store.contact_attempts(cid)


async def test_ring_timeout_is_never_below_fifteen_seconds(store: Store) -> None:
    camp = await _campaign(store, "q-ring")
    campaign = dataclasses.replace(await store.get_campaign(camp), ring_timeout_s=5)  # bypasses validation
    async with pbx_rig("q-ring") as rig:
        runner = make_runner(campaign, store, rig)
        assert 15.0 == runner.ring_timeout_s


class AlwaysPredictive:
    """A policy that always launches one call without an agent (a predictive dial level)."""

    mode = pacing.DialMode.PREDICTIVE

    def decide(self, snapshot: pacing.CampaignSnapshot) -> pacing.DialDecision:
        return pacing.DialDecision(launch=min(1, snapshot.lines_free), mode=self.mode)

    def observe_call(self, observation: pacing.CallObservation) -> None:
        pass

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        pass

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        pass


async def test_a_uk_locked_contact_is_dialled_with_an_agent_reserved_never_predictively(store: Store) -> None:
    camp = await _campaign(store, "q-uklock", DialingMode.PREDICTIVE, compliance=Compliance.UK)
    cid = await store.add_contact(camp, ["+1005550307"])
    await store.pool.execute(
        "UPDATE contacts SET last_abandon_at = now() - interval '1 hour' WHERE id = $1", cid
    )
    await store.create_agent("uk1")
    async with pbx_rig("q-uklock") as rig:
        runner = make_runner(
            await store.get_campaign(camp), store, rig, settings=SETTINGS, policy=AlwaysPredictive()
        )
        async with running(runner):
            await runner.agents.login("uk1", agent_interface(1))

            async def done() -> bool:
                return (await store.get_contact(cid)).status == "Sukces"

            await wait_for(done)
        refusals = rig.metrics.registry.get_sample_value(
            "dialer_dial_refusals_total", {"campaign": camp, "reason": "uk_lock"}
        )
    assert refusals in (None, 0.0)  # taken from the agent line: never launched without its agent
    assert 1 == len(await store.contact_attempts(cid))


async def test_a_shortened_window_stops_dialling_as_promptly_as_a_pause(store: Store) -> None:
    """Issue 19 item 4: the runner held the schedule it started with; a window shortened in
    the store stopped it only when the engine's poll drained it (5 s and 18 calls late)."""
    sched = Schedule(
        name="SHORTENED", frequency=Frequency.DAILY, window_start=dt.time(0), window_end=dt.time(0)
    )
    await store.create_schedule(sched)
    camp = await _campaign(store, "q-short", DialingMode.PREDICTIVE, schedule="SHORTENED")
    for i in range(60):
        await store.add_contact(camp, [f"+10055504{i:02d}"])
    for n in (1, 2):
        await store.create_agent(f"sh{n}", agent_interface(n))
    async with pbx_rig("q-short") as rig:
        runner = make_runner(await store.get_campaign(camp), store, rig, settings=SETTINGS)
        async with running(runner):
            for n in (1, 2):
                await runner.agents.login(f"sh{n}", agent_interface(n))
            await wait_for(lambda: runner.stats().attempts >= 3)
            now = dt.datetime.now(dt.UTC)
            closed_from = (now - dt.timedelta(hours=3)).time().replace(second=0, microsecond=0)
            closed_to = (now - dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
            await store.pool.execute(
                "UPDATE schedules SET window_start = $2, window_end = $3 WHERE name = $1",
                "SHORTENED",
                closed_from,
                closed_to,
            )
            changed_at = dt.datetime.now(dt.UTC)
            await wait_for(lambda: "schedule_closed" in runner.paused_reasons(), timeout_s=3.0)
            noticed_s = (dt.datetime.now(dt.UTC) - changed_at).total_seconds()
            depth = runner.hopper.depth
    attempts = await store.pool.fetch(
        "SELECT a.started_at FROM attempts a JOIN campaigns c ON c.id = a.campaign_id WHERE c.name = $1",
        camp,
    )
    assert [] == [a["started_at"] for a in attempts if a["started_at"] > changed_at]  # no late call
    assert noticed_s < 3.0 and depth == 0  # launching paused, the hopper given back
