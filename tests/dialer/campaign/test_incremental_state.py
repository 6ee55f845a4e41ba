"""The call table's counts and the hopper's expiry, kept current, equal the scans they replace.

Random sequences of adds, updates and removals (hypothesis); the reference is the walk of every
call (or waiting contact) the runner did on each decision before issue 18 item 2.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.campaign.calls import CallTable, InFlightCall
from dialer.campaign.hopper import Hopper, window_ended
from dialer.model import LeasedContact

T0 = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)


def _lease(contact_id: int, reason: str = "fresh", until_min: int | None = None) -> LeasedContact:
    until = None if until_min is None else T0 + dt.timedelta(minutes=until_min)
    return LeasedContact(
        contact_id=contact_id,
        campaign_id=1,
        phone_id=contact_id,
        e164="+15550000000",
        name="",
        fields={},
        agent_id=None,
        callback_id=None,
        reason=reason,
        lease_owner="e1",
        lease_expires_at=T0 + dt.timedelta(hours=1),
        dial_until=until,
    )


attempt_ids = st.sampled_from([f"t{i}" for i in range(6)])
call_ops = st.one_of(
    st.tuples(
        st.just("add"), attempt_ids, st.one_of(st.none(), st.sampled_from(["a1", "a2"])), st.floats(0, 50)
    ),
    st.tuples(st.just("pop"), attempt_ids),
    st.tuples(st.just("answered"), attempt_ids, st.one_of(st.none(), st.floats(0, 50))),
    st.tuples(st.just("connected"), attempt_ids, st.one_of(st.none(), st.floats(0, 50))),
    st.tuples(st.just("agent"), attempt_ids, st.one_of(st.none(), st.sampled_from(["a1", "a2"]))),
    st.tuples(st.just("launched"), attempt_ids, st.floats(0, 50)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(call_ops, max_size=60), st.floats(0, 100))
def test_the_call_tables_counts_equal_a_walk_of_every_call(steps: list[tuple], now: float) -> None:
    table = CallTable()
    popped: list[InFlightCall] = []
    for name, aid, *args in steps:
        call = table.get(aid)
        if name == "add":
            table.add(InFlightCall(aid, _lease(1), args[0], args[1]))
        elif name == "pop":
            if (gone := table.pop(aid)) is not None:
                popped.append(gone)
        elif call is not None:
            setattr(
                call,
                {
                    "answered": "answered_at",
                    "connected": "connected_at",
                    "agent": "agent",
                    "launched": "launched_at",
                }[name],
                args[0],
            )
        for gone in popped:  # a call no longer tracked changes nothing
            gone.answered_at = now
        calls = list(table)
        assert table.ringing_ages_s(now) == [
            now - c.launched_at for c in calls if c.agent is None and c.answered_at is None
        ]
        assert table.reserved_ringing() == sum(
            1 for c in calls if c.agent is not None and c.connected_at is None
        )
        assert table.customers_waiting() == sum(
            1 for c in calls if c.agent is None and c.answered_at is not None and c.connected_at is None
        )


hopper_ops = st.one_of(
    st.tuples(
        st.just("add"),
        st.lists(
            st.tuples(
                st.integers(1, 12),
                st.sampled_from(["fresh", "call_progressive"]),
                st.one_of(st.none(), st.integers(0, 30)),
            ),
            max_size=5,
        ),
    ),
    st.tuples(st.just("take_fresh")),
    st.tuples(st.just("take"), st.integers(1, 12)),
    st.tuples(st.just("settle"), st.integers(1, 12)),
    st.tuples(st.just("expire"), st.integers(0, 40)),
    st.tuples(st.just("release")),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hopper_ops, max_size=40))
def test_the_hoppers_expiry_equals_a_walk_of_every_waiting_contact(steps: list[tuple]) -> None:
    hopper = Hopper()
    for name, *args in steps:
        if name == "add":
            hopper.add([_lease(cid, reason, until) for cid, reason, until in args[0]], 0.0)
        elif name == "take_fresh":
            hopper.take_fresh()
        elif name == "take":
            hopper.take(args[0])
        elif name == "settle":
            hopper.settle(args[0])
        elif name == "release":
            hopper.release_waiting()
        else:
            at = T0 + dt.timedelta(minutes=args[0])
            waiting = [e.lease for e in hopper._fresh] + [e.lease for e in hopper._agent.values()]
            expected = [lease.contact_id for lease in waiting if window_ended(lease, at)]
            assert hopper.expire_waiting(at) == expected
            assert not any(window_ended(e.lease, at) for e in (*hopper._fresh, *hopper._agent.values()))
        assert hopper._fresh_ids == {e.lease.contact_id for e in hopper._fresh}
        assert len(hopper._fresh_ids) == len(hopper._fresh)  # no contact twice in line
