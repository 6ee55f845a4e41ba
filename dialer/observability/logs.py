"""Structured logging set-up: JSON off a terminal, readable console on one, never a secret.

Every process calls :func:`configure_logging` once from its composition root. Modules log
with ``log = structlog.get_logger(__name__)`` and snake_case event names; campaign and
attempt ids are bound with ``structlog.contextvars.bind_contextvars`` so every line in a
runner task carries them. The redaction processor is the last line of defence: a value that
is a :class:`config.Secret`, or sits under a key that names a secret, is written as ``***``
whatever the caller passed, and a DSN's password is masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from config import Secret

# Keys whose values are secrets wherever they appear in an event dict.
_SECRET_KEYS = frozenset({"secret", "password", "passwd", "token", "api_token", "authorization", "dsn"})
# user:password@ in URLs/DSNs (postgresql://user:pw@host/db).
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def redact(value: Any) -> Any:
    """Mask a value that is or contains a secret."""
    if isinstance(value, Secret):
        return "***"
    if isinstance(value, str) and "://" in value:
        return _URL_PASSWORD.sub(r"\g<scheme>***@", value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets by type, by key name and inside URLs."""
    for key, value in list(event_dict.items()):
        if key.lower() in _SECRET_KEYS and value is not None:
            event_dict[key] = "***"
        else:
            event_dict[key] = redact(value)
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog for this process.

    Args:
        fmt: ``json`` (production, one object a line), ``console`` (colour, for people) or
            ``auto`` (console when ``stream`` is a terminal, else JSON).
        level: minimum level name.
        stream: where lines go (``sys.stderr`` by default, so stdout stays for command output).
    """
    stream = sys.stderr if stream is None else stream
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=getattr(stream, "isatty", lambda: False)())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level.lower(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
