"""The store keeps the campaign rules (issue 11 items 3-5): for every front end, and in the schema.

Also migration 004 over rows stored before it: it must not fail, and what it did to each row
that breaks a new rule is repaired and written down.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import asyncpg
import pytest

from dialer.errors import NotFound, ValidationError
from dialer.model import (
    ANSWERED_NO_DISPOSITION,
    AmdAction,
    AttemptResult,
    Compliance,
    DialingMode,
    Outcome,
    Qualifier,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store import migrate
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, unique, utc

NOON = utc(2026, 3, 10, 12)


async def test_a_new_campaign_defaults_to_answered_no_disposition_and_refuses_a_call_status(
    store: Store,
) -> None:
    name = await make_campaign(store)
    campaign = await store.get_campaign(name)
    assert ANSWERED_NO_DISPOSITION == campaign.default_disposition
    assert ANSWERED_NO_DISPOSITION in {s.name for s in await store.list_statuses(name)}
    with pytest.raises(ValidationError) as info:
        await store.update_campaign(name, default_disposition="dzwonić")  # any case: still "call"
    assert ("default_disposition", "Dzwonić") == (info.value.field, info.value.value)
    with pytest.raises(ValidationError) as info:
        await make_campaign(store, default_disposition="Dzwonić")
    assert "default_disposition" == info.value.field
    with pytest.raises(NotFound):
        await store.update_campaign(name, default_disposition="Nie ma takiego")
    assert ANSWERED_NO_DISPOSITION == (await store.get_campaign(name)).default_disposition


async def test_an_answered_contact_is_never_due_again_while_it_waits_for_its_disposition(
    store: Store,
) -> None:
    name = await make_campaign(store)
    cid = await store.add_contact(name, ["+48510000777"])
    [lease] = await store.lease_contacts(name, at=NOON, limit=1, owner="e1", ttl_s=60)
    att = await store.open_attempt(lease, at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.ANSWERED, ended_at=NOON, answered_at=NOON))
    contact = await store.get_contact(cid)
    assert ANSWERED_NO_DISPOSITION == contact.status
    # even after the answered hold has expired (a crashed engine), no engine leases it again
    later = NOON + dt.timedelta(days=2)
    for reserved in (False, True):
        assert [] == await store.lease_contacts(
            name, at=later, limit=5, owner="e2", ttl_s=60, agent_reserved=reserved
        )
    # and the engine that still holds it finds it awaiting the agent's decision
    assert [att] == [a.id for a in await store.awaiting_disposition("e1")]


async def test_the_issues_unlawful_campaigns_are_refused_by_the_store(store: Store) -> None:
    base = {"mode": DialingMode.PROGRESSIVE, "demo": False, "local_hours_start": dt.time(8),
            "local_hours_end": dt.time(21)}
    cases = [
        ({"local_hours_start": dt.time(22), "local_hours_end": dt.time(7)}, "hours"),
        ({"ring_timeout_s": 100_000}, "ring_timeout_s"),
        ({"caller_id": "not a number"}, "caller_id"),
        ({"compliance": Compliance.ZERO, "amd": True}, "amd_action"),
        ({"compliance": Compliance.UK, "amd": True, "amd_false_positive": 0.046}, "amd_false_positive"),
    ]
    for overrides, field in cases:
        with pytest.raises(ValidationError) as info:
            await make_campaign(store, **{**base, **overrides})
        assert field == info.value.field, overrides
    name = await make_campaign(store, **{**base, "caller_id": "+48 22 123 45 67"})
    assert "+48221234567" == (await store.get_campaign(name)).caller_id


async def test_amd_settings_are_stored_edited_and_checked_on_edit(store: Store) -> None:
    name = await make_campaign(store, compliance=Compliance.UK, amd=True, amd_false_positive=0.01)
    c = await store.get_campaign(name)
    assert (True, AmdAction.HANGUP, 0.01) == (c.amd, c.amd_action, c.amd_false_positive)
    c = await store.update_campaign(name, amd_action=AmdAction.MESSAGE, amd_message="custom/vm-drop")
    assert (AmdAction.MESSAGE, "custom/vm-drop") == (c.amd_action, c.amd_message)
    with pytest.raises(ValidationError) as info:
        await store.update_campaign(name, amd_false_positive=0.02)  # no room left under the 3 % cap
    assert "amd_false_positive" == info.value.field
    with pytest.raises(ValidationError):
        await store.update_campaign(name, schedule="other")
    assert 0.01 == (await store.get_campaign(name)).amd_false_positive  # nothing half-written


async def test_the_schema_refuses_what_the_rules_refuse(store: Store) -> None:
    """A front end that bypassed the store would still meet the CHECK constraints."""
    name = await make_campaign(store)
    for sql in (
        "UPDATE campaigns SET ring_timeout_s = 121 WHERE name = $1",
        "UPDATE campaigns SET demo = false, local_hours_start = '07:00', local_hours_end = '21:00'"
        " WHERE name = $1",
        "UPDATE campaigns SET compliance = 'zero', mode = 'progressive', amd = true WHERE name = $1",
        "UPDATE campaigns SET compliance = 'uk', amd = true, amd_false_positive = 0.05 WHERE name = $1",
    ):
        with pytest.raises(asyncpg.CheckViolationError):
            await store.pool.execute(sql, name)


async def test_agent_interfaces_are_well_formed_and_unique_ignoring_case(store: Store) -> None:
    a = unique("ag")
    await store.create_agent(a, f"PJSIP/{a}")
    with pytest.raises(ValidationError) as info:
        await store.create_agent(unique("ag"), f"pjsip/{a.upper()}")
    assert ("interface", "another agent already uses this interface (compared ignoring case)") == (
        info.value.field, info.value.reason
    )
    with pytest.raises(ValidationError) as info:
        await store.create_agent(unique("ag"), "extension 101")
    assert "interface" == info.value.field
    await store.create_agent(unique("ag"), "")  # none yet: given at login
    await store.create_agent(unique("ag"), "")


async def test_names_compare_ignoring_case(store: Store) -> None:
    name = await make_campaign(store)
    with pytest.raises(ValidationError, match="already exists") as info:
        await make_campaign(store, name=name.lower())
    assert "name" == info.value.field
    status = unique("Stan")
    await store.create_status(StatusSpec(status, SystemStatus.DO_NOT_CALL), campaign=name)
    with pytest.raises(ValidationError, match="already has this status"):
        await store.create_status(StatusSpec(status.upper(), SystemStatus.DO_NOT_CALL), campaign=name)
    agent = unique("Anna")
    await store.create_agent(agent)
    with pytest.raises(ValidationError, match="already exists"):
        await store.create_agent(agent.lower())


async def test_contradictory_statuses_and_never_open_schedules_are_refused(store: Store) -> None:
    with pytest.raises(ValidationError) as info:
        await store.create_status(StatusSpec(unique("S"), SystemStatus.MY_RECORD, trigger=Trigger.BUSY))
    assert "trigger" == info.value.field
    with pytest.raises(asyncpg.CheckViolationError):
        await store.pool.execute(
            "INSERT INTO statuses (name, system_status, qualifier, trigger)"
            " VALUES ($1, 'call', 'success', 'busy')",
            unique("S"),
        )
    never = Schedule(name=unique("FEB31"), frequency=Frequency.MONTHLY, months=frozenset({2}),
                     days=frozenset({31}), window_start=dt.time(9), window_end=dt.time(17))
    with pytest.raises(ValidationError) as info:
        await store.create_schedule(never)
    assert "days" == info.value.field
    assert never.name not in {s.name for s in await store.list_schedules()}
    await store.create_status(
        StatusSpec(unique("S"), SystemStatus.NOT_BEFORE, Qualifier.CALLBACK_RELATIVE, Trigger.MACHINE)
    )


def test_migration_004_repairs_and_notes_rows_that_break_the_new_rules(
    make_database: Callable[[], str],
) -> None:
    asyncio.run(_migration_004_over_old_rows(make_database()))


async def _migration_004_over_old_rows(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for mig in [m for m in migrate.available() if m.version < 4]:
            await conn.execute(mig.sql)
            await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2)", mig.version, mig.name)
        await conn.execute(
            """INSERT INTO schedules (name, frequency, window_start, window_end) VALUES
                   ('W', 'daily', '00:00', '00:00'), ('DEMO_ALL_DAY', 'daily', '00:00', '00:00');
               INSERT INTO campaigns (name, schedule_id, state, local_hours_start, local_hours_end,
                                      ring_timeout_s) VALUES
                   ('NIGHT', 1, 'running', '22:00', '07:00', 20),
                   ('SLOW', 1, 'paused', '09:00', '17:00', 100000),
                   ('FINE', 1, 'running', '09:00', '17:00', 30),
                   ('DEMO', 2, 'running', '00:00', '00:00', 20);
               INSERT INTO agents (name, interface) VALUES
                   ('a1', 'PJSIP/101'), ('a2', 'pjsip/101'), ('a3', 'extension 7'), ('a4', '');
               INSERT INTO statuses (name, system_status, qualifier, trigger)
                   VALUES ('Sprzedane auto', 'do_not_call', 'success', 'busy');"""
        )
        await migrate.migrate(conn)
        camps = {
            r["name"]: (r["state"], f"{r['local_hours_start']:%H:%M}-{r['local_hours_end']:%H:%M}",
                        r["ring_timeout_s"], r["demo"], r["dd"])
            for r in await conn.fetch(
                "SELECT c.*, s.name AS dd FROM campaigns c"
                " LEFT JOIN statuses s ON s.id = c.default_disposition_id"
            )
        }
        agents = {r["name"]: r["interface"] for r in await conn.fetch("SELECT name, interface FROM agents")}
        notes = {
            (r["table_name"], r["field"], r["old_value"], r["action"])
            for r in await conn.fetch("SELECT * FROM migration_notes")
        }
        kept = await conn.fetchval("SELECT count(*) FROM statuses WHERE name = 'Sprzedane auto'")
    finally:
        await conn.close()
    answered = ANSWERED_NO_DISPOSITION
    assert {
        "NIGHT": ("stopped", "08:00-21:00", 20, False, answered),
        "SLOW": ("paused", "09:00-17:00", 120, False, answered),  # a shorter ring harms nobody
        "FINE": ("running", "09:00-17:00", 30, False, answered),
        "DEMO": ("running", "00:00-00:00", 20, True, answered),
    } == camps
    assert {"a1": "PJSIP/101", "a2": "", "a3": "", "a4": ""} == agents
    assert {
        ("campaigns", "hours", "22:00-07:00 running", "outside 08:00-21:00: set to 08:00-21:00 and stopped"),
        ("campaigns", "ring_timeout_s", "100000", "lowered to 120"),
        ("agents", "interface", "pjsip/101", "duplicate of an earlier agent: cleared"),
        ("agents", "interface", "extension 7", "malformed: cleared"),
        ("statuses", "trigger", "do_not_call/success/busy", "contradictory: kept; review it"),
    } == notes
    assert 1 == kept
