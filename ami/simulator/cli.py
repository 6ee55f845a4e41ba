"""``dialer simulate-pbx``: run the simulated PBX as a process."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Register ``dialer simulate-pbx`` (filled in by the simulator work)."""
    del sub
