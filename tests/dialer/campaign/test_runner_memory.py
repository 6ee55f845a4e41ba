"""Campaign memory through the runner: restart, close and re-open, two runners on one campaign.

Real PostgreSQL and the simulated PBX over TCP. The abandon windows of every runner (the three
exported ones and the predictive pacer's own two) must equal what the attempts table says, and
the same figures before and after a restart: counts compared for equality, not closeness.
Calls from earlier runs are written into the attempts table as history (20 hours, 10 days and
40 days ago), far from any window's edge, so the windows' whole-oldest-bucket rule and the
exact SQL count agree.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence

from dialer.campaign.engine import Engine
from dialer.campaign.memory import MemorySettings
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import RunnerSettings
from dialer.clock import RealClock
from dialer.model import CampaignState, DialingMode, Outcome, RetryRule, StatusSpec, SystemStatus, Trigger
from dialer.store.store import Store
from pacing import US, CampaignSnapshot, DialDecision, DialMode, PredictivePolicy
from tests.dialer.campaign.runner_fixtures import FAST, Rig, agent_interface, pbx_rig, running, wait_for
from tests.dialer.conftest import make_campaign
from tests.dialer.history_fixtures import past_attempt

SETTINGS = dataclasses.replace(
    FAST, default_disposition="Sukces", memory=MemorySettings(refresh_s=0.2, full_refresh_s=1.0)
)
# person (abandoned without a free agent, else talks), busy, hangs up while waiting, no answer
PREFIXES = ("+100", "+200", "+600", "+100", "+300")
WINDOWS = {"1h": 3600.0, "24h": 86_400.0, "30d": 30 * 86_400.0}


class Gated(PredictivePolicy):
    """The predictive policy's learning, but one unreserved call per decision while ``open``.

    Unreserved calls with no agent free are abandoned, so the windows fill deterministically
    enough; the learning (trackers, statistics) is the real policy's.
    """

    def __init__(self, *, open_: bool = True) -> None:
        super().__init__(US)
        self.open = open_

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        launch = min(1, snapshot.lines_free) if self.open else 0
        return DialDecision(launch=launch, reserved=0, mode=DialMode.PREDICTIVE)


async def _campaign(store: Store, queue: str, contacts: int, *, offset: int = 0) -> str:
    camp = await make_campaign(store, mode=DialingMode.PREDICTIVE, queue=queue)
    for trigger in Trigger:
        await store.create_status(
            StatusSpec(f"after {trigger.value}", SystemStatus.NOT_BEFORE, trigger=trigger, retry=RetryRule()),
            campaign=camp,
        )
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=camp)
    await _add(store, camp, range(offset, offset + contacts))
    # Earlier runs: in the 24 h and 30 d windows, in the 30 d window only, in none.
    now = dt.datetime.now(dt.UTC)
    history = [
        (Outcome.ABANDONED, dt.timedelta(hours=20)),
        (Outcome.ANSWERED, dt.timedelta(hours=20)),
        (Outcome.MACHINE, dt.timedelta(hours=20)),
        (Outcome.ABANDONED, dt.timedelta(days=10)),
        (Outcome.ANSWERED, dt.timedelta(days=10)),
        (Outcome.ABANDONED, dt.timedelta(days=40)),
    ]
    for k, (outcome, ago) in enumerate(history):
        talk_s = 60.0 if outcome is Outcome.ANSWERED else 0.0
        number = f"+48510{offset:03d}{k:03d}"
        await past_attempt(store, camp, outcome, now - ago, talk_s=talk_s, number=number)
    return camp


async def _add(store: Store, camp: str, ks: Sequence[int] | range) -> None:
    for k in ks:
        await store.add_contact(camp, [f"{PREFIXES[k % len(PREFIXES)]}555{k:05d}"])


async def _truth(store: Store, camp: str) -> dict[str, tuple[int, int]]:
    """(live answers, abandons) per window, counted in SQL from the attempts table."""
    cid = (await store.get_campaign(camp)).id
    out = {}
    for name, window_s in WINDOWS.items():
        row = await store.pool.fetchrow(
            "SELECT count(*) FILTER (WHERE outcome IN ('answered', 'abandoned')) AS live,"
            " count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned FROM attempts"
            " WHERE campaign_id = $1 AND ended_at > now() - make_interval(secs => $2)",
            cid, window_s,
        )
        out[name] = (row["live"], row["abandoned"])
    return out


def _windows(runner: CampaignRunner) -> dict[str, tuple[int, int]]:
    """(live answers, abandons) per exported window, and the pacer's 30-day (US) and hour windows."""
    now = runner.clock.now()
    counts = {w: t.counts(now) for w, t in runner.closer.tally.trackers.items()}
    policy = runner.policy
    assert isinstance(policy, PredictivePolicy)
    counts["pacer 30d"] = policy.tracker.counts(now)
    counts["pacer 1h"] = policy.recent.counts(now)
    return {w: (c.live_answers, c.abandoned) for w, c in counts.items()}


def _expected(truth: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    return {**truth, "pacer 30d": truth["30d"], "pacer 1h": truth["1h"]}


async def _all_dialled(store: Store, camp: str, n: int) -> bool:
    closed = await store.pool.fetchval(
        "SELECT count(*) FROM attempts a JOIN campaigns c ON c.id = a.campaign_id"
        " WHERE c.name = $1 AND a.engine_id <> 'earlier' AND a.ended_at IS NOT NULL",
        camp,
    )
    return bool(closed >= n)


def _runner(store: Store, rig: Rig, camp_name: str, campaign: object, engine_id: str,
            policy: PredictivePolicy, settings: RunnerSettings = SETTINGS) -> CampaignRunner:
    return CampaignRunner(
        campaign,  # type: ignore[arg-type]
        store=store, pbx=rig.pbx, clock=RealClock(), metrics=rig.metrics, engine_id=engine_id,
        settings=settings, policy=policy,
    )


async def test_a_restart_mid_campaign_keeps_the_windows_and_warms_the_pacer(store: Store) -> None:
    camp = await _campaign(store, "q-mem1", 10)
    campaign = await store.get_campaign(camp)
    await store.create_agent("m1")  # the interface is given at login
    async with pbx_rig("q-mem1") as rig:
        first = _runner(store, rig, camp, campaign, "e1", Gated())
        async with running(first):
            await first.agents.login("m1", agent_interface(1))
            await wait_for(lambda: _all_dialled(store, camp, 5), timeout_s=15)
            await first.drain(timeout_s=5.0)
        before = _windows(first)
        truth = await _truth(store, camp)
        assert _expected(truth) == before
        assert truth["24h"][1] > 1  # this run abandoned calls too (with one agent, one call a tick)
        dialled = truth["24h"][0]

        second = _runner(store, rig, camp, campaign, "e1", Gated(open_=False))
        async with running(second):
            await wait_for(lambda: second.memory.restored and second.memory.warmed is not None)
            assert before == _windows(second)
            stats = second.policy.stats  # type: ignore[attr-defined]
            # Warmed from every call of the last 4 days: this run's and the history of 20 h ago.
            assert second.memory.warmed == stats.outcomes.n_seen
            assert stats.outcomes.n_seen >= 5 + 3
            assert dialled >= 2 and stats.talk_time.n_seen >= 1
            second.policy.open = True  # type: ignore[attr-defined]
            await second.agents.login("m1", agent_interface(1))
            await wait_for(lambda: _all_dialled(store, camp, 10), timeout_s=15)
            await second.drain(timeout_s=5.0)
        assert _expected(await _truth(store, camp)) == _windows(second)
        # The runner's own counters are its own: only the calls it placed.
        assert second.closer.tally.live < _windows(second)["24h"][0]


async def test_closing_and_reopening_through_the_engine_starts_from_the_same_figures(store: Store) -> None:
    camp = await _campaign(store, "q-mem2", 6, offset=100)
    settings = dataclasses.replace(SETTINGS, drain_timeout_s=5.0)
    async with pbx_rig("q-mem2") as rig:
        engine = Engine(store=store, pbx=rig.pbx, clock=RealClock(), metrics=rig.metrics, engine_id="e-night",
                        settings=settings, poll_s=0.1, policy_factory=lambda _: Gated(), campaigns={camp},
                        dial_demo=True)  # make_campaign flags its campaigns demo
        task = asyncio.ensure_future(engine.run())
        try:
            await wait_for(lambda: engine.runner(camp) is not None)
            evening = engine.runner(camp)
            assert evening is not None
            await wait_for(lambda: _all_dialled(store, camp, 6), timeout_s=15)
            await store.set_campaign_state(camp, CampaignState.PAUSED)  # as a schedule closing
            await wait_for(lambda: engine.runner(camp) is None, timeout_s=10)
            closed_at_night = _windows(evening)
            assert _expected(await _truth(store, camp)) == closed_at_night
            await store.set_campaign_state(camp, CampaignState.RUNNING)  # the morning
            await wait_for(lambda: engine.runner(camp) is not None)
            morning = engine.runner(camp)
            assert morning is not None and morning is not evening
            await wait_for(lambda: morning.memory.restored and morning.memory.warmed is not None)
            assert closed_at_night == _windows(morning)
            assert morning.policy.stats.outcomes.n_seen == morning.memory.warmed  # type: ignore[attr-defined]
        finally:
            await engine.drain(timeout_s=5.0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_two_runners_on_one_campaign_count_each_others_abandons_once(store: Store) -> None:
    camp = await _campaign(store, "q-mem3", 12, offset=200)
    campaign = await store.get_campaign(camp)
    truth: dict[str, tuple[int, int]] = {}
    async with pbx_rig("q-mem3") as rig:
        # Small hoppers, so that both runners lease (and abandon) some of the contacts.
        small = dataclasses.replace(SETTINGS, hopper_low=1, hopper_high=2)
        one = _runner(store, rig, camp, campaign, "e-one", Gated(), small)
        two = _runner(store, rig, camp, campaign, "e-two", Gated(), small)

        async def agree() -> bool:
            if not await _all_dialled(store, camp, 12) or one.in_flight or two.in_flight:
                return False
            truth.update(await _truth(store, camp))
            return _expected(truth) == _windows(one) == _windows(two)

        async with running(one), running(two):
            await wait_for(agree, timeout_s=20)  # the periodic refresh brings the other's calls
        assert one.closer.tally.abandons > 0 and two.closer.tally.abandons > 0
        history_abandons = 1  # 20 h ago
        assert truth["24h"][1] == one.closer.tally.abandons + two.closer.tally.abandons + history_abandons
        assert truth["1h"] == (one.closer.tally.live + two.closer.tally.live,
                               one.closer.tally.abandons + two.closer.tally.abandons)
        rate = truth["24h"][1] / truth["24h"][0]
        for r in (one, two):
            assert rate == r.gauges().abandon_rate_by_window["24h"]  # dialer_abandon_rate{window="24h"}
