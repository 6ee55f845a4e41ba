"""The forecast tables evaluated on a grid are the cell-by-cell tables to the last bit
(``pacing.predictive._residual_on_grid``; ``benchmarks.decision_latency`` times both)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from benchmarks.decision_latency import cell_by_cell
from benchmarks.decision_latency import main as decision_latency
from pacing import UK, US, PredictivePolicy, PredictiveSettings
from pacing.snapshot import CallObservation
from pacing.stats import CallOutcomeKind

KINDS = [CallOutcomeKind.CONNECTED] * 3 + [CallOutcomeKind.NO_ANSWER, CallOutcomeKind.BUSY]


def _learned(seed: int, calls: int, settings: PredictiveSettings, uk: bool = False) -> PredictivePolicy:
    policy = PredictivePolicy(UK if uk else US, settings)
    rng = random.Random(seed)
    t = 0.0
    for _ in range(calls):
        t += rng.uniform(0.1, 2.0)
        kind = rng.choice(KINDS)
        policy.observe_call(CallObservation(t, kind, rng.uniform(3, 25)))
        if kind is CallOutcomeKind.CONNECTED:
            policy.observe_talk(t, rng.lognormvariate(rng.uniform(2.0, 6.0), rng.uniform(0.3, 1.5)))
            policy.observe_wrap(t, rng.lognormvariate(rng.uniform(0.5, 3.5), rng.uniform(0.2, 1.0)))
    policy._refresh_tables(t)
    return policy


@pytest.mark.parametrize(
    ("seed", "calls", "empirical", "uk"),
    [(1, 0, True, False), (2, 40, True, False), (3, 3000, True, False), (4, 500, False, False),
     (5, 2000, True, True)],
)
def test_grid_tables_equal_the_cell_by_cell_ones_bit_for_bit(seed: int, calls: int, empirical: bool,
                                                             uk: bool) -> None:
    policy = _learned(seed, calls, PredictiveSettings(empirical_durations=empirical), uk)
    tables = policy._tables
    assert tables is not None
    f_talk, f_wrap = cell_by_cell(policy)
    assert np.array_equal(f_talk, tables.f_talk)
    assert np.array_equal(f_wrap, tables.f_wrap)
    assert 0.0 < float(tables.f_talk.max()) <= 1.0 and float(tables.f_talk.min()) >= 0.0


def test_the_decision_latency_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 == decision_latency(["--scenario", "S3", "--hours", "0.1", "--rounds", "1"])
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if line.startswith("| S3 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[1]) > 0 and cells[-1] == "yes"


def test_the_decision_latency_benchmark_refuses_a_bad_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert 2 == decision_latency(["--hours", "0"])
    assert "--hours must be positive" in capsys.readouterr().err
