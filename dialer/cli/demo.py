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
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import asyncpg
import numpy as np
import structlog

from ami.simulator.population import PopulationParams
from ami.simulator.server import SimulatedPbx
from config import AmiConfig, AmiServerConfig, DialerConfig, Secret
from dialer.agents.state import AgentState
from dialer.cli.demo_numbers import DEMO_CALLER_ID, sample_csv
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
    if summary.contacts == 0 and contacts > 0:
        rows = read_contacts(io.StringIO(sample_csv(contacts, seed)), default_region="PL")
        report = await contact_import.import_contacts(store.pool, name, rows, source="demo")
        said.append(f"imported {report.imported} generated contacts into {name} ({report.rejected} rejected)")
    else:
        said.append(f"campaign {name} already has {summary.contacts} contacts; nothing imported")
    return said


# -- the simulated campaign -------------------------------------------------------------------

log = structlog.get_logger(__name__)

# The simulated people, in simulated seconds: PopulationParams' plausible B2C list (about a
# third of dials reach a person, a fifth of answers are machines) with calls a little shorter
# than its 60 s default (and a thinner tail) so that a short demo shows many of them.
DEMO_POPULATION = PopulationParams(talk_median_s=45.0, talk_sigma=0.5)
# What the simulated agents decide after a call (status name, share): the seeds' typical sales
# outcomes; "Oddzwonić" books a personal callback for the next day.
AGENT_DISPOSITIONS = (("Nie zainteresowany", 0.6), ("Sprzedane", 0.25), ("Oddzwonić", 0.15))
# Simulated seconds an agent spends in wrap-up before setting the disposition.
AGENT_WRAP_S = 10.0
# The demo engine's id on leases and attempts: the same for every run, so a demo that was
# killed has its open attempts reconciled by the next one.
DEMO_ENGINE_ID = "demo"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """``dialer demo``'s options (see the README)."""

    duration_s: float = 30.0
    agents: int = 10
    mode: DialingMode = DialingMode.PREDICTIVE
    metrics_port: int = 9108
    api_port: int = 0  # 0: no HTTP API
    contacts: int = 3000
    seed: int = 7
    time_scale: float = 0.05


class SimulatedAgents:
    """Agents who log in through the runner's agent interface and behave like people.

    They accept every record offered (preview modes ask for one whenever they are free),
    talk until the simulated customer hangs up, spend ``wrap_s`` real seconds in wrap-up and
    set one of :data:`AGENT_DISPOSITIONS` (drawn from ``rng``). Their time in each state is
    integrated for the summary's talk share.

    Args:
        desk: the campaign runner's :class:`~dialer.campaign.desk.AgentDesk`.
        agents: (name, interface) pairs; names are store agent names.
        rng: the disposition draw (NEP 19: injected, seeded).
        wrap_s: real seconds of wrap-up.
        request_records: preview: ask for a record whenever ready.
    """

    def __init__(
        self,
        desk: Any,
        agents: list[tuple[str, str]],
        *,
        rng: np.random.Generator,
        wrap_s: float,
        request_records: bool = False,
        poll_s: float = 0.02,
    ) -> None:
        self._desk = desk
        self._agents = agents
        self._names = {name for name, _ in agents}
        self._rng = rng
        self._wrap_s = wrap_s
        self._request = request_records
        self._poll_s = poll_s
        self._wrap_started: dict[str, float] = {}
        self._requested: set[str] = set()
        self.dispositions: dict[str, int] = {}
        self.state_s: dict[str, float] = {}
        self.logged_in_s = 0.0
        self.talking_s = 0.0

    async def login_all(self) -> None:
        for name, interface in self._agents:
            await self._desk.login(name, interface, member_name=name)

    @property
    def talk_share(self) -> float:
        return self.talking_s / self.logged_in_s if self.logged_in_s else 0.0

    def _disposition(self) -> Any:
        from dialer.campaign.settings import Disposition

        names = [n for n, _ in AGENT_DISPOSITIONS]
        shares = np.array([p for _, p in AGENT_DISPOSITIONS])
        status = names[int(self._rng.choice(len(names), p=shares / shares.sum()))]
        self.dispositions[status] = self.dispositions.get(status, 0) + 1
        if status == "Oddzwonić":
            return Disposition(status, callback_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        return Disposition(status)

    async def run(self) -> None:
        """Act until cancelled."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self._poll_s)
            now = loop.time()
            elapsed, last = now - last, now
            for view in self._desk.views():
                if view.agent_id not in self._names:
                    continue  # a person logged in through the API acts for themselves
                state = view.state
                self.state_s[state.value] = self.state_s.get(state.value, 0.0) + elapsed
                if state is not AgentState.LOGGED_OUT:
                    self.logged_in_s += elapsed
                if state is AgentState.TALKING:
                    self.talking_s += elapsed
                try:
                    await self._act(view.agent_id, state, now)
                except DialerError as err:  # the state moved under us (a call ended, a timeout)
                    log.debug("demo_agent_action_refused", agent=view.agent_id, error=str(err))

    async def _act(self, agent: str, state: AgentState, now: float) -> None:
        if state is not AgentState.WRAP_UP:
            self._wrap_started.pop(agent, None)
        if state is not AgentState.READY:
            self._requested.discard(agent)
        if state is AgentState.WRAP_UP:
            started = self._wrap_started.setdefault(agent, now)
            if now - started >= self._wrap_s:
                self._wrap_started.pop(agent, None)
                await self._desk.set_disposition(agent, self._disposition())
        elif state is AgentState.OFFERED:
            await self._desk.accept(agent)
        elif state is AgentState.READY and self._request and agent not in self._requested:
            self._requested.add(agent)
            await self._desk.request_record(agent)


def _sample(stats: Any, agents: SimulatedAgents, elapsed_s: float, duration_s: float) -> ProgressSample:
    by_state = stats.agents_by_state
    return ProgressSample(
        elapsed_s=elapsed_s,
        duration_s=duration_s,
        calls=stats.attempts,
        in_progress=stats.in_flight,
        live_answers=stats.live_answers,
        connects=stats.connects,
        abandons=stats.abandons,
        agents_talking=by_state.get(AgentState.TALKING.value, 0),
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
    dsn = await resolve_dsn(cfg)
    store = await Store.open(dsn, min_size=1, max_size=2)
    try:
        made = await build(store, contacts=opts.contacts, seed=opts.seed, mode=opts.mode, agents=opts.agents)
        for line in made:
            print(line, file=out)
        campaign = await store.get_campaign(campaign_name(opts.mode))
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
        metrics=replace(
            cfg.metrics, port=opts.metrics_port or cfg.metrics.port, enabled=opts.metrics_port > 0
        ),
        api=replace(cfg.api, port=opts.api_port or cfg.api.port, enabled=opts.api_port > 0),
        engine=replace(
            cfg.engine,
            dial_demo_campaigns=True,
            engine_id=DEMO_ENGINE_ID,
            tick_s=0.25,
            lease_ttl_s=60.0,
            drain_timeout_s=max(5.0, 200 * opts.time_scale),
            # an agent who leaves wrap-up open gets the default after 60 simulated seconds
            disposition_timeout_s=max(1.0, 60 * opts.time_scale),
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
        engine_task = asyncio.create_task(app.run(), name="demo-engine")
        runner = await _wait_for_runner(app, campaign.name, engine_task)
        agents = SimulatedAgents(
            runner.agents,
            agent_names(opts.agents),
            rng=np.random.default_rng(opts.seed + 1),
            wrap_s=AGENT_WRAP_S * opts.time_scale,
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
        next_show = t0
        while (elapsed := loop.time() - t0) < opts.duration_s:
            if engine_task.done():
                engine_task.result()
                break
            if loop.time() >= next_show:
                view.show(_sample(runner.stats(), agents, elapsed, opts.duration_s))
                next_show += every_s
            await asyncio.sleep(min(0.1, max(0.0, opts.duration_s - elapsed)))
        view.show(_sample(runner.stats(), agents, min(loop.time() - t0, opts.duration_s), opts.duration_s))
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
        await _pause(dsn, campaign.name)

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


async def _pause(dsn: str, campaign: str) -> None:
    """The demo's campaign stops with the demo: paused, never left running."""
    store = await Store.open(dsn, min_size=1, max_size=1)
    try:
        await store.set_campaign_state(campaign, CampaignState.PAUSED)
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
