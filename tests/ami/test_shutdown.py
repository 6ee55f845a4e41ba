"""A PBX shutting down under the client (issue 17 item 4), over real sockets to the simulator.

The simulator's :meth:`~ami.simulator.server.SimulatedPbx.shutdown` does what asterisk.c does
on ``core restart now``: actions refused "Asterisk is shutting down", every channel hung up,
then ``Event: Shutdown`` and EOF. The calls it cut end before the event, looking like a
person who left the queue and a ring the far end let go; the client must still report them as
cut by the shutdown, refuse to be picked for new calls, and be usable again after the restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from ami.client import AmiClient, ConnectionState
from ami.errors import AmiActionFailed, AmiNotConnected
from ami.outcome import Ended, Outcome
from ami.shutdown import is_shutdown_refusal
from ami.simulator.server import SimulatedPbx
from tests.ami.test_client import CALLER_ID, Recorder
from tests.ami.test_faults import make_client, wait_for

__all__ = ["make_client"]  # the fixture, shared with test_faults


async def _originate(client: AmiClient, attempt_id: str, number: str, queue: str) -> None:
    await client.originate(
        attempt_id,
        number,
        campaign="c",
        queue=queue,
        caller_id=CALLER_ID,
        timeout_s=60,
        queue_timeout_s=1000.0,  # 10 s of real time: the person waits in the queue
    )


async def test_calls_cut_by_a_restart_end_as_pbx_shutdown_and_the_client_comes_back(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port)
    rec = Recorder()
    states: list[ConnectionState] = []
    client.add_update_listener(rec)
    client.add_state_listener(lambda _c, state: states.append(state))
    await client.connect()
    await _originate(client, "W1", "1005550001", "campaign-empty")  # answers, waits: no agents
    await _originate(client, "R1", "3005550002", "campaign-empty")  # rings on
    await wait_for(lambda: any(getattr(u, "attempt_id", None) == "W1" for u in rec.updates))
    await asyncio.sleep(0.05)  # W1 is in the queue now

    shutdown = asyncio.ensure_future(pbx.shutdown(restart=True, down_s=0.2, gap_s=0.3))
    await wait_for(lambda: pbx.shutting_down)
    # The channels are hung up, the Shutdown event is yet to come: the endings are held, and
    # the first Originate is refused, which is the client's first sign.
    held = [u for u in rec.updates if isinstance(u, Ended)]
    with pytest.raises(AmiActionFailed) as refused:
        await _originate(client, "X1", "2005550003", "campaign-empty")
    waiting, ringing = await rec.ended("W1"), await rec.ended("R1")
    during = (client.connected, client.shutting_down, client.state)
    with pytest.raises(AmiNotConnected):  # the client knows now: nothing more goes out
        await _originate(client, "X2", "2005550004", "campaign-empty")
    await shutdown
    await wait_for(lambda: client.connected)
    await _originate(client, "B1", "2005550005", "campaign-empty")
    busy = await rec.ended("B1")

    assert [] == held
    assert (Outcome.PBX_SHUTDOWN, Outcome.PBX_SHUTDOWN) == (waiting.outcome.outcome, ringing.outcome.outcome)
    assert is_shutdown_refusal(refused.value.message)
    assert (False, True, ConnectionState.SHUTTING_DOWN) == during
    assert ConnectionState.SHUTTING_DOWN in states
    assert {"originate": 1} == dict(pbx.refused_actions)
    assert (False, 0, Outcome.BUSY) == (client.shutting_down, client.last_uptime_s, busy.outcome.outcome)
    assert [] == [u for u in rec.updates if isinstance(u, Ended) and u.outcome.attempt_id.startswith("X")]


async def test_a_person_leaving_the_queue_without_a_shutdown_is_still_hangup_waiting(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, shutdown_grace_s=0.05)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await _originate(client, "H1", "6005550005", "campaign-empty")  # answers, hangs up 1 s later

    ended = await rec.ended("H1")

    assert Outcome.HANGUP_WAITING == ended.outcome.outcome  # held for the grace, then as it was
    assert not client.shutting_down


async def test_a_shutdown_event_relabels_an_ending_held_for_the_grace(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, shutdown_grace_s=5.0)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await _originate(client, "H2", "6005550006", "campaign-empty")
    await wait_for(lambda: client.in_flight == 0)  # decided and held: not delivered yet
    held = [u for u in rec.of("H2") if isinstance(u, Ended)]

    await pbx.shutdown(restart=False, gap_s=0.0)
    ended = await rec.ended("H2", wait_s=2.0)  # the event, not the 5 s grace, releases it

    assert [] == held
    assert Outcome.PBX_SHUTDOWN == ended.outcome.outcome
