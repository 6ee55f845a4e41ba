"""Outcome mapping: every real transcript maps to its header's outcome, through the router."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ami.errors import IllegalTransition
from ami.framing import AmiMessage
from ami.hangup_causes import hangup_cause
from ami.outcome import (
    _TRANSITIONS,
    AMD_CAUSE_HEADER,
    AMD_MACHINE,
    AMD_STATUS_HEADER,
    CONNECT_LIMIT_S,
    DIALER_VARIABLES,
    USER_EVENT_ABANDON,
    USER_EVENT_AMD,
    AgentConnected,
    Answered,
    AttemptMachine,
    CallOutcome,
    CallState,
    Ended,
    Outcome,
    Signal,
    transition,
)
from ami.replay import originate_ids, replay
from ami.routing import ATTEMPT_ID_HEADER, EventRouter
from ami.transcript import Transcript, load_transcript
from tests.ami.transcripts import TRANSCRIPTS_DIR, load, originate_paths


@pytest.mark.parametrize("path", originate_paths(), ids=lambda p: p.stem)
def test_transcript_maps_to_the_outcome_its_header_names(path: Path) -> None:
    transcript = load_transcript(path)
    assert transcript.outcome is not None, "an originate transcript must name its # Outcome:"

    result = replay(transcript)

    assert Outcome(transcript.outcome) == result.outcome.outcome
    assert isinstance(result.updates[-1], Ended)
    assert sum(isinstance(u, Ended) for u in result.updates) == 1


def test_connected_call_keeps_agent_times_and_codes() -> None:
    outcome = replay(load("originate-answer-agent")).outcome

    assert (Outcome.CONNECTED, 4, 16, "Normal Clearing") == (
        outcome.outcome,
        outcome.reason,
        outcome.cause,
        outcome.cause_txt,
    )
    assert "Local/agent1@sim-agents" == outcome.agent
    assert outcome.ring_s == pytest.approx(1.0, abs=0.05)
    assert outcome.wait_s == pytest.approx(1.0, abs=0.05)
    assert outcome.talk_s == pytest.approx(7.0, abs=0.1)
    assert "dlr-L0001-3" == outcome.uniqueid == outcome.linkedid


def test_optimised_local_pair_is_followed_to_the_real_end_of_the_conversation() -> None:
    # Fact 11: the ;1 named by our ChannelId hangs up at +2.046 s (after LocalOptimizationEnd
    # "Success: No"), the customer and the agent talk on until the last Hangup at +10.021 s.
    result = replay(load("originate-local-optimized-reserved-agent"))
    outcome = result.outcome

    assert (Outcome.CONNECTED, 4, 16, "Local/agent2@sim-agents") == (
        outcome.outcome,
        outcome.reason,
        outcome.cause,
        outcome.agent,
    )
    assert outcome.ring_s == pytest.approx(1.013, abs=0.002)
    assert outcome.wait_s == pytest.approx(0.992, abs=0.002)
    assert outcome.talk_s == pytest.approx(8.016, abs=0.002)
    assert outcome.ring_s + outcome.wait_s + outcome.talk_s == pytest.approx(10.021, abs=0.002)
    assert "dlr-2" == outcome.uniqueid == outcome.linkedid
    assert ["Answered", "AgentConnected", "Ended"] == [type(u).__name__ for u in result.updates]


def test_busy_keeps_the_far_end_cause_from_the_second_half() -> None:
    # Fact 2: the ;1 half says cause 0 "Unknown"; the real cause 17 is on ;2, after the
    # OriginateResponse.
    outcome = replay(load("originate-busy")).outcome

    assert (Outcome.BUSY, 5, 17) == (outcome.outcome, outcome.reason, outcome.cause)
    assert outcome.agent is None and outcome.wait_s is None and outcome.talk_s is None


def test_amd_human_reports_progress_in_contract_order() -> None:
    updates = replay(load("originate-amd-human")).updates

    assert ["Answered", "AmdDetected", "AgentConnected", "Ended"] == [type(u).__name__ for u in updates]
    answered, amd, connected = updates[0], updates[1], updates[2]
    assert isinstance(answered, Answered) and isinstance(connected, AgentConnected)
    assert ("HUMAN", "HUMAN-800-800") == (amd.status, amd.cause)  # type: ignore[union-attr]
    assert connected.wait_s == pytest.approx(connected.at_s - answered.at_s)


def test_machine_keeps_amd_status_and_cause() -> None:
    outcome = replay(load("originate-amd-machine")).outcome

    assert (Outcome.MACHINE, "MACHINE", "LONGGREETING-1500-1500") == (
        outcome.outcome,
        outcome.amd_status,
        outcome.amd_cause,
    )


# --------------------------------------------------------------------------- the table


def test_every_live_state_has_a_transition_for_every_signal() -> None:
    missing = [
        (state, signal)
        for state in CallState
        if state is not CallState.ENDED
        for signal in Signal
        if (state, signal) not in _TRANSITIONS
    ]
    assert [] == missing


def test_stepping_past_the_end_is_an_illegal_transition() -> None:
    with pytest.raises(IllegalTransition) as err:
        transition(CallState.ENDED, Signal.ANSWER)
    assert (CallState.ENDED, Signal.ANSWER) == (err.value.state, err.value.signal)


# --------------------------------------------------------------------------- hand-built calls
# What the transcripts lack, scripted with the headers real Asterisk uses on each event.

CID = "dlr-T1"
AID = "dlr-T1"
TWO = CID + ";2"


def _ev(name: str, *pairs: tuple[str, str], **headers: str) -> AmiMessage:
    return AmiMessage((("Event", name), *pairs, *headers.items()))


def _chan(uid: str, **headers: str) -> dict[str, str]:
    return {"Uniqueid": uid, "Linkedid": CID, **headers}


def _newchannels(channel: str = "Local/100555@dialer-out-00000001") -> list[AmiMessage]:
    if not channel.startswith("Local/"):
        return [_ev("Newchannel", Channel=channel, ChannelState="0", **_chan(CID))]
    return [
        _ev("Newchannel", Channel=f"{channel};1", ChannelState="0", **_chan(CID)),
        _ev("Newchannel", Channel=f"{channel};2", ChannelState="4", **_chan(TWO)),
    ]


def _answer() -> list[AmiMessage]:
    return [
        _ev("Newstate", ChannelState="6", ChannelStateDesc="Up", **_chan(CID)),
        _ev("DialEnd", DestUniqueid=CID, DestLinkedid=CID, DialStatus="ANSWER"),
        _ev(
            "OriginateResponse",
            ActionID=AID,
            Response="Success",
            Reason="4",
            Uniqueid=CID,
            Channel="Local/100555@dialer-out-00000001;1",
        ),
    ]


def _hangup(uid: str, cause: int) -> AmiMessage:
    return _ev("Hangup", Cause=str(cause), **{"Cause-txt": hangup_cause(cause).text}, **_chan(uid))


def _failure(reason: int, channel: str = "Local/100555@dialer-out") -> AmiMessage:
    return _ev(
        "OriginateResponse",
        ActionID=AID,
        Response="Failure",
        Channel=channel,
        Reason=str(reason),
        Uniqueid=CID,
    )


def _run(messages: list[AmiMessage]) -> tuple[AttemptMachine, list[object]]:
    machine = AttemptMachine("T1", action_id=AID, channel_id=CID, started_at_s=0.0)
    updates: list[object] = []
    for i, msg in enumerate(messages):
        updates.extend(machine.feed(msg, float(i)))
    return machine, updates


def _failed_call(reason: int, cause: int) -> list[AmiMessage]:
    # The far end's cause on ;2, ours 0, OriginateResponse in between (as in the captures).
    return [*_newchannels(), _hangup(CID, 0), _failure(reason), _hangup(TWO, cause)]


@pytest.mark.parametrize(
    ("reason", "cause", "expected"),
    [
        (1, 21, Outcome.FAILED),  # call rejected by the network/trunk (403 and friends)
        (5, 21, Outcome.BUSY),  # a person declining: chan_pjsip signals busy for 603
        (0, 3, Outcome.FAILED),  # no route to destination
        (0, 27, Outcome.FAILED),  # destination out of order
        (0, 38, Outcome.FAILED),  # network out of order
        (1, 16, Outcome.NO_ANSWER),  # offered, then cleared normally before answering
        (0, 16, Outcome.FAILED),  # never reached (no control frame) with a normal cause
        (1, 19, Outcome.NO_ANSWER),
        (0, 17, Outcome.BUSY),
        (1, 17, Outcome.BUSY),
        (0, 34, Outcome.CONGESTION),
        (1, 42, Outcome.CONGESTION),
        (0, 0, Outcome.FAILED),
        (0, 1, Outcome.INVALID_NUMBER),
        (1, 28, Outcome.INVALID_NUMBER),
        (8, 1, Outcome.INVALID_NUMBER),  # a trunk re-signalling an unallocated number as congestion
        (1, 20, Outcome.NO_ANSWER),  # subscriber absent
        (0, 250, Outcome.FAILED),  # a cause not in the table
    ],
)
def test_failed_originate_maps_reason_and_far_end_cause(reason: int, cause: int, expected: Outcome) -> None:
    machine, updates = _run(_failed_call(reason, cause))

    assert machine.outcome is not None
    assert (expected, reason, cause) == (
        machine.outcome.outcome,
        machine.outcome.reason,
        machine.outcome.cause,
    )
    assert [Ended] == [type(u) for u in updates]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("BUSY", Outcome.BUSY), ("CONGESTION", Outcome.CONGESTION), ("NOANSWER", Outcome.FAILED)],
)
def test_dial_status_decides_only_when_reason_and_cause_say_nothing(status: str, expected: Outcome) -> None:
    trunk_dial_end = _ev("DialEnd", DestUniqueid="1795.3", DialStatus=status, **_chan(TWO))
    machine, _ = _run([*_newchannels(), trunk_dial_end, _hangup(CID, 0), _failure(0), _hangup(TWO, 0)])

    assert machine.outcome is not None and expected == machine.outcome.outcome


def test_failure_waits_for_the_far_end_cause_after_the_originate_response() -> None:
    machine, updates = _run([*_newchannels(), _hangup(CID, 0), _failure(5)])
    assert [] == updates and not machine.done

    assert machine.feed(_hangup(TWO, 17), 9.0)
    assert machine.outcome is not None and 17 == machine.outcome.cause


def test_single_channel_trunk_keeps_its_own_cause() -> None:
    machine, _ = _run(
        [
            *_newchannels("PJSIP/100555@operator-00000001"),
            _hangup(CID, 17),
            _failure(5, "PJSIP/100555@operator"),
        ]
    )

    assert machine.outcome is not None
    assert (Outcome.BUSY, 17) == (machine.outcome.outcome, machine.outcome.cause)


def test_originate_that_never_made_a_channel_fails_at_once() -> None:
    msg = _ev(
        "OriginateResponse",
        ActionID=AID,
        Response="Failure",
        Channel="PJSIP/1@nowhere",
        Reason="0",
        Uniqueid=CID,  # echoed from ChannelId even though no channel was created
    )
    machine, _ = _run([msg])

    assert machine.outcome is not None
    assert (Outcome.FAILED, 0, None) == (
        machine.outcome.outcome,
        machine.outcome.reason,
        machine.outcome.cause,
    )


def test_originate_action_rejected_ends_failed() -> None:
    machine, _ = _run([AmiMessage.of(Response="Error", ActionID=AID, Message="Originate failed")])

    assert machine.outcome is not None
    assert (Outcome.FAILED, None) == (machine.outcome.outcome, machine.outcome.reason)


def _agent_dial(agent: str, dest: str = "1795.77") -> list[AmiMessage]:
    # Our ;1 half dialling a reserved agent directly (dialer-connect with DIALER_AGENT set).
    return [
        _ev(
            "DialBegin",
            DestUniqueid=dest,
            DestChannel=f"{agent}-0000002a",
            DialString=agent[6:],
            **_chan(CID),
        ),
        _ev("DialEnd", DestUniqueid=dest, DestChannel=f"{agent}-0000002a", DialStatus="ANSWER", **_chan(CID)),
    ]


def test_amd_human_then_reserved_agent_without_a_queue_is_connected() -> None:
    amd = _ev("UserEvent", UserEvent="DialerAMD", AMDStatus="HUMAN", AMDCause="HUMAN-300-300", **_chan(CID))
    machine, updates = _run(
        [*_newchannels(), *_answer(), amd, *_agent_dial("PJSIP/agent7"), _hangup(TWO, 16), _hangup(CID, 16)]
    )

    assert ["Answered", "AmdDetected", "AgentConnected", "Ended"] == [type(u).__name__ for u in updates]
    out = machine.outcome
    assert out is not None
    assert (Outcome.CONNECTED, "PJSIP/agent7", "HUMAN", 16) == (
        out.outcome,
        out.agent,
        out.amd_status,
        out.cause,
    )
    # answered at message 2 (Newstate Up), agent at 7 (DialEnd), customer hung up at 8
    assert (2.0, 5.0, 1.0) == (out.ring_s, out.wait_s, out.talk_s)


def _varset(variable: str, value: str) -> AmiMessage:
    return _ev("VarSet", Variable=variable, Value=value, **_chan(CID))


def test_amd_result_from_varset_when_the_dialplan_class_is_granted() -> None:
    machine, updates = _run(
        [
            *_newchannels(),
            *_answer(),
            _varset("AMDSTATUS", "MACHINE"),
            _varset("AMDCAUSE", "LONGGREETING-1500-1500"),
            _hangup(CID, 16),
            _hangup(TWO, 16),
        ]
    )
    out = machine.outcome
    assert out is not None
    assert (Outcome.MACHINE, "MACHINE", "LONGGREETING-1500-1500") == (
        out.outcome,
        out.amd_status,
        out.amd_cause,
    )
    assert ["Answered", "AmdDetected", "Ended"] == [type(u).__name__ for u in updates]


def test_varset_and_user_event_report_amd_once() -> None:
    amd = _ev("UserEvent", UserEvent="DialerAMD", AMDStatus="HUMAN", AMDCause="HUMAN-800-800", **_chan(CID))
    _, updates = _run(
        [
            *_newchannels(),
            *_answer(),
            _varset("AMDSTATUS", "HUMAN"),
            _varset("AMDCAUSE", "HUMAN-800-800"),
            amd,
        ]
    )
    assert 1 == sum(type(u).__name__ == "AmdDetected" for u in updates)


def test_reserved_agent_that_does_not_answer_is_an_abandon() -> None:
    abandon = _ev("UserEvent", UserEvent="DialerAbandon", QueueStatus="NOANSWER", **_chan(CID))
    machine, _ = _run([*_newchannels(), *_answer(), abandon, _hangup(CID, 16), _hangup(TWO, 16)])

    assert machine.outcome is not None and Outcome.ABANDONED == machine.outcome.outcome
    assert machine.outcome.info_message  # the dialplan announced it, right before the message


def _queue(event: str, **extra: str) -> AmiMessage:
    return _ev(event, Queue="campaign1", **_chan(CID), **extra)


def test_queue_abandon_after_the_customer_hung_up_is_hangup_waiting() -> None:
    machine, _ = _run(
        [
            *_newchannels(),
            *_answer(),
            _queue("QueueCallerJoin"),
            _hangup(TWO, 16),
            _queue("QueueCallerAbandon", HoldTime="1"),
            _hangup(CID, 16),
        ]
    )
    assert machine.outcome is not None and Outcome.HANGUP_WAITING == machine.outcome.outcome


def test_queue_abandon_then_customer_hangup_without_our_event_is_hangup_waiting() -> None:
    machine, _ = _run(
        [
            *_newchannels(),
            *_answer(),
            _queue("QueueCallerJoin"),
            _queue("QueueCallerAbandon"),
            _hangup(TWO, 16),
            _hangup(CID, 16),
        ]
    )
    assert machine.outcome is not None and Outcome.HANGUP_WAITING == machine.outcome.outcome


def test_queue_abandon_then_our_half_hanging_up_first_is_abandoned() -> None:
    machine, _ = _run(
        [
            *_newchannels(),
            *_answer(),
            _queue("QueueCallerJoin"),
            _queue("QueueCallerAbandon", HoldTime="2"),
            _hangup(CID, 16),
            _hangup(TWO, 16),
        ]
    )
    out = machine.outcome
    assert out is not None and Outcome.ABANDONED == out.outcome
    assert 4.0 == out.wait_s  # answered at 2 (Newstate Up), the queue gave up at 6
    assert not out.info_message  # no DialerAbandon: nothing says the message played


def _connected_call() -> list[AmiMessage]:
    return [
        *_newchannels(),
        # the trunk leg dialled by the ;2 half: another channel of the same call
        _ev("Newchannel", Channel="PJSIP/operator-00000002", **_chan("1795.8")),
        *_answer(),
        _ev("Newchannel", Channel="PJSIP/agent3-00000003", **_chan("1795.9")),
        _queue("QueueCallerJoin"),
        _queue("AgentCalled", DestUniqueid="1795.9", Interface="PJSIP/agent3", MemberName="Three"),
        _queue("AgentConnect", DestUniqueid="1795.9", Interface="PJSIP/agent3", HoldTime="1", RingTime="1"),
    ]


def test_connection_lost_mid_call_ends_lost_with_what_was_known() -> None:
    machine, _ = _run(_connected_call())
    assert not machine.done

    lost = machine.lost(99.0)

    assert 1 == len(lost) and isinstance(lost[0], Ended)
    out = lost[0].outcome
    assert (Outcome.LOST, 4, "PJSIP/agent3") == (out.outcome, out.reason, out.agent)
    assert [] == machine.lost(100.0)
    assert [] == machine.feed(_hangup(TWO, 16), 101.0)


def test_optimised_local_channel_ends_with_the_calls_last_channel_not_its_halves() -> None:
    optimise = _ev("LocalOptimizationBegin", LocalOneUniqueid=CID, LocalTwoUniqueid=TWO, Id="1")
    complete = _ev(
        "AgentComplete",
        Queue="campaign1",
        Interface="PJSIP/agent3",
        TalkTime="30",
        Reason="caller",
        Uniqueid="1795.50",
        Linkedid=CID,
    )
    machine, _ = _run([*_connected_call(), optimise, _hangup(CID, 16), _hangup(TWO, 16)])
    assert not machine.done

    # Queue() may report the optimised-away ;1 leaving as AgentComplete (fact 11): not the end
    machine.feed(complete, 40.0)
    assert not machine.done
    machine.feed(_hangup("1795.8", 16), 41.0)
    machine.feed(_hangup("1795.9", 16), 41.0)

    out = machine.outcome
    assert out is not None and (Outcome.CONNECTED, "PJSIP/agent3") == (out.outcome, out.agent)


def test_an_optimised_agent_local_pair_does_not_end_the_call_with_its_agent_complete() -> None:
    # A Local queue member (Local/agent3@agents, channels 1795.9;1 = "1795.9", ;2 = "1795.10")
    # is optimised away: Queue() may then report AgentComplete while the agent still talks.
    member = [
        _ev("Newchannel", Channel="Local/agent3@agents-00000003;2", **_chan("1795.10")),
        _ev(
            "LocalOptimizationBegin",
            LocalOneUniqueid="1795.9",
            LocalOneLinkedid=CID,
            LocalTwoUniqueid="1795.10",
            LocalTwoLinkedid=CID,
            Id="2",
        ),
        _ev("Newchannel", Channel="PJSIP/agent3-00000004", **_chan("1795.11")),
        _hangup("1795.9", 16),
        _hangup("1795.10", 16),
        _queue("AgentComplete", Interface="Local/agent3@agents", TalkTime="0", Reason="agent"),
    ]
    machine, updates = _run([*_connected_call(), *member])
    assert not machine.done
    (connected,) = [u for u in updates if isinstance(u, AgentConnected)]

    for uid in (TWO, CID, "1795.8"):
        machine.feed(_hangup(uid, 16), 70.0)
    assert not machine.done  # the agent's phone is still up
    machine.feed(_hangup("1795.11", 16), 80.0)

    out = machine.outcome
    assert out is not None
    assert (Outcome.CONNECTED, 80.0 - connected.at_s) == (out.outcome, out.talk_s)


def test_optimised_call_without_a_queue_ends_when_its_last_channel_hangs_up() -> None:
    optimise = _ev("LocalOptimizationBegin", LocalOneUniqueid=CID, LocalTwoUniqueid=TWO, Id="1")
    call = [m for m in _connected_call() if m.event not in ("QueueCallerJoin", "AgentCalled", "AgentConnect")]
    call += _agent_dial("PJSIP/agent3", dest="1795.9")
    machine, _ = _run([*call, optimise, _hangup(CID, 16), _hangup(TWO, 16), _hangup("1795.8", 16)])
    assert not machine.done

    machine.feed(_hangup("1795.9", 16), 50.0)

    out = machine.outcome
    assert out is not None and (Outcome.CONNECTED, "PJSIP/agent3") == (out.outcome, out.agent)


def test_local_optimisation_end_saying_no_does_not_make_the_halves_the_call() -> None:
    # Fact 11: Asterisk 22 reports Success: No even when the swap worked; the halves then
    # hang up while the trunk leg (1795.8) and the agent (1795.9) go on talking.
    begin = _ev("LocalOptimizationBegin", LocalOneUniqueid=CID, LocalTwoUniqueid=TWO, Id="1")
    end = _ev("LocalOptimizationEnd", LocalOneUniqueid=CID, LocalTwoUniqueid=TWO, Id="1", Success="No")
    machine, updates = _run([*_connected_call(), begin, end, _hangup(TWO, 16), _hangup(CID, 16)])
    assert not machine.done
    (connected,) = [u for u in updates if isinstance(u, AgentConnected)]

    machine.feed(_hangup("1795.8", 16), 40.0)
    assert not machine.done
    machine.feed(_hangup("1795.9", 16), 40.5)

    out = machine.outcome
    assert out is not None
    assert (Outcome.CONNECTED, 40.5 - connected.at_s) == (out.outcome, out.talk_s)


def test_a_swap_that_really_failed_ends_when_the_whole_call_hangs_up() -> None:
    # A swap that failed leaves the halves in the call: they hang up together with the other
    # channels when the conversation ends, and that is when the attempt ends.
    begin = _ev("LocalOptimizationBegin", LocalOneUniqueid=CID, LocalTwoUniqueid=TWO, Id="1")
    end = _ev("LocalOptimizationEnd", LocalOneUniqueid=CID, LocalTwoUniqueid=TWO, Id="1", Success="No")
    hangups = [_hangup("1795.8", 16), _hangup(TWO, 16), _hangup(CID, 16), _hangup("1795.9", 16)]
    machine, _ = _run([*_connected_call(), begin, end, *hangups])

    assert machine.outcome is not None and Outcome.CONNECTED == machine.outcome.outcome


def test_a_bridge_swap_of_our_half_counts_as_optimisation_without_its_begin() -> None:
    swap = _ev("BridgeEnter", BridgeUniqueid="b-1", Uniqueid="1795.8", Linkedid=CID, SwapUniqueid=CID)
    machine, _ = _run([*_connected_call(), swap, _hangup(TWO, 16), _hangup(CID, 16)])
    assert not machine.done

    machine.feed(_hangup("1795.8", 16), 40.0)
    machine.feed(_hangup("1795.9", 16), 40.0)

    assert machine.outcome is not None and Outcome.CONNECTED == machine.outcome.outcome


def test_settle_ends_a_decided_call_with_its_outcome_and_an_undecided_one_lost() -> None:
    decided, _ = _run([*_newchannels(), _hangup(CID, 0), _failure(5)])  # ;2 Hangup never came
    assert decided.decided and not decided.done
    (ended,) = decided.settle(30.0)
    assert isinstance(ended, Ended) and (Outcome.BUSY, 5) == (ended.outcome.outcome, ended.outcome.reason)

    undecided, _ = _run(_connected_call())
    assert not undecided.decided
    (ended,) = undecided.settle(30.0)
    assert isinstance(ended, Ended) and Outcome.LOST == ended.outcome.outcome
    assert [] == undecided.settle(31.0)


def test_unknown_events_and_garbage_headers_are_ignored() -> None:
    machine, updates = _run(
        [
            _ev("SomethingNew", Uniqueid=CID),
            _ev("Hangup", Uniqueid=CID, Cause="not-a-number"),
            _ev("OriginateResponse", ActionID="someone-else", Reason="5", Uniqueid="x"),
            AmiMessage.of(Response="Success", ActionID="someone-else"),
        ]
    )
    assert [] == updates and CallState.DIALING == machine.state


# --------------------------------------------------------------------------- properties

_ORIGINATES = [load_transcript(p) for p in originate_paths()]


def _received(t: Transcript) -> list[tuple[float, AmiMessage]]:
    return [(e.at_s, e.message) for e in t.received() if isinstance(e.message, AmiMessage)]


def _essence(o: CallOutcome) -> tuple[object, ...]:
    return (o.outcome, o.reason, o.cause, o.agent, o.amd_status)


def _feed_all(t: Transcript, stream: list[tuple[float, AmiMessage]]) -> CallOutcome | None:
    action_id, channel_id, started = originate_ids(t)
    router = EventRouter()
    router.register("a", action_id=action_id, channel_id=channel_id)
    machine = AttemptMachine("a", action_id=action_id, channel_id=channel_id, started_at_s=started)
    for at_s, msg in stream:
        if router.route(msg) == "a":
            machine.feed(msg, at_s)
    return machine.outcome


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(_ORIGINATES) - 1), position=st.floats(0.0, 1.0))
def test_moving_the_originate_response_anywhere_keeps_the_outcome(index: int, position: float) -> None:
    # Anywhere after our channel is announced: Asterisk publishes Newchannel when it creates
    # the channel, before dialling starts, so no outcome can precede it.
    t = _ORIGINATES[index]
    stream = _received(t)
    _, channel_id, _ = originate_ids(t)
    k = next(i for i, (_, m) in enumerate(stream) if m.event == "OriginateResponse")
    _, response = stream.pop(k)
    first = 1 + next(
        i for i, (_, m) in enumerate(stream) if m.event == "Newchannel" and m.get("Uniqueid") == channel_id
    )
    where = first + round(position * (len(stream) - first))
    stream.insert(where, (stream[where - 1][0], response))

    moved = _feed_all(t, stream)

    assert moved is not None
    assert _essence(replay(t).outcome) == _essence(moved)


@settings(max_examples=60, deadline=None)
@given(
    pair=st.tuples(st.integers(0, len(_ORIGINATES) - 1), st.integers(0, len(_ORIGINATES) - 1)).filter(
        lambda p: p[0] != p[1]
    ),
    choices=st.lists(st.booleans(), min_size=200, max_size=200),
)
def test_another_calls_events_interleaved_never_change_either_outcome(
    pair: tuple[int, int], choices: list[bool]
) -> None:
    a, b = _ORIGINATES[pair[0]], _ORIGINATES[pair[1]]
    sa, sb = _received(a), _received(b)
    merged: list[tuple[str, AmiMessage]] = []
    ia = ib = 0
    for pick_a in choices + [True] * (len(sa) + len(sb)):
        if (pick_a and ia < len(sa)) or ib >= len(sb):
            if ia < len(sa):
                merged.append(("a", sa[ia][1]))
                ia += 1
        else:
            merged.append(("b", sb[ib][1]))
            ib += 1
    router = EventRouter()
    machines = {}
    for key, t in (("a", a), ("b", b)):
        action_id, channel_id, _ = originate_ids(t)
        router.register(key, action_id=action_id, channel_id=channel_id)
        machines[key] = AttemptMachine(key, action_id=action_id, channel_id=channel_id, started_at_s=0.0)

    for step, (origin, msg) in enumerate(merged):
        target = router.route(msg)
        if target is not None:
            assert origin == target, f"{msg.event} of call {origin} routed to {target}"
            machines[target].feed(msg, float(step))

    for key, t in (("a", a), ("b", b)):
        out = machines[key].outcome
        assert out is not None
        assert _essence(replay(t).outcome) == _essence(out)


_ALL_RECEIVED = [m for t in _ORIGINATES for _, m in _received(t)]


@settings(max_examples=40, deadline=None)
@given(
    index=st.integers(0, len(_ORIGINATES) - 1), extra=st.lists(st.sampled_from(_ALL_RECEIVED), max_size=30)
)
def test_nothing_comes_out_after_ended(index: int, extra: list[AmiMessage]) -> None:
    t = _ORIGINATES[index]
    action_id, channel_id, started = originate_ids(t)
    machine = AttemptMachine("a", action_id=action_id, channel_id=channel_id, started_at_s=started)
    for at_s, msg in _received(t):
        machine.feed(msg, at_s)
    final = machine.outcome
    assert final is not None

    for msg in [*extra, *(m for _, m in _received(t))]:
        assert [] == machine.feed(msg, 1e6)
    assert [] == machine.lost(1e6)
    assert final == machine.outcome


# --------------------------------------------------------------------------- the dialplan
# asterisk-conf/extensions.conf raises the UserEvents and reads the variables this module
# names; parse the conf text so the two cannot drift apart.

CONF = Path(__file__).resolve().parents[2] / "asterisk-conf"
_USER_EVENT = re.compile(r"UserEvent\((\w+)((?:,[^)]*)?)\)")


def _dialplan(path: Path) -> str:
    return "\n".join(line.split(";", 1)[0] for line in path.read_text().splitlines())


def _user_events(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, rest in _USER_EVENT.findall(text):
        headers = {part.split(":", 1)[0].strip() for part in rest.split(",") if ":" in part}
        found.setdefault(name, set()).update(headers)
    return found


def test_dialplan_user_events_carry_the_headers_the_machine_reads() -> None:
    events = _user_events(_dialplan(CONF / "extensions.conf"))

    assert {USER_EVENT_AMD, USER_EVENT_ABANDON} == set(events)
    assert {AMD_STATUS_HEADER, AMD_CAUSE_HEADER, ATTEMPT_ID_HEADER} <= events[USER_EVENT_AMD]
    assert ATTEMPT_ID_HEADER in events[USER_EVENT_ABANDON]


def test_captured_dialplan_uses_the_same_user_event_names() -> None:
    events = _user_events(_dialplan(TRANSCRIPTS_DIR / "asterisk-etc" / "extensions.conf"))

    assert {USER_EVENT_AMD, USER_EVENT_ABANDON} == set(events)
    assert {AMD_STATUS_HEADER, AMD_CAUSE_HEADER} <= events[USER_EVENT_AMD]


def test_dialplan_reads_exactly_the_engine_variables_it_is_given() -> None:
    text = _dialplan(CONF / "extensions.conf")
    referenced = set(re.findall(r"\$\{(DIALER_\w+)\}", text))
    globals_ = set(re.findall(r"^(DIALER_\w+)=", text, re.MULTILINE))
    set_here = set(re.findall(r"Set\((DIALER_\w+)=", text))

    assert set(DIALER_VARIABLES) <= referenced
    assert set() == referenced - set(DIALER_VARIABLES) - globals_ - set_here
    assert f'"${{AMDSTATUS}}"="{AMD_MACHINE}"' in text
    assert f'${{DIALER_QUEUE_TIMEOUT}}"=""]?{CONNECT_LIMIT_S}:' in text


def test_manager_user_has_least_privilege_and_no_secret_in_git() -> None:
    text = _dialplan(CONF / "manager-dialer.conf")
    values = dict(re.findall(r"^(\w+)\s*=\s*(.*?)\s*$", text, re.MULTILINE))

    assert {"system", "call", "agent", "user"} == set(values["read"].split(","))
    assert {"originate", "call", "agent", "reporting"} == set(values["write"].split(","))
    assert "secret" not in values
    # the secret is appended to this very file on install: a missing #include'd file would
    # leave Asterisk 22 with a user without its permit/deny (asterisk-conf/README.md)
    assert "#include" not in text and "#tryinclude" not in text
    assert (values["deny"], values["permit"]) == ("0.0.0.0/0.0.0.0", "127.0.0.1/255.255.255.255")


def test_campaign_queue_lets_the_connect_limit_win() -> None:
    text = _dialplan(CONF / "queues.conf")
    assert re.search(r"^timeoutpriority\s*=\s*app\s*$", text, re.MULTILINE)
    assert re.search(r"^persistentmembers\s*=\s*no\s*$", text, re.MULTILINE)
