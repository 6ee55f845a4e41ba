"""The HTTP API under agent load, beside a dialling engine: ``python -m benchmarks.api``.

One process runs what ``dialer demo --api-port`` runs: the engine on the embedded PostgreSQL
(``--dsn`` for another) and the API. Two processes beside it play the outside world, as in
production, so that their CPU and their event loops are not the engine's: the simulated PBX
(``dialer simulate-pbx``, time-scaled) and the load client (this module with ``--client``),
in which ``--agents`` agents log in through the API on a progressive campaign. Three phases
of ``--phase-s`` seconds each, in one run, so that the engine is measured with and without
the API's load on the same machine at the same time:

1. **quiet** — the agents are logged in and take calls; the API serves nothing;
2. **streams** — every agent has its event stream open, no other API traffic;
3. **load** — every agent pauses and at once gets ready again through the API, reading its
   state after each, about every ``2 * --think-s`` (one request in flight per agent; see
   :meth:`Agent.act`).

Reported: p50/p99 of agent actions (``POST .../pause`` and ``.../ready``) and state reads
(``GET /agents/{agent}``), each agent's on the one connection it keeps as a browser does
(``--fresh-connections``: a new one for every request, as before), p50/p99 of event delivery (request
sent to the matching ``state`` event read from the agent's stream), and per phase the
attempts placed per second, the runner's decision latency
(``dialer_decision_latency_seconds``: mean, and p99 as the first bucket holding 99 %) and
the engine's event-loop lag (how late a 10 ms sleep wakes: what every task of the engine,
dialling included, waits for the loop). The load client measures its own loop's lag too:
what it adds to every latency it reports (its floor on this machine). The load average is
printed before and after: on a shared machine the numbers are only comparable within a run
and between runs at a similar load. Seeded; numbers vary with the machine.

uvicorn's HTTP implementation, measured apart (a bare FastAPI endpoint returning a small
JSON body, 300 requests on fresh connections, 20 at a time, the server's CPU time per
request, on the shared 2-core machine): h11 0.9-1.2 ms, httptools 0.5-0.6 ms; uvloop gave
no steady gain (0.7-0.8 ms) and would change the loop the engine dials on, so the API uses
httptools (a dependency) on the standard loop.

Length: one benchmark in three roles (the engine's side, the load client it starts as a
process of this module with ``--client``, and the loop-stall sampler of ``--stalls``); apart,
each would import the others' constants and protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from benchmarks.engine_throughput import QUEUE, server_config, simulator
from config import AmiConfig, Secret, load_config
from dialer.api.passwords import hash_password
from dialer.app import App, build_app
from dialer.model import CampaignSpec, CampaignState, Compliance, DialingMode
from dialer.observability.logs import configure_logging
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.database import resolve_dsn
from dialer.store.store import Store
from dialer.store.users import Role

PASSWORD = "benchmark-password"
CAMPAIGN = "BENCH_API"
# The agents' pace sets the attempt rate of a progressive campaign: 200 agents / the mean cycle
# of an attempt. With the simulator's population (45 % answered: ~9 s to answer, ~82 s of talk
# on average; the rest busy in ~1 s or ringing out in the campaign's 20 s) a cycle is ~92 s x
# the time scale for an answered call plus the wrap-up, so at 0.05 and a 1 s wrap-up it was
# ~3 s: ~65 attempts/s at most, which is why the engine never reached 100 when idle. At 0.03
# and 0.5 s it is ~1.9 s: ~105 attempts/s when the engine keeps up.
_WRAP_UP_S = 0.5
_PHASES = ("quiet (API idle)", "streams open", "streams + actions")


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


class LoopLag:
    """How late a 10 ms sleep wakes on this process's loop, sampled all along (seconds), and
    what ``probe`` says at each sample (the runner's reasons not to dial, in the engine)."""

    def __init__(
        self,
        probe: Callable[[], tuple[str, ...]] = tuple,
        states: Callable[[], dict[str, int]] = dict,
    ) -> None:
        self.samples: list[float] = []
        self.said: Counter[str] = Counter()
        self.states: Counter[str] = Counter()
        self._probe_with = probe
        self._states_of = states
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._probe())

    async def _probe(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            self.samples.append(time.perf_counter() - t0 - 0.01)
            self.said.update(self._probe_with())
            self.states.update(self._states_of())

    def take(self) -> list[float]:
        """The samples since the last take."""
        out, self.samples = self.samples, []
        return out

    def take_said(self) -> str:
        """What the probe said since the last call, as ``reason share%`` (empty: nothing)."""
        n, self.said = self.said, Counter()
        return ", ".join(f"{k} {v / max(1, len(self.samples) + 1):.0%}" for k, v in n.most_common())

    def take_states(self) -> str:
        """The agents' mean shares by board state since the last call (``state share%``)."""
        n, self.states = self.states, Counter()
        shares = [(k, v) for k, v in n.most_common() if k not in ("logged_out", "logging_out")]
        total = sum(v for _, v in shares) or 1
        return ", ".join(f"{k} {v / total:.0%}" for k, v in shares)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class StallSampler:
    """Which code holds the loop when it is late: a thread that looks at the loop thread's stack
    every ``every_s`` while the loop's heartbeat is more than ``threshold_s`` old (``--stalls``).

    Each stall is also told apart by the loop thread's CPU time over it: a stall the thread
    spent on the CPU is our code running without yielding; one it did not is the process
    waiting for a CPU (the machine's other load) or blocked in a system call.
    """

    def __init__(self, threshold_s: float = 0.02, every_s: float = 0.002) -> None:
        self.threshold_s = threshold_s
        self.every_s = every_s
        self.sites: Counter[str] = Counter()
        self.stalls: list[tuple[float, float]] = []  # (wall s, loop thread CPU s) of each stall
        self._beat = time.perf_counter()
        self._cpu = time.thread_time()
        self._ident = threading.get_ident()
        self._running = True
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        asyncio.get_running_loop().call_soon(self._heartbeat)
        self._thread.start()

    def _heartbeat(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if now - self._beat > self.threshold_s:
            self.stalls.append((now - self._beat, cpu - self._cpu))
        self._beat, self._cpu = now, cpu
        if self._running:
            asyncio.get_running_loop().call_later(0.001, self._heartbeat)

    def _watch(self) -> None:
        while self._running:
            time.sleep(self.every_s)
            if time.perf_counter() - self._beat > self.threshold_s:
                frame = sys._current_frames().get(self._ident)
                if frame is not None:
                    self.sites[_site(frame)] += 1

    def stop(self) -> None:
        self._running = False

    def report(self, label: str, top: int = 12) -> None:
        """Print the stalls since the last report, and forget them."""
        wall = sum(w for w, _ in self.stalls)
        cpu = sum(c for _, c in self.stalls)
        print(
            f"{label}: loop stalls over {1000 * self.threshold_s:.0f} ms: {len(self.stalls)},"
            f" {wall:.1f} s in all,"
            f" the loop thread on the CPU for {cpu / wall if wall else 0:.0%} of it; where the loop was:"
        )
        total = sum(self.sites.values()) or 1
        for site, n in self.sites.most_common(top):
            print(f"  {n / total:>4.0%}  {site}")
        self.sites.clear()
        self.stalls.clear()


def _site(frame: FrameType) -> str:
    """The two innermost frames and the three innermost of the project below them."""
    stack = traceback.extract_stack(frame)[::-1]
    ours = [f for f in stack[2:] if "/site-packages/" not in f.filename and "/lib/python" not in f.filename]
    return " < ".join(f"{Path(f.filename).name}:{f.name}:{f.lineno}" for f in [*stack[:2], *ours[:3]])


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


def _bucket_p99(buckets: list[tuple[float, float]], q: float = 0.99) -> float:
    merged: dict[float, float] = {}
    for le, n in buckets:
        merged[le] = merged.get(le, 0.0) + n
    ordered = sorted(merged.items())
    if not ordered or ordered[-1][1] == 0:
        return float("nan")
    for le, n in ordered:
        if n >= q * ordered[-1][1]:
            return le
    return float("inf")


#: The engine's own timing of the measured requests (``dialer_api_request_seconds``).
_SERVER_SIDE = (
    ("agent action, engine side",
     (("POST", "/api/v1/agents/{agent}/pause"), ("POST", "/api/v1/agents/{agent}/ready"))),
    ("agent state read, engine side", (("GET", "/api/v1/agents/{agent}"),)),
)


def _server_side(app: App) -> list[tuple[str, float, float, float]]:
    """(label, count, p50 bound, p99 bound) of the engine's request histogram, per measured kind.

    Request in to headers out, inside the engine's process: what the client's figure holds
    besides the time its request waited for a CPU (two processes and PostgreSQL on the
    machine's cores), the connection and the client's own loop.
    """
    rows = []
    for label, routes in _SERVER_SIDE:
        count = 0.0
        buckets: list[tuple[float, float]] = []
        for metric in app.registry.collect():
            if metric.name != "dialer_api_request_seconds":
                continue
            for s in metric.samples:
                if (s.labels.get("method"), s.labels.get("route")) not in routes:
                    continue
                if s.name.endswith("_count"):
                    count += s.value
                elif s.name.endswith("_bucket"):
                    buckets.append((float(s.labels["le"]), s.value))
        rows.append((label, count, _bucket_p99(buckets, 0.5), _bucket_p99(buckets)))
    return rows


async def _seed(store: Store, agents: int, contacts: int, rng: np.random.Generator) -> list[str]:
    await store.create_schedule(
        Schedule(name="BENCH_ALL", frequency=Frequency.DAILY, window_start=dt.time(0), window_end=dt.time(0))
    )
    await store.create_campaign(
        CampaignSpec(
            CAMPAIGN,
            "BENCH_ALL",
            DialingMode.PROGRESSIVE,
            caller_id="+48221234567",
            queue=QUEUE,
            compliance=Compliance.UK,
            state=CampaignState.RUNNING,
            local_hours_start=dt.time(0),
            local_hours_end=dt.time(0),
            timezone="Europe/Warsaw",
            demo=True,  # simulated people dialled all day: only a demo campaign may
        )
    )
    hashed = hash_password(PASSWORD)
    names = [f"a{i:03d}" for i in range(agents)]
    for name in names:
        await store.create_agent(name, f"Local/{name}@sim-agents")
        await store.assign_agent(CAMPAIGN, name)
        await store.create_user(name, Role.AGENT, hashed, agent=name)
    async with store.pool.acquire() as conn:  # in bulk: one add_contact each takes minutes
        campaign_id, status_id = await conn.fetchrow(
            "SELECT id, default_status_id FROM campaigns WHERE name = $1", CAMPAIGN
        )
        await conn.execute(
            """INSERT INTO contacts (campaign_id, name, status_id)
               SELECT $1, 'c' || g, $2 FROM generate_series(1, $3) g""",
            campaign_id,
            status_id,
            contacts,
        )
        await conn.execute(
            """INSERT INTO contact_phones (contact_id, campaign_id, position, e164, kind, timezones)
               SELECT c.id, $1, 1, '+4860' || (1000000 + (c.id * 7919 + $2) % 9000000), 'mobile',
                      ARRAY['Europe/Warsaw'] FROM contacts c WHERE c.campaign_id = $1""",
            campaign_id,
            int(rng.integers(0, 9_000_000)),
        )
        await conn.execute("ANALYZE")
    return names


# ------------------------------------------------------------------ the load client (a process)


async def _request(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request on a fresh connection; the whole response.

    Not httpx: its client adds a steady ~45 ms to every request on a busy loop (measured
    against this raw client on the same server: 2 ms), which would be the client's time.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_request_bytes(method, path, {"Connection": "close", **headers}, body))
    data = await reader.read()
    writer.close()
    return data


def _request_bytes(method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class KeptConnection:
    """An agent's browser connection: HTTP/1.1 requests one after another on one socket.

    Browsers keep their connection to the console's server open between clicks (the server
    keeps it 75 s, ``dialer.api.server``); a fresh connection per request (``_request``,
    ``--fresh-connections``) makes the engine's loop accept and close one for every request,
    which is the benchmark's, not the agents', cost. Responses are read by their
    ``Content-Length`` (the API's JSON answers have one); a connection the server closed is
    opened again once.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.opened = 0  # connections opened (1 while the server keeps it)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        try:
            return await self._once(method, path, headers, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()  # the server closed it: once more on a new one
            return await self._once(method, path, headers, body)

    async def _once(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self.port)
            self.opened += 1
        reader, writer = self._streams
        writer.write(_request_bytes(method, path, headers, body))
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
             if line.lower().startswith(b"content-length:")),
            0,
        )  # fmt: skip
        return head + await reader.readexactly(length)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _signature(state: dict[str, Any]) -> tuple[object, ...]:
    """What a ``state`` event and an action's answer agree on (the clocks aside)."""
    return tuple(
        (c["campaign"], c["state"], c["pending_pause"], c["pause_reason"]) for c in state["campaigns"]
    )


class Agent:
    """One simulated person at a browser: a token, an open event stream, clicks.

    Event delivery is timed from the action's request to the first ``state`` event after it
    that shows what the action's answer showed: an agent on a call gets its pause later (when
    the call ends), and that wait is the call's, not the stream's. An action whose state the
    stream never shows (the runner moved the agent on before the stream looked) is counted in
    ``missed``.
    """

    def __init__(self, name: str, port: int, think_s: float, fresh: bool = False) -> None:
        self.name = name
        self.port = port
        self.kept = None if fresh else KeptConnection(port)
        self.headers: dict[str, str] = {}
        self.seen: list[tuple[float, tuple[object, ...]]] = []  # (read at, signature) of state events
        self.news = asyncio.Event()
        self.delays: list[float] = []
        self.missed = 0
        self.actions: list[float] = []
        self.reads: list[float] = []
        self.think_s = think_s
        self.rng = np.random.default_rng(int(name[1:]))
        self.streaming = asyncio.Event()

    async def start(self) -> None:
        body = json.dumps({"name": self.name, "password": PASSWORD}).encode()
        headers = {"Content-Type": "application/json"}
        response = await _request(self.port, "POST", "/api/v1/auth/login", headers, body)
        token = json.loads(response.split(b"\r\n\r\n", 1)[1])["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        status = _status(await _request(self.port, "POST", f"/api/v1/agents/{self.name}/login", self.headers))
        if status != 200:
            raise RuntimeError(f"agent {self.name}: login answered {status}")

    async def stream(self) -> None:
        """Read the SSE stream line by line (chunk-size lines of the chunked encoding are skipped)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = ["GET /api/v1/events HTTP/1.1", "Host: bench", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        event = ""
        try:
            while line := await reader.readline():
                self.streaming.set()
                if line.startswith(b"event: "):
                    event = line[7:].strip().decode()
                elif line.startswith(b"data: ") and event == "state":
                    signature = _signature(json.loads(line[6:]))
                    self.seen = [*self.seen[-20:], (time.perf_counter(), signature)]
                    self.news.set()
        finally:
            writer.close()

    async def _delivered(self, sent_at: float, answer: bytes) -> None:
        wanted = _signature(json.loads(answer.split(b"\r\n\r\n", 1)[1]))
        deadline = time.perf_counter() + 5.0
        while True:
            for read_at, signature in self.seen:
                if read_at >= sent_at and signature == wanted:
                    self.delays.append(read_at - sent_at)
                    return
            self.news.clear()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.perf_counter())):
                    await self.news.wait()
            except TimeoutError:
                self.missed += 1
                return

    async def _send(self, method: str, path: str) -> bytes:
        if self.kept is None:
            return await _request(self.port, method, path, self.headers)
        return await self.kept.request(method, path, self.headers)

    async def act(self, until: float) -> None:
        """Pause and at once get ready again, each followed by a state read, then think.

        A cycle is two actions and two reads in ``2 * think_s`` on average, with a random part
        so that the agents do not click in step (200 requests at the same instant made a tail
        of their own). A person's break is not what is measured: a paused agent takes no call,
        and pausing half the time (as this did) lowered the dialling rate for the people's
        reason, not the API's (a 0.8x "slowdown" that was the agents'). The request rate is as
        it was.
        """
        while time.perf_counter() < until:
            await asyncio.sleep(self.think_s * float(self.rng.uniform(0, 2)))  # people are not in step
            for action in ("pause", "ready"):
                t0 = time.perf_counter()
                response = await self._send("POST", f"/api/v1/agents/{self.name}/{action}")
                self.actions.append(time.perf_counter() - t0)
                if _status(response) == 200:
                    await self._delivered(t0, response)
                t1 = time.perf_counter()
                await self._send("GET", f"/api/v1/agents/{self.name}")
                self.reads.append(time.perf_counter() - t1)
            await asyncio.sleep(self.think_s)  # a person does not click faster


def _say(what: str) -> None:
    print(what, flush=True)


async def client(args: argparse.Namespace) -> None:
    """The load client: agents log in, wait, open their streams, wait, act; the samples as JSON."""
    lag = LoopLag()
    lag.start()
    agents = [
        Agent(f"a{i:03d}", args.client, args.think_s, args.fresh_connections) for i in range(args.agents)
    ]
    gate = asyncio.Semaphore(8)  # Argon2 is CPU: a few logins at once

    async def start(agent: Agent) -> None:
        async with gate:
            await agent.start()

    await asyncio.gather(*(start(a) for a in agents))
    _say("logged_in")
    await asyncio.sleep(args.phase_s)
    streams = [asyncio.create_task(a.stream()) for a in agents]
    await asyncio.gather(*(a.streaming.wait() for a in agents))
    _say("streaming")
    lag.take()
    cpu0 = time.process_time()
    await asyncio.sleep(args.phase_s)
    lag_streams = lag.take()
    cpu1 = time.process_time()
    _say("load")
    until = time.perf_counter() + args.phase_s
    await asyncio.gather(*(a.act(until) for a in agents))
    lag_load = lag.take()
    cpu2 = time.process_time()
    for t in streams:
        t.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    lag.stop()
    samples = {
        "actions": [x for a in agents for x in a.actions],
        "reads": [x for a in agents for x in a.reads],
        "delays": [x for a in agents for x in a.delays],
        "missed": [float(sum(a.missed for a in agents))],
        "lag_streams": lag_streams,
        "lag_load": lag_load,
        "client_cpu": [cpu1 - cpu0, cpu2 - cpu1],
    }
    _say("samples " + json.dumps(samples))


# ------------------------------------------------------------------ the engine (this process)


async def _line(proc: asyncio.subprocess.Process, prefix: str) -> str:
    assert proc.stdout is not None
    while True:
        line = (await proc.stdout.readline()).decode()
        if not line:
            raise RuntimeError(f"the load client exited before saying {prefix!r}")
        if line.startswith(prefix):
            return line[len(prefix) :].strip()


async def run(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    home = Path(tempfile.mkdtemp(prefix="bench-api-"))
    base = load_config(env={"DIALER_HOME": str(home)})
    dsn = args.dsn or await resolve_dsn(base)
    print(f"load average at start {_load()}", flush=True)
    store = await Store.open(dsn)
    try:
        names = await _seed(store, args.agents, args.contacts, rng)
    finally:
        await store.close()
    async with simulator("--time-scale", str(args.time_scale), "--seed", str(args.seed)) as pbx_port:
        cfg = replace(
            base,
            database=replace(base.database, dsn=Secret(dsn), pool_max=20),
            ami=AmiConfig(servers=(server_config(pbx_port, 4 * len(names)),)),
            engine=replace(
                base.engine,
                engine_id="bench-api",
                tick_s=0.2,
                disposition_timeout_s=_WRAP_UP_S,
                dial_demo_campaigns=True,
            ),
            api=replace(base.api, port=args.port, login_failures_per_address=10_000),
        )
        app = await build_app(cfg, configure_logs=False, serve_metrics=False, serve_api=True)
        engine: asyncio.Task[None] | None = None
        load: asyncio.subprocess.Process | None = None
        try:
            assert app.api_server is not None
            app.api_server.port = 0
            await app.start()
            engine = asyncio.create_task(app.run())
            while app.engine.runner(CAMPAIGN) is None:  # noqa: ASYNC110 - the engine has no event for it
                await asyncio.sleep(0.1)
            load = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.api", "--client", str(app.api_server.port),
                "--agents", str(len(names)), "--phase-s", str(args.phase_s), "--think-s", str(args.think_s),
                *(["--fresh-connections"] if args.fresh_connections else []),
                stdout=asyncio.subprocess.PIPE, limit=1 << 26,  # the samples come as one line
            )  # fmt: skip
            await _line(load, "logged_in")
            await asyncio.sleep(2)  # the first calls to the agents who just logged in
            runner = app.engine.runner(CAMPAIGN)
            assert runner is not None
            lag = LoopLag(runner.paused_reasons, runner.board.agents_by_state)
            lag.start()
            stalls = StallSampler() if args.stalls else None
            if stalls is not None:
                stalls.start()

            def mark() -> tuple[tuple[float, float, float], int, float, float]:
                return _decisions(app), runner.stats().attempts, time.perf_counter(), time.process_time()

            marks = [mark()]
            lag.take()
            lag.take_said()
            lag.take_states()
            lags, paused, states = [], [], []
            for said, phase in zip(("streaming", "load", "samples "), _PHASES, strict=True):
                text = await _line(load, said)
                marks.append(mark())
                print(f"phase {phase!r} over", flush=True)
                paused.append(lag.take_said())
                states.append(lag.take_states())
                lags.append(lag.take())
                if stalls is not None:
                    stalls.report(phase)
            lag.stop()
            if stalls is not None:
                stalls.stop()
            samples = json.loads(text)
            server_side = _server_side(app)
        finally:
            if load is not None and load.returncode is None:
                load.kill()
                await load.wait()
            app.engine.stop()
            if engine is not None:
                await asyncio.gather(engine, return_exceptions=True)
            await app.close()
    _report(args, marks, lags, paused, states, samples, server_side)


def _report(
    args: argparse.Namespace,
    marks: list[tuple[tuple[float, float, float], int, float, float]],
    lags: list[list[float]],
    paused: list[str],
    states: list[str],
    samples: dict[str, list[float]],
    server_side: list[tuple[str, float, float, float]],
) -> None:
    print(f"agents {args.agents} (API logins), phases {args.phase_s:.0f} s, load average {_load()}")
    row = "{:<34}{:>8}{:>10.1f}{:>10.1f}"
    print("{:<34}{:>8}{:>10}{:>10}".format("API measure", "n", "p50 ms", "p99 ms"))
    print(f"(event delivery: {samples['missed'][0]:.0f} actions whose state the stream never showed)")
    for label, key in (
        ("agent action (pause / ready)", "actions"),
        ("agent state read (GET)", "reads"),
        ("event delivery (request -> state)", "delays"),
        ("client loop lag, streams open", "lag_streams"),
        ("client loop lag, under load", "lag_load"),
    ):
        values = samples[key]
        print(row.format(label, len(values), _pct(values, 50), _pct(values, 99)))
    for label, count, p50, p99 in server_side:  # bucket bounds: "at most"
        print("{:<34}{:>8.0f}{:>10}{:>10}".format(label, count, f"<= {p50 * 1000:g}", f"<= {p99 * 1000:g}"))
    print(
        "{:<22}{:>11}{:>10}{:>12}{:>11}{:>10}{:>10}{:>9}".format(
            *("engine phase", "attempts/s", "decisions", "decide mean", "decide p99"),
            *("lag p50", "lag p99", "CPU"),
        )
    )
    for i, label in enumerate(_PHASES):
        (c0, s0, _), a0, t0, cpu0 = marks[i]
        (c1, s1, p99), a1, t1, cpu1 = marks[i + 1]
        mean = (s1 - s0) / max(1.0, c1 - c0) * 1000
        rate, lag50, lag99 = (a1 - a0) / (t1 - t0), _pct(lags[i], 50), _pct(lags[i], 99)
        print(
            f"{label:<22}{rate:>11.1f}{c1 - c0:>10.0f}{mean:>10.2f}ms{p99 * 1000:>9.0f}ms"
            f"{lag50:>8.1f}ms{lag99:>8.1f}ms{100 * (cpu1 - cpu0) / (t1 - t0):>8.0f}%"
        )
    for label, said, shares in zip(_PHASES, paused, states, strict=True):
        print(f"  runner not dialling in {label}: {said or 'never'}; agents {shares}")
    streams_cpu, load_cpu = samples["client_cpu"]
    print(
        f"(decide p99: the histogram's bucket bound over the run so far; CPU %: the engine process's"
        f" CPU time per wall second; the load client used {100 * streams_cpu / args.phase_s:.0f}%"
        f" with streams open, {100 * load_cpu / args.phase_s:.0f}% under load)"
    )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--agents", type=int, default=200)
    p.add_argument("--contacts", type=int, default=20_000)
    p.add_argument("--phase-s", type=float, default=20.0)
    p.add_argument("--think-s", type=float, default=2.0, help="an agent's pause between clicks")
    p.add_argument("--time-scale", type=float, default=0.03, help="the simulated PBX's time scale")
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--stalls", action="store_true", help="sample the engine loop's stack while it is late")
    p.add_argument("--fresh-connections", action="store_true",
                   help="a new connection for every request (default: each agent keeps one, as browsers do)")
    p.add_argument("--dsn", help="a PostgreSQL DSN (default: the embedded server in a fresh home)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the load client process
    args = p.parse_args()
    configure_logging(level="warning")  # a log line per call would be the benchmark's own load
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(client(args) if args.client else run(args))


if __name__ == "__main__":
    main()
