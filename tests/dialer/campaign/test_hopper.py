"""The hopper: which leased contacts wait, which need an agent, which are renewed."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from dialer.campaign.hopper import Hopper, needs_agent
from dialer.model import LeasedContact

T0 = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def lease(
    cid: int, reason: str = "fresh", agent_id: int | None = None, *, agent_required: bool = False
) -> LeasedContact:
    return LeasedContact(
        contact_id=cid,
        campaign_id=1,
        phone_id=cid,
        e164=f"+4851000{cid:04d}",
        name="",
        fields={},
        agent_id=agent_id,
        callback_id=None,
        reason=reason,
        lease_owner="e1",
        lease_expires_at=T0,
        agent_required=agent_required,
    )


def test_callbacks_my_record_call_progressive_and_uk_locked_need_an_agent_fresh_and_retry_do_not() -> None:
    assert [True, True, True, True, False, False] == [
        needs_agent(lease(1, "callback")),
        needs_agent(lease(2, "call_progressive")),
        needs_agent(lease(3, "retry", agent_id=7)),
        needs_agent(lease(4, "retry", agent_required=True)),
        needs_agent(lease(5, "retry")),
        needs_agent(lease(6, "fresh")),
    ]


def test_fresh_contacts_come_out_in_lease_order_and_agent_ones_never_do() -> None:
    h = Hopper()
    assert 4 == h.add([lease(1), lease(2, "call_progressive"), lease(3, "retry"), lease(4, "callback")], 0.0)
    assert [1, 3, None] == [getattr(h.take_fresh(), "contact_id", None) for _ in range(3)]
    assert [2, 4] == [e.lease.contact_id for e in h.agent_entries()]
    assert (2, 0, 2) == (h.depth, h.fresh_depth, h.agent_depth)


def test_a_contact_is_added_once_wherever_it_is() -> None:
    h = Hopper()
    h.add([lease(1), lease(2)], 0.0)
    h.take_fresh()
    h.mark_dialled(1)
    assert 0 == h.add([lease(1), lease(2)], 1.0)


def test_a_contact_leased_again_before_its_call_settles_goes_in_line_when_it_settles() -> None:
    # the disposition's write released the lease and a refill took the due callback again
    # before the write's settle reached the hopper: the new lease must not be forgotten
    h = Hopper()
    h.add([lease(1)], 0.0)
    h.take_fresh()
    h.mark_dialled(1)
    assert 0 == h.add([lease(1, "callback", agent_id=7)], 5.0)
    assert (0, 1, [1]) == (h.depth, h.in_progress, h.leased_ids())
    assert lease(1) == h.settle(1)  # the old call settles
    [entry] = h.agent_entries()
    assert (lease(1, "callback", agent_id=7), 5.0, 0) == (entry.lease, entry.leased_at, h.in_progress)


def test_a_held_contact_given_back_takes_a_later_lease_with_it() -> None:
    h = Hopper()
    h.add([lease(1)], 0.0)
    h.take_fresh()
    h.add([lease(1, "retry")], 1.0)
    h.unhold(1)  # the caller releases the contact's lease, whichever it is
    assert (0, 0, None) == (h.depth, h.in_progress, h.settle(1))


def test_dialled_and_held_contacts_are_renewed_and_kept_when_a_waiting_lease_is_lost() -> None:
    h = Hopper()
    h.add([lease(1), lease(2), lease(3, "callback")], 0.0)
    h.take_fresh()
    h.mark_dialled(1)
    assert [1, 2, 3] == sorted(h.leased_ids())
    assert [2, 3] == sorted(h.drop_lost(still_held=set()))
    assert [1] == h.leased_ids()
    assert h.dialled(1) is not None


def test_release_waiting_empties_both_lines_but_keeps_calls_in_progress() -> None:
    h = Hopper()
    h.add([lease(1), lease(2, "callback"), lease(3)], 0.0)
    h.take_fresh()
    assert [2, 3] == sorted(h.release_waiting())
    assert (0, 1) == (h.depth, h.in_progress)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "take", "dial", "settle", "unhold", "lose"]),
            st.integers(1, 12),
            st.sampled_from(["fresh", "retry", "callback", "call_progressive"]),
        ),
        max_size=60,
    )
)
def test_every_contact_is_in_exactly_one_place(ops: list[tuple[str, int, str]]) -> None:
    h = Hopper()
    for op, cid, reason in ops:
        if op == "add":
            h.add([lease(cid, reason)], 0.0)
        elif op == "take":
            h.take(cid)
        elif op == "dial":
            h.mark_dialled(cid)
        elif op == "settle":
            h.settle(cid)
        elif op == "unhold":
            h.unhold(cid)
        else:
            h.drop_lost({c for c in h.leased_ids() if c != cid})
        ids = h.leased_ids()
        assert len(ids) == len(set(ids))
        assert len(ids) == h.depth + h.in_progress
        if op == "add":  # an add always leaves the contact in the hopper, waiting or after its call
            assert cid in ids



def test_waiting_contacts_expire_at_the_end_of_their_window_calls_in_progress_do_not() -> None:
    import dataclasses

    h = Hopper()
    end = T0 + dt.timedelta(minutes=10)
    closing = [dataclasses.replace(lease(i), dial_until=end) for i in (1, 2, 3)]
    h.add([*closing, lease(4), dataclasses.replace(lease(5, "callback"), dial_until=end)], 0.0)
    assert h.take_fresh() == closing[0]
    h.mark_dialled(1)
    assert h.take_fresh() == closing[1]  # held for an agent
    assert [] == h.expire_waiting(end - dt.timedelta(seconds=1))
    assert [3, 5] == h.expire_waiting(end)
    assert (1, 1, 2) == (h.depth, h.fresh_depth, h.in_progress)
    assert sorted(h.leased_ids()) == [1, 2, 4]
