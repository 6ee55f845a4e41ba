"""A string that must never reach a log line, a metric or a traceback.

Secrets (AMI password, database password, API tokens) are wrapped on load; ``repr`` and
``str`` both give ``'***'`` so an accidental ``log.info(..., cfg=cfg)`` leaks nothing. Code
that really needs the value calls :meth:`Secret.reveal` at the one place it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Secret:
    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)
