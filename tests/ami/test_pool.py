"""Several Asterisk servers (issue 15 item 3): the pool's choice, server and group names, health.

:func:`ami.pool.choose` is pure (property tests); the rest goes over real sockets to simulated
PBXs: an Originate limited to some servers or a group lands there only, an unknown name is
refused, and a server whose last Originate was refused is tried after the healthy ones until
its cool-down has passed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ami.client import AmiClient
from ami.errors import AmiActionFailed, AmiCapacityError, AmiUnknownServer
from ami.pool import AmiPool, Candidate, choose
from ami.simulator.server import SimulatedPbx
from config.model import AmiServerConfig
from config.secret import Secret
from tests.ami.conftest import TIME_SCALE

CALLER_ID = '"Dialer" <5550000>'
RINGS_LONG = "3005550001"  # 300...: rings for 60 simulated seconds, so the call stays in flight

candidates = st.lists(
    st.builds(
        Candidate,
        name=st.text("abcdef", min_size=1, max_size=3),
        connected=st.booleans(),
        in_flight=st.integers(0, 12),
        channel_limit=st.integers(0, 10),
        cooling=st.booleans(),
    ),
    max_size=6,
    unique_by=lambda c: c.name,
)


def _room(c: Candidate) -> bool:
    return c.connected and c.channel_limit > 0 and c.in_flight < c.channel_limit


@given(candidates)
def test_choose_takes_a_server_with_room_healthy_first_then_least_loaded(cs: list[Candidate]) -> None:
    chosen = choose(cs)
    eligible = [c for c in cs if _room(c)]
    if not eligible:
        assert chosen is None
        return
    by_name = {c.name: c for c in cs}
    assert chosen is not None and _room(by_name[chosen])
    best = by_name[chosen]
    for c in eligible:
        assert (best.cooling, best.in_flight / best.channel_limit) <= (
            c.cooling,
            c.in_flight / c.channel_limit,
        )


def test_choose_prefers_a_busier_healthy_server_to_an_idle_cooling_one() -> None:
    assert "b" == choose([Candidate("a", True, 0, 10, cooling=True), Candidate("b", True, 9, 10)])
    assert "a" == choose([Candidate("a", True, 0, 10, cooling=True), Candidate("b", True, 10, 10)])
    assert choose([Candidate("a", False, 0, 10), Candidate("b", True, 1, 1)]) is None


def _client(port: int, name: str, group: str = "", limit: int = 10) -> AmiClient:
    cfg = AmiServerConfig(
        name=name,
        host="127.0.0.1",
        port=port,
        username="dialer",
        secret=Secret("dialer-secret"),
        channel_limit=limit,
        group=group,
        connect_timeout_s=2.0,
    )
    return AmiClient(
        cfg, rng=random.Random(1), backoff_initial_s=0.02, backoff_max_s=0.2, trunk_context="sim-pstn"
    )


@pytest.fixture
async def sims() -> AsyncIterator[list[SimulatedPbx]]:
    made = [SimulatedPbx(time_scale=TIME_SCALE) for _ in range(3)]
    for s in made:
        await s.start()
    yield made
    for s in made:
        await s.close()


@pytest.fixture
async def pool_of(sims: list[SimulatedPbx]) -> AsyncIterator[Callable[..., AmiPool]]:
    pools: list[AmiPool] = []

    def make(**kwargs: Any) -> AmiPool:
        clients = [
            _client(sims[0].port, "a", "east"),
            _client(sims[1].port, "b", "east"),
            _client(sims[2].port, "c", "west"),
        ]
        pools.append(AmiPool(clients, **kwargs))
        return pools[-1]

    yield make
    for p in pools:
        await p.close()


async def _originate(pool: AmiPool, attempt: str, servers: tuple[str, ...] = ()) -> str:
    queued = await pool.originate(
        attempt, RINGS_LONG, servers=servers, campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=60
    )
    return queued.server


async def test_an_originate_goes_only_to_the_servers_or_group_named(
    sims: list[SimulatedPbx], pool_of: Callable[..., AmiPool]
) -> None:
    pool = pool_of()
    await pool.connect()
    assert ["b", "b", "b"] == [await _originate(pool, f"B{i}", ("b",)) for i in range(3)]
    # the group east is a and b: spread over both by load, never on c
    east = [await _originate(pool, f"E{i}", ("east",)) for i in range(5)]
    assert ["a", "a", "a", "a", "b"] == east  # a idle, b had 3: a until a tie (a first), then b
    assert 0 == sims[2].action_counts["originate"]
    assert "c" == await _originate(pool, "W1", ("west", "b"))  # c idle, b busy
    assert 9 == pool.free(pool.resolve(["c", "c"]))
    assert 6 + 6 == pool.free(pool.resolve(["east"]))
    with pytest.raises(AmiUnknownServer, match="'north'"):
        await _originate(pool, "N1", ("north",))
    with pytest.raises(AmiUnknownServer):
        pool.client("east")  # a group is not a server


async def test_a_dropped_server_leaves_the_rotation_and_returns(
    sims: list[SimulatedPbx], pool_of: Callable[..., AmiPool]
) -> None:
    pool = pool_of()
    await pool.connect()
    await sims[0].unreachable()
    await _until(lambda: not pool.client("a").connected)
    placed = [await _originate(pool, f"D{i}", ("east",)) for i in range(4)]
    assert ["b"] * 4 == placed
    await sims[1].unreachable()
    await _until(lambda: not pool.client("b").connected)
    with pytest.raises(AmiCapacityError, match="2 eligible, 0 connected"):
        await _originate(pool, "D9", ("east",))
    await sims[0].reachable()
    await _until(lambda: pool.client("a").connected)
    assert "a" == await _originate(pool, "D10", ("east",))


async def test_a_server_that_refused_an_originate_cools_down(
    sims: list[SimulatedPbx], pool_of: Callable[..., AmiPool]
) -> None:
    now = [0.0]
    pool = pool_of(cooldown_s=10.0, clock=lambda: now[0])
    await pool.connect()
    assert "a" == await _originate(pool, "R0", ("east",))
    assert "b" == await _originate(pool, "R1", ("east",))
    sims[0].write_classes = ("call",)  # Originate needs the originate class: Permission denied
    with pytest.raises(AmiActionFailed):
        await pool.originate(
            "R3", RINGS_LONG, servers=("a",), campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=60
        )
    sims[0].write_classes = None
    # a and b have one call each; a is cooling: b first, twice, though b is then busier
    assert ["b", "b"] == [await _originate(pool, f"R{4 + i}", ("east",)) for i in range(2)]
    now[0] = 10.5
    assert "a" == await _originate(pool, "R6", ("east",))


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the client did not follow its server's state within 4 s")
