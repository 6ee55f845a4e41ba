"""The simulator's exception hierarchy."""

from __future__ import annotations


class SimulationError(Exception):
    """Root of every error the call-centre simulator raises on purpose."""


class ClockWentBackwards(SimulationError):
    """Something asked the virtual clock to schedule or jump into the past."""

    def __init__(self, now_s: float, at_s: float) -> None:
        self.now_s = now_s
        self.at_s = at_s
        super().__init__(f"virtual clock: cannot go back from t={now_s} to t={at_s}")


class ScenarioError(SimulationError):
    """A scenario parameter is out of range; ``field`` names it."""

    def __init__(self, field: str, reason: str, value: object = None) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {reason}{shown}")


class PolicyBrokeContract(SimulationError):
    """A pacing policy asked for something impossible (more calls than lines, ...)."""
