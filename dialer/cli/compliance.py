"""``dialer compliance report``: the audit of a campaign's calls, from the attempts table.

Prints the table of :func:`dialer.audit.format_report` (one row per rule, a count that should
be 0 and the attempt ids when it is not) and exits 0 when every row is 0, 3 when any is not,
so a nightly job can alert on it. The abandon-rate windows and cap are the campaign
profile's (the store's :meth:`~dialer.store.compliance.Audit.audit_campaign`, as the API's).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from dialer.audit import format_report
from dialer.cli.store_command import command_group, run_with_store
from dialer.errors import ValidationError
from dialer.store.store import Store

#: Exit code of a report with violations (1 and 2 are errors).
EXIT_VIOLATIONS = 3


def parse_instant(text: str, field: str) -> dt.datetime:
    """An ISO 8601 date or date-time; without a zone it is UTC (a date: its 00:00 UTC).

    Raises:
        ValidationError: naming ``field`` when ``text`` is neither.
    """
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            field, "must be an ISO 8601 date or date-time, e.g. 2026-03-01T08:00+01:00", text
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def cmd_compliance_report(args: argparse.Namespace) -> int:
    since = parse_instant(args.since, "from") if args.since else None
    until = parse_instant(args.until, "to") if args.until else None

    async def go(store: Store) -> int:
        now = dt.datetime.now(dt.UTC)
        report = await store.audit_campaign(args.campaign, since=since, until=until, now=now)
        print(format_report(report))
        return 0 if report.violations == 0 else EXIT_VIOLATIONS

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer compliance`` to the ``dialer`` sub-command tree."""
    group = command_group(sub, "compliance", "compliance audit")
    p = group.add_parser(
        "report",
        help="audit a campaign's calls: abandon rate, hours, do-not-call, ring time, UK locks, message",
    )
    p.add_argument("--campaign", required=True)
    p.add_argument("--from", dest="since", help="first call start included (ISO 8601; default: all)")
    p.add_argument("--to", dest="until", help="calls started before this (ISO 8601; default: now)")
    p.set_defaults(func=cmd_compliance_report)
