"""``dialer schedule create|list|edit|remove``: calling windows and run-at times (:mod:`dialer.schedules`).

The options map one to one onto :func:`~dialer.schedules.schedule.schedule_from_text`, which
validates them; this module only checks the choices argparse cannot express (exactly one
frequency, exactly one of ``--at`` and ``--window``).
"""

from __future__ import annotations

import argparse
from typing import Any

from dialer.cli.store_command import command_group, format_table, run_with_store
from dialer.errors import ValidationError
from dialer.schedules.schedule import Frequency, Schedule, schedule_from_text
from dialer.schedules.text import parse_int_set, parse_time, parse_weekdays, parse_window
from dialer.store.store import Store


def schedule_from_args(args: argparse.Namespace) -> Schedule:
    """Build a :class:`Schedule` from ``schedule create`` arguments (validated by ``Schedule``)."""
    chosen = [
        f
        for f, on in (("daily", args.daily), ("weekly", args.weekly is not None), ("monthly", args.monthly))
        if on
    ]
    if len(chosen) != 1:
        raise ValidationError("frequency", "give exactly one of --daily, --weekly [DAYS], --monthly")
    if (args.at is None) == (args.window is None):
        raise ValidationError("time", "give exactly one of --at HH:MM or --window HH:MM-HH:MM")
    if (args.months or args.days) and chosen[0] != "monthly":
        raise ValidationError("months", "--months and --days belong to a --monthly schedule")
    return schedule_from_text(
        args.name,
        frequency=chosen[0],
        weekdays=args.weekly or "",
        months=args.months or "",
        days=args.days or "",
        at=args.at,
        window=args.window,
        every=args.every,
        timezone=args.timezone,
        active=not args.inactive,
        description=args.description,
    )


def cmd_schedule_create(args: argparse.Namespace) -> int:
    schedule = schedule_from_args(args)

    async def go(store: Store) -> int:
        await store.create_schedule(schedule)
        print(f"created schedule {schedule.name}: {schedule.describe()}")
        return 0

    return run_with_store(args, go)


def cmd_schedule_list(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        rows = [[s.name, s.describe(), s.description] for s in await store.list_schedules()]
        print(format_table(["NAME", "WHEN", "DESCRIPTION"], rows))
        return 0

    return run_with_store(args, go)


def schedule_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The fields ``schedule edit`` changes (what the options leave out stays); the store and
    the :class:`Schedule` value check the result."""
    changes: dict[str, Any] = {}
    chosen = [
        f
        for f, on in (("daily", args.daily), ("weekly", args.weekly is not None), ("monthly", args.monthly))
        if on
    ]
    if len(chosen) > 1:
        raise ValidationError("frequency", "give at most one of --daily, --weekly [DAYS], --monthly")
    if chosen:  # a new frequency starts with its own day choice
        empty: frozenset[int] = frozenset()
        changes.update(frequency=Frequency(chosen[0]), weekdays=empty, months=empty, days=empty)
        if args.weekly:
            changes["weekdays"] = parse_weekdays(args.weekly)
    if args.months is not None:
        changes["months"] = parse_int_set(args.months, "months", 1, 12)
    if args.days is not None:
        changes["days"] = parse_int_set(args.days, "days", 1, 31)
    if args.at is not None and args.window is not None:
        raise ValidationError("time", "give --at HH:MM or --window HH:MM-HH:MM, not both")
    if args.at is not None:
        changes.update(run_at=parse_time(args.at, "at"), window_start=None, window_end=None)
        changes["interval_min"] = None
    if args.window is not None:
        changes["window_start"], changes["window_end"] = parse_window(args.window)
        changes["run_at"] = None
    if args.every is not None:
        changes["interval_min"] = args.every or None
    for option, field in (("rename", "name"), ("timezone", "timezone"), ("description", "description"),
                          ("active", "active")):
        if getattr(args, option) is not None:
            changes[field] = getattr(args, option)
    if not changes:
        raise ValidationError("options", "name at least one thing to change")
    return changes


def cmd_schedule_edit(args: argparse.Namespace) -> int:
    changes = schedule_changes(args)

    async def go(store: Store) -> int:
        schedule = await store.update_schedule(args.name, **changes)
        print(f"schedule {schedule.name}: {schedule.describe()}")
        return 0

    return run_with_store(args, go)


def cmd_schedule_remove(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.remove_schedule(args.name)
        print(f"removed schedule {args.name}")
        return 0

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer schedule`` to the ``dialer`` sub-command tree."""
    sched = command_group(sub, "schedule", "schedules (calling windows)")
    p = sched.add_parser("create", help="create a schedule")
    p.add_argument("name")
    p.add_argument("--daily", action="store_true", help="every day")
    p.add_argument(
        "--weekly", nargs="?", const="", metavar="DAYS", help="on these weekdays (mon,tue,...; none = all)"
    )
    p.add_argument(
        "--monthly", action="store_true", help="in chosen --months and/or --days (none = every day)"
    )
    p.add_argument("--months", help="1-12, comma separated, ranges allowed")
    p.add_argument("--days", help="days of month 1-31, comma separated, ranges allowed")
    p.add_argument("--at", help="run at HH:MM")
    p.add_argument("--window", help="open HH:MM-HH:MM (00:00-00:00 = all day)")
    p.add_argument("--every", type=int, metavar="MINUTES", help="repeat every N minutes within the window")
    p.add_argument("--timezone", default="UTC", help="zone the times are in (default UTC)")
    p.add_argument("--inactive", action="store_true", help="create it inactive (it never runs)")
    p.add_argument("--description", default="")
    p.set_defaults(func=cmd_schedule_create)
    sched.add_parser("list", help="list schedules").set_defaults(func=cmd_schedule_list)
    p = sched.add_parser("edit", help="change a schedule (what the options leave out stays)")
    p.add_argument("name")
    p.add_argument("--rename", metavar="NEW_NAME")
    p.add_argument("--daily", action="store_true", help="every day")
    p.add_argument("--weekly", nargs="?", const="", metavar="DAYS", help="on these weekdays (none = all)")
    p.add_argument("--monthly", action="store_true", help="in chosen --months and/or --days")
    p.add_argument("--months", help="1-12, comma separated ('' = every month)")
    p.add_argument("--days", help="days of month 1-31 ('' = every day)")
    p.add_argument("--at", help="run at HH:MM (drops the window)")
    p.add_argument("--window", help="open HH:MM-HH:MM (drops the run-at time)")
    p.add_argument(
        "--every", type=int, metavar="MINUTES", help="repeat every N minutes in the window (0: no interval)"
    )
    p.add_argument("--timezone")
    p.add_argument(
        "--active", action=argparse.BooleanOptionalAction, default=None, help="--no-active: it never runs"
    )
    p.add_argument("--description")
    p.set_defaults(func=cmd_schedule_edit)
    p = sched.add_parser("remove", help="remove a schedule no campaign dials in")
    p.add_argument("name")
    p.set_defaults(func=cmd_schedule_remove)
