"""The safety net for a call whose last Hangup never came (issue 17 item 1), over real sockets.

After a Local optimisation only the call's last channel ends it, and AgentComplete is ignored;
if that Hangup is lost the call would stay tracked forever. The simulator here loses every
Hangup and AgentComplete of a connected call; the client's in-flight audit (``ami.inflight``),
finding the call quiet, asks CoreShowChannels and ends it once none of its channels is left.
"""

from __future__ import annotations

from collections.abc import Callable

from ami.client import AmiClient
from ami.outcome import AgentConnected, Outcome
from ami.simulator.server import SimulatedPbx
from tests.ami.test_client import CALLER_ID, Recorder
from tests.ami.test_faults import make_client, wait_for

__all__ = ["make_client"]  # the fixture, shared with test_faults


async def test_a_connected_call_whose_end_was_missed_is_ended_once_its_channels_are_gone(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, audit_every_s=0.05, audit_quiet_s=0.03)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await client.originate(
        "Q1", "1005550001", campaign="c", queue="campaign1", caller_id=CALLER_ID, timeout_s=60
    )
    await wait_for(lambda: any(isinstance(u, AgentConnected) for u in rec.of("Q1")))
    pbx.suppressed_events |= {"Hangup", "AgentComplete"}
    alive_checks = pbx.action_counts["coreshowchannels"]
    await wait_for(lambda: pbx.live_calls == 0)  # the person hung up 8 s (80 ms) in: unseen
    ended = await rec.ended("Q1")

    assert pbx.action_counts["coreshowchannels"] > alive_checks  # looked for on the PBX
    assert (Outcome.CONNECTED, "Local/agent1@sim-agents") == (ended.outcome.outcome, ended.outcome.agent)
    assert ended.outcome.talk_s is not None and ended.outcome.talk_s >= 0.07
    assert 0 == client.in_flight
