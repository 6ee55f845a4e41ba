"""The API's test rig: the real engine (``build_app``) with its HTTP API on a free port, the
embedded PostgreSQL, the simulated PBX over TCP, and httpx over real sockets.

The simulated world runs 10x faster than real time: a convention number ``+100...`` rings
0.1 s and talks 0.8 s, ``+110...`` talks 0.95 s. The engine ticks every 0.1 s; wrap-up waits
30 s for a disposition, so the tests, not a timeout, end it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import numpy as np
import pytest

from ami.simulator.server import SimulatedPbx
from config import AmiConfig, AmiServerConfig, Secret, load_config
from dialer.api.passwords import hash_password
from dialer.app import App, build_app
from dialer.model import CampaignSpec, CampaignState, DialingMode, StatusSpec, SystemStatus
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store
from dialer.store.users import Role
from tests.dialer.campaign.runner_fixtures import wait_for as wait_until

TIME_SCALE = 0.1
PASSWORD = "correct horse battery"
QUEUES = ("q-prog", "q-prev", "q-push", "q-other")
ALL_DAY = Schedule(
    name="ALL_DAY", frequency=Frequency.DAILY, window_start=dt.time(0), window_end=dt.time(0), timezone="UTC"
)


@dataclass
class Rig:
    app: App
    store: Store
    pbx: SimulatedPbx
    client: httpx.AsyncClient

    @property
    def port(self) -> int:
        assert self.app.api_server is not None
        return self.app.api_server.port

    async def campaign(
        self, name: str, queue: str, mode: DialingMode, *, agents: tuple[str, ...] = ()
    ) -> str:
        """A running campaign (always-open schedule) with a dated and an undated status, agents assigned."""
        await self.store.create_campaign(
            CampaignSpec(
                name=name,
                schedule="ALL_DAY",
                mode=mode,
                queue=queue,
                state=CampaignState.RUNNING,
                local_hours_start=dt.time(0),
                local_hours_end=dt.time(0),
                timezone="Europe/Warsaw",
                demo=True,  # simulated people: the all-day hours only a demo campaign may have
            )
        )
        await self.store.create_status(StatusSpec("Sprzedane", SystemStatus.DO_NOT_CALL), campaign=name)
        await self.store.create_status(StatusSpec("Oddzwonić", SystemStatus.MY_RECORD), campaign=name)
        await self.store.create_status(StatusSpec("Ukryty", SystemStatus.CALL, hidden=True), campaign=name)
        for agent in agents:
            await self.store.assign_agent(name, agent)
        self.app.engine.wake()
        return name

    async def agent_user(self, name: str, interface: str) -> None:
        await self.store.create_agent(name, interface)
        await self.store.create_user(name, Role.AGENT, HASH, agent=name)

    async def user(self, name: str, role: Role) -> None:
        await self.store.create_user(name, role, HASH)

    async def login(self, name: str) -> dict[str, str]:
        r = await self.client.post("/api/v1/auth/login", json={"name": name, "password": PASSWORD})
        assert 200 == r.status_code, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    async def one_contact(
        self, agent: str, campaign: str, queue: str, mode: DialingMode, number: str, name: str, **fields: Any
    ) -> tuple[int, dict[str, str]]:
        """An agent user on ``Local/<agent>@sim-agents``, a running campaign of theirs with one
        contact; the contact's id and the agent's authorisation header."""
        await self.agent_user(agent, f"Local/{agent}@sim-agents")
        await self.campaign(campaign, queue, mode, agents=(agent,))
        cid = await self.store.add_contact(campaign, [number], name=name, fields=fields or None)
        await self.running(campaign)
        return cid, await self.login(agent)

    async def running(self, campaign: str) -> None:
        await wait_for(lambda: self.app.engine.runner(campaign) is not None, what=f"{campaign} running")


HASH = hash_password(PASSWORD)


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]], *, timeout_s: float = 15.0, what: str = "the condition"
) -> None:
    await wait_until(predicate, timeout_s=timeout_s, what=what)


@contextlib.asynccontextmanager
async def rig_on(
    dsn: str, tmp_path: Any, *, time_scale: float = TIME_SCALE, **api: Any
) -> AsyncIterator[Rig]:
    store = await Store.open(dsn, min_size=1, max_size=4)
    with contextlib.suppress(Exception):
        await store.create_schedule(ALL_DAY)
    pbx = SimulatedPbx(
        secret="api-secret",
        time_scale=time_scale,
        queues=QUEUES,
        rng=np.random.default_rng(5),
        agent_ring_s=1.0,
        auth_fail_delay_s=0.05,
    )
    await pbx.start()
    base = load_config(env={"DIALER_HOME": str(tmp_path / "home")})
    cfg = replace(
        base,
        database=replace(base.database, dsn=Secret(dsn)),
        ami=AmiConfig(
            servers=(
                AmiServerConfig(
                    name="sim",
                    port=pbx.port,
                    secret=Secret("api-secret"),
                    channel_limit=20,
                    connect_timeout_s=2.0,
                ),
            )
        ),
        engine=replace(
            base.engine, engine_id="api-test", tick_s=0.1, lease_ttl_s=10, disposition_timeout_s=30,
            dial_demo_campaigns=True,
        ),
        api=replace(base.api, **api),
    )
    app = await build_app(cfg, configure_logs=False, serve_metrics=False, serve_api=True)
    assert app.api_server is not None
    app.api_server.port = 0  # any free port: several test runs may share the machine
    run: asyncio.Task[None] | None = None
    try:
        await app.start()
        run = asyncio.create_task(app.run())
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{app.api_server.port}", timeout=10
        ) as client:
            yield Rig(app, store, pbx, client)
    finally:
        app.engine.stop()
        if run is not None:
            await asyncio.gather(run, return_exceptions=True)
        await app.close()
        await pbx.close()
        await store.close()


@pytest.fixture
def api_dsn(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
async def rig(api_dsn: str, tmp_path: Any) -> AsyncIterator[Rig]:
    async with rig_on(api_dsn, tmp_path) as r:
        yield r


class EventLog:
    """Reads one user's Server-Sent Events stream in the background: ``(event, data)`` pairs."""

    def __init__(self, rig: Rig, headers: dict[str, str]) -> None:
        self.events: list[tuple[str, Any]] = []
        self._rig = rig
        self._headers = headers
        self._task: asyncio.Task[None] | None = None
        self.status: int | None = None

    async def _read(self) -> None:
        async with self._rig.client.stream("GET", "/api/v1/events", headers=self._headers, timeout=None) as r:
            self.status = r.status_code
            name = ""
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    name = line[len("event: ") :]
                elif line.startswith("data: "):
                    self.events.append((name, json.loads(line[len("data: ") :])))

    async def __aenter__(self) -> EventLog:
        self._task = asyncio.create_task(self._read())
        await wait_for(lambda: bool(self.events), what="the first event")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def named(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]
