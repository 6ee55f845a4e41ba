"""``dialer status create|add|list``: the status dictionary and campaigns' statuses, with retry rules."""

from __future__ import annotations

import argparse
from typing import Any

from dialer.cli.store_command import command_group, format_table, parse_enum, run_with_store
from dialer.errors import ValidationError
from dialer.model import Backoff, Qualifier, RetryRule, StatusSpec, SystemStatus, Trigger
from dialer.store.store import Store


def _retry_from_args(args: argparse.Namespace) -> RetryRule | None:
    if (
        args.retry_delay is None
        and args.backoff is None
        and args.factor is None
        and args.max_attempts is None
    ):
        return None
    delay = 3600 if args.retry_delay is None else args.retry_delay
    if delay < 0:
        raise ValidationError("retry_delay", "must not be negative", delay)
    factor = 2.0 if args.factor is None else args.factor
    if factor < 1:
        raise ValidationError("factor", "must be at least 1", factor)
    if args.max_attempts is not None and args.max_attempts < 1:
        raise ValidationError("max_attempts", "must be at least 1", args.max_attempts)
    return RetryRule(
        delay_s=delay,
        backoff=parse_enum(Backoff, args.backoff, "backoff") or Backoff.FIXED,
        factor=factor,
        max_attempts=args.max_attempts,
    )


def cmd_status_create(args: argparse.Namespace) -> int:
    spec = StatusSpec(
        name=args.name,
        system_status=parse_enum(SystemStatus, args.system, "system"),
        qualifier=parse_enum(Qualifier, args.qualifier, "qualifier"),
        trigger=parse_enum(Trigger, args.trigger, "trigger"),
        auto_add=args.auto_add,
        hidden=args.hidden,
        active=not args.inactive,
        retry=_retry_from_args(args) or RetryRule(),
    )

    async def go(store: Store) -> int:
        status = await store.create_status(spec, campaign=args.campaign)
        where = f"campaign {args.campaign}" if args.campaign else "the status dictionary"
        print(
            f"created status {status.name!r} ({status.system_status.value},"
            f" qualifier {status.qualifier.value}"
            f"{', on ' + status.trigger.value if status.trigger else ''}) in {where}"
        )
        return 0

    return run_with_store(args, go)


def cmd_status_add(args: argparse.Namespace) -> int:
    rule = _retry_from_args(args)

    async def go(store: Store) -> int:
        await store.add_status(args.campaign, args.status, retry=rule)
        print(f"campaign {args.campaign} uses status {args.status!r}")
        return 0

    return run_with_store(args, go)


def cmd_status_list(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        statuses = await store.list_statuses(args.campaign)
        rows = [
            [
                s.name,
                s.system_status.value,
                s.qualifier.value,
                s.trigger.value if s.trigger else "",
                "local" if s.campaign_id else "dictionary",
                _flags(s.auto_add, s.hidden, s.active),
                _rule_text(s.retry),
            ]
            for s in statuses
        ]
        print(format_table(["NAME", "SYSTEM", "QUALIFIER", "TRIGGER", "FROM", "FLAGS", "RETRY"], rows))
        return 0

    return run_with_store(args, go)


def _flags(auto_add: bool, hidden: bool, active: bool) -> str:
    return ",".join(
        f for f, on in (("auto-add", auto_add), ("hidden", hidden), ("inactive", not active)) if on
    )


def _rule_text(r: RetryRule) -> str:
    text = f"{r.delay_s}s"
    if r.backoff is Backoff.MULTIPLICATIVE:
        text += f" x{r.factor:g}"
    if r.max_attempts:
        text += f", max {r.max_attempts}"
    return text


def _retry_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retry-delay", type=int, help="seconds before the next attempt (default 3600)")
    p.add_argument("--backoff", help="fixed or multiplicative")
    p.add_argument("--factor", type=float, help="multiplier per repeated outcome (multiplicative back-off)")
    p.add_argument(
        "--max-attempts", type=int, help="attempts ending with this status before the contact closes"
    )


def register(sub: Any) -> None:
    """Add ``dialer status`` to the ``dialer`` sub-command tree."""
    st = command_group(sub, "status", "statuses (dictionary and per campaign)")
    p = st.add_parser("create", help="create a dictionary status, or a campaign-local one with --campaign")
    p.add_argument("name")
    p.add_argument(
        "--system",
        default="call",
        help="call, my_record, do_not_call, not_before, call_progressive (default call)",
    )
    p.add_argument("--qualifier", default="none", help="none, unused, closing, success, ... (default none)")
    p.add_argument(
        "--trigger",
        help="set automatically on: busy, no_answer, congestion, machine, abandoned, invalid_number",
    )
    p.add_argument("--campaign", help="local to this campaign (not in the dictionary)")
    p.add_argument("--auto-add", action="store_true", help="add to every new campaign")
    p.add_argument("--hidden", action="store_true")
    p.add_argument("--inactive", action="store_true")
    _retry_options(p)
    p.set_defaults(func=cmd_status_create)
    p = st.add_parser("add", help="add a dictionary status to a campaign, with the campaign's retry rule")
    p.add_argument("campaign")
    p.add_argument("status")
    _retry_options(p)
    p.set_defaults(func=cmd_status_add)
    p = st.add_parser("list", help="the dictionary, or a campaign's statuses with --campaign")
    p.add_argument("--campaign")
    p.set_defaults(func=cmd_status_list)
