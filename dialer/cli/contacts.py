"""``dialer contacts import|move``: CSV import into a campaign, and moving records between campaigns."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from dialer.cli.store_command import command_group, config_from_args, run_with_store, with_store
from dialer.contacts import importer as contact_import
from dialer.contacts import transfer
from dialer.contacts.csv_reader import ColumnMapping, RejectedRow, read_contacts
from dialer.errors import ValidationError
from dialer.store.store import Store


def cmd_contacts_import(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    region = (args.region or cfg.contacts.default_region).upper()
    path = Path(args.file)
    if not path.is_file():
        raise ValidationError("file", "no such file", str(path))
    phones = tuple(p.strip() for p in args.phone_columns.split(",")) if args.phone_columns else None
    default = ColumnMapping()
    mapping = ColumnMapping(
        name=args.name_column or default.name,
        timezone=args.timezone_column or default.timezone,
        phones=phones if phones is not None else default.phones,
    )
    if args.batch_size < 1:
        raise ValidationError("batch_size", "must be a positive number", args.batch_size)

    def report(r: RejectedRow) -> None:
        print(f"line {r.line}: {r.reason}")

    async def go(store: Store) -> int:
        # The CLI process does nothing else meanwhile; rows are parsed synchronously anyway.
        with path.open(encoding="utf-8-sig", newline="") as stream:  # noqa: ASYNC230
            rows = read_contacts(stream, default_region=region, mapping=mapping)
            result = await contact_import.import_contacts(
                store.pool,
                args.campaign,
                rows,
                status=args.status,
                batch_size=args.batch_size,
                source=path.name,
                on_reject=report,
            )
        print(
            f"imported {result.imported} rows into {args.campaign}, rejected {result.rejected}"
            f" ({result.elapsed_s:.1f} s)"
        )
        return 0

    return asyncio.run(with_store(cfg, go))


def cmd_contacts_move(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        async with store.pool.acquire() as conn:
            matched = await transfer.count_matching(conn, args.from_campaign, args.status)
            result = await transfer.move_contacts(
                conn,
                from_campaign=args.from_campaign,
                status=args.status,
                to_campaign=args.to_campaign,
                new_status=args.new_status,
                limit=args.limit,
            )
        # printed once the move succeeded: an error is then the only line (issue 16)
        print(f"{matched} records in {args.from_campaign} / {args.status}")
        print(result.describe())
        return 0

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer contacts`` to the ``dialer`` sub-command tree."""
    co = command_group(sub, "contacts", "contacts")
    p = co.add_parser("import", help="import a CSV (header row; phone required; phone2.. more numbers)")
    p.add_argument("campaign")
    p.add_argument("file")
    p.add_argument("--region", help="default region for numbers without a country code (config default)")
    p.add_argument("--status", help="status of the imported contacts (default: the campaign's default)")
    p.add_argument("--name-column", help="column holding the name (default name)")
    p.add_argument("--timezone-column", help="column holding the time zone (default timezone)")
    p.add_argument(
        "--phone-columns", help="comma-separated phone columns in order (default phone,phone2,...)"
    )
    p.add_argument(
        "--batch-size", type=int, default=contact_import.DEFAULT_BATCH, help="rows per transaction"
    )
    p.set_defaults(func=cmd_contacts_import)
    p = co.add_parser("move", help="move records to another campaign with a new status (one transaction)")
    p.add_argument("--from", dest="from_campaign", required=True)
    p.add_argument("--status", required=True)
    p.add_argument("--to", dest="to_campaign", required=True)
    p.add_argument("--new-status", required=True)
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_contacts_move)
