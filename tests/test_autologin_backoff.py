"""Autologin says a database fault once, backs off, and says when it is over (issue 19 item 6).

It used to log ``autologin_failed`` every tick (every second) for as long as the fault lasted.
The fault here is real: the agents table is renamed away under the running engine, then back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from structlog.testing import capture_logs

from tests.engine_process import make_campaign, start_pbx, wait_for
from tests.test_resilience import start_engine, stop_engine


@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


async def _sql(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def test_autologin_failure_is_logged_once_then_its_recovery(dsn: str, tmp_path: Path) -> None:
    queue = await make_campaign(dsn, contacts=200)
    pbx = await start_pbx(queue)
    with capture_logs() as logs:
        engine = await start_engine(dsn, tmp_path, pbx.port)
        try:
            await _sql(dsn, "ALTER TABLE agents RENAME TO agents_away")
            await asyncio.sleep(3.0)  # 15 ticks of 0.2 s
            await _sql(dsn, "ALTER TABLE agents_away RENAME TO agents")

            async def recovered() -> bool:
                return any(e["event"] == "autologin_recovered" for e in logs)

            await wait_for(recovered, timeout_s=20, what="autologin_recovered")
        finally:
            await stop_engine(engine)
            await pbx.close()
    assert 1 == sum(1 for e in logs if e["event"] == "autologin_failed")
