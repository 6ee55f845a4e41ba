"""``dialer asterisk check``: verify, over AMI, each configured Asterisk server the engine uses.

It logs in with the configuration's ``[[ami.servers]]`` (the only store of truth about which
servers those are) and runs :func:`ami.check.check_server` on each, with the queues of every
running campaign (read from the store) and any ``--queue`` given. One line per check:
``PASS``, ``FAIL`` or ``UNKNOWN`` with the reason; the exit status is 1 when any line is
``FAIL``, so the command can gate a deployment. The secret is sent to Asterisk and nowhere
else.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ami.check import CheckLine, Status, check_server
from config import ConfigError, DialerConfig, require_ami_secrets
from dialer.cli.store_command import command_group, config_from_args, format_table, with_store
from dialer.errors import DialerError
from dialer.model import CampaignState
from dialer.store.store import Store


async def _running_queues(cfg: DialerConfig) -> tuple[list[str], CheckLine | None]:
    """The queues of the running campaigns; an UNKNOWN line instead when the store cannot tell."""

    async def read(store: Store) -> list[str]:
        return sorted({c.queue for c in await store.list_campaigns() if c.state is CampaignState.RUNNING})

    try:
        return await with_store(cfg, read), None
    except (DialerError, OSError) as err:
        return [], CheckLine(Status.UNKNOWN, "campaign queues", f"database unreachable ({err}): not checked")


async def _check(cfg: DialerConfig, extra_queues: list[str]) -> int:
    queues, note = await _running_queues(cfg)
    queues = sorted({*queues, *extra_queues})
    rows: list[tuple[str, str, str, str]] = []
    if note is not None:
        rows.append((note.status.value, "-", note.check, note.reason))
    for server in cfg.ami.servers:
        for line in await check_server(server, queues=queues):
            rows.append((line.status.value, server.name, line.check, line.reason))
    print(format_table(["STATUS", "SERVER", "CHECK", "DETAIL"], rows))
    return 1 if any(r[0] == Status.FAIL.value for r in rows) else 0


def cmd_check(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if not cfg.ami.servers:
        raise ConfigError("ami.servers", "no [[ami.servers]] to check (or set DIALER_AMI_HOST)")
    require_ami_secrets(cfg)
    return asyncio.run(_check(cfg, list(args.queue)))


def register(sub: Any) -> None:
    """Add ``dialer asterisk check``."""
    group = command_group(sub, "asterisk", "the Asterisk side: verify a server's installation over AMI")
    p = group.add_parser(
        "check",
        help="log in to every configured AMI server and verify what the engine needs (exit 1 on a FAIL)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="QUEUE",
        help="also check this queue exists (repeatable); running campaigns' queues are always checked",
    )
    p.set_defaults(func=cmd_check)
