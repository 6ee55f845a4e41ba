"""The agent board: transitions and effects, negotiated logout, preview, PBX reconciliation."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Hashable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ami.agent_events import (
    AgentCallEvent,
    AgentCallKind,
    AgentStateChange,
    DeviceState,
    MemberChange,
    agent_event,
)
from ami.framing import AmiMessage
from ami.outcome import AgentConnected, AttemptMachine, CallOutcome, Ended, Outcome
from ami.replay import originate_ids
from ami.routing import EventRouter
from dialer.agents.board import AgentBoard
from dialer.agents.state import (
    TRANSITIONS,
    AgentEffect,
    AgentInput,
    AgentState,
    AgentTimers,
    ApplyDefaultDisposition,
    CallReachedAgent,
    LoggedIn,
    LoggedOut,
    LogoutDeferred,
    PeerAnomaly,
    PlaceCall,
    QueueAdd,
    QueuePause,
    QueueRemove,
    RecordDisposition,
    RecordRequested,
    ReleaseContact,
    ReservationKind,
    StateChanged,
    effects_of_type,
    transition,
)
from dialer.agents.views import LogoutCountdown
from dialer.errors import AgentError, DialerError, IllegalAgentTransition, UnknownAgent, ValidationError
from tests.ami.transcripts import load

S = AgentState
TIMERS = AgentTimers(
    offer_timeout_s=20.0, disposition_timeout_s=60.0, ring_timeout_s=25.0, connect_limit_s=2.0
)
HOLD = 27.0  # ring 25 + connect 2
Q = "campaign1"


def _board(*agents: str, at_s: float = 0.0) -> AgentBoard:
    board = AgentBoard("c1", Q, TIMERS)
    for i, agent_id in enumerate(agents):
        board.login(agent_id, f"Local/{agent_id}@sim-agents", at_s + i * 0.001)
    return board


def _states(effects: list[AgentEffect]) -> list[tuple[AgentState, AgentState]]:
    return [(e.old, e.new) for e in effects_of_type(effects, StateChanged)]


def _ended(attempt_id: str, outcome: Outcome, agent: str | None = None) -> Ended:
    return Ended(
        CallOutcome(
            attempt_id=attempt_id,
            outcome=outcome,
            reason=None,
            cause=None,
            cause_txt=None,
            agent=agent,
            ring_s=None,
            wait_s=None,
            talk_s=None,
            uniqueid=None,
            linkedid=None,
            amd_status=None,
            amd_cause=None,
        )
    )


def _member(
    change: MemberChange,
    interface: str,
    *,
    paused: bool = False,
    reason: str | None = None,
    at_s: float = 0.0,
) -> AgentStateChange:
    return AgentStateChange(
        change=change,
        queue=Q,
        interface=interface,
        member_name=None,
        state=DeviceState.NOT_INUSE,
        paused=paused,
        paused_reason=reason,
        in_call=False,
        calls_taken=0,
        membership="dynamic",
        at_s=at_s,
    )


def _call_event(kind: AgentCallKind, interface: str, at_s: float = 0.0) -> AgentCallEvent:
    return AgentCallEvent(kind, Q, interface, None, "u1", "u1", None, None, None, None, None, at_s)


def _reserved_and_talking(board: AgentBoard, agent: str = "a1", at_s: float = 10.0) -> None:
    board.reserve(agent, "contact-1", at_s)
    board.attach_attempt(agent, "att-1")
    board.feed(AgentConnected("att-1", f"Local/{agent}@sim-agents", at_s + 5, 1.0), at_s + 5)


# ------------------------------------------------------------------ the table itself

# The specification, written out: (state, input) -> state. Anything not here is illegal.
EXPECTED_TABLE = {
    (S.LOGGED_OUT, AgentInput.LOGIN): S.READY,
    (S.READY, AgentInput.LOGOUT): S.LOGGED_OUT,
    (S.READY, AgentInput.PAUSE): S.PAUSED,
    (S.READY, AgentInput.UNPAUSE): S.READY,
    (S.READY, AgentInput.RESERVE): S.RESERVED,
    (S.READY, AgentInput.OFFER): S.OFFERED,
    (S.READY, AgentInput.REQUEST_RECORD): S.READY,
    (S.READY, AgentInput.CONNECT): S.TALKING,
    (S.PAUSED, AgentInput.LOGOUT): S.LOGGED_OUT,
    (S.PAUSED, AgentInput.PAUSE): S.PAUSED,
    (S.PAUSED, AgentInput.UNPAUSE): S.READY,
    (S.PAUSED, AgentInput.CONNECT): S.TALKING,
    (S.RESERVED, AgentInput.LOGOUT): S.RESERVED,
    (S.RESERVED, AgentInput.PAUSE): S.RESERVED,
    (S.RESERVED, AgentInput.UNPAUSE): S.RESERVED,
    (S.RESERVED, AgentInput.CONNECT): S.TALKING,
    (S.RESERVED, AgentInput.CALL_FAILED): S.READY,
    (S.RESERVED, AgentInput.CALL_ENDED): S.WRAP_UP,
    (S.OFFERED, AgentInput.LOGOUT): S.OFFERED,
    (S.OFFERED, AgentInput.PAUSE): S.OFFERED,
    (S.OFFERED, AgentInput.UNPAUSE): S.OFFERED,
    (S.OFFERED, AgentInput.ACCEPT): S.RESERVED,
    (S.OFFERED, AgentInput.SKIP): S.READY,
    (S.OFFERED, AgentInput.OFFER_TIMEOUT): S.PAUSED,
    (S.TALKING, AgentInput.LOGOUT): S.TALKING,
    (S.TALKING, AgentInput.PAUSE): S.TALKING,
    (S.TALKING, AgentInput.UNPAUSE): S.TALKING,
    (S.TALKING, AgentInput.CONNECT): S.TALKING,
    (S.TALKING, AgentInput.CALL_ENDED): S.WRAP_UP,
    (S.WRAP_UP, AgentInput.LOGOUT): S.WRAP_UP,
    (S.WRAP_UP, AgentInput.PAUSE): S.WRAP_UP,
    (S.WRAP_UP, AgentInput.UNPAUSE): S.WRAP_UP,
    (S.WRAP_UP, AgentInput.CALL_ENDED): S.WRAP_UP,
    (S.WRAP_UP, AgentInput.DISPOSITION): S.READY,
    (S.WRAP_UP, AgentInput.DISPOSITION_TIMEOUT): S.READY,
}


def test_transition_table_is_the_specified_one() -> None:
    assert EXPECTED_TABLE == TRANSITIONS


@pytest.mark.parametrize("state", list(AgentState))
@pytest.mark.parametrize("event", list(AgentInput))
def test_every_pair_either_moves_as_specified_or_raises(state: AgentState, event: AgentInput) -> None:
    if (state, event) in EXPECTED_TABLE:
        assert EXPECTED_TABLE[(state, event)] == transition("a1", state, event)
    else:
        with pytest.raises(IllegalAgentTransition) as err:
            transition("a1", state, event)
        assert (state, event, "a1") == (err.value.state, err.value.event, err.value.agent_id)
        assert isinstance(err.value, DialerError)


def test_ring_timeout_below_15_s_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        AgentTimers(ring_timeout_s=10.0)
    assert "ring_timeout_s" == err.value.field


# ------------------------------------------------------------------ login, pause, logout


def test_login_adds_the_queue_member_and_reports_logged_in() -> None:
    board = AgentBoard("c1", Q, TIMERS)

    effects = board.login("a1", "PJSIP/1001", 5.0, member_name="Agent One")

    assert [
        StateChanged("a1", S.LOGGED_OUT, S.READY, AgentInput.LOGIN, 5.0),
        QueueAdd("a1", Q, "PJSIP/1001", "Agent One", False, None),
        LoggedIn("a1", 5.0),
    ] == effects
    assert "a1" == board.agent_for_interface("PJSIP/1001")


def test_login_paused_adds_a_paused_member() -> None:
    board = AgentBoard("c1", Q, TIMERS)

    effects = board.login("a1", "PJSIP/1001", 5.0, paused=True, pause_reason="briefing")

    assert [QueueAdd("a1", Q, "PJSIP/1001", None, True, "briefing")] == effects_of_type(effects, QueueAdd)
    assert S.PAUSED == board.state_of("a1")


def test_login_twice_or_on_a_taken_interface_is_refused() -> None:
    board = _board("a1")
    with pytest.raises(IllegalAgentTransition):
        board.login("a1", "Local/a1@sim-agents", 1.0)
    with pytest.raises(AgentError):
        board.login("a2", "Local/a1@sim-agents", 1.0)
    with pytest.raises(UnknownAgent):
        board.pause("nobody", 1.0)


def test_pause_and_unpause_a_ready_agent() -> None:
    board = _board("a1")

    paused = board.pause("a1", 3.0, reason="lunch")
    ready = board.unpause("a1", 4.0)

    assert [QueuePause("a1", Q, "Local/a1@sim-agents", True, "lunch")] == effects_of_type(paused, QueuePause)
    assert [QueuePause("a1", Q, "Local/a1@sim-agents", False, None)] == effects_of_type(ready, QueuePause)
    assert [(S.PAUSED, S.READY)] == _states(ready)


@pytest.mark.parametrize("paused", [False, True])
def test_idle_agent_logs_out_at_once(paused: bool) -> None:
    board = _board("a1")
    if paused:
        board.pause("a1", 1.0)

    effects = board.logout("a1", 2.0)

    assert [QueueRemove("a1", Q, "Local/a1@sim-agents")] == effects_of_type(effects, QueueRemove)
    assert [LoggedOut("a1", 2.0, "requested", 2.0)] == effects_of_type(effects, LoggedOut)
    assert S.LOGGED_OUT == board.state_of("a1")
    assert board.logout_countdown("a1", 2.0) is None


# ------------------------------------------------------------------ a progressive call


def test_progressive_call_reserve_connect_end_disposition() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"

    reserved = board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-1")
    talking = board.feed(AgentConnected("att-1", iface, 15.0, 1.0), 15.0)
    again = board.feed(_call_event(AgentCallKind.CONNECT, iface, 15.0), 15.0)
    wrap = board.feed(_ended("att-1", Outcome.CONNECTED, iface), 40.0)
    deadline = board.next_deadline_at()
    done = board.set_disposition("a1", 50.0, "interested")

    assert [PlaceCall("a1", "contact-1", ReservationKind.PROGRESSIVE)] == effects_of_type(reserved, PlaceCall)
    assert [QueuePause("a1", Q, iface, True, "dialer:reserved")] == effects_of_type(reserved, QueuePause)
    assert [(S.RESERVED, S.TALKING)] == _states(talking)
    assert [] == again  # AgentConnect after our AgentConnected: the same call
    assert [(S.TALKING, S.WRAP_UP)] == _states(wrap)
    assert 100.0 == deadline  # 40 + disposition timeout 60
    assert [RecordDisposition("a1", "att-1", "contact-1", "interested")] == effects_of_type(
        done, RecordDisposition
    )
    assert [QueuePause("a1", Q, iface, False, None)] == effects_of_type(done, QueuePause)
    assert S.READY == board.state_of("a1")
    assert board.agent_for_attempt("att-1") is None


def test_call_reaching_the_agent_reports_how_long_the_agent_was_free() -> None:
    board = _board("a1")  # ready at 0.0
    board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-1")

    effects = board.feed(AgentConnected("att-1", "Local/a1@sim-agents", 16.5, 1.0), 16.5)

    assert [CallReachedAgent("a1", "att-1", 16.5, 16.5)] == effects_of_type(effects, CallReachedAgent)


def test_queue_call_beating_our_pause_takes_the_agent_from_its_reservation() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-held")
    board.feed(_call_event(AgentCallKind.CONNECT, iface, 10.01), 10.01)  # taken as the held call

    effects = board.feed(AgentConnected("att-queue", iface, 10.01, 0.3), 10.01)
    owners = (board.agent_for_attempt("att-queue"), board.agent_for_attempt("att-held"))
    held_ends = board.feed(_ended("att-held", Outcome.ABANDONED), 14.0)
    queue_ends = board.feed(_ended("att-queue", Outcome.CONNECTED, iface), 60.0)

    assert 1 == len(effects_of_type(effects, PeerAnomaly))
    assert ("a1", None) == owners
    assert [] == held_ends  # no longer this agent's call
    assert [(S.TALKING, S.WRAP_UP)] == _states(queue_ends)
    assert "att-queue" == board.view("a1", 61.0).attempt_id


def test_queue_call_reaching_an_agent_in_wrap_up_ends_the_wrap_up_and_is_tracked() -> None:
    # Issue 17 item 3: the queue rang the agent 7 ms after its last call ended, before our
    # wrap-up pause reached Asterisk. The PBX wins: the old wrap-up gets the default
    # disposition, the agent talks on the new call, whose end brings its own wrap-up.
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)  # att-1 for contact-1
    board.pause("a1", 20.0, reason="coffee")  # held for the end of the call
    board.feed(_ended("att-1", Outcome.CONNECTED, iface), 30.0)

    raced = board.feed(_call_event(AgentCallKind.CONNECT, iface, 30.007), 30.007)
    tied = board.feed(AgentConnected("att-2", iface, 30.008, 0.4), 30.008)
    during = (board.state_of("a1"), board.agent_for_attempt("att-1"), board.agent_for_attempt("att-2"))
    ended = board.feed(_ended("att-2", Outcome.CONNECTED, iface), 50.0)
    done = board.set_disposition("a1", 55.0, "ok")

    assert [ApplyDefaultDisposition("a1", "att-1", "contact-1", "queue_call")] == effects_of_type(
        raced, ApplyDefaultDisposition
    )
    assert [(S.WRAP_UP, S.READY), (S.READY, S.TALKING)] == _states(raced)
    assert [] == effects_of_type(raced, QueuePause)  # no unpause for the instant between calls
    assert 1 == len(effects_of_type(raced, PeerAnomaly))
    assert [] == _states(tied)
    assert (S.TALKING, None, "a1") == during
    assert [(S.TALKING, S.WRAP_UP)] == _states(ended)
    assert [RecordDisposition("a1", "att-2", None, "ok")] == effects_of_type(done, RecordDisposition)
    assert (S.PAUSED, "coffee") == (board.state_of("a1"), board.view("a1", 55.0).pause_reason)


def test_our_connect_reaching_an_agent_in_wrap_up_before_the_queue_event_is_tracked() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)
    board.feed(_ended("att-1", Outcome.CONNECTED, iface), 30.0)

    effects = board.feed(AgentConnected("att-2", iface, 30.01, 0.4), 30.01)

    assert [ApplyDefaultDisposition("a1", "att-1", "contact-1", "queue_call")] == effects_of_type(
        effects, ApplyDefaultDisposition
    )
    assert (S.TALKING, "a1") == (board.state_of("a1"), board.agent_for_attempt("att-2"))


def test_the_end_of_a_call_whose_wrap_up_the_queue_cut_short_does_not_touch_the_next_call() -> None:
    # AgentComplete put the agent into wrap-up; the queue's next call reached them before the
    # first call's own Ended was read: that Ended must not be taken for the new queue call.
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)
    board.feed(_call_event(AgentCallKind.COMPLETE, iface, 30.0), 30.0)
    board.feed(_call_event(AgentCallKind.CONNECT, iface, 30.01), 30.01)

    late = board.feed(_ended("att-1", Outcome.CONNECTED, iface), 30.02)

    assert [] == late
    assert (S.TALKING, None) == (board.state_of("a1"), board.agent_for_attempt("att-1"))


def test_queue_call_reaching_an_agent_with_an_offer_gives_the_record_back() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.offer("a1", "contact-9", 10.0)

    effects = board.feed(_call_event(AgentCallKind.CONNECT, iface, 10.5), 10.5)

    assert [ReleaseContact("contact-9", "a queue call reached the agent", "a1")] == effects_of_type(
        effects, ReleaseContact
    )
    assert [(S.OFFERED, S.READY), (S.READY, S.TALKING)] == _states(effects)
    assert board.next_deadline_at() is None  # the offer's timeout went with it


def test_reserved_call_that_fails_frees_the_agent_without_wrap_up() -> None:
    board = _board("a1")
    board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-1")

    effects = board.feed(_ended("att-1", Outcome.BUSY), 20.0)

    assert [(S.RESERVED, S.READY)] == _states(effects)
    assert [] == effects_of_type(effects, ReleaseContact)  # the attempt's outcome owns the contact


def test_release_reservation_without_attempt_releases_the_contact() -> None:
    board = _board("a1")
    board.reserve("a1", "contact-1", 10.0)

    effects = board.release_reservation("a1", 11.0, reason="do-not-call")

    assert [ReleaseContact("contact-1", "do-not-call", "a1")] == effects_of_type(effects, ReleaseContact)
    assert S.READY == board.state_of("a1")


def test_agent_is_never_reserved_for_two_calls() -> None:
    board = _board("a1")
    board.reserve("a1", "c1", 1.0)

    with pytest.raises(IllegalAgentTransition):
        board.reserve("a1", "c2", 2.0)
    with pytest.raises(IllegalAgentTransition):
        board.offer("a1", "c2", 2.0)
    with pytest.raises(AgentError):
        board.reserve("a1", "c2", 2.0, ReservationKind.PREVIEW)


def test_disposition_timeout_applies_the_default() -> None:
    board = _board("a1")
    _reserved_and_talking(board)
    board.feed(_call_event(AgentCallKind.COMPLETE, "Local/a1@sim-agents", 30.0), 30.0)

    early = board.tick(89.9)
    effects = board.tick(90.0)

    assert [] == early
    assert [ApplyDefaultDisposition("a1", "att-1", "contact-1")] == effects_of_type(
        effects, ApplyDefaultDisposition
    )
    assert S.READY == board.state_of("a1")
    assert board.next_deadline_at() is None


def test_a_queue_call_pauses_its_member_at_connect_so_its_end_races_nothing() -> None:
    # the queue frees a member the moment its call hangs up and rings the next waiting caller
    # within milliseconds: a pause sent at the hang-up arrives too late, one sent at the
    # connect is there already, and the wrap-up needs no action of its own
    board = _board("a1")
    iface = "Local/a1@sim-agents"

    connected = board.feed(_call_event(AgentCallKind.CONNECT, iface, 10.0), 10.0)
    ended = board.feed(_ended("att-q", Outcome.CONNECTED, iface), 40.0)
    done = board.set_disposition("a1", 45.0, "sale")

    assert [QueuePause("a1", Q, iface, True, "dialer:talking")] == effects_of_type(connected, QueuePause)
    assert [(S.TALKING, S.WRAP_UP)] == _states(ended)
    assert [] == effects_of_type(ended, QueuePause)
    assert [QueuePause("a1", Q, iface, False, None)] == effects_of_type(done, QueuePause)


def test_a_reserved_call_keeps_its_pause_through_talk_and_wrap_up() -> None:
    board = _board("a1")
    reserved = board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-1")
    talking = board.feed(AgentConnected("att-1", "Local/a1@sim-agents", 15.0, 1.0), 15.0)
    ended = board.feed(_ended("att-1", Outcome.CONNECTED), 30.0)

    assert [True] == [e.paused for e in effects_of_type(reserved, QueuePause)]
    assert [] == effects_of_type(talking, QueuePause) + effects_of_type(ended, QueuePause)


def test_a_pause_on_the_phone_during_a_call_is_the_agents_held_for_the_calls_end() -> None:
    # the member is paused by the dialer while the agent talks; a pause with another reason
    # (not our echo) is the agent's own, pressed on the phone, and waits for the wrap-up's end
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.feed(_member(MemberChange.ADDED, iface, at_s=0.01), 0.01)  # the login's echo
    board.feed(_call_event(AgentCallKind.CONNECT, iface, 10.0), 10.0)
    echo = board.feed(
        _member(MemberChange.PAUSE, iface, paused=True, reason="dialer:talking", at_s=10.01), 10.01
    )

    pressed = board.feed(_member(MemberChange.PAUSE, iface, paused=True, reason="lunch", at_s=20.0), 20.0)
    during = board.view("a1", 21.0)
    board.feed(_ended("att-q", Outcome.CONNECTED, iface), 30.0)
    done = board.set_disposition("a1", 35.0, "sale")

    assert [] == echo
    assert ([], S.TALKING, True) == (_states(pressed), during.state, during.pending_pause)
    assert [(S.WRAP_UP, S.READY), (S.READY, S.PAUSED)] == _states(done)
    assert "lunch" == board.view("a1", 36.0).pause_reason
    assert [True] == [e.paused for e in effects_of_type(done, QueuePause)]  # never unpaused between


def test_pause_while_talking_takes_effect_at_wrap_up_end() -> None:
    board = _board("a1")
    _reserved_and_talking(board)

    held = board.pause("a1", 20.0, reason="break")
    board.feed(_ended("att-1", Outcome.CONNECTED), 30.0)
    view = board.view("a1", 31.0)
    done = board.set_disposition("a1", 35.0, "sale")

    assert [] == _states(held)
    assert view.pending_pause and S.WRAP_UP == view.state
    assert [(S.WRAP_UP, S.READY), (S.READY, S.PAUSED)] == _states(done)
    # Paused for wrap-up already: stays paused, relabelled with the agent's reason for supervisors.
    assert [QueuePause("a1", Q, "Local/a1@sim-agents", True, "break")] == effects_of_type(done, QueuePause)
    assert "break" == board.view("a1", 36.0).pause_reason


def test_unpause_cancels_a_held_pause() -> None:
    board = _board("a1")
    _reserved_and_talking(board)
    board.pause("a1", 20.0)
    board.unpause("a1", 21.0)
    board.feed(_ended("att-1", Outcome.CONNECTED), 30.0)

    done = board.set_disposition("a1", 35.0, "sale")

    assert S.READY == board.state_of("a1")
    assert [QueuePause("a1", Q, "Local/a1@sim-agents", False, None)] == effects_of_type(done, QueuePause)


# ------------------------------------------------------------------ negotiated logout


def test_logout_while_reserved_waits_for_the_answered_call_and_its_disposition() -> None:
    board = _board("a1")
    board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-1")

    asked = board.logout("a1", 12.0)
    at_request = board.logout_countdown("a1", 12.0)
    board.feed(AgentConnected("att-1", "Local/a1@sim-agents", 15.0, 1.0), 15.0)
    while_talking = board.logout_countdown("a1", 20.0)
    board.feed(_ended("att-1", Outcome.CONNECTED), 40.0)
    in_wrap_up = board.logout_countdown("a1", 45.0)
    done = board.set_disposition("a1", 50.0, "sale")

    assert [LogoutDeferred("a1", S.RESERVED, 10.0 + HOLD)] == effects_of_type(asked, LogoutDeferred)
    assert [] == effects_of_type(asked, QueueRemove)
    assert LogoutCountdown("a1", 12.0, S.RESERVED, 37.0, 25.0) == at_request
    assert LogoutCountdown("a1", 12.0, S.TALKING, None, None) == while_talking
    assert LogoutCountdown("a1", 12.0, S.WRAP_UP, 100.0, 55.0) == in_wrap_up
    assert [(S.WRAP_UP, S.READY), (S.READY, S.LOGGED_OUT)] == _states(done)
    assert [QueueRemove("a1", Q, "Local/a1@sim-agents")] == effects_of_type(done, QueueRemove)
    assert [LoggedOut("a1", 50.0, "requested", 12.0)] == effects_of_type(done, LoggedOut)
    assert 1 == len(effects_of_type(done, RecordDisposition))  # the call's disposition still written


def test_logout_while_reserved_completes_when_the_call_fails() -> None:
    board = _board("a1")
    board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-1")
    board.logout("a1", 12.0)

    effects = board.feed(_ended("att-1", Outcome.NO_ANSWER), 35.0)

    assert [(S.RESERVED, S.READY), (S.READY, S.LOGGED_OUT)] == _states(effects)
    assert [LoggedOut("a1", 35.0, "requested", 12.0)] == effects_of_type(effects, LoggedOut)
    assert 1 == board.counts()[S.LOGGED_OUT]


def test_a_held_logout_can_be_withdrawn() -> None:
    board = _board("a1")
    board.reserve("a1", "contact-1", 10.0)
    board.attach_attempt("a1", "att-1")
    board.logout("a1", 11.0)

    withdrawn = board.cancel_logout("a1")
    again = board.cancel_logout("a1")
    effects = board.feed(_ended("att-1", Outcome.BUSY), 20.0)

    assert (True, False) == (withdrawn, again)
    assert [] == effects_of_type(effects, LoggedOut)
    assert S.READY == board.state_of("a1")


def test_agents_by_state_counts_held_logouts_for_the_metric() -> None:
    board = _board("a1", "a2", "a3")
    board.reserve("a1", "contact-1", 10.0)
    board.logout("a1", 11.0)
    board.logout("a3", 11.0)

    by_state = board.agents_by_state()

    assert {"logged_out": 1, "ready": 1, "reserved": 1, "logging_out": 1} == {
        k: v for k, v in by_state.items() if v
    }
    assert {s.value for s in AgentState} | {"logging_out"} == set(by_state)


def test_pending_logout_countdown_never_goes_negative() -> None:
    board = _board("a1")
    board.reserve("a1", "contact-1", 10.0)
    board.logout("a1", 11.0)

    late = board.logout_countdown("a1", 500.0)

    assert late is not None and 0.0 == late.remaining_s


def test_logout_while_offered_then_accepted_waits_for_the_call() -> None:
    board = _board("a1")
    board.offer("a1", "contact-1", 10.0)

    asked = board.logout("a1", 12.0)
    countdown = board.logout_countdown("a1", 12.0)
    accepted = board.accept("a1", 14.0)
    after_accept = board.logout_countdown("a1", 14.0)
    board.attach_attempt("a1", "att-1")
    done = board.feed(_ended("att-1", Outcome.BUSY), 30.0)

    # Offered: worst case the agent accepts at the last moment (30 s) and the call rings out.
    assert [LogoutDeferred("a1", S.OFFERED, 30.0 + HOLD)] == effects_of_type(asked, LogoutDeferred)
    assert countdown is not None and 45.0 == countdown.remaining_s
    assert [PlaceCall("a1", "contact-1", ReservationKind.PUSH_PREVIEW)] == effects_of_type(
        accepted, PlaceCall
    )
    assert LogoutCountdown("a1", 12.0, S.RESERVED, 14.0 + HOLD, HOLD) == after_accept
    assert [(S.RESERVED, S.READY), (S.READY, S.LOGGED_OUT)] == _states(done)


def test_logout_while_offered_then_skipped_releases_and_logs_out() -> None:
    board = _board("a1")
    board.offer("a1", "contact-1", 10.0)
    board.logout("a1", 12.0)

    effects = board.skip("a1", 13.0)

    assert [ReleaseContact("contact-1", "skipped", "a1")] == effects_of_type(effects, ReleaseContact)
    assert [(S.OFFERED, S.READY), (S.READY, S.LOGGED_OUT)] == _states(effects)
    assert 1 == len(effects_of_type(effects, QueueRemove))


def test_logout_while_offered_then_timeout_releases_and_logs_out() -> None:
    board = _board("a1")
    board.offer("a1", "contact-1", 10.0)
    board.logout("a1", 12.0)

    effects = board.tick(30.0)

    assert [ReleaseContact("contact-1", "offer timeout", "a1")] == effects_of_type(effects, ReleaseContact)
    assert [(S.OFFERED, S.PAUSED), (S.PAUSED, S.LOGGED_OUT)] == _states(effects)
    assert [LoggedOut("a1", 30.0, "requested", 12.0)] == effects_of_type(effects, LoggedOut)


def test_logout_while_talking_on_a_queue_call_completes_after_disposition_timeout() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.feed(_call_event(AgentCallKind.CONNECT, iface, 5.0), 5.0)
    board.feed(AgentConnected("att-9", iface, 5.0, 0.5), 5.0)

    board.logout("a1", 6.0)
    board.feed(_call_event(AgentCallKind.COMPLETE, iface, 20.0), 20.0)
    board.feed(_ended("att-9", Outcome.CONNECTED, iface), 20.1)
    effects = board.tick(80.0)

    assert [ApplyDefaultDisposition("a1", "att-9", None)] == effects_of_type(effects, ApplyDefaultDisposition)
    assert S.LOGGED_OUT == board.state_of("a1")
    assert 0 == board.logging_out()


# ------------------------------------------------------------------ preview / push-preview


def test_preview_agent_asks_sees_accepts_and_only_then_the_call_is_placed() -> None:
    board = _board("a1", "a2")

    asked = board.request_record("a1", 5.0)
    waiting = board.awaiting_record()
    offered = board.offer("a1", "contact-7", 6.0)
    accepted = board.accept("a1", 9.0)

    assert [RecordRequested("a1", 5.0)] == asked
    assert ["a1"] == waiting
    assert [] == effects_of_type(offered, PlaceCall)
    assert [QueuePause("a1", Q, "Local/a1@sim-agents", True, "dialer:offered")] == effects_of_type(
        offered, QueuePause
    )
    assert [PlaceCall("a1", "contact-7", ReservationKind.PREVIEW)] == effects_of_type(accepted, PlaceCall)
    assert [] == effects_of_type(accepted, QueuePause)  # already held
    assert S.RESERVED == board.state_of("a1") and [] == board.awaiting_record()


def test_push_preview_skip_releases_the_contact_and_frees_the_agent() -> None:
    board = _board("a1")
    board.offer("a1", "contact-7", 6.0)

    effects = board.skip("a1", 8.0)

    assert [ReleaseContact("contact-7", "skipped", "a1")] == effects_of_type(effects, ReleaseContact)
    assert S.READY == board.state_of("a1")
    assert [QueuePause("a1", Q, "Local/a1@sim-agents", False, None)] == effects_of_type(effects, QueuePause)


def test_push_preview_timeout_releases_and_pauses_the_absent_agent() -> None:
    board = _board("a1")
    board.offer("a1", "contact-7", 6.0)

    assert 26.0 == board.next_deadline_at()
    assert [] == board.tick(25.9)
    effects = board.tick(26.0)

    assert [ReleaseContact("contact-7", "offer timeout", "a1")] == effects_of_type(effects, ReleaseContact)
    assert [(S.OFFERED, S.PAUSED)] == _states(effects)
    assert "offer timeout" == board.view("a1", 27.0).pause_reason
    assert [QueuePause("a1", Q, "Local/a1@sim-agents", True, "offer timeout")] == effects_of_type(
        effects, QueuePause
    )
    assert [] == board.free_agents()


def test_accept_or_skip_without_an_offer_is_refused() -> None:
    board = _board("a1")
    with pytest.raises(IllegalAgentTransition):
        board.accept("a1", 1.0)
    with pytest.raises(IllegalAgentTransition):
        board.skip("a1", 1.0)
    with pytest.raises(IllegalAgentTransition):
        board.set_disposition("a1", 1.0, "x")


# ------------------------------------------------------------------ queries


def test_free_agents_longest_idle_first_and_counts() -> None:
    board = _board("a1", "a2", "a3")
    board.reserve("a1", "c1", 5.0)
    board.attach_attempt("a1", "att-1")
    board.feed(_ended("att-1", Outcome.BUSY), 8.0)  # a1 ready again at 8.0: now the least idle
    board.pause("a3", 9.0)

    assert ["a2", "a1"] == board.free_agents()
    assert {
        S.LOGGED_OUT: 0,
        S.READY: 2,
        S.PAUSED: 1,
        S.RESERVED: 0,
        S.OFFERED: 0,
        S.TALKING: 0,
        S.WRAP_UP: 0,
    } == (board.counts())


def test_a_ready_agent_whose_phone_is_busy_is_not_free() -> None:
    board = _board("a1", "a2")
    status = dataclasses.replace(
        _member(MemberChange.STATUS, "Local/a1@sim-agents", at_s=10.0), state=DeviceState.INUSE
    )

    board.feed(status, 10.0)
    busy = board.free_agents()
    board.feed(dataclasses.replace(status, state=DeviceState.NOT_INUSE, at_s=20.0), 20.0)

    assert ["a2"] == busy
    assert ["a1", "a2"] == board.free_agents()
    assert S.READY == board.state_of("a1")


@pytest.mark.parametrize(
    "busy", ["reserved_failed", "reserved_answered", "offered_skipped", "talking", "wrap_up"]
)
def test_pause_held_in_every_busy_state_applies_when_the_call_is_over(busy: str) -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    if busy.startswith("reserved"):
        board.reserve("a1", "contact-1", 1.0)
        board.attach_attempt("a1", "att-1")
    elif busy == "offered_skipped":
        board.offer("a1", "contact-1", 1.0)
    else:
        _reserved_and_talking(board, at_s=1.0)
        if busy == "wrap_up":
            board.feed(_ended("att-1", Outcome.CONNECTED), 20.0)

    held = board.pause("a1", 21.0, reason="coffee")
    if busy == "reserved_failed":
        board.feed(_ended("att-1", Outcome.BUSY), 22.0)
    elif busy == "offered_skipped":
        board.skip("a1", 22.0)
    else:
        if busy == "reserved_answered":
            board.feed(AgentConnected("att-1", iface, 22.0, 1.0), 22.0)
        board.feed(_ended("att-1", Outcome.CONNECTED), 30.0)
        board.set_disposition("a1", 31.0, "done")

    assert [] == _states(held)
    assert (S.PAUSED, "coffee") == (board.state_of("a1"), board.view("a1", 40.0).pause_reason)


def test_view_reports_time_in_state_for_the_pacer() -> None:
    board = _board("a1")
    _reserved_and_talking(board, at_s=10.0)

    view = board.view("a1", 40.0)

    assert (S.TALKING, 15.0, 25.0, "att-1", ReservationKind.PROGRESSIVE) == (
        view.state,
        view.since_at,
        view.in_state_s,
        view.attempt_id,
        view.kind,
    )


# ------------------------------------------------------------------ the PBX's view


def test_echo_of_our_own_actions_changes_nothing() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.pause("a1", 1.0, reason="lunch")

    added = board.feed(_member(MemberChange.ADDED, iface, at_s=0.01), 0.01)
    paused = board.feed(_member(MemberChange.PAUSE, iface, paused=True, reason="lunch", at_s=1.01), 1.01)

    assert [] == added and [] == paused
    assert S.PAUSED == board.state_of("a1")


def test_fast_pause_unpause_echoes_arrive_late_and_are_still_echoes() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.feed(_member(MemberChange.ADDED, iface), 0.01)
    board.reserve("a1", "c1", 1.0)  # QueuePause true
    board.release_reservation("a1", 1.1, reason="blocked")  # QueuePause false

    first = board.feed(_member(MemberChange.PAUSE, iface, paused=True, at_s=1.2), 1.2)
    second = board.feed(_member(MemberChange.PAUSE, iface, paused=False, at_s=1.2), 1.2)

    assert [] == first and [] == second
    assert S.READY == board.state_of("a1")


def test_pause_from_the_phone_pauses_and_unpause_readies() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.feed(_member(MemberChange.ADDED, iface), 0.01)

    paused = board.feed(_member(MemberChange.PAUSE, iface, paused=True, reason="phone", at_s=10.0), 10.0)
    ready = board.feed(_member(MemberChange.PAUSE, iface, paused=False, at_s=20.0), 20.0)

    assert [(S.READY, S.PAUSED)] == _states(paused) and [] == effects_of_type(paused, QueuePause)
    assert [(S.PAUSED, S.READY)] == _states(ready) and [] == effects_of_type(ready, QueuePause)


def test_a_new_pause_reason_from_the_phone_is_kept() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.feed(_member(MemberChange.ADDED, iface), 0.01)
    board.feed(_member(MemberChange.PAUSE, iface, paused=True, reason="lunch", at_s=10.0), 10.0)

    effects = board.feed(_member(MemberChange.PAUSE, iface, paused=True, reason="meeting", at_s=20.0), 20.0)

    assert [] == effects
    assert "meeting" == board.view("a1", 21.0).pause_reason
    assert [QueuePause("a1", Q, iface, False, None)] == effects_of_type(board.unpause("a1", 30.0), QueuePause)


def test_member_removed_on_the_pbx_logs_out_without_queue_remove() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    board.feed(_member(MemberChange.ADDED, iface), 0.01)

    effects = board.feed(_member(MemberChange.REMOVED, iface, at_s=10.0), 10.0)

    assert [(S.READY, S.LOGGED_OUT)] == _states(effects)
    assert [] == effects_of_type(effects, QueueRemove)
    assert [LoggedOut("a1", 10.0, "removed on the PBX", 10.0)] == effects_of_type(effects, LoggedOut)


def test_member_removed_while_talking_is_a_held_logout_without_re_adding() -> None:
    board = _board("a1")
    board.feed(_member(MemberChange.ADDED, "Local/a1@sim-agents"), 0.01)
    _reserved_and_talking(board)
    board.feed(_member(MemberChange.PAUSE, "Local/a1@sim-agents", paused=True, at_s=10.01), 10.01)

    removed = board.feed(_member(MemberChange.REMOVED, "Local/a1@sim-agents", at_s=20.0), 20.0)
    wrap = board.feed(_ended("att-1", Outcome.CONNECTED), 30.0)
    done = board.set_disposition("a1", 31.0, "sale")

    assert [LogoutDeferred("a1", S.TALKING, None)] == removed
    assert [] == effects_of_type(wrap + done, QueueAdd) + effects_of_type(wrap + done, QueuePause)
    assert [] == effects_of_type(done, QueueRemove)
    assert S.LOGGED_OUT == board.state_of("a1")


def test_member_found_on_the_pbx_logs_a_known_agent_in() -> None:
    board = _board("a1")
    board.logout("a1", 1.0)
    board.feed(_member(MemberChange.REMOVED, "Local/a1@sim-agents", at_s=1.0), 1.0)

    effects = board.feed(_member(MemberChange.SNAPSHOT, "Local/a1@sim-agents", paused=True, at_s=50.0), 50.0)

    assert [(S.LOGGED_OUT, S.READY), (S.READY, S.PAUSED)] == _states(effects)
    assert [] == effects_of_type(effects, QueueAdd)


def test_unknown_members_and_other_queues() -> None:
    board = _board("a1")
    other = dataclasses.replace(_call_event(AgentCallKind.CONNECT, "Local/a1@sim-agents", 1.0), queue="other")

    unknown = board.feed(_member(MemberChange.ADDED, "PJSIP/9999", at_s=1.0), 1.0)

    assert [] == board.feed(other, 1.0)
    assert 1 == len(unknown) and isinstance(unknown[0], PeerAnomaly)


def test_complete_for_a_ready_agent_is_an_anomaly_not_an_error() -> None:
    board = _board("a1")

    effects = board.feed(_call_event(AgentCallKind.COMPLETE, "Local/a1@sim-agents", 3.0), 3.0)

    assert 1 == len(effects) and isinstance(effects[0], PeerAnomaly)
    assert S.READY == board.state_of("a1")


def test_queue_member_admin_capture_through_the_board() -> None:
    """The captured QueueAdd/QueuePause(lunch)/unpause/pause-all/QueueRemove, fed as the PBX's view.

    We logged agent3 in (our QueueAdd): the QueueMemberAdded is our echo. The pauses in the
    capture were not ours, so they move the agent; the removal logs it out.
    """
    board = AgentBoard("c1", "campaign1", TIMERS)
    board.login("agent3", "Local/agent3@sim-agents", 0.0, member_name="Agent Three")
    seen: list[tuple[AgentState, AgentState]] = []
    out: list[LoggedOut] = []
    for e in load("queue-member-admin").received():
        if isinstance(e.message, AmiMessage):
            update = agent_event(e.message, e.at_s)
            if update is not None:
                effects = board.feed(update, e.at_s)
                seen += _states(effects)
                out += effects_of_type(effects, LoggedOut)
                assert [] == effects_of_type(effects, QueueAdd) + effects_of_type(effects, QueueRemove)

    assert [
        (S.READY, S.PAUSED),
        (S.PAUSED, S.READY),
        (S.READY, S.PAUSED),
        (S.PAUSED, S.LOGGED_OUT),
    ] == seen
    assert ["removed on the PBX"] == [o.reason for o in out]


def test_originate_answer_agent_capture_moves_the_queue_agent_through_a_call() -> None:
    """The capture as the runner sees it: agent events and the attempt's updates, in wire order."""
    t = load("originate-answer-agent")
    action_id, channel_id, started = originate_ids(t)
    router = EventRouter()
    router.register("att-1", action_id=action_id, channel_id=channel_id)
    machine = AttemptMachine("att-1", action_id=action_id, channel_id=channel_id, started_at_s=started)
    board = AgentBoard("c1", "campaign1", TIMERS)
    board.login("agent1", "Local/agent1@sim-agents", 0.0)
    board.feed(_member(MemberChange.ADDED, "Local/agent1@sim-agents"), 0.0)
    seen: list[tuple[AgentState, AgentState]] = []
    anomalies: list[PeerAnomaly] = []
    for e in t.received():
        if not isinstance(e.message, AmiMessage):
            continue
        updates: list[object] = []
        update = agent_event(e.message, e.at_s)
        if update is not None:
            updates.append(update)
        if router.route(e.message) == "att-1":
            updates += machine.feed(e.message, e.at_s)
        for u in updates:
            effects = board.feed(u, e.at_s)  # type: ignore[arg-type]
            seen += _states(effects)
            anomalies += effects_of_type(effects, PeerAnomaly)

    assert [(S.READY, S.TALKING), (S.TALKING, S.WRAP_UP)] == seen
    assert [] == anomalies
    view = board.view("agent1", 100.0)
    assert ("att-1", ReservationKind.QUEUE) == (view.attempt_id, view.kind)


# ------------------------------------------------------------------ properties

_AGENTS = ("a1", "a2", "a3")
_OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "login",
                "logout",
                "pause",
                "unpause",
                "reserve",
                "offer",
                "request",
                "accept",
                "skip",
                "connect",
                "queue_connect",
                "end_connected",
                "end_failed",
                "complete",
                "dispose",
                "tick",
                "pbx_pause",
                "pbx_unpause",
                "pbx_remove",
            ]
        ),
        st.sampled_from(_AGENTS),
        st.floats(0.0, 40.0),
    ),
    max_size=60,
)


class _Driver:
    """Applies random operations; misuse of the agent interface is allowed to raise AgentError."""

    def __init__(self) -> None:
        self.board = AgentBoard("c1", Q, TIMERS)
        self.now = 0.0
        self.calls = 0
        self.placed: dict[str, int] = dict.fromkeys(_AGENTS, 0)  # PlaceCall minus finished calls
        self.accepts = 0
        self.preview_calls = 0

    def apply(self, op: str, agent: str, dt: float) -> list[AgentEffect]:
        self.now += dt
        b, now, iface = self.board, self.now, f"Local/{agent}@sim-agents"
        view_attempt = None
        if agent in b.agent_ids():
            view_attempt = b.view(agent, now).attempt_id
        try:
            if op == "login":
                return b.login(agent, iface, now)
            if op == "logout":
                return b.logout(agent, now)
            if op == "pause":
                return b.pause(agent, now)
            if op == "unpause":
                return b.unpause(agent, now)
            if op == "reserve":
                self.calls += 1
                effects = b.reserve(agent, f"c{self.calls}", now)
                b.attach_attempt(agent, f"att{self.calls}")
                return effects
            if op == "offer":
                self.calls += 1
                return b.offer(agent, f"c{self.calls}", now)
            if op == "request":
                return b.request_record(agent, now)
            if op == "accept":
                effects = b.accept(agent, now)
                self.accepts += 1
                self.calls += 1
                b.attach_attempt(agent, f"att{self.calls}")
                return effects
            if op == "skip":
                return b.skip(agent, now)
            if op == "dispose":
                return b.set_disposition(agent, now, "done")
        except AgentError:
            return []
        if op == "connect" and view_attempt is not None:
            return b.feed(AgentConnected(view_attempt, iface, now, 0.5), now)
        if op == "queue_connect":
            self.calls += 1
            return b.feed(_call_event(AgentCallKind.CONNECT, iface, now), now) + b.feed(
                AgentConnected(f"att{self.calls}", iface, now, 0.5), now
            )
        if op in ("end_connected", "end_failed") and view_attempt is not None:
            outcome = Outcome.CONNECTED if op == "end_connected" else Outcome.NO_ANSWER
            return b.feed(_ended(view_attempt, outcome, iface), now)
        if op == "complete":
            return b.feed(_call_event(AgentCallKind.COMPLETE, iface, now), now)
        if op == "tick":
            return b.tick(now)
        if op in ("pbx_pause", "pbx_unpause", "pbx_remove"):
            change = MemberChange.REMOVED if op == "pbx_remove" else MemberChange.PAUSE
            # Far from our own actions in time, so never taken for an echo.
            self.now += 10.0
            return b.feed(_member(change, iface, paused=op == "pbx_pause", at_s=self.now), self.now)
        return []

    def finish_calls(self) -> None:
        """End every call and wrap-up the way the world would: ends, then timeouts."""
        b = self.board
        for agent in _AGENTS:
            if agent not in b.agent_ids():
                continue
            view = b.view(agent, self.now)
            if view.state in (S.RESERVED, S.TALKING) and view.attempt_id is not None:
                b.feed(_ended(view.attempt_id, Outcome.CONNECTED, view.interface), self.now)
            elif view.state is S.TALKING:
                b.feed(_call_event(AgentCallKind.COMPLETE, view.interface, self.now), self.now)
        self.now += 1000.0
        b.tick(self.now)


def _check_invariants(d: _Driver, effects: list[AgentEffect]) -> None:
    b = d.board
    counts = b.counts()
    assert len(b.agent_ids()) == sum(counts.values())
    busy = counts[S.RESERVED] + counts[S.OFFERED] + counts[S.TALKING]
    assert busy <= b.logged_in()
    assert set(b.free_agents()) == {a for a in b.agent_ids() if b.state_of(a) is S.READY}
    for e in effects:
        if isinstance(e, PlaceCall):
            d.placed[e.agent_id] += 1
            if e.kind is ReservationKind.PREVIEW or e.kind is ReservationKind.PUSH_PREVIEW:
                d.preview_calls += 1
    for agent in b.agent_ids():
        if b.state_of(agent) in (S.READY, S.PAUSED, S.LOGGED_OUT):
            d.placed[agent] = 0
        assert d.placed[agent] <= 1, f"{agent} holds two calls"
        view = b.view(agent, d.now)
        if view.attempt_id is not None:
            assert agent == b.agent_for_attempt(view.attempt_id)
    assert d.preview_calls <= d.accepts  # never more preview calls than accepts


@settings(max_examples=300, deadline=None)
@given(ops=_OPS)
def test_random_operations_keep_the_board_consistent(ops: list[tuple[str, str, float]]) -> None:
    d = _Driver()
    for op, agent, dt in ops:
        effects = d.apply(op, agent, dt)
        _check_invariants(d, effects)


@settings(max_examples=300, deadline=None)
@given(ops=_OPS, who=st.sampled_from(_AGENTS))
# Found by hypothesis: the queue's connect for an attempt whose Ended was already read ended
# its wrap-up; the attempt was remembered as "ended early", so its second Ended was dropped
# and the agent stayed talking for good (the board now remembers only an Ended still to come).
@example(
    ops=[
        ("login", "a1", 0.0),
        ("queue_connect", "a1", 0.0),
        ("end_connected", "a1", 0.0),
        ("connect", "a1", 0.0),
    ],
    who="a1",
)
def test_a_logout_request_always_completes_once_the_call_ends(
    ops: list[tuple[str, str, float]], who: str
) -> None:
    d = _Driver()
    for op, agent, dt in ops:
        d.apply(op, agent, dt)
    if d.board.state_of(who) is S.LOGGED_OUT:
        return
    d.now += 1.0
    d.board.logout(who, d.now)

    d.finish_calls()

    assert S.LOGGED_OUT == d.board.state_of(who)
    assert 0 == d.board.logging_out()


def test_contacts_are_opaque_hashables() -> None:
    board = _board("a1")
    contact: Hashable = ("lease", 42)

    effects = board.reserve("a1", contact, 1.0, ReservationKind.CALL_PROGRESSIVE)

    assert [PlaceCall("a1", ("lease", 42), ReservationKind.CALL_PROGRESSIVE)] == effects_of_type(
        effects, PlaceCall
    )


def _local_op(board: AgentBoard, op: str, agent: str, iface: str, now: float) -> list[AgentEffect]:
    if op == "login":
        return board.login(agent, iface, now)
    if op == "logout":
        return board.logout(agent, now)
    if op == "pause":
        return board.pause(agent, now, reason="r")
    if op == "unpause":
        return board.unpause(agent, now)
    if op == "reserve":
        return board.reserve(agent, "c", now)
    if op == "release":
        return board.release_reservation(agent, now, reason="x")
    if op == "offer":
        return board.offer(agent, "c", now)
    assert "skip" == op
    return board.skip(agent, now)


class _FakeMemberTable:
    """Asterisk's queue-member table for one queue, as far as our actions touch it.

    Not a mock of the PBX port: it applies our queue effects the way app_queue does
    (QueueAdd of a member fails, QueuePause/QueueRemove of a non-member fails) and produces the
    member event each successful action publishes (queue-member-admin.txt).
    """

    def __init__(self) -> None:
        self.members: dict[str, bool] = {}  # interface -> paused
        self.errors: list[str] = []

    def apply(self, effect: AgentEffect, at_s: float) -> AgentStateChange | None:
        if isinstance(effect, QueueAdd):
            if effect.interface in self.members:
                self.errors.append(f"already there: {effect}")
                return None
            self.members[effect.interface] = effect.paused
            return _member(MemberChange.ADDED, effect.interface, paused=effect.paused, at_s=at_s)
        if isinstance(effect, QueuePause):
            if effect.interface not in self.members:
                self.errors.append(f"not a member: {effect}")
                return None
            self.members[effect.interface] = effect.paused
            return _member(
                MemberChange.PAUSE, effect.interface, paused=effect.paused, reason=effect.reason, at_s=at_s
            )
        if isinstance(effect, QueueRemove):
            if self.members.pop(effect.interface, None) is None:
                self.errors.append(f"not a member: {effect}")
                return None
            return _member(MemberChange.REMOVED, effect.interface, at_s=at_s)
        return None


@settings(max_examples=300, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(
                ["login", "logout", "pause", "unpause", "reserve", "release", "offer", "skip", "deliver"]
            ),
            st.sampled_from(_AGENTS),
            st.integers(0, 3),
        ),
        max_size=50,
    )
)
def test_echoes_of_our_own_queue_actions_never_move_an_agent(ops: list[tuple[str, str, int]]) -> None:
    """Our actions reach the PBX at once; their events come back late, in order, in batches."""
    board = AgentBoard("c1", Q, TIMERS)
    pbx = _FakeMemberTable()
    in_flight: deque[AgentStateChange] = deque()
    now = 0.0
    for op, agent, n in ops:
        now += 0.01
        if op == "deliver":
            for _ in range(min(n, len(in_flight))):
                effects = board.feed(in_flight.popleft(), now)
                assert [] == effects, "an echo moved the board"
            continue
        iface = f"Local/{agent}@sim-agents"
        try:
            effects = _local_op(board, op, agent, iface, now)
        except AgentError:
            continue
        for effect in effects:
            event = pbx.apply(effect, now)
            if event is not None:
                in_flight.append(event)
    while in_flight:
        assert [] == board.feed(in_flight.popleft(), now)

    assert [] == pbx.errors
    for agent in board.agent_ids():
        state = board.state_of(agent)
        iface = f"Local/{agent}@sim-agents"
        assert (state is not S.LOGGED_OUT) == (iface in pbx.members)
        if state is not S.LOGGED_OUT:
            assert (state is not S.READY) == pbx.members[iface]  # paused unless ready


# ------------------------------------------------ the two ends of a call, a quick agent between

# Asterisk says a queue call is over twice — AgentComplete and the customer's hangup (our
# Ended) — in either order, milliseconds apart; an agent quick with the disposition (or a
# zero wrap-up) can finish the call between the two. The second is then old news: not "an
# answered call no agent holds" (the runner would apply the default again) and not an anomaly.


def test_an_ended_after_the_agent_finished_the_call_is_known_as_finished_and_moves_nothing() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)
    board.feed(_call_event(AgentCallKind.COMPLETE, iface, 30.0), 30.0)
    board.set_disposition("a1", 31.0, "ok")

    assert board.finished_before_end("att-1")
    late = board.feed(_ended("att-1", Outcome.CONNECTED, iface), 31.5)

    assert [] == late
    assert (S.READY, None) == (board.state_of("a1"), board.agent_for_attempt("att-1"))
    assert not board.finished_before_end("att-1")  # told once: a repeat is not remembered


def test_a_complete_after_the_agent_finished_the_call_is_no_anomaly() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)
    board.feed(_ended("att-1", Outcome.CONNECTED, iface), 30.0)
    board.set_disposition("a1", 30.0, "ok")

    late = board.feed(_call_event(AgentCallKind.COMPLETE, iface, 30.01), 30.01)

    assert [] == late
    assert S.READY == board.state_of("a1")
    assert not board.finished_before_end("att-1")  # its Ended came first: nothing awaited
    # a second AgentComplete out of nowhere is still reported
    stray = board.feed(_call_event(AgentCallKind.COMPLETE, iface, 40.0), 40.0)
    assert [PeerAnomaly] == [type(e) for e in stray]


def test_the_disposition_timeout_also_leaves_the_late_ended_known() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)
    board.feed(_call_event(AgentCallKind.COMPLETE, iface, 30.0), 30.0)
    timeout = board.tick(30.0 + TIMERS.disposition_timeout_s)

    assert [ApplyDefaultDisposition("a1", "att-1", "contact-1")] == effects_of_type(
        timeout, ApplyDefaultDisposition
    )
    assert board.finished_before_end("att-1")
    assert [] == board.feed(_ended("att-1", Outcome.CONNECTED, iface), 95.0)


def test_a_lost_complete_does_not_swallow_the_next_calls() -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)
    board.feed(_ended("att-1", Outcome.CONNECTED, iface), 30.0)
    board.set_disposition("a1", 30.0, "ok")  # att-1's AgentComplete never comes

    board.feed(_call_event(AgentCallKind.CONNECT, iface, 40.0), 40.0)
    board.feed(AgentConnected("att-2", iface, 40.0, 0.0), 40.0)
    over = board.feed(_call_event(AgentCallKind.COMPLETE, iface, 60.0), 60.0)

    assert [(S.TALKING, S.WRAP_UP)] == _states(over)
    assert "a1" == board.agent_for_attempt("att-2")


@given(
    order=st.permutations(["complete", "ended", "dispose"]),
)
@settings(max_examples=20, deadline=None)
def test_any_order_of_the_two_ends_and_the_disposition_leaves_the_agent_ready_and_quiet(
    order: list[str],
) -> None:
    board = _board("a1")
    iface = "Local/a1@sim-agents"
    _reserved_and_talking(board)
    effects: list[AgentEffect] = []
    t = 30.0
    for step in order:
        t += 0.01
        if step == "complete":
            effects += board.feed(_call_event(AgentCallKind.COMPLETE, iface, t), t)
        elif step == "ended":
            effects += board.feed(_ended("att-1", Outcome.CONNECTED, iface), t)
        elif board.state_of("a1") is S.WRAP_UP:
            effects += board.set_disposition("a1", t, "ok")
    if board.state_of("a1") is S.WRAP_UP:  # the disposition came before the call ended
        effects += board.set_disposition("a1", t + 1, "ok")

    assert S.READY == board.state_of("a1")
    assert [] == effects_of_type(effects, PeerAnomaly)
    assert [] == effects_of_type(effects, ApplyDefaultDisposition)
    assert 1 == len(effects_of_type(effects, RecordDisposition))
    assert not board.finished_before_end("att-1")
