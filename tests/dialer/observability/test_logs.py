"""Logging: JSON lines carry bound ids, and no secret ever reaches the output."""

from __future__ import annotations

import io
import json

import structlog

from config import Secret
from dialer.observability.logs import configure_logging


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
