"""``dialer attempts list|export``: attempts by campaign, outcome and time, a page or a CSV.

Thin over :class:`~dialer.store.attempt_log.AttemptLog`, as ``GET /api/v1/attempts`` is.
"""

from __future__ import annotations

import argparse
from typing import Any

from dialer.cli.data_options import add_page_options, page_footer, parse_time, write_csv
from dialer.cli.store_command import command_group, format_table, run_with_store
from dialer.store.attempt_log import AttemptQuery, parse_outcome
from dialer.store.store import Store


def _query(args: argparse.Namespace) -> AttemptQuery:
    return AttemptQuery(
        campaign=args.campaign,
        outcome=parse_outcome(args.outcome),
        since=parse_time(args.since, "since"),
        until=parse_time(args.until, "until"),
    )


def cmd_attempts_list(args: argparse.Namespace) -> int:
    query = _query(args)

    async def go(store: Store) -> int:
        lines, next_after = await store.search_attempts(query, after=args.after, limit=args.limit)
        if not lines:
            print("no attempts match")
        else:
            print(
                format_table(
                    [
                        "ID",
                        "CAMPAIGN",
                        "CONTACT",
                        "NUMBER",
                        "STARTED",
                        "OUTCOME",
                        "TALK_S",
                        "AGENT",
                        "STATUS",
                    ],
                    [
                        (
                            a.id,
                            a.campaign,
                            a.contact_id,
                            a.number,
                            f"{a.started_at:%Y-%m-%d %H:%M:%S}",
                            a.outcome or "(on)",
                            None if a.talk_s is None else f"{a.talk_s:.0f}",
                            a.agent,
                            a.status,
                        )
                        for a in lines
                    ],
                )
            )
        if footer := page_footer(next_after):
            print(footer)
        return 0

    return run_with_store(args, go)


def cmd_attempts_export(args: argparse.Namespace) -> int:
    query = _query(args)

    async def go(store: Store) -> int:
        count = await write_csv(await store.export_attempts(query), args.output)
        if args.output not in (None, "-"):
            print(f"{count} attempts written to {args.output}")
        return 0

    return run_with_store(args, go)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--campaign", help="only this campaign")
    p.add_argument("--outcome", help="only this outcome (answered, busy, no-answer, machine, abandoned, ...)")
    p.add_argument("--since", help="started at or after (ISO date or date-time; no offset: UTC)")
    p.add_argument("--until", help="started before (ISO date or date-time; no offset: UTC)")


def register(sub: Any) -> None:
    """Add ``dialer attempts`` to the ``dialer`` sub-command tree."""
    at = command_group(sub, "attempts", "attempts (every call placed)")
    p = at.add_parser("list", help="attempts, a page at a time (oldest first)")
    _filters(p)
    add_page_options(p)
    p.set_defaults(func=cmd_attempts_list)
    p = at.add_parser("export", help="matching attempts as CSV")
    _filters(p)
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_attempts_export)
