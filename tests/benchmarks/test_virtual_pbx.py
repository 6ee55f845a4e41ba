"""The virtual PBX keeps its promises: every call ends, abandons only without a free agent, CRN."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from ami.outcome import AgentConnected, Answered, Ended, Outcome
from benchmarks.callcentre import SCENARIOS
from benchmarks.engine import VirtualPbx
from dialer.clock import VirtualClock
from dialer.ports import OriginateRequest, PbxUnavailable

START = 1_700_000_000.0


@dataclass
class Recorder:
    """A listener that keeps what the PBX said and each agent's free intervals (from the outside)."""

    clock: VirtualClock
    answered: dict[str, float] = field(default_factory=dict)
    ended: dict[str, Ended] = field(default_factory=dict)
    connected: dict[str, AgentConnected] = field(default_factory=dict)
    free_since: dict[str, float] = field(default_factory=dict)
    free_spans: list[tuple[float, float]] = field(default_factory=list)
    connection: list[bool] = field(default_factory=list)

    def on_attempt(self, update: object) -> None:
        if isinstance(update, Answered):
            self.answered[update.attempt_id] = update.at_s
        elif isinstance(update, AgentConnected):
            self.connected[update.attempt_id] = update
            assert update.agent is not None
            began = self.free_since.pop(update.agent)
            self.free_spans.append((began, update.at_s))
        elif isinstance(update, Ended):
            assert update.outcome.attempt_id not in self.ended, "an attempt ended twice"
            self.ended[update.outcome.attempt_id] = update

    def on_agent(self, update: object) -> None:
        pass

    def on_connection(self, up: bool) -> None:
        self.connection.append(up)

    def wrap_done(self, interface: str, attempt_id: str, human: bool) -> None:
        self.free_since[interface] = self.clock.now()


def _request(aid: str, number: str, *, agent: str | None = None, amd: bool = True) -> OriginateRequest:
    return OriginateRequest(aid, number, "c", "q", "+15550000000", 25.0, amd, agent)


async def _predictive_run(agents: int, calls_per_tick: int, ticks: int, seed: int = 3
                          ) -> tuple[VirtualPbx, Recorder, list[str]]:
    clock = VirtualClock(START)
    scenario = SCENARIOS["S1"].with_overrides(agents=agents)
    rec = Recorder(clock)
    pbx = VirtualPbx(clock, scenario, seed=seed, shift_s=3600.0, on_wrap_done=rec.wrap_done)
    pbx.subscribe(rec)
    for i in range(agents):
        await pbx.queue_add("q", f"PJSIP/a{i}", member_name=f"a{i}", paused=False)
        rec.free_since[f"PJSIP/a{i}"] = START
    launched: list[str] = []

    async def dial() -> None:
        for t in range(ticks):
            await clock.sleep_until(START + t)
            for _ in range(calls_per_tick):
                aid = str(len(launched) + 1)
                launched.append(aid)
                await pbx.originate(_request(aid, f"+1555{len(launched):07d}"))

    task = asyncio.create_task(dial())
    await clock.run_until(START + ticks + 600.0)
    await task
    await pbx.close()
    return pbx, rec, launched


async def test_every_launched_call_ends_and_frees_its_line() -> None:
    pbx, rec, launched = await _predictive_run(agents=5, calls_per_tick=1, ticks=300)
    assert set(launched) == set(rec.ended)
    assert 0 == pbx.lines_in_use
    assert set() == await pbx.adopt_attempts(dict.fromkeys(launched, 0.0))


async def test_abandon_only_when_no_agent_was_free_within_the_connect_limit() -> None:
    pbx, rec, _ = await _predictive_run(agents=4, calls_per_tick=1, ticks=400)
    abandoned = [aid for aid, e in rec.ended.items() if e.outcome.outcome is Outcome.ABANDONED]
    assert abandoned, "the run should overload 4 agents"
    spans = rec.free_spans + [(began, float("inf")) for began in rec.free_since.values()]
    for aid in abandoned:
        answered = rec.answered[aid]
        window = (answered, answered + pbx.connect_limit_s)
        overlapping = [s for s in spans if s[0] < window[1] and s[1] > window[0] and s[1] - s[0] > 0]
        assert [] == overlapping, f"attempt {aid} abandoned while an agent was free"
        waited = rec.ended[aid].outcome.wait_s
        assert waited is not None and abs(waited - pbx.connect_limit_s) < 1e-9
    for connected in rec.connected.values():
        assert connected.wait_s is not None and connected.wait_s <= pbx.connect_limit_s


async def test_plenty_of_agents_means_no_abandon() -> None:
    _, rec, _ = await _predictive_run(agents=60, calls_per_tick=1, ticks=200)
    outcomes = {e.outcome.outcome for e in rec.ended.values()}
    assert Outcome.ABANDONED not in outcomes
    assert Outcome.CONNECTED in outcomes


async def test_common_random_numbers_same_index_same_fate() -> None:
    first, _, _ = await _predictive_run(agents=3, calls_per_tick=2, ticks=100, seed=9)
    second, _, _ = await _predictive_run(agents=30, calls_per_tick=1, ticks=150, seed=9)
    by_index_1 = {(f.stream, f.index): f for f in first.fates}
    by_index_2 = {(f.stream, f.index): f for f in second.fates}
    common = set(by_index_1) & set(by_index_2)
    assert len(common) >= 150
    for key in common:
        a, b = by_index_1[key], by_index_2[key]
        assert (a.fate, a.answer_s, a.talk_s, a.wrap_s, a.amd_false_positive) == (
            b.fate, b.answer_s, b.talk_s, b.wrap_s, b.amd_false_positive)
    other, _, _ = await _predictive_run(agents=3, calls_per_tick=2, ticks=100, seed=10)
    assert [f.answer_s for f in other.fates[:50]] != [f.answer_s for f in first.fates[:50]]


async def test_redial_of_a_number_draws_from_the_second_stream() -> None:
    clock = VirtualClock(START)
    pbx = VirtualPbx(clock, SCENARIOS["S1"], seed=1)
    await pbx.originate(_request("1", "+15550000001"))
    await pbx.originate(_request("2", "+15550000002"))
    await pbx.originate(_request("3", "+15550000001"))
    assert [(0, 0), (0, 1), (1, 0)] == [(f.stream, f.index) for f in pbx.fates]
    await pbx.close()


async def test_reserved_call_goes_to_its_agent_even_when_paused() -> None:
    clock = VirtualClock(START)
    rec = Recorder(clock)
    # Everyone answers at once and is a person: the reserved agent must get the call.
    scenario = SCENARIOS["S1"].with_overrides(human=1.0, machine=0.0, busy=0.0, failed=0.0)
    pbx = VirtualPbx(clock, scenario, seed=2, on_wrap_done=rec.wrap_done)
    pbx.subscribe(rec)
    await pbx.queue_add("q", "PJSIP/x", member_name="x", paused=False)
    await pbx.queue_add("q", "PJSIP/y", member_name="y", paused=False)
    rec.free_since.update({"PJSIP/x": START, "PJSIP/y": START})
    await pbx.queue_pause("q", "PJSIP/y", paused=True, reason="dialer:reserved")
    await pbx.originate(_request("1", "+15550000001", agent="PJSIP/y", amd=False))
    await clock.run_until(START + 30.0)
    assert "PJSIP/y" == rec.connected["1"].agent
    await pbx.close()


async def test_disconnected_port_refuses_calls_and_tells_listeners() -> None:
    clock = VirtualClock(START)
    rec = Recorder(clock)
    pbx = VirtualPbx(clock, SCENARIOS["S1"])
    pbx.subscribe(rec)
    pbx.set_connected(False)
    assert 0 == pbx.lines_free()
    with pytest.raises(PbxUnavailable):
        await pbx.originate(_request("1", "+15550000001"))
    await asyncio.sleep(0)
    assert [False] == rec.connection
