"""The engine's exception hierarchy, rooted in :class:`DialerError`.

Two families: :class:`ValidationError` is the user's input being wrong (a CSV row, a
command-line value, a schedule definition) and always names the field, the value and the
reason; :class:`StoreError` is about the database. Add new errors here, under one of them.
"""

from __future__ import annotations

from typing import Any


class DialerError(Exception):
    """Root of every error the engine raises on purpose."""


class ValidationError(DialerError):
    """User input is wrong. ``field`` names what, ``reason`` says why."""

    def __init__(self, field: str, reason: str, value: object = None) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {reason}{shown}")

    def __reduce__(self) -> tuple[object, ...]:
        # pickled as its fields (a CSV parsed in a child process sends its error back): the
        # default would call ``type(self)(message)``, which this signature refuses
        return (type(self), (self.field, self.reason, self.value))


class ScheduleError(ValidationError):
    """A schedule definition is inconsistent (e.g. a window and a run-at time together)."""


class InUse(ValidationError):
    """The object is still referenced (a campaign with attempts, a schedule campaigns dial in):
    removing or changing it would lose or break what refers to it; nothing was changed."""


class InvalidNumber(ValidationError):
    """A phone number cannot be parsed or is not a valid number for its region."""


class CsvFormatError(ValidationError):
    """The CSV file as a whole is unusable (no header, no phone column)."""


class StoreError(DialerError):
    """A database operation failed or was refused."""


class DatabaseUnreachable(StoreError):
    """The database server did not answer (down, restarting, refusing connections for now).

    Worth waiting for, unlike a wrong password or a missing database: ``dialer run`` retries it
    as it retries an AMI server.
    """


class NotFound(StoreError):
    """A named object (campaign, schedule, status, agent) does not exist.

    Printed like a :class:`ValidationError`, ``KIND: not found (got NAME)``: the user named it.
    """

    def __init__(self, kind: str, name: object) -> None:
        self.kind = kind
        self.name = name
        self.field = kind
        self.reason = "not found"
        self.value = name
        super().__init__(f"{kind}: not found (got {name!r})")


class LeaseLost(StoreError):
    """The engine no longer holds the lease it acts on (it expired or another engine took it)."""


class OwnershipLost(LeaseLost):
    """Another engine took the campaign over (a higher fencing token): this engine's write for
    it was refused, and its runner must stop (issue 15). A :class:`LeaseLost`, so the dial path
    gives the contact back as it does for any lease it no longer holds."""


class AttemptClosed(StoreError):
    """An attempt was closed twice; the first outcome stands."""


class TransferRefused(ValidationError):
    """A contact transfer breaks a qualifier rule (seed 001); nothing was moved."""


class SlotUnavailable(ValidationError):
    """A callback slot is closed, full, past, or not a slot of the campaign's grid."""


class RateLimited(ValidationError):
    """Too many requests of one kind (web callback requests per number or per address an hour)."""


class ImportAborted(StoreError):
    """A contact import stopped mid-file; batches before ``committed_through_line`` are kept."""

    def __init__(self, message: str, committed_through_line: int, imported: int) -> None:
        self.committed_through_line = committed_through_line
        self.imported = imported
        super().__init__(message)


class AgentError(DialerError):
    """The agent interface was misused (our fault, never the PBX's)."""


class UnknownAgent(AgentError):
    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        super().__init__(f"agent {agent_id!r} is not on this board")


class IllegalAgentTransition(AgentError):
    """No entry for ``(state, input)`` in the agent state table."""

    def __init__(self, agent_id: str, state: Any, event: Any) -> None:
        self.agent_id = agent_id
        self.state = state
        self.event = event
        super().__init__(f"agent {agent_id!r}: {event.value} is not allowed while {state.value}")


class PbxUnavailable(DialerError):
    """The PBX port did not place a call: down, at its channel limit, or the Originate was refused."""
