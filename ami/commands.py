"""AMI command groups for the ``dialer`` CLI: ``dialer ami replay`` and ``dialer simulate-pbx``.

Each lives with the code it drives (``ami.replay``, ``ami.simulator.cli``) and registers its
own sub-parser; this module only collects them for :mod:`dialer.cli`.
"""

from __future__ import annotations

from typing import Any

from ami import replay
from ami.simulator import cli as simulator_cli


def register(sub: Any) -> None:
    """Add the AMI commands to the ``dialer`` sub-command tree."""
    replay.register(sub)
    simulator_cli.register(sub)
