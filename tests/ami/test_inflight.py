"""The in-flight audit's pure half: matching channel rows to calls, and resync from a list."""

from __future__ import annotations

from ami.framing import AmiMessage
from ami.inflight import attempts_on_pbx, calls_on_pbx
from ami.outcome import AgentConnected, AttemptMachine, Ended, Outcome
from tests.ami.test_outcome import AID, CID, TWO, _connected_call, _ev, _hangup, _run


def _row(uid: str, *, linked: str = CID, state: str = "6", bridge: str = "", channel: str = "") -> AmiMessage:
    return _ev(
        "CoreShowChannel",
        Channel=channel or f"chan-{uid}",
        Uniqueid=uid,
        Linkedid=linked,
        ChannelState=state,
        BridgeId=bridge,
    )


def _fresh() -> AttemptMachine:
    return AttemptMachine("T1", action_id=AID, channel_id=CID, started_at_s=0.0)


def test_rows_belong_to_a_call_by_its_halves_or_its_linkedid() -> None:
    rows = [_row(CID), _row(TWO), _row("1795.8"), _row("9.9", linked="9.9"), _row("dlr-T2", linked="dlr-T2")]
    found = attempts_on_pbx(rows, ["T1", "T3"])
    assert {"T1": [CID, TWO, "1795.8"]} == {a: [r.get("Uniqueid") for r in rs] for a, rs in found.items()}
    machine, _ = _run(_connected_call())
    assert {"T1": 3} == {a: len(rs) for a, rs in calls_on_pbx(rows, {"T1": machine}).items()}


def test_a_ringing_call_gone_from_the_list_ends_lost() -> None:
    machine, _ = _run([_ev("Newchannel", Channel="Local/1@dialer-out-1;1", Uniqueid=CID, Linkedid=CID)])
    [ended] = machine.resync([], 5.0)
    assert isinstance(ended, Ended) and Outcome.LOST is ended.outcome.outcome


def test_a_call_talking_to_its_agent_gone_from_the_list_ends_connected() -> None:
    machine, updates = _run(_connected_call())
    assert any(isinstance(u, AgentConnected) for u in updates)
    [ended] = machine.resync([], 50.0)
    assert isinstance(ended, Ended) and Outcome.CONNECTED is ended.outcome.outcome
    assert ended.outcome.talk_s is not None and ended.outcome.talk_s > 0


def test_an_adopted_call_bridged_to_its_agent_is_connected_with_that_agent() -> None:
    rows = [
        _row(CID, bridge="b1"),
        _row(TWO, bridge="b0"),
        _row("1795.8", bridge="b0"),
        _row("1795.9", bridge="b1", channel="PJSIP/agent3-00000003"),
    ]
    machine = _fresh()
    updates = machine.resync(rows, 1.0)
    [connected] = [u for u in updates if isinstance(u, AgentConnected)]
    assert "PJSIP/agent3" == connected.agent
    # the conversation ends with the usual hang-ups
    updates = []
    for i, uid in enumerate([TWO, CID, "1795.8", "1795.9"]):
        updates += machine.feed(_hangup(uid, 16), 10.0 + i)
    assert Outcome.CONNECTED is next(u for u in updates if isinstance(u, Ended)).outcome.outcome


def test_halves_gone_while_the_call_goes_on_is_an_optimisation_followed_to_the_last_channel() -> None:
    machine = _fresh()
    updates = machine.resync([_row("1795.8", bridge="b1"), _row("1795.9", bridge="b1")], 1.0)
    assert any(isinstance(u, AgentConnected) for u in updates)
    assert [] == machine.feed(_hangup("1795.9", 16), 2.0)
    [ended] = machine.feed(_hangup("1795.8", 16), 3.0)
    assert isinstance(ended, Ended) and Outcome.CONNECTED is ended.outcome.outcome


def test_a_hangup_missed_while_away_is_applied_from_the_list() -> None:
    # our ;1 left a waiting customer while we were away: the dialer dropped them (abandon)
    machine, _ = _run(_connected_call()[:6])
    before = machine.state
    machine.resync([_row(TWO), _row("1795.8")], 5.0)
    assert before is not machine.state
    [ended] = machine.feed(_hangup(TWO, 16), 6.0) + machine.feed(_hangup("1795.8", 16), 7.0)
    assert isinstance(ended, Ended)
