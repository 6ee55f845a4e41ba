"""An agent busy in another campaign of the engine: the board and the engine's presence record.

The board part is pure (``AgentBoard.set_elsewhere``); the record
(:class:`~dialer.campaign.presence.AgentPresence`) is checked against a model over random
sequences of reports, joins and leaves.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ami.outcome import Outcome
from dialer.agents.state import AgentState, QueuePause, effects_of_type
from dialer.campaign.presence import AgentPresence
from tests.dialer.agents.test_agents import Q, _board, _ended, _reserved_and_talking

S = AgentState
IFACE = "Local/a1@sim-agents"


def test_a_ready_agent_busy_elsewhere_is_not_free_and_its_member_is_paused_until_it_is_free_again() -> None:
    board = _board("a1", "a2")

    held = board.set_elsewhere("a1", frozenset({"B"}), 5.0)
    during = (board.free_agents(), board.state_of("a1"))
    again = board.set_elsewhere("a1", frozenset({"B"}), 6.0)  # nothing new: nothing sent
    freed = board.set_elsewhere("a1", frozenset(), 9.0)

    assert [QueuePause("a1", Q, IFACE, True, "dialer:elsewhere")] == effects_of_type(held, QueuePause)
    assert (["a2"], S.READY) == during  # ready here, but not free
    assert [] == again
    assert [QueuePause("a1", Q, IFACE, False, None)] == effects_of_type(freed, QueuePause)
    assert {"a1", "a2"} == set(board.free_agents())


def test_an_agent_who_asked_for_a_record_is_not_offered_one_while_busy_elsewhere() -> None:
    board = _board("a1")
    board.request_record("a1", 1.0)
    board.set_elsewhere("a1", frozenset({"B"}), 2.0)
    asking = board.awaiting_record()
    board.set_elsewhere("a1", frozenset(), 3.0)
    assert ([], ["a1"]) == (asking, board.awaiting_record())


def test_busy_elsewhere_during_a_call_here_keeps_the_agent_held_after_its_wrap_up() -> None:
    # the other campaign reserved the agent (a race the PBX decides); once the wrap-up here
    # is over, the agent stays out of this campaign's free agents, its member still paused
    board = _board("a1")
    _reserved_and_talking(board)
    during = board.set_elsewhere("a1", frozenset({"B"}), 20.0)
    board.feed(_ended("att-1", Outcome.CONNECTED), 30.0)
    done = board.set_disposition("a1", 35.0, "sale")

    assert [] == effects_of_type(during, QueuePause)  # paused for the call already
    assert [(S.WRAP_UP, S.READY)] == [(e.old, e.new) for e in done if hasattr(e, "old")]
    assert [] == effects_of_type(done, QueuePause)  # not unpaused: busy elsewhere
    assert [] == board.free_agents()


def test_an_agent_never_logged_in_here_is_ignored() -> None:
    board = _board("a1")
    assert [] == board.set_elsewhere("zz", frozenset({"B"}), 1.0)


def test_presence_tells_the_other_campaigns_only_what_changed() -> None:
    presence = AgentPresence()
    told: list[tuple[str, str, frozenset[str]]] = []
    for c in ("A", "B", "C"):
        presence.join(c, lambda agent, where, c=c: told.append((c, agent, where)))

    presence.report("x", "A", busy=True)
    first = sorted(told)
    told.clear()
    presence.report("x", "A", busy=True)  # no change
    unchanged = list(told)
    presence.report("x", "B", busy=True)
    both = sorted(told)
    told.clear()
    presence.leave("A")  # A's runner stops: x is busy only in B now

    assert [("B", "x", frozenset({"A"})), ("C", "x", frozenset({"A"}))] == first
    assert [] == unchanged
    assert [("A", "x", frozenset({"B"})), ("C", "x", frozenset({"A", "B"}))] == both
    assert [("B", "x", frozenset()), ("C", "x", frozenset({"B"}))] == sorted(told)
    assert (frozenset(), frozenset({"B"})) == (presence.elsewhere("x", "B"), presence.elsewhere("x", "C"))


_CAMPAIGNS = ("A", "B", "C")
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("report"), st.sampled_from(("x", "y")), st.sampled_from(_CAMPAIGNS), st.booleans()),
        st.tuples(st.just("leave"), st.just(""), st.sampled_from(_CAMPAIGNS), st.just(False)),
        st.tuples(st.just("join"), st.just(""), st.sampled_from(_CAMPAIGNS), st.just(False)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_OPS)
def test_every_joined_campaign_last_heard_the_agents_busy_set_outside_it(
    ops: list[tuple[str, str, str, bool]],
) -> None:
    presence = AgentPresence()
    heard: dict[tuple[str, str], frozenset[str]] = {}  # (campaign, agent) -> last told
    busy: dict[str, set[str]] = {"x": set(), "y": set()}  # the model
    joined: set[str] = set()

    def listener(campaign: str):  # type: ignore[no-untyped-def]
        return lambda agent, where: heard.__setitem__((campaign, agent), where)

    for op, agent, campaign, flag in ops:
        if op == "join":
            presence.join(campaign, listener(campaign))
            joined.add(campaign)
            for a in busy:  # a runner that starts asks at each login (AgentEffects)
                heard[(campaign, a)] = presence.elsewhere(a, campaign)
        elif op == "leave":
            presence.leave(campaign)
            joined.discard(campaign)
            for a in busy:
                busy[a].discard(campaign)
        else:
            presence.report(agent, campaign, busy=flag)
            (busy[agent].add if flag else busy[agent].discard)(campaign)
        for c in joined:
            for a, where in busy.items():
                assert heard.get((c, a), frozenset()) == frozenset(where - {c})
                assert presence.elsewhere(a, c) == frozenset(where - {c})
