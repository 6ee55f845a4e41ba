"""``dialer demo``: a sample campaign dialled against a simulated PBX, end to end.

Two parts. :func:`build` creates (once) a schedule, the usual automatic statuses, the demo
agents and the campaign (``DEMO`` for predictive, ``DEMO_<MODE>`` for the other modes), and
imports generated contacts through the real CSV import path; running it again adds nothing.
Numbers come from Ofcom's drama ranges (:data:`DRAMA_RANGES`), drawn by a seeded ``numpy``
generator, and the campaign is flagged demo: ``dialer run`` never dials it.

:func:`run_demo` is the README's main job. It starts the embedded database and an
in-process :class:`~ami.simulator.server.SimulatedPbx` on a free port, builds the real engine
with :func:`dialer.app.build_app` pointed at it (so every call goes over a real AMI socket),
logs :class:`SimulatedAgents` in through the runner's agent interface (the one the HTTP API
will expose), redraws a progress block while the campaign runs, drains the engine and prints
a summary read back from the database. The demo lives apart: its embedded database is in a home of its own
(:func:`demo_home`, never the home ``dialer run`` uses), a configured database (``DIALER_DSN``,
``database.dsn``) is refused unless given with ``--dsn``, and its campaign is paused when it
ends. The simulated world runs ``time_scale`` times real
speed: with the default 0.05, a 60-second call lasts 3 seconds, so a 30-second demo
completes hundreds of attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import secrets
import socket
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import asyncpg
import numpy as np

from ami.simulator.population import PopulationParams
from ami.simulator.server import SimulatedPbx
from config import AmiConfig, AmiServerConfig, ConfigError, DialerConfig, MetricsConfig, Secret
from dialer.agents.state import AgentState
from dialer.cli.demo_agents import AGENT_REVIEW_S, AGENT_WRAP_S, SimulatedAgents
from dialer.cli.demo_numbers import DEMO_CALLER_ID, sample_csv
from dialer.cli.demo_seat import close_seat, open_seat, seat_lines
from dialer.cli.progress import DemoSummary, ProgressSample, ProgressView, summary_lines
from dialer.contacts import importer as contact_import
from dialer.contacts.csv_reader import read_contacts
from dialer.errors import DialerError, ValidationError
from dialer.model import (
    Backoff,
    CampaignSpec,
    CampaignState,
    Compliance,
    DialingMode,
    Qualifier,
    RetryRule,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.observability.logs import configure_logging
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.database import resolve_dsn
from dialer.store.store import Store

CAMPAIGN = "DEMO"
SCHEDULE = "DEMO_ALL_DAY"

# The automatic statuses most campaigns want (seed 004), with retry rules: judgement calls
# matching DEFAULT_RULES in dialer.store.statuses, plus per-outcome budgets under the global cap.
DEMO_STATUSES = (
    StatusSpec(
        "Zajęty",
        SystemStatus.CALL,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.BUSY,
        auto_add=True,
        retry=RetryRule(600, Backoff.MULTIPLICATIVE, 2.0, max_attempts=5),
    ),
    StatusSpec(
        "Nie odbiera",
        SystemStatus.CALL,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.NO_ANSWER,
        auto_add=True,
        retry=RetryRule(3600, Backoff.FIXED, 2.0, max_attempts=5),
    ),
    StatusSpec(
        "Błąd sieci",
        SystemStatus.CALL,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.CONGESTION,
        auto_add=True,
        retry=RetryRule(300, Backoff.MULTIPLICATIVE, 2.0, max_attempts=5),
    ),
    StatusSpec(
        "Automat",
        SystemStatus.NOT_BEFORE,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.MACHINE,
        auto_add=True,
        retry=RetryRule(4 * 3600, Backoff.FIXED, 2.0, max_attempts=3),
    ),
    StatusSpec(
        "Porzucone",
        SystemStatus.CALL_PROGRESSIVE,
        Qualifier.CALLBACK_END_OF_QUEUE,
        Trigger.ABANDONED,
        auto_add=True,
        retry=RetryRule(0),
    ),
    StatusSpec(
        "Błędny numer",
        SystemStatus.CALL,
        Qualifier.CLOSING,
        Trigger.INVALID_NUMBER,
        auto_add=True,
        retry=RetryRule(0),
    ),
    StatusSpec(
        "Oddzwonić", SystemStatus.MY_RECORD, Qualifier.CALLBACK_ABSOLUTE, auto_add=True, retry=RetryRule(0)
    ),
    StatusSpec("Sprzedane", SystemStatus.DO_NOT_CALL, Qualifier.SUCCESS, auto_add=True, retry=RetryRule(0)),
    StatusSpec(
        "Nie zainteresowany", SystemStatus.DO_NOT_CALL, Qualifier.CLOSING, auto_add=True, retry=RetryRule(0)
    ),
)
def campaign_name(mode: DialingMode) -> str:
    """``DEMO`` for the predictive demo, ``DEMO_<MODE>`` for the others (each keeps its own list)."""
    return CAMPAIGN if mode is DialingMode.PREDICTIVE else f"{CAMPAIGN}_{mode.value.upper()}"


def agent_names(n: int) -> list[tuple[str, str]]:
    """(name, interface) of the first ``n`` demo agents."""
    return [(f"demo-agent-{i}", f"PJSIP/{1000 + i}") for i in range(1, n + 1)]


async def build(
    store: Store,
    *,
    contacts: int = 300,
    seed: int = 7,
    mode: DialingMode = DialingMode.PREDICTIVE,
    agents: int = 3,
    running: bool = True,
) -> list[str]:
    """Create what is missing of the demo; return one line per thing created or found.

    The campaign is flagged demo (``dialer run`` never dials it) and left running only when
    ``running`` (the demo pauses it again when it ends).
    """
    state = CampaignState.RUNNING if running else CampaignState.PAUSED
    said: list[str] = []
    name = campaign_name(mode)
    names = {s.name for s in await store.list_schedules()}
    if SCHEDULE not in names:
        await store.create_schedule(
            Schedule(
                name=SCHEDULE,
                frequency=Frequency.DAILY,
                window_start=dt.time(0),
                window_end=dt.time(0),
                timezone="Europe/Warsaw",
                description="demo: open all day",
            )
        )
        said.append(f"created schedule {SCHEDULE} (daily, all day, Europe/Warsaw)")
    dictionary = {s.name for s in await store.list_statuses()}
    made = []
    for spec in DEMO_STATUSES:
        if spec.name not in dictionary:
            try:
                await store.create_status(spec)
                made.append(spec.name)
            except ValidationError:
                pass  # same trigger already taken by a status the user made; keep theirs
    if made:
        said.append(f"created statuses {', '.join(made)}")
    if name not in {c.name for c in await store.list_campaigns()}:
        await store.create_campaign(
            CampaignSpec(
                name=name,
                schedule=SCHEDULE,
                mode=mode,
                caller_id=DEMO_CALLER_ID,
                queue=f"demo-{mode.value.replace('_', '-')}",
                compliance=Compliance.UK,
                # The numbers are fiction and the people simulated: the demo must work whenever
                # someone tries it, so its local calling hours are the whole day (equal start
                # and end), which only a campaign flagged demo may have (rules.py LEGAL_HOURS).
                local_hours_start=dt.time(0),
                local_hours_end=dt.time(0),
                timezone="Europe/London",
                state=state,
                demo=True,
            )
        )
        said.append(f"created campaign {name} ({mode.value}, UK profile, demo data, {state.value})")
    else:
        await store.set_campaign_state(name, state)
    assigned = {a.name for a in await store.campaign_agents(name)}
    new_agents = 0
    for agent, interface in agent_names(agents):
        if agent in assigned:
            continue
        try:
            await store.create_agent(agent, interface)
        except ValidationError:
            pass  # made for another demo campaign
        await store.assign_agent(name, agent)
        new_agents += 1
    if new_agents:
        said.append(f"created agents demo-agent-1..{agents} (PJSIP/1001..{1000 + agents}) in {name}")
    summary = await store.campaign_summary(name)
    if contacts == 0:
        said.append(f"no contacts imported into {name} (--contacts 0); it has {summary.contacts}")
    elif summary.contacts == 0:
        rows = read_contacts(io.StringIO(sample_csv(contacts, seed)), default_region="PL")
        rejects: list[str] = []
        report = await contact_import.import_contacts(
            store.pool,
            name,
            rows,
            source="demo",
            on_reject=lambda r: rejects.append(f"line {r.line}: {r.reason}"),
        )
        why = f" ({report.rejected} rejected: {'; '.join(rejects[:3])})" if report.rejected else ""
        said.append(f"imported {report.imported} of {contacts} generated contacts into {name}{why}")
    else:
        said.append(
            f"campaign {name} has {summary.contacts} contacts from an earlier run; none imported"
            " (--contacts applies to the first run)"
        )
    return said


# -- the simulated campaign -------------------------------------------------------------------

# The simulated people, in simulated seconds: PopulationParams' plausible B2C list (about a
# third of dials reach a person, a fifth of answers are machines) with calls a little shorter
# than its 60 s default (and a thinner tail) so that a short demo shows many of them.
DEMO_POPULATION = PopulationParams(talk_median_s=45.0, talk_sigma=0.5)
# The demo engine's id on leases and attempts: the same for every run, so a demo that was
# killed has its open attempts reconciled by the next one.
DEMO_ENGINE_ID = "demo"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """``dialer demo``'s options (see the README)."""

    duration_s: float = 30.0
    agents: int = 10
    mode: DialingMode = DialingMode.PREDICTIVE
    metrics_port: int | None = None  # None: the configuration's (metrics.port, DIALER_METRICS_PORT); 0: none
    api_port: int = 0  # 0: no HTTP API (unless browser_seat: then the configured port)
    browser_seat: bool = False  # a person in the console beside the simulated agents
    contacts: int = 3000
    seed: int = 7
    time_scale: float = 0.05


def _sample(runner: Any, elapsed_s: float, duration_s: float) -> ProgressSample:
    """The runner's counters now. Answers and connects are counted when a call ends; the calls
    on the line with an agent are added, so the counters never trail the agents talking."""
    stats = runner.stats()
    on_the_line = sum(1 for call in runner.calls if call.connected_at is not None)
    by_state = stats.agents_by_state
    return ProgressSample(
        elapsed_s=elapsed_s,
        duration_s=duration_s,
        calls=stats.attempts,
        in_progress=stats.in_flight,
        live_answers=stats.live_answers + on_the_line,
        connects=stats.connects + on_the_line,
        abandons=stats.abandons,
        agents_talking=by_state.get(AgentState.TALKING.value, 0),
        agents_reviewing=by_state.get(AgentState.OFFERED.value, 0),
        agents_logged_in=sum(n for s, n in by_state.items() if s != AgentState.LOGGED_OUT.value),
        hopper=stats.hopper_depth,
        dial_level=stats.dial_level,
        fallback=stats.fallback,
    )


async def _attempts_by_outcome(dsn: str, campaign: str, since: dt.datetime) -> tuple[dict[str, int], int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT coalesce(a.outcome, 'open') AS outcome, count(*) AS n
               FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
               WHERE c.name = $1 AND a.started_at >= $2 GROUP BY 1""",
            campaign,
            since,
        )
    finally:
        await conn.close()
    by = {r["outcome"]: int(r["n"]) for r in rows}
    return {k: v for k, v in by.items() if k != "open"}, by.get("open", 0)


def demo_home(cfg: DialerConfig) -> Path:
    """The demo's own home: ``<home>/demo``, beside (never the same as) ``dialer run``'s."""
    return cfg.home / "demo"


def demo_config(cfg: DialerConfig, dsn: str | None) -> DialerConfig:
    """``cfg`` pointed at the demo's own database: ``dsn`` when given, else the demo home's.

    Raises:
        ValidationError: field ``database.dsn``, when the configuration names a database
            (``DIALER_DSN`` or the file) and ``dsn`` was not given explicitly.
    """
    if dsn:
        return replace(cfg, database=replace(cfg.database, dsn=Secret(dsn)))
    if cfg.database.dsn is not None and cfg.database.dsn.reveal():
        raise ValidationError(
            "database.dsn",
            "the demo never writes into a configured database (DIALER_DSN or the config file);"
            " unset it for the demo's own embedded database, or pass --dsn to mean it",
        )
    return replace(cfg, home=demo_home(cfg))


def demo_metrics(metrics: MetricsConfig, port: int | None) -> MetricsConfig:
    """Where the demo serves metrics: ``--metrics-port`` when given (0: nowhere), else the configuration's."""
    if port is None:
        return replace(metrics, enabled=metrics.enabled and metrics.port != 0)
    return replace(metrics, port=port or metrics.port, enabled=port != 0)


def check_port_free(key: str, host: str, port: int) -> None:
    """Raise ConfigError naming ``key`` when ``host:port`` cannot be listened on now."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server will
        try:
            probe.bind((host, port))
        except OSError as e:
            raise ConfigError(key, f"cannot listen on {host}:{port}: {e.strerror}") from None


async def run_demo(cfg: DialerConfig, opts: DemoOptions, *, out: TextIO | None = None) -> int:
    """Run the demo campaign for ``opts.duration_s`` seconds and print its summary.

    Raises:
        ConfigError: the metrics port is taken (``metrics.port``).
        StoreError: the embedded database could not be started.
    """
    from dialer.app import build_app

    out = sys.stdout if out is None else out
    # The progress block owns the terminal: only errors reach stderr (the engine's expected
    # warnings, such as the simulated PBX hanging up at the end, would break the redrawn
    # block). DIALER_LOG_LEVEL=debug shows everything.
    level = "debug" if cfg.log.level == "debug" else "error"
    configure_logging("console" if sys.stderr.isatty() else "json", level)
    metrics = demo_metrics(cfg.metrics, opts.metrics_port)
    if metrics.enabled:  # before anything is created: a taken port is one line, not a half-built demo
        check_port_free("metrics.port", metrics.host, metrics.port)
    if opts.api_port:
        check_port_free("api.port", cfg.api.host, opts.api_port)
    dsn = await resolve_dsn(cfg, linger=True)  # `dialer campaign show DEMO` afterwards is quick
    store = await Store.open(dsn, min_size=1, max_size=2)
    try:
        made = await build(store, contacts=opts.contacts, seed=opts.seed, mode=opts.mode, agents=opts.agents)
        for line in made:
            print(line, file=out)
        campaign = await store.get_campaign(campaign_name(opts.mode))
        seat = await open_seat(store, campaign.name) if opts.browser_seat else None
    finally:
        await store.close()

    secret = secrets.token_hex(8)
    pbx = SimulatedPbx(
        secret=secret,
        time_scale=opts.time_scale,
        queues=(campaign.queue,),
        population=DEMO_POPULATION,
        rng=np.random.default_rng(opts.seed),
        agent_ring_s=1.0,
    )
    await pbx.start()
    demo_cfg = replace(
        cfg,
        database=replace(cfg.database, dsn=Secret(dsn)),
        ami=AmiConfig(
            servers=(
                AmiServerConfig(
                    name="simulated-pbx",
                    host="127.0.0.1",
                    port=pbx.port,
                    username=pbx.username,
                    secret=Secret(secret),
                    channel_limit=max(30, 8 * opts.agents),
                    connect_timeout_s=2.0,
                ),
            )
        ),
        metrics=metrics,
        api=replace(
            cfg.api, port=opts.api_port or cfg.api.port, enabled=opts.api_port > 0 or seat is not None
        ),
        engine=replace(
            cfg.engine,
            dial_demo_campaigns=True,
            engine_id=DEMO_ENGINE_ID,
            tick_s=0.25,
            lease_ttl_s=60.0,
            drain_timeout_s=max(5.0, 200 * opts.time_scale),
            # an agent who leaves wrap-up open gets the default after 60 simulated seconds
            disposition_timeout_s=max(1.0, 60 * opts.time_scale, 90.0 if seat else 0.0),
            # the connect limit stays 2 real seconds, the limit the pacing policy plans with
            # (the simulator scales the dialplan's timeout like every other time)
            queue_timeout_s=2.0 / opts.time_scale,
        ),
    )
    started_at = dt.datetime.now(dt.UTC)
    app = await build_app(demo_cfg, configure_logs=False, campaigns={campaign.name})
    agents_task: asyncio.Task[None] | None = None
    engine_task: asyncio.Task[None] | None = None
    try:
        await app.start()
        if app.metrics_server is not None:
            print(f"metrics on http://{app.metrics_server.host}:{app.metrics_server.port}/metrics", file=out)
        if app.api_server is not None:
            print(f"API on http://{app.api_server.host}:{app.api_server.port}/api/docs", file=out)
            for line in seat_lines(app.api_server.host, app.api_server.port, seat) if seat else ():
                print(line, file=out)
        engine_task = asyncio.create_task(app.run(), name="demo-engine")
        runner = await _wait_for_runner(app, campaign.name, engine_task)
        agents = SimulatedAgents(
            runner.agents,
            agent_names(opts.agents),
            rng=np.random.default_rng(opts.seed + 1),
            wrap_s=AGENT_WRAP_S * opts.time_scale,
            review_s=AGENT_REVIEW_S * opts.time_scale,
            request_records=opts.mode is DialingMode.PREVIEW,
        )
        await agents.login_all()
        agents_task = asyncio.create_task(agents.run(), name="demo-agents")
        print(
            f"dialling {campaign.name} ({opts.mode.value}) with {opts.agents} simulated agents"
            f" for {opts.duration_s:.0f} s; simulated time runs {1 / opts.time_scale:.0f}x faster",
            file=out,
        )
        view = ProgressView(out, mode=opts.mode.value)
        is_tty = out.isatty()
        every_s = 0.5 if is_tty else max(1.0, opts.duration_s / 10)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        runner.end_at(runner.clock.now() + opts.duration_s)  # paced to end under the cap
        next_show = t0
        while (elapsed := loop.time() - t0) < opts.duration_s:
            if engine_task.done():
                engine_task.result()
                break
            if loop.time() >= next_show:
                view.show(_sample(runner, elapsed, opts.duration_s))
                next_show += every_s
            await asyncio.sleep(min(0.1, max(0.0, opts.duration_s - elapsed)))
        view.show(_sample(runner, min(loop.time() - t0, opts.duration_s), opts.duration_s))
        print("draining: no new calls, waiting for calls in progress ...", file=out)
        await app.drain()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(engine_task, 10.0)
        stats = runner.stats()
    finally:
        for task in (agents_task, engine_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        await app.close()
        await pbx.close()
        await _pause(dsn, campaign.name, seat=seat is not None)

    by_outcome, still_open = await _attempts_by_outcome(dsn, campaign.name, started_at)
    store = await Store.open(dsn, min_size=1, max_size=2)
    try:
        summary = await store.campaign_summary(campaign.name)
    finally:
        await store.close()
    told = ", ".join(f"{k} {n}" for k, n in sorted(agents.dispositions.items()))
    print(file=out)
    for line in summary_lines(
        DemoSummary(
            mode=opts.mode.value,
            duration_s=opts.duration_s,
            agents=opts.agents,
            attempts_by_outcome=by_outcome,
            contacts_by_status=summary.by_status,
            live_answers=stats.live_answers,
            abandons=stats.abandons,
            agent_talk_share=agents.talk_share,
            contacts=summary.contacts,
            open_attempts=still_open,
            extra={"agent dispositions": told},
        )
    ):
        print(line, file=out)
    return 0


async def _pause(dsn: str, campaign: str, *, seat: bool = False) -> None:
    """The demo's campaign stops with the demo: paused, never left running (and the seat's
    one-run logins removed)."""
    store = await Store.open(dsn, min_size=1, max_size=1)
    try:
        await store.set_campaign_state(campaign, CampaignState.PAUSED)
        if seat:
            await close_seat(store)
    finally:
        await store.close()


async def _wait_for_runner(app: Any, campaign: str, engine_task: asyncio.Task[None]) -> Any:
    """The engine starts a runner for each running campaign whose schedule is open."""
    for _ in range(200):
        runner = app.engine.runner(campaign)
        if runner is not None:
            return runner
        if engine_task.done():
            engine_task.result()
            break
        await asyncio.sleep(0.05)
    raise DialerError(f"the engine did not start campaign {campaign} within 10 s (is its schedule open?)")
