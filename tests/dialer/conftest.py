"""Store fixtures: one migrated database per test module, a fresh pool per test.

Tests in one module share the database, so each test names its own campaigns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest

from dialer.model import CampaignSpec, CampaignState, DialingMode
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store import migrate
from dialer.store.store import Store

_names = itertools.count(1)


@pytest.fixture(scope="module")
def db_dsn(make_database: Callable[[], str]) -> str:
    dsn = make_database()

    async def up() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate.migrate(conn)
        finally:
            await conn.close()

    asyncio.run(up())
    return dsn


@asynccontextmanager
async def _opened(db_dsn: str, max_size: int) -> AsyncIterator[Store]:
    s = await Store.open(db_dsn, min_size=1, max_size=max_size, migrate_now=False)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def store(db_dsn: str) -> AsyncIterator[Store]:
    async with _opened(db_dsn, 4) as s:
        yield s


@pytest.fixture
async def one_conn_store(db_dsn: str) -> AsyncIterator[Store]:
    """A store whose pool has a single connection, so one query logger sees everything."""
    async with _opened(db_dsn, 1) as s:
        yield s


def unique(prefix: str) -> str:
    return f"{prefix}_{next(_names)}"


ALL_DAY = Schedule(
    name="ALL_DAY", frequency=Frequency.DAILY, window_start=dt.time(0), window_end=dt.time(0), timezone="UTC"
)


async def make_campaign(store: Store, **overrides: object) -> str:
    """A running campaign on an always-open schedule, with hours that never bind unless overridden.

    It is flagged demo (the only campaigns allowed all-day hours), so an engine under test
    dials it only when built with ``dial_demo=True``.
    """
    name = unique("C")
    try:
        await store.create_schedule(ALL_DAY)
    except Exception:
        pass  # created by an earlier test of this module
    spec: dict[str, object] = {
        "name": name,
        "schedule": "ALL_DAY",
        "mode": DialingMode.PROGRESSIVE,
        "state": CampaignState.RUNNING,
        "local_hours_start": dt.time(0),
        "local_hours_end": dt.time(0),
        # simulated people: the all-day hours only a demo campaign may have (rules.LEGAL_HOURS)
        "demo": True,
    }
    spec.update(overrides)
    await store.create_campaign(CampaignSpec(**spec))  # type: ignore[arg-type]
    return name


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)
