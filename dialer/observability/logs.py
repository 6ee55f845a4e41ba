"""Structured logging set-up: JSON off a terminal, readable console on one, never a secret.

Every process calls :func:`configure_logging` once from its composition root. Modules log
with ``log = structlog.get_logger(__name__)`` and snake_case event names; campaign and
attempt ids are bound with ``structlog.contextvars.bind_contextvars`` so every line in a
runner task carries them. The redaction processor is the last line of defence: a value that
is a :class:`config.Secret`, or sits under a key that names a secret, is written as ``***``
whatever the caller passed, and a DSN's password is masked.

Every line in JSON mode is JSON (issue 19 item 6). What does not come through structlog — a
library's stdlib ``logging`` (asyncpg's tracebacks during a database outage), asyncio's
"Task exception was never retrieved" (its default exception handler logs to the ``asyncio``
logger), ``warnings.warn`` (``logging.captureWarnings``) and an exception nobody caught
(``sys.excepthook``) — is routed through :class:`structlog.stdlib.ProcessorFormatter` with
the same processors and renderer, so it is redacted and rendered like our own lines.

Repeated warnings are rate-limited (:class:`RepeatLimiter`): a peer sending garbage made
9,678 identical warnings in 40 s. Each event name at warning level or above has a token
bucket; a line over the budget is dropped and counted, and the next line of that event that
passes carries ``similar_suppressed``: how many were dropped since the previous one.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, MutableMapping
from types import TracebackType
from typing import Any, TextIO

import structlog

from config import Secret

__all__ = ["RepeatLimiter", "configure_logging", "redact", "redact_secrets"]

# Keys whose values are secrets wherever they appear in an event dict.
_SECRET_KEYS = frozenset({"secret", "password", "passwd", "token", "api_token", "authorization", "dsn"})
# user:password@ in URLs/DSNs (postgresql://user:pw@host/db). The password runs to the LAST
# '@' of the text: an unencoded '@' or a space in it (issue 19 item 7) must not end the mask
# early; masking a little too much beats showing part of a password.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*:).*@", re.IGNORECASE | re.DOTALL)

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_LIMITED_LEVELS = frozenset({"warning", "error", "critical", "exception"})
_HANDLER_NAME = "dialer-structlog"


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


class RepeatLimiter:
    """structlog processor: a token bucket per event name for warnings and errors.

    Args:
        burst: lines of one event let through at once.
        per_s: lines of one event let through per second after the burst.
        clock: monotonic seconds (tests pass their own).

    A dropped line raises :class:`structlog.DropEvent` and is counted; the next line of the
    same event that passes carries ``similar_suppressed=N``. Info and debug lines are never
    limited: they are the record of what happened (calls, outcomes), not repeated alarms.
    """

    def __init__(
        self, *, burst: int = 20, per_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst = float(burst)
        self._per_s = per_s
        self._clock = clock
        self._buckets: dict[str, tuple[float, float, int]] = {}  # event -> (tokens, at, suppressed)

    def __call__(
        self, _logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        suppressed = self.admit(str(event_dict.get("event")), str(event_dict.get("level") or method))
        if suppressed is None:
            raise structlog.DropEvent
        if suppressed:
            event_dict["similar_suppressed"] = suppressed
        return event_dict

    def filter(self, record: logging.LogRecord) -> bool:
        """The same for a stdlib record (a ``logging.Filter``), keyed by logger and message template."""
        suppressed = self.admit(f"{record.name}:{record.msg}", record.levelname)
        if suppressed:
            record.similar_suppressed = suppressed
        return suppressed is not None

    def admit(self, key: str, level: str) -> int | None:
        """None: drop this line; else how many lines of ``key`` were dropped before it."""
        if level.lower() not in _LIMITED_LEVELS:
            return 0
        now = self._clock()
        tokens, at, suppressed = self._buckets.get(key, (self._burst, now, 0))
        tokens = min(self._burst, tokens + (now - at) * self._per_s)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now, suppressed + 1)
            return None
        self._buckets[key] = (tokens - 1.0, now, 0)
        return suppressed

    def pending(self) -> dict[str, int]:
        """Lines dropped per event since that event's last line (for tests and shutdown)."""
        return {k: s for k, (_, _, s) in self._buckets.items() if s}


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog, and route stdlib logging, warnings and uncaught exceptions through it.

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
    limiter = RepeatLimiter()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if fmt == "json":
        shared.append(structlog.processors.format_exc_info)  # the console renderer draws its own
    shared.append(redact_secrets)
    min_level = _LEVELS.get(level.lower(), logging.INFO)
    structlog.configure(
        processors=[shared[0], shared[1], limiter, *shared[2:], renderer],
        wrapper_class=structlog.make_filtering_bound_logger(min_level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(stream, renderer, shared, min_level, limiter)
    if fmt == "json":
        sys.excepthook = _log_uncaught


def _route_stdlib(
    stream: TextIO, renderer: Any, shared: list[Any], min_level: int, limiter: RepeatLimiter
) -> None:
    """One root handler that renders stdlib records (libraries, asyncio, warnings) like ours."""
    handler = _StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(limiter)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, _suppressed_count, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min_level)
    logging.captureWarnings(False)  # forget a capture that something (a test harness) undid since
    logging.captureWarnings(True)


class _StreamHandler(logging.StreamHandler):
    """A stream handler that stays quiet once its stream is closed (a finished CLI command's)."""

    def handleError(self, record: logging.LogRecord) -> None:
        if getattr(self.stream, "closed", False):
            return
        super().handleError(record)


def _suppressed_count(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Foreign records: carry the count :meth:`RepeatLimiter.filter` left on the record."""
    record = event_dict.get("_record")
    count = getattr(record, "similar_suppressed", 0)
    if count:
        event_dict["similar_suppressed"] = count
    return event_dict


def _log_uncaught(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, err, tb)
        return
    structlog.get_logger("uncaught").critical("uncaught_exception", exc_info=(kind, err, tb))
