"""Queue/agent events from real captures become agent updates; everything else is None."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ami.agent_events import (
    AGENT_EVENTS,
    AgentCallEvent,
    AgentCallKind,
    AgentStateChange,
    DeviceState,
    MemberChange,
    agent_event,
)
from ami.framing import AmiMessage
from tests.ami.transcripts import load, transcript_paths


def _updates(name: str) -> list[AgentStateChange | AgentCallEvent]:
    out = []
    for e in load(name).received():
        if isinstance(e.message, AmiMessage):
            update = agent_event(e.message, e.at_s)
            if update is not None:
                out.append(update)
    return out


def test_queue_member_admin_capture() -> None:
    updates = _updates("queue-member-admin")

    assert [
        (MemberChange.ADDED, False, None),
        (MemberChange.PAUSE, True, "lunch"),
        (MemberChange.PAUSE, False, None),
        (MemberChange.PAUSE, True, "no Queue header: all queues"),
        (MemberChange.REMOVED, True, "no Queue header: all queues"),
    ] == [(u.change, u.paused, u.paused_reason) for u in updates if isinstance(u, AgentStateChange)]
    added = updates[0]
    assert isinstance(added, AgentStateChange)
    assert ("campaign1", "Local/agent3@sim-agents", "Agent Three", "dynamic") == (
        added.queue,
        added.interface,
        added.member_name,
        added.membership,
    )
    assert added.available and DeviceState.NOT_INUSE == added.state
    assert not updates[1].available  # type: ignore[union-attr]  # paused
    assert not updates[-1].available  # type: ignore[union-attr]  # removed


def test_connected_call_capture_gives_called_connect_complete_and_member_status() -> None:
    updates = _updates("originate-answer-agent")

    calls = [u for u in updates if isinstance(u, AgentCallEvent)]
    assert [AgentCallKind.CALLED, AgentCallKind.CONNECT, AgentCallKind.COMPLETE] == [c.kind for c in calls]
    complete = calls[-1]
    assert ("Local/agent1@sim-agents", "dlr-L0001-3", 1.0, 7.0, "caller") == (
        complete.interface,
        complete.caller_uniqueid,
        complete.hold_s,
        complete.talk_s,
        complete.reason,
    )
    assert 1.0 == calls[1].ring_s
    statuses = [u for u in updates if isinstance(u, AgentStateChange)]
    assert [(DeviceState.INUSE, 0), (DeviceState.NOT_INUSE, 1)] == [
        (s.state, s.calls_taken) for s in statuses
    ]


def test_queue_status_rows_are_snapshots() -> None:
    updates = _updates("queue-status-idle")

    snapshots = [u for u in updates if isinstance(u, AgentStateChange)]
    assert snapshots and all(MemberChange.SNAPSHOT == s.change for s in snapshots)
    assert ("Local/agent1@sim-agents", "Agent One") == (snapshots[0].interface, snapshots[0].member_name)


def test_ring_no_answer_time_is_in_milliseconds() -> None:
    msg = AmiMessage.of(
        ("Event", "AgentRingNoAnswer"), Queue="q", Interface="PJSIP/a1", MemberName="A", RingTime="15000"
    )
    update = agent_event(msg, 3.0)
    assert isinstance(update, AgentCallEvent)
    assert (AgentCallKind.RING_NO_ANSWER, 15.0, 3.0) == (update.kind, update.ring_s, update.at_s)


def test_old_paused_spelling_and_unknown_status() -> None:
    msg = AmiMessage.of(
        ("Event", "QueueMemberPaused"), Queue="q", Interface="PJSIP/a1", Paused="1", Status="42"
    )
    update = agent_event(msg, 0.0)
    assert isinstance(update, AgentStateChange)
    assert (MemberChange.PAUSE, True, DeviceState.UNKNOWN) == (update.change, update.paused, update.state)


@pytest.mark.parametrize("path", transcript_paths(), ids=lambda p: p.stem)
def test_only_queue_and_agent_events_give_updates(path) -> None:  # type: ignore[no-untyped-def]
    for e in load(path.stem).received():
        if isinstance(e.message, AmiMessage):
            update = agent_event(e.message, e.at_s)
            assert (update is not None) == ((e.message.event or "").lower() in AGENT_EVENTS)


@given(
    st.sampled_from(sorted(AGENT_EVENTS)),
    st.dictionaries(
        st.sampled_from(
            ["Queue", "Interface", "Status", "Paused", "HoldTime", "TalkTime", "CallsTaken", "RingTime"]
        ),
        st.text(),
    ),
)
def test_garbage_headers_never_raise(event: str, headers: dict[str, str]) -> None:
    update = agent_event(AmiMessage((("Event", event), *headers.items())), 0.0)
    assert update is None or update.queue == headers.get("Queue")
