"""Logging: JSON lines carry bound ids, and no secret ever reaches the output."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import warnings

import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from config import Secret
from dialer.observability.logs import RepeatLimiter, configure_logging, redact


def test_json_lines_carry_contextvars_and_hide_secrets() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    log = structlog.get_logger("test")
    with structlog.contextvars.bound_contextvars(campaign_id=7, attempt_id="a1"):
        log.info(
            "ami_login",
            user="dialer",
            secret="hunter2",
            server_secret=Secret("s3cr3t"),
            dsn_url="postgresql://dialer:pw123@db/dialer",
        )
    log.debug("not_shown")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["ami_login"]
    (line,) = lines
    assert (line["campaign_id"], line["attempt_id"], line["user"]) == (7, "a1", "dialer")
    text = out.getvalue()
    for leaked in ("hunter2", "s3cr3t", "pw123"):
        assert leaked not in text
    assert line["dsn_url"] == "postgresql://dialer:***@db/dialer"


def test_console_format_is_plain_text() -> None:
    out = io.StringIO()
    configure_logging("console", "debug", stream=out)
    structlog.get_logger("test").debug("hopper_refilled", leased=12)
    text = out.getvalue()
    assert "hopper_refilled" in text and "leased=12" in text
    assert not text.lstrip().startswith("{")


def _json_lines(text: str) -> list[dict[str, object]]:
    """Every line parsed as JSON (a line that is not JSON fails the test with the line)."""
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return out


async def test_every_line_is_json_libraries_asyncio_warnings_included() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    try:
        # a library's own logging with a traceback (what asyncpg wrote during an outage)
        try:
            raise ConnectionResetError("server closed the connection: postgresql://u:p w@d@db/x")
        except ConnectionResetError:
            logging.getLogger("asyncpg.pool").exception("error in connection_lost callback")
        # asyncio's default exception handler: a task whose exception nobody retrieved

        async def boom() -> None:
            raise RuntimeError("lost task")

        task = asyncio.get_running_loop().create_task(boom())
        await asyncio.sleep(0)
        del task
        gc.collect()
        warnings.warn("a deprecated thing", DeprecationWarning, stacklevel=1)
        structlog.get_logger("ours").info("ours", n=1)
    finally:
        logging.captureWarnings(False)
    lines = _json_lines(out.getvalue())
    events = [str(line["event"]) for line in lines]
    assert any(e.startswith("error in connection_lost") for e in events), events
    assert any("Task exception was never retrieved" in e for e in events), events
    assert any("a deprecated thing" in e for e in events), events
    assert "ours" in events
    (driver,) = [line for line in lines if str(line["event"]).startswith("error in connection_lost")]
    assert driver["level"] == "error" and driver["logger"] == "asyncpg.pool"
    assert "ConnectionResetError" in str(driver["exception"])  # the traceback, inside the JSON line
    assert "p w@d" not in out.getvalue() and "u:***@db/x" in out.getvalue()


def test_repeated_warnings_are_limited_and_counted() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    log = structlog.get_logger("flood")
    for i in range(2000):
        log.warning("ami_message_garbled", n=i)
        logging.getLogger("lib").warning("same template %d", i)
    for i in range(50):
        log.info("call_ended", n=i)  # info is the record of what happened: never limited
    lines = _json_lines(out.getvalue())
    garbled = [line for line in lines if line["event"] == "ami_message_garbled"]
    lib = [line for line in lines if str(line["event"]).startswith("same template")]
    assert 1 <= len(garbled) <= 25 and 1 <= len(lib) <= 25
    assert 50 == sum(1 for line in lines if line["event"] == "call_ended")


def test_a_line_after_a_flood_says_how_many_were_suppressed() -> None:
    now = [0.0]
    limiter = RepeatLimiter(burst=3, per_s=1.0, clock=lambda: now[0])
    admitted = [limiter.admit("e", "warning") for _ in range(10)]
    assert admitted == [0, 0, 0] + [None] * 7
    assert limiter.pending() == {"e": 7}
    now[0] = 1.0
    assert limiter.admit("e", "warning") == 7  # the next line carries the count
    assert limiter.admit("other", "warning") == 0  # per event
    assert limiter.admit("e", "info") == 0


@settings(max_examples=300, deadline=None)
@given(password=st.text(min_size=0, max_size=40))
def test_a_dsn_password_is_masked_whole_whatever_it_holds(password: str) -> None:
    dsn = f"postgresql://dialer:{password}@db.example:5432/dialer?sslmode=disable"
    assert redact(f"cannot connect to {dsn} now") == (
        "cannot connect to postgresql://dialer:***@db.example:5432/dialer?sslmode=disable now"
    )
