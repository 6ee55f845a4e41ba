"""The rules a campaign, a status, an agent or a schedule must keep before it is stored (issue 11 item 4).

Why one module: every front end (the CLI today, the HTTP API later) reaches the database
through the store, and the store checks what it is given here, so a rule is written once and
refused the same way everywhere, with a :class:`~dialer.errors.ValidationError` naming the
field and the rule. Pure: values in, an error or a normalised value out; the database adds
CHECK constraints where one is natural (migration 004), as a second line.

Names compare case-insensitively (agent interfaces, status names): ``PJSIP/101`` and
``pjsip/101`` are the same device to Asterisk, whose channel technology lookup ignores case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace

import phonenumbers

from dialer.errors import ValidationError
from dialer.model import (
    AmdAction,
    Campaign,
    CampaignSpec,
    Compliance,
    DialingMode,
    Qualifier,
    RetryRule,
    StatusSpec,
    SystemStatus,
)
from dialer.schedules.schedule import Schedule
from pacing import DialMode, PacingPolicy, PredictiveSettings, policy_for
from pacing.compliance import STATUTORY_CAP, profile_named

__all__ = [
    "LEGAL_HOURS",
    "MAX_RING_S",
    "MIN_RING_S",
    "amd_counted_false_positive",
    "check_caller_id",
    "check_campaign",
    "check_default_disposition",
    "check_interface",
    "check_retry_rule",
    "check_schedule_opens",
    "check_servers",
    "check_status",
    "interface_key",
]

# FCC 47 CFR 64.1200(a)(6): ring at least 15 seconds (or four rings).
MIN_RING_S = 15
# Our sane maximum: a number that has not answered in two minutes will not; a larger value
# (100000 s was accepted once) only ties up a trunk channel and an attempt row.
MAX_RING_S = 120

# The widest local calling hours each profile allows, in the called person's zone.
# US: TSR 16 CFR 310.4(c) and TCPA 47 CFR 64.1200(c)(1): 08:00-21:00. UK: Ofcom sets no hours;
# the DMA Code of Practice (the industry code Ofcom's persistent-misuse policy leans on) says no
# calls before 08:00 or after 21:00. zero: a pacing profile, not a jurisdiction: the strictest
# of the two. 00:00-00:00 (all day) is never inside them.
LEGAL_HOURS: dict[Compliance, tuple[dt.time, dt.time]] = {
    Compliance.US: (dt.time(8), dt.time(21)),
    Compliance.UK: (dt.time(8), dt.time(21)),
    Compliance.ZERO: (dt.time(8), dt.time(21)),
}

# The region a caller ID without "+" is read in, per profile (zero: E.164 only).
_CALLER_ID_REGION = {Compliance.US: "US", Compliance.UK: "GB", Compliance.ZERO: None}

# Asterisk member interfaces: TECH/resource for the channel drivers agents sit on, and
# Local/exten@context (optionally with Local's /n, /m, /b, /j options).
_DEVICE = re.compile(r"(?i)(?:pjsip|sip|iax2|dahdi|sccp|skinny|unistim|motif|webrtc)/[A-Za-z0-9_.+:@=-]+")
_LOCAL = re.compile(r"(?i)local/[A-Za-z0-9_.+*#-]+@[A-Za-z0-9_.-]+(?:/[nmbj]+)?")


def check_campaign(spec: CampaignSpec) -> CampaignSpec:
    """Check a campaign definition; return it with its caller ID in E.164.

    Raises:
        ValidationError: naming the first wrong field and the rule it breaks.
    """
    if not spec.name.strip():
        raise ValidationError("name", "must not be empty", spec.name)
    if not spec.schedule.strip():
        raise ValidationError("schedule", "a campaign needs a schedule (its calling window)", spec.schedule)
    if not MIN_RING_S <= spec.ring_timeout_s <= MAX_RING_S:
        raise ValidationError(
            "ring_timeout_s",
            f"must be {MIN_RING_S}-{MAX_RING_S} seconds (at least 15 s by FCC 47 CFR 64.1200(a)(6))",
            spec.ring_timeout_s,
        )
    # FTC TSR / Ofcom: 3 % is the ceiling, not a target.
    if not 0 <= spec.abandon_cap <= STATUTORY_CAP:
        raise ValidationError("abandon_cap", f"must be between 0 and {STATUTORY_CAP}", spec.abandon_cap)
    if spec.compliance is Compliance.ZERO and spec.mode is DialingMode.PREDICTIVE:
        raise ValidationError("mode", "the zero-abandon profile cannot dial predictively", spec.mode.value)
    if spec.max_attempts < 1:
        raise ValidationError("max_attempts", "must be at least 1", spec.max_attempts)
    if spec.max_attempts_per_day < 1:
        raise ValidationError("max_attempts_per_day", "must be at least 1", spec.max_attempts_per_day)
    for name in ("local_hours_start", "local_hours_end"):
        value = getattr(spec, name)
        if value.tzinfo is not None or value.second or value.microsecond:
            raise ValidationError(name, "must be a local wall-clock time HH:MM without an offset", str(value))
    if not spec.demo:
        _check_hours(spec.compliance, spec.local_hours_start, spec.local_hours_end)
    _check_amd(spec)
    spec = replace(spec, servers=check_servers(spec.servers, "servers"))
    return _with_caller_id(spec)


_SERVER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def check_servers(
    names: tuple[str, ...] | list[str], field: str, known: Mapping[str, tuple[str, ...]] | None = None
) -> tuple[str, ...]:
    """Server or server-group names (config ``[[ami.servers]]`` ``name``/``group``), stripped,
    each once, in the order given.

    ``known`` (name -> its servers, :meth:`config.model.AmiConfig.selectable`) is what the
    configuration defines; None when the caller has no configuration of servers (only the
    form is checked then; the engine refuses a name it does not know when it dials).

    Raises:
        ValidationError: naming ``field``: a malformed name, or one the configuration lacks.
    """
    out: list[str] = []
    for raw in names:
        name = raw.strip()
        if not _SERVER.fullmatch(name):
            raise ValidationError(field, "a server name is letters, digits, '.', '_' or '-'", raw)
        if known is not None and name not in known:
            configured = ", ".join(sorted(known)) or "none"
            raise ValidationError(field, f"no such AMI server or group (configured: {configured})", name)
        if name not in out:
            out.append(name)
    return tuple(out)


def _with_caller_id(spec: CampaignSpec) -> CampaignSpec:
    caller_id = check_caller_id(spec.caller_id, spec.compliance)
    return spec if caller_id == spec.caller_id else replace(spec, caller_id=caller_id)


def _check_hours(compliance: Compliance, start: dt.time, end: dt.time) -> None:
    lo, hi = LEGAL_HOURS[compliance]
    if not lo <= start < end <= hi:
        raise ValidationError(
            "hours",
            f"the {compliance.value} profile allows calls only within {lo:%H:%M}-{hi:%H:%M}"
            " in the called person's local time",
            f"{start:%H:%M}-{end:%H:%M}",
        )


def check_caller_id(caller_id: str, compliance: Compliance) -> str:
    """``caller_id`` in E.164, or "" (none: the trunk presents its own number).

    Raises:
        ValidationError: field ``caller_id``, when it is not a valid number.
    """
    text = caller_id.strip()
    if not text:
        return ""
    region = _CALLER_ID_REGION[compliance]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        where = f" (read as {region} when it has no +)" if region else " (give it in E.164, +...)"
        raise ValidationError(
            "caller_id", f"must be a valid phone number: it is presented on every call{where}", caller_id
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_amd(spec: CampaignSpec) -> None:
    if not 0 <= spec.amd_false_positive < 1:
        raise ValidationError("amd_false_positive", "must be a share in [0, 1)", spec.amd_false_positive)
    if not spec.amd:
        return
    if spec.amd_action is AmdAction.MESSAGE and not _is_sound_name(spec.amd_message):
        raise ValidationError(
            "amd_message", "leaving a message needs the name of a sound to play (letters, digits, - _ /)",
            spec.amd_message,
        )
    if spec.amd_action is AmdAction.AGENT:
        return  # a person taken for a machine still reaches an agent: nobody is dropped
    if spec.compliance is Compliance.ZERO:
        raise ValidationError(
            "amd_action",
            "the zero-abandon profile allows AMD only with action 'agent': every person AMD takes"
            " for a machine and hangs up on is an abandoned call",
            spec.amd_action.value,
        )
    if spec.compliance is Compliance.UK:
        room = spec.abandon_cap / 2
        if not 0 < spec.amd_false_positive < room:
            raise ValidationError(
                "amd_false_positive",
                f"Ofcom counts AMD false positives as abandoned calls: under the uk profile AMD that"
                f" hangs up needs a false-positive estimate above 0 and below half the abandon cap"
                f" ({room:.4f}), leaving the other half for calls no agent took",
                spec.amd_false_positive,
            )


def _is_sound_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_/-]+", name)) and ".." not in name


def amd_counted_false_positive(spec: CampaignSpec | object) -> float:
    """The AMD false-positive share the pacer must count as abandons (0: none to count).

    Counted when AMD runs, hangs up on what it takes for a machine (a message is a hang-up
    too) and the profile counts them (UK, zero).
    """
    amd = getattr(spec, "amd", False)
    action = getattr(spec, "amd_action", AmdAction.HANGUP)
    compliance: Compliance = getattr(spec, "compliance", Compliance.US)
    if not amd or action is AmdAction.AGENT:
        return 0.0
    if not profile_named(compliance.value).amd_false_positives_count:
        return 0.0
    return float(getattr(spec, "amd_false_positive", 0.0))


_DIAL_MODE = {
    DialingMode.PREVIEW: DialMode.PREVIEW,
    DialingMode.PUSH_PREVIEW: DialMode.PUSH_PREVIEW,
    DialingMode.PROGRESSIVE: DialMode.PROGRESSIVE,
    DialingMode.PREDICTIVE: DialMode.PREDICTIVE,
}


def campaign_policy(campaign: Campaign) -> PacingPolicy:
    """The pacing policy a campaign's settings ask for: its mode, its profile, its cap.

    AMD that hangs up on people it takes for machines is charged where the profile counts
    it (UK); the supervisor's cap (at most the profile's) is the pacer's target, and
    ``worst_hour_cap`` holds every rolling hour under it too.
    """
    return policy_for(
        _DIAL_MODE[campaign.mode],
        profile_named(campaign.compliance.value),
        PredictiveSettings(amd_false_positive_rate=amd_counted_false_positive(campaign),
                           target=campaign.abandon_cap, worst_hour_cap=campaign.worst_hour_cap),
    )


def learning_policy(campaign: Campaign) -> PacingPolicy:
    """The policy that learns a campaign's calls in every mode: the predictive one wherever
    the profile allows predictive dialling (else the progressive one, which learns nothing).

    Why: a supervisor may switch a running campaign between modes (the wallboard); a runner
    feeds every call to this policy, whatever the mode, so a switch to predictive starts with
    what the campaign's calls taught so far, and a switch back and forth keeps it.
    """
    return campaign_policy(replace(campaign, mode=DialingMode.PREDICTIVE))


def audit_limits(compliance: str) -> tuple[float, float]:
    """The abandon-rate window (seconds) and cap the compliance audit holds a profile's calls to.

    The store computes the audit but does not import the pacing package; both front ends
    (``dialer compliance report``, ``GET /campaigns/{c}/compliance``) get the profile's figures
    through the store from here.
    """
    profile = profile_named(compliance)
    return profile.window_s, profile.abandon_cap


def interface_key(interface: str) -> str:
    """What two interfaces are compared by: Asterisk reads channel technologies in any case."""
    return interface.strip().lower()


def check_interface(interface: str) -> str:
    """An agent's member interface, stripped ("" = none yet: given at login).

    Raises:
        ValidationError: field ``interface``, when it is not TECH/resource or Local/exten@context.
    """
    text = interface.strip()
    if text and not (_DEVICE.fullmatch(text) or _LOCAL.fullmatch(text)):
        raise ValidationError(
            "interface",
            "must be an Asterisk member interface such as PJSIP/101, SIP/agent1 or Local/agent1@agents",
            interface,
        )
    return text


# System statuses that dial the record again without an agent having asked for it.
_REDIALS = frozenset({SystemStatus.CALL, SystemStatus.NOT_BEFORE})
_CALLBACK_QUALIFIERS = frozenset(
    {Qualifier.CALLBACK_RELATIVE, Qualifier.CALLBACK_ABSOLUTE, Qualifier.CALLBACK_END_OF_QUEUE}
)
_SUCCESS_QUALIFIERS = frozenset(
    {Qualifier.SUCCESS, Qualifier.SUCCESS_CLOSING, Qualifier.CANCEL_SUCCESS_CLOSE}
)


def check_status(spec: StatusSpec) -> None:
    """Refuse a status whose system status, qualifier and trigger contradict each other.

    Raises:
        ValidationError: naming the field that contradicts the others.
    """
    if not spec.name.strip():
        raise ValidationError("name", "must not be empty", spec.name)
    sys, qual, trig = spec.system_status, spec.qualifier, spec.trigger
    if trig is not None and sys is SystemStatus.MY_RECORD:
        raise ValidationError(
            "trigger",
            "a 'my record' status belongs to the agent who set it; the dialer cannot set it",
            trig.value,
        )
    if trig is not None and qual in _SUCCESS_QUALIFIERS:
        raise ValidationError(
            "qualifier",
            f"a call that ended {trig.value} is not a success; only an agent sets one",
            qual.value,
        )
    if trig is not None and qual is Qualifier.UNUSED:
        raise ValidationError(
            "qualifier", "'unused' clears the call history, which the attempt setting it has just added",
            qual.value,
        )
    if sys is SystemStatus.DO_NOT_CALL and qual in _CALLBACK_QUALIFIERS:
        raise ValidationError(
            "qualifier", "a callback qualifier on a do-not-call status: the record is never called back",
            qual.value,
        )
    if qual in _SUCCESS_QUALIFIERS and sys in _REDIALS | {SystemStatus.CALL_PROGRESSIVE}:
        raise ValidationError(
            "system_status", f"a {qual.value} record is done; it may not be dialled again", sys.value
        )


# A retry delay beyond a year is a typo, not a plan (and keeps the arithmetic in range).
MAX_RETRY_DELAY_S = 366 * 86400


def check_retry_rule(rule: RetryRule) -> None:
    """Refuse a retry rule that cannot be applied: a negative or absurd delay, a shrinking
    backoff, a cap below one attempt.

    Raises:
        ValidationError: naming ``retry.delay_s``, ``retry.factor`` or ``retry.max_attempts``.
    """
    if not 0 <= rule.delay_s <= MAX_RETRY_DELAY_S:
        reason = f"must be between 0 and {MAX_RETRY_DELAY_S} seconds"
        raise ValidationError("retry.delay_s", reason, rule.delay_s)
    if not 1 <= rule.factor <= 100:
        raise ValidationError("retry.factor", "must be 1 to 100 (backoff never shrinks)", rule.factor)
    if rule.max_attempts is not None and rule.max_attempts < 1:
        raise ValidationError("retry.max_attempts", "must be at least 1 (or none: the campaign's caps)",
                              rule.max_attempts)


def check_default_disposition(name: str, system_status: SystemStatus) -> None:
    """Refuse a default disposition that would dial a person who talked to an agent again as fresh.

    Raises:
        ValidationError: field ``default_disposition``, when its system status is call.
    """
    if system_status is SystemStatus.CALL:
        raise ValidationError(
            "default_disposition",
            "its system status is 'call': an answered contact without a disposition would be dialled"
            " again as if never reached; choose a status that does not dial (e.g. do_not_call)",
            name,
        )


def check_schedule_opens(schedule: Schedule) -> None:
    """Refuse a schedule that can never open (31 February, 30-31 February only, ...).

    An empty set of weekdays, months or days means "every" in the schedule model, so it
    always opens.

    Raises:
        ValidationError: field ``days``, when no selected day exists in any selected month.
    """
    if not schedule.can_ever_open:
        raise ValidationError(
            "days",
            "no selected day exists in any selected month, so the schedule would never open",
            f"days {sorted(schedule.days)} in months {sorted(schedule.months) or 'all'}",
        )
