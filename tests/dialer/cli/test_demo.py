"""``dialer demo`` end to end: embedded database, simulated PBX over TCP, simulated agents.

A short run through ``dialer.cli.main`` with a fresh ``DIALER_HOME``; the summary it prints
must agree with what the database holds, and ``/metrics`` must be served while it runs.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog

from config import load_config
from dialer.cli.demo_numbers import is_drama_number
from dialer.cli.main import main
from dialer.store.database import resolve_dsn


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """``main`` configures structlog on the captured stderr, which pytest closes afterwards."""
    yield
    structlog.reset_defaults()

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Scraper(threading.Thread):
    """Scrapes /metrics until it sees a finished attempt (the demo blocks the test's thread)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.body = ""
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.3):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as r:
                    body = r.read().decode()
            except OSError:
                continue
            if "dialer_attempts_total{" in body:
                self.body = body
                return


def table_after(lines: list[str], header: str) -> dict[str, int]:
    """The NAME -> number rows of the summary table that starts with ``header``."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows: dict[str, int] = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        m = re.match(r"^(.*?)\s+(\d+)(\s+[\d.]+%)?$", line)
        assert m, line
        rows[m.group(1).strip()] = int(m.group(2))
    return rows


async def database_view(home: Path) -> tuple[dict[str, int], dict[str, int], int]:
    dsn = await resolve_dsn(load_config(env={"DIALER_HOME": str(home / "demo")}))
    conn = await asyncpg.connect(dsn)
    try:
        outcomes = {
            r["outcome"]: r["n"]
            for r in await conn.fetch(
                "SELECT outcome, count(*) AS n FROM attempts WHERE outcome IS NOT NULL GROUP BY 1"
            )
        }
        statuses = {
            r["name"]: r["n"]
            for r in await conn.fetch(
                """SELECT s.name, count(*) AS n FROM contacts k JOIN statuses s ON s.id = k.status_id
                   GROUP BY 1"""
            )
        }
        contacts = await conn.fetchval("SELECT count(*) FROM contacts")
        numbers = [r["e164"] for r in await conn.fetch("SELECT e164 FROM contact_phones")]
        campaign = await conn.fetchrow("SELECT state, demo FROM campaigns WHERE name = 'DEMO'")
    finally:
        await conn.close()
    # generated numbers come from the ranges reserved for fiction; the campaign is flagged
    # demo and stopped with the demo
    assert numbers and all(is_drama_number(n) for n in numbers)
    assert ("paused", True) == (campaign["state"], campaign["demo"])
    return outcomes, statuses, contacts


def test_short_demo_dials_and_its_summary_matches_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("DIALER_DSN", "DIALER_CONFIG", "DIALER_AMI_HOST", "DIALER_LOG_LEVEL"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("DIALER_HOME", str(home))
    port = free_port()
    scraper = Scraper(port)
    scraper.start()
    args = ["demo", "--duration", "6", "--agents", "4", "--contacts", "400", "--metrics-port", str(port)]
    args.append("--no-browser-seat")  # today's all-simulated run (the seat is tests/web's)
    try:
        assert 0 == main(args)
    finally:
        scraper.stop.set()
        scraper.join(5)
    out = capsys.readouterr().out
    lines = out.splitlines()

    printed_outcomes = table_after(lines, "OUTCOME")
    total = printed_outcomes.pop("total")
    printed_statuses = table_after(lines, "CONTACT STATUS")
    outcomes, statuses, contacts = asyncio.run(database_view(home))

    assert total > 10, out  # a predictive campaign really called
    assert outcomes == printed_outcomes
    assert total == sum(outcomes.values())
    assert statuses == printed_statuses
    assert 400 == contacts == sum(statuses.values())
    # calls were connected and the agents' dispositions were written as statuses
    assert outcomes.get("answered", 0) > 0, out
    assert sum(statuses.get(s, 0) for s in ("Nie zainteresowany", "Sprzedane", "Oddzwonić")) > 0, out
    # the contacts the campaign did not reach are still to be called
    assert statuses["Dzwonić"] >= 400 - total
    summary = re.search(r"live answers (\d+), abandoned (\d+), abandon rate ([\d.]+)%", out)
    assert summary is not None, out
    live, abandoned = int(summary.group(1)), int(summary.group(2))
    still_open = re.search(r"attempts still open at the end: (\d+)", out)
    open_n = int(still_open.group(1)) if still_open else 0
    assert abandoned <= live <= outcomes.get("answered", 0) + outcomes.get("abandoned", 0) + open_n
    # metrics were served while it ran, on the demo's own registry, with no phone numbers
    assert 'dialer_attempts_total{campaign="DEMO"' in scraper.body
    assert 'dialer_agents{campaign="DEMO"' in scraper.body
    assert "+44" not in scraper.body


def test_demo_options_are_validated(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--mode", "robocall"])
    assert 1 == info.value.code
    err = capsys.readouterr().err
    modes = "preview, push_preview, progressive, predictive"
    assert f"error: mode: must be one of: {modes} (got 'robocall')" in err
    with pytest.raises(SystemExit):
        main(["demo", "--duration", "0"])
    assert "error: duration: must be above 0 (got '0')" in capsys.readouterr().err


def test_demo_metrics_port_follows_the_configuration_unless_given() -> None:
    from dialer.cli.demo import demo_metrics

    from_env = load_config(env={"DIALER_METRICS_PORT": "9333"}).metrics
    assert (9333, True) == (demo_metrics(from_env, None).port, demo_metrics(from_env, None).enabled)
    assert (9444, True) == (demo_metrics(from_env, 9444).port, demo_metrics(from_env, 9444).enabled)
    assert not demo_metrics(from_env, 0).enabled
    off = load_config(env={"DIALER_METRICS_PORT": "0"}).metrics  # 0 means no metrics, as --metrics-port 0
    assert 0 == off.port and not demo_metrics(off, None).enabled
