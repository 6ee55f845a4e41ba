"""The HTTP API under agent load, beside a dialling engine: ``python -m benchmarks.api``.

One process runs what ``dialer demo --api-port`` runs: the engine on the embedded PostgreSQL
(``--dsn`` for another), the simulated PBX over TCP (in this process: its CPU is ours too),
and the API. ``--agents`` agents log in through the API, each with its event stream open,
on a progressive campaign. Two phases of ``--phase-s`` seconds each:

1. **baseline** — the engine dials with the agents logged in, no API traffic but the open
   streams;
2. **load** — every agent, in turn, pauses and gets ready again through the API, as fast as
   the answers come (one request in flight per agent).

Reported: p50/p99 of agent actions (``POST .../pause`` and ``.../ready``) and state reads
(``GET /agents/{agent}``), each on a fresh connection, p50/p99 of event
delivery (request sent to the matching ``state`` event read from the agent's stream; the
streams look at the boards every 50 ms, so about 25 ms of it is that), and the runner's
decision latency (``dialer_decision_latency_seconds``: mean, and p99 as the first bucket
holding 99 %) in both phases: the API must not slow dialling. Seeded; numbers vary with
the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np

from ami.simulator.server import SimulatedPbx
from config import AmiConfig, AmiServerConfig, Secret, load_config
from dialer.api.passwords import hash_password
from dialer.app import App, build_app
from dialer.model import CampaignSpec, CampaignState, DialingMode
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.database import resolve_dsn
from dialer.store.store import Store
from dialer.store.users import Role

PASSWORD = "benchmark-password"


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def _decisions(app: App) -> tuple[float, float, float]:
    """(count, sum, p99 upper bound) of the decision-latency histogram so far."""
    count = total = 0.0
    buckets: list[tuple[float, float]] = []
    for metric in app.registry.collect():
        if metric.name != "dialer_decision_latency_seconds":
            continue
        for s in metric.samples:
            if s.name.endswith("_count"):
                count += s.value
            elif s.name.endswith("_sum"):
                total += s.value
            elif s.name.endswith("_bucket"):
                buckets.append((float(s.labels["le"]), s.value))
    return count, total, _bucket_p99(buckets)


def _bucket_p99(buckets: list[tuple[float, float]]) -> float:
    merged: dict[float, float] = {}
    for le, n in buckets:
        merged[le] = merged.get(le, 0.0) + n
    ordered = sorted(merged.items())
    if not ordered or ordered[-1][1] == 0:
        return float("nan")
    for le, n in ordered:
        if n >= 0.99 * ordered[-1][1]:
            return le
    return float("inf")


async def _seed(store: Store, agents: int, contacts: int, rng: np.random.Generator) -> list[str]:
    await store.create_schedule(
        Schedule(name="BENCH_ALL", frequency=Frequency.DAILY, window_start=dt.time(0), window_end=dt.time(0))
    )
    await store.create_campaign(
        CampaignSpec(
            "BENCH_API",
            "BENCH_ALL",
            DialingMode.PROGRESSIVE,
            queue="bench-api",
            state=CampaignState.RUNNING,
            local_hours_start=dt.time(0),
            local_hours_end=dt.time(0),
        )
    )
    hashed = hash_password(PASSWORD)
    names = [f"a{i:03d}" for i in range(agents)]
    for name in names:
        await store.create_agent(name, f"Local/{name}@sim-agents")
        await store.assign_agent("BENCH_API", name)
        await store.create_user(name, Role.AGENT, hashed, agent=name)
    for n in rng.integers(10**8, 10**9, size=contacts):
        await store.add_contact("BENCH_API", [f"+4860{n}"[:12]])
    return names


async def _request(port: int, method: str, path: str, headers: dict[str, str]) -> int:
    """One HTTP/1.1 request on a fresh connection; the status code.

    Not httpx for the timed requests: on this loop its client adds a steady ~45 ms to every
    request (measured against this raw client on the same server: 2 ms), which would be the
    client's time, not the API's.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", "Connection: close", "Content-Length: 0"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = await reader.read()
    writer.close()
    return int(data.split(b" ", 2)[1])


class Agent:
    def __init__(self, name: str, client: httpx.AsyncClient, port: int) -> None:
        self.name = name
        self.client = client
        self.port = port
        self.headers: dict[str, str] = {}
        self.waiting: tuple[str, float] | None = None  # (state awaited, request sent at)
        self.delays: list[float] = []
        self.think_s = 2.0
        self.reads: list[float] = []

    async def start(self) -> None:
        r = await self.client.post("/api/v1/auth/login", json={"name": self.name, "password": PASSWORD})
        self.headers = {"Authorization": f"Bearer {r.json()['token']}"}
        await self.client.post(f"/api/v1/agents/{self.name}/login", headers=self.headers)

    async def stream(self) -> None:
        async with self.client.stream("GET", "/api/v1/events", headers=self.headers, timeout=None) as r:
            event = ""
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "state" and self.waiting is not None:
                    states = {c["state"] for c in json.loads(line[6:])["campaigns"]}
                    wanted, sent_at = self.waiting
                    if wanted in states:
                        self.delays.append(time.perf_counter() - sent_at)
                        self.waiting = None

    async def act(self, until: float, latencies: list[float]) -> None:
        while time.perf_counter() < until:
            for action, state in (("pause", "paused"), ("ready", "ready")):
                self.waiting = (state, time.perf_counter())
                t0 = time.perf_counter()
                status = await _request(
                    self.port, "POST", f"/api/v1/agents/{self.name}/{action}", self.headers
                )
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    self.waiting = None
                t0 = time.perf_counter()
                await _request(self.port, "GET", f"/api/v1/agents/{self.name}", self.headers)
                self.reads.append(time.perf_counter() - t0)
                await asyncio.sleep(self.think_s)  # a person does not click faster


async def run(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    home = Path(tempfile.mkdtemp(prefix="bench-api-"))
    base = load_config(env={"DIALER_HOME": str(home)})
    dsn = args.dsn or await resolve_dsn(base)
    store = await Store.open(dsn)
    try:
        names = await _seed(store, args.agents, args.contacts, rng)
    finally:
        await store.close()
    pbx = SimulatedPbx(
        secret="bench", time_scale=0.05, queues=("bench-api",), rng=rng, auth_fail_delay_s=0.05
    )
    await pbx.start()
    cfg = replace(
        base,
        database=replace(base.database, dsn=Secret(dsn), pool_max=20),
        ami=AmiConfig(
            servers=(AmiServerConfig(name="sim", port=pbx.port, secret=Secret("bench"), channel_limit=400),)
        ),
        engine=replace(base.engine, engine_id="bench-api", tick_s=0.2, disposition_timeout_s=1.0),
        api=replace(base.api, port=args.port, login_failures_per_address=10_000),
    )
    app = await build_app(cfg, configure_logs=False, serve_metrics=False, serve_api=True)
    tasks: list[asyncio.Task[None]] = []
    engine: asyncio.Task[None] | None = None
    try:
        assert app.api_server is not None
        app.api_server.port = 0
        await app.start()
        engine = asyncio.create_task(app.run())
        limits = httpx.Limits(max_connections=3 * args.agents + 10)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{app.api_server.port}", timeout=30, limits=limits
        ) as client:
            while app.engine.runner("BENCH_API") is None:  # noqa: ASYNC110 - the engine has no event for it
                await asyncio.sleep(0.1)
            agents = [Agent(n, client, app.api_server.port) for n in names]
            for a in agents:
                await a.start()
            tasks = [asyncio.create_task(a.stream()) for a in agents]
            await asyncio.sleep(2)
            c0, s0, _ = _decisions(app)
            await asyncio.sleep(args.phase_s)
            c1, s1, p99_base = _decisions(app)
            latencies: list[float] = []
            until = time.perf_counter() + args.phase_s
            await asyncio.gather(*(a.act(until, latencies) for a in agents))
            c2, s2, p99_all = _decisions(app)
            delays = [d for a in agents for d in a.delays]
            runner = app.engine.runner("BENCH_API")
            attempts = runner.stats().attempts if runner is not None else 0
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        app.engine.stop()
        if engine is not None:
            await asyncio.gather(engine, return_exceptions=True)
        await app.close()
        await pbx.close()
    print(f"agents {args.agents}, phases {args.phase_s:.0f} s, attempts placed {attempts}")
    row = "{:<34}{:>8}{:>10.1f}{:>10.1f}"
    print("{:<34}{:>8}{:>10}{:>10}".format("measure", "n", "p50 ms", "p99 ms"))
    print(
        row.format("agent action (pause / ready)", len(latencies), _pct(latencies, 50), _pct(latencies, 99))
    )
    reads = [d for a in agents for d in a.reads]
    print(row.format("agent state read (GET)", len(reads), _pct(reads, 50), _pct(reads, 99)))
    print(row.format("event delivery (request -> state)", len(delays), _pct(delays, 50), _pct(delays, 99)))
    base_mean = (s1 - s0) / max(1.0, c1 - c0) * 1000
    load_mean = (s2 - s1) / max(1.0, c2 - c1) * 1000
    print(
        f"decision latency mean: baseline {base_mean:.2f} ms ({c1 - c0:.0f} decisions),"
        f" under API load {load_mean:.2f} ms ({c2 - c1:.0f} decisions)"
    )
    print(
        f"decision latency p99 (bucket bound): baseline {p99_base * 1000:.1f} ms,"
        f" whole run {p99_all * 1000:.1f} ms"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--contacts", type=int, default=3000)
    p.add_argument("--phase-s", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--dsn", help="a PostgreSQL DSN (default: the embedded server in a fresh home)")
    p.add_argument("--port", type=int, default=0)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
