"""One agent's state in a campaign: the states, the inputs, the transition table, the effects.

Theory of operation: an agent is logged out, idle (ready or paused), or busy with exactly one
call of the dialer: *reserved* (the dialer holds the agent for one call it is placing),
*offered* (preview / push-preview: a record is on the agent's screen, waiting for accept or
skip), *talking*, or in *wrap-up* (the call ended; the dialer waits for a disposition). The
state moves only through :data:`TRANSITIONS`, ``{(AgentState, AgentInput): AgentState}``,
applied by :func:`transition`; a missing entry raises :class:`IllegalAgentTransition`.

Requests that cannot be honoured at once in a busy state (logout, pause) are entries that keep
the state: the board records them as *pending* and, when the agent becomes ready again,
feeds the held input through the same table (``(READY, LOGOUT) -> LOGGED_OUT``). That is the
negotiated logout of Genesys Workspace ("Negocjowane wylogowanie", shared/seeds/003): the
call the dialer reserved the agent for is delivered (or fails) first.

Pure: no asyncio, no clock, no I/O. Effects are frozen dataclasses the runner performs.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

from ami.outcome import CONNECT_LIMIT_S
from dialer.errors import IllegalAgentTransition, ValidationError


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    PAUSED = "paused"
    RESERVED = "reserved"  # held by the dialer for one call it is placing
    OFFERED = "offered"  # preview / push-preview record shown, waiting for accept or skip
    TALKING = "talking"
    WRAP_UP = "wrap_up"  # call ended, waiting for the disposition


IDLE_STATES = frozenset({AgentState.READY, AgentState.PAUSED})
BUSY_STATES = frozenset({AgentState.RESERVED, AgentState.OFFERED, AgentState.TALKING, AgentState.WRAP_UP})


class AgentInput(enum.StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    RESERVE = "reserve"
    OFFER = "offer"
    REQUEST_RECORD = "request_record"  # preview: the agent asks for a record
    ACCEPT = "accept"
    SKIP = "skip"
    OFFER_TIMEOUT = "offer_timeout"
    CONNECT = "connect"  # the call reached the agent (AgentConnect / our AgentConnected)
    CALL_FAILED = "call_failed"  # the reserved call ended without reaching the agent
    CALL_ENDED = "call_ended"  # a call that reached the agent is over
    DISPOSITION = "disposition"
    DISPOSITION_TIMEOUT = "disposition_timeout"


class ReservationKind(enum.StrEnum):
    """Why the dialer holds an agent: the call type, kept for logs and the disposition."""

    PROGRESSIVE = "progressive"
    CALL_PROGRESSIVE = "call_progressive"  # an abandoned contact: redialled only with an agent held
    PREVIEW = "preview"  # the agent asked for the record
    PUSH_PREVIEW = "push_preview"  # the dialer pushed the record
    PERSONAL_CALLBACK = "personal_callback"
    CAMPAIGN_CALLBACK = "campaign_callback"
    QUEUE = "queue"  # predictive: the queue chose this agent for a call nobody reserved


_S, _I = AgentState, AgentInput


def _hold(state: AgentState, *inputs: AgentInput) -> dict[tuple[AgentState, AgentInput], AgentState]:
    return {(state, i): state for i in inputs}


# The transition table. Entries that keep a busy state (logout, pause, unpause) are the
# "held" requests the board turns into pending flags; duplicates a peer legitimately sends
# twice (AgentConnect and our AgentConnected; AgentComplete and our Ended) keep the state too.
TRANSITIONS: dict[tuple[AgentState, AgentInput], AgentState] = {
    (_S.LOGGED_OUT, _I.LOGIN): _S.READY,
    (_S.READY, _I.LOGOUT): _S.LOGGED_OUT,
    (_S.READY, _I.PAUSE): _S.PAUSED,
    (_S.READY, _I.UNPAUSE): _S.READY,
    (_S.READY, _I.RESERVE): _S.RESERVED,
    (_S.READY, _I.OFFER): _S.OFFERED,
    (_S.READY, _I.REQUEST_RECORD): _S.READY,
    # Predictive: the queue hands a live answer to a ready member nobody reserved.
    (_S.READY, _I.CONNECT): _S.TALKING,
    (_S.PAUSED, _I.LOGOUT): _S.LOGGED_OUT,
    (_S.PAUSED, _I.PAUSE): _S.PAUSED,
    (_S.PAUSED, _I.UNPAUSE): _S.READY,
    # A queue call can beat our QueuePause to Asterisk: the agent takes it, the pause is held.
    (_S.PAUSED, _I.CONNECT): _S.TALKING,
    **_hold(_S.RESERVED, _I.LOGOUT, _I.PAUSE, _I.UNPAUSE),
    (_S.RESERVED, _I.CONNECT): _S.TALKING,
    (_S.RESERVED, _I.CALL_FAILED): _S.READY,
    # Ended(CONNECTED) when the connect itself was missed: the agent did talk.
    (_S.RESERVED, _I.CALL_ENDED): _S.WRAP_UP,
    **_hold(_S.OFFERED, _I.LOGOUT, _I.PAUSE, _I.UNPAUSE),
    (_S.OFFERED, _I.ACCEPT): _S.RESERVED,
    (_S.OFFERED, _I.SKIP): _S.READY,
    # An agent who neither accepts nor skips is not at the desk: offering them more records
    # (or queue calls) would only lose time, so they are paused until they come back.
    (_S.OFFERED, _I.OFFER_TIMEOUT): _S.PAUSED,
    **_hold(_S.TALKING, _I.LOGOUT, _I.PAUSE, _I.UNPAUSE, _I.CONNECT),
    (_S.TALKING, _I.CALL_ENDED): _S.WRAP_UP,
    **_hold(_S.WRAP_UP, _I.LOGOUT, _I.PAUSE, _I.UNPAUSE, _I.CALL_ENDED),
    (_S.WRAP_UP, _I.DISPOSITION): _S.READY,
    (_S.WRAP_UP, _I.DISPOSITION_TIMEOUT): _S.READY,
}


def transition(agent_id: str, state: AgentState, event: AgentInput) -> AgentState:
    """The next state; raises :class:`IllegalAgentTransition` when the table has no entry."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalAgentTransition(agent_id, state, event) from None


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class AgentTimers:
    """The agent-side time limits of a campaign.

    Args:
        offer_timeout_s: how long a preview record waits for accept/skip. Our default; Genesys
            leaves it to the deployment.
        disposition_timeout_s: how long wrap-up waits for a disposition before the default one
            is applied (issue 5: "an agent who sets none within a configurable time gets a
            default"). Our default.
        ring_timeout_s: the Originate timeout; DESIGN.md: at least 15 s (Ofcom / TSR practice).
        connect_limit_s: a live answer must reach an agent within this (ami.outcome, 2 s).
    """

    offer_timeout_s: float = 30.0
    disposition_timeout_s: float = 120.0
    ring_timeout_s: float = 30.0
    connect_limit_s: float = float(CONNECT_LIMIT_S)

    def __post_init__(self) -> None:
        for name in ("offer_timeout_s", "disposition_timeout_s", "connect_limit_s"):
            if getattr(self, name) <= 0:
                raise ValidationError(name, "must be positive", getattr(self, name))
        if self.ring_timeout_s < 15:
            raise ValidationError("ring_timeout_s", "must be at least 15 s (DESIGN.md)", self.ring_timeout_s)

    @property
    def reserve_hold_s(self) -> float:
        """The longest a reserved call can take to be delivered or fail: ring + connect limit."""
        return self.ring_timeout_s + self.connect_limit_s


# --------------------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class StateChanged:
    """For logs and metrics: every state change, with the input that caused it."""

    agent_id: str
    old: AgentState
    new: AgentState
    cause: AgentInput
    at_s: float


@dataclass(frozen=True, slots=True)
class QueueAdd:
    agent_id: str
    queue: str
    interface: str
    member_name: str | None
    paused: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class QueuePause:
    agent_id: str
    queue: str
    interface: str
    paused: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class QueueRemove:
    agent_id: str
    queue: str
    interface: str


@dataclass(frozen=True, slots=True)
class LoggedIn:
    agent_id: str
    at_s: float


@dataclass(frozen=True, slots=True)
class LoggedOut:
    agent_id: str
    at_s: float
    reason: str
    requested_at: float | None  # when the logout was asked for (or the PBX removed the member)


@dataclass(frozen=True, slots=True)
class LogoutDeferred:
    """A logout is held for the agent's call (negotiated logout); ``deadline_at`` may be None."""

    agent_id: str
    waiting_for: AgentState
    deadline_at: float | None


@dataclass(frozen=True, slots=True)
class RecordRequested:
    """Preview: the agent asks for a record; the runner answers with :meth:`AgentBoard.offer`."""

    agent_id: str
    at_s: float


@dataclass(frozen=True, slots=True)
class PlaceCall:
    """Dial ``contact`` for the reserved ``agent_id`` (write the attempt first, then Originate)."""

    agent_id: str
    contact: Hashable
    kind: ReservationKind


@dataclass(frozen=True, slots=True)
class ReleaseContact:
    """Give a contact back to the hopper/store without an attempt (skipped, timed out, logout)."""

    contact: Hashable
    reason: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class RecordDisposition:
    """Write the agent's disposition. ``contact`` is None for a queue (predictive) call: the
    board never saw it; the runner finds it from ``attempt_id``."""

    agent_id: str
    attempt_id: str | None
    contact: Hashable | None
    disposition: object


# Why a call got the campaign's default status (the labels of dialer_default_dispositions_total,
# dialer.observability.metrics.DEFAULT_DISPOSITION_CAUSES).
DefaultDispositionCause = Literal["timeout", "queue_call", "no_agent"]


@dataclass(frozen=True, slots=True)
class ApplyDefaultDisposition:
    """The agent set no disposition in time: write the campaign's default for this call.

    ``contact`` is None for a queue (predictive) call, as in :class:`RecordDisposition`.
    ``cause``: why no agent's status, counted in ``dialer_default_dispositions_total``:
    ``timeout`` (the wrap-up's), ``queue_call`` (a queue call reached the agent in wrap-up:
    the agent's status was lost), ``no_agent`` (answered, and nobody on the board holds it).
    """

    agent_id: str
    attempt_id: str | None
    contact: Hashable | None
    cause: DefaultDispositionCause = "timeout"


@dataclass(frozen=True, slots=True)
class CallReachedAgent:
    """A call reached the agent, ``free_for_s`` after the agent last became ready.

    For the ``dialer_agent_free_to_connect_seconds`` histogram: the predictive dialer's job is
    to keep this short.
    """

    agent_id: str
    attempt_id: str | None
    free_for_s: float
    at_s: float


@dataclass(frozen=True, slots=True)
class PeerAnomaly:
    """A PBX update that does not fit what we know; the runner logs and counts it (STYLE 17)."""

    agent_id: str | None
    interface: str | None
    detail: str
    at_s: float


AgentEffect = (
    StateChanged
    | QueueAdd
    | QueuePause
    | QueueRemove
    | LoggedIn
    | LoggedOut
    | LogoutDeferred
    | RecordRequested
    | PlaceCall
    | ReleaseContact
    | RecordDisposition
    | ApplyDefaultDisposition
    | CallReachedAgent
    | PeerAnomaly
)

_E = TypeVar("_E")


def effects_of_type(effects: Iterable[AgentEffect], kind: type[_E]) -> list[_E]:
    """The effects of one type, in order (for the runner's dispatch and for tests)."""
    return [e for e in effects if isinstance(e, kind)]
