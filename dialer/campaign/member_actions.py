"""Queue actions per member, in order, off the runner's path: :class:`MemberActions`.

Theory of operation (issue 19 item 3). The board emits ``QueueAdd``/``QueuePause``/
``QueueRemove`` for a member as its agent changes state; awaiting each in the runner, one
after another, let one slow PBX response hold all dialling (2 s a response: 42 attempts in
180 s instead of ~320). Here each member's actions form a chain: an action starts once the
member's previous one was answered (AMI applies a session's actions in order, and the echo
bookkeeping of :mod:`dialer.agents.membership` expects them in the order the board emitted
them); chains of different members run at once, and nobody waits for them but whoever asks.

A chain can fall behind a board that changes its mind faster than the PBX answers (a
reservation released at once, e.g. its contact refused at dial time, then the agent
reserved again, twenty times a second). A hold (a pause with a ``dialer:`` reason) not yet
sent, followed by its release, is a pair that changes nothing on the PBX: both are dropped,
and so are their two expected echoes (:meth:`AgentBoard.forget_echoes`), so the chain never
grows longer than the member's real changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from ami.agent_events import MemberChange
from dialer.agents.membership import PAUSE_REASON_PREFIX
from dialer.agents.state import QueueAdd, QueuePause, QueueRemove

log = structlog.get_logger(__name__)

__all__ = ["MemberActions", "QueueAction"]

QueueAction = QueueAdd | QueuePause | QueueRemove


@dataclass(slots=True, eq=False)
class _Link:
    """One action in a member's chain."""

    action: QueueAction
    previous: _Link | None
    task: asyncio.Task[None] | None = None
    sent: bool = False
    done: bool = field(default=False)


class MemberActions:
    """Per-member chains of queue actions (see the module docstring).

    Args:
        send: performs one action on the PBX; it logs its own failures and never raises.
        forget_echoes: ``(interface, expected) -> bool``: drop the member's last expected
            echoes if they are ``expected`` (``(change, paused)`` pairs, oldest first).
    """

    def __init__(
        self,
        send: Callable[[QueueAction], Awaitable[None]],
        forget_echoes: Callable[[str, list[tuple[MemberChange, bool | None]]], bool],
    ) -> None:
        self._send = send
        self._forget_echoes = forget_echoes
        self._tails: dict[str, _Link] = {}  # interface -> its last action not yet answered

    @property
    def pending(self) -> int:
        """Members with an action not answered yet."""
        return len(self._tails)

    def tasks(self) -> set[asyncio.Task[None]]:
        """The last action of every member's chain (waiting for them waits for every action)."""
        return {link.task for link in self._tails.values() if link.task is not None}

    def submit(self, action: QueueAction) -> asyncio.Task[None] | None:
        """Chain ``action`` after the member's previous one; None when it cancelled a pending hold."""
        iface = action.interface
        tail = self._tails.get(iface)
        if tail is not None and self._cancels(tail, action):
            assert tail.task is not None
            tail.task.cancel()
            before = tail.previous
            if before is not None and not before.done:
                self._tails[iface] = before
            else:
                del self._tails[iface]
            return None
        link = _Link(action, tail)
        link.task = asyncio.ensure_future(self._run(link))
        self._tails[iface] = link

        def finished(_: asyncio.Task[None]) -> None:
            link.done = True
            if self._tails.get(iface) is link:
                del self._tails[iface]

        link.task.add_done_callback(finished)
        return link.task

    def _cancels(self, tail: _Link, action: QueueAction) -> bool:
        """Whether ``action`` releases the hold ``tail`` would set and has not sent yet."""
        held = tail.action
        if tail.sent or not isinstance(held, QueuePause) or not isinstance(action, QueuePause):
            return False
        if not (held.paused and (held.reason or "").startswith(PAUSE_REASON_PREFIX) and not action.paused):
            return False
        return self._forget_echoes(
            action.interface, [(MemberChange.PAUSE, True), (MemberChange.PAUSE, False)]
        )

    async def _run(self, link: _Link) -> None:
        before = link.previous
        if before is not None and before.task is not None:
            await asyncio.wait({before.task})  # in order; its failure was logged, not raised
        link.sent = True
        link.previous = None  # the chain behind is done: let it go
        await self._send(link.action)
