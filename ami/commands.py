"""``dialer ami ...`` and ``dialer simulate-pbx`` commands (registered by dialer.cli)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the AMI commands to the ``dialer`` sub-command tree."""
    del sub  # the AMI issue adds `ami replay` and `simulate-pbx` here


def _unused(args: argparse.Namespace) -> int:  # pragma: no cover
    return 0
