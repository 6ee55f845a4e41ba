"""The composition root: the one place that builds the engine's collaborators and wires them.

Theory of operation (STYLE rule 3): ``build_app(cfg)`` turns a validated
:class:`~config.DialerConfig` into an :class:`App` — logging configured once, the store opened
(the configured DSN or the embedded PostgreSQL), one :class:`~ami.client.AmiClient` per
``[[ami.servers]]`` in an :class:`~ami.pool.AmiPool` behind the runner's PBX port, the real
clock, a fresh metrics registry with the scrape-time collector, the ``/metrics`` server and
the :class:`~dialer.campaign.engine.Engine`. Nothing else in the process builds these, so tests and the
demo get the production wiring by calling the same function with another config.

Lifecycle: :meth:`App.start` connects (database first, then AMI, then metrics, so a bad
secret or a taken port fails before a call is placed), :meth:`App.run` runs the engine until
it is drained or stopped, :meth:`App.drain` stops new calls, waits for calls in progress up
to the configured limit and releases leases, :meth:`App.close` lets go of every resource.
:func:`run_daemon` is ``dialer run``: the same, with SIGTERM/SIGINT mapped to a drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from prometheus_client import CollectorRegistry

from ami.client import AmiClient, ConnectionState
from ami.errors import AmiAuthError, AmiConnectionLost
from ami.pool import AmiPool
from config import ConfigError, DialerConfig, require_ami_secrets
from dialer.api.server import ApiServer, build_api_server
from dialer.campaign.engine import Engine
from dialer.campaign.ownership import Ownership
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import RunnerSettings
from dialer.clock import Clock, RealClock
from dialer.errors import DatabaseUnreachable, DialerError
from dialer.gc_tuning import young_threshold
from dialer.notify.channels import Channels
from dialer.notify.service import ReminderMetrics, ReminderService
from dialer.observability.logs import configure_logging
from dialer.observability.metrics import DialerMetrics, EngineCollector, api_latency_sink
from dialer.observability.metrics_http import MetricsServer
from dialer.pbx.ami_pbx import AmiPbx
from dialer.store.database import resolve_dsn
from dialer.store.store import Store

log = structlog.get_logger(__name__)

__all__ = ["App", "build_app", "engine_id_of", "engine_session", "run_daemon", "runner_settings"]


def engine_id_of(cfg: DialerConfig) -> str:
    """This engine's id on leases and attempts: configured, else the host name.

    It must survive a restart: the restarted engine reconciles the attempts that carry it.
    """
    return cfg.engine.engine_id or socket.gethostname()


def engine_session(cfg: DialerConfig, engine_id: str) -> dict[str, str]:
    """The engine's database session settings (issue 15).

    A transaction left idle for half the take-over time is ended by the server: an engine
    paused (SIGSTOP, a frozen VM) inside one would otherwise hold its row locks -- the owner
    row its fenced write shares, the contacts it closes -- and the engine taking its
    campaigns over would wait on them for as long as the pause lasts. The engine's own
    transactions are a few statements sent back to back. ``application_name`` names the
    engine in ``pg_stat_activity``.
    """
    return {
        "idle_in_transaction_session_timeout": str(int(cfg.engine.takeover_s * 500)),
        "application_name": f"dialer {engine_id}"[:63],
    }


def runner_settings(cfg: DialerConfig) -> RunnerSettings:
    """The runner's knobs from the ``[engine]`` section (other fields keep the runner's defaults)."""
    e = cfg.engine
    defaults = RunnerSettings()
    return RunnerSettings(
        tick_s=e.tick_s,
        lease_ttl_s=e.lease_ttl_s,
        # renew well inside the lease's life: a third of it leaves two renewals of slack
        lease_renew_s=min(defaults.lease_renew_s, e.lease_ttl_s / 3),
        disposition_timeout_s=e.disposition_timeout_s,
        callback_grace_s=e.callback_grace_s,
        drain_timeout_s=e.drain_timeout_s,
        queue_timeout_s=e.queue_timeout_s,
        write_linger_s=e.write_linger_s,
    )


@dataclass
class App:
    """The running engine and what it owns. Build it with :func:`build_app`."""

    cfg: DialerConfig
    store: Store
    pool: AmiPool
    pbx: AmiPbx
    clock: Clock
    registry: CollectorRegistry
    metrics: DialerMetrics
    engine: Engine
    engine_id: str
    metrics_server: MetricsServer | None = None
    api_server: ApiServer | None = None
    reminders: ReminderService | None = None
    _closed: bool = field(default=False, repr=False)
    _logged_in: set[tuple[int, str]] = field(default_factory=set, repr=False)

    async def start(self) -> None:
        """Connect to the PBXs and serve metrics.

        Raises:
            ConfigError: an AMI server refused the configured user/secret, or the metrics or
                API port cannot be bound (the message names the key to fix).

        An unreachable AMI server is not an error here: its client keeps retrying in the
        background and the engine dials on it once it is up (issue 5 item 5).
        """
        try:
            await self.pool.connect()
        except AmiAuthError as e:
            raise ConfigError("ami.servers", f"an AMI server refused the login: {e}") from None
        except AmiConnectionLost as e:
            log.warning("ami_unreachable_at_start", error=str(e))
        for key, server in (("metrics.port", self.metrics_server), ("api.port", self.api_server)):
            if server is None:
                continue
            try:
                await server.start()
            except OSError as e:
                reason = f"cannot listen on {server.host}:{server.port}: {e.strerror}"
                raise ConfigError(key, reason) from None
        log.info(
            "engine_started",
            engine_id=self.engine_id,
            ami_servers=[c.name for c in self.pool.clients],
            metrics_port=self.metrics_server.port if self.metrics_server else None,
            api_port=self.api_server.port if self.api_server else None,
        )

    async def run(self) -> None:
        """Run the engine (every running campaign whose schedule is open) until drained, and
        the reminder service beside it (``[reminders] enabled``) until then."""
        reminders = (
            None if self.reminders is None else asyncio.create_task(self.reminders.run(), name="reminders")
        )
        try:
            await self._run_engine()
        finally:
            if reminders is not None and self.reminders is not None:
                self.reminders.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await reminders

    async def _run_engine(self) -> None:
        if not self.cfg.engine.autologin_agents:
            await self.engine.run()
            return
        autologin = asyncio.create_task(self._autologin(), name="autologin")
        try:
            await self.engine.run()
        finally:
            autologin.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await autologin

    async def _autologin(self) -> None:
        """``engine.autologin_agents``: log in each assigned agent once per runner.

        A failure (the database down) is logged once per campaign when it starts and once
        when it ends, and the retries back off up to 30 s (issue 19 item 6: it was logged
        every second for as long as the outage lasted).
        """
        failing: dict[str, int] = {}  # campaign -> consecutive failures
        while True:
            for runner in self.engine.runners():
                name = runner.campaign.name
                try:
                    await self.login_assigned_agents(runner)
                except Exception as err:  # the database may be down: try again later
                    if name not in failing:
                        log.warning("autologin_failed", campaign=name, error=type(err).__name__)
                    failing[name] = failing.get(name, 0) + 1
                else:
                    if failing.pop(name, 0):
                        log.info("autologin_recovered", campaign=name)
            worst = max(failing.values(), default=0)
            await self.clock.sleep(min(30.0, self.cfg.engine.tick_s * 2 ** min(worst, 5)))

    async def login_assigned_agents(self, runner: CampaignRunner) -> int:
        """Log in, through the runner's agent interface, every agent assigned to its campaign
        who has an interface and was not logged in to this runner before. Returns how many."""
        done = 0
        for agent in await self.store.campaign_agents(runner.campaign.name):
            key = (id(runner), agent.name)
            if key in self._logged_in or not agent.interface or not agent.active:
                continue
            self._logged_in.add(key)
            try:
                await runner.agents.login(agent.name, agent.interface, member_name=agent.name)
                done += 1
            except DialerError as err:
                log.warning("autologin_refused", agent=agent.name, error=str(err))
        return done

    async def drain(self, *, timeout_s: float | None = None) -> None:
        """No new calls; wait for calls in progress up to ``timeout_s``; release leases."""
        limit = self.cfg.engine.drain_timeout_s if timeout_s is None else timeout_s
        log.info("engine_draining", timeout_s=limit)
        await self.engine.drain(timeout_s=limit)

    async def close(self) -> None:
        """Let go of the API, the AMI connections, the metrics socket and the database pool."""
        if self._closed:
            return
        self._closed = True
        if self.api_server is not None:
            await self.api_server.close()
        if self.metrics_server is not None:
            await self.metrics_server.close()
        await self.pool.close()
        await self.store.close()
        log.info("engine_stopped", engine_id=self.engine_id)


def _count_reconnects(metrics: DialerMetrics) -> Callable[[AmiClient, ConnectionState], None]:
    seen: set[str] = set()

    def on_state(client: AmiClient, state: ConnectionState) -> None:
        # debug: the client logs each change itself (ami_connected, ami_reconnect_failed, ...)
        log.debug("ami_connection_state", server=client.name, state=state.value)
        if state is ConnectionState.CONNECTED:
            if client.name in seen:
                metrics.ami_reconnects.labels(server=client.name).inc()
            seen.add(client.name)

    return on_state


async def build_app(
    cfg: DialerConfig,
    *,
    registry: CollectorRegistry | None = None,
    clock: Clock | None = None,
    serve_metrics: bool | None = None,
    serve_api: bool | None = None,
    configure_logs: bool = True,
    campaigns: set[str] | None = None,
) -> App:
    """Build the engine from ``cfg``; call :meth:`App.start` next.

    Args:
        cfg: the validated configuration.
        registry: the metrics registry (a fresh one by default; never the global one).
        clock: the engine's clock (``RealClock`` by default).
        serve_metrics: serve ``/metrics`` on ``cfg.metrics``; ``None`` follows
            ``cfg.metrics.enabled``; never on ``metrics.port = 0``.
        serve_api: serve the HTTP API on ``cfg.api``; ``None`` follows ``cfg.api.enabled``.
        configure_logs: configure structlog from ``cfg.log`` (tests that capture logs pass False).
        campaigns: dial only these campaigns (the demo); None: every running campaign.

    Raises:
        ConfigError: no AMI server is configured, or one has no secret.
        StoreError: the database cannot be reached or migrated.
    """
    if not cfg.ami.servers:
        raise ConfigError("ami.servers", "at least one [[ami.servers]] table (or DIALER_AMI_HOST) is needed")
    require_ami_secrets(cfg)
    if configure_logs:
        configure_logging(cfg.log.format, cfg.log.level)
    registry = CollectorRegistry() if registry is None else registry
    clock = RealClock() if clock is None else clock
    metrics = DialerMetrics(registry)
    engine_id = engine_id_of(cfg)
    store = await Store.open(
        await resolve_dsn(cfg),
        min_size=cfg.database.pool_min,
        max_size=cfg.database.pool_max,
        server_settings=engine_session(cfg, engine_id),
    )
    store.known_servers = cfg.ami.selectable() if cfg.ami.servers else None
    try:
        clients = [AmiClient(server) for server in cfg.ami.servers]
        on_state = _count_reconnects(metrics)
        for client in clients:
            client.add_state_listener(on_state)
        pool = AmiPool(clients)
        pbx = AmiPbx(pool)
        engine = Engine(
            store=store,
            pbx=pbx,
            clock=clock,
            metrics=metrics,
            engine_id=engine_id,
            settings=runner_settings(cfg),
            campaigns=campaigns,
            dial_demo=cfg.engine.dial_demo_campaigns,
            # several engines may share the database: each campaign runs on its owner (issue 15)
            ownership=Ownership(
                store,
                engine_id,
                takeover_s=cfg.engine.takeover_s,
                max_campaigns=cfg.engine.max_campaigns,
                host=socket.gethostname(),
                pid=os.getpid(),
            ),
        )
    except BaseException:
        await store.close()
        raise
    serve = (cfg.metrics.enabled if serve_metrics is None else serve_metrics) and cfg.metrics.port != 0
    server = MetricsServer(registry, host=cfg.metrics.host, port=cfg.metrics.port) if serve else None
    serve_api = cfg.api.enabled if serve_api is None else serve_api
    api = (
        build_api_server(
            cfg.api, store=store, engine=engine, clock=clock, default_region=cfg.contacts.default_region,
            campaign_defaults=cfg.campaigns, observe_latency=api_latency_sink(metrics),
        )
        if serve_api
        else None
    )
    app = App(
        cfg=cfg,
        store=store,
        pool=pool,
        pbx=pbx,
        clock=clock,
        registry=registry,
        metrics=metrics,
        engine=engine,
        engine_id=engine_id,
        metrics_server=server,
        api_server=api,
        reminders=(
            ReminderService(
                store, Channels.from_config(cfg.reminders), clock, engine_id, cfg.reminders,
                metrics=ReminderMetrics(registry),
            )
            if cfg.reminders.enabled
            else None
        ),
    )
    metrics.add_collector(EngineCollector(campaigns=engine.gauges, servers=pbx.server_gauges))
    return app


async def run_daemon(cfg: DialerConfig, *, ready: Callable[[App], None] | None = None) -> int:
    """``dialer run``: run until SIGTERM/SIGINT, then drain and exit 0.

    A database that does not answer at start is waited for, with back-off up to 30 s, as an
    AMI server is (issue 16 item 4); a signal meanwhile exits 0. A second signal while
    draining stops waiting for calls in progress and exits at once (leases then expire and the
    attempts still open are reconciled by the next start).

    Raises:
        ConfigError: as :func:`build_app` and :meth:`App.start`.
        StoreError: the database refused the engine (not merely unreachable).
    """
    with young_threshold(cfg.engine.gc_young_threshold):
        return await _run_daemon(cfg, ready)


async def _run_daemon(cfg: DialerConfig, ready: Callable[[App], None] | None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = 0
    app: App | None = None
    draining: asyncio.Task[None] | None = None

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        log.info("signal_received", signal=signal.Signals(signum).name, count=signals)
        stop.set()
        if signals > 1 and app is not None:
            if draining is not None:
                draining.cancel()
            app.engine.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        app = await _build_when_reachable(cfg, stop)
        if app is None:
            return 0
        await app.start()
        if ready is not None:
            ready(app)
        run = asyncio.create_task(app.run(), name="engine")
        waiter = asyncio.create_task(stop.wait(), name="stop-signal")
        done, _ = await asyncio.wait({run, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if run in done:
            waiter.cancel()
            run.result()  # an engine that ended by itself ended with an error: let it raise
            return 0
        draining = asyncio.create_task(app.drain(), name="drain")
        with contextlib.suppress(asyncio.CancelledError):
            await draining
        try:
            await asyncio.wait_for(asyncio.shield(run), timeout=cfg.engine.drain_timeout_s + 5)
        except TimeoutError:
            log.warning("engine_stop_forced", after_s=cfg.engine.drain_timeout_s + 5)
            app.engine.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await run
        return 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if app is not None:
            await app.close()


async def _build_when_reachable(cfg: DialerConfig, stop: asyncio.Event) -> App | None:
    """:func:`build_app`, waiting for a database that does not answer; None if ``stop`` is set first.

    Logged once when the wait starts (warning) and once when it ends (info), not every try.
    """
    delay_s = 1.0
    waiting_since: float | None = None
    loop = asyncio.get_running_loop()
    while True:
        try:
            app = await build_app(cfg)
        except DatabaseUnreachable as e:
            if waiting_since is None:
                waiting_since = loop.time()
                log.warning("database_unreachable", error=str(e), retry="with back-off up to 30 s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay_s)
            if stop.is_set():
                return None
            delay_s = min(30.0, delay_s * 2)
            continue
        if waiting_since is not None:
            log.info("database_reachable", waited_s=round(loop.time() - waiting_since, 1))
        return app
