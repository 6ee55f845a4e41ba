"""``dialer reminders ...``: the reminder service (issue 14) from the command line.

``run`` runs the service alone (without the engine: e.g. on another host); ``status`` shows
whether a service runs (the seed's panel); ``set`` changes a campaign's rules, ``template``
saves a template (refused unless it renders against the sample; shows an SMS's length),
``override`` a callback's own choice, ``optout`` a contact's opt-out, ``agent-address`` where an
agent gets reminders, ``status-action`` the template a status sends; ``log`` shows the log.
Every rule is the store's, the same the HTTP API applies.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from dialer.cli.store_command import command_group, config_from_args, format_table, run_with_store, with_store
from dialer.errors import ValidationError
from dialer.store.store import Store


def cmd_run(args: argparse.Namespace) -> int:
    from dialer.clock import RealClock
    from dialer.notify.channels import Channels
    from dialer.notify.service import ReminderService
    from dialer.observability.logs import configure_logging

    cfg = config_from_args(args)
    configure_logging(cfg.log.format, cfg.log.level)
    engine_id = cfg.engine.engine_id or socket.gethostname()

    async def go(store: Store) -> int:
        service = ReminderService(
            store, Channels.from_config(cfg.reminders), RealClock(), f"{engine_id}/reminders", cfg.reminders
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.stop)
        await service.run()
        return 0

    return asyncio.run(with_store(cfg, go))


def cmd_status(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        import datetime as dt

        s = await store.reminder_service_state(dt.datetime.now(dt.UTC))
        print(f"running: {'yes (' + ', '.join(s.engines) + ')' if s.running else 'no'}")
        print(f"last run: {s.last_run_at.isoformat(timespec='seconds') if s.last_run_at else 'never'}")
        print(f"backlog: {s.backlog}")
        print(f"sent in the last hour: {s.sent_last_hour}")
        print(f"failed in the last hour: {s.failures_last_hour}")
        return 0 if s.running else 3

    return run_with_store(args, go)


_FLAGS = ("enabled", "customer_enabled", "agent_enabled")


def _bool(field: str, value: str) -> bool:
    v = value.lower()
    if v in ("on", "yes", "true", "1"):
        return True
    if v in ("off", "no", "false", "0"):
        return False
    raise ValidationError(field, "must be on or off", value)


def cmd_set(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    for name in (
        "enabled",
        "customer_enabled",
        "customer_channel",
        "customer_template",
        "customer_lead",
        "agent_enabled",
        "agent_channel",
        "agent_template",
        "agent_lead",
        "email_from",
        "sms_sender",
        "language",
    ):
        value = getattr(args, name)
        if value is None:
            continue
        if name in _FLAGS:
            changes[name] = _bool(name, value)
        elif name.endswith("_lead"):
            changes[f"{name}_s"] = int(value * 60)
        elif name.endswith("_template") and value == "":
            changes[name] = None
        else:
            changes[name] = value

    async def go(store: Store) -> int:
        s = (
            await store.set_reminder_settings(args.campaign, **changes)
            if changes
            else (await store.reminder_settings(args.campaign))
        )
        print(f"reminders for {s.campaign}: {'on' if s.enabled else 'off'}")
        rows = [
            [
                "customer",
                "on" if s.customer_enabled else "off",
                s.customer_channel,
                s.customer_template,
                s.customer_lead_s // 60,
            ],
            [
                "agent",
                "on" if s.agent_enabled else "off",
                s.agent_channel,
                s.agent_template,
                s.agent_lead_s // 60,
            ],
        ]
        print(format_table(["RECIPIENT", "ON", "CHANNEL", "TEMPLATE", "LEAD_MIN"], rows))
        return 0

    return run_with_store(args, go)


def _read(path: str | None, field: str) -> str:
    if path is None:
        return ""
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError(field, f"cannot read the file: {e.strerror}", path) from None
    except UnicodeDecodeError:
        raise ValidationError(field, "the file is not UTF-8 text", path) from None


def cmd_template(args: argparse.Namespace) -> int:
    body = args.body if args.body is not None else _read(args.body_file, "body")
    html = _read(args.html_file, "html")

    async def go(store: Store) -> int:
        t, check = await store.save_reminder_template(
            args.campaign, args.name, channel=args.channel, body=body, subject=args.subject, html=html
        )
        print(f"saved {t.text.channel} template {t.name} of {t.campaign}")
        if check.rendered.subject:
            print(f"sample subject: {check.rendered.subject}")
        print(f"sample text: {check.rendered.text}")
        if check.sms is not None:
            print(f"SMS: {check.sms.describe()}")
        return 0

    return run_with_store(args, go)


def cmd_override(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.set_reminder_override(
            args.callback,
            recipients=args.recipients,
            channel=args.channel,
            template=args.template,
            lead_s=None if args.lead is None else int(args.lead * 60),
        )
        print(f"callback {args.callback}: reminder override saved")
        return 0

    return run_with_store(args, go)


def cmd_optout(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.set_reminder_optout(args.contact, not args.undo)
        print(f"contact {args.contact}: {'opted in to' if args.undo else 'opted out of'} reminders")
        return 0

    return run_with_store(args, go)


def cmd_agent_address(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.set_agent_reminder_address(args.agent, email=args.email, phone=args.phone)
        print(f"agent {args.agent}: reminder address saved")
        return 0

    return run_with_store(args, go)


def cmd_status_action(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.set_status_action(args.campaign, args.status, args.template)
        print(f"{args.campaign}: status {args.status} sends template {args.template}")
        return 0

    return run_with_store(args, go)


def cmd_log(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        entries = await store.reminder_log(args.campaign, limit=args.limit, callback_id=args.callback)
        rows = [
            [
                e.at.isoformat(timespec="seconds"),
                e.send_id,
                e.callback_id,
                e.recipient,
                e.channel,
                e.operation,
                e.detail,
            ]
            for e in entries
        ]
        print(format_table(["AT", "SEND", "CALLBACK", "RECIPIENT", "CHANNEL", "OPERATION", "DETAIL"], rows))
        return 0

    return run_with_store(args, go)


def _minutes(value: str) -> float:
    try:
        minutes = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {value!r}") from None
    if not 0 <= minutes <= 7 * 24 * 60:
        raise argparse.ArgumentTypeError("must be between 0 and 10080 minutes (a week)")
    return minutes


def register(sub: Any) -> None:
    """Add ``dialer reminders`` to the ``dialer`` sub-command tree."""
    g = command_group(sub, "reminders", "the reminder service: SMS and e-mail reminders of callbacks")
    g.add_parser("run", help="run the reminder service alone (dialer run runs it too)").set_defaults(
        func=cmd_run
    )
    g.add_parser("status", help="is the service running; backlog and failures").set_defaults(func=cmd_status)

    p = g.add_parser("set", help="a campaign's reminder rules (seed 002's defaults)")
    p.add_argument("campaign")
    for flag in ("enabled", "customer-enabled", "agent-enabled"):
        p.add_argument(f"--{flag}", dest=flag.replace("-", "_"), metavar="on|off")
    for who in ("customer", "agent"):
        p.add_argument(f"--{who}-channel", choices=("sms", "email"))
        p.add_argument(f"--{who}-template", help="a template name ('' clears it)")
        p.add_argument(f"--{who}-lead", type=_minutes, metavar="MINUTES", help="minutes before the callback")
    p.add_argument("--email-from")
    p.add_argument("--sms-sender")
    p.add_argument("--language", choices=("en", "pl"))
    p.set_defaults(func=cmd_set)

    p = g.add_parser("template", help="save a template (it must render against a sample)")
    p.add_argument("campaign")
    p.add_argument("name")
    p.add_argument("--channel", required=True, choices=("sms", "email"))
    p.add_argument("--subject", default="")
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("--body")
    body.add_argument("--body-file", help="a UTF-8 file, - for standard input")
    p.add_argument("--html-file", help="the e-mail's HTML part (optional)")
    p.set_defaults(func=cmd_template)

    p = g.add_parser("override", help="a callback's own reminder choice")
    p.add_argument("callback", type=int)
    p.add_argument("--recipients", choices=("customer", "agent", "both", "none"))
    p.add_argument("--channel", choices=("sms", "email"))
    p.add_argument("--template")
    p.add_argument("--lead", type=_minutes, metavar="MINUTES")
    p.set_defaults(func=cmd_override)

    p = g.add_parser("optout", help="a contact opts out of reminders (--undo: back in)")
    p.add_argument("contact", type=int)
    p.add_argument("--undo", action="store_true")
    p.set_defaults(func=cmd_optout)

    p = g.add_parser("agent-address", help="where an agent gets reminders")
    p.add_argument("agent")
    p.add_argument("--email", default="")
    p.add_argument("--phone", default="", help="E.164")
    p.set_defaults(func=cmd_agent_address)

    p = g.add_parser("status-action", help="the template a status with an action qualifier sends")
    p.add_argument("campaign")
    p.add_argument("status")
    p.add_argument("template")
    p.set_defaults(func=cmd_status_action)

    p = g.add_parser("log", help="a campaign's reminder log, newest first")
    p.add_argument("campaign")
    p.add_argument("--callback", type=int)
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_log)
