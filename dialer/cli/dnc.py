"""``dialer dnc add``: a number onto the global do-not-call list or a campaign's."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from dialer.cli.store_command import command_group, config_from_args, with_store
from dialer.store.store import Store


def cmd_dnc_add(args: argparse.Namespace) -> int:
    from dialer.contacts.phone import normalize

    cfg = config_from_args(args)
    number = normalize(args.number, args.region or cfg.contacts.default_region)

    async def go(store: Store) -> int:
        await store.add_do_not_call(number.e164, campaign=args.campaign, reason=args.reason)
        print(f"{number.e164} is on the {'list of ' + args.campaign if args.campaign else 'global list'}")
        return 0

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
