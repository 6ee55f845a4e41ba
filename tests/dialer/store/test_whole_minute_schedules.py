"""Schedule times are whole minutes in the schema too (issue 19 item 5).

A time with seconds written straight into the table (the column allowed it) made every
lease of every campaign fail to read the schedule. Migration 010 cuts existing seconds and
the schema refuses new ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg
import pytest

from dialer.store import migrate
from dialer.store.store import Store


async def _migrate_up_to(conn: asyncpg.Connection, last: int) -> None:
    await conn.execute(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for mig in migrate.available():
        if mig.version <= last:
            await conn.execute(mig.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", mig.version, mig.name
            )


@pytest.fixture
def fresh_dsn(make_database: Callable[[], str]) -> str:
    return make_database()


async def test_migration_cuts_seconds_and_the_schema_refuses_them(fresh_dsn: str) -> None:
    dsn = fresh_dsn
    conn = await asyncpg.connect(dsn)
    try:
        await _migrate_up_to(conn, 9)
        await conn.execute(
            """INSERT INTO schedules (name, frequency, window_start, window_end) VALUES
               ('secs', 'daily', '09:00:30', '17:45:59.5'),
               ('tiny', 'daily', '09:00:10', '09:00:50'),
               ('fine', 'daily', '08:00', '16:00')"""
        )
        await conn.execute(
            "INSERT INTO schedules (name, frequency, run_at) VALUES ('at', 'daily', '06:30:15')"
        )
        applied = await migrate.migrate(conn)
        rows = {
            r["name"]: (r["run_at"], r["window_start"], r["window_end"])
            for r in await conn.fetch("SELECT name, run_at, window_start, window_end FROM schedules")
        }
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO schedules (name, frequency, window_start, window_end)"
                " VALUES ('bad', 'daily', '09:00:01', '10:00')"
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE schedules SET run_at = '06:30:01' WHERE name = 'at'")
    finally:
        await conn.close()
    assert 10 in [m.version for m in applied]
    t = dt.time
    assert rows == {
        "secs": (None, t(9, 0), t(17, 45)),
        "tiny": (None, t(9, 0), t(9, 1)),  # cutting both would make it empty: one minute kept
        "fine": (None, t(8, 0), t(16, 0)),
        "at": (t(6, 30), None, None),
    }
    store = await Store.open(dsn, min_size=1, max_size=2, migrate_now=False)
    try:
        schedules = {s.name: s for s in await store.list_schedules()}  # every row reads as a Schedule
    finally:
        await store.close()
    assert schedules["secs"].window_end == t(17, 45)
    assert schedules["at"].run_at == t(6, 30)
