"""The simulated PBX against the captures from a real Asterisk 22.

Each ``originate-*.txt`` is replayed against the simulator (same Channel, Context, ChannelId,
variables; the same queue situation) over a real socket, and the events are compared with
the capture *per channel*: event names in order plus the key headers (ChannelStateDesc,
DialStatus, Cause, UserEvent, AMDStatus, QueueStatus). Per channel, because Asterisk
interleaves the threads of different channels differently from run to run (compare the
hang-up order in ``originate-answer-agent.txt`` and ``originate-amd-human.txt``), while
each channel's own sequence is fixed. OriginateResponse is compared on its own (Response,
Reason, Channel kind): the README's fact 1 says its position is not fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ami.framing import AmiFramer, AmiMessage, Banner, GarbledMessage, encode
from ami.outcome import AttemptMachine, Outcome
from ami.simulator.cli import build_pbx
from ami.simulator.population import FarEnd, PopulationModel, PopulationParams
from ami.simulator.server import SimulatedPbx
from ami.transcript import Transcript, load_transcript
from dialer.cli.main import build_parser
from tests.ami.conftest import TIME_SCALE, TRANSCRIPT_AGENTS
from tests.ami.test_faults import wait_for
from tests.ami.transcripts import TRANSCRIPTS_DIR, originate_paths

KEY_HEADERS = ("ChannelStateDesc", "DialStatus", "Cause", "UserEvent", "AMDStatus", "QueueStatus")
IGNORED = {
    "DeviceStateChange",
    "Newexten",
    "VarSet",
    "LocalBridge",
    "BridgeCreate",
    "BridgeDestroy",
    "OriginateResponse",
    "QueueMemberStatus",
}
# scenarios whose capture had both campaign1 members paused
PAUSED = {"originate-answer-no-agent-abandon", "originate-answer-customer-hangup-in-queue"}


def channel_key(name: str) -> str:
    """``Local/1005550001@sim-pstn-00000005;1`` -> ``Local/1005550001@sim-pstn;1``; agents -> ``AGENT;n``."""
    base = re.sub(r"-[0-9a-f]{8}(;\d)?$", r"\1", name)
    if "@sim-agents" in base:
        return "AGENT" + base[base.index(";") :] if ";" in base else "AGENT"
    return base


def per_channel(messages: list[AmiMessage]) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for m in messages:
        if m.event is None or m.event in IGNORED:
            continue
        chan = m.get("Channel") or m.get("DestChannel")
        if chan is None or (m.event == "UserEvent" and m.get("Channel") is None):
            continue
        row = (m.event, *(f"{k}={m.get(k)}" for k in KEY_HEADERS if m.get(k) is not None))
        out.setdefault(channel_key(chan), []).append(row)
    return out


def originate_response(messages: list[AmiMessage]) -> tuple[str | None, str | None, bool]:
    [resp] = [m for m in messages if m.event == "OriginateResponse"]
    return resp.get("Response"), resp.get("Reason"), (resp.get("Channel") or "").endswith(";1")


class RawAmi:
    """A bare AMI socket client for the simulator tests (the real client is tested elsewhere)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.framer = AmiFramer()
        self.frames: list[AmiMessage | Banner | GarbledMessage] = []

    @classmethod
    async def connect(cls, port: int, *, secret: str = "dialer-secret") -> RawAmi:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        ami = cls(reader, writer)
        await ami.send(Action="Login", ActionID="login-1", Username="dialer", Secret=secret)
        return ami

    async def send(self, *pairs: tuple[str, str], **headers: str) -> None:
        self.writer.write(encode([*pairs, *headers.items()]))
        await self.writer.drain()

    async def read_until(self, pred: Callable[[AmiMessage], bool], wait_s: float = 5.0) -> AmiMessage:
        async def loop() -> AmiMessage:
            seen = 0
            while True:
                for f in self.frames[seen:]:
                    if isinstance(f, AmiMessage) and pred(f):
                        return f
                seen = len(self.frames)
                data = await self.reader.read(65536)
                if not data:
                    raise EOFError("simulator closed the connection")
                self.frames.extend(self.framer.feed(data))

        return await asyncio.wait_for(loop(), wait_s)

    def messages(self) -> list[AmiMessage]:
        return [f for f in self.frames if isinstance(f, AmiMessage)]

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


ORIGINATE_FILES = originate_paths()
# People who answer in 1 s and talk (with media) until 9 s after answering.
_TALKING_PEOPLE = PopulationParams(
    answer_p=1.0,
    machine_share=0.0,
    answer_median_s=1.0,
    answer_sigma=0.0,
    talk_median_s=9.0,
    talk_sigma=0.0,
)
# Captures whose Originate lines were reconstructed with only ActionID/ChannelId: what the
# engine sent (from the capture's header: its channel, the connect context, the reserved
# agent its Dial() rings) and the far end's behaviour, a person with media answering in 1 s
# who hangs up about 9 s later (the capture's Newstate Up at +1.012 s, Hangup at +10.020 s).
RECONSTRUCTED: dict[str, tuple[list[tuple[str, str]], PopulationParams]] = {
    "originate-local-optimized-reserved-agent": (
        [
            ("Channel", "Local/+48500002110@dialer-out"),
            ("Context", "dialer-connect"),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Timeout", "15000"),
            ("CallerID", "<5550000>"),
            ("Async", "true"),
            ("Variable", "DIALER_AGENT=Local/agent2@sim-agents"),
        ],
        _TALKING_PEOPLE,
    ),
}


def received(cap: Transcript) -> list[AmiMessage]:
    return [e.message for e in cap.received() if isinstance(e.message, AmiMessage)]


async def calls_finished(pbx: SimulatedPbx, wait_s: float = 5.0) -> None:
    """An optimised call (fact 11) goes on without our ;1: wait until the simulator ends it."""
    for _ in range(int(wait_s / 0.01)):
        if pbx.live_calls == 0:
            return
        await asyncio.sleep(0.01)


async def replay_on_simulator(pbx: SimulatedPbx, cap: Transcript) -> list[AmiMessage]:
    ami = await RawAmi.connect(pbx.port)
    await ami.read_until(lambda m: m.event == "FullyBooted")
    if cap.name in PAUSED:
        for agent in ("Local/agent1@sim-agents", "Local/agent2@sim-agents"):
            await ami.send(
                Action="QueuePause", ActionID=f"p-{agent}", Queue="campaign1", Interface=agent, Paused="true"
            )
            await ami.read_until(lambda m, a=agent: m.action_id == f"p-{a}")
    [entry] = cap.sent_actions("Originate")
    orig = entry.message
    assert isinstance(orig, AmiMessage)
    if cap.name in RECONSTRUCTED:
        sent, people = RECONSTRUCTED[cap.name]
        pbx.population = PopulationModel(people, np.random.default_rng(1))
        orig = AmiMessage.of(*orig.headers, *sent)
    await ami.send(*orig.headers)
    uid = orig.get("ChannelId")
    # the call is over when the originated ;1 half has hung up and nothing follows for a while
    await ami.read_until(lambda m: m.event == "Hangup" and m.get("Uniqueid") == uid, wait_s=10)
    await calls_finished(pbx)
    try:
        await ami.read_until(lambda m: False, wait_s=30 * TIME_SCALE)
    except TimeoutError:
        pass
    await ami.close()
    first = next(i for i, m in enumerate(ami.messages()) if m.action_id == orig.action_id)
    return ami.messages()[first:]


@pytest.mark.parametrize("path", ORIGINATE_FILES, ids=lambda p: p.stem)
async def test_simulator_reproduces_capture_per_channel(pbx: SimulatedPbx, path: Path) -> None:
    cap = load_transcript(path)
    simulated = await replay_on_simulator(pbx, cap)
    expected = per_channel(received(cap))
    actual = per_channel(simulated)
    assert expected == actual
    assert originate_response(received(cap)) == originate_response(simulated)


def test_population_convention_numbers_follow_the_transcripts() -> None:
    model = PopulationModel(PopulationParams(), np.random.default_rng(1))
    expected = {
        "1005550001": FarEnd.PERSON,
        "1205550001": FarEnd.MACHINE,
        "2005550001": FarEnd.BUSY,
        "3005550001": FarEnd.NO_ANSWER,
        "4005550001": FarEnd.CONGESTION,
        "5005550001": FarEnd.UNALLOCATED,
    }
    assert expected == {n: model.behaviour_for(n).far_end for n in expected}


def test_population_draws_follow_the_shares_and_the_seed() -> None:
    params = PopulationParams(
        answer_p=0.5, machine_share=0.2, busy_share=0.5, congestion_share=0.0, unallocated_share=0.0
    )
    model, twin = (
        PopulationModel(params, np.random.default_rng(7)),
        PopulationModel(params, np.random.default_rng(7)),
    )
    draws = [model.behaviour_for(f"48{i:09d}") for i in range(4000)]
    again = [twin.behaviour_for(f"48{i:09d}") for i in range(4000)]
    kinds = [d.far_end for d in draws]
    answered = sum(k in (FarEnd.PERSON, FarEnd.MACHINE) for k in kinds) / len(kinds)
    busy = kinds.count(FarEnd.BUSY) / len(kinds)
    assert abs(answered - 0.5) < 0.03
    assert abs(busy - 0.25) < 0.03
    assert [d.far_end for d in again] == kinds


def test_population_rejects_bad_shares() -> None:
    with pytest.raises(ValueError, match="answer_p"):
        PopulationParams(answer_p=1.5)


# -- protocol behaviour outside calls --------------------------------------------------------


async def test_actions_before_login_need_authentication(pbx: SimulatedPbx) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", pbx.port)
    ami = RawAmi(reader, writer)
    await ami.send(Action="Ping", ActionID="p0")
    resp = await ami.read_until(lambda m: m.action_id == "p0")
    assert ("Error", "Authentication Required") == (resp.response, resp.get("Message"))
    assert [Banner("Asterisk Call Manager/11.0.0")] == ami.frames[:1]
    await ami.close()


async def test_wrong_secret_is_refused_after_a_delay_then_closed(pbx: SimulatedPbx) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    ami = await RawAmi.connect(pbx.port, secret="wrong-secret")
    resp = await ami.read_until(lambda m: m.action_id == "login-1")
    assert ("Error", "Authentication failed") == (resp.response, resp.get("Message"))
    assert loop.time() - started >= pbx.auth_fail_delay_s
    with pytest.raises(EOFError):
        await ami.read_until(lambda m: False)


async def test_logoff_says_goodbye_and_closes(pbx: SimulatedPbx) -> None:
    ami = await RawAmi.connect(pbx.port)
    await ami.read_until(lambda m: m.event == "FullyBooted")
    await ami.send(Action="Logoff", ActionID="bye")
    resp = await ami.read_until(lambda m: m.action_id == "bye")
    assert ("Goodbye", "Thanks for all the fish.") == (resp.response, resp.get("Message"))
    with pytest.raises(EOFError):
        await ami.read_until(lambda m: False)


async def test_unknown_action_command_and_user_event(pbx: SimulatedPbx) -> None:
    ami = await RawAmi.connect(pbx.port)
    await ami.send(Action="Frobnicate", ActionID="f1")
    assert "Invalid/unknown command" == (await ami.read_until(lambda m: m.action_id == "f1")).get("Message")
    await ami.send(Action="Command", ActionID="c1", Command="core show version")
    out = await ami.read_until(lambda m: m.action_id == "c1")
    assert "Asterisk 22" in (out.get("Output") or "")
    await ami.send(Action="UserEvent", ActionID="u1", UserEvent="Hello", Campaign="c7")
    ev = await ami.read_until(lambda m: m.event == "UserEvent")
    assert ("Hello", "c7") == (ev.get("UserEvent"), ev.get("Campaign"))
    await ami.close()


async def test_core_show_channels_lists_a_ringing_call(pbx: SimulatedPbx) -> None:
    ami = await RawAmi.connect(pbx.port)
    await ami.send(
        Action="Originate",
        ActionID="o1",
        Channel="Local/3005550001@sim-pstn",
        Context="dialer-connect",
        Exten="s",
        Timeout="60000",
        Async="true",
        ChannelId="dlr-K9",
    )
    await ami.read_until(lambda m: m.event == "DialState")
    await ami.send(Action="CoreShowChannels", ActionID="csc")
    done = await ami.read_until(lambda m: m.event == "CoreShowChannelsComplete")
    listed = [m for m in ami.messages() if m.event == "CoreShowChannel" and m.action_id == "csc"]
    assert {"dlr-K9", "dlr-K9;2"} == {m.get("Uniqueid") for m in listed}
    assert "2" == done.get("ListItems")
    await ami.close()


async def test_full_verbosity_adds_dialplan_noise_and_keeps_the_sequence() -> None:
    sim = SimulatedPbx(time_scale=TIME_SCALE, agents=TRANSCRIPT_AGENTS, verbosity="full")
    await sim.start()
    try:
        cap = load_transcript(TRANSCRIPTS_DIR / "originate-amd-human.txt")
        simulated = await replay_on_simulator(sim, cap)
    finally:
        await sim.close()
    names = {m.event for m in simulated}
    assert {"Newexten", "VarSet"} <= names
    assert per_channel(received(cap)) == per_channel(simulated)


async def test_a_thousand_concurrent_calls(pbx: SimulatedPbx) -> None:
    ami = await RawAmi.connect(pbx.port)
    await ami.read_until(lambda m: m.event == "FullyBooted")
    n = 1000
    ami.writer.write(
        b"".join(
            encode(
                [
                    ("Action", "Originate"),
                    ("ActionID", f"o{i}"),
                    ("Channel", f"Local/300{i:07d}@sim-pstn"),
                    ("Context", "dialer-connect"),
                    ("Exten", "s"),
                    ("Timeout", "800000"),
                    ("Async", "true"),
                    ("ChannelId", f"dlr-T{i}"),
                ]
            )
            for i in range(n)
        )
    )
    # every call up at once: each rings 8 real seconds (nobody answers a 300), and a loaded
    # machine takes seconds to originate a thousand (reading their events takes longer still)
    await wait_for(lambda: pbx.live_calls == n, wait_s=20)
    await ami.read_until(lambda m: m.action_id == f"o{n - 1}" and m.response == "Success", wait_s=60)
    await ami.read_until(lambda m: m.event == "OriginateResponse" and m.action_id == f"o{n - 1}", wait_s=60)
    responses = [m for m in ami.messages() if m.event == "OriginateResponse"]
    assert n == len(responses)
    assert {"3"} == {m.get("Reason") for m in responses}
    await ami.close()


def test_simulate_pbx_command_line_builds_the_simulator() -> None:
    args = build_parser().parse_args(
        [
            "simulate-pbx",
            "--port",
            "0",
            "--agents",
            "3",
            "--agent",
            "sales:PJSIP/1001:Anna",
            "--answer-p",
            "0.3",
            "--verbosity",
            "full",
            "--response-delay",
            "0.5",
            "--agent-wrapup",
            "4",
            "--no-local-optimization",
        ]
    )
    pbx = build_pbx(args)
    assert pbx.local_optimization is False
    assert build_pbx(build_parser().parse_args(["simulate-pbx"])).local_optimization is True
    members = {(q.name, m.interface, m.member_name) for q in pbx.queues.values() for m in q.members.values()}
    assert {("campaign1", f"Local/agent{i}@sim-agents", f"Agent {i}") for i in (1, 2, 3)} | {
        ("sales", "PJSIP/1001", "Anna")
    } == members
    assert (0.3, True, 0.5) == (pbx.population.params.answer_p, pbx.full_verbosity, pbx.response_delay_s)
    assert {4.0} == {m.wrapup_s for q in pbx.queues.values() for m in q.members.values()}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agent", "nocolon"], "agent: must be QUEUE:INTERFACE\\[:NAME\\] \\(got 'nocolon'\\)"),
        (["--busy-share", "0.9", "--congestion-share", "0.2"], "exceed"),
    ],
)
def test_simulate_pbx_rejects_bad_options_naming_them(argv: list[str], message: str) -> None:
    args = build_parser().parse_args(["simulate-pbx", *argv])
    with pytest.raises(ValueError, match=message):
        build_pbx(args)


# -- the non-call captures: login, queue administration, queue status --------------------------

ADMIN_KEYS = (
    "Response",
    "Message",
    "Event",
    "EventList",
    "ListItems",
    "Queue",
    "Interface",
    "Location",
    "MemberName",
    "Name",
    "Membership",
    "Paused",
    "PausedReason",
    "Device",
    "State",
    "Ping",
    "Status",
)


def admin_projection(messages: list[AmiMessage]) -> list[tuple[str, ...]]:
    return [tuple(f"{k}={m.get(k)}" for k in ADMIN_KEYS if m.get(k) is not None) for m in messages]


@pytest.mark.parametrize("name", ["login", "queue-member-admin", "queue-status-idle"])
async def test_simulator_answers_admin_actions_as_captured(pbx: SimulatedPbx, name: str) -> None:
    cap = load_transcript(TRANSCRIPTS_DIR / f"{name}.txt")
    reader, writer = await asyncio.open_connection("127.0.0.1", pbx.port)
    ami = RawAmi(reader, writer)
    if name != "login":
        await ami.send(Action="Login", ActionID="setup-login", Username="dialer", Secret="dialer-secret")
        await ami.read_until(lambda m: m.event == "FullyBooted")
    start = len(ami.messages())
    for entry in cap.sent_actions():
        action = entry.message
        assert isinstance(action, AmiMessage)
        await ami.send(*action.headers)
        aid = action.action_id
        if action.action in ("QueueStatus", "QueueSummary"):
            await ami.read_until(lambda m, a=aid: m.action_id == a and (m.event or "").endswith("Complete"))
        elif action.action == "Logoff":
            await ami.read_until(lambda m, a=aid: m.action_id == a)
        else:
            await ami.read_until(lambda m, a=aid: m.action_id == a)
            with contextlib.suppress(TimeoutError):  # member events follow the response
                await ami.read_until(lambda m: False, wait_s=0.05)
    await ami.close()
    expected = admin_projection(received(cap))
    actual = admin_projection(ami.messages()[start:])
    assert expected == actual


async def test_restart_sends_shutdown_refuses_then_boots_with_uptime_zero(pbx: SimulatedPbx) -> None:
    cap = load_transcript(TRANSCRIPTS_DIR / "asterisk-restart.txt")
    shutdown = next(m for m in received(cap) if m.event == "Shutdown")
    ami = await RawAmi.connect(pbx.port)
    await ami.read_until(lambda m: m.event == "FullyBooted")
    restart = asyncio.create_task(pbx.restart(down_s=0.2))
    got = await ami.read_until(lambda m: m.event == "Shutdown")
    assert (shutdown.get("Shutdown"), shutdown.get("Restart")) == (got.get("Shutdown"), got.get("Restart"))
    with pytest.raises(EOFError):
        await ami.read_until(lambda m: False)
    await asyncio.sleep(0.05)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", pbx.port)
    await restart
    again = await RawAmi.connect(pbx.port)
    booted = await again.read_until(lambda m: m.event == "FullyBooted")
    assert "0" == booted.get("Uptime")
    await again.close()


@pytest.mark.parametrize(
    ("number", "expected"),
    [("2005550001", Outcome.BUSY), ("5005550001", Outcome.INVALID_NUMBER), ("1005550001", Outcome.CONNECTED)],
)
async def test_pjsip_channel_is_one_channel_and_still_maps(
    pbx: SimulatedPbx, number: str, expected: Outcome
) -> None:
    ami = await RawAmi.connect(pbx.port)
    await ami.read_until(lambda m: m.event == "FullyBooted")
    await ami.send(
        Action="Originate",
        ActionID="dlr-P1",
        Channel=f"PJSIP/{number}@operator",
        Context="dialer-connect",
        Exten="s",
        Timeout="15000",
        Async="true",
        ChannelId="dlr-P1",
    )
    await ami.read_until(lambda m: m.event == "Hangup" and m.get("Uniqueid") == "dlr-P1", wait_s=5)
    await ami.close()
    machine = AttemptMachine("P1", action_id="dlr-P1", channel_id="dlr-P1", started_at_s=0.0)
    for i, m in enumerate(ami.messages()):
        machine.feed(m, float(i))
    assert machine.outcome is not None
    assert expected == machine.outcome.outcome
    names = {
        m.get("Channel") for m in ami.messages() if m.event == "Newchannel" and m.get("Linkedid") == "dlr-P1"
    }
    assert any(n.startswith("PJSIP/operator-") and ";" not in n for n in names if n)


# -- Local channel optimization (fact 11) ----------------------------------------------------

@pytest.mark.parametrize(
    ("channel", "agent", "agent_talk_s", "optimized"),
    [
        ("Local/+48500000001@dialer-out", "Local/agent2@sim-agents", None, True),  # the capture's case
        ("Local/+48500000001@dialer-out", "", None, True),  # through the queue
        ("Local/+48500000001@dialer-out", "Local/agent2@sim-agents", 3.0, True),  # agent hangs up first
        ("Local/+48500000001@dialer-out/n", "Local/agent2@sim-agents", None, False),  # /n prevents it
        ("Local/1005550011@dialer-out", "", None, False),  # sim-pstn 100 only Wait()s: no media
    ],
)
async def test_a_bridged_local_pair_with_media_is_optimised_and_the_call_goes_on(
    channel: str, agent: str, agent_talk_s: float | None, optimized: bool
) -> None:
    sim = SimulatedPbx(
        time_scale=TIME_SCALE,
        agents=TRANSCRIPT_AGENTS,
        population=_TALKING_PEOPLE,
        agent_talk_s=agent_talk_s,
        auth_fail_delay_s=0.05,
    )
    await sim.start()
    try:
        ami = await RawAmi.connect(sim.port)
        await ami.read_until(lambda m: m.event == "FullyBooted")
        variables = [("Variable", f"DIALER_AGENT={agent}")] if agent else []
        await ami.send(
            ("Action", "Originate"),
            ("ActionID", "dlr-O1"),
            ("Channel", channel),
            ("Context", "dialer-connect"),
            ("Exten", "s"),
            ("Timeout", "15000"),
            ("Async", "true"),
            ("ChannelId", "dlr-O1"),
            *variables,
        )
        await ami.read_until(lambda m: m.event == "Hangup" and m.get("Uniqueid") == "dlr-O1", wait_s=5)
        await calls_finished(sim)
        with contextlib.suppress(TimeoutError):
            await ami.read_until(lambda m: False, wait_s=20 * TIME_SCALE)
        await ami.close()
    finally:
        await sim.close()
    messages = ami.messages()
    machine = AttemptMachine("O1", action_id="dlr-O1", channel_id="dlr-O1", started_at_s=0.0)
    ended_at = [i for i, m in enumerate(messages) if machine.feed(m, float(i))]
    hangups = [i for i, m in enumerate(messages) if m.event == "Hangup"]
    one_hung = next(i for i in hangups if messages[i].get("Uniqueid") == "dlr-O1")

    assert optimized == any(m.event == "LocalOptimizationBegin" for m in messages)
    assert machine.outcome is not None and Outcome.CONNECTED == machine.outcome.outcome
    # the attempt ends with the call's last channel, which outlives our ;1 when optimised
    assert hangups[-1] == ended_at[-1]
    assert optimized == (one_hung < hangups[-1] - 1)
