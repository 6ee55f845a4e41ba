"""What every store command shares: its configuration, a store opened for it, enum options, tables.

A store command (``dialer db``, ``schedule``, ``status``, ``campaign``, ``agent``, ``dnc``,
``contacts``; one module per noun beside this one) parses and validates its arguments, opens
the store (the configured DSN or the embedded PostgreSQL, pending migrations applied
automatically), does one thing, prints a short human-readable result and returns the exit
code. Input the user can fix raises :class:`~dialer.errors.ValidationError`;
:func:`dialer.cli.main.main` prints it as ``error: FIELD: REASON`` and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from config import DialerConfig, load_config
from dialer.errors import ValidationError
from dialer.store.database import resolve_dsn
from dialer.store.store import Store

T = TypeVar("T")


def config_from_args(args: argparse.Namespace) -> DialerConfig:
    """The configuration: defaults < ``--config`` file (or ``$DIALER_CONFIG``) < ``DIALER_*``."""
    return load_config(getattr(args, "config", None))


async def with_store(cfg: DialerConfig, fn: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store for one command, run ``fn`` on it, close it whatever happens."""
    store = await Store.open(await resolve_dsn(cfg, linger=True), min_size=1, max_size=4)
    store.known_servers = cfg.ami.selectable() if cfg.ami.servers else None
    try:
        return await fn(store)
    finally:
        await store.close()


def run_with_store(args: argparse.Namespace, fn: Callable[[Store], Awaitable[int]]) -> int:
    """A command's handler body: ``fn`` on a store opened from the command's configuration."""
    return asyncio.run(with_store(config_from_args(args), fn))


def parse_enum(kind: type[Any], value: str | None, field: str) -> Any:
    """An option's enum member (``-`` read as ``_``, any case); None stays None.

    Raises:
        ValidationError: naming ``field`` and the choices when ``value`` is none of them.
    """
    if value is None:
        return None
    try:
        return kind(value.replace("-", "_").lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise ValidationError(field, f"must be one of: {choices}", value) from None


def format_table(headers: list[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns two spaces apart, no trailing blanks; None prints as empty."""
    cells = [headers, *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)


def command_group(sub: Any, name: str, help_text: str) -> Any:
    """Add ``dialer NAME COMMAND``: a group whose command is required (argparse dest ``NAME_command``)."""
    group = sub.add_parser(name, help=help_text).add_subparsers(dest=f"{name}_command", metavar="COMMAND")
    group.required = True
    return group
