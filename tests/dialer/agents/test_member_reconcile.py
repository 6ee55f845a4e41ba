"""The board's queue members against what the PBX says (issue 19 item 3): pure rules."""

from __future__ import annotations

from ami.agent_events import AgentStateChange, MemberChange
from dialer.agents.board import AgentBoard
from dialer.agents.state import AgentState, QueueAdd, QueuePause
from tests.dialer.agents.test_agents import Q, _member


def snapshot(interface: str, *, paused: bool, reason: str | None, at_s: float) -> AgentStateChange:
    return _member(MemberChange.SNAPSHOT, interface, paused=paused, reason=reason, at_s=at_s)


def ready_board(*names: str, at_s: float = 0.0) -> AgentBoard:
    board = AgentBoard("c", Q)
    for name in names:
        board.login(name, f"PJSIP/{name}", at_s)
    return board


def test_a_member_the_pbx_lost_is_added_back_with_the_agents_pause() -> None:
    board = ready_board("a", "b", "c")
    board.pause("b", 0.0, reason="lunch")
    board.logout("c", 0.0)
    effects = board.reconcile_members({"PJSIP/a"}, 100.0, after_reconnect=False)
    adds = [e for e in effects if isinstance(e, QueueAdd)]
    assert [(e.agent_id, e.paused, e.reason) for e in adds] == [("b", True, "lunch")]
    assert board.reconcile_members({"PJSIP/a", "PJSIP/b"}, 101.0, after_reconnect=False) == []


def test_a_member_with_our_action_in_flight_is_left_alone_unless_the_connection_dropped() -> None:
    board = ready_board("a")
    # the login's QueueAdd was just sent: a QueueStatus reply may predate it
    assert board.reconcile_members(set(), 1.0, after_reconnect=False) == []
    effects = board.reconcile_members(set(), 1.0, after_reconnect=True)  # that action died
    assert [type(e) for e in effects] == [QueueAdd]


def test_a_dialer_hold_left_on_a_ready_agent_is_lifted_not_obeyed() -> None:
    board = ready_board("a")
    board.feed(snapshot("PJSIP/a", paused=False, reason=None, at_s=0.1), 0.1)  # the login's echo
    board.reconcile_members({"PJSIP/a"}, 100.0, after_reconnect=True)  # forget the echoes
    effects = board.feed(snapshot("PJSIP/a", paused=True, reason="dialer:reserved", at_s=100.0), 100.0)
    assert board.state_of("a") is AgentState.READY
    assert [(e.paused, e.reason) for e in effects if isinstance(e, QueuePause)] == [(False, None)]


def test_an_agents_own_pause_on_the_phone_is_obeyed() -> None:
    board = ready_board("a")
    board.reconcile_members({"PJSIP/a"}, 100.0, after_reconnect=True)
    board.feed(snapshot("PJSIP/a", paused=True, reason="coffee", at_s=100.0), 100.0)
    assert board.state_of("a") is AgentState.PAUSED


def test_forget_echoes_drops_only_a_matching_tail() -> None:
    board = ready_board("a")  # expects the QueueAdd's echo
    assert not board.forget_echoes("PJSIP/a", [(MemberChange.PAUSE, True), (MemberChange.PAUSE, False)])
    assert board.forget_echoes("PJSIP/a", [(MemberChange.ADDED, None)])
    assert not board.forget_echoes("PJSIP/nobody", [])
