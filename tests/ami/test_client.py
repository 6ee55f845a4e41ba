"""The AMI client against the simulated PBX over real sockets: outcomes, actions, the pool."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ami.agent_events import AgentStateChange, MemberChange
from ami.client import AmiClient, ConnectionState, backoff_delay_s
from ami.errors import AmiActionError, AmiActionFailed, AmiCapacityError, AmiNotConnected
from ami.outcome import AgentConnected, Answered, Ended, Outcome
from ami.pool import AmiPool
from ami.simulator.population import PopulationParams
from ami.simulator.server import SimulatedPbx
from config.model import AmiServerConfig
from config.secret import Secret
from tests.ami.conftest import TIME_SCALE, TRANSCRIPT_AGENTS

CALLER_ID = '"Dialer" <5550000>'


def server_config(
    port: int,
    *,
    name: str = "pbx1",
    secret: str = "dialer-secret",
    limit: int = 100,
    ping_interval_s: float = 20.0,
) -> AmiServerConfig:
    return AmiServerConfig(
        name=name,
        host="127.0.0.1",
        port=port,
        username="dialer",
        secret=Secret(secret),
        channel_limit=limit,
        ping_interval_s=ping_interval_s,
        connect_timeout_s=2.0,
    )


class Recorder:
    """Collects a client's updates and lets a test await one attempt's end."""

    def __init__(self) -> None:
        self.updates: list[Any] = []
        self._waiters: dict[str, asyncio.Future[Ended]] = {}

    def __call__(self, update: Any) -> None:
        self.updates.append(update)
        if isinstance(update, Ended):
            fut = self._waiters.setdefault(
                update.outcome.attempt_id, asyncio.get_running_loop().create_future()
            )
            if not fut.done():
                fut.set_result(update)

    async def ended(self, attempt_id: str, wait_s: float = 5.0) -> Ended:
        fut = self._waiters.setdefault(attempt_id, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(fut, wait_s)

    def of(self, attempt_id: str) -> list[Any]:
        return [
            u
            for u in self.updates
            if getattr(u, "attempt_id", None) == attempt_id
            or (isinstance(u, Ended) and u.outcome.attempt_id == attempt_id)
        ]


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[..., AmiClient]]:
    made: list[AmiClient] = []

    def make(port: int, **kwargs: Any) -> AmiClient:
        cfg_keys = {"name", "secret", "limit", "ping_interval_s"}
        cfg = server_config(port, **{k: v for k, v in kwargs.items() if k in cfg_keys})
        opts = {k: v for k, v in kwargs.items() if k not in cfg_keys}
        opts.setdefault("rng", random.Random(1))
        opts.setdefault("backoff_initial_s", 0.02)
        opts.setdefault("backoff_max_s", 0.2)
        c = AmiClient(cfg, **opts)
        made.append(c)
        return c

    yield make
    for c in made:
        await c.terminate()


async def originate_and_wait(
    client: AmiClient, rec: Recorder, attempt_id: str, number: str, **kw: Any
) -> Ended:
    kw.setdefault("campaign", "campaign1")
    kw.setdefault("queue", "campaign1")
    kw.setdefault("caller_id", CALLER_ID)
    kw.setdefault("timeout_s", 15.0)  # the captures' Timeout: 15000 ms (simulated seconds)
    queued = await client.originate(attempt_id, number, **kw)
    assert queued.action_id == f"dlr-{attempt_id}"
    return await rec.ended(attempt_id)


async def listening(client: AmiClient) -> tuple[AmiClient, Recorder]:
    """``client`` connected, with a recorder of its attempt updates."""
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    return client, rec


# number, AMD on, queue, pause both agents, timeout of the queue, expected outcome
OUTCOME_CASES = [
    ("1005550001", False, "campaign1", False, 2.0, Outcome.CONNECTED),
    ("1105550001", True, "campaign1", False, 2.0, Outcome.CONNECTED),
    ("1205550001", True, "campaign1", False, 2.0, Outcome.MACHINE),
    ("2005550001", False, "campaign1", False, 2.0, Outcome.BUSY),
    ("3005550001", False, "campaign1", False, 2.0, Outcome.NO_ANSWER),
    ("4005550001", False, "campaign1", False, 2.0, Outcome.CONGESTION),
    ("5005550001", False, "campaign1", False, 2.0, Outcome.INVALID_NUMBER),
    ("6005550001", False, "campaign1", True, 10.0, Outcome.HANGUP_WAITING),
    ("1005550003", False, "campaign1", True, 2.0, Outcome.ABANDONED),
    ("1005550004", False, "campaign-empty", False, 2.0, Outcome.ABANDONED),
]


@pytest.mark.parametrize("trunk", ["sim-pstn", "dialer-out"])
@pytest.mark.parametrize(
    ("number", "amd", "queue", "paused", "queue_timeout_s", "expected"),
    OUTCOME_CASES,
    ids=[f"{c[0][:3]}-{c[5]}" for c in OUTCOME_CASES],
)
async def test_each_outcome_end_to_end(
    pbx: SimulatedPbx,
    client_factory: Callable[..., AmiClient],
    trunk: str,
    number: str,
    amd: bool,
    queue: str,
    paused: bool,
    queue_timeout_s: float,
    expected: Outcome,
) -> None:
    client = client_factory(pbx.port, trunk_context=trunk)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    if paused:
        for agent in TRANSCRIPT_AGENTS:
            await client.queue_pause(agent.interface, True, queue="campaign1")
    ended = await originate_and_wait(
        client, rec, "A1", number, amd=amd, queue=queue, queue_timeout_s=queue_timeout_s
    )
    assert expected == ended.outcome.outcome
    assert client.in_flight == 0
    kinds = [type(u) for u in rec.of("A1")]
    if expected is Outcome.CONNECTED:
        assert [Answered, AgentConnected, Ended] == [
            k for k in kinds if k in (Answered, AgentConnected, Ended)
        ]
        assert ended.outcome.agent in {a.interface for a in TRANSCRIPT_AGENTS}
    if expected in (Outcome.BUSY, Outcome.CONGESTION):
        assert {Outcome.BUSY: 17, Outcome.CONGESTION: 34}[expected] == ended.outcome.cause


@pytest.mark.parametrize(
    ("action", "expected", "amd_status"),
    [
        ("hangup", Outcome.MACHINE, "MACHINE"),
        ("message", Outcome.MACHINE, "MACHINE"),
        ("agent", Outcome.CONNECTED, "MACHINE"),  # AMD only labels the call
    ],
)
async def test_the_amd_action_decides_what_a_machine_gets(
    pbx: SimulatedPbx,
    client_factory: Callable[..., AmiClient],
    action: str,
    expected: Outcome,
    amd_status: str,
) -> None:
    """Issue 17 item 5: DIALER_AMD_ACTION, read by the dialplan (and the simulated PBX)."""
    client, rec = await listening(client_factory(pbx.port, trunk_context="sim-pstn"))
    ended = await originate_and_wait(
        client,
        rec,
        f"M-{action}",
        "1205550009",
        amd=True,
        variables={"DIALER_AMD_ACTION": action, "DIALER_AMD_MESSAGE": "vm-drop"},
    )
    assert (expected, amd_status) == (ended.outcome.outcome, ended.outcome.amd_status)
    assert (action == "agent") == (ended.outcome.agent is not None)


async def test_outcomes_hold_at_full_verbosity(client_factory: Callable[..., AmiClient]) -> None:
    sim = SimulatedPbx(time_scale=TIME_SCALE, agents=TRANSCRIPT_AGENTS, verbosity="full")
    await sim.start()
    try:
        client = client_factory(sim.port, trunk_context="sim-pstn")
        rec = Recorder()
        client.add_update_listener(rec)
        await client.connect()
        ended = await originate_and_wait(client, rec, "F1", "1105550001", amd=True)
        assert Outcome.CONNECTED == ended.outcome.outcome
        assert sim.action_counts["originate"] == 1
    finally:
        await sim.close()


async def test_many_concurrent_calls_all_end(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port, trunk_context="sim-pstn")
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    numbers = {f"C{i}": f"{prefix}55500{i:02d}" for i, prefix in enumerate(["200", "400", "500", "300"] * 25)}
    await asyncio.gather(
        *(
            client.originate(a, n, campaign="c", queue="campaign1", caller_id=CALLER_ID, timeout_s=5.0)
            for a, n in numbers.items()
        )
    )
    ended = await asyncio.gather(*(rec.ended(a) for a in numbers))
    expected = {
        "200": Outcome.BUSY,
        "400": Outcome.CONGESTION,
        "500": Outcome.INVALID_NUMBER,
        "300": Outcome.NO_ANSWER,
    }
    assert {a: expected[n[:3]] for a, n in numbers.items()} == {
        e.outcome.attempt_id: e.outcome.outcome for e in ended
    }
    assert client.in_flight == 0


async def test_originate_refuses_header_injection_before_registering(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port)
    await client.connect()
    with pytest.raises(AmiActionError):
        await client.originate(
            "X1", "100\r\nAction: Hangup", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=5
        )
    assert client.in_flight == 0
    assert pbx.action_counts["originate"] == 0


async def test_originate_refuses_a_comma_in_a_channel_variable(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port)
    await client.connect()
    with pytest.raises(AmiActionError, match="DIALER_CAMPAIGN"):
        await client.originate(
            "X2", "1005550001", campaign="Sales, North", queue="q", caller_id=CALLER_ID, timeout_s=5
        )
    assert (0, 0) == (client.in_flight, pbx.action_counts["originate"])


async def test_duplicate_attempt_id_is_refused(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port, trunk_context="sim-pstn")
    await client.connect()
    await client.originate("D1", "3005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=10)
    with pytest.raises(AmiActionError, match="already in flight"):
        await client.originate("D1", "3005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=10)


async def test_hangup_ends_a_ringing_attempt(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port, trunk_context="sim-pstn")
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await client.originate("H1", "3005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=60)
    await asyncio.sleep(0.05)
    await client.hangup("H1")
    ended = await rec.ended("H1")
    assert ended.outcome.outcome is not Outcome.LOST
    assert pbx.live_calls == 0


async def test_hangup_after_local_optimisation_ends_the_conversation_on_the_swapped_in_channel(
    client_factory: Callable[..., AmiClient],
) -> None:
    people = PopulationParams(  # answer in 1 s, talk 300 s (3 s here) unless hung up
        answer_p=1.0,
        machine_share=0.0,
        answer_median_s=1.0,
        answer_sigma=0.0,
        talk_median_s=300.0,
        talk_sigma=0.0,
    )
    sim = SimulatedPbx(time_scale=TIME_SCALE, population=people, auth_fail_delay_s=0.05)
    await sim.start()
    try:
        client = client_factory(sim.port)  # Local/<number>@dialer-out, optimised once bridged
        rec = Recorder()
        client.add_update_listener(rec)
        await client.connect()
        await client.originate(
            "O1",
            "+48500000501",
            campaign="c",
            queue="q",
            caller_id=CALLER_ID,
            timeout_s=60,
            agent="Local/agent1@sim-agents",
        )
        for _ in range(200):
            if any(call.optimized for call in sim.calls_by_uid.values()):
                break
            await asyncio.sleep(0.01)
        assert [] == [u for u in rec.updates if isinstance(u, Ended)]  # our ;1 is gone, the call is not

        await client.hangup("O1")

        ended = await rec.ended("O1", wait_s=1.0)
        assert (Outcome.CONNECTED, 0) == (ended.outcome.outcome, sim.live_calls)
    finally:
        await sim.close()


async def test_queue_admin_round_trip_and_agent_events(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port)
    agent_updates: list[Any] = []
    client.add_agent_listener(agent_updates.append)
    await client.connect()
    await client.queue_add("campaign1", "PJSIP/agent7", member_name="Agent Seven")
    with pytest.raises(AmiActionFailed, match="Already there"):
        await client.queue_add("campaign1", "PJSIP/agent7")
    await client.queue_pause("PJSIP/agent7", True, queue="campaign1", reason="lunch")
    report = await client.queue_status("campaign1")
    [member] = [m for m in report.members if m.interface == "PJSIP/agent7"]
    assert (True, "lunch", "Agent Seven", "dynamic") == (
        member.paused,
        member.paused_reason,
        member.member_name,
        member.membership,
    )
    assert ["campaign1"] == [q.queue for q in report.queues]
    await client.queue_remove("campaign1", "PJSIP/agent7")
    with pytest.raises(AmiActionFailed, match="Not there"):
        await client.queue_remove("campaign1", "PJSIP/agent7")
    with pytest.raises(AmiActionFailed, match="Interface not found"):
        await client.queue_pause("PJSIP/nobody", True, queue="campaign1")
    assert () == (await client.queue_status("no-such-queue")).members
    await asyncio.sleep(0.02)
    mine = [
        (u.change, u.paused)
        for u in agent_updates
        if isinstance(u, AgentStateChange) and u.interface == "PJSIP/agent7"
    ]
    expected = [
        (MemberChange.ADDED, False),
        (MemberChange.PAUSE, True),
        (MemberChange.SNAPSHOT, True),
        (MemberChange.REMOVED, True),
    ]
    assert expected == mine


async def test_unknown_action_is_an_action_failure(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port)
    await client.connect()
    with pytest.raises(AmiActionFailed, match="Invalid/unknown command"):
        await client.action({"Action": "NoSuchThing"})


async def test_actions_while_disconnected_raise(client_factory: Callable[..., AmiClient]) -> None:
    client = client_factory(1)
    with pytest.raises(AmiNotConnected):
        await client.ping()
    with pytest.raises(AmiNotConnected):
        await client.originate("N1", "100", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=5)
    assert client.in_flight == 0


def test_backoff_grows_exponentially_within_jitter_and_caps() -> None:
    rng = random.Random(3)
    delays = [backoff_delay_s(n, initial_s=0.5, max_s=8.0, rng=rng) for n in range(8)]
    for n, d in enumerate(delays):
        nominal = min(8.0, 0.5 * 2**n)
        assert 0.5 * nominal <= d < 1.5 * nominal
    twin = random.Random(3)
    assert delays == [backoff_delay_s(n, initial_s=0.5, max_s=8.0, rng=twin) for n in range(8)]


# -- the pool ---------------------------------------------------------------------------------


async def test_pool_picks_least_loaded_and_respects_limits(client_factory: Callable[..., AmiClient]) -> None:
    sims = [SimulatedPbx(time_scale=TIME_SCALE) for _ in range(2)]
    for s in sims:
        await s.start()
    try:
        small = client_factory(sims[0].port, name="small", limit=2, trunk_context="sim-pstn")
        big = client_factory(sims[1].port, name="big", limit=4, trunk_context="sim-pstn")
        pool = AmiPool([small, big])
        await pool.connect()
        placed = []
        for i in range(6):  # 300... rings for 60 simulated seconds: all stay in flight
            q = await pool.originate(
                f"P{i}", "3005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=60
            )
            placed.append(q.server)
        # loads small/2 vs big/4: 0=0 -> small (first); .5>0 -> big; .5>.25 -> big; .5=.5 -> small;
        # small full -> big, big
        assert (2, 4) == (small.in_flight, big.in_flight)
        assert ["small", "big", "big", "small", "big", "big"] == placed
        with pytest.raises(AmiCapacityError):
            await pool.originate(
                "P9", "3005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=60
            )
        assert {"small": ConnectionState.CONNECTED, "big": ConnectionState.CONNECTED} == pool.states()
    finally:
        for s in sims:
            await s.close()


async def test_pool_skips_a_server_that_is_down(client_factory: Callable[..., AmiClient]) -> None:
    sim = SimulatedPbx(time_scale=TIME_SCALE)
    await sim.start()
    try:
        down = client_factory(1, name="down", limit=10)  # nothing listens on port 1
        up = client_factory(sim.port, name="up", limit=1, trunk_context="sim-pstn")
        pool = AmiPool([down, up])
        await pool.connect()
        assert pool.pick() is up
        await pool.originate("S1", "3005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=60)
        assert pool.pick() is None
        assert ConnectionState.CONNECTED is pool.states()["up"]
        assert ConnectionState.CONNECTED is not pool.states()["down"]
    finally:
        await sim.close()


async def test_reserved_agent_gets_a_direct_bridge(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port, trunk_context="sim-pstn")
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    ended = await originate_and_wait(client, rec, "V1", "1005550001", agent="PJSIP/agent9")
    assert (Outcome.CONNECTED, "PJSIP/agent9") == (ended.outcome.outcome, ended.outcome.agent)


async def test_agents_talk_and_wrap_up_for_the_configured_times(
    client_factory: Callable[..., AmiClient],
) -> None:
    # one agent who ends each call after 1 s and wraps up 3 s: of two customers answering
    # together, the first is connected, the second waits past the 2 s connect limit
    sim = SimulatedPbx(
        time_scale=TIME_SCALE, agents=TRANSCRIPT_AGENTS[:1], agent_talk_s=1.0, agent_wrapup_s=3.0
    )
    await sim.start()
    try:
        client = client_factory(sim.port, trunk_context="sim-pstn")
        rec = Recorder()
        client.add_update_listener(rec)
        await client.connect()
        a, b = await asyncio.gather(
            originate_and_wait(client, rec, "T1", "1005550001"),
            originate_and_wait(client, rec, "T2", "1005550002"),
        )
        assert [Outcome.ABANDONED, Outcome.CONNECTED] == sorted(e.outcome.outcome for e in (a, b))
        report = await client.queue_status("campaign1")
        assert [1] == [m.calls_taken for m in report.members]
    finally:
        await sim.close()


async def test_population_numbers_draw_a_mix_of_outcomes(client_factory: Callable[..., AmiClient]) -> None:
    sim = SimulatedPbx(
        time_scale=0.002,
        agents=TRANSCRIPT_AGENTS,
        population=PopulationParams(answer_p=0.5),
        rng=np.random.default_rng(11),
    )
    await sim.start()
    try:
        client = client_factory(sim.port, trunk_context="dialer-out")
        rec = Recorder()
        client.add_update_listener(rec)
        await client.connect()
        ids = [f"M{i}" for i in range(60)]
        await asyncio.gather(
            *(
                client.originate(
                    a,
                    f"48600{i:06d}",
                    campaign="c",
                    queue="campaign1",
                    caller_id=CALLER_ID,
                    timeout_s=25,
                    amd=True,
                )
                for i, a in enumerate(ids)
            )
        )
        outcomes = [e.outcome.outcome for e in await asyncio.gather(*(rec.ended(a, 20) for a in ids))]
        assert Outcome.LOST not in outcomes
        assert {Outcome.BUSY, Outcome.NO_ANSWER, Outcome.MACHINE} <= set(outcomes)
        assert set(outcomes) & {Outcome.CONNECTED, Outcome.ABANDONED}
    finally:
        await sim.close()


async def test_updates_are_also_an_async_iterator(
    pbx: SimulatedPbx, client_factory: Callable[..., AmiClient]
) -> None:
    client = client_factory(pbx.port, trunk_context="sim-pstn")
    await client.connect()
    stream = client.updates()
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    await client.originate("I1", "2005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=5)
    update = await asyncio.wait_for(first, 5)
    assert isinstance(update, Ended) and Outcome.BUSY == update.outcome.outcome


async def test_reserved_agent_not_answering_within_the_connect_limit_is_an_abandon(
    client_factory: Callable[..., AmiClient],
) -> None:
    sim = SimulatedPbx(time_scale=TIME_SCALE, agent_ring_s=3.0)  # rings past the 2 s limit
    await sim.start()
    try:
        client = client_factory(sim.port, trunk_context="sim-pstn")
        rec = Recorder()
        client.add_update_listener(rec)
        await client.connect()
        ended = await originate_and_wait(client, rec, "V2", "1005550001", agent="PJSIP/agent9")
        assert Outcome.ABANDONED == ended.outcome.outcome
        assert ended.outcome.info_message  # the simulated dialplan's abandon path plays it
        assert 0 == sim.live_calls
    finally:
        await sim.close()


@given(
    attempt=st.integers(min_value=0, max_value=60),
    initial_s=st.floats(min_value=0.01, max_value=5.0),
    cap=st.floats(min_value=1.0, max_value=100.0),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_backoff_stays_within_jitter_of_the_capped_exponential(
    attempt: int, initial_s: float, cap: float, seed: int
) -> None:
    max_s = max(cap, initial_s)
    delay = backoff_delay_s(attempt, initial_s=initial_s, max_s=max_s, rng=random.Random(seed))
    nominal = min(max_s, initial_s * 2**attempt)
    assert 0.5 * nominal <= delay < 1.5 * nominal
    assert delay < 1.5 * max_s


# when the Hangup action arrives (simulated seconds after the Originate), for a 1005550001
# customer (answers at 1 s, talks 8 s); paused agents keep the call waiting in the queue
HANGUP_POINTS = [
    ("ringing", 0.5, False, False),
    ("amd", 1.5, True, False),
    ("queued", 1.5, False, True),
    ("agent_ringing", 1.5, False, False),
    ("bridged", 4.0, False, False),
]


@pytest.mark.parametrize(("where", "at_s", "amd", "paused"), HANGUP_POINTS, ids=[h[0] for h in HANGUP_POINTS])
async def test_hangup_action_ends_the_call_wherever_it_is(
    pbx: SimulatedPbx,
    client_factory: Callable[..., AmiClient],
    where: str,
    at_s: float,
    amd: bool,
    paused: bool,
) -> None:
    client, rec = await listening(client_factory(pbx.port, trunk_context="sim-pstn"))
    if paused:
        for agent in TRANSCRIPT_AGENTS:
            await client.queue_pause(agent.interface, True)
    await client.originate(
        "HX",
        "1005550001",
        campaign="c",
        queue="campaign1",
        caller_id=CALLER_ID,
        timeout_s=15,
        amd=amd,
        queue_timeout_s=10,
    )
    await asyncio.sleep(at_s * TIME_SCALE)
    await client.hangup("HX")
    ended = await rec.ended("HX")
    assert ended.outcome.outcome is not Outcome.LOST
    assert 0 == pbx.live_calls
    assert not pbx.channels
    report = await client.queue_status("campaign1")
    assert {False} == {m.in_call for m in report.members}
