"""The compliance audit report from crafted attempt rows: each rule counts 0, then one breach.

Each test writes a clean history first (the row reads 0), then one attempt that breaks the
rule (the row reads 1 and names it), and, where the rule has an exception, one that does not.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dialer.audit import AuditRow, ComplianceReport, format_report
from dialer.errors import ValidationError
from dialer.model import Compliance
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

DAY = dt.timedelta(days=1)
SINCE, UNTIL = utc(2026, 6, 1), utc(2026, 7, 1)
US_WINDOW, UK_WINDOW, CAP = 30 * 86_400.0, 86_400.0, 0.03


async def _campaign(store: Store, **overrides: object) -> tuple[str, int, int, int]:
    """A campaign (08:00-21:00, zone UTC), one contact with one number: (name, campaign, contact, phone)."""
    spec: dict[str, object] = {"local_hours_start": dt.time(8), "local_hours_end": dt.time(21)}
    spec.update(overrides)
    name = await make_campaign(store, **spec)
    contact = await store.add_contact(name, [("+48500008001", {"timezones": ("UTC",)})])
    row = await store.pool.fetchrow(
        "SELECT c.campaign_id, p.id FROM contacts c"
        " JOIN contact_phones p ON p.contact_id = c.id WHERE c.id = $1",
        contact,
    )
    return name, row["campaign_id"], contact, row["id"]


async def _attempt(
    store: Store,
    ids: tuple[str, int, int, int],
    started: dt.datetime,
    outcome: str,
    *,
    ring_s: float = 20.0,
    info_message: bool | None = None,
    agent_reserved: bool = False,
    zones: tuple[str, ...] | None = ("UTC",),
) -> int:
    _, campaign, contact, phone = ids
    live = outcome in ("answered", "abandoned")
    return int(
        await store.pool.fetchval(
            """INSERT INTO attempts (contact_id, campaign_id, phone_id, e164, engine_id, started_at,
                   answered_at, ended_at, outcome, zones, ring_s, info_message, agent_reserved)
               VALUES ($1, $2, $3, '+48500008001', 'e1', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id""",
            contact,
            campaign,
            phone,
            started,
            started + dt.timedelta(seconds=ring_s) if live else None,
            started + dt.timedelta(seconds=ring_s + 30),
            outcome,
            None if zones is None else list(zones),
            ring_s,
            info_message,
            agent_reserved,
        )
    )


async def _report(store: Store, name: str, window_s: float = US_WINDOW) -> dict[str, AuditRow]:
    report = await store.compliance_report(
        name, since=SINCE, until=UNTIL, abandon_window_s=window_s, abandon_cap=CAP
    )
    return {r.rule: r for r in report.rows}


async def _clean_history(store: Store, ids: tuple[str, int, int, int]) -> None:
    """Forty answered calls and unanswered ones at noon: nothing to report."""
    for day in range(1, 21):
        await _attempt(store, ids, utc(2026, 6, day, 12), "answered", ring_s=6)
        await _attempt(store, ids, utc(2026, 6, day, 13), "answered", ring_s=6)
        await _attempt(store, ids, utc(2026, 6, day, 14), "no_answer", ring_s=20)


async def test_a_clean_history_reports_zero_in_every_row(store: Store) -> None:
    ids = await _campaign(store)
    await _clean_history(store, ids)
    await _attempt(store, ids, utc(2026, 6, 25, 23), "cancelled")  # never placed: not a call at 23:00
    report = await store.compliance_report(
        ids[0], since=SINCE, until=UNTIL, abandon_window_s=US_WINDOW, abandon_cap=CAP
    )
    assert (60, 40, 0, 0) == (report.attempts, report.live_answers, report.abandoned, report.violations)
    assert [0] * 6 == [r.violations for r in report.rows]
    assert "uk_repeat_lock" in format_report(report) and "0 violations" in format_report(report)


async def test_a_call_outside_local_hours_in_some_zone_is_reported(store: Store) -> None:
    ids = await _campaign(store)
    await _clean_history(store, ids)
    assert 0 == (await _report(store, ids[0]))["outside_local_hours"].violations
    # 19:30 UTC is 15:30 in New York but 21:30 in Warsaw: outside in one candidate zone
    bad = await _attempt(
        store, ids, utc(2026, 6, 22, 19, 30), "busy", zones=("America/New_York", "Europe/Warsaw")
    )
    row = (await _report(store, ids[0]))["outside_local_hours"]
    assert (1, (bad,)) == (row.violations, row.attempt_ids)


async def test_a_us_call_outside_the_legal_hours_counts_whatever_the_campaign_says(store: Store) -> None:
    ids = await _campaign(store, local_hours_start=dt.time(0), local_hours_end=dt.time(0))
    await _attempt(store, ids, utc(2026, 6, 2, 12), "busy")
    assert 0 == (await _report(store, ids[0]))["outside_local_hours"].violations
    bad = await _attempt(store, ids, utc(2026, 6, 2, 7, 59), "busy")  # no zone recorded: the number's
    row = (await _report(store, ids[0]))["outside_local_hours"]
    assert (1, (bad,)) == (row.violations, row.attempt_ids)


async def test_a_call_to_a_number_listed_before_it_is_reported_one_listed_after_is_not(store: Store) -> None:
    ids = await _campaign(store)
    await _clean_history(store, ids)
    await store.add_do_not_call("+48500008001", at=utc(2026, 6, 21))
    assert 0 == (await _report(store, ids[0]))["do_not_call"].violations  # every call was before
    bad = await _attempt(store, ids, utc(2026, 6, 22, 12), "no_answer")
    row = (await _report(store, ids[0]))["do_not_call"]
    assert (1, (bad,)) == (row.violations, row.attempt_ids)


async def test_an_unanswered_call_given_up_before_15_s_is_reported(store: Store) -> None:
    ids = await _campaign(store)
    await _clean_history(store, ids)
    await _attempt(store, ids, utc(2026, 6, 22, 12), "busy", ring_s=3)  # busy: the network ended it
    assert 0 == (await _report(store, ids[0]))["ring_under_15s"].violations
    bad = await _attempt(store, ids, utc(2026, 6, 22, 13), "no_answer", ring_s=14.5)
    row = (await _report(store, ids[0]))["ring_under_15s"]
    assert (1, (bad,)) == (row.violations, row.attempt_ids)


async def test_uk_repeat_calls_within_the_locks_without_an_agent_are_reported(store: Store) -> None:
    ids = await _campaign(store, compliance=Compliance.UK)
    await _attempt(store, ids, utc(2026, 6, 2, 12), "abandoned", info_message=True)
    await _attempt(store, ids, utc(2026, 6, 3, 12), "answered", agent_reserved=True)  # with an agent: allowed
    await _attempt(store, ids, utc(2026, 6, 6, 12), "machine")  # after 72 h
    await _attempt(store, ids, utc(2026, 6, 7, 13), "no_answer")  # after 24 h
    assert 0 == (await _report(store, ids[0], UK_WINDOW))["uk_repeat_lock"].violations
    bad = await _attempt(store, ids, utc(2026, 6, 7, 10), "busy")  # 22 h after the machine
    row = (await _report(store, ids[0], UK_WINDOW))["uk_repeat_lock"]
    assert (1, (bad,)) == (row.violations, row.attempt_ids)
    us = await _campaign(store)
    await _attempt(store, us, utc(2026, 6, 2, 12), "abandoned", info_message=True)
    await _attempt(store, us, utc(2026, 6, 2, 13), "busy")
    assert "not applicable" in (await _report(store, us[0]))["uk_repeat_lock"].detail


async def test_an_abandon_without_the_information_message_is_reported(store: Store) -> None:
    ids = await _campaign(store)
    await _clean_history(store, ids)
    await _attempt(store, ids, utc(2026, 6, 22, 12), "abandoned", info_message=True)
    await _attempt(store, ids, utc(2026, 6, 22, 13), "abandoned", info_message=None)  # hung up first
    assert 0 == (await _report(store, ids[0]))["abandon_without_message"].violations
    bad = await _attempt(store, ids, utc(2026, 6, 22, 14), "abandoned", info_message=False)
    row = (await _report(store, ids[0]))["abandon_without_message"]
    assert (1, (bad,)) == (row.violations, row.attempt_ids)


async def test_the_abandon_rate_is_judged_on_every_rolling_window(store: Store) -> None:
    ids = await _campaign(store, compliance=Compliance.UK)
    await _clean_history(store, ids)  # two answers a day
    rows = await _report(store, ids[0], UK_WINDOW)
    assert 0 == rows["abandon_rate_24h"].violations
    assert rows["abandon_rate_24h"].detail.startswith(
        "worst 0.00% (0/1) in the window ending 2026-06-01T12:00:06"
    )
    # one abandon after 40 answers: 2.4 % over its 30 days, but 1 in 3 over its day
    bad = await _attempt(store, ids, utc(2026, 6, 20, 15), "abandoned", info_message=True)
    uk = (await _report(store, ids[0], UK_WINDOW))["abandon_rate_24h"]
    assert (1, (bad,)) == (uk.violations, uk.attempt_ids)
    assert "worst 33.33% (1/3) in the window ending 2026-06-20T15:00:20" in uk.detail
    us = (await _report(store, ids[0], US_WINDOW))["abandon_rate_30d"]
    assert (0, "worst 2.44% (1/41)") == (us.violations, us.detail[:18])


async def test_bad_bounds_are_refused_and_an_unknown_campaign_is_not_found(store: Store) -> None:
    ids = await _campaign(store)
    with pytest.raises(ValidationError, match="to"):
        await store.compliance_report(ids[0], since=UNTIL, until=SINCE, abandon_window_s=1.0, abandon_cap=CAP)
    with pytest.raises(Exception, match="nope"):
        await store.compliance_report("nope", since=SINCE, until=UNTIL, abandon_window_s=1.0, abandon_cap=CAP)


async def test_prune_refuses_less_than_six_months_and_deletes_only_older_closed_records(store: Store) -> None:
    ids = await _campaign(store)
    old = await _attempt(store, ids, utc(2025, 1, 1, 12), "busy")
    kept = await _attempt(store, ids, utc(2026, 6, 1, 12), "busy")
    for minute in (utc(2025, 1, 1, 12), utc(2026, 6, 1, 12)):  # the wallboard's agent time
        await store.pool.execute(
            "INSERT INTO campaign_occupancy (campaign_id, minute, logged_in_s, talking_s)"
            " VALUES ($1, $2, 60, 30)",
            ids[1],
            minute,
        )
    with pytest.raises(ValidationError, match="six months"):
        await store.prune_records(90, at=utc(2026, 7, 1))
    done = await store.prune_records(365, at=utc(2026, 7, 1))
    assert done.attempts >= 1 and done.occupancy_minutes >= 1
    left = {r["id"] for r in await store.pool.fetch("SELECT id FROM attempts WHERE contact_id = $1", ids[2])}
    assert (old in left, kept in left) == (False, True)
    minutes = await store.pool.fetch("SELECT minute FROM campaign_occupancy WHERE campaign_id = $1", ids[1])
    assert [utc(2026, 6, 1, 12)] == [r["minute"] for r in minutes]


def test_the_text_marks_a_capped_id_list() -> None:
    report = ComplianceReport("c", "us", SINCE, UNTIL, 9, 3, 1, (AuditRow("do_not_call", 25, (1, 2), ""),))
    text = format_report(report)
    assert "do_not_call  25          1,2,..." in text and text.endswith("25 VIOLATIONS")
