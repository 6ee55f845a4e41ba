"""The simulated PBX as configured Asterisk: queues of queues.conf only, E.164 dispatch, checks.

What ``dialer asterisk check`` and the runner's queue gate rely on: the simulator answers like
Asterisk 22 for a queue that exists and one that does not (no action creates a queue), and it
dispatches the numbers the engine really dials (E.164, ``+48...``) the way
``asterisk-conf/extensions-sim.conf`` does.
"""

from __future__ import annotations

from ami.framing import AmiMessage
from ami.simulator.server import SimulatedPbx
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
