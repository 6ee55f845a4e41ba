"""What happens to a contact after an attempt: the pure rules, no database.

Theory of operation: an attempt that ends in an automatic trigger (busy, no answer, ...)
or an agent's disposition looks up the campaign's retry rule for that status. The contact's
counters go up (all attempts, attempts today, attempts with this trigger). Then, in order:

1. a cap reached closes the contact: the campaign's global cap, or this trigger's own
   budget. The per-day cap does not close it; eligibility skips it until the next day.
   Per-outcome budgets alone would stack up (5 busy + 5 no answer + 5 machine = 15 calls),
   which is what users of other dialers complain about, hence the global cap on top.
2. on a failed attempt the next number of the contact is tried at once, before the first
   one is retried; the retry delay starts only when every number had its turn in the round.
   The delay each failure of the round earned is remembered (``round_due``): when the round
   wraps, the contact waits for the latest of them as well as for the last trigger's own
   delay. Without it, "A no answer, then B invalid" went back to A at once, because the
   invalid number's rule (no delay) was the only one consulted.
3. otherwise the contact is due again after the rule's delay (fixed, or multiplied by
   ``factor`` for each earlier attempt with the same trigger).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dialer.model import RetryRule, Trigger

# Triggers after which the number itself is useless; the contact moves to its next number.
_DEAD_NUMBER = frozenset({Trigger.INVALID_NUMBER})


@dataclass(frozen=True, slots=True)
class Counters:
    attempts: int
    outcome_counts: Mapping[str, int]
    day_attempts: int
    day_attempts_on: dt.date | None


@dataclass(frozen=True, slots=True)
class NextStep:
    attempts: int
    outcome_counts: dict[str, int]
    day_attempts: int
    day_attempts_on: dt.date
    not_before: dt.datetime | None
    next_phone_pos: int
    closed_reason: str | None
    disable_phone: bool
    round_due: dt.datetime | None


def next_position(positions: Sequence[int], current: int) -> tuple[int, bool]:
    """The position after ``current`` among the enabled ``positions``, and whether it wrapped.

    ``positions`` must be non-empty. A single number always wraps (it is its own next).
    """
    ordered = sorted(positions)
    for pos in ordered:
        if pos > current:
            return pos, False
    return ordered[0], True


def plan(
    *,
    trigger: Trigger | None,
    rule: RetryRule,
    counters: Counters,
    at: dt.datetime,
    local_day: dt.date,
    positions: Sequence[int],
    current_pos: int,
    max_attempts: int,
    not_before: dt.datetime | None = None,
    round_due: dt.datetime | None = None,
) -> NextStep:
    """The contact's next state after an attempt that ended with ``trigger``.

    Args:
        trigger: the automatic trigger, or ``None`` for an agent disposition (no rotation).
        rule: the campaign's retry rule for the status being applied.
        counters: the contact's counters before this attempt.
        at: when the attempt ended.
        local_day: the campaign-local calendar day of ``at`` (for the per-day cap).
        positions: positions of the contact's numbers that are still enabled, the current one
            included (it is dropped here when the trigger says the number is dead).
        current_pos: position of the number just dialled.
        max_attempts: the campaign's cap of attempts per contact.
        not_before: an explicit date (an agent's "call not before"); wins over the rule.
        round_due: the latest retry time earned by earlier failures of the current round
            (numbers left at once for the next one); the round's wrap waits for it.
    """
    attempts = counters.attempts + 1
    day = counters.day_attempts + 1 if counters.day_attempts_on == local_day else 1
    counts = dict(counters.outcome_counts)
    occurrence = 0
    if trigger is not None:
        occurrence = counts.get(trigger.value, 0) + 1
        counts[trigger.value] = occurrence

    disable = trigger in _DEAD_NUMBER
    alive = [p for p in positions if not (disable and p == current_pos)]
    closed: str | None = None
    if not alive:
        closed = "no_valid_number"
    elif attempts >= max_attempts:
        closed = "max_attempts"
    elif trigger is not None and rule.max_attempts is not None and occurrence >= rule.max_attempts:
        closed = f"max_{trigger.value}"

    next_pos = current_pos
    due: dt.datetime | None = not_before
    owed: dt.datetime | None = None
    if alive:
        if trigger is None:
            next_pos = current_pos if current_pos in alive else sorted(alive)[0]
            if due is None and rule.delay_s > 0:
                due = at + dt.timedelta(seconds=rule.delay_s)
        else:
            next_pos, wrapped = next_position(alive, current_pos)
            earned = at + dt.timedelta(seconds=rule.delay_for(max(occurrence, 1)))
            if not wrapped:
                owed = earned if round_due is None else max(round_due, earned)
                if not_before is None:
                    due = at
            elif due is None:
                due = earned if round_due is None else max(round_due, earned)
    if closed is not None:
        owed = None
    return NextStep(
        attempts=attempts,
        outcome_counts=counts,
        day_attempts=day,
        day_attempts_on=local_day,
        not_before=due,
        next_phone_pos=next_pos,
        closed_reason=closed,
        disable_phone=disable,
        round_due=owed,
    )
