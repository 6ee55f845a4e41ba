"""AMI event throughput: the full client path against a bare socket reader, same run.

The simulated PBX runs in a subprocess (so its CPU is not counted) at full verbosity
(Newexten/VarSet noise, as real Asterisk with every read class) and 1000x faster than real
time. Each row connects, logs in, originates the same seeded mix of calls (the transcripts'
number convention: agent-connected, AMD human/machine, busy, no answer, congestion,
unallocated, hang-up while waiting) and reads until every call has ended:

* ``floor``: a bare asyncio reader that only splits the stream on the blank line;
* ``framer``: the same reader feeding :class:`ami.framing.AmiFramer` (messages parsed);
* ``client``: :class:`ami.client.AmiClient` - framing, routing, one attempt machine per
  call, agent-event mapping, updates to a listener.

The live rows are bounded by the simulator's pace, so their ratios understate parsing
costs. The second table is the honest floor (issue 18 item 1): the byte stream the ``floor``
row received, recorded and fed again from memory, in 64 KiB reads, to

* a bare blank-line split,
* :class:`~ami.framing.AmiFramer` parsing every message,
* the framer dropping the events nothing consumes (``UNCONSUMED_EVENTS``), and
* the full client path (framer with the filter, routing, machines, agent events, listener),
  its attempts registered as ``AmiClient.originate`` registers them.

Each memory row is replayed ``--repeat`` times (a fresh client each time) and the least CPU
counts: on a shared box noise only ever adds time, and one replay lasts under a second.

Logging is filtered at ERROR (per-attempt lines and slow-response warnings would measure the
console renderer). CPU seconds are this process's (``time.process_time``) from the first
Originate to the last event read. Usage: ``python -m benchmarks.ami_throughput [--calls 1000] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from ami.client import AmiClient, _AmiProtocol
from ami.framing import UNCONSUMED_EVENTS, AmiFramer, AmiMessage, encode
from ami.outcome import AttemptMachine, Ended
from config.model import AmiServerConfig
from config.secret import Secret

PREFIXES = ("100", "110", "120", "200", "300", "400", "500", "600")
AGENTS = 200
TIME_SCALE = 0.001


@dataclass(frozen=True)
class Row:
    name: str
    events: int
    wall_s: float
    cpu_s: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_s / self.events * 1000 if self.events else 0.0


def call_plan(calls: int, seed: int) -> list[tuple[str, str, bool]]:
    """(attempt id, number, AMD on) for each call; seeded."""
    rng = random.Random(seed)
    plan = []
    for i in range(calls):
        prefix = rng.choice(PREFIXES)
        plan.append((f"B{i}", f"{prefix}{rng.randrange(10**7):07d}", prefix in ("110", "120")))
    return plan


async def start_simulator(seed: int) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialer.cli",
        "simulate-pbx",
        "--port",
        "0",
        "--verbosity",
        "full",
        "--time-scale",
        str(TIME_SCALE),
        "--agents",
        str(AGENTS),
        "--seed",
        str(seed),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        if not line:
            raise RuntimeError("simulator exited before listening")
        if "listening on" in line:
            return proc, int(line.split()[4].rsplit(":", 1)[1])


def originate_headers(attempt_id: str, number: str, amd: bool) -> list[tuple[str, object]]:
    tag = f"dlr-{attempt_id}"
    return [
        ("Action", "Originate"),
        ("ActionID", tag),
        ("Channel", f"Local/{number}@sim-pstn"),
        ("Context", "dialer-connect"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", "15000"),
        ("CallerID", '"Dialer" <5550000>'),
        ("Async", "true"),
        ("ChannelId", tag),
        # the same variables AmiClient.originate sets, so both see the same VarSet noise
        (
            "Variable",
            [
                f"DIALER_ATTEMPT_ID={attempt_id}",
                "DIALER_CAMPAIGN=bench",
                "DIALER_QUEUE=campaign1",
                "DIALER_QUEUE_TIMEOUT=2",
                f"DIALER_AMD={int(amd)}",
            ],
        ),
    ]


async def raw_row(
    name: str, port: int, plan: list[tuple[str, str, bool]], parse: bool, record: list[bytes] | None = None
) -> Row:
    """A bare reader: split on the blank line (``parse=False``) or feed AmiFramer.

    ``record``: gets every chunk read after the login (the stream the memory rows replay).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(encode([("Action", "Login"), ("Username", "dialer"), ("Secret", "dialer-secret")]))
    await reader.readuntil(b"Fully Booted\r\n\r\n")
    framer = AmiFramer(expect_banner=False)
    ends_needed = len(plan)
    hangup_marker = b"Event: Hangup\r\n"
    t0, c0 = time.perf_counter(), time.process_time()
    writer.write(b"".join(encode(originate_headers(*p)) for p in plan))
    events = 0
    ended = 0
    tail = b""
    last_wall, last_cpu = t0, c0
    while ended < ends_needed:
        try:
            data = await asyncio.wait_for(reader.read(1 << 16), 5.0)
        except TimeoutError:
            break
        if not data:
            break
        if record is not None:
            record.append(data)
        if parse:
            for m in framer.feed(data):
                events += 1
                if (
                    isinstance(m, AmiMessage)
                    and m.event == "Hangup"
                    and (m.get("Uniqueid") or "").startswith("dlr-")
                    and not m["Uniqueid"].endswith(";2")
                ):
                    ended += 1
        else:
            buf = tail + data
            blocks = buf.split(b"\r\n\r\n")
            tail = blocks.pop()
            events += len(blocks)
            for b in blocks:
                if b.startswith(hangup_marker) and b"Uniqueid: dlr-" in b:
                    i = b.index(b"Uniqueid: dlr-")
                    if not b[i : b.index(b"\r\n", i)].endswith(b";2"):
                        ended += 1
        last_wall, last_cpu = time.perf_counter(), time.process_time()
    writer.close()
    return Row(name, events, last_wall - t0, last_cpu - c0)


async def client_row(port: int, plan: list[tuple[str, str, bool]]) -> Row:
    cfg = AmiServerConfig(name="bench", port=port, secret=Secret("dialer-secret"), channel_limit=10**6)
    client = AmiClient(cfg, trunk_context="sim-pstn", rng=random.Random(0))
    done = asyncio.Event()
    remaining = len(plan)
    last = [0.0, 0.0]

    def on_update(update: object) -> None:
        nonlocal remaining
        if isinstance(update, Ended):
            remaining -= 1
            last[0], last[1] = time.perf_counter(), time.process_time()
            if remaining == 0:
                done.set()

    client.add_update_listener(on_update)
    client.add_agent_listener(lambda _u: None)
    await client.connect()
    events0 = client.events_received + client.events_skipped
    t0, c0 = time.perf_counter(), time.process_time()
    originate = client.originate
    await asyncio.gather(
        *(
            originate(
                a,
                n,
                campaign="bench",
                queue="campaign1",
                caller_id='"Dialer" <5550000>',
                timeout_s=15,
                amd=amd,
            )
            for a, n, amd in plan
        )
    )
    await asyncio.wait_for(done.wait(), 120)
    # + the dropped noise and the Originate responses: the same messages the floor counts
    events = client.events_received + client.events_skipped - events0 + len(plan)
    await client.terminate()
    return Row("client (framing+routing+machines)", events, last[0] - t0, last[1] - c0)


def _timed(name: str, run: object) -> Row:
    assert callable(run)
    t0, c0 = time.perf_counter(), time.process_time()
    events = run()
    return Row(name, events, time.perf_counter() - t0, time.process_time() - c0)


def _best(repeat: int, name: str, make: Callable[[], Callable[[], int]]) -> Row:
    """The least CPU of ``repeat`` runs, each of a fresh ``make()`` (a shared box's noise only
    ever adds time)."""
    return min((_timed(name, make()) for _ in range(repeat)), key=lambda r: r.cpu_s)


async def memory_rows(stream: bytes, plan: list[tuple[str, str, bool]], repeat: int = 1) -> list[Row]:
    """The recorded stream fed from memory to each layer (see the module docstring)."""
    chunks = [stream[i : i + (1 << 16)] for i in range(0, len(stream), 1 << 16)]
    total = stream.count(b"\r\n\r\n")

    def split() -> int:
        tail, n = b"", 0
        for data in chunks:
            blocks = (tail + data).split(b"\r\n\r\n")
            tail = blocks.pop()
            n += len(blocks)
        return n

    def framer(skip: bool) -> int:
        f = AmiFramer(expect_banner=False, skip=UNCONSUMED_EVENTS if skip else None)
        for data in chunks:
            f.feed(data)
        return total

    def client_path(skip: bool) -> tuple[Callable[[], int], AmiClient, list[int]]:
        cfg = AmiServerConfig(name="bench", port=1, secret=Secret("dialer-secret"), channel_limit=10**6)
        client = AmiClient(cfg, trunk_context="sim-pstn", rng=random.Random(0))
        ended = [0]
        client.add_update_listener(lambda u: ended.__setitem__(0, ended[0] + isinstance(u, Ended)))
        client.add_agent_listener(lambda _u: None)
        protocol = _AmiProtocol(client)
        client._protocol = protocol  # as connection_made does; the "socket" is the list of chunks
        protocol._framer = AmiFramer(expect_banner=False, skip=UNCONSUMED_EVENTS if skip else None)
        for attempt_id, _number, _amd in plan:  # what originate() registers before it writes
            tag = f"dlr-{attempt_id}"
            client._machines[attempt_id] = AttemptMachine(
                attempt_id, action_id=tag, channel_id=tag, started_at_s=0.0, machine_to_agent=False
            )
            client._router.register(attempt_id, action_id=tag, channel_id=tag)

        def run() -> int:
            for data in chunks:
                protocol.data_received(data)
            return total

        return run, client, ended

    rows = [
        _best(repeat, "memory: split on blank line", lambda: split),
        _best(repeat, "memory: AmiFramer, all parsed", lambda: lambda: framer(False)),
        _best(repeat, "memory: AmiFramer, noise dropped", lambda: lambda: framer(True)),
    ]
    for skip in (False, True):
        made: list[tuple[AmiClient, list[int]]] = []

        def fresh(skip: bool = skip, made: list[tuple[AmiClient, list[int]]] = made) -> Callable[[], int]:
            run, client, ended = client_path(skip)
            made.append((client, ended))
            return run

        rows.append(_best(repeat, f"memory: client path, {'noise dropped' if skip else 'all parsed'}", fresh))
        for client, _ in made:
            for timer in client._settle_timers.values():
                timer.cancel()
        client, ended = made[-1]
        print(
            f"memory client path ({'filter' if skip else 'no filter'}): {ended[0]} of {len(plan)}"
            f" attempts ended in the replay, {client.events_skipped} events dropped"
        )
    return rows


async def main_async(calls: int, seed: int, repeat: int = 1) -> tuple[list[Row], list[Row]]:
    plan = call_plan(calls, seed)
    rows = []
    record: list[bytes] = []
    for name in ("floor", "framer", "client"):
        proc, port = await start_simulator(seed)
        try:
            if name == "client":
                rows.append(await client_row(port, plan))
            elif name == "floor":
                rows.append(await raw_row("floor (split on blank line)", port, plan, False, record))
            else:
                rows.append(await raw_row("framer (AmiFramer only)", port, plan, parse=True))
        finally:
            proc.terminate()
            await proc.wait()
    return rows, await memory_rows(b"".join(record), plan, repeat)


def print_table(rows: list[Row]) -> None:
    floor = rows[0]
    head = ("path", "events", "events/s", "CPU s/1000 ev", "ev/CPU-s", "CPU x floor")
    print(f"{head[0]:36} {head[1]:>8} {head[2]:>10} {head[3]:>14} {head[4]:>10} {head[5]:>12}")
    for r in rows:
        ratio = r.cpu_per_1000 / floor.cpu_per_1000 if floor.cpu_per_1000 else float("nan")
        capacity = 1000 / r.cpu_per_1000 if r.cpu_per_1000 else float("nan")
        cells = f"{r.events:8d} {r.events_per_s:10.0f} {r.cpu_per_1000:14.4f} {capacity:10.0f} {ratio:12.1f}"
        print(f"{r.name:36} {cells}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=5, help="replays from memory per row; the least CPU counts (default 5)"
    )
    args = parser.parse_args(argv)
    # per-attempt info lines would measure the console renderer, not the AMI path
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    live, memory = asyncio.run(main_async(args.calls, args.seed, args.repeat))
    print(f"AMI throughput, {args.calls} calls, simulator at full verbosity, seed {args.seed}")
    print("Live socket: events/s is bounded by the simulator's output; ev/CPU-s is one core's capacity")
    print_table(live)
    print()
    print(
        f"From memory: the floor row's recorded stream, best of {args.repeat} replays"
        " (goal: client path <= 3x the split)"
    )
    print_table(memory)


if __name__ == "__main__":
    main()
