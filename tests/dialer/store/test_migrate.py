from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from dialer.store import migrate


@pytest.fixture
def fresh_dsn(make_database: Callable[[], str]) -> str:
    return make_database()


async def test_migrate_applies_everything_once_and_is_idempotent(fresh_dsn: str) -> None:
    conn = await asyncpg.connect(fresh_dsn)
    try:
        first = await migrate.migrate(conn)
        second = await migrate.migrate(conn)
        versions = await migrate.applied(conn)
        names = await conn.fetch("SELECT name, system_status FROM statuses ORDER BY id")
    finally:
        await conn.close()
    assert [m.version for m in migrate.available()] == [m.version for m in first]
    assert [] == second
    assert [m.version for m in first] == versions
    assert [("Dzwonić", "call"), ("Nie dzwonić", "do_not_call")] == [tuple(r) for r in names]


async def test_migration_files_are_numbered_from_one_in_order() -> None:
    # Gaps are allowed: parallel changes each take their own number and land in any order.
    versions = [m.version for m in migrate.available()]
    assert 1 == versions[0] and sorted(set(versions)) == versions
