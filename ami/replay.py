"""``dialer ami replay FILE...``: derive the outcome of captured AMI transcripts."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Register ``dialer ami replay`` (filled in by the AMI outcome work)."""
    del sub
