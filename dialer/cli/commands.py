"""The store's command groups: ``db``, ``schedule``, ``status``, ``campaign``, ``agent``,
``dnc``, ``contacts``; and the engine's: ``run`` (the daemon) and ``demo``.

Each handler parses and validates its arguments, opens the store (the configured DSN or the
embedded PostgreSQL, pending migrations applied automatically), does one thing, prints a
short human-readable result and returns the exit code. Input the user can fix raises
:class:`~dialer.errors.ValidationError`; :func:`dialer.cli.main` prints it as
``error: FIELD: REASON`` and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from config import DialerConfig, load_config
from dialer.contacts import importer as contact_import
from dialer.contacts import transfer
from dialer.contacts.csv_reader import ColumnMapping, RejectedRow, read_contacts
from dialer.errors import ValidationError
from dialer.model import (
    Backoff,
    CampaignSpec,
    CampaignState,
    CampaignSummary,
    Compliance,
    DialingMode,
    Qualifier,
    RetryRule,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.schedules.schedule import Schedule, schedule_from_text
from dialer.schedules.text import parse_window
from dialer.store import migrate
from dialer.store.database import resolve_dsn
from dialer.store.store import Store

T = TypeVar("T")


def _config(args: argparse.Namespace) -> DialerConfig:
    return load_config(getattr(args, "config", None))


async def _with_store(cfg: DialerConfig, fn: Callable[[Store], Awaitable[T]]) -> T:
    store = await Store.open(await resolve_dsn(cfg), min_size=1, max_size=4)
    try:
        return await fn(store)
    finally:
        await store.close()


def _run(args: argparse.Namespace, fn: Callable[[Store], Awaitable[int]]) -> int:
    return asyncio.run(_with_store(_config(args), fn))


def _enum(kind: type[Any], value: str | None, field: str) -> Any:
    if value is None:
        return None
    try:
        return kind(value.replace("-", "_").lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise ValidationError(field, f"must be one of: {choices}", value) from None


def _table(headers: list[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [headers, *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)


def _hhmm(t: dt.time | None) -> str:
    return "" if t is None else t.strftime("%H:%M")


# -- db ----------------------------------------------------------------------------------


def cmd_db_migrate(args: argparse.Namespace) -> int:
    cfg = _config(args)

    async def go() -> int:
        store = await Store.open(await resolve_dsn(cfg), migrate_now=False)
        try:
            done = await store.migrate()
            async with store.pool.acquire() as conn:
                versions = await migrate.applied(conn)
        finally:
            await store.close()
        for m in done:
            print(f"applied {m.version:03d}_{m.name}")
        print(f"database is at version {max(versions) if versions else 0} ({len(done)} applied now)")
        return 0

    return asyncio.run(go())


# -- schedules ---------------------------------------------------------------------------


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

    return _run(args, go)


def cmd_schedule_list(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        rows = [[s.name, s.describe(), s.description] for s in await store.list_schedules()]
        print(_table(["NAME", "WHEN", "DESCRIPTION"], rows))
        return 0

    return _run(args, go)


# -- statuses ----------------------------------------------------------------------------


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
        backoff=_enum(Backoff, args.backoff, "backoff") or Backoff.FIXED,
        factor=factor,
        max_attempts=args.max_attempts,
    )


def cmd_status_create(args: argparse.Namespace) -> int:
    spec = StatusSpec(
        name=args.name,
        system_status=_enum(SystemStatus, args.system, "system"),
        qualifier=_enum(Qualifier, args.qualifier, "qualifier"),
        trigger=_enum(Trigger, args.trigger, "trigger"),
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

    return _run(args, go)


def cmd_status_add(args: argparse.Namespace) -> int:
    rule = _retry_from_args(args)

    async def go(store: Store) -> int:
        await store.add_status(args.campaign, args.status, retry=rule)
        print(f"campaign {args.campaign} uses status {args.status!r}")
        return 0

    return _run(args, go)


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
        print(_table(["NAME", "SYSTEM", "QUALIFIER", "TRIGGER", "FROM", "FLAGS", "RETRY"], rows))
        return 0

    return _run(args, go)


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


# -- campaigns ---------------------------------------------------------------------------


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
        mode=_enum(DialingMode, args.mode, "mode"),
        caller_id=args.caller_id,
        queue=args.queue,
        ring_timeout_s=args.ring_timeout,
        compliance=_enum(Compliance, args.compliance, "compliance"),
        abandon_cap=args.abandon_cap,
        local_hours_start=hours_start,
        local_hours_end=hours_end,
        timezone=args.timezone,
        state=_enum(CampaignState, args.state, "state"),
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

    return _run(args, go)


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
        print(_table(["NAME", "MODE", "STATE", "SCHEDULE", "PROFILE", "HOURS", "ZONE", "PRIORITY"], rows))
        return 0

    return _run(args, go)


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

    return _run(args, go)


def _cmd_campaign_state(state: CampaignState) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        async def go(store: Store) -> int:
            await store.set_campaign_state(args.name, state)
            print(f"campaign {args.name} is {state.value}")
            return 0

        return _run(args, go)

    return handler


# -- agents and do-not-call --------------------------------------------------------------


def cmd_agent_create(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        agent = await store.create_agent(args.name, args.interface)
        for camp in args.campaign or []:
            await store.assign_agent(camp, agent.name)
        print(f"created agent {agent.name} ({agent.interface or 'no interface'})")
        return 0

    return _run(args, go)


def cmd_dnc_add(args: argparse.Namespace) -> int:
    from dialer.contacts.phone import normalize

    cfg = _config(args)
    number = normalize(args.number, args.region or cfg.contacts.default_region)

    async def go(store: Store) -> int:
        await store.add_do_not_call(number.e164, campaign=args.campaign, reason=args.reason)
        print(f"{number.e164} is on the {'list of ' + args.campaign if args.campaign else 'global list'}")
        return 0

    return asyncio.run(_with_store(cfg, go))


# -- contacts ----------------------------------------------------------------------------


def cmd_contacts_import(args: argparse.Namespace) -> int:
    cfg = _config(args)
    region = (args.region or cfg.contacts.default_region).upper()
    path = Path(args.file)
    if not path.is_file():
        raise ValidationError("file", "no such file", str(path))
    phones = tuple(p.strip() for p in args.phone_columns.split(",")) if args.phone_columns else None
    default = ColumnMapping()
    mapping = ColumnMapping(
        name=args.name_column or default.name,
        timezone=args.timezone_column or default.timezone,
        phones=phones if phones is not None else default.phones,
    )
    if args.batch_size < 1:
        raise ValidationError("batch_size", "must be a positive number", args.batch_size)

    def report(r: RejectedRow) -> None:
        print(f"line {r.line}: {r.reason}")

    async def go(store: Store) -> int:
        # The CLI process does nothing else meanwhile; rows are parsed synchronously anyway.
        with path.open(encoding="utf-8-sig", newline="") as stream:  # noqa: ASYNC230
            rows = read_contacts(stream, default_region=region, mapping=mapping)
            result = await contact_import.import_contacts(
                store.pool,
                args.campaign,
                rows,
                status=args.status,
                batch_size=args.batch_size,
                source=path.name,
                on_reject=report,
            )
        print(
            f"imported {result.imported} rows into {args.campaign}, rejected {result.rejected}"
            f" ({result.elapsed_s:.1f} s)"
        )
        return 0

    return asyncio.run(_with_store(cfg, go))


def cmd_contacts_move(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        async with store.pool.acquire() as conn:
            matched = await transfer.count_matching(conn, args.from_campaign, args.status)
            print(f"{matched} records in {args.from_campaign} / {args.status}")
            result = await transfer.move_contacts(
                conn,
                from_campaign=args.from_campaign,
                status=args.status,
                to_campaign=args.to_campaign,
                new_status=args.new_status,
                limit=args.limit,
            )
        print(result.describe())
        return 0

    return _run(args, go)


def cmd_demo(args: argparse.Namespace) -> int:
    from dialer.cli import demo

    cfg = _config(args)
    if args.build_only:

        async def go(store: Store) -> int:
            created = await demo.build(store, contacts=args.contacts, seed=args.seed, mode=args.mode)
            for line in created:
                print(line)
            print()
            print(format_summary(await store.campaign_summary(demo.campaign_name(args.mode))))
            return 0

        return asyncio.run(_with_store(cfg, go))
    return asyncio.run(
        demo.run_demo(
            cfg,
            demo.DemoOptions(
                duration_s=args.duration,
                agents=args.agents,
                mode=args.mode,
                metrics_port=args.metrics_port,
                contacts=args.contacts,
                seed=args.seed,
                time_scale=args.time_scale,
            ),
        )
    )


def cmd_run(args: argparse.Namespace) -> int:
    from dialer.app import run_daemon

    return asyncio.run(run_daemon(_config(args)))


def _positive_float(field: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{field}: must be a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{field}: must be positive, got {text!r}")
        return value

    return parse


def _positive_int(field: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{field}: must be a whole number, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{field}: must be at least 1, got {text!r}")
        return value

    return parse


def _dialing_mode(text: str) -> DialingMode:
    try:
        return DialingMode(text.replace("-", "_").lower())
    except ValueError:
        choices = ", ".join(m.value for m in DialingMode)
        raise argparse.ArgumentTypeError(f"mode: must be one of {choices}, got {text!r}") from None


# -- the argparse tree -------------------------------------------------------------------


def _retry_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retry-delay", type=int, help="seconds before the next attempt (default 3600)")
    p.add_argument("--backoff", help="fixed or multiplicative")
    p.add_argument("--factor", type=float, help="multiplier per repeated outcome (multiplicative back-off)")
    p.add_argument(
        "--max-attempts", type=int, help="attempts ending with this status before the contact closes"
    )


def register(sub: Any) -> None:
    """Add the store's command groups to the ``dialer`` sub-command tree."""
    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", metavar="COMMAND"
    )
    db.required = True
    db.add_parser("migrate", help="apply pending migrations (idempotent)").set_defaults(func=cmd_db_migrate)

    sched = sub.add_parser("schedule", help="schedules (calling windows)").add_subparsers(
        dest="schedule_command", metavar="COMMAND"
    )
    sched.required = True
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

    st = sub.add_parser("status", help="statuses (dictionary and per campaign)").add_subparsers(
        dest="status_command", metavar="COMMAND"
    )
    st.required = True
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

    camp = sub.add_parser("campaign", help="campaigns").add_subparsers(
        dest="campaign_command", metavar="COMMAND"
    )
    camp.required = True
    p = camp.add_parser("create", help="create a campaign")
    p.add_argument("name")
    p.add_argument("--schedule", required=True, help="its calling window (a schedule name)")
    p.add_argument("--mode", default="progressive", help="preview, push_preview, progressive, predictive")
    p.add_argument("--caller-id", default="", help="presented on every call")
    p.add_argument("--queue", default="", help="Asterisk queue / agent group")
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

    ag = sub.add_parser("agent", help="agents").add_subparsers(dest="agent_command", metavar="COMMAND")
    ag.required = True
    p = ag.add_parser("create", help="create an agent")
    p.add_argument("name")
    p.add_argument("--interface", default="", help="Asterisk member interface, e.g. PJSIP/1001")
    p.add_argument("--campaign", action="append", help="assign to this campaign (repeatable)")
    p.set_defaults(func=cmd_agent_create)

    dnc = sub.add_parser("dnc", help="do-not-call lists").add_subparsers(
        dest="dnc_command", metavar="COMMAND"
    )
    dnc.required = True
    p = dnc.add_parser("add", help="add a number to the global list or a campaign's")
    p.add_argument("number")
    p.add_argument("--campaign")
    p.add_argument("--region", help="region for numbers without a country code")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_dnc_add)

    co = sub.add_parser("contacts", help="contacts").add_subparsers(
        dest="contacts_command", metavar="COMMAND"
    )
    co.required = True
    p = co.add_parser("import", help="import a CSV (header row; phone required; phone2.. more numbers)")
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
        "--batch-size", type=int, default=contact_import.DEFAULT_BATCH, help="rows per transaction"
    )
    p.set_defaults(func=cmd_contacts_import)
    p = co.add_parser("move", help="move records to another campaign with a new status (one transaction)")
    p.add_argument("--from", dest="from_campaign", required=True)
    p.add_argument("--status", required=True)
    p.add_argument("--to", dest="to_campaign", required=True)
    p.add_argument("--new-status", required=True)
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_contacts_move)

    p = sub.add_parser(
        "demo",
        help="run a sample predictive campaign against a simulated PBX (embedded database)",
        description="Start the embedded database and a simulated Asterisk, create the sample campaign,"
        " log simulated agents in and run the campaign with live progress and metrics.",
    )
    p.add_argument("--duration", type=_positive_float("duration"), default=30.0, help="seconds (30)")
    p.add_argument("--agents", type=_positive_int("agents"), default=10, help="simulated agents (10)")
    p.add_argument(
        "--mode",
        type=_dialing_mode,
        default=DialingMode.PREDICTIVE,
        help="preview, push_preview, progressive or predictive (predictive)",
    )
    p.add_argument("--metrics-port", type=int, default=9108, help="serve /metrics here; 0: do not (9108)")
    p.add_argument("--contacts", type=int, default=3000, help="contacts imported on the first run (3000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--time-scale",
        type=_positive_float("time_scale"),
        default=0.05,
        help="real seconds per simulated second (0.05: a 60 s call lasts 3 s)",
    )
    p.add_argument("--build-only", action="store_true", help="only create the sample data, dial nothing")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "run",
        help="the production engine: dial every running campaign (SIGTERM drains)",
        description="Run the engine with the configuration in --config (or $DIALER_CONFIG)."
        " SIGTERM/SIGINT drain: no new calls, calls in progress get engine.drain_timeout_s, leases"
        " are released, exit 0. A configuration error exits 2.",
    )
    # SUPPRESS: `dialer --config F run` and `dialer run --config F` both work
    p.add_argument("--config", default=argparse.SUPPRESS, help="TOML file (default: $DIALER_CONFIG)")
    p.set_defaults(func=cmd_run)
