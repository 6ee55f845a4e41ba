"""The campaign data model: enums and frozen records the store reads and writes.

Names follow DESIGN.md's glossary. Enum values are the strings stored in PostgreSQL, so a
value here and a CHECK constraint in ``migrations/001_schema.sql`` must agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DialingMode(StrEnum):
    PREVIEW = "preview"
    PUSH_PREVIEW = "push_preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class CampaignState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"


class Compliance(StrEnum):
    """Jurisdiction profile; ``pacing.compliance.profile_named`` gives its pacing limits."""

    US = "us"
    UK = "uk"
    ZERO = "zero"


class SystemStatus(StrEnum):
    """What the dialer does next with a record (seed 004, "status systemowy")."""

    CALL = "call"
    MY_RECORD = "my_record"
    DO_NOT_CALL = "do_not_call"
    NOT_BEFORE = "not_before"
    CALL_PROGRESSIVE = "call_progressive"


class Trigger(StrEnum):
    """Attempt endings that set a status automatically (seed 004, "ustaw automatycznie, gdy")."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"  # congestion or failed
    MACHINE = "machine"
    ABANDONED = "abandoned"
    INVALID_NUMBER = "invalid_number"


class Qualifier(StrEnum):
    """Class of a status for bulk moves (seed 001, "kwalifikator statusu")."""

    NONE = "none"
    UNUSED = "unused"
    CALLBACK_RELATIVE = "callback_relative"
    CALLBACK_ABSOLUTE = "callback_absolute"
    CALLBACK_END_OF_QUEUE = "callback_end_of_queue"
    CLOSING = "closing"
    CANCEL_SUCCESS_CLOSE = "cancel_success_close"
    ACTION_EMAIL = "action_email"
    ACTION_SMS = "action_sms"
    NEW_MESSAGE = "new_message"
    SUCCESS = "success"
    SUCCESS_CLOSING = "success_closing"


# Seed 001: records in these may not be moved; no record may be moved to NONE.
UNMOVABLE_QUALIFIERS = frozenset({Qualifier.SUCCESS, Qualifier.SUCCESS_CLOSING})

# An answered call stays leased to its engine until the agent's disposition arrives, at most
# this long without a renewal (the runner renews it for as long as the wrap-up lasts); then
# the lease expires. The contact is not dialable meanwhile anyway: closing an answered attempt
# gives it the campaign's default disposition at once (migration 004), which the agent's
# disposition then replaces. Part of the ContactStore contract: the store holds the lease,
# the runner renews it. No wrap-up may outlast it (``RunnerSettings`` refuses one that could).
ANSWERED_HOLD_S = 3600

# The dictionary status of migration 004: an answered call whose agent set no disposition.
# Its system status is do-not-call: a person who talked to an agent is not dialled again by
# default (issue 11 item 3); an agent or a supervisor moves the contact on.
ANSWERED_NO_DISPOSITION = "Odebrany bez dyspozycji"


class Outcome(StrEnum):
    """How an attempt ended, as the AMI layer reports it."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    INVALID_NUMBER = "invalid_number"
    CANCELLED = "cancelled"
    LOST = "lost"  # the engine lost track of the call (migration 002); retried like a failure
    # The PBX shut down or restarted under the call (migration 009): not an abandon, retried
    # like a network failure.
    PBX_SHUTDOWN = "pbx_shutdown"


# Which automatic trigger an outcome fires; ANSWERED waits for the agent's disposition and
# CANCELLED (our own hang-up before the call was placed) fires none.
OUTCOME_TRIGGER: dict[Outcome, Trigger | None] = {
    Outcome.ANSWERED: None,
    Outcome.BUSY: Trigger.BUSY,
    Outcome.NO_ANSWER: Trigger.NO_ANSWER,
    Outcome.CONGESTION: Trigger.CONGESTION,
    Outcome.FAILED: Trigger.CONGESTION,
    Outcome.MACHINE: Trigger.MACHINE,
    Outcome.ABANDONED: Trigger.ABANDONED,
    Outcome.INVALID_NUMBER: Trigger.INVALID_NUMBER,
    Outcome.CANCELLED: None,
    Outcome.LOST: Trigger.CONGESTION,
    Outcome.PBX_SHUTDOWN: Trigger.CONGESTION,
}


class DialRefusal(StrEnum):
    """Why a leased contact may not be dialled now (the dial-time recheck, issue 11).

    The lease checked every rule when it handed the contact out; these are the rules that may
    have changed by the time the call is launched, in the order the recheck reports them.
    """

    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    SCHEDULE_CLOSED = "schedule_closed"
    NOT_DUE = "not_due"  # the status or its date changed: no longer dialable now
    NUMBER_DISABLED = "number_disabled"
    DO_NOT_CALL = "do_not_call"
    OUTSIDE_LOCAL_HOURS = "outside_local_hours"  # in some candidate zone of the number
    NUMBER_WINDOW = "number_window"
    CAP_REACHED = "cap_reached"
    UK_LOCK = "uk_lock"
    WINDOW_ENDED = "window_ended"  # the lease's dial_until passed before the launch


class AmdAction(StrEnum):
    """What the dialplan does with a call AMD judged a machine (issue 17 item 5)."""

    HANGUP = "hangup"
    MESSAGE = "message"  # play the campaign's message (a sound name), then hang up
    AGENT = "agent"  # hand it to an agent like a person (AMD only labels the call)


class Backoff(StrEnum):
    FIXED = "fixed"
    MULTIPLICATIVE = "multiplicative"


class CallbackKind(StrEnum):
    PERSONAL = "personal"  # only the agent who set it
    CAMPAIGN = "campaign"  # any agent of the campaign


@dataclass(frozen=True, slots=True)
class RetryRule:
    """When to try again after an outcome or disposition, and how many times at most.

    ``max_attempts`` counts attempts that ended with this outcome; ``None`` leaves only the
    campaign's global and per-day caps.
    """

    delay_s: int = 3600
    backoff: Backoff = Backoff.FIXED
    factor: float = 2.0
    max_attempts: int | None = None

    def delay_for(self, occurrence: int) -> float:
        """Seconds to wait after the ``occurrence``-th (1-based) attempt with this outcome."""
        if self.backoff is Backoff.FIXED or occurrence <= 1:
            return float(self.delay_s)
        return float(self.delay_s) * self.factor ** (occurrence - 1)


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    name: str
    system_status: SystemStatus
    qualifier: Qualifier
    trigger: Trigger | None
    campaign_id: int | None  # None: in the dictionary
    auto_add: bool
    hidden: bool
    active: bool
    retry: RetryRule


@dataclass(frozen=True, slots=True)
class StatusSpec:
    """What ``Store.create_status`` needs; the store fills id and campaign."""

    name: str
    system_status: SystemStatus = SystemStatus.CALL
    qualifier: Qualifier = Qualifier.NONE
    trigger: Trigger | None = None
    auto_add: bool = False
    hidden: bool = False
    active: bool = True
    retry: RetryRule = field(default_factory=RetryRule)


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    name: str
    schedule: str
    mode: DialingMode = DialingMode.PROGRESSIVE
    caller_id: str = ""
    queue: str = ""  # the Asterisk queue; "" stores the campaign's name (the dialplan's default)
    ring_timeout_s: int = 20
    compliance: Compliance = Compliance.US
    abandon_cap: float = 0.03
    local_hours_start: dt.time = dt.time(8, 0)
    local_hours_end: dt.time = dt.time(21, 0)
    timezone: str = "UTC"
    state: CampaignState = CampaignState.STOPPED
    priority: int = 0
    max_attempts: int = 10
    max_attempts_per_day: int = 3
    # Status an answered contact gets when its agent sets none (None: the installation's
    # "answered, no disposition" status, migration 004); never one whose system status is call.
    default_disposition: str | None = None
    amd: bool = False
    amd_action: AmdAction = AmdAction.HANGUP
    amd_message: str = ""  # the sound played to a machine when amd_action is MESSAGE
    # The operator's estimate of human answers AMD takes for machines (Ofcom: a reasoned estimate).
    amd_false_positive: float = 0.0
    # The supervisor's "every rolling hour under the cap too" (predictive; migration 017).
    worst_hour_cap: bool = False
    # The Asterisk servers or server groups (config ``[[ami.servers]]``) it dials through;
    # empty: every configured server (migration 030).
    servers: tuple[str, ...] = ()
    # Generated data for ``dialer demo``: never dialled by ``dialer run`` (migration 004).
    demo: bool = False


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    schedule: str
    mode: DialingMode
    caller_id: str
    queue: str
    ring_timeout_s: int
    compliance: Compliance
    abandon_cap: float
    local_hours_start: dt.time
    local_hours_end: dt.time
    timezone: str
    state: CampaignState
    priority: int
    max_attempts: int
    max_attempts_per_day: int
    default_status: str | None
    default_disposition: str | None = None
    amd: bool = False
    amd_action: AmdAction = AmdAction.HANGUP
    amd_message: str = ""
    amd_false_positive: float = 0.0
    worst_hour_cap: bool = False
    demo: bool = False
    servers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    name: str
    interface: str
    active: bool
    # The Asterisk server the agent's phone is registered on ("": any; migration 030).
    server: str = ""


@dataclass(frozen=True, slots=True)
class Phone:
    id: int
    position: int
    e164: str
    kind: str
    timezones: tuple[str, ...]
    window_start: dt.time | None
    window_end: dt.time | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    campaign_id: int
    name: str
    timezone: str | None
    fields: dict[str, Any]
    status: str
    not_before: dt.datetime | None
    agent_id: int | None
    attempts: int
    priority: int
    closed_reason: str | None
    phones: tuple[Phone, ...]


@dataclass(frozen=True, slots=True)
class LeasedContact:
    """A contact handed to one engine until ``lease_expires_at``, with the number to dial.

    ``agent_id`` is set for "my record" and personal callbacks: only that agent may take the
    call. ``reason`` says why it was due: callback, call_progressive, retry or fresh.
    ``agent_required``: a UK repeat-call lock holds the contact, which was leased only because
    the caller had an agent reserved; it may be dialled only with one.
    """

    contact_id: int
    campaign_id: int
    phone_id: int
    e164: str
    name: str
    fields: dict[str, Any]
    agent_id: int | None
    callback_id: int | None
    reason: str
    lease_owner: str
    lease_expires_at: dt.datetime
    agent_required: bool = False
    # The end of the contact's current calling window (local hours in every candidate zone, the
    # number's window, the schedule); None: it never ends. Never dialled at or past it.
    dial_until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """How an attempt ended, as the engine reports it to :meth:`Store.close_attempt`."""

    outcome: Outcome
    ended_at: dt.datetime
    answered_at: dt.datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str | None = None
    asterisk_uniqueid: str | None = None
    asterisk_linkedid: str | None = None
    # The agent who talked to the person; None for every call that reached no agent (the
    # close replaces whatever agent the open attempt carried, e.g. a callback's owner).
    agent_id: int | None = None
    ring_s: float | None = None  # Originate -> answer, or -> the end of an unanswered call
    info_message: bool | None = None  # an abandon: the information message played (None: n/a)
    agent_reserved: bool | None = None  # placed with an agent reserved (None: not known)


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    contact_id: int
    campaign_id: int
    phone_id: int | None
    e164: str
    engine_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: Outcome | None
    hangup_cause: int | None
    asterisk_uniqueid: str | None
    agent_id: int | None


@dataclass(frozen=True, slots=True)
class Fence:
    """An engine's hold on one campaign (issue 15): its id and the token it took the campaign
    with. A write carrying it is refused once the campaign's owner row holds another."""

    engine_id: str
    token: int


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """One engine as ``dialer engines`` shows it: alive while its heartbeat is recent."""

    engine_id: str
    host: str
    pid: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    heartbeat_age_s: float
    stopped_at: dt.datetime | None
    alive: bool
    max_campaigns: int
    campaigns: tuple[str, ...]  # owned now
    calls: int  # its attempts still open


@dataclass(frozen=True, slots=True)
class AppliedOutcome:
    """What closing an attempt did to its contact."""

    attempt_id: int
    contact_id: int
    status: str
    not_before: dt.datetime | None
    closed_reason: str | None
    next_phone_position: int


@dataclass(frozen=True, slots=True)
class Callback:
    id: int
    contact_id: int
    campaign_id: int
    kind: CallbackKind
    agent_id: int | None
    phone_id: int | None
    due_at: dt.datetime
    window_end_at: dt.datetime | None
    state: str  # pending, done, cancelled, missed (the window passed; handed to the campaign)
    source: str = "agent"  # agent or web (a web callback request)
    slot_id: int | None = None
    e164: str | None = None  # the number it calls (None: the contact's numbers in rotation)
    agent: str | None = None  # the personal callback's agent's name
    contact_name: str = ""
    requester_name: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackChange:
    """One change of a callback (its history): who, when, the tracked columns before and after."""

    callback_id: int
    changed_at: dt.datetime
    actor: str
    action: str
    before: dict[str, object] | None
    after: dict[str, object]


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    campaign: Campaign
    contacts: int
    dialable: int
    by_status: dict[str, int]
    attempts: int


@dataclass(frozen=True, slots=True)
class AnswerBucket:
    """A campaign's stored live answers, abandons and machine verdicts in one time bucket.

    ``index`` is ``floor(epoch seconds of ended_at / bucket_s)``, the bucket an abandon-rate
    tracker of that bucket width files the same calls under
    (``dialer.campaign.memory`` defines what counts as what).
    """

    bucket_s: float
    index: int
    live: int
    abandoned: int
    machines: int


@dataclass(frozen=True, slots=True)
class PastCall:
    """One closed attempt as pacing learns from it: its times, its outcome, when it was disposed."""

    attempt_id: int
    outcome: Outcome
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime
    disposed_at: dt.datetime | None = None
