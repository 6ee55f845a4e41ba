"""``dialer campaign create|edit|delete|list|show|start|pause|stop``; the summary ``demo`` prints.

The rules a campaign must keep (legal hours, ring time, caller ID, AMD under the profile,
the default disposition) are the store's (:mod:`dialer.campaign.rules`); this module only
turns options into a :class:`CampaignSpec` or a set of changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from config import CampaignDefaultsConfig
from dialer.cli.store_command import (
    command_group,
    config_from_args,
    format_table,
    parse_enum,
    run_with_store,
)
from dialer.errors import ValidationError
from dialer.model import (
    AmdAction,
    Campaign,
    CampaignSpec,
    CampaignState,
    CampaignSummary,
    Compliance,
    DialingMode,
)
from dialer.schedules.text import parse_window
from dialer.store.store import Store


def _hours(text: str) -> tuple[dt.time, dt.time]:
    try:
        return parse_window(text)
    except ValidationError as e:
        raise ValidationError("hours", e.reason, text) from None


def _amd_changes(args: argparse.Namespace, defaults: CampaignDefaultsConfig | None) -> dict[str, Any]:
    """The AMD fields the options give (``defaults``: the ``[campaigns]`` config for the rest)."""
    out: dict[str, Any] = {}
    if defaults is not None:
        out = {
            "amd": defaults.amd,
            "amd_action": parse_enum(AmdAction, defaults.amd_action, "amd_action"),
            "amd_message": defaults.amd_message,
            "amd_false_positive": defaults.amd_false_positive,
        }
    if args.amd is not None:
        out["amd"] = args.amd
    if args.amd_action is not None:
        out["amd_action"] = parse_enum(AmdAction, args.amd_action, "amd_action")
    if args.amd_message is not None:
        out["amd_message"] = args.amd_message
    if args.amd_false_positive is not None:
        out["amd_false_positive"] = args.amd_false_positive
    return out


def campaign_from_args(
    args: argparse.Namespace, defaults: CampaignDefaultsConfig | None = None
) -> CampaignSpec:
    hours_start, hours_end = dt.time(8), dt.time(21)  # US TSR 16 CFR 310.4(c)(8am-9pm local)
    if args.hours:
        hours_start, hours_end = _hours(args.hours)
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
        default_disposition=args.default_disposition,
        worst_hour_cap=bool(args.worst_hour_cap),
        servers=_servers(args.servers) or (),
        **_amd_changes(args, defaults or CampaignDefaultsConfig()),
    )


def cmd_campaign_create(args: argparse.Namespace) -> int:
    spec = campaign_from_args(args, config_from_args(args).campaigns)

    async def go(store: Store) -> int:
        c = await store.create_campaign(spec)
        statuses = await store.list_statuses(c.name)
        print(
            f"created campaign {c.name}: {c.mode.value}, schedule {c.schedule}, {c.compliance.value} profile,"
            f" state {c.state.value}; statuses: {', '.join(s.name for s in statuses)}"
        )
        return 0

    return run_with_store(args, go)


# ``dialer campaign edit`` option -> CampaignSpec field (None: not given, unchanged).
_SET_OPTIONS = {
    "schedule": "schedule",
    "mode": "mode", "caller_id": "caller_id", "queue": "queue", "ring_timeout": "ring_timeout_s",
    "compliance": "compliance", "abandon_cap": "abandon_cap", "timezone": "timezone", "priority": "priority",
    "max_attempts": "max_attempts", "max_per_day": "max_attempts_per_day",
    "default_disposition": "default_disposition", "worst_hour_cap": "worst_hour_cap",
    "servers": "servers",
}


def _servers(text: str | None) -> tuple[str, ...] | None:
    """``--servers pbx1,pbx2`` (names or groups of [[ami.servers]]; '' = every server)."""
    return None if text is None else tuple(n for n in text.split(",") if n.strip())


def cmd_campaign_set(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {
        field: getattr(args, opt) for opt, field in _SET_OPTIONS.items() if getattr(args, opt) is not None
    }
    if "mode" in changes:
        changes["mode"] = parse_enum(DialingMode, changes["mode"], "mode")
    if "servers" in changes:
        changes["servers"] = _servers(changes["servers"])
    if "compliance" in changes:
        changes["compliance"] = parse_enum(Compliance, changes["compliance"], "compliance")
    if args.hours:
        changes["local_hours_start"], changes["local_hours_end"] = _hours(args.hours)
    changes |= _amd_changes(args, None)
    if not changes:
        raise ValidationError("options", "name at least one setting to change")

    async def go(store: Store) -> int:
        c = await store.update_campaign(args.name, **changes)
        print(f"campaign {c.name} changed: {', '.join(sorted(changes))}")
        return 0

    return run_with_store(args, go)


def cmd_campaign_delete(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.delete_campaign(args.name)
        print(f"deleted campaign {args.name} with its contacts and statuses")
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
        f"  compliance {c.compliance.value}, abandon cap {c.abandon_cap:.1%}"
        + (" (every rolling hour too)" if c.worst_hour_cap else "") + f", ring {c.ring_timeout_s}s,"
        f" local hours {_hhmm(c.local_hours_start)}-{_hhmm(c.local_hours_end)}, zone {c.timezone}",
        f"  caller id {c.caller_id or '-'}, queue {c.queue or '-'},"
        f" servers {', '.join(c.servers) or 'every configured server'}",
        f"  caps: {c.max_attempts} attempts per contact, {c.max_attempts_per_day} per day;"
        f" default status {c.default_status or '-'}, default disposition {c.default_disposition or '-'}",
        f"  amd {_amd_text(c)}" + ("; demo data (never dialled by `dialer run`)" if c.demo else ""),
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


def _amd_text(c: Campaign) -> str:
    if not c.amd:
        return "off"
    action = c.amd_action.value + (f" {c.amd_message}" if c.amd_action is AmdAction.MESSAGE else "")
    return f"on, machine: {action}, false-positive estimate {c.amd_false_positive:.1%}"


def _hhmm(t: dt.time | None) -> str:
    return "" if t is None else t.strftime("%H:%M")


def _add_disposition_and_amd(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--default-disposition",
        help="status of an answered contact whose agent sets none; not a 'call' status"
        " (default: 'Odebrany bez dyspozycji', never dialled again)",
    )
    p.add_argument(
        "--amd", action=argparse.BooleanOptionalAction, default=None,
        help="answering-machine detection (default: [campaigns] amd in the config, off)",
    )
    p.add_argument(
        "--worst-hour-cap", action=argparse.BooleanOptionalAction, default=None,
        help="predictive: also hold the abandon cap over every rolling hour (costs talk time; default off)",
    )
    p.add_argument(
        "--servers",
        help="AMI servers or server groups to dial through, comma-separated ([[ami.servers]] name or"
        " group; '' = every configured server, the default)",
    )
    p.add_argument("--amd-action", help="what a machine gets: hangup, message or agent")
    p.add_argument("--amd-message", help="the sound played to a machine by --amd-action message")
    p.add_argument(
        "--amd-false-positive", type=float,
        help="estimated share of people AMD takes for machines (uk: needed, counted as abandons)",
    )


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
    _add_disposition_and_amd(p)
    p.set_defaults(func=cmd_campaign_create)
    p = camp.add_parser("edit", aliases=["set"], help="change a campaign's settings (checked like a new one)")
    p.add_argument("name")
    p.add_argument("--schedule", help="another from-to window schedule")
    p.add_argument("--mode")
    p.add_argument("--caller-id")
    p.add_argument("--queue")
    p.add_argument("--ring-timeout", type=int, help="seconds, 15-120")
    p.add_argument("--compliance")
    p.add_argument("--abandon-cap", type=float)
    p.add_argument("--hours", help="HH:MM-HH:MM")
    p.add_argument("--timezone")
    p.add_argument("--priority", type=int)
    p.add_argument("--max-attempts", type=int)
    p.add_argument("--max-per-day", type=int)
    _add_disposition_and_amd(p)
    p.set_defaults(func=cmd_campaign_set)
    p = camp.add_parser("delete", help="delete a stopped campaign that has no attempts, with its contacts")
    p.add_argument("name")
    p.set_defaults(func=cmd_campaign_delete)
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
