"""A campaign runner's knobs and reports: :class:`RunnerSettings`, :class:`Disposition`, :class:`RunnerStats`.

They live apart from :mod:`dialer.campaign.runner` because every collaborator of the runner
(dialling, the outcome writer, agent effects, housekeeping, the agent desk) and every caller
(the engine, the composition root, the demo, the benchmarks) needs them, while none of them
needs the runner itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dialer.agents.callback_routing import DEFAULT_GRACE_S
from dialer.campaign.memory import MemorySettings
from dialer.errors import ValidationError
from dialer.model import ANSWERED_HOLD_S, CallbackKind

__all__ = ["Disposition", "RunnerSettings", "RunnerStats"]


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """A runner's knobs. Defaults are ours unless a comment cites a source.

    Raises:
        ValidationError: a value out of range, naming the field.

    Args:
        tick_s: the longest a runner goes without a decision (events decide sooner).
        hopper_low, hopper_high: refill below ``low``, up to ``high`` waiting contacts.
        lease_ttl_s: a lease's life; renewed every ``lease_renew_s`` (well inside it).
        disposition_timeout_s: wrap-up time before the default disposition (issue 5).
        offer_timeout_s: preview: how long a record waits for accept or skip.
        callback_grace_s: a personal callback whose agent is away waits this long, then
            goes to any agent (issue 5 "a configurable grace").
        drain_timeout_s: the default wait for calls in progress when draining.
        amd: ask the dialplan for answering-machine detection on every call.
        queue_timeout_s: the connect limit handed to the dialplan (DESIGN.md: 2 s). Against a
            time-scaled simulator use ``2 / time_scale`` so that it stays 2 real seconds, the
            limit the pacing policy plans with.
        max_pending_writes: store writes kept in memory while the database is down; past it,
            launching stays paused until they are written (each open call adds at most two).
        db_retry_initial_s, db_retry_max_s: backoff of store retries while it is down.
        default_disposition: the status for an agent who sets none, over the campaign's
            default disposition (tests and benchmarks; ``dialer run`` leaves it None).
        max_launch_per_tick: a bound on calls started by one decision (keeps latency flat).
        max_concurrent_writes: store writes (closes, dispositions, releases) in flight at once,
            never two of one contact; keep it under the store's pool size.
        write_linger_s: how long a close that finds no batch to join waits for others to
            join it (issue 18: fewer statements per attempt at a steady rate; 0: it starts at
            once, batched only when closes queue up). ``dialer run`` sets its ``[engine]`` value.
        memory: how the campaign's abandon windows and the pacer's statistics are restored
            from the store and kept current (:mod:`dialer.campaign.memory`).
        queue_recheck_s: while the campaign's queue is missing on the PBX (nothing is dialled),
            how often to ask again (:mod:`dialer.campaign.queue_gate`).
        missed_callback_check_s: how often callbacks whose window passed get the campaign's
            missed-callback rule (issue 13).
        reread_s: how often the runner reads its campaign's state and schedule again (a
            dial-time refusal reads them at once). A simulation whose campaign never changes
            sets it long: on a virtual clock every read is a round trip on the critical path.
    """

    tick_s: float = 1.0
    hopper_low: int = 20
    hopper_high: int = 100
    lease_ttl_s: float = 120.0
    lease_renew_s: float = 30.0
    disposition_timeout_s: float = 120.0
    offer_timeout_s: float = 30.0
    callback_grace_s: float = DEFAULT_GRACE_S
    drain_timeout_s: float = 30.0
    amd: bool = False
    queue_timeout_s: float = 2.0
    max_pending_writes: int = 10_000
    db_retry_initial_s: float = 0.5
    db_retry_max_s: float = 10.0
    default_disposition: str | None = None
    max_launch_per_tick: int = 200
    max_concurrent_writes: int = 4
    write_linger_s: float = 0.0
    memory: MemorySettings = field(default_factory=MemorySettings)
    queue_recheck_s: float = 30.0
    missed_callback_check_s: float = 15.0
    reread_s: float = 5.0

    def __post_init__(self) -> None:
        if self.hopper_low < 0:
            raise ValidationError("hopper_low", "must not be negative", self.hopper_low)
        if self.hopper_high < max(1, self.hopper_low):
            raise ValidationError(
                "hopper_high", "must be at least 1 and at least hopper_low", self.hopper_high
            )
        for name in (
            "tick_s", "lease_ttl_s", "lease_renew_s", "disposition_timeout_s", "offer_timeout_s", "reread_s"
        ):
            if getattr(self, name) <= 0:
                raise ValidationError(name, "must be positive", getattr(self, name))
        if self.disposition_timeout_s > ANSWERED_HOLD_S:
            # the store holds an answered contact this long between renewals: no wrap-up may outlast it
            raise ValidationError(
                "disposition_timeout_s", f"must be at most {ANSWERED_HOLD_S} s (the answered hold)",
                self.disposition_timeout_s,
            )
        if self.lease_renew_s >= self.lease_ttl_s:
            raise ValidationError("lease_renew_s", "must be shorter than lease_ttl_s", self.lease_renew_s)
        if self.max_concurrent_writes < 1:
            raise ValidationError("max_concurrent_writes", "must be at least 1", self.max_concurrent_writes)
        if self.write_linger_s < 0:
            raise ValidationError("write_linger_s", "must not be negative", self.write_linger_s)
        if self.callback_grace_s < 0:
            raise ValidationError("callback_grace_s", "must not be negative", self.callback_grace_s)


@dataclass(frozen=True, slots=True)
class Disposition:
    """What an agent decided about a call (issue 5 item 2).

    ``status`` is one of the campaign's statuses. A "my record" status with ``callback_at``
    is a personal callback; "not before" with ``callback_at`` a campaign callback (the store
    applies both). ``callback`` additionally books a callback row (kind personal/campaign),
    optionally to ``new_number`` (of type ``new_number_kind``) with its contact window, or
    to the contact's number at ``phone_position``; ``callback_until`` ends its window (issue
    13: it is never dialled after that). A callback in a grid slot is booked by the API
    before the disposition (the agent must hear "slot full" at once), not through here.
    """

    status: str
    callback_at: dt.datetime | None = None
    callback: CallbackKind | None = None
    new_number: str | None = None
    new_number_window: tuple[dt.time, dt.time] | None = None
    new_number_kind: str | None = None
    phone_position: int | None = None
    callback_until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class RunnerStats:
    """Counters for the demo's live view and summary (no phone numbers, no names)."""

    campaign: str
    attempts: int
    by_outcome: dict[str, int]
    live_answers: int
    connects: int
    abandons: int
    abandon_rate: float
    in_flight: int
    hopper_depth: int
    agents_by_state: dict[str, int]
    dial_level: float
    fallback: bool
    pending_writes: int
    paused_reasons: tuple[str, ...]
