"""The PBX port over several servers (issue 15 item 3): agents at home on one server.

Real sockets to two simulated PBXs. An agent whose record names a server is a queue member
there only, is counted present when it is a member there (the members check), and the calls
placed for it go there whatever the campaign's servers; an unknown server name refuses the
call (``PbxUnavailable``) instead of placing it somewhere else.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from ami.client import AmiClient
from ami.pool import AmiPool
from ami.simulator.server import SimulatedPbx
from config.model import AmiServerConfig
from config.secret import Secret
from dialer.errors import PbxUnavailable
from dialer.pbx.ami_pbx import AmiPbx
from dialer.ports import OriginateRequest

QUEUE = "sales"
HOMED, ANYWHERE = "PJSIP/101", "PJSIP/102"


def _client(port: int, name: str) -> AmiClient:
    cfg = AmiServerConfig(
        name=name, host="127.0.0.1", port=port, username="dialer", secret=Secret("dialer-secret"),
        channel_limit=5, connect_timeout_s=2.0,
    )  # fmt: skip
    return AmiClient(cfg, rng=random.Random(1), backoff_initial_s=0.02, trunk_context="sim-pstn")


@pytest.fixture
async def two() -> AsyncIterator[tuple[AmiPbx, SimulatedPbx, SimulatedPbx]]:
    sims = [SimulatedPbx(time_scale=0.01, queues=(QUEUE,)) for _ in range(2)]
    for s in sims:
        await s.start()
    pool = AmiPool([_client(sims[0].port, "a"), _client(sims[1].port, "b")])
    await pool.connect()
    try:
        yield AmiPbx(pool), sims[0], sims[1]
    finally:
        await pool.close()
        for s in sims:
            await s.close()


def _members(sim: SimulatedPbx) -> set[str]:
    return {m.interface for m in sim.queue(QUEUE).members.values()}


def _call(attempt: str, *, agent: str | None = None, servers: tuple[str, ...] = ()) -> OriginateRequest:
    return OriginateRequest(
        attempt_id=attempt, number="3005550001", campaign="c", queue=QUEUE, caller_id="5550000",
        ring_timeout_s=60, agent_interface=agent, servers=servers,
    )  # fmt: skip


async def test_a_homed_agent_is_a_member_and_called_on_its_server_only(
    two: tuple[AmiPbx, SimulatedPbx, SimulatedPbx],
) -> None:
    pbx, a, b = two
    pbx.home(HOMED, "a")
    await pbx.queue_add(QUEUE, HOMED, member_name="Ann", paused=False)
    await pbx.queue_add(QUEUE, ANYWHERE, member_name="Bob", paused=False)
    assert {HOMED, ANYWHERE} == _members(a)
    assert {ANYWHERE} == _members(b)
    assert {HOMED, ANYWHERE} == await pbx.queue_members(QUEUE)
    await pbx.queue_remove(QUEUE, ANYWHERE)
    assert ANYWHERE not in _members(a) | _members(b)
    # b lost nothing it should have: the homed agent is present though b does not have it
    assert {HOMED} == await pbx.queue_members(QUEUE)

    assert pbx.reaches(("b",), HOMED) and pbx.reaches(("b",))
    await pbx.originate(_call("1", agent=HOMED, servers=("b",)))
    await pbx.originate(_call("2", servers=("b",)))
    assert (1, 1) == (a.action_counts["originate"], b.action_counts["originate"])
    assert 4 == pbx.lines_free(("a",)) and 4 == pbx.lines_free(("b",))

    with pytest.raises(PbxUnavailable, match="'north'"):
        await pbx.originate(_call("3", servers=("north",)))
    assert 0 == pbx.lines_free(("north",)) and pbx.reaches(("north",))  # the originate says why


async def test_a_homed_agent_whose_server_is_down_gets_no_lines(
    two: tuple[AmiPbx, SimulatedPbx, SimulatedPbx],
) -> None:
    pbx, a, _b = two
    pbx.home(HOMED, "a")
    await a.unreachable()
    for _ in range(100):
        if not pbx.pool.client("a").connected:
            break
        await asyncio.sleep(0.02)
    assert not pbx.reaches((), HOMED)  # no attempt row for a call to it
    assert pbx.reaches() and pbx.reaches((), "PJSIP/other") and not pbx.reaches(("a",))
    assert 5 == pbx.lines_free()
    with pytest.raises(PbxUnavailable):
        await pbx.queue_add(QUEUE, HOMED, member_name="Ann", paused=False)
    pbx.home(HOMED, "")  # the record says any server again
    assert pbx.reaches((), HOMED)
