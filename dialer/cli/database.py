"""``dialer db migrate``: apply the pending migrations and nothing else (every command does it too)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from dialer.cli.store_command import command_group, config_from_args
from dialer.store import migrate
from dialer.store.database import resolve_dsn
from dialer.store.store import Store


def cmd_db_migrate(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)

    async def go() -> int:
        store = await Store.open(await resolve_dsn(cfg), migrate_now=False)
        try:
            done = await store.migrate()
            async with store.pool.acquire() as conn:
                versions = await migrate.applied(conn)
        finally:
            await store.close()
        for m in done:
            print(f"applied {m.version:03d}_{m.name}")
        print(f"database is at version {max(versions) if versions else 0} ({len(done)} applied now)")
        return 0

    return asyncio.run(go())


def register(sub: Any) -> None:
    """Add ``dialer db`` to the ``dialer`` sub-command tree."""
    db = command_group(sub, "db", "database maintenance")
    db.add_parser("migrate", help="apply pending migrations (idempotent)").set_defaults(func=cmd_db_migrate)
