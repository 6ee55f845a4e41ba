"""Plain numbered SQL migrations, applied in order, one transaction each.

Theory of operation: ``dialer/store/migrations/NNN_name.sql`` files are the schema's history.
``schema_migrations`` records which versions are applied. A transaction-scoped advisory lock
serialises concurrent migrators (two engines starting at once), so applying is idempotent:
a second run finds nothing pending and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from dialer.errors import StoreError

# Any constant will do; it only has to be the same in every process of this application.
_LOCK_KEY = 0x6469616C6572  # "dialer"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped in the package, in version order."""
    found: list[Migration] = []
    for entry in resources.files("dialer.store").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"duplicate migration versions in {versions}")
    return found


async def applied(conn: asyncpg.Connection) -> list[int]:
    """Versions already applied to the database (empty when the table does not exist yet)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    return [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")]


async def migrate(conn: asyncpg.Connection) -> list[Migration]:
    """Apply every pending migration; return those applied by this call.

    Raises:
        StoreError: a migration failed; it is rolled back whole and later ones are not tried.
    """
    done: list[Migration] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
    for mig in available():
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            if await conn.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1", mig.version):
                continue
            try:
                await conn.execute(mig.sql)
            except asyncpg.PostgresError as e:
                raise StoreError(f"migration {mig.version:03d}_{mig.name} failed: {e}") from e
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", mig.version, mig.name
            )
        done.append(mig)
    return done
