"""Queue actions per member: in order, members at once, a hold released before it was sent dropped."""

from __future__ import annotations

import asyncio

from ami.agent_events import MemberChange
from dialer.agents.state import QueuePause
from dialer.campaign.member_actions import MemberActions, QueueAction


class SlowPbx:
    """Answers each action only when the test says so; records what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []
        self.answer: dict[str, asyncio.Event] = {}

    async def send(self, action: QueueAction) -> None:
        assert isinstance(action, QueuePause)
        self.sent.append((action.interface, action.paused))
        gate = self.answer.setdefault(action.interface, asyncio.Event())
        await gate.wait()
        gate.clear()


def pause(iface: str, paused: bool, reason: str | None = None) -> QueuePause:
    return QueuePause("a-" + iface, "q", iface, paused, reason)


async def turn() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_members_actions_wait_for_each_other_and_others_go_at_once() -> None:
    pbx = SlowPbx()
    actions = MemberActions(pbx.send, lambda iface, expected: False)
    actions.submit(pause("A", True, "lunch"))
    actions.submit(pause("A", False))
    actions.submit(pause("B", True, "lunch"))
    await turn()
    assert pbx.sent == [("A", True), ("B", True)]  # A's second waits for A's first answer
    assert actions.pending == 2
    pbx.answer["A"].set()
    await turn()
    assert pbx.sent[-1] == ("A", False)
    pbx.answer["A"].set()
    pbx.answer["B"].set()
    await asyncio.wait(actions.tasks())
    await turn()
    assert actions.pending == 0


async def test_a_hold_released_before_it_was_sent_is_dropped_with_its_echoes() -> None:
    pbx = SlowPbx()
    asked: list[list[tuple[MemberChange, bool | None]]] = []

    def forget(iface: str, expected: list[tuple[MemberChange, bool | None]]) -> bool:
        asked.append(expected)
        return True

    actions = MemberActions(pbx.send, forget)
    actions.submit(pause("A", False))  # sent at once, not answered yet
    for _ in range(20):  # reserved and released again and again behind it
        assert actions.submit(pause("A", True, "dialer:reserved")) is not None
        assert actions.submit(pause("A", False)) is None
    await turn()
    assert pbx.sent == [("A", False)]
    assert len(asked) == 20 and asked[0] == [(MemberChange.PAUSE, True), (MemberChange.PAUSE, False)]
    pbx.answer["A"].set()
    await turn()
    assert pbx.sent == [("A", False)] and actions.pending == 0
    # an agent's own pause is never dropped this way: it is not the dialer's hold
    actions.submit(pause("A", True, "dialer:reserved"))  # sent at once: nothing ahead
    actions.submit(pause("A", True, "lunch"))
    assert actions.submit(pause("A", False)) is not None
    while actions.pending:
        pbx.answer["A"].set()
        await turn()
    assert pbx.sent[1:] == [("A", True), ("A", True), ("A", False)]
