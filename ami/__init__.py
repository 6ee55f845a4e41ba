"""The AMI side: framing, outcome mapping, the panoramisk client shell, a simulated PBX.

Names are exported lazily (PEP 562 ``__getattr__``) so that importing a pure module such as
``ami.framing`` or ``ami.outcome`` does not drag in asyncio, panoramisk and structlog through
the I/O shell.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AmiClient": "ami.client",
    "ConnectionState": "ami.client",
    "OriginateQueued": "ami.client",
    "QueueMemberEntry": "ami.client",
    "QueueParamsEntry": "ami.client",
    "QueueStatusReport": "ami.client",
    "AmiPool": "ami.pool",
    "AmiError": "ami.errors",
    "AmiProtocolError": "ami.errors",
    "AmiActionError": "ami.errors",
    "AmiAuthError": "ami.errors",
    "AmiConnectionLost": "ami.errors",
    "AmiNotConnected": "ami.errors",
    "AmiActionFailed": "ami.errors",
    "AmiTimeout": "ami.errors",
    "AmiCapacityError": "ami.errors",
    "AmiMessage": "ami.framing",
    "AmiFramer": "ami.framing",
    "Outcome": "ami.outcome",
    "CallOutcome": "ami.outcome",
    "Answered": "ami.outcome",
    "AmdDetected": "ami.outcome",
    "AgentConnected": "ami.outcome",
    "Ended": "ami.outcome",
    "AttemptMachine": "ami.outcome",
    "EventRouter": "ami.routing",
    "SimulatedPbx": "ami.simulator.server",
    "SimAgent": "ami.simulator.server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ami' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
