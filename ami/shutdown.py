"""Calls cut by a PBX shutting down, told apart from abandons and failures (issue 17 item 4).

On ``core stop now`` / ``core restart now`` Asterisk first refuses new work (an AMI action gets
``Response: Error`` ``Message: Asterisk is shutting down``), then hangs up every channel, and
only then sends ``Event: Shutdown`` (``Shutdown: Cleanly|Uncleanly``, ``Restart: True|False``)
and closes the connection (asterisk.c: the event is published among the last cleanups, after
the channels are gone; transcripts' README fact 8 shows its end). So the calls it cuts end
*before* the engine's first sign of the shutdown: a person waiting in the queue looks like a
caller who hung up (an abandon), a ringing call like the far end letting go.

:class:`ShutdownWatch` is the client's memory of it. Its first sign (the event, or an action
refused "shutting down") marks the server as shutting down until the next login; every call
that ends meanwhile, other than one that reached an agent, ends as
:attr:`~ami.outcome.Outcome.PBX_SHUTDOWN`, and so do calls the restart took away (reported
lost after the reconnect). An ending that a shutdown could explain -- decided by a channel
hanging up (:attr:`~ami.outcome.AttemptMachine.ended_by_hangup`) -- is held for a short grace
(0.5 s by default, the time Asterisk needs from hanging up to its event); a sign within it
reclassifies the held endings, otherwise they go out as they were. Hang-ups decide few
endings (a person leaving the queue, our own hang-up of a waiting caller, a ring the far end
ended), so the delay costs a line for half a second on those only.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import structlog

from ami.outcome import AttemptMachine, Ended, Outcome

log = structlog.get_logger(__name__)

__all__ = ["DEFAULT_GRACE_S", "ShutdownWatch", "is_shutdown_refusal"]

DEFAULT_GRACE_S = 0.5


def is_shutdown_refusal(message: str | None) -> bool:
    """Whether an action's error message says the server is shutting down."""
    return "shutting down" in (message or "").lower()


def as_shutdown(update: Ended) -> Ended:
    """``update`` re-labelled as cut by the shutdown, unless the call had reached an agent."""
    if update.outcome.outcome is Outcome.CONNECTED:
        return update
    return Ended(dataclasses.replace(update.outcome, outcome=Outcome.PBX_SHUTDOWN))


class ShutdownWatch:
    """One server's shutdown state and the endings held for it (see the module docstring).

    Args:
        server: the server's name, for logs.
        deliver: hands an ending on to the client's listeners.
        grace_s: how long an ending decided by a hang-up waits for a shutdown sign.
    """

    def __init__(
        self, server: str, deliver: Callable[[Ended], None], *, grace_s: float = DEFAULT_GRACE_S
    ) -> None:
        self._server = server
        self._deliver = deliver
        self._grace_s = grace_s
        self._held: dict[str, tuple[Ended, asyncio.TimerHandle]] = {}
        self.shutting_down = False

    @property
    def held(self) -> int:
        """Endings waiting out the grace."""
        return len(self._held)

    def sign(self, why: str) -> bool:
        """A sign of shutdown; True if it is the first. Held endings go out as cut by it."""
        first = not self.shutting_down
        self.shutting_down = True
        if first:
            log.warning("ami_server_shutting_down", server=self._server, sign=why, held=len(self._held))
        self._release_all(as_shutdown)
        return first

    def booted(self) -> None:
        """Logged in again (a restarted server, or another one at the address): dialling may go on."""
        self.shutting_down = False

    def ending(self, machine: AttemptMachine | None, update: Ended) -> Ended | None:
        """The ending to deliver now (re-labelled during a shutdown), or None when it is held."""
        if self.shutting_down:
            return as_shutdown(update)
        if machine is None or not machine.ended_by_hangup or update.outcome.outcome is Outcome.CONNECTED:
            return update
        attempt_id = update.outcome.attempt_id
        timer = asyncio.get_running_loop().call_later(self._grace_s, self._release, attempt_id)
        self._held[attempt_id] = (update, timer)
        return None

    def flush(self) -> None:
        """Deliver every held ending now, as it is (the client is closing)."""
        self._release_all(lambda update: update)

    def _release(self, attempt_id: str) -> None:
        held = self._held.pop(attempt_id, None)
        if held is not None:
            self._deliver(as_shutdown(held[0]) if self.shutting_down else held[0])

    def _release_all(self, label: Callable[[Ended], Ended]) -> None:
        held, self._held = self._held, {}
        for update, timer in held.values():
            timer.cancel()
            self._deliver(label(update))
