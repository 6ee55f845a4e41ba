"""``dialer contacts``: import a CSV, move records between campaigns, list, search, show, export.

Every command is a thin front end over the store function the HTTP API calls too: the
import over :meth:`~dialer.store.imports.Imports.import_csv`, the move over
:mod:`dialer.contacts.transfer`, the rest over :class:`~dialer.store.contact_search.ContactSearch`.

``contacts import`` exit codes (documented in the README): 0 every row imported, 3 some rows
rejected (the others imported), 1 no row imported (or an error). ``--dry-run`` answers the
same for what an import would do, storing nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
from pathlib import Path
from typing import Any

from dialer.cli.data_options import add_page_options, page_footer, write_csv
from dialer.cli.store_command import command_group, config_from_args, format_table, run_with_store, with_store
from dialer.contacts import importer as contact_import
from dialer.contacts.csv_reader import RejectedRow, raw_records
from dialer.contacts.encoding import DEFAULT_ENCODING, decoded_lines
from dialer.contacts.importer import ImportReport
from dialer.errors import ValidationError
from dialer.store.contact_search import ContactLine, ContactQuery
from dialer.store.imports import column_mapping
from dialer.store.store import Store

# exit codes of `contacts import`
EXIT_NONE_IMPORTED = 1
EXIT_SOME_REJECTED = 3


def import_exit_code(report: ImportReport) -> int:
    if report.imported == 0:
        return EXIT_NONE_IMPORTED
    return EXIT_SOME_REJECTED if report.rejected else 0


def _summary(report: ImportReport) -> list[str]:
    verb = "would import" if report.dry_run else "imported"
    lines = [
        f"{verb} {report.imported} rows into {report.campaign}, rejected {report.rejected}"
        f" ({report.elapsed_s:.1f} s)" + (" (dry run: nothing stored)" if report.dry_run else "")
    ]
    if report.warnings:
        total = sum(n for _, n, _ in report.warnings)
        lines.append(f"warning: {total} imported rows cannot be dialled as things stand:")
        lines += [f"  {n} x {reason} (first at line {first})" for reason, n, first in report.warnings]
    return lines


def _write_rejects(path: Path, source: Path, encoding: str, rejects: list[RejectedRow]) -> None:
    """The rejected rows as the file had them, after their line and reason, header first."""
    reasons = {r.line: r.reason for r in rejects}
    with source.open("rb") as stream, path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for line, cells in raw_records(decoded_lines(stream, encoding)):
            if line == 1:
                writer.writerow(["line", "reason", *cells])
            elif line in reasons:
                writer.writerow([line, reasons[line], *cells])


def cmd_contacts_import(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    region = (args.region or cfg.contacts.default_region).upper()
    path = Path(args.file)
    if not path.is_file():
        raise ValidationError("file", "no such file", str(path))
    mapping = column_mapping(args.name_column, args.timezone_column, args.phone_columns)
    if args.batch_size < 1:
        raise ValidationError("batch_size", "must be a positive number", args.batch_size)
    rejects_path = Path(args.rejects) if args.rejects else None
    if rejects_path is not None and not rejects_path.parent.is_dir():
        raise ValidationError("rejects", "the folder does not exist", str(rejects_path.parent))
    rejects: list[RejectedRow] = []

    def report(r: RejectedRow) -> None:
        if rejects_path is not None:
            rejects.append(r)
        if not args.quiet:
            print(f"line {r.line}: {r.reason}")

    async def go(store: Store) -> int:
        with path.open("rb") as stream:  # noqa: ASYNC230  # read line by line in a worker thread
            result = await store.import_csv(
                args.campaign,
                stream,
                region=region,
                encoding=args.encoding,
                mapping=mapping,
                status=args.status,
                batch_size=args.batch_size,
                source=path.name,
                dry_run=args.dry_run,
                on_reject=report,
            )
        if rejects_path is not None:
            _write_rejects(rejects_path, path, args.encoding, rejects)
        print("\n".join(_summary(result)))
        if rejects_path is not None:
            print(f"{len(rejects)} rejected rows written to {rejects_path}")
        return import_exit_code(result)

    return asyncio.run(with_store(cfg, go))


def cmd_contacts_move(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        if args.count:
            print((await store.count_transfer(args.from_campaign, args.status)).describe())
            return 0
        if args.to_campaign is None or args.new_status is None:
            raise ValidationError("to", "give --to and --new-status (or --count to see the count only)")
        result = await store.move_contacts(
            from_campaign=args.from_campaign,
            status=args.status,
            to_campaign=args.to_campaign,
            new_status=args.new_status,
            limit=args.limit,
        )
        print(result.describe())
        return 0

    return run_with_store(args, go)


def _contact_table(lines: list[ContactLine]) -> str:
    return format_table(
        ["ID", "CAMPAIGN", "NAME", "STATUS", "NUMBERS", "ATTEMPTS", "LAST"],
        [(c.id, c.campaign, c.name, c.status, " ".join(c.phones), c.attempts, c.last_outcome) for c in lines],
    )


def cmd_contacts_list(args: argparse.Namespace) -> int:
    query = ContactQuery(
        campaign=args.campaign,
        status=args.status,
        name=getattr(args, "name", None),
        number=getattr(args, "number", None),
    )

    async def go(store: Store) -> int:
        lines, next_after = await store.search_contacts(query, after=args.after, limit=args.limit)
        print(_contact_table(lines) if lines else "no contacts match")
        if footer := page_footer(next_after):
            print(footer)
        return 0

    return run_with_store(args, go)


def cmd_contacts_show(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        d = await store.contact_detail(args.id)
        c = d.contact
        print(f"contact {c.id} in {d.campaign}: {c.name or '(no name)'}")
        print(f"  status {c.status}, attempts {c.attempts}, priority {c.priority}")
        print(f"  time zone {c.timezone or '(from its numbers)'}")
        if c.not_before:
            print(f"  not before {c.not_before.isoformat()}")
        if c.closed_reason:
            print(f"  closed: {c.closed_reason}")
        for p in c.phones:
            window = (
                f" {p.window_start:%H:%M}-{p.window_end:%H:%M}" if p.window_start and p.window_end else ""
            )
            print(f"  number {p.position}: {p.e164} ({p.kind}){window}{' disabled' if p.disabled else ''}")
        for key, value in sorted((c.fields or {}).items()):
            print(f"  {key}: {value}")
        if d.attempts:
            print("attempts:")
            print(
                format_table(
                    ["ID", "STARTED", "NUMBER", "OUTCOME", "AGENT", "STATUS"],
                    [
                        (a.id, f"{a.started_at:%Y-%m-%d %H:%M:%S}", a.number, a.outcome, a.agent, a.status)
                        for a in d.attempts
                    ],
                )
            )
        if d.callbacks:
            print("callbacks:")
            print(
                format_table(
                    ["ID", "DUE", "KIND", "STATE", "AGENT", "NUMBER"],
                    [(b.id, b.due_at.isoformat(), b.kind, b.state, b.agent, b.number) for b in d.callbacks],
                )
            )
        return 0

    return run_with_store(args, go)


def cmd_contacts_export(args: argparse.Namespace) -> int:
    query = ContactQuery(campaign=args.campaign, status=args.status, name=args.name, number=args.number)

    async def go(store: Store) -> int:
        count = await write_csv(await store.export_contacts(query), args.output)
        if args.output not in (None, "-"):
            print(f"{count} contacts written to {args.output}")
        return 0

    return run_with_store(args, go)


def _filters(p: argparse.ArgumentParser, *, campaign_positional: bool) -> None:
    if campaign_positional:
        p.add_argument("campaign", help="the campaign")
    else:
        p.add_argument("--campaign", help="only this campaign")
    p.add_argument("--status", help="only contacts with this status")


def register(sub: Any) -> None:
    """Add ``dialer contacts`` to the ``dialer`` sub-command tree."""
    co = command_group(sub, "contacts", "contacts")
    p = co.add_parser(
        "import",
        help="import a CSV (header row; phone required; phone2.. more numbers);"
        " exit 0 all imported, 3 some rejected, 1 none imported",
    )
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
        "--encoding",
        default=DEFAULT_ENCODING,
        help="the file's encoding (default utf-8; Polish Excel writes cp1250)",
    )
    p.add_argument("--dry-run", action="store_true", help="check every row, store nothing")
    p.add_argument("--rejects", metavar="FILE", help="write the rejected rows (line, reason, cells) as CSV")
    p.add_argument("--quiet", action="store_true", help="print the summary only, not each rejected row")
    p.add_argument(
        "--batch-size", type=int, default=contact_import.DEFAULT_BATCH, help="rows per transaction"
    )
    p.set_defaults(func=cmd_contacts_import)
    p = co.add_parser("move", help="move records to another campaign with a new status (one transaction)")
    p.add_argument("--from", dest="from_campaign", required=True)
    p.add_argument("--status", required=True)
    p.add_argument("--to", dest="to_campaign")
    p.add_argument("--new-status")
    p.add_argument("--limit", type=int)
    p.add_argument("--count", action="store_true", help="only count the records in --from / --status")
    p.set_defaults(func=cmd_contacts_move)

    p = co.add_parser("list", help="a campaign's contacts, a page at a time")
    _filters(p, campaign_positional=True)
    add_page_options(p)
    p.set_defaults(func=cmd_contacts_list)
    p = co.add_parser("search", help="contacts by name, number, status, campaign")
    _filters(p, campaign_positional=False)
    p.add_argument("--name", help="a part of the name (any case)")
    p.add_argument("--number", help="3 or more digits of a number")
    add_page_options(p)
    p.set_defaults(func=cmd_contacts_list)
    p = co.add_parser("show", help="one contact: numbers, custom fields, attempts, callbacks")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_contacts_show)
    p = co.add_parser("export", help="matching contacts as CSV (re-importable columns)")
    _filters(p, campaign_positional=False)
    p.add_argument("--name", help="a part of the name (any case)")
    p.add_argument("--number", help="3 or more digits of a number")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_contacts_export)
