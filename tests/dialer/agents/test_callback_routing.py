"""Callback routing: personal callbacks to their agent (with grace), campaign ones to anyone, first."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ami.agent_events import AgentStateChange, DeviceState, MemberChange
from dialer.agents.board import AgentBoard
from dialer.agents.callback_routing import (
    AssignCallback,
    ConvertToCampaignCallback,
    DueCallback,
    WaitForAgent,
    dispatch,
    route_callbacks,
)
from dialer.agents.state import AgentState, AgentTimers, PlaceCall, ReservationKind, effects_of_type
from dialer.errors import ValidationError

GRACE = 600.0
PERSONAL = ReservationKind.PERSONAL_CALLBACK
CAMPAIGN = ReservationKind.CAMPAIGN_CALLBACK


def _board(*agents: str) -> AgentBoard:
    board = AgentBoard("c1", "campaign1", AgentTimers())
    for i, agent_id in enumerate(agents):
        board.login(agent_id, f"Local/{agent_id}@sim-agents", float(i))
    return board


def _status(agent_id: str, state: DeviceState, at_s: float) -> AgentStateChange:
    iface = f"Local/{agent_id}@sim-agents"
    return AgentStateChange(
        MemberChange.STATUS, "campaign1", iface, None, state, False, None, False, 0, None, at_s
    )


def test_personal_callback_goes_only_to_its_free_agent() -> None:
    board = _board("a1", "a2")  # a1 is the longest idle, but the callback is a2's

    plan = route_callbacks([DueCallback("k1", 100.0, "a2")], board, 100.0, grace_s=GRACE)

    assert (AssignCallback("a2", "k1", PERSONAL),) == plan.assignments
    assert ("a1",) == plan.free_for_fresh


def test_personal_callback_waits_for_its_busy_agent_without_conversion() -> None:
    board = _board("a1", "a2")
    board.reserve("a2", "other", 50.0)

    plan = route_callbacks([DueCallback("k1", 100.0, "a2")], board, 100.0 + 10 * GRACE, grace_s=GRACE)

    assert () == plan.assignments and () == plan.conversions
    assert (WaitForAgent("k1", "a2", None),) == plan.waiting
    assert ("a1",) == plan.free_for_fresh


@pytest.mark.parametrize("away", ["logged_out", "paused", "logging_out", "never_seen", "unregistered"])
def test_personal_callback_of_an_away_agent_waits_out_the_grace_then_goes_to_the_campaign(away: str) -> None:
    board = _board("a1", "a2")
    if away == "logged_out":
        board.logout("a2", 10.0)
    elif away == "paused":
        board.pause("a2", 10.0)
    elif away == "logging_out":
        board.reserve("a2", "other", 10.0)
        board.logout("a2", 11.0)
    elif away == "unregistered":
        board.feed(_status("a2", DeviceState.UNAVAILABLE, 10.0), 10.0)
    owner = "a9" if away == "never_seen" else "a2"
    due = [DueCallback("k1", 100.0, owner)]

    within = route_callbacks(due, board, 100.0 + GRACE - 1, grace_s=GRACE)
    past = route_callbacks(due, board, 100.0 + GRACE, grace_s=GRACE)

    assert (WaitForAgent("k1", owner, 100.0 + GRACE),) == within.waiting
    assert () == within.assignments and () == within.conversions
    assert 1 == len(past.conversions) and ("k1", owner) == (
        past.conversions[0].contact,
        past.conversions[0].agent_id,
    )
    assert isinstance(past.conversions[0], ConvertToCampaignCallback)
    assert (AssignCallback("a1", "k1", CAMPAIGN),) == past.assignments


def test_campaign_callbacks_go_earliest_due_to_longest_idle_and_before_fresh_records() -> None:
    board = _board("a1", "a2", "a3")
    due = [DueCallback("late", 200.0), DueCallback("early", 100.0)]

    plan = route_callbacks(due, board, 300.0, grace_s=GRACE)

    assert (
        AssignCallback("a1", "early", CAMPAIGN),
        AssignCallback("a2", "late", CAMPAIGN),
    ) == plan.assignments
    assert ("a3",) == plan.free_for_fresh


def test_campaign_callbacks_without_free_agents_stay_unassigned() -> None:
    board = _board("a1")
    due = [DueCallback("k1", 100.0), DueCallback("k2", 101.0)]

    plan = route_callbacks(due, board, 300.0, grace_s=GRACE)

    assert (AssignCallback("a1", "k1", CAMPAIGN),) == plan.assignments
    assert (DueCallback("k2", 101.0),) == plan.unassigned
    assert () == plan.free_for_fresh


def test_an_agent_with_a_personal_callback_is_not_also_given_a_campaign_one() -> None:
    board = _board("a1", "a2")

    plan = route_callbacks(
        [DueCallback("camp", 50.0), DueCallback("mine", 100.0, "a1")], board, 300.0, grace_s=GRACE
    )

    assert {("a1", "mine"), ("a2", "camp")} == {(a.agent_id, a.contact) for a in plan.assignments}


def test_personal_callback_waits_while_its_agents_phone_is_busy() -> None:
    board = _board("a1")
    status = AgentStateChange(
        MemberChange.STATUS,
        "campaign1",
        "Local/a1@sim-agents",
        None,
        DeviceState.INUSE,
        False,
        None,
        True,
        0,
        None,
        5.0,
    )
    board.feed(status, 5.0)

    plan = route_callbacks([DueCallback("k1", 1.0, "a1")], board, 10.0, grace_s=GRACE)

    assert (WaitForAgent("k1", "a1", None),) == plan.waiting


def test_two_personal_callbacks_of_one_agent_take_turns() -> None:
    board = _board("a1")

    plan = route_callbacks(
        [DueCallback("k2", 200.0, "a1"), DueCallback("k1", 100.0, "a1")], board, 300.0, grace_s=GRACE
    )

    assert (AssignCallback("a1", "k1", PERSONAL),) == plan.assignments
    assert (WaitForAgent("k2", "a1", None),) == plan.waiting


def test_dispatch_reserves_the_assigned_agents() -> None:
    board = _board("a1", "a2")
    plan = route_callbacks([DueCallback("k1", 1.0, "a2"), DueCallback("k2", 1.0)], board, 5.0, grace_s=GRACE)

    effects = dispatch(plan, board, 5.0)

    assert [PlaceCall("a2", "k1", PERSONAL), PlaceCall("a1", "k2", CAMPAIGN)] == effects_of_type(
        effects, PlaceCall
    )
    assert [] == board.free_agents()


def test_negative_grace_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        route_callbacks([], _board("a1"), 0.0, grace_s=-1.0)
    assert "grace_s" == err.value.field


_AGENTS = ["a1", "a2", "a3", "a4"]


@settings(max_examples=200, deadline=None)
@given(
    states=st.lists(st.sampled_from(["ready", "paused", "out", "reserved"]), min_size=4, max_size=4),
    due=st.lists(
        st.tuples(st.floats(0.0, 2000.0), st.one_of(st.none(), st.sampled_from([*_AGENTS, "gone"]))),
        max_size=12,
    ),
    now=st.floats(0.0, 3000.0),
)
def test_routing_properties(states: list[str], due: list[tuple[float, str | None]], now: float) -> None:
    board = _board(*_AGENTS)
    for agent, state in zip(_AGENTS, states, strict=True):
        if state == "paused":
            board.pause(agent, 10.0)
        elif state == "out":
            board.logout(agent, 10.0)
        elif state == "reserved":
            board.reserve(agent, "x", 10.0)
    callbacks = [DueCallback(f"k{i}", at, agent) for i, (at, agent) in enumerate(due)]
    free = set(board.free_agents())

    plan = route_callbacks(callbacks, board, now, grace_s=GRACE)

    assigned = [a.agent_id for a in plan.assignments]
    assert len(assigned) == len(set(assigned)), "an agent got two callbacks"
    assert set(assigned) <= free
    assert free == set(assigned) | set(plan.free_for_fresh)
    converted = {c.contact for c in plan.conversions}
    by_contact = {c.contact: c for c in callbacks}
    for a in plan.assignments:
        cb = by_contact[a.contact]
        if a.kind is PERSONAL:
            assert cb.agent_id == a.agent_id
        else:
            assert cb.agent_id is None or cb.contact in converted
    for c in plan.conversions:
        assert now >= by_contact[c.contact].due_at + GRACE
    handled = {a.contact for a in plan.assignments} | {w.contact for w in plan.waiting}
    handled |= {u.contact for u in plan.unassigned}
    assert set(by_contact) == handled  # every callback has exactly one fate this pass
    assert len(plan.assignments) + len(plan.waiting) + len(plan.unassigned) == len(callbacks)
    if plan.unassigned:
        assert () == plan.free_for_fresh  # callbacks before fresh records
    for agent in assigned:
        assert AgentState.READY == board.state_of(agent)
