"""What a pacing policy sees (a snapshot of plain numbers) and what it answers.

The campaign runner builds a :class:`CampaignSnapshot` on every decision tick from its own
state; the simulator builds the very same object, so the decision code measured in the
benchmark is the code the engine runs. Times are float seconds supplied by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pacing.errors import InvalidParameter
from pacing.stats import CallOutcomeKind


class DialMode(Enum):
    PREVIEW = "preview"
    PUSH_PREVIEW = "push_preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


@dataclass(frozen=True, slots=True)
class CampaignSnapshot:
    """A campaign's live state at ``now_s``.

    Attributes:
        now_s: the caller's clock, seconds.
        ready_agents: logged-in agents free for a call and not reserved to one.
        talking_elapsed_s: for each agent in a conversation, seconds since it began.
        wrapping_elapsed_s: for each agent in wrap-up, seconds since it began.
        reserved_agents: agents held for a call already ringing for them.
        paused_agents: logged-in agents on pause (not counted as capacity).
        ringing_ages_s: for each unreserved call in progress and not yet answered, seconds
            since it was launched.
        reserved_ringing: calls in progress that have an agent reserved.
        customers_waiting: live answers waiting for an agent (within the connect limit).
        lines_free: lines (channels, trunk capacity) the campaign may still use now.
        progressive_contacts: "call progressive" contacts due (only dialled with an agent
            reserved).
        record_requests: preview mode: agents who asked for a record and have none.
        records_accepted: preview modes: agents who accepted their record; each needs its call.
        dials_for_s: seconds the campaign still dials (a shift's or a run's announced end);
            no answer comes after it, so no window may count on one to dilute its abandons
            (``None``: no end announced).
    """

    now_s: float
    ready_agents: int
    talking_elapsed_s: tuple[float, ...] = ()
    wrapping_elapsed_s: tuple[float, ...] = ()
    reserved_agents: int = 0
    paused_agents: int = 0
    ringing_ages_s: tuple[float, ...] = ()
    reserved_ringing: int = 0
    customers_waiting: int = 0
    lines_free: int = 1_000_000
    progressive_contacts: int = 0
    record_requests: int = 0
    records_accepted: int = 0
    dials_for_s: float | None = None

    def __post_init__(self) -> None:
        if self.dials_for_s is not None and not self.dials_for_s >= 0.0:
            raise InvalidParameter("dials_for_s", "must not be negative", self.dials_for_s)
        for name in ("ready_agents", "reserved_agents", "paused_agents", "reserved_ringing",
                     "customers_waiting", "lines_free", "progressive_contacts", "record_requests",
                     "records_accepted"):
            value = getattr(self, name)
            if value < 0:
                raise InvalidParameter(name, "must not be negative", value)

    @property
    def active_agents(self) -> int:
        """Agents working the campaign (ready, reserved, talking or wrapping)."""
        return (self.ready_agents + self.reserved_agents + len(self.talking_elapsed_s)
                + len(self.wrapping_elapsed_s))


@dataclass(frozen=True, slots=True)
class DialDecision:
    """What to do now.

    Attributes:
        launch: calls to originate now (never more than ``lines_free``).
        reserved: how many of them must each be reserved to one ready agent (progressive,
            preview, "call progressive" contacts); the runner reserves those agents.
        records_to_offer: preview modes: records to hand to agents now.
        dial_level: lines per active agent after this decision (exported as a metric).
        fallback: predictive is suspended (abandon rate at the cap, or not enough history).
        mode: the mode the decision was taken in (predictive reports progressive on fallback).
    """

    launch: int
    reserved: int = 0
    records_to_offer: int = 0
    dial_level: float = 0.0
    fallback: bool = False
    mode: DialMode = DialMode.PROGRESSIVE


@dataclass(frozen=True, slots=True)
class CallObservation:
    """A call's outcome as the runner learnt it.

    ``ring_s`` is seconds from launch to answer (answered calls) or to the end (others).
    ``reserved`` says whether an agent was reserved for it (its live answer cannot abandon).
    """

    t_s: float
    outcome: CallOutcomeKind
    ring_s: float
    reserved: bool = False

