"""The soak benchmark's whole path, briefly: engine process, simulated PBX, faults, invariants.

A smoke run (15 s of faults, every 3 s on average) so the benchmark cannot rot unseen (it once
broke on the campaign rules of issue 11 and only a 20-minute run found out); the real figures
come from ``python -m benchmarks.soak --minutes 30``.
"""

from __future__ import annotations

import pytest

from benchmarks import soak


def test_a_short_soak_converges_to_no_violation(capsys: pytest.CaptureFixture[str]) -> None:
    code = soak.main(
        ["--minutes", "0.25", "--fault-every-s", "3", "--settle-s", "90", "--contacts", "500",
         "--agents", "3", "--seed", "4"]
    )
    out = capsys.readouterr().out
    assert "engine alive: True" in out, out
    assert "invariant violations: 0" in out, out
    assert 0 == code
