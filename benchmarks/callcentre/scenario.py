"""Scenarios (who answers, how fast, how long they talk) and common random numbers.

A scenario describes a population of called numbers and a team. :class:`CallDraws` hands
out the random numbers of call ``k`` from a stream indexed by ``k`` (block ``k // 4096`` of
a generator seeded with ``(seed, stream, block)``), so every policy run with the same seed
meets the same k-th call: same outcome draw, answer time, talk time and wrap time. Policies
are then compared on the same calls, and differences are theirs, not the dice's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from benchmarks.callcentre.errors import ScenarioError

_BLOCK = 4096


@dataclass(frozen=True, slots=True)
class Scenario:
    """A team and a called population. Times in seconds; shares of launched calls.

    ``no_answer`` is whatever the other shares leave. ``human_drift``, when given, makes
    the human-answer share move piecewise-linearly through those values, evenly spaced
    over the shift (S6: 0.40 -> 0.15 -> 0.30).
    """

    name: str
    title: str
    agents: int
    human: float
    machine: float
    busy: float
    failed: float
    answer_mean_s: float
    ring_timeout_s: float
    talk_mean_s: float
    talk_cv: float
    wrap_mean_s: float
    human_drift: tuple[float, ...] | None = None
    answer_cv: float = 0.5
    wrap_cv: float = 0.3
    early_end_s: float = 3.0           # busy and failed calls end after 3 s (the issue)
    amd_detect_s: float = 3.0          # machine answers are detected after 3 s (the issue)
    amd_false_positive: float = 0.05   # human answers taken for machines (the issue)
    amd_false_negative: float = 0.10   # machines passed as humans (the issue)
    machine_agent_s: float = 10.0      # an undetected machine holds an agent 10 s (the issue)

    def __post_init__(self) -> None:
        if self.agents < 1:
            raise ScenarioError("agents", "must be at least 1", self.agents)
        for name in ("human", "machine", "busy", "failed", "amd_false_positive", "amd_false_negative",
                     "answer_cv", "wrap_cv"):
            value = getattr(self, name)
            if not 0.0 <= value <= (1.0 if name not in ("answer_cv", "wrap_cv") else 10.0):
                raise ScenarioError(name, "out of range", value)
        for name in ("answer_mean_s", "ring_timeout_s", "talk_mean_s", "wrap_mean_s"):
            if not getattr(self, name) > 0:
                raise ScenarioError(name, "must be positive", getattr(self, name))
        if not self.talk_cv > 0:
            raise ScenarioError("talk_cv", "must be positive", self.talk_cv)
        peak_human = max(self.human_drift) if self.human_drift else self.human
        if peak_human + self.machine + self.busy + self.failed > 1.0 + 1e-9:
            raise ScenarioError("shares", "human + machine + busy + failed exceed 1",
                                round(peak_human + self.machine + self.busy + self.failed, 6))

    @property
    def no_answer(self) -> float:
        return 1.0 - self.human - self.machine - self.busy - self.failed

    def human_at(self, t_s: float, shift_s: float) -> float:
        """The human-answer share for a call placed at ``t_s`` into a shift of ``shift_s``."""
        points = self.human_drift
        if not points:
            return self.human
        if len(points) == 1:
            return points[0]
        x = min(max(t_s / shift_s, 0.0), 1.0) * (len(points) - 1)
        i = min(int(x), len(points) - 2)
        return points[i] + (points[i + 1] - points[i]) * (x - i)

    def clairvoyant_talk_share(self) -> float:
        """The bound: each live answer meets an agent the instant their wrap ends."""
        return self.talk_mean_s / (self.talk_mean_s + self.wrap_mean_s)

    def with_overrides(self, **changes: object) -> Scenario:
        """A copy with some parameters replaced (validated again)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


class CallDraws:
    """The random numbers of call ``k``, the same for every policy (see module docstring).

    ``draw(k)`` returns ``(u_outcome, answer_s, talk_s, wrap_s, u_amd)``.
    """

    def __init__(self, scenario: Scenario, seed: int, stream: int = 0) -> None:
        self._seed = seed
        self._stream = stream
        self._blocks: dict[int, list[tuple[float, float, float, float, float]]] = {}
        self._ans = _lognormal_params(scenario.answer_mean_s, scenario.answer_cv)
        self._talk = _lognormal_params(scenario.talk_mean_s, scenario.talk_cv)
        self._wrap = _lognormal_params(scenario.wrap_mean_s, scenario.wrap_cv)
        # An answer must come before the ring timeout; clip (the issue fixes the mean only).
        self._ans_max = max(scenario.ring_timeout_s - 0.5, 0.5)

    def _block(self, b: int) -> list[tuple[float, float, float, float, float]]:
        rng = np.random.default_rng([self._seed, self._stream, b])
        u = rng.random(_BLOCK)
        z = rng.standard_normal((3, _BLOCK))
        v = rng.random(_BLOCK)
        ans = np.clip(np.exp(self._ans[0] + self._ans[1] * z[0]), 0.5, self._ans_max)
        talk = np.maximum(np.exp(self._talk[0] + self._talk[1] * z[1]), 1.0)
        wrap = np.exp(self._wrap[0] + self._wrap[1] * z[2])
        rows = list(zip(u.tolist(), ans.tolist(), talk.tolist(), wrap.tolist(), v.tolist(), strict=True))
        self._blocks[b] = rows
        return rows

    def draw(self, k: int) -> tuple[float, float, float, float, float]:
        b, i = divmod(k, _BLOCK)
        rows = self._blocks.get(b)
        if rows is None:
            rows = self._block(b)
            self._blocks.pop(b - 2, None)
        return rows[i]


#: The issue's six scenarios.
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("S1", "mid", 20, 0.30, 0.10, 0.10, 0.05, 8, 25, 120, 0.8, 10),
        Scenario("S2", "small team", 5, 0.30, 0.10, 0.10, 0.05, 8, 25, 120, 0.8, 10),
        Scenario("S3", "large", 100, 0.30, 0.10, 0.10, 0.05, 8, 25, 120, 0.8, 10),
        Scenario("S4", "cold list", 20, 0.08, 0.15, 0.07, 0.10, 10, 25, 90, 1.0, 15),
        Scenario("S5", "short calls", 20, 0.35, 0.10, 0.10, 0.05, 7, 20, 30, 0.6, 5),
        Scenario("S6", "drifting", 30, 0.40, 0.10, 0.10, 0.05, 8, 25, 150, 1.2, 10,
                 human_drift=(0.40, 0.15, 0.30)),
    )
}
