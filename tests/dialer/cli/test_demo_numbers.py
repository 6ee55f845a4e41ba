"""The demo's numbers: every count the option allows is drawn from the fiction ranges, each once."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from ami.simulator.population import convention_class
from dialer.cli.demo_numbers import CAPACITY, MAX_CONTACTS, is_drama_number, sample_csv


def _numbers(text: str, n: int) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == n
    numbers = [r["phone"] for r in rows] + [r["phone2"] for r in rows if r["phone2"]]
    assert len(numbers) == len(set(numbers)), "a number drawn twice (the import refuses it)"
    assert all(is_drama_number(x) for x in numbers)
    # none the simulated PBX scripts (a 600 hangs up before any agent: an abandon whatever the pacing)
    assert [x for x in numbers if convention_class(x) is not None] == []
    return numbers


def test_the_largest_demo_fits_the_ranges_for_a_seed_whose_draw_wanted_more_second_numbers() -> None:
    # seed 2 draws more than 30% second numbers for 10,000 contacts: the demo crashed with
    # numpy's "Cannot take a larger sample than population" before the ranges were respected
    numbers = _numbers(sample_csv(MAX_CONTACTS, 2), MAX_CONTACTS)
    assert len(numbers) == CAPACITY


@settings(max_examples=25, deadline=None)
@given(
    n=st.one_of(st.integers(0, 200), st.integers(MAX_CONTACTS - 300, MAX_CONTACTS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_allowed_count_and_seed_draws_distinct_fiction_numbers(n: int, seed: int) -> None:
    numbers = _numbers(sample_csv(n, seed), n)
    assert n <= len(numbers) <= CAPACITY
    if n >= 100:  # about 30% have a second number, fewer only where the ranges run out
        assert len(numbers) - n >= min(0.2 * n, CAPACITY - n)
