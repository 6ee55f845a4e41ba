"""``dialer callbacks``: list, plan, reschedule and cancel callbacks, a campaign's slot grid,
the history of a callback, and the websites allowed to send web callback requests (issue 13).

Each command is one store call (the same the HTTP API makes); times are ISO date-times, read
in ``--timezone`` (default UTC) when they carry no offset.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from dialer.callbacks.grid import MissedRule, parse_dates, parse_instant
from dialer.callbacks.sites import new_site_key
from dialer.cli.store_command import command_group, format_table, parse_enum, run_with_store
from dialer.errors import ValidationError
from dialer.model import Callback, CallbackKind
from dialer.store.store import Store

_STATES = ("pending", "done", "cancelled", "missed", "all")


def _table(callbacks: list[Callback]) -> str:
    rows = [
        (
            cb.id,
            cb.contact_id,
            cb.contact_name,
            cb.kind.value,
            cb.source,
            cb.agent,
            cb.e164,
            cb.due_at.isoformat(),
            cb.window_end_at.isoformat() if cb.window_end_at else None,
            cb.state,
        )
        for cb in callbacks
    ]
    headers = ["id", "contact", "name", "kind", "source", "agent", "number", "due", "window end", "state"]
    return format_table(headers, rows)


def cmd_list(args: argparse.Namespace) -> int:
    if args.state not in _STATES:
        raise ValidationError("state", "must be one of: " + ", ".join(_STATES), args.state)

    async def go(store: Store) -> int:
        state = None if args.state == "all" else args.state
        found = await store.list_callbacks(args.campaign, state=state, agent=args.agent, source=args.source)
        print(_table(found) if found else "no callbacks")
        return 0

    return run_with_store(args, go)


def cmd_grid(args: argparse.Namespace) -> int:
    rule = parse_enum(MissedRule, args.missed_rule, "missed-rule")
    closed = parse_dates(args.closed.split(","), "closed") if args.closed else frozenset()

    async def go(store: Store) -> int:
        spec = await store.define_callback_grid(
            args.campaign,
            schedule=args.schedule,
            slot_min=args.slot_min,
            capacity=args.capacity,
            closed_dates=sorted(closed),
            missed_rule=rule,
            retry_delay_s=args.retry_delay_s,
            personal_cap_per_day=args.personal_cap,
            regions=args.regions.split(",") if args.regions else (),
        )
        capacity = spec.capacity if spec.capacity is not None else "the campaign's agents"
        print(f"grid of {args.campaign}: {spec.slot_min}-minute slots in {spec.schedule.name}")
        print(f"capacity per slot: {capacity}")
        return 0

    return run_with_store(args, go)


def cmd_slots(args: argparse.Namespace) -> int:
    first = min(parse_dates([args.first], "from"))
    last = min(parse_dates([args.last], "to")) if args.last else first

    async def go(store: Store) -> int:
        views = await store.callback_grid(
            args.campaign, first, last, args.timezone, at=dt.datetime.now(dt.UTC)
        )
        rows = [
            (
                v.local_start.strftime("%Y-%m-%d %H:%M"),
                v.local_end.strftime("%H:%M"),
                v.state.value,
                v.remaining,
            )
            for v in views
        ]
        print(format_table(["from", "to", "state", "places left"], rows) if rows else "no slots")
        return 0

    return run_with_store(args, go)


def _times(args: argparse.Namespace) -> tuple[dt.datetime | None, dt.datetime | None, dt.datetime | None]:
    """``--slot``, ``--at`` and ``--window-end`` in UTC (read in ``--timezone`` without an offset)."""
    return (
        parse_instant(args.slot, args.timezone, "slot"),
        parse_instant(args.at, args.timezone, "at"),
        parse_instant(args.window_end, args.timezone, "window-end"),
    )


def cmd_book(args: argparse.Namespace) -> int:
    slot, at, end = _times(args)

    async def go(store: Store) -> int:
        agent = await store.get_agent(args.personal) if args.personal else None
        cb = await store.schedule_callback(
            args.contact,
            due_at=at,
            window_end_at=end,
            slot_at=slot,
            kind=CallbackKind.PERSONAL if agent else CallbackKind.CAMPAIGN,
            agent_id=agent.id if agent else None,
            actor="cli",
        )
        print(_table([cb]))
        return 0

    return run_with_store(args, go)


def cmd_reschedule(args: argparse.Namespace) -> int:
    slot, at, end = _times(args)
    number = None
    if args.number:
        from config import load_config
        from dialer.contacts.phone import normalize

        number = normalize(args.number, load_config(args.config).contacts.default_region).e164

    async def go(store: Store) -> int:
        cb = await store.reschedule_callback(
            args.callback, due_at=at, window_end_at=end, slot_at=slot, new_phone=number, actor="cli"
        )
        print(_table([cb]))
        return 0

    return run_with_store(args, go)


def cmd_cancel(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.cancel_callback(args.callback, actor="cli")
        print(f"callback {args.callback} cancelled")
        return 0

    return run_with_store(args, go)


def cmd_history(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        changes = await store.callback_history(args.callback)
        rows = [
            (
                c.changed_at.isoformat(timespec="seconds"),
                c.actor,
                c.action,
                c.after.get("due_at"),
                c.after["state"],
            )
            for c in changes
        ]
        print(format_table(["when", "who", "what", "due", "state"], rows))
        return 0

    return run_with_store(args, go)


def cmd_site_add(args: argparse.Namespace) -> int:
    key = new_site_key()

    async def go(store: Store) -> int:
        site = await store.add_callback_site(args.name, args.campaign, key, args.origin or ())
        pages = f" from pages of {', '.join(site.origins)}" if site.origins else ""
        print(f"site {site.name} books web callbacks into {site.campaign}{pages};", end=" ")
        print(f"its key (shown once): {key}")
        return 0

    return run_with_store(args, go)


def _when(p: Any) -> None:
    p.add_argument("--slot", help="a grid slot's start (books a place in it)")
    p.add_argument("--at", help="the time, without a slot")
    p.add_argument("--window-end", help="never dialled after this")
    p.add_argument("--timezone", default="UTC", help="zone of times without an offset (default UTC)")


def register(sub: Any) -> None:
    """Add ``dialer callbacks`` to the ``dialer`` sub-command tree."""
    group = command_group(sub, "callbacks", "callbacks, slot grids, web callback sites")
    p = group.add_parser("list", help="a campaign's callbacks by due time")
    p.add_argument("campaign")
    p.add_argument("--state", default="pending", help="pending (default), done, cancelled, missed or all")
    p.add_argument("--agent", help="only this agent's personal callbacks")
    p.add_argument("--source", choices=("agent", "web"))
    p.set_defaults(func=cmd_list)
    p = group.add_parser("grid", help="define a campaign's callback slot grid")
    p.add_argument("campaign")
    p.add_argument("--schedule", required=True, help="opening days and hours (a schedule's name)")
    p.add_argument("--slot-min", type=int, required=True, help="slot length in minutes")
    p.add_argument("--capacity", type=int, help="callbacks per slot (default: the campaign's agents)")
    p.add_argument("--closed", help="closed dates, comma-separated YYYY-MM-DD")
    p.add_argument("--missed-rule", default="campaign", help="campaign (default), next_slot or retry")
    p.add_argument("--retry-delay-s", type=int, default=600)
    p.add_argument("--personal-cap", type=int, help="personal callbacks per agent and day")
    p.add_argument("--regions", help="web callback numbers' regions, ISO codes, comma-separated (none: any)")
    p.set_defaults(func=cmd_grid)
    p = group.add_parser("slots", help="the grid's slots with their state and places left")
    p.add_argument("campaign")
    p.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
    p.add_argument("--to", dest="last", help="YYYY-MM-DD (default: --from)")
    p.add_argument("--timezone", default="UTC")
    p.set_defaults(func=cmd_slots)
    p = group.add_parser("book", help="plan a callback for a contact")
    p.add_argument("contact", type=int)
    p.add_argument("--personal", metavar="AGENT", help="a personal callback of this agent")
    _when(p)
    p.set_defaults(func=cmd_book)
    p = group.add_parser("reschedule", help="move a pending callback")
    p.add_argument("callback", type=int)
    p.add_argument("--number", help="call this number instead")
    _when(p)
    p.set_defaults(func=cmd_reschedule)
    p = group.add_parser("cancel", help="cancel a pending callback")
    p.add_argument("callback", type=int)
    p.set_defaults(func=cmd_cancel)
    p = group.add_parser("history", help="every change of a callback")
    p.add_argument("callback", type=int)
    p.set_defaults(func=cmd_history)
    p = group.add_parser("site-add", help="let a website send web callback requests (prints its key)")
    p.add_argument("name")
    p.add_argument("campaign")
    p.add_argument(
        "--origin", action="append", help="a web page origin that may call from a browser (repeatable)"
    )
    p.set_defaults(func=cmd_site_add)
