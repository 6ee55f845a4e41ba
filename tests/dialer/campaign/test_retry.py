from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from dialer.campaign.retry import Counters, next_position, plan
from dialer.model import Backoff, RetryRule, Trigger

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


def _step(trigger: Trigger, delay_s: int, pos: int, at: dt.datetime, positions: list[int], **kw: object):
    return plan(
        trigger=trigger,
        rule=RetryRule(delay_s=delay_s),
        counters=FRESH,
        at=at,
        local_day=DAY,
        positions=positions,
        current_pos=pos,
        max_attempts=10,
        **kw,  # type: ignore[arg-type]
    )


def test_back_to_the_first_number_after_an_invalid_second_waits_for_the_first_delay() -> None:
    """The reported bug: A no answer (1 h), B invalid (no delay) must not dial A again at once."""
    a = _step(Trigger.NO_ANSWER, 3600, 1, AT, [1, 2])
    assert (2, AT, AT + dt.timedelta(hours=1)) == (a.next_phone_pos, a.not_before, a.round_due)
    later = AT + dt.timedelta(seconds=40)
    b = _step(Trigger.INVALID_NUMBER, 0, 2, later, [1, 2], round_due=a.round_due)
    assert (1, True, None) == (b.next_phone_pos, b.disable_phone, b.closed_reason)
    assert AT + dt.timedelta(hours=1) == b.not_before
    assert b.round_due is None  # the round wrapped: the next one starts with nothing owed


def test_busy_then_machine_waits_for_the_longer_of_the_two() -> None:
    a = _step(Trigger.BUSY, 600, 1, AT, [1, 2])
    b = _step(Trigger.MACHINE, 4 * 3600, 2, AT, [1, 2], round_due=a.round_due)
    assert (1, AT + dt.timedelta(hours=4)) == (b.next_phone_pos, b.not_before)
    # and the other way round: a long first delay is not cut short by a short last one
    c = _step(Trigger.MACHINE, 4 * 3600, 1, AT, [1, 2])
    d = _step(Trigger.BUSY, 600, 2, AT, [1, 2], round_due=c.round_due)
    assert AT + dt.timedelta(hours=4) == d.not_before


def test_a_disabled_number_is_skipped_and_the_round_wraps_on_the_last_enabled_one() -> None:
    a = _step(Trigger.NO_ANSWER, 3600, 1, AT, [1, 3])  # number 2 disabled
    assert (3, AT) == (a.next_phone_pos, a.not_before)
    b = _step(Trigger.INVALID_NUMBER, 0, 3, AT, [1, 3], round_due=a.round_due)
    assert (1, AT + dt.timedelta(hours=1)) == (b.next_phone_pos, b.not_before)


def test_every_number_invalid_closes_the_contact_with_a_clear_reason() -> None:
    a = _step(Trigger.INVALID_NUMBER, 0, 1, AT, [1, 2])
    assert (2, AT, None) == (a.next_phone_pos, a.not_before, a.closed_reason)
    b = _step(Trigger.INVALID_NUMBER, 0, 2, AT, [2], round_due=a.round_due)
    assert ("no_valid_number", True, None) == (b.closed_reason, b.disable_phone, b.round_due)


def test_an_explicit_not_before_wins_over_what_the_round_owes() -> None:
    a = _step(Trigger.NO_ANSWER, 3600, 1, AT, [1, 2])
    soon = AT + dt.timedelta(minutes=5)
    b = _step(Trigger.INVALID_NUMBER, 0, 2, AT, [1, 2], round_due=a.round_due, not_before=soon)
    assert soon == b.not_before


_DELAYS = {Trigger.BUSY: 600, Trigger.NO_ANSWER: 3600, Trigger.MACHINE: 4 * 3600, Trigger.CONGESTION: 300}


@given(
    st.sets(st.integers(1, 5), min_size=1, max_size=4),
    st.lists(
        st.tuples(st.sampled_from([*_DELAYS, Trigger.INVALID_NUMBER]), st.integers(0, 120)),
        min_size=1,
        max_size=12,
    ),
)
def test_a_number_is_never_dialled_before_its_retry_delay(
    positions: set[int], events: list[tuple[Trigger, int]]
) -> None:
    """Whatever the sequence of failures, a number's next dial is not before the retry it earned."""
    alive = sorted(positions)
    pos, at, owed = alive[0], AT, None
    earned: dict[int, dt.datetime] = {}
    counters = FRESH
    for trigger, lag in events:
        assert at >= earned.get(pos, at), (pos, at, earned)
        delay = _DELAYS.get(trigger, 0)
        step = plan(
            trigger=trigger,
            rule=RetryRule(delay_s=delay),
            counters=counters,
            at=at,
            local_day=DAY,
            positions=alive,
            current_pos=pos,
            max_attempts=100,
            round_due=owed,
        )
        earned[pos] = at + dt.timedelta(seconds=delay)
        if step.disable_phone:
            alive = [p for p in alive if p != pos]
        if step.closed_reason is not None:
            assert not alive
            return
        assert step.not_before is not None and step.not_before >= at
        counters = Counters(step.attempts, step.outcome_counts, step.day_attempts, step.day_attempts_on)
        pos, owed = step.next_phone_pos, step.round_due
        at = step.not_before + dt.timedelta(seconds=lag)  # the dialler picks it up a bit later
