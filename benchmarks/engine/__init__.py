"""Adapters that run the real campaign runner in a benchmark: an in-memory store, a virtual PBX."""

from benchmarks.engine.memory_store import MemoryStore, StatusRule, number_of
from benchmarks.engine.virtual_pbx import FATE_NAMES, CallFate, ShiftTally, VirtualPbx, worst_hour

__all__ = [
    "FATE_NAMES",
    "CallFate",
    "MemoryStore",
    "ShiftTally",
    "StatusRule",
    "VirtualPbx",
    "number_of",
    "worst_hour",
]
