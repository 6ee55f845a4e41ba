"""Shared by the crash and resilience tests: a campaign in a test database, a simulated PBX
on the test's loop, and ``dialer run`` as a real subprocess.

The simulated PBX runs 20 times faster than real time and its population talks briefly, so a
campaign of a few dozen contacts is dialled through in seconds while every call still goes
over a real AMI socket to a separate engine process.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import numpy as np

from ami.simulator.population import PopulationParams
from ami.simulator.server import SimulatedPbx
from dialer.cli import demo
from dialer.contacts import importer as contact_import
from dialer.contacts.csv_reader import read_contacts
from dialer.model import CampaignState, DialingMode
from dialer.store.store import Store

TIME_SCALE = 0.05
SECRET = "crash-secret"
AGENTS = 4
# Short calls so that a few dozen contacts are dialled through in seconds (simulated seconds).
POPULATION = PopulationParams(answer_p=0.5, answer_median_s=4.0, talk_median_s=12.0, talk_sigma=0.4)


async def make_campaign(dsn: str, *, contacts: int, mode: DialingMode = DialingMode.PREDICTIVE) -> str:
    """The demo campaign and its agents, with ``contacts`` contacts of ONE number each; returns
    its queue. One number each: a contact with several numbers may legitimately be dialled
    again at once on another number, which would blur "dialled twice"."""
    store = await Store.open(dsn)
    try:
        await demo.build(store, contacts=0, seed=11, mode=mode, agents=AGENTS)
        name = demo.campaign_name(mode)
        text = "name,phone\n" + "".join(
            f"Klient {i},{line.split(',')[1]}\n"
            for i, line in enumerate(demo.sample_csv(contacts, 11).splitlines()[1:], start=1)
        )
        await contact_import.import_contacts(
            store.pool, name, read_contacts(io.StringIO(text), default_region="PL"), source="test"
        )
        return (await store.get_campaign(name)).queue
    finally:
        await store.close()


async def start_pbx(queue: str, *, seed: int = 3, population: PopulationParams = POPULATION) -> SimulatedPbx:
    pbx = SimulatedPbx(
        secret=SECRET,
        time_scale=TIME_SCALE,
        queues=(queue,),
        population=population,
        rng=np.random.default_rng(seed),
        agent_ring_s=1.0,
        auth_fail_delay_s=0.05,
    )
    await pbx.start()
    return pbx


def write_config(
    path: Path,
    *,
    ami_port: int,
    engine_id: str = "crash-engine",
    drain_timeout_s: float = 3.0,
    servers: Sequence[tuple[str, int, str]] = (),
    metrics_port: int = 0,
) -> Path:
    """``servers``: (name, port, group) of each simulated PBX; default one, "sim" on ``ami_port``.
    ``metrics_port``: serve Prometheus metrics there (0: none)."""
    path.write_text(
        "".join(
            "[[ami.servers]]\n"
            f'name = "{name}"\n'
            f'group = "{group}"\n'
            'host = "127.0.0.1"\n'
            f"port = {port}\n"
            'username = "dialer"\n'
            'secret_env = "TEST_AMI_SECRET"\n'
            "channel_limit = 40\n"
            "connect_timeout_s = 2.0\n"
            for name, port, group in (servers or [("sim", ami_port, "")])
        )
        + (f"[metrics]\nport = {metrics_port}\n" if metrics_port else "[metrics]\nenabled = false\n")
        + "[api]\nenabled = false\n"
        '[log]\nformat = "json"\nlevel = "info"\n'
        "[engine]\n"
        f'engine_id = "{engine_id}"\n'
        "tick_s = 0.2\n"
        "lease_ttl_s = 3\n"
        f"drain_timeout_s = {drain_timeout_s}\n"
        "disposition_timeout_s = 0.5\n"
        "callback_grace_s = 5\n"
        "autologin_agents = true\n"
        # the campaigns are demo.build's, flagged demo; this rig dials only the simulated PBX
        "dial_demo_campaigns = true\n"
    )
    return path


@dataclass
class EngineProcess:
    proc: asyncio.subprocess.Process
    log_path: Path

    @classmethod
    async def start(cls, config: Path, dsn: str, log_path: Path) -> EngineProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
        env.update(DIALER_DSN=dsn, TEST_AMI_SECRET=SECRET, DIALER_HOME=str(config.parent / "home"))
        log = log_path.open("ab")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dialer.cli",
            "run",
            "--config",
            str(config),
            env=env,
            stdout=log,
            stderr=log,
        )
        log.close()
        return cls(proc, log_path)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    async def wait(self, timeout_s: float) -> int:
        return await asyncio.wait_for(self.proc.wait(), timeout_s)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


async def kill_left(*procs: EngineProcess | None) -> None:
    """SIGKILL the engines a test leaves running (its ``finally``), and reap them."""
    for proc in procs:
        if proc is not None and proc.proc.returncode is None:
            proc.kill()
            await proc.wait(10)


async def wait_for(predicate, *, timeout_s: float, every_s: float = 0.1, what: str = "") -> None:  # type: ignore[no-untyped-def]
    """Poll an async predicate until it is true; fail naming ``what`` after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if await predicate():
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(every_s)


async def attempt_rows(dsn: str, campaign: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            """SELECT a.id, a.contact_id, a.e164, a.started_at, a.ended_at, a.outcome, a.engine_id
               FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
               WHERE c.name = $1 ORDER BY a.contact_id, a.started_at""",
            campaign,
        )
    finally:
        await conn.close()


async def contact_rows(dsn: str, campaign: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            """SELECT k.id, k.attempts, k.lease_owner, k.lease_expires_at, s.name AS status,
                      s.system_status, k.dial_rank, k.closed_reason
               FROM contacts k JOIN campaigns c ON c.id = k.campaign_id
               JOIN statuses s ON s.id = k.status_id
               WHERE c.name = $1 ORDER BY k.id""",
            campaign,
        )
    finally:
        await conn.close()


# ---- several engines on one database (issue 15: tests/test_engines.py, benchmarks/scale.py)


async def make_campaigns(
    dsn: str, modes: list[DialingMode], *, contacts: int = 150, agents: int = 3
) -> list[str]:
    """One paused demo campaign per mode, each with its own contacts (one number each); their
    queues. Paused until the engines are up (:func:`start_campaigns`): a campaign started
    before would be dialled through by the first engine while the others start."""
    store = await Store.open(dsn)
    try:
        queues = []
        for i, mode in enumerate(modes):
            await demo.build(store, contacts=0, seed=11, mode=mode, agents=agents, running=False)
            name = demo.campaign_name(mode)
            lines = demo.sample_csv(contacts, 20 + i).splitlines()[1:]
            text = "name,phone\n" + "".join(f"K {n},{line.split(',')[1]}\n" for n, line in enumerate(lines))
            await contact_import.import_contacts(
                store.pool, name, read_contacts(io.StringIO(text), default_region="PL"), source="test"
            )
            queues.append((await store.get_campaign(name)).queue)
        return queues
    finally:
        await store.close()


async def start_multi_pbx(queues: list[str], *, seed: int = 5) -> SimulatedPbx:
    pbx = SimulatedPbx(
        secret=SECRET,
        time_scale=TIME_SCALE,
        queues=tuple(queues),
        population=POPULATION,
        rng=np.random.default_rng(seed),
        agent_ring_s=1.0,
        auth_fail_delay_s=0.05,
    )
    await pbx.start()
    return pbx


async def start_campaigns(dsn: str, engine_ids: list[str], names: list[str]) -> None:
    """Once every engine has sent a heartbeat, set the campaigns running."""

    async def up() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            return bool(await conn.fetchval("SELECT count(*) = $1 FROM engines", len(engine_ids)))
        finally:
            await conn.close()

    await wait_for(up, timeout_s=90, every_s=0.2, what=f"engines {engine_ids} up")
    await set_states(dsn, names, CampaignState.RUNNING)


async def set_states(dsn: str, names: list[str], state: CampaignState) -> None:
    store = await Store.open(dsn)
    try:
        for name in names:
            await store.set_campaign_state(name, state)
    finally:
        await store.close()


async def start_engine(
    tmp_path: Path,
    dsn: str,
    port: int,
    engine_id: str,
    *,
    takeover_s: float,
    servers: Sequence[tuple[str, int, str]] = (),
    metrics_port: int = 0,
) -> EngineProcess:
    """``dialer run`` as ``engine_id`` on the PBX at ``port``, or on several (``servers``,
    as :func:`write_config`)."""
    folder = tmp_path / engine_id
    folder.mkdir()
    config = write_config(
        folder / "dialer.toml", ami_port=port, engine_id=engine_id, servers=servers, metrics_port=metrics_port
    )
    with config.open("a") as f:
        f.write(f"takeover_s = {takeover_s}\n")
    return await EngineProcess.start(config, dsn, tmp_path / f"{engine_id}.log")


async def campaign_owners(dsn: str) -> dict[str, tuple[str | None, int]]:
    """campaign name -> (owner engine, token)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT c.name, o.engine_id, o.token
               FROM campaign_owners o JOIN campaigns c ON c.id = o.campaign_id"""
        )
    finally:
        await conn.close()
    return {r["name"]: (r["engine_id"], r["token"]) for r in rows}
