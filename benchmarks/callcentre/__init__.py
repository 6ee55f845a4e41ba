"""A virtual-time call-centre simulator for pacing policies (and, later, the whole engine)."""

from benchmarks.callcentre.baselines import FixedRatioPolicy, VicidialAdaptivePolicy
from benchmarks.callcentre.clock import VirtualClock
from benchmarks.callcentre.errors import (
    ClockWentBackwards,
    PolicyBrokeContract,
    ScenarioError,
    SimulationError,
)
from benchmarks.callcentre.scenario import SCENARIOS, CallDraws, Scenario
from benchmarks.callcentre.simulation import ShiftResult, run_shift

__all__ = [
    "SCENARIOS",
    "CallDraws",
    "ClockWentBackwards",
    "FixedRatioPolicy",
    "PolicyBrokeContract",
    "Scenario",
    "ScenarioError",
    "ShiftResult",
    "SimulationError",
    "VicidialAdaptivePolicy",
    "VirtualClock",
    "run_shift",
]
