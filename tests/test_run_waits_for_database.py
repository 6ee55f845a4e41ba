"""``dialer run`` waits for a database that does not answer yet, as it waits for AMI (issue 16 item 4).

The database is the test's embedded PostgreSQL behind a TCP forwarder on a free port: nothing
listens there at first (connection refused, as with a database server still booting), then the
forwarder opens and the engine, retrying with back-off, starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from config import load_config
from dialer.app import run_daemon
from tests.dialer.cli.test_demo import free_port as _free_port
from tests.engine_process import write_config
from tests.test_app import _reset_logging  # noqa: F401  (an autouse fixture)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@pytest.fixture
def database(make_database: Callable[[], str]) -> str:
    return make_database()


async def test_run_waits_for_the_database_then_starts(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = urlsplit(database)
    unix_socket = Path(parse_qs(real.query)["host"][0]) / f".s.PGSQL.{real.port or 5432}"
    port = _free_port()
    cfg = load_config(
        write_config(tmp_path / "dialer.toml", ami_port=_free_port()),  # no PBX: AMI is retried too
        env={
            "DIALER_DSN": f"postgresql://postgres@127.0.0.1:{port}{real.path}",
            "TEST_AMI_SECRET": "unused",
            "DIALER_HOME": str(tmp_path / "home"),
        },
    )
    ready = asyncio.Event()
    thresholds: list[tuple[int, int, int]] = []
    before = gc.get_threshold()

    def on_ready(_app: object) -> None:
        thresholds.append(gc.get_threshold())
        ready.set()

    engine = asyncio.create_task(run_daemon(cfg, ready=on_ready))

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(str(unix_socket))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server: asyncio.Server | None = None
    try:
        await asyncio.sleep(2.5)  # a few refused tries
        assert not engine.done(), "dialer run gave up on a database that does not answer yet"
        server = await asyncio.start_server(forward, "127.0.0.1", port)
        await asyncio.wait_for(ready.wait(), 60)
        os.kill(os.getpid(), signal.SIGTERM)  # the engine's own handler: drain and exit 0
        assert 0 == await asyncio.wait_for(engine, 30)
    finally:
        if not engine.done():
            engine.cancel()
            with contextlib.suppress(BaseException):
                await engine
        if server is not None:
            server.close()
    # the engine ran with its garbage-collector threshold (dialer/gc_tuning.py), then put it back
    assert cfg.engine.gc_young_threshold > 700
    assert thresholds == [(cfg.engine.gc_young_threshold, *before[1:])]
    assert gc.get_threshold() == before
    logs = capsys.readouterr().err
    assert 1 == logs.count('"database_unreachable"')  # once, not once per try
    assert '"database_reachable"' in logs
