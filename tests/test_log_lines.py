"""One log line per attempt event at info, and levels that mean something (issue 16 item 6).

Each attempt was logged twice when it ended (the AMI client's line and the campaign's), and a
PBX connection coming up was a warning. Here an engine dials the simulated PBX, loses the
connection and gets it back; the info-and-above lines are checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.engine_process import make_campaign, start_pbx, wait_for
from tests.test_resilience import start_engine, stop_engine

_SHOWN = {"info", "warning", "error", "critical"}


@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


async def test_each_attempt_event_is_one_line_and_a_connection_up_is_info(dsn: str, tmp_path: Path) -> None:
    queue = await make_campaign(dsn, contacts=200)
    pbx = await start_pbx(queue)
    with capture_logs() as logs:
        engine = await start_engine(dsn, tmp_path, pbx.port)
        try:
            runner = engine.runner
            pbx.drop_connections()

            async def back_and_dialling() -> bool:
                ups = [e for e in logs if e["event"] == "pbx_connection" and e.get("up")]
                return bool(ups) and runner.stats().attempts >= 15

            await wait_for(back_and_dialling, timeout_s=180, what="a reconnect and 15 attempts")
        finally:
            await stop_engine(engine)
            await pbx.close()
    shown = [e for e in logs if e["log_level"] in _SHOWN]
    # the two lines the issue found per ending (the AMI client's and the campaign's); an
    # in-flight audit that finds a quiet call gone says so in a line of its own, another event
    ending = {"attempt_ended", "ami_attempt_ended"}
    ended = Counter(e["attempt_id"] for e in shown if e["event"] in ending and "attempt_id" in e)
    assert len(ended) >= 15
    twice = [k for k, n in ended.items() if n > 1][:5]
    assert {1} == set(ended.values()), [
        (e["event"], e["log_level"]) for e in shown if e.get("attempt_id") in twice and e["event"] in ending
    ]
    launched = Counter(e["attempt_id"] for e in shown if e["event"] == "originate_sent")
    assert launched and {1} == set(launched.values())
    connection = [(e["log_level"], e["up"]) for e in shown if e["event"] == "pbx_connection"]
    assert ("warning", False) in connection and ("info", True) in connection
    assert ("warning", True) not in connection
