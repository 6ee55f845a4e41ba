"""The engine's commands: ``dialer run`` (the production daemon) and ``dialer demo``.

Both import what they run (:mod:`dialer.app`, :mod:`dialer.cli.demo`) only when called: those
bring in the AMI client, the campaign engine and the simulated PBX, which no store command
needs. ``demo``'s options are checked by argparse types, so a bad value is a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from dialer.cli.args import port, positive_number, whole_number
from dialer.cli.campaigns import format_summary
from dialer.cli.store_command import config_from_args, with_store
from dialer.gc_tuning import young_threshold
from dialer.model import DialingMode, EngineStatus
from dialer.store.store import Store


def cmd_demo(args: argparse.Namespace) -> int:
    from dialer.cli import demo

    cfg = demo.demo_config(config_from_args(args), args.dsn)
    if args.build_only:

        async def go(store: Store) -> int:
            created = await demo.build(
                store,
                contacts=args.contacts,
                seed=args.seed,
                mode=args.mode,
                agents=args.agents,
                running=False,
            )
            for line in created:
                print(line)
            print()
            print(format_summary(await store.campaign_summary(demo.campaign_name(args.mode))))
            return 0

        return asyncio.run(with_store(cfg, go))
    seat = not args.no_browser_seat
    with young_threshold(cfg.engine.gc_young_threshold):  # an engine process, as `dialer run`
        return asyncio.run(
            demo.run_demo(
                cfg,
                demo.DemoOptions(
                    duration_s=args.duration or (600.0 if seat else 30.0),
                    agents=args.agents,
                    mode=args.mode,
                    metrics_port=args.metrics_port,
                    api_port=args.api_port,
                    contacts=args.contacts,
                    seed=args.seed,
                    time_scale=args.time_scale or (0.25 if seat else 0.05),
                    browser_seat=seat,
                ),
            )
        )


def cmd_run(args: argparse.Namespace) -> int:
    from dialer.app import run_daemon

    return asyncio.run(run_daemon(config_from_args(args)))


def cmd_engines(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)

    async def go(store: Store) -> int:
        print(format_engines(await store.engines(expiry_s=cfg.engine.takeover_s)))
        return 0

    return asyncio.run(with_store(cfg, go))


def format_engines(engines: list[EngineStatus]) -> str:
    """``dialer engines``: one line per engine, live ones first, then their campaigns."""
    if not engines:
        return "no engine has run on this database"
    lines = [f"{'ENGINE':<20} {'STATE':<8} {'HEARTBEAT':>10} {'CALLS':>6}  HOST:PID  CAMPAIGNS"]
    for e in engines:
        state = "alive" if e.alive else ("stopped" if e.stopped_at is not None else "silent")
        lines.append(
            f"{e.engine_id:<20} {state:<8} {e.heartbeat_age_s:>9.1f}s {e.calls:>6}  {e.host}:{e.pid}  "
            + (", ".join(e.campaigns) or "-")
        )
    return "\n".join(lines)


def _dialing_mode(text: str) -> DialingMode:
    try:
        return DialingMode(text.replace("-", "_").lower())
    except ValueError:
        choices = ", ".join(m.value for m in DialingMode)
        raise argparse.ArgumentTypeError(f"must be one of: {choices} (got {text!r})") from None


def register(sub: Any) -> None:
    """Add ``dialer demo`` and ``dialer run`` to the ``dialer`` sub-command tree."""
    p = sub.add_parser(
        "demo",
        help="run a sample predictive campaign against a simulated PBX (embedded database)",
        description="Start the embedded database and a simulated Asterisk, create the sample campaign,"
        " log simulated agents in and run the campaign with live progress and metrics.",
    )
    p.add_argument(
        "--duration",
        type=positive_number,
        default=None,
        help="seconds (600 with the browser seat, else 30)",
    )
    p.add_argument("--agents", type=whole_number(minimum=1), default=10, help="simulated agents (10)")
    p.add_argument(
        "--mode",
        type=_dialing_mode,
        default=DialingMode.PREDICTIVE,
        help="preview, push_preview, progressive or predictive (predictive)",
    )
    p.add_argument(
        "--metrics-port",
        type=port(allow_zero=True),
        default=None,
        help="serve /metrics here; 0: do not (metrics.port / DIALER_METRICS_PORT, else 9108)",
    )
    p.add_argument(
        "--api-port",
        type=port(allow_zero=True),
        default=0,
        help="serve the HTTP API and the console here (0: the configured [api] port with the browser"
        " seat, else no API)",
    )
    p.add_argument(
        "--no-browser-seat",
        action="store_true",
        help="no human seat: only simulated agents, no console logins (the API only with --api-port)",
    )
    p.add_argument(
        "--contacts", type=whole_number(), default=3000, help="contacts imported on the first run (3000)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--time-scale",
        type=positive_number,
        default=None,
        help="real seconds per simulated second (0.25 with the browser seat: a 60 s call lasts 15 s;"
        " else 0.05: 3 s)",
    )
    p.add_argument("--build-only", action="store_true", help="only create the sample data, dial nothing")
    p.add_argument(
        "--dsn",
        help="use this database instead of the demo's own (in <home>/demo); a DIALER_DSN or"
        " database.dsn of the configuration is refused without it",
    )
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

    p = sub.add_parser(
        "engines",
        help="the engines sharing the database: heartbeats, campaigns owned, calls in progress",
        description="Every engine that has run on this database, live ones first: alive while its"
        " heartbeat is younger than engine.takeover_s; 'silent' engines' campaigns are taken over.",
    )
    p.set_defaults(func=cmd_engines)
