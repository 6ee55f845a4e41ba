from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from dialer.model import Backoff, RetryRule, Trigger
from dialer.retry import Counters, next_position, plan

AT = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
DAY = AT.date()
FRESH = Counters(attempts=0, outcome_counts={}, day_attempts=0, day_attempts_on=None)


def test_fixed_delay_after_the_only_number() -> None:
    step = plan(
        trigger=Trigger.BUSY,
        rule=RetryRule(delay_s=600),
        counters=FRESH,
        at=AT,
        local_day=DAY,
        positions=[1],
        current_pos=1,
        max_attempts=10,
    )
    assert AT + dt.timedelta(seconds=600) == step.not_before
    assert (1, {"busy": 1}, 1, None) == (
        step.attempts,
        step.outcome_counts,
        step.day_attempts,
        step.closed_reason,
    )


def test_multiplicative_backoff_grows_per_occurrence() -> None:
    rule = RetryRule(delay_s=60, backoff=Backoff.MULTIPLICATIVE, factor=3.0)
    counters = Counters(attempts=2, outcome_counts={"no_answer": 2}, day_attempts=2, day_attempts_on=DAY)
    step = plan(
        trigger=Trigger.NO_ANSWER,
        rule=rule,
        counters=counters,
        at=AT,
        local_day=DAY,
        positions=[1],
        current_pos=1,
        max_attempts=10,
    )
    assert AT + dt.timedelta(seconds=60 * 9) == step.not_before
    assert 3 == step.day_attempts


def test_next_number_is_tried_at_once_before_the_first_is_retried() -> None:
    step = plan(
        trigger=Trigger.NO_ANSWER,
        rule=RetryRule(delay_s=3600),
        counters=FRESH,
        at=AT,
        local_day=DAY,
        positions=[1, 2, 3],
        current_pos=1,
        max_attempts=10,
    )
    assert (2, AT) == (step.next_phone_pos, step.not_before)
    last = plan(
        trigger=Trigger.NO_ANSWER,
        rule=RetryRule(delay_s=3600),
        counters=FRESH,
        at=AT,
        local_day=DAY,
        positions=[1, 2, 3],
        current_pos=3,
        max_attempts=10,
    )
    assert (1, AT + dt.timedelta(hours=1)) == (last.next_phone_pos, last.not_before)


def test_outcome_budget_closes_the_contact() -> None:
    counters = Counters(attempts=1, outcome_counts={"busy": 1}, day_attempts=1, day_attempts_on=DAY)
    step = plan(
        trigger=Trigger.BUSY,
        rule=RetryRule(delay_s=60, max_attempts=2),
        counters=counters,
        at=AT,
        local_day=DAY,
        positions=[1],
        current_pos=1,
        max_attempts=10,
    )
    assert "max_busy" == step.closed_reason


def test_global_cap_wins_over_generous_outcome_budgets() -> None:
    counters = Counters(
        attempts=4, outcome_counts={"busy": 2, "no_answer": 2}, day_attempts=0, day_attempts_on=None
    )
    step = plan(
        trigger=Trigger.MACHINE,
        rule=RetryRule(delay_s=60, max_attempts=5),
        counters=counters,
        at=AT,
        local_day=DAY,
        positions=[1],
        current_pos=1,
        max_attempts=5,
    )
    assert "max_attempts" == step.closed_reason


def test_invalid_number_disables_it_and_moves_on() -> None:
    step = plan(
        trigger=Trigger.INVALID_NUMBER,
        rule=RetryRule(delay_s=0),
        counters=FRESH,
        at=AT,
        local_day=DAY,
        positions=[1, 2],
        current_pos=1,
        max_attempts=10,
    )
    assert (True, 2, None) == (step.disable_phone, step.next_phone_pos, step.closed_reason)
    only = plan(
        trigger=Trigger.INVALID_NUMBER,
        rule=RetryRule(delay_s=0),
        counters=FRESH,
        at=AT,
        local_day=DAY,
        positions=[1],
        current_pos=1,
        max_attempts=10,
    )
    assert "no_valid_number" == only.closed_reason


def test_day_counter_restarts_on_a_new_day() -> None:
    counters = Counters(
        attempts=3, outcome_counts={}, day_attempts=3, day_attempts_on=DAY - dt.timedelta(days=1)
    )
    step = plan(
        trigger=Trigger.BUSY,
        rule=RetryRule(),
        counters=counters,
        at=AT,
        local_day=DAY,
        positions=[1],
        current_pos=1,
        max_attempts=10,
    )
    assert (1, DAY) == (step.day_attempts, step.day_attempts_on)


@given(st.sets(st.integers(1, 9), min_size=1), st.integers(1, 9))
def test_rotation_visits_every_number_once_per_round(positions: set[int], start: int) -> None:
    ordered = sorted(positions)
    current = start if start in positions else ordered[0]
    seen = [current]
    wraps = 0
    for _ in range(len(ordered)):
        current, wrapped = next_position(ordered, current)
        wraps += wrapped
        seen.append(current)
    assert sorted(set(seen)) == ordered
    assert 1 == wraps
    assert seen[0] == seen[-1]


@given(st.integers(0, 10_000), st.floats(1.0, 5.0), st.integers(1, 8))
def test_backoff_never_shrinks(delay: int, factor: float, n: int) -> None:
    rule = RetryRule(delay_s=delay, backoff=Backoff.MULTIPLICATIVE, factor=factor)
    assert rule.delay_for(n) <= rule.delay_for(n + 1)
    assert float(delay) == rule.delay_for(1)
