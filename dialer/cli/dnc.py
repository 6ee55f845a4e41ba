"""``dialer dnc add|list|remove|import``: the global do-not-call list and each campaign's.

Numbers are normalised as the contact import does; the rules and the SQL are the store's
(:mod:`dialer.store.dnc`), shared with ``/api/v1/dnc``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from dialer.cli.store_command import command_group, config_from_args, format_table, run_with_store, with_store
from dialer.errors import ValidationError
from dialer.store.dnc import ALL_LISTS
from dialer.store.store import Store


def _e164(args: argparse.Namespace, region: str) -> str:
    from dialer.contacts.phone import normalize

    return normalize(args.number, args.region or region).e164


def _where(campaign: str | None) -> str:
    return f"the list of {campaign}" if campaign else "the global list"


def cmd_dnc_add(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    number = _e164(args, cfg.contacts.default_region)

    async def go(store: Store) -> int:
        await store.add_do_not_call(number, campaign=args.campaign, reason=args.reason)
        print(f"{number} is on {_where(args.campaign)}")
        return 0

    return asyncio.run(with_store(cfg, go))


def cmd_dnc_remove(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    number = _e164(args, cfg.contacts.default_region)

    async def go(store: Store) -> int:
        if not await store.remove_do_not_call(number, campaign=args.campaign):
            raise ValidationError("number", f"not on {_where(args.campaign)}", number)
        print(f"{number} is off {_where(args.campaign)}")
        return 0

    return asyncio.run(with_store(cfg, go))


def cmd_dnc_list(args: argparse.Namespace) -> int:
    if args.limit < 1 or args.offset < 0:
        raise ValidationError("limit", "--limit must be at least 1 and --offset not negative", args.limit)
    which = None if args.global_only else (args.campaign or ALL_LISTS)

    async def go(store: Store) -> int:
        total, entries = await store.list_do_not_call(
            campaign=which, search=args.search, limit=args.limit, offset=args.offset
        )
        rows = [[e.e164, e.campaign or "(global)", f"{e.added_at:%Y-%m-%d %H:%M}", e.reason] for e in entries]
        print(format_table(["NUMBER", "LIST", "ADDED", "REASON"], rows))
        shown = f"{args.offset + 1}-{args.offset + len(entries)} of " if entries else "0 of "
        print(f"{shown}{total} entries")
        return 0

    return run_with_store(args, go)


def cmd_dnc_import(args: argparse.Namespace) -> int:
    from dialer.contacts.dnc_file import decode_dnc_file, read_dnc_lines

    cfg = config_from_args(args)
    path = Path(args.file)
    try:
        text = path.read_bytes()
    except OSError as e:
        raise ValidationError("file", e.strerror or "cannot be read", str(path)) from None
    read = read_dnc_lines(
        decode_dnc_file(text, args.encoding).splitlines(), args.region or cfg.contacts.default_region
    )

    async def go(store: Store) -> int:
        new = 0
        if read.numbers:
            new = await store.add_do_not_call_many(read.numbers, campaign=args.campaign, reason=args.reason)
        for line, value, reason in read.rejected:
            print(f"line {line}: {value!r}: {reason}")
        print(
            f"{len(read.numbers)} numbers on {_where(args.campaign)} ({new} new,"
            f" {len(read.numbers) - new} already there); {len(read.rejected)} lines rejected"
        )
        if not read.numbers:
            return 1
        return 3 if read.rejected else 0

    return asyncio.run(with_store(cfg, go))


def register(sub: Any) -> None:
    """Add ``dialer dnc`` to the ``dialer`` sub-command tree."""
    dnc = command_group(sub, "dnc", "do-not-call lists")
    p = dnc.add_parser("add", help="add a number to the global list or a campaign's")
    p.add_argument("number")
    p.add_argument("--campaign")
    p.add_argument("--region", help="region for numbers without a country code")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_dnc_add)
    p = dnc.add_parser("remove", help="take a number off the global list or a campaign's")
    p.add_argument("number")
    p.add_argument("--campaign", help="the campaign's own list (default: the global list)")
    p.add_argument("--region", help="region for numbers without a country code")
    p.set_defaults(func=cmd_dnc_remove)
    p = dnc.add_parser("list", help="listed numbers, newest first (every list unless narrowed)")
    p.add_argument("--campaign", help="only this campaign's list")
    p.add_argument("--global", dest="global_only", action="store_true", help="only the global list")
    p.add_argument("--search", help="part of the number (digits) or of the reason")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p.set_defaults(func=cmd_dnc_list)
    p = dnc.add_parser(
        "import",
        help="add every number of a file (one a line, or a CSV's first column);"
        " exit 0: all, 3: some lines rejected, 1: none imported",
    )
    p.add_argument("file")
    p.add_argument("--campaign", help="the campaign's own list (default: the global list)")
    p.add_argument("--region", help="region for numbers without a country code")
    p.add_argument("--reason", default="")
    p.add_argument(
        "--encoding", default="utf-8-sig", help="the file's encoding (default utf-8; cp1250: Windows)"
    )
    p.set_defaults(func=cmd_dnc_import)
