"""The calls in flight of one campaign: :class:`InFlightCall` rows in a :class:`CallTable`.

The table is the state the runner's collaborators share: the dial path adds a call once its
attempt row is written, the outcome path removes it when the PBX reports the end, the
runner reads it for pacing. It also remembers, per attempt, the answered contacts still
waiting for an agent's disposition (their leases are renewed with the store's answered hold).
Calls adopted after a restart are ordinary rows: the PBX reports their progress again
(``PbxPort.adopt_attempts``).

Plain bookkeeping: no I/O, no clock. Iteration follows insertion order (the order calls
were placed), which the pacing snapshot relies on for reproducible runs.

Kept current, not counted (issue 18 item 2): the decision reads how many calls ring with an
agent reserved, how many live answers wait in the queue, and the ringing calls' launch times,
on every pass. The table files each call into one of those classes when it is added and again
whenever a field the class comes from changes (:class:`InFlightCall` tells its table from
``__setattr__``), so those reads cost nothing per call in progress (the ringing ages are one
subtraction per unreserved ringing call, the tuple the pacing policy takes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from dialer.model import LeasedContact

__all__ = ["CallTable", "InFlightCall"]

# The InFlightCall fields a call's class (and its ringing age) come from.
_FILED_FIELDS = frozenset({"agent", "launched_at", "answered_at", "connected_at"})


class _Class(Enum):
    RINGING = "ringing"  # no agent reserved, not answered: the policy's ringing ages
    WAITING = "waiting"  # no agent reserved, answered, not yet with an agent: the queue's callers
    RESERVED_RINGING = "reserved_ringing"  # an agent reserved, not yet connected to it
    OTHER = "other"


def _class_of(call: InFlightCall) -> _Class:
    if call.agent is None:
        if call.answered_at is None:
            return _Class.RINGING
        return _Class.WAITING if call.connected_at is None else _Class.OTHER
    return _Class.RESERVED_RINGING if call.connected_at is None else _Class.OTHER


@dataclass(slots=True)
class InFlightCall:
    """One call from its attempt row until the PBX reports its end.

    Attributes:
        attempt_id: the attempt row's id (the PBX knows the call by it).
        lease: the contact dialled.
        agent: the board agent id of the agent reserved for it; None: a queue call.
        launched_at: when the attempt row was written (runner clock).
        answered_at, connected_at: when the PBX reported the answer and the agent connect.
    """

    attempt_id: str
    lease: LeasedContact
    agent: str | None
    launched_at: float
    answered_at: float | None = None
    connected_at: float | None = None
    table: CallTable | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in _FILED_FIELDS:
            try:
                table = self.table
            except AttributeError:  # still in __init__: filed when added to a table
                return
            if table is not None:
                table.refile(self)


class CallTable:
    """The calls in flight, by attempt id, and the answers waiting for a disposition."""

    def __init__(self) -> None:
        self._calls: dict[str, InFlightCall] = {}
        self._answered: dict[str, int] = {}  # attempt id -> contact id, until the disposition
        self._filed: dict[str, _Class] = {}  # attempt id -> the class it is counted in
        self._counts: dict[_Class, int] = dict.fromkeys(_Class, 0)
        self._ringing: dict[str, float] = {}  # RINGING calls' launch times, in placing order

    def add(self, call: InFlightCall) -> None:
        """Track ``call`` (a new attempt id; an existing one is replaced)."""
        old = self._calls.get(call.attempt_id)
        if old is not None and old is not call:
            old.table = None
        self._calls[call.attempt_id] = call
        call.table = self
        self.refile(call, placed=old is None)

    def get(self, attempt_id: str) -> InFlightCall | None:
        return self._calls.get(attempt_id)

    def pop(self, attempt_id: str) -> InFlightCall | None:
        """Stop tracking the call; None if it was not tracked."""
        call = self._calls.pop(attempt_id, None)
        if call is not None:
            call.table = None
            self._counts[self._filed.pop(attempt_id)] -= 1
            self._ringing.pop(attempt_id, None)
        return call

    def refile(self, call: InFlightCall, *, placed: bool = False) -> None:
        """Count ``call`` in its class again after a change (``placed``: just added, the last in order)."""
        aid = call.attempt_id
        if self._calls.get(aid) is not call:
            return  # no longer ours (popped or replaced)
        new = _class_of(call)
        old = self._filed.get(aid)
        if old is not new:
            self._filed[aid] = new
            if old is not None:
                self._counts[old] -= 1
            self._counts[new] += 1
            if old is _Class.RINGING:
                del self._ringing[aid]
            if new is _Class.RINGING and not placed:
                # Ringing again (an agent let go): its place is where the call was placed.
                filed = self._filed
                self._ringing = {
                    c.attempt_id: c.launched_at
                    for c in self._calls.values()
                    if filed[c.attempt_id] is _Class.RINGING
                }
                return
        if new is _Class.RINGING:
            self._ringing[aid] = call.launched_at

    def __contains__(self, attempt_id: object) -> bool:
        return attempt_id in self._calls

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[InFlightCall]:
        return iter(self._calls.values())

    def ringing_ages_s(self, now: float) -> list[float]:
        """How long each unreserved call not yet answered has been ringing, in placing order."""
        return [now - t for t in self._ringing.values()]

    def reserved_ringing(self) -> int:
        """Calls with an agent reserved that have not reached the agent yet."""
        return self._counts[_Class.RESERVED_RINGING]

    def customers_waiting(self) -> int:
        """Unreserved live answers not yet connected to an agent (the queue's callers)."""
        return self._counts[_Class.WAITING]

    # ------------------------------------------------------------ answers awaiting a disposition

    def await_disposition(self, attempt_id: str, contact_id: int) -> None:
        """``attempt_id`` reached an agent: its contact waits for the agent's disposition."""
        self._answered[attempt_id] = contact_id

    def disposition_done(self, attempt_id: str) -> int | None:
        """The disposition of ``attempt_id`` came: forget it; its contact id, or None."""
        return self._answered.pop(attempt_id, None)

    def awaiting_disposition(self) -> set[int]:
        """The contacts whose answered call waits for a disposition."""
        return set(self._answered.values())
