"""``dialer campaign create|list|show|start|pause|stop``, and the campaign summary ``demo`` prints too."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from dialer.cli.store_command import command_group, format_table, parse_enum, run_with_store
from dialer.errors import ValidationError
from dialer.model import CampaignSpec, CampaignState, CampaignSummary, Compliance, DialingMode
from dialer.schedules.text import parse_window
from dialer.store.store import Store


def campaign_from_args(args: argparse.Namespace) -> CampaignSpec:
    hours_start, hours_end = dt.time(8), dt.time(21)  # US TSR 16 CFR 310.4(c)(8am-9pm local)
    if args.hours:
        try:
            hours_start, hours_end = parse_window(args.hours)
        except ValidationError as e:
            raise ValidationError("hours", e.reason, args.hours) from None
    return CampaignSpec(
        name=args.name,
        schedule=args.schedule,
        mode=parse_enum(DialingMode, args.mode, "mode"),
        caller_id=args.caller_id,
        queue=args.queue,
        ring_timeout_s=args.ring_timeout,
        compliance=parse_enum(Compliance, args.compliance, "compliance"),
        abandon_cap=args.abandon_cap,
        local_hours_start=hours_start,
        local_hours_end=hours_end,
        timezone=args.timezone,
        state=parse_enum(CampaignState, args.state, "state"),
        priority=args.priority,
        max_attempts=args.max_attempts,
        max_attempts_per_day=args.max_per_day,
    )


def cmd_campaign_create(args: argparse.Namespace) -> int:
    spec = campaign_from_args(args)

    async def go(store: Store) -> int:
        c = await store.create_campaign(spec)
        statuses = await store.list_statuses(c.name)
        print(
            f"created campaign {c.name}: {c.mode.value}, schedule {c.schedule}, {c.compliance.value} profile,"
            f" state {c.state.value}; statuses: {', '.join(s.name for s in statuses)}"
        )
        return 0

    return run_with_store(args, go)


def cmd_campaign_list(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        rows = [
            [
                c.name,
                c.mode.value,
                c.state.value,
                c.schedule,
                c.compliance.value,
                f"{_hhmm(c.local_hours_start)}-{_hhmm(c.local_hours_end)}",
                c.timezone,
                c.priority,
            ]
            for c in await store.list_campaigns()
        ]
        headers = ["NAME", "MODE", "STATE", "SCHEDULE", "PROFILE", "HOURS", "ZONE", "PRIORITY"]
        print(format_table(headers, rows))
        return 0

    return run_with_store(args, go)


def format_summary(s: CampaignSummary) -> str:
    c = s.campaign
    lines = [
        f"campaign {c.name}",
        f"  mode {c.mode.value}, state {c.state.value}, schedule {c.schedule}, priority {c.priority}",
        f"  compliance {c.compliance.value}, abandon cap {c.abandon_cap:.1%}, ring {c.ring_timeout_s}s,"
        f" local hours {_hhmm(c.local_hours_start)}-{_hhmm(c.local_hours_end)}, zone {c.timezone}",
        f"  caller id {c.caller_id or '-'}, queue {c.queue or '-'}",
        f"  caps: {c.max_attempts} attempts per contact, {c.max_attempts_per_day} per day;"
        f" default status {c.default_status or '-'}",
        f"  contacts {s.contacts} (due now {s.dialable}), attempts {s.attempts}",
    ]
    lines += [f"    {name}: {n}" for name, n in s.by_status.items()]
    return "\n".join(lines)


def cmd_campaign_show(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        print(format_summary(await store.campaign_summary(args.name)))
        return 0

    return run_with_store(args, go)


def _cmd_campaign_state(state: CampaignState) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        async def go(store: Store) -> int:
            await store.set_campaign_state(args.name, state)
            print(f"campaign {args.name} is {state.value}")
            return 0

        return run_with_store(args, go)

    return handler


def _hhmm(t: dt.time | None) -> str:
    return "" if t is None else t.strftime("%H:%M")


def register(sub: Any) -> None:
    """Add ``dialer campaign`` to the ``dialer`` sub-command tree."""
    camp = command_group(sub, "campaign", "campaigns")
    p = camp.add_parser("create", help="create a campaign")
    p.add_argument("name")
    p.add_argument("--schedule", required=True, help="its calling window (a schedule name)")
    p.add_argument("--mode", default="progressive", help="preview, push_preview, progressive, predictive")
    p.add_argument("--caller-id", default="", help="presented on every call")
    p.add_argument(
        "--queue",
        default="",
        help="the Asterisk queue (queues.conf) its agents join and its calls go to"
        " (default: the campaign's name)",
    )
    p.add_argument("--ring-timeout", type=int, default=20, help="seconds, at least 15 (default 20)")
    p.add_argument("--compliance", default="us", help="us, uk or zero (default us)")
    p.add_argument("--abandon-cap", type=float, default=0.03, help="at most 0.03 (default)")
    p.add_argument(
        "--hours", help="local calling hours HH:MM-HH:MM in the contact's zone (default 08:00-21:00)"
    )
    p.add_argument("--timezone", default="UTC", help="campaign zone: per-day caps, numbers without a zone")
    p.add_argument("--state", default="stopped", help="stopped, running or paused (default stopped)")
    p.add_argument("--priority", type=int, default=0)
    p.add_argument("--max-attempts", type=int, default=10, help="per contact, all outcomes (default 10)")
    p.add_argument("--max-per-day", type=int, default=3, help="attempts per contact per day (default 3)")
    p.set_defaults(func=cmd_campaign_create)
    camp.add_parser("list", help="list campaigns").set_defaults(func=cmd_campaign_list)
    p = camp.add_parser("show", help="a campaign's settings and contact counts")
    p.add_argument("name")
    p.set_defaults(func=cmd_campaign_show)
    for verb, state in (
        ("start", CampaignState.RUNNING),
        ("pause", CampaignState.PAUSED),
        ("stop", CampaignState.STOPPED),
    ):
        p = camp.add_parser(verb, help=f"set the campaign {state.value}")
        p.add_argument("name")
        p.set_defaults(func=_cmd_campaign_state(state))
