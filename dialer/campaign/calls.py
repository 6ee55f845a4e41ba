"""The calls in flight of one campaign: :class:`InFlightCall` rows in a :class:`CallTable`.

The table is the state the runner's collaborators share: the dial path adds a call once its
attempt row is written, the outcome path removes it when the PBX reports the end, the
runner reads it for pacing. It also remembers, per attempt, the answered contacts still
waiting for an agent's disposition (their leases are renewed with the store's answered hold).
Calls adopted after a restart are ordinary rows: the PBX reports their progress again
(``PbxPort.adopt_attempts``).

Plain bookkeeping: no I/O, no clock. Iteration follows insertion order (the order calls
were placed), which the pacing snapshot relies on for reproducible runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dialer.model import LeasedContact

__all__ = ["CallTable", "InFlightCall"]


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


class CallTable:
    """The calls in flight, by attempt id, and the answers waiting for a disposition."""

    def __init__(self) -> None:
        self._calls: dict[str, InFlightCall] = {}
        self._answered: dict[str, int] = {}  # attempt id -> contact id, until the disposition

    def add(self, call: InFlightCall) -> None:
        """Track ``call`` (a new attempt id; an existing one is replaced)."""
        self._calls[call.attempt_id] = call

    def get(self, attempt_id: str) -> InFlightCall | None:
        return self._calls.get(attempt_id)

    def pop(self, attempt_id: str) -> InFlightCall | None:
        """Stop tracking the call; None if it was not tracked."""
        return self._calls.pop(attempt_id, None)

    def __contains__(self, attempt_id: object) -> bool:
        return attempt_id in self._calls

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[InFlightCall]:
        return iter(self._calls.values())

    def ringing_ages_s(self, now: float) -> list[float]:
        """How long each unreserved call not yet answered has been ringing, in placing order."""
        return [
            now - c.launched_at for c in self._calls.values() if c.agent is None and c.answered_at is None
        ]

    def reserved_ringing(self) -> int:
        """Calls with an agent reserved that have not reached the agent yet."""
        return sum(1 for c in self._calls.values() if c.agent is not None and c.connected_at is None)

    def customers_waiting(self) -> int:
        """Unreserved live answers not yet connected to an agent (the queue's callers)."""
        return sum(
            1
            for c in self._calls.values()
            if c.agent is None and c.answered_at is not None and c.connected_at is None
        )

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
