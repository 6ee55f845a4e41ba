"""Agent time per minute (``dialer.campaign.occupancy``): what the runner's turns report, split
at minute boundaries, kept until written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.campaign.occupancy import MINUTE_S, Occupancy


def test_the_counts_held_since_the_last_turn_are_charged_split_at_the_minute() -> None:
    occ = Occupancy()
    occ.advance(50.0, logged_in=3, talking=1)  # nothing before the first turn
    occ.advance(70.0, logged_in=2, talking=2)  # 50..70 at 3 logged in, 1 talking
    occ.advance(75.0, logged_in=0, talking=0)  # 70..75 at 2 and 2
    occ.advance(500.0, logged_in=1, talking=0)  # nobody logged in: nothing, no empty minutes
    minutes = occ.take()
    assert [(0.0, 30.0, 10.0), (60.0, 3 * 10.0 + 2 * 5.0, 10.0 + 2 * 5.0)] == [
        (m.start, m.logged_in_s, m.talking_s) for m in minutes
    ]
    assert 0 == occ.pending


def test_take_starts_the_minute_under_way_again_and_give_back_adds_to_it() -> None:
    occ = Occupancy()
    occ.advance(0.0, logged_in=2, talking=1)
    occ.advance(90.0, logged_in=2, talking=1)
    done = occ.take()
    assert [(0.0, 120.0), (60.0, 60.0)] == [(m.start, m.logged_in_s) for m in done]
    assert 0 == occ.pending
    occ.advance(100.0, logged_in=2, talking=1)  # 90..100: the rest of the minute under way
    occ.give_back(done)  # the write failed
    minutes = {m.start: (m.logged_in_s, m.talking_s) for m in occ.take()}
    assert {0.0: (120.0, 60.0), 60.0: (80.0, 40.0)} == minutes


def test_more_talking_than_logged_in_is_charged_as_all_logged_in_talking() -> None:
    occ = Occupancy()
    occ.advance(0.0, logged_in=1, talking=4)
    occ.advance(10.0, logged_in=1, talking=0)
    [m] = occ.take()
    assert (10.0, 10.0) == (m.logged_in_s, m.talking_s)


def test_a_clock_that_goes_back_charges_nothing_for_the_gap() -> None:
    occ = Occupancy()
    occ.advance(100.0, logged_in=1, talking=0)
    occ.advance(90.0, logged_in=1, talking=0)
    occ.advance(110.0, logged_in=1, talking=0)
    [m] = occ.take()
    assert 10.0 == m.logged_in_s


turns = st.lists(
    st.tuples(st.floats(0.0, 400.0), st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=40
)


@given(turns)
def test_every_second_is_charged_once_to_its_minute(steps: list[tuple[float, int, int]]) -> None:
    occ = Occupancy()
    now, expected_in, expected_talk = 1_000.0, 0.0, 0.0
    held = (0, 0)
    for gap, logged_in, talking in steps:
        occ.advance(now, logged_in=logged_in, talking=talking)
        held = (logged_in, min(talking, logged_in))
        now += gap
        expected_in += gap * held[0]
        expected_talk += gap * held[1]
    occ.advance(now, logged_in=0, talking=0)
    minutes = occ.take()
    assert sum(m.logged_in_s for m in minutes) == pytest.approx(expected_in, abs=1e-6)
    assert sum(m.talking_s for m in minutes) == pytest.approx(expected_talk, abs=1e-6)
    assert all(m.start % MINUTE_S == 0 for m in minutes)
    assert all(m.talking_s <= m.logged_in_s + 1e-9 for m in minutes)
    assert all(m.logged_in_s <= MINUTE_S * 30 + 1e-6 for m in minutes)
