"""``dialer report``: outcomes per day, abandon rate per window, talk share per agent.

The numbers are the store's :meth:`~dialer.store.reports.Reports.report`, the same as
``GET /api/v1/report``; ``--format`` only chooses how they are printed: ``table`` (for a
person), ``csv`` (one table per section, a ``section`` column first), ``json`` (the API's shape).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from typing import Any

from dialer.cli.data_options import parse_time
from dialer.cli.store_command import format_table, run_with_store
from dialer.errors import ValidationError
from dialer.store.reports import WINDOWS, Report
from dialer.store.store import Store

FORMATS = ("table", "csv", "json")


def _sections(r: Report) -> list[tuple[str, list[str], list[list[object]]]]:
    return [
        (
            "outcomes",
            ["day", "outcome", "attempts"],
            [[o.day.isoformat(), o.outcome, o.attempts] for o in r.outcomes],
        ),
        (
            "abandons",
            ["window_start", "live", "abandoned", "rate"],
            [
                [w.start.isoformat(), w.live, w.abandoned, "" if w.rate is None else f"{w.rate:.4f}"]
                for w in r.abandons
            ],
        ),
        (
            "talk",
            ["agent", "calls", "talk_s", "share"],
            [[t.agent, t.calls, f"{t.talk_s:.0f}", f"{t.share:.4f}"] for t in r.talk],
        ),
    ]


def render(r: Report, fmt: str) -> str:
    """The report as ``table``, ``csv`` or ``json`` text."""
    if fmt == "json":
        return json.dumps(
            {
                "campaign": r.campaign,
                "timezone": r.timezone,
                "since": r.since.isoformat(),
                "until": r.until.isoformat(),
                "window": r.window,
                **{
                    name: [dict(zip(head, row, strict=True)) for row in rows]
                    for name, head, rows in _sections(r)
                },
            },
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for name, head, rows in _sections(r):
            writer.writerow(["section", *head])
            writer.writerows([name, *row] for row in rows)
        return out.getvalue().rstrip("\n")
    scope = r.campaign or "all campaigns"
    parts = [
        f"report for {scope}, {r.since:%Y-%m-%d %H:%M} to {r.until:%Y-%m-%d %H:%M} UTC, days in {r.timezone}"
    ]
    titles = {
        "outcomes": "outcomes per day (attempts by the day they started)",
        "abandons": f"abandon rate per {r.window} (abandoned / live answers)",
        "talk": "talk share per agent",
    }
    for name, head, rows in _sections(r):
        parts.append(f"\n{titles[name]}:")
        parts.append(format_table([h.upper() for h in head], rows) if rows else "  (none)")
    return "\n".join(parts)


def cmd_report(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise ValidationError("format", f"must be one of: {', '.join(FORMATS)}", args.format)
    since, until = parse_time(args.since, "since"), parse_time(args.until, "until")

    async def go(store: Store) -> int:
        r = await store.report(
            args.campaign, since=since, until=until, window=args.window, timezone=args.timezone
        )
        print(render(r, args.format))
        return 0

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer report``."""
    p = sub.add_parser("report", help="outcomes per day, abandon rate per window, talk share per agent")
    p.add_argument("--campaign", help="one campaign (default: all)")
    p.add_argument("--since", help="from (ISO date or date-time; default 7 days before --until)")
    p.add_argument("--until", help="to (default: now)")
    p.add_argument("--window", default="day", help=f"abandon-rate window: {', '.join(WINDOWS)} (default day)")
    p.add_argument("--timezone", help="days and windows in this zone (default: the campaign's, else UTC)")
    p.add_argument("--format", default="table", help="table, csv or json (default table)")
    p.set_defaults(func=cmd_report)
