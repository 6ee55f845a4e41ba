"""The runner's two ports: the PBX it dials through and the store it leases from.

Theory of operation (DESIGN.md "one engine, two clocks"): :class:`~dialer.campaign.runner.CampaignRunner`
never imports AMI or asyncpg. It talks to a :class:`PbxPort` (production:
:class:`dialer.pbx.ami_pbx.AmiPbx` over an ``ami.pool.AmiPool``; benchmarks: a virtual-time
population) and a :class:`ContactStore` (production: :class:`dialer.store.store.Store`; benchmarks:
an in-memory store). Both are structural protocols, so an implementation needs no base class.

What flows back from the PBX arrives through :class:`PbxListener`, synchronously and in
arrival order (STYLE rule 7): attempt updates of ``ami.outcome`` (``Answered``,
``AmdDetected``, ``AgentConnected``, ``Ended``), agent updates of ``ami.agent_events``, and
connection changes. Listeners must not block: the runner only queues what it hears.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from dialer.errors import DialerError, PbxUnavailable
from dialer.model import (
    Agent,
    AnswerBucket,
    AppliedOutcome,
    Attempt,
    AttemptResult,
    Callback,
    CallbackKind,
    Campaign,
    DialRefusal,
    LeasedContact,
    PastCall,
)
from dialer.schedules.schedule import Schedule

__all__ = ["ContactStore", "OriginateRequest", "PbxListener", "PbxPort", "PbxUnavailable"]


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """One call to place. ``attempt_id`` is the store's attempt id as text (the channel tag).

    ``agent_interface`` set: the call is for that reserved agent (progressive, preview,
    callbacks, "call progressive"); None: the campaign's queue picks the agent (predictive).
    """

    attempt_id: str
    number: str
    campaign: str
    queue: str
    caller_id: str
    ring_timeout_s: float
    amd: bool = False
    agent_interface: str | None = None
    # The connect limit handed to the dialplan (DIALER_QUEUE_TIMEOUT; DESIGN.md: 2 s). A
    # time-scaled simulator scales it too: pass 2 / time_scale there so it stays 2 real seconds.
    queue_timeout_s: float = 2.0
    # What the dialplan does with a machine (DIALER_AMD_ACTION): hangup, message or agent, and
    # the sound a message plays (DIALER_AMD_MESSAGE).
    amd_action: str = "hangup"
    amd_message: str = ""
    # The campaign's servers or server groups (``Campaign.servers``); empty: any server.
    servers: tuple[str, ...] = ()


@runtime_checkable
class PbxListener(Protocol):
    """What a PBX port reports; called synchronously, in order, never awaited."""

    def on_attempt(self, update: Any) -> None:
        """An ``ami.outcome.AttemptUpdate`` (Answered, AmdDetected, AgentConnected, Ended)."""
        ...

    def on_agent(self, update: Any) -> None:
        """An ``ami.agent_events.AgentUpdate`` (queue member and agent call events)."""
        ...

    def on_connection(self, up: bool) -> None:
        """The port can (True) or cannot (False) place calls now."""
        ...


class PbxPort(Protocol):
    """Where calls are placed and queue members managed.

    ``connected`` False pauses launching on this port (issue 5 item 5); attempts in flight
    still end through ``on_attempt`` (tracked, or ``lost`` after the port gives up on them).
    """

    @property
    def connected(self) -> bool: ...

    def lines_free(self, servers: tuple[str, ...] = ()) -> int:
        """Channels the port can still take now on ``servers`` (names or groups; empty: any),
        0 when they are disconnected or full."""
        ...

    def reaches(self, servers: tuple[str, ...] = (), interface: str | None = None) -> bool:
        """Whether a server a call may go to is connected: one of ``servers`` (empty: any), or
        for a call to the agent on ``interface`` with a home server (:meth:`home`), that one."""
        ...

    def home(self, interface: str, server: str) -> None:
        """The agent on ``interface`` is registered on ``server`` ("": on any server): its queue
        membership and the calls placed for it go through that server only."""
        ...

    async def originate(self, call: OriginateRequest) -> None:
        """Place a call; its progress arrives through the listeners.

        Raises:
            PbxUnavailable: the call was not placed (down, full, refused). An Originate whose
                response was lost in a dropped connection is *not* refused: it is tracked
                and ends like any attempt in flight.
        """
        ...

    async def hangup(self, attempt_id: str) -> None: ...

    async def queue_add(self, queue: str, interface: str, *, member_name: str, paused: bool) -> None: ...

    async def queue_remove(self, queue: str, interface: str) -> None: ...

    async def queue_pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None: ...

    async def queue_exists(self, queue: str) -> bool | None:
        """Whether the PBX has ``queue`` (every server calls may go to); None when it cannot tell."""
        ...

    async def queue_members(self, queue: str) -> set[str] | None:
        """Interfaces that are members of ``queue`` on every connected server; None when unknown."""
        ...

    async def adopt_attempts(self, ages_s: Mapping[str, float]) -> set[str] | None:
        """Follow calls placed before (id -> age in seconds) that are still up; their ids.

        From then on their progress arrives through ``on_attempt`` like any call placed
        here (``Answered``/``AgentConnected`` as their channels show, in time ``Ended``).
        None when the PBX could not be asked (nothing adopted).
        """
        ...

    def release_attempts(self, attempt_ids: Iterable[str]) -> dict[str, list[str]]:
        """Stop following calls left to another engine (no ``Ended``); their channel ids."""
        ...

    def subscribe(self, listener: PbxListener) -> None: ...


class ContactStore(Protocol):
    """The part of :class:`dialer.store.store.Store` the runner and the engine use (Store satisfies it)."""

    async def get_campaign(self, name: str) -> Campaign: ...

    async def list_campaigns(self) -> list[Campaign]: ...

    async def get_schedule(self, name: str) -> Schedule: ...

    async def lease_contacts(
        self,
        campaign: str | int,
        *,
        at: dt.datetime,
        limit: int,
        owner: str,
        ttl_s: float = 120.0,
        agent_reserved: bool = False,
        agent_ids: Sequence[int] | None = None,
        check_schedule: bool = True,
    ) -> list[LeasedContact]: ...

    async def renew_leases(
        self, owner: str, contact_ids: Sequence[int], *, at: dt.datetime, ttl_s: float
    ) -> list[int]: ...

    async def release_leases(self, owner: str, contact_ids: Sequence[int]) -> int: ...

    async def reclaim_expired_leases(self, at: dt.datetime) -> int: ...

    async def open_attempt(
        self, lease: LeasedContact, *, at: dt.datetime, engine_id: str | None = None
    ) -> int: ...

    async def open_checked_attempt(
        self, lease: LeasedContact, *, at: dt.datetime, agent_reserved: bool, engine_id: str | None = None
    ) -> int | DialRefusal:
        """The dial-time checks and, when none refuses, the attempt row: its id, or the refusal."""
        ...

    async def open_attempts(self, engine_id: str | None = None) -> list[Attempt]: ...

    async def hand_over_attempts(
        self, engine_id: str, channels: Mapping[int, Sequence[str]], *, at: dt.datetime
    ) -> int: ...

    async def adopt_handed_over(self, engine_id: str) -> int: ...

    async def release_own_leases(self, engine_id: str, keep: Sequence[int]) -> int: ...

    async def close_attempt(self, attempt_id: int, result: AttemptResult) -> AppliedOutcome: ...

    async def close_attempts(
        self, closes: Sequence[tuple[int, AttemptResult]]
    ) -> list[AppliedOutcome | DialerError]:
        """Close the attempts that queued up, as :meth:`close_attempt` each: its outcome or its error."""
        ...

    async def awaiting_disposition(self, engine_id: str) -> list[Attempt]: ...

    async def convert_to_campaign_callback(self, contact_id: int) -> bool: ...

    async def apply_missed_callbacks(self, campaign_id: int, at: dt.datetime) -> int:
        """The campaign's missed-callback rule for callbacks whose window passed; how many."""
        ...

    async def set_disposition(
        self,
        contact_id: int,
        status: str,
        *,
        at: dt.datetime,
        agent_id: int | None = None,
        not_before: dt.datetime | None = None,
        attempt_id: int | None = None,
        keep_lease: bool = False,
    ) -> None: ...

    async def recheck_before_dial(
        self, lease: LeasedContact, *, at: dt.datetime, agent_reserved: bool
    ) -> DialRefusal | None:
        """The lease's rules again, just before the Originate: the first that refuses, or None."""
        ...

    async def schedule_callback(
        self,
        contact_id: int,
        *,
        due_at: dt.datetime,
        kind: CallbackKind = CallbackKind.CAMPAIGN,
        agent_id: int | None = None,
        window_end_at: dt.datetime | None = None,
        phone_position: int | None = None,
        new_phone: str | None = None,
        new_phone_window: tuple[dt.time, dt.time] | None = None,
        new_phone_kind: str | None = None,
        slot_id: int | None = None,
        source: str = "agent",
        actor: str | None = None,
        at: dt.datetime | None = None,
        release_lease: bool = False,
    ) -> Callback: ...

    async def answer_buckets(
        self, campaign_id: int, spans: Sequence[tuple[float, dt.datetime]], *, exclude: Sequence[int] = ()
    ) -> list[AnswerBucket]:
        """The campaign's stored live answers, abandons and machine verdicts per bucket."""
        ...

    async def recent_calls(
        self, campaign_id: int, *, since: dt.datetime, until: dt.datetime, limit: int
    ) -> list[PastCall]:
        """The campaign's latest closed calls (for the pacer's warm start), newest first."""
        ...

    async def record_occupancy(
        self, campaign_id: int, minutes: Sequence[tuple[dt.datetime, float, float]]
    ) -> None:
        """Add (minute, logged-in agent-seconds, talking agent-seconds) to the campaign's agent time."""
        ...

    async def get_agent(self, name: str) -> Agent: ...
