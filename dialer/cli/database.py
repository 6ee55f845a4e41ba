"""``dialer db migrate``: apply the pending migrations (every command does it too); ``db prune``.

``dialer db prune --older-than DAYS`` deletes call records (closed attempts, status changes)
and the wallboard's minutes of agent time older than DAYS, refusing fewer than six months
(:mod:`dialer.store.compliance`, retention).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from typing import Any

from dialer.cli.store_command import command_group, config_from_args, run_with_store
from dialer.errors import ValidationError
from dialer.store import migrate
from dialer.store.database import resolve_dsn
from dialer.store.store import Store


def cmd_db_migrate(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)

    async def go() -> int:
        store = await Store.open(await resolve_dsn(cfg, linger=True), migrate_now=False)
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


def parse_days(text: str) -> float:
    """``DAYS`` or ``DAYSd`` (e.g. ``200`` or ``200d``) as a number of days.

    Raises:
        ValidationError: anything else.
    """
    try:
        return float(text.removesuffix("d"))
    except ValueError:
        raise ValidationError("older-than", "must be a number of days, e.g. 200 or 200d", text) from None


def cmd_db_prune(args: argparse.Namespace) -> int:
    days = parse_days(args.older_than)

    async def go(store: Store) -> int:
        done = await store.prune_records(days, at=dt.datetime.now(dt.UTC))
        print(
            f"deleted {done.attempts} attempts, {done.status_changes} status changes and"
            f" {done.occupancy_minutes} minutes of agent time from before {done.cutoff.isoformat()}"
        )
        return 0

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer db`` to the ``dialer`` sub-command tree."""
    db = command_group(sub, "db", "database maintenance")
    db.add_parser("migrate", help="apply pending migrations (idempotent)").set_defaults(func=cmd_db_migrate)
    p = db.add_parser("prune", help="delete call records older than DAYS (at least six months: 183)")
    p.add_argument("--older-than", required=True, metavar="DAYS")
    p.set_defaults(func=cmd_db_prune)
