"""The simulated PBX as configured Asterisk: queues of queues.conf only, E.164 dispatch, checks.

What ``dialer asterisk check`` and the runner's queue gate rely on: the simulator answers like
Asterisk 22 for a queue that exists and one that does not (no action creates a queue), and it
dispatches the numbers the engine really dials (E.164, ``+48...``) the way
``asterisk-conf/extensions-sim.conf`` does.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ami.framing import AmiMessage
from ami.simulator.cli import build_pbx
from ami.simulator.population import convention_class
from ami.simulator.server import SimulatedPbx
from dialer.cli.main import build_parser
from tests.ami.test_simulator import RawAmi


def _list(ami: RawAmi, action_id: str) -> list[AmiMessage]:
    return [m for m in ami.messages() if m.action_id == action_id and m.event is not None]


async def test_queue_status_and_summary_list_a_known_queue_and_nothing_for_an_unknown_one(
    pbx: SimulatedPbx,
) -> None:
    ami = await RawAmi.connect(pbx.port)
    try:
        for action, row in (("QueueStatus", "QueueParams"), ("QueueSummary", "QueueSummary")):
            for queue, rows in (("campaign1", 1), ("no-such-queue", 0)):
                aid = f"{action}-{queue}"
                await ami.send(Action=action, ActionID=aid, Queue=queue)
                done = await ami.read_until(
                    lambda m, a=aid: m.action_id == a and m.get("EventList") == "Complete"
                )
                # fact 9: Success, then the rows; an unknown queue gets no row, not an error
                assert [m.get("Queue") for m in _list(ami, aid) if m.event == row] == ["campaign1"] * rows
                assert done.get("ListItems") == str(len(_list(ami, aid)) - 1)
    finally:
        await ami.close()


async def test_queue_admin_on_an_unknown_queue_is_refused_as_asterisk_does(pbx: SimulatedPbx) -> None:
    ami = await RawAmi.connect(pbx.port)
    try:
        await ami.send(Action="QueueAdd", ActionID="add", Queue="no-such-queue", Interface="PJSIP/1001")
        add = await ami.read_until(lambda m: m.action_id == "add")
        await ami.send(Action="QueueRemove", ActionID="rm", Queue="no-such-queue", Interface="PJSIP/1001")
        rm = await ami.read_until(lambda m: m.action_id == "rm")
        await ami.send(Action="QueueAdd", ActionID="noq", Interface="PJSIP/1001")
        noq = await ami.read_until(lambda m: m.action_id == "noq")
    finally:
        await ami.close()
    assert (add.response, add.get("Message")) == ("Error", "Unable to add interface to queue: No such queue")
    assert (rm.response, rm.get("Message")) == (
        "Error",
        "Unable to remove interface from queue: No such queue",
    )
    assert noq.response == "Error" and "not specified" in (noq.get("Message") or "")
    assert "no-such-queue" not in pbx.queues


async def test_a_call_sent_to_an_unknown_queue_leaves_queue_at_once_with_status_unknown(
    pbx: SimulatedPbx,
) -> None:
    ami = await RawAmi.connect(pbx.port)
    try:
        await ami.send(
            ("Variable", "DIALER_ATTEMPT_ID=77"),
            ("Variable", "DIALER_QUEUE=no-such-queue"),
            Action="Originate",
            ActionID="o1",
            Channel="Local/1005550001@sim-pstn",
            Context="dialer-connect",
            Exten="s",
            Priority="1",
            Timeout="15000",
            Async="true",
        )
        abandon = await ami.read_until(lambda m: m.get("UserEvent") == "DialerAbandon")
    finally:
        await ami.close()
    assert (abandon.get("Queue"), abandon.get("QueueStatus"), abandon.get("AttemptId")) == (
        "no-such-queue",
        "UNKNOWN",
        "77",
    )
    assert not [m for m in ami.messages() if m.event == "QueueCallerJoin"]


# ---------------------------------------------------------------------------------------
# E.164 dispatch: asterisk-conf/extensions-sim.conf and the simulator agree on every number

SIM_CONF = Path(__file__).resolve().parents[2] / "asterisk-conf" / "extensions-sim.conf"
# How many digits each pattern character admits (Asterisk: fewer is more specific).
_WIDTH = {"X": 10, "Z": 9, "N": 8, ".": 1000}


@functools.cache
def _contexts(text: str) -> dict[str, list[tuple[str, str]]]:
    """``[context]`` -> its ``exten => NAME,1,APP`` lines as (name, app) (comments dropped)."""
    out: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            out[current] = []
        elif line.startswith("exten =>"):
            name, prio, app = (p.strip() for p in line.removeprefix("exten =>").split(",", 2))
            if prio == "1":
                out[current].append((name, app))
    return out


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+"}
    return re.compile("".join(parts.get(c, re.escape(c)) for c in pattern[1:]) + r"\Z")


def dialplan_class(number: str) -> str | None:
    """The sim-pstn-class extension extensions-sim.conf runs for ``number`` (None: "i").

    Asterisk's rule for several matching patterns: the most specific wins, compared
    character by character (a literal before N, Z, X, and those before ".").
    """
    ctx = _contexts(SIM_CONF.read_text())
    matching = [
        (tuple(_WIDTH.get(c, 1) for c in name[1:]), name, app)
        for name, app in ctx["sim-pstn"]
        if name.startswith("_") and _pattern_regex(name).match(number)
    ]
    if not matching:
        return "no such extension"
    _, _, app = min(matching)
    target = re.fullmatch(r"Goto\(sim-pstn-class,([^,]+),1\)", app)
    assert target is not None, app
    exten = target[1].replace("${EXTEN:-3}", number[-3:])
    known = {name for name, _ in ctx["sim-pstn-class"]}
    assert "i" in known
    return exten if exten in known else None


@pytest.mark.parametrize(
    ("number", "cls"),
    [
        ("1005550001", "100"),  # the captures
        ("+1005550001", "100"),  # the engine's tests
        ("+48500002110", "110"),  # a valid E.164 number (the optimisation capture's)
        ("+48500000200", "200"),
        ("+48600000600", "600"),
        ("+442071838750", None),  # no class: unallocated on Asterisk, the population here
        ("+6001234567", "600"),
    ],
)
def test_sim_dialplan_and_simulator_give_a_number_the_same_class(number: str, cls: str | None) -> None:
    assert dialplan_class(number) == cls
    assert convention_class(number) == cls


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\+?[0-9]{2,15}", fullmatch=True))
def test_every_number_gets_the_same_class_from_the_dialplan_and_the_simulator(number: str) -> None:
    assert dialplan_class(number) == convention_class(number)


async def test_an_e164_number_is_dispatched_by_its_last_digits_and_600_loses_no_race(
    pbx: SimulatedPbx,
) -> None:
    """+48...200 is busy through dialer-out; +48...600 hangs up while the free agent still
    rings (0.5 s after answering against a 1 s ring: the class no longer races the agent)."""
    ami = await RawAmi.connect(pbx.port)
    try:
        for aid, number in (("busy", "+48500000200"), ("gives-up", "+48500000600")):
            await ami.send(
                ("Variable", f"DIALER_ATTEMPT_ID={aid}"),
                Action="Originate",
                ActionID=aid,
                ChannelId=f"dlr-{aid}",
                Channel=f"Local/{number}@dialer-out",
                Context="dialer-connect",
                Exten="s",
                Priority="1",
                Timeout="15000",
                Async="true",
            )
        busy = await ami.read_until(lambda m: m.event == "OriginateResponse" and m.action_id == "busy")
        left = await ami.read_until(lambda m: m.event == "QueueCallerAbandon")
        await ami.read_until(lambda m: m.event == "Hangup" and m.get("Uniqueid") == "dlr-gives-up")
    finally:
        await ami.close()
    assert (busy.get("Response"), busy.get("Reason")) == ("Failure", "5")
    assert left.get("Linkedid") == "dlr-gives-up"
    called = [m for m in ami.messages() if m.event == "AgentCalled" and m.get("Linkedid") == "dlr-gives-up"]
    assert called, "a free agent was rung"
    assert not [m for m in ami.messages() if m.event == "AgentConnect"]


def test_simulate_pbx_takes_the_queues_of_its_queues_conf() -> None:
    pbx = build_pbx(
        build_parser().parse_args(["simulate-pbx", "--queues", "sales, retention", "--queue", "vip"])
    )
    assert sorted(pbx.queues) == ["retention", "sales", "vip"]
    assert sorted(build_pbx(build_parser().parse_args(["simulate-pbx"])).queues) == [
        "campaign-empty",
        "campaign1",
    ]
