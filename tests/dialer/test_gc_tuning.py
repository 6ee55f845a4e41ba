"""The engine's garbage-collector threshold is set for the body and put back after it."""

from __future__ import annotations

import gc

import pytest

from dialer.gc_tuning import PYTHON_DEFAULT, young_threshold


def test_the_threshold_holds_inside_and_is_restored_after() -> None:
    before = gc.get_threshold()
    with young_threshold(20_000):
        assert gc.get_threshold() == (20_000, *before[1:])  # the older generations keep theirs
    assert gc.get_threshold() == before


def test_zero_means_pythons_default() -> None:
    before = gc.get_threshold()
    with young_threshold(50_000), young_threshold(0):
        assert gc.get_threshold()[0] == PYTHON_DEFAULT
    assert gc.get_threshold() == before


def test_restored_when_the_body_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), young_threshold(30_000):
        raise RuntimeError("engine failed")
    assert gc.get_threshold() == before


def test_fewer_collections_under_the_raised_threshold() -> None:
    """What the setting is for: the same short-lived allocations trigger far fewer young
    collections (counted by the collector's own statistics)."""

    def young_collections(threshold: int) -> int:
        with young_threshold(threshold):
            start = gc.get_stats()[0]["collections"]
            for _ in range(200):
                # a read's worth of containers: alive together for a moment, then freed by
                # reference counting (as the messages of one socket read)
                batch = [{"header": "value"} for _ in range(2000)]
                del batch
            return gc.get_stats()[0]["collections"] - start

    default, raised = young_collections(0), young_collections(20_000)
    assert raised < default
