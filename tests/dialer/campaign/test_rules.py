"""The campaign rules of issue 11 item 4 (and the AMD settings of issue 17 item 5), pure.

Each refusal names the field and the rule; the property tests state the rule itself (the
accepted set is exactly the lawful one), not a few examples of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.campaign.rules import (
    LEGAL_HOURS,
    amd_counted_false_positive,
    campaign_policy,
    check_caller_id,
    check_campaign,
    check_default_disposition,
    check_interface,
    check_schedule_opens,
    check_status,
    interface_key,
)
from dialer.cli.demo import DEMO_STATUSES
from dialer.errors import ValidationError
from dialer.model import (
    AmdAction,
    Campaign,
    CampaignSpec,
    CampaignState,
    Compliance,
    DialingMode,
    Qualifier,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.schedules.schedule import Frequency, Schedule
from pacing import DialMode, PredictivePolicy

LAWFUL = CampaignSpec(name="C", schedule="S", caller_id="+442079460999", compliance=Compliance.UK)
times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


def refused(spec: CampaignSpec) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check_campaign(spec)
    return info.value


@given(st.sampled_from(list(Compliance)), times, times)
def test_hours_are_accepted_exactly_inside_the_profiles_legal_hours(
    compliance: Compliance, start: dt.time, end: dt.time
) -> None:
    spec = dataclasses.replace(
        LAWFUL,
        compliance=compliance,
        local_hours_start=start,
        local_hours_end=end,
        mode=DialingMode.PROGRESSIVE,
    )
    lo, hi = LEGAL_HOURS[compliance]
    if lo <= start < end <= hi:
        check_campaign(spec)
    else:
        err = refused(spec)
        assert "hours" == err.field
        assert f"{compliance.value} profile allows calls only within 08:00-21:00" in str(err)
    # a demo campaign (simulated people) may have any hours
    check_campaign(dataclasses.replace(spec, demo=True))


def test_the_issues_unlawful_hours_are_refused() -> None:
    err = refused(dataclasses.replace(LAWFUL, compliance=Compliance.US, local_hours_start=dt.time(22),
                                      local_hours_end=dt.time(7)))
    assert ("hours", "22:00-07:00") == (err.field, err.value)
    assert "hours" == refused(dataclasses.replace(LAWFUL, local_hours_start=dt.time(0),
                                                  local_hours_end=dt.time(0))).field


@given(st.integers(-10, 200_000))
def test_ring_timeout_is_accepted_exactly_from_15_to_120_seconds(ring: int) -> None:
    spec = dataclasses.replace(LAWFUL, ring_timeout_s=ring)
    if 15 <= ring <= 120:
        check_campaign(spec)
    else:
        err = refused(spec)
        assert "ring_timeout_s" == err.field
        assert "15-120 seconds" in err.reason


def test_caller_id_must_be_a_valid_number_and_is_stored_in_e164() -> None:
    assert "ring_timeout_s" == refused(dataclasses.replace(LAWFUL, ring_timeout_s=100_000)).field
    for bad in ("not a number", "+1555000000", "12"):
        err = refused(dataclasses.replace(LAWFUL, caller_id=bad))
        assert ("caller_id", bad) == (err.field, err.value)
        assert "valid phone number" in err.reason
    assert "+442079460999" == check_campaign(dataclasses.replace(LAWFUL, caller_id="020 7946 0999")).caller_id
    assert "+12025550100" == check_caller_id("(202) 555-0100", Compliance.US)
    assert "" == check_caller_id("  ", Compliance.US)  # none: the trunk presents its own
    with pytest.raises(ValidationError, match=r"E\.164"):
        check_caller_id("020 7946 0999", Compliance.ZERO)


@pytest.mark.parametrize(
    "interface",
    [
        "PJSIP/101", "pjsip/agent-7", "SIP/x", "IAX2/peer1", "Local/agent1@sim-agents",
        "Local/101@from-internal/n",
    ],
)
def test_well_formed_interfaces_pass(interface: str) -> None:
    assert interface == check_interface(f" {interface} ")


@pytest.mark.parametrize(
    "interface",
    ["101", "PJSIP/", "PJSIP/10 1", "Foo/101", "Local/agent1", "Local/@ctx", "SIP/x,y", "PJSIP/1\nAction: X"],
)
def test_malformed_interfaces_are_refused_naming_the_field(interface: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_interface(interface)
    assert "interface" == info.value.field


def test_interfaces_compare_ignoring_case() -> None:
    assert interface_key("PJSIP/Agent1") == interface_key(" pjsip/agent1")
    assert "" == check_interface("")  # given at login


def test_amd_hanging_up_is_refused_under_zero_and_allowed_when_it_connects() -> None:
    zero = dataclasses.replace(LAWFUL, compliance=Compliance.ZERO, mode=DialingMode.PROGRESSIVE, amd=True)
    for action in (AmdAction.HANGUP, AmdAction.MESSAGE):
        err = refused(dataclasses.replace(zero, amd_action=action, amd_message="vm-drop"))
        assert ("amd_action", action.value) == (err.field, err.value)
        assert "zero-abandon profile" in err.reason
    check_campaign(dataclasses.replace(zero, amd_action=AmdAction.AGENT))
    check_campaign(dataclasses.replace(zero, amd=False))


@given(st.floats(0.0, 0.999), st.sampled_from([0.0, 0.01, 0.03]))
def test_uk_amd_needs_a_false_positive_estimate_leaving_half_the_cap(fp: float, cap: float) -> None:
    spec = dataclasses.replace(LAWFUL, amd=True, amd_false_positive=fp, abandon_cap=cap)
    if 0 < fp < cap / 2:
        check_campaign(spec)
        assert fp == amd_counted_false_positive(spec)  # and the pacer counts it
    else:
        err = refused(spec)
        assert "amd_false_positive" == err.field
        assert "Ofcom counts AMD false positives as abandoned calls" in err.reason
    # handed to an agent, a false positive is never dropped: nothing to count
    agent = dataclasses.replace(spec, amd_action=AmdAction.AGENT)
    check_campaign(agent)
    assert 0.0 == amd_counted_false_positive(agent)


def test_amd_message_needs_a_sound_and_us_does_not_count_false_positives() -> None:
    us = dataclasses.replace(LAWFUL, compliance=Compliance.US, amd=True, amd_action=AmdAction.MESSAGE)
    for bad in ("", "../etc/x", "a b"):
        assert "amd_message" == refused(dataclasses.replace(us, amd_message=bad)).field
    ok = check_campaign(dataclasses.replace(us, amd_message="custom/vm-drop", amd_false_positive=0.05))
    assert 0.0 == amd_counted_false_positive(ok)
    assert "amd_false_positive" == refused(dataclasses.replace(us, amd_false_positive=1.0)).field


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (StatusSpec("A", SystemStatus.MY_RECORD, Qualifier.CALLBACK_ABSOLUTE, Trigger.BUSY), "trigger"),
        (StatusSpec("B", SystemStatus.DO_NOT_CALL, Qualifier.SUCCESS, Trigger.MACHINE), "qualifier"),
        (StatusSpec("C", SystemStatus.CALL, Qualifier.UNUSED, Trigger.NO_ANSWER), "qualifier"),
        (StatusSpec("D", SystemStatus.DO_NOT_CALL, Qualifier.CALLBACK_RELATIVE), "qualifier"),
        (StatusSpec("E", SystemStatus.CALL, Qualifier.SUCCESS), "system_status"),
        (StatusSpec("F", SystemStatus.CALL_PROGRESSIVE, Qualifier.SUCCESS_CLOSING), "system_status"),
        (StatusSpec(" "), "name"),
    ],
)
def test_contradictory_statuses_are_refused(spec: StatusSpec, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_status(spec)
    assert field == info.value.field


def test_the_usual_statuses_are_consistent() -> None:
    for spec in DEMO_STATUSES:
        check_status(spec)
    check_status(StatusSpec("Dzwonić", SystemStatus.CALL, Qualifier.UNUSED))
    check_status(StatusSpec("Odebrany bez dyspozycji", SystemStatus.DO_NOT_CALL, Qualifier.CLOSING))


def test_a_default_disposition_that_dials_again_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        check_default_disposition("Dzwonić", SystemStatus.CALL)
    assert ("default_disposition", "Dzwonić") == (info.value.field, info.value.value)
    for ok in (SystemStatus.DO_NOT_CALL, SystemStatus.NOT_BEFORE, SystemStatus.CALL_PROGRESSIVE):
        check_default_disposition("x", ok)


def _monthly(months: set[int], days: set[int]) -> Schedule:
    return Schedule(
        name="M", frequency=Frequency.MONTHLY, months=frozenset(months), days=frozenset(days),
        window_start=dt.time(9), window_end=dt.time(17),
    )


def test_a_schedule_that_can_never_open_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        check_schedule_opens(_monthly({2}, {30, 31}))
    assert "days" == info.value.field
    assert "never open" in info.value.reason
    check_schedule_opens(_monthly({2}, {29, 31}))  # every leap year
    check_schedule_opens(_monthly(set(), set()))  # empty sets mean "every"


@given(st.sets(st.integers(1, 12), max_size=12), st.sets(st.integers(1, 31), min_size=1, max_size=31))
def test_never_opens_exactly_when_no_selected_day_exists_in_a_selected_month(
    months: set[int], days: set[int]
) -> None:
    lengths = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
    exists = any(d <= lengths[m] for m in (months or set(lengths)) for d in days)
    schedule = _monthly(months, days)
    if exists:
        check_schedule_opens(schedule)
        assert schedule.next_open(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) is not None
    else:
        with pytest.raises(ValidationError):
            check_schedule_opens(schedule)


def test_the_campaigns_cap_and_hourly_setting_reach_its_pacer() -> None:
    """Issue 12: the supervisor's cap is the pacer's target; ``worst_hour_cap`` is passed on."""
    base = Campaign(1, "C", "S", DialingMode.PREDICTIVE, "+15550000000", "q", 25, Compliance.US, 0.01,
                    dt.time(9), dt.time(17), "UTC", CampaignState.RUNNING, 0, 10, 3, None)
    policy = campaign_policy(base)
    assert isinstance(policy, PredictivePolicy)
    assert 0.01 == policy.target and not policy.settings.worst_hour_cap
    hourly = campaign_policy(dataclasses.replace(base, abandon_cap=0.03, worst_hour_cap=True))
    assert isinstance(hourly, PredictivePolicy)
    assert 0.03 == hourly.target and hourly.settings.worst_hour_cap
    progressive = campaign_policy(dataclasses.replace(base, mode=DialingMode.PROGRESSIVE))
    assert DialMode.PROGRESSIVE == progressive.mode
