"""Faults injected by the simulated PBX: wrong secret, drop, restart, delay, garbage, silence."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from ami.client import AmiClient, ConnectionState
from ami.errors import AmiAuthError, AmiConnectionLost, AmiTimeout
from ami.outcome import AgentConnected, Answered, Outcome
from ami.simulator.population import PopulationParams
from ami.simulator.server import SimulatedPbx
from tests.ami.test_client import CALLER_ID, Recorder, server_config
from tests.invariants import all_checks, assert_settled, followed_without_channel


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., AmiClient]]:
    made: list[AmiClient] = []

    def make(
        port: int, *, secret: str = "dialer-secret", ping_interval_s: float = 20.0, **opts: Any
    ) -> AmiClient:
        opts.setdefault("rng", random.Random(5))
        opts.setdefault("backoff_initial_s", 0.02)
        opts.setdefault("backoff_max_s", 0.2)
        opts.setdefault("trunk_context", "sim-pstn")
        c = AmiClient(server_config(port, secret=secret, ping_interval_s=ping_interval_s), **opts)
        made.append(c)
        return c

    yield make
    for c in made:
        await c.terminate()


async def wait_for(pred: Callable[[], bool], wait_s: float = 5.0) -> None:
    async def poll() -> None:
        while not pred():  # noqa: ASYNC110 - polls state owned by the client, no event to await
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), wait_s)


async def test_wrong_secret_raises_auth_error_naming_server_and_user(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, secret="wrong-secret-xyz")
    with capture_logs() as logs, pytest.raises(AmiAuthError) as err:
        await client.connect()
    assert "'pbx1'" in str(err.value) and "'dialer'" in str(err.value)
    assert "wrong-secret-xyz" not in str(err.value)
    assert "wrong-secret-xyz" not in repr(logs)
    assert ["ami_login_failed"] == [e["event"] for e in logs if e["log_level"] == "error"]
    assert ConnectionState.DISCONNECTED is client.state
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_secret_is_never_logged_on_success(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port)
    with capture_logs() as logs:
        await client.connect()
        await client.ping()
    assert "dialer-secret" not in repr(logs)
    assert "ami_connected" in [e["event"] for e in logs]
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_unreachable_server_is_a_connection_error(make_client: Callable[..., AmiClient]) -> None:
    client = make_client(1)
    with pytest.raises(AmiConnectionLost, match="cannot connect"):
        await client.connect()


async def test_restart_mid_call_reconnects_and_reports_the_call_cut_by_the_shutdown(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await client.originate(
        "R1", "3005550001", campaign="c", queue="campaign1", caller_id=CALLER_ID, timeout_s=60
    )
    await asyncio.sleep(0.05)
    assert 1 == pbx.live_calls
    await pbx.restart(down_s=0.1)
    ended = await rec.ended("R1")
    # the call vanished after the Shutdown event: cut by the shutdown, not an unknown loss
    assert Outcome.PBX_SHUTDOWN == ended.outcome.outcome
    await wait_for(lambda: client.connected)
    assert (1, 0, 0) == (client.reconnects, client.last_uptime_s, client.in_flight)
    # and the reconnected client works
    await client.ping()
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_dropped_connection_keeps_tracking_a_call_that_still_exists(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    # 300... rings out after 100 simulated seconds = 1 s: longer than the reconnect takes
    await client.originate(
        "K1", "3005550001", campaign="c", queue="campaign1", caller_id=CALLER_ID, timeout_s=100
    )
    await asyncio.sleep(0.05)
    pbx.drop_connections()
    await wait_for(lambda: client.reconnects == 1 and client.connected)
    assert 1 == client.in_flight  # CoreShowChannels still lists it: not lost
    ended = await rec.ended("K1")
    assert Outcome.NO_ANSWER == ended.outcome.outcome
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_call_that_ended_while_disconnected_is_lost_not_forgotten(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, backoff_initial_s=0.3, backoff_max_s=0.3)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await client.originate(
        "G1", "3005550001", campaign="c", queue="campaign1", caller_id=CALLER_ID, timeout_s=10
    )
    await asyncio.sleep(0.02)
    pbx.drop_connections()
    # the call rings out after 0.1 s while the client waits >= 0.15 s to reconnect
    ended = await rec.ended("G1")
    assert Outcome.LOST == ended.outcome.outcome
    assert client.connected
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_in_flight_calls_end_lost_when_the_server_stays_away(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, lost_after_s=0.2)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await client.originate(
        "W1", "3005550001", campaign="c", queue="campaign1", caller_id=CALLER_ID, timeout_s=60
    )
    await pbx.close()
    ended = await rec.ended("W1")
    assert Outcome.LOST == ended.outcome.outcome
    assert not client.connected
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_close_reports_in_flight_attempts_lost(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await client.originate(
        "Z1", "3005550001", campaign="c", queue="campaign1", caller_id=CALLER_ID, timeout_s=60
    )
    await client.close()
    assert Outcome.LOST == (await rec.ended("Z1")).outcome.outcome
    assert ConnectionState.CLOSED is client.state
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_garbled_message_is_skipped_with_a_log_line(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    with capture_logs() as logs:
        pbx.send_garbled()
        await client.ping()  # the stream goes on after the garbage
    assert ["ami_message_garbled"] == [e["event"] for e in logs if e["event"] == "ami_message_garbled"]
    assert 1 == client.garbled_messages
    ended = await asyncio.gather(
        client.originate("B1", "2005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=5),
        rec.ended("B1"),
    )
    assert Outcome.BUSY == ended[1].outcome.outcome
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_delayed_responses_still_map_the_call(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    pbx.response_delay_s = 0.1  # the call's events overtake the Originate's response
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.originate("Y1", "2005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=5)
    assert loop.time() - started >= 0.1
    assert Outcome.BUSY == (await rec.ended("Y1")).outcome.outcome
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_response_slower_than_the_timeout_raises(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, action_timeout_s=0.05)
    await client.connect()
    pbx.response_delay_s = 0.3
    with pytest.raises(AmiTimeout):
        await client.ping()
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_ping_keep_alive_is_sent_every_interval(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, ping_interval_s=0.03)
    await client.connect()
    await wait_for(lambda: pbx.action_counts["ping"] >= 3, wait_s=2.0)
    assert client.connected
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_unanswered_ping_drops_and_reconnects(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, ping_interval_s=0.1)
    states: list[ConnectionState] = []
    client.add_state_listener(lambda _c, s: states.append(s))
    await client.connect()
    pbx.response_delay_s = 5.0  # a hung Asterisk: the ping gets no answer within its interval
    await wait_for(lambda: ConnectionState.BACKOFF in states, wait_s=4.0)
    pbx.response_delay_s = 0.0
    await wait_for(lambda: client.connected and client.reconnects >= 1, wait_s=4.0)
    await assert_settled(all_checks(pbx, clients=[client]))


async def test_decided_call_whose_last_hangup_never_comes_is_settled(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(pbx.port, settle_after_s=0.1)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    pbx.suppressed_events = {"Hangup"}  # the busy Reason arrives, the hang-ups never do
    with capture_logs() as logs:
        await client.originate("S1", "2005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=5)
        ended = await rec.ended("S1")
    assert Outcome.BUSY == ended.outcome.outcome
    assert "attempt_settled_without_hangup" in [e["event"] for e in logs]
    assert 0 == client.in_flight
    await assert_settled(all_checks(pbx, clients=[client]))


# -- calls followed through faults (issue 19 item 1) ----------------------------------------

TALKERS = PopulationParams(  # answer in 1 s, talk 20 s, unless hung up
    answer_p=1.0, machine_share=0.0, answer_median_s=1.0, answer_sigma=0.0, talk_median_s=20.0, talk_sigma=0.0
)


@pytest.fixture
async def talk_pbx() -> AsyncIterator[SimulatedPbx]:
    # 10x faster than real time: slow enough to drop the connection between the customer's
    # answer and the agent's (the agent's phone rings 1 s = 0.1 s here)
    sim = SimulatedPbx(time_scale=0.1, population=TALKERS, auth_fail_delay_s=0.05)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()


async def _reserved_call(client: AmiClient, attempt_id: str, until: type) -> Recorder:
    """Connect, place a call for a reserved agent, wait for its first ``until`` update."""
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    await client.originate(
        attempt_id,
        "+48500000501",
        campaign="c",
        queue="q",
        caller_id=CALLER_ID,
        timeout_s=60,
        agent="Local/agent1@sim-agents",
    )
    await wait_for(lambda: any(isinstance(u, until) for u in rec.updates), wait_s=3.0)
    return rec


async def test_a_call_optimised_while_disconnected_is_followed_to_its_real_end(
    talk_pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    # The connection drops after the customer answered; while it is down the agent answers
    # and Asterisk swaps our Local pair out (fact 11): the client misses the optimisation
    # and our halves' Hangups. The call goes on and must still end -- as connected -- when
    # the conversation does (before: it stayed in flight for ever).
    client = make_client(talk_pbx.port, backoff_initial_s=0.5, backoff_max_s=0.5, trunk_context="dialer-out")
    rec = await _reserved_call(client, "D1", until=Answered)
    talk_pbx.drop_connections()
    await wait_for(lambda: any(c.optimized for c in talk_pbx.calls_by_uid.values()), wait_s=3.0)
    await wait_for(lambda: client.connected and client.reconnects == 1, wait_s=3.0)
    assert 1 == client.in_flight  # re-tracked: the call is up
    assert [] == followed_without_channel(talk_pbx, [client])
    assert any(isinstance(u, AgentConnected) for u in rec.updates)  # learnt from the channel list
    ended = await rec.ended("D1", wait_s=5.0)
    assert Outcome.CONNECTED == ended.outcome.outcome
    assert ended.outcome.talk_s is not None and ended.outcome.talk_s > 1.0
    await assert_settled(all_checks(talk_pbx, clients=[client]))
    assert 0 == client.in_flight


async def test_a_quiet_call_whose_hangups_are_lost_is_ended_by_the_periodic_audit(
    talk_pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(talk_pbx.port, audit_every_s=0.1, audit_quiet_s=0.3, trunk_context="dialer-out")
    rec = await _reserved_call(client, "Q1", until=AgentConnected)
    talk_pbx.suppressed_events = {"Hangup"}  # the conversation's end is never told
    with capture_logs() as logs:
        ended = await rec.ended("Q1", wait_s=6.0)
    assert Outcome.CONNECTED == ended.outcome.outcome
    assert 0 == talk_pbx.live_calls  # it really was over
    assert "inflight_audit_ended" in [e["event"] for e in logs]
    assert client.audit.audits >= 2  # checked while quiet and still up, then gone
    await assert_settled(all_checks(talk_pbx, clients=[client]))


async def test_a_reconnect_audits_calls_placed_after_the_drop_too(
    pbx: SimulatedPbx, make_client: Callable[..., AmiClient]
) -> None:
    # every call followed is matched after a reconnect, not only the ones in flight at the
    # drop: a call whose Hangup is lost on the new connection is settled by the next audit
    client = make_client(pbx.port, audit_every_s=0.05, audit_quiet_s=0.2)
    rec = Recorder()
    client.add_update_listener(rec)
    await client.connect()
    pbx.drop_connections()
    await wait_for(lambda: client.connected and client.reconnects == 1)
    pbx.suppressed_events = {"Hangup", "OriginateResponse"}
    await client.originate("A1", "3005550001", campaign="c", queue="q", caller_id=CALLER_ID, timeout_s=10)
    ended = await rec.ended("A1", wait_s=3.0)  # rings out after 0.1 s; nothing says so
    assert Outcome.LOST == ended.outcome.outcome  # gone, and no evidence of how
    await assert_settled(all_checks(pbx, clients=[client]))
