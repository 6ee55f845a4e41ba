"""The board's agent index equals the scan of every agent it replaces, after any sequence of events.

The runner's decision reads the index (issue 18 item 2); the reference here is what the board
computed before it had one: a view of every agent, filtered and sorted on each call.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ami.agent_events import AgentCallEvent, AgentCallKind, AgentStateChange, DeviceState, MemberChange
from ami.outcome import AgentConnected, CallOutcome, Ended, Outcome
from dialer.agents.board import AgentBoard
from dialer.agents.index import DEVICE_CANNOT_TAKE
from dialer.agents.state import AgentState, AgentTimers
from dialer.errors import AgentError

Q = "q1"
AGENTS = ("a1", "a2", "a3", "a4")
TIMERS = AgentTimers(offer_timeout_s=5.0, disposition_timeout_s=7.0, ring_timeout_s=15.0, connect_limit_s=1.0)


def _iface(agent: str) -> str:
    return f"PJSIP/{agent}"


def _ended(attempt: str, outcome: Outcome, agent: str | None) -> Ended:
    return Ended(
        CallOutcome(attempt, outcome, None, None, None, agent, None, None, None, None, None, None, None)
    )


def _member(
    change: MemberChange, agent: str, device: DeviceState, paused: bool, at_s: float
) -> AgentStateChange:
    return AgentStateChange(
        change, Q, _iface(agent), None, device, paused, "phone" if paused else None, False, 0, "dynamic", at_s
    )


agent_ids = st.sampled_from(AGENTS)
attempts = st.sampled_from(("t1", "t2", "t3", "t4"))
ops = st.one_of(
    st.tuples(st.just("login"), agent_ids, st.booleans()),
    st.tuples(st.just("logout"), agent_ids),
    st.tuples(st.just("pause"), agent_ids),
    st.tuples(st.just("unpause"), agent_ids),
    st.tuples(st.just("request_record"), agent_ids),
    st.tuples(st.just("reserve"), agent_ids, st.integers(1, 9)),
    st.tuples(st.just("offer"), agent_ids, st.integers(1, 9)),
    st.tuples(st.just("accept"), agent_ids),
    st.tuples(st.just("skip"), agent_ids),
    st.tuples(st.just("dispose"), agent_ids),
    st.tuples(st.just("attach"), agent_ids, attempts),
    st.tuples(st.just("release"), agent_ids),
    st.tuples(
        st.just("member"),
        agent_ids,
        st.sampled_from(list(MemberChange)),
        st.sampled_from(list(DeviceState)),
        st.booleans(),
    ),
    st.tuples(
        st.just("agent_call"), agent_ids, st.sampled_from([AgentCallKind.CONNECT, AgentCallKind.COMPLETE])
    ),
    st.tuples(st.just("connected"), attempts, agent_ids),
    st.tuples(st.just("ended"), attempts, st.sampled_from(list(Outcome)), st.one_of(st.none(), agent_ids)),
    st.tuples(st.just("tick")),
)


def _apply(board: AgentBoard, op: tuple, at_s: float) -> None:
    name, *args = op
    a = args[0] if args else None
    try:
        if name == "login":
            board.login(a, _iface(a), at_s, paused=args[1])
        elif name == "logout":
            board.logout(a, at_s)
        elif name == "pause":
            board.pause(a, at_s)
        elif name == "unpause":
            board.unpause(a, at_s)
        elif name == "request_record":
            board.request_record(a, at_s)
        elif name == "reserve":
            board.reserve(a, args[1], at_s)
        elif name == "offer":
            board.offer(a, args[1], at_s)
        elif name == "accept":
            board.accept(a, at_s)
        elif name == "skip":
            board.skip(a, at_s)
        elif name == "dispose":
            board.set_disposition(a, at_s, "done")
        elif name == "attach":
            board.attach_attempt(a, args[1])
        elif name == "release":
            board.release_reservation(a, at_s, reason="refused")
        elif name == "member":
            board.feed(_member(args[1], a, args[2], args[3], at_s), at_s)
        elif name == "agent_call":
            board.feed(
                AgentCallEvent(args[1], Q, _iface(a), None, "u", "u", None, None, None, None, None, at_s),
                at_s,
            )
        elif name == "connected":
            board.feed(AgentConnected(a, _iface(args[1]), at_s, None), at_s)
        elif name == "ended":
            board.feed(_ended(a, args[1], _iface(args[2]) if args[2] else None), at_s)
        else:
            board.tick(at_s)
    except AgentError:
        pass  # misuse is refused before anything changes; the index must still agree


def _check(board: AgentBoard, now: float) -> None:
    views = board.views(now)
    ready = [v for v in views if v.state is AgentState.READY]
    free = sorted(
        (v for v in ready if v.device not in DEVICE_CANNOT_TAKE), key=lambda v: (v.since_at, v.agent_id)
    )
    assert board.free_agents() == [v.agent_id for v in free]
    assert board.free_count() == len(free)
    entries = {aid: board._roster.agents[aid] for aid in board.agent_ids()}
    asking = sorted(
        (e for e in entries.values() if e.state is AgentState.READY and e.record_requested_at is not None),
        key=lambda e: (e.record_requested_at, e.agent_id),
    )
    assert board.awaiting_record() == [e.agent_id for e in asking]
    counts = dict.fromkeys(AgentState, 0)
    for v in views:
        counts[v.state] += 1
    assert board.counts() == counts
    assert board.logged_in() == len(views) - counts[AgentState.LOGGED_OUT]
    deadlines = sorted(
        [
            (e.offer_deadline_at, e.agent_id)
            for e in entries.values()
            if e.state is AgentState.OFFERED and e.offer_deadline_at is not None
        ]
        + [
            (e.wrap_deadline_at, e.agent_id)
            for e in entries.values()
            if e.state is AgentState.WRAP_UP and e.wrap_deadline_at is not None
        ]
    )
    assert board.next_deadline_at() == (deadlines[0][0] if deadlines else None)
    assert board._roster.index.due(now) == [d for d in deadlines if d[0] <= now]
    load = board.load(now)
    assert load.talking_elapsed_s == tuple(v.in_state_s for v in views if v.state is AgentState.TALKING)
    assert load.wrapping_elapsed_s == tuple(v.in_state_s for v in views if v.state is AgentState.WRAP_UP)
    assert load.reserved == counts[AgentState.RESERVED] + counts[AgentState.OFFERED]
    assert load.paused == counts[AgentState.PAUSED]
    assert load.record_requests == len(asking)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(ops, st.floats(0.0, 4.0)), max_size=60))
def test_the_index_equals_the_scan_after_any_event_sequence(steps: list[tuple[tuple, float]]) -> None:
    board = AgentBoard("c1", Q, TIMERS)
    now = 0.0
    for op, dt in steps:
        now += dt
        _apply(board, op, now)
        _check(board, now)
