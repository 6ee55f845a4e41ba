"""``dialer campaign edit|delete``, ``schedule edit|remove``, ``agent list|edit|remove``,
``dnc list|remove|import`` (issue 16 item 1) against a real database: the same store functions
as the API, errors as ``error: FIELD: REASON (got VALUE)``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer.contacts.dnc_file import read_dnc_lines
from dialer.store.store import Store
from tests.dialer.cli.test_users import dialer  # noqa: F401  (the same CLI runner fixture)


def test_campaign_edit_changes_what_is_named_and_delete_keeps_dialled_campaigns(dialer) -> None:  # noqa: F811
    assert 0 == dialer("schedule", "create", "DAY", "--daily", "--window", "09:00-17:00")[0]
    assert 0 == dialer("schedule", "create", "LATE", "--daily", "--window", "12:00-20:00")[0]
    assert 0 == dialer("campaign", "create", "SALES", "--schedule", "DAY")[0]
    code, out, err = dialer(
        "campaign",
        "edit",
        "SALES",
        "--hours",
        "09:00-20:00",
        "--schedule",
        "LATE",
        "--mode",
        "preview",
        "--ring-timeout",
        "30",
    )
    assert 0 == code, err
    assert "campaign SALES changed: local_hours_end, local_hours_start, mode, ring_timeout_s, schedule" in out
    code, out, _ = dialer("campaign", "show", "SALES")
    assert "mode preview" in out and "schedule LATE" in out and "ring 30s" in out and "09:00-20:00" in out
    assert 0 == dialer("campaign", "set", "SALES", "--priority", "2")[0]  # the old name still works
    code, _, err = dialer("campaign", "edit", "SALES", "--hours", "06:00-20:00")
    assert 1 == code and "error: hours: the us profile allows calls only within 08:00-21:00" in err
    code, _, err = dialer("campaign", "edit", "SALES", "--schedule", "NOPE")
    assert 1 == code and "error: schedule: no such schedule (got 'NOPE')" in err
    # a campaign that dialled is kept; one that never did goes with its contacts
    assert 0 == dialer("campaign", "create", "DIALLED", "--schedule", "DAY")[0]
    asyncio.run(_one_attempt(dialer.dsn, "DIALLED"))
    code, _, err = dialer("campaign", "delete", "DIALLED")
    assert 1 == code and "error: campaign: it has 1 attempts" in err
    assert 0 == dialer("campaign", "start", "SALES")[0]
    code, _, err = dialer("campaign", "delete", "SALES")
    assert 1 == code and "error: state: only a stopped campaign can be deleted" in err
    assert 0 == dialer("campaign", "stop", "SALES")[0]
    code, out, _ = dialer("campaign", "delete", "SALES")
    assert 0 == code and "deleted campaign SALES" in out
    assert "SALES" not in dialer("campaign", "list")[1]
    # the schedule SALES used is free now; DAY is still DIALLED's
    code, _, err = dialer("schedule", "remove", "DAY")
    assert (
        1 == code
        and "error: schedule: campaigns dial in it; give them another schedule first: DIALLED" in err
    )
    assert 0 == dialer("schedule", "remove", "LATE")[0]


async def _one_attempt(dsn: str, campaign: str) -> None:
    """A call made: one contact, one attempt row (written as the engine writes it)."""
    store = await Store.open(dsn, migrate_now=False)
    try:
        contact = await store.add_contact(campaign, ["+48501234567"], name="Ala")
        await store.pool.execute(
            "INSERT INTO attempts (contact_id, campaign_id, e164, engine_id, started_at)"
            " SELECT id, campaign_id, '+48501234567', 'cli-test', now() FROM contacts WHERE id = $1",
            contact,
        )
    finally:
        await store.close()


def test_schedule_edit_switches_between_a_window_and_a_run_at_time(dialer) -> None:  # noqa: F811
    assert 0 == dialer("schedule", "create", "S", "--weekly", "mon,fri", "--window", "09:00-17:00")[0]
    code, out, err = dialer(
        "schedule",
        "edit",
        "S",
        "--at",
        "06:15",
        "--monthly",
        "--days",
        "1,15",
        "--timezone",
        "Europe/Warsaw",
        "--rename",
        "REPORT",
        "--no-active",
    )
    assert 0 == code, err
    assert "schedule REPORT: monthly days 1,15 at 06:15 (Europe/Warsaw) inactive" in out
    code, out, _ = dialer(
        "schedule", "edit", "REPORT", "--window", "08:00-12:00", "--every", "20", "--active"
    )
    assert 0 == code and "monthly days 1,15 08:00-12:00 every 20 min (Europe/Warsaw)" in out
    code, _, err = dialer("schedule", "edit", "REPORT", "--every", "0", "--weekly", "sat")
    assert 0 == code, err
    assert "weekly sat 08:00-12:00 (Europe/Warsaw)" in dialer("schedule", "list")[1]
    code, _, err = dialer("schedule", "edit", "REPORT", "--window", "12:00-12:00")
    assert 1 == code and "error: window: start equals end" in err
    code, _, err = dialer("schedule", "edit", "REPORT")
    assert 1 == code and "error: options: name at least one thing to change" in err
    code, _, err = dialer("schedule", "edit", "NOPE", "--active")
    assert 1 == code and "error: schedule: not found (got 'NOPE')" in err


def test_agent_list_edit_remove(dialer) -> None:  # noqa: F811
    assert 0 == dialer("schedule", "create", "DAY", "--daily", "--window", "09:00-17:00")[0]
    for name in ("A", "B"):
        assert 0 == dialer("campaign", "create", name, "--schedule", "DAY")[0]
    assert 0 == dialer("agent", "create", "anna", "--interface", "PJSIP/1001", "--campaign", "A")[0]
    code, out, _ = dialer("agent", "list")
    assert ["anna", "PJSIP/1001", "any", "yes", "A"] == out.splitlines()[1].split()
    code, out, err = dialer(
        "agent",
        "edit",
        "anna",
        "--interface",
        "PJSIP/1002",
        "--inactive",
        "--campaign",
        "B",
        "--campaign",
        "A",
    )
    assert 0 == code, err
    assert "agent anna changed: interface, active, campaigns" in out
    listed = dialer("agent", "list")[1].splitlines()[1].split()
    assert ["anna", "PJSIP/1002", "any", "no", "A,", "B"] == listed
    assert 0 == dialer("agent", "edit", "anna", "--no-campaigns", "--active")[0]
    assert ["anna", "PJSIP/1002", "any", "yes"] == dialer("agent", "list")[1].splitlines()[1].split()
    code, _, err = dialer("agent", "edit", "anna", "--interface", "bogus")
    assert 1 == code and "error: interface:" in err
    code, _, err = dialer("agent", "edit", "anna", "--campaign", "NOPE")
    assert 1 == code and "error: campaign: not found (got 'NOPE')" in err
    assert 0 == dialer("agent", "remove", "anna")[0]
    code, _, err = dialer("agent", "remove", "anna")
    assert 1 == code and "error: agent: not found (got 'anna')" in err


def test_dnc_import_list_remove(dialer, tmp_path: Path) -> None:  # noqa: F811
    assert 0 == dialer("schedule", "create", "DAY", "--daily", "--window", "09:00-17:00")[0]
    assert 0 == dialer("campaign", "create", "C", "--schedule", "DAY")[0]
    assert 0 == dialer("dnc", "add", "+48 501 234 567", "--reason", "asked by phone")[0]
    listing = tmp_path / "dnc.csv"
    listing.write_bytes(
        "numer;powód\n601 234 568;prosił\n\n# comment\nabc 12\n+48 501 234 567\n".encode("cp1250")
    )
    code, _, err = dialer("dnc", "import", str(listing), "--region", "PL", "--encoding", "utf-8")
    assert 1 == code and "error: encoding: line 1 is not utf-8; try --encoding cp1250" in err
    code, out, err = dialer(
        "dnc",
        "import",
        str(listing),
        "--region",
        "PL",
        "--encoding",
        "cp1250",
        "--campaign",
        "C",
        "--reason",
        "list 2026",
    )
    assert 3 == code, err
    assert "line 5: 'abc 12':" in out
    assert "2 numbers on the list of C (2 new, 0 already there); 1 lines rejected" in out
    code, out, _ = dialer("dnc", "list")
    assert 0 == code and "1-3 of 3 entries" in out
    code, out, _ = dialer("dnc", "list", "--campaign", "C", "--search", "2345 68")
    assert ["+48601234568", "C"] == out.splitlines()[1].split()[:2] and "1-1 of 1 entries" in out
    code, out, _ = dialer("dnc", "list", "--global")
    assert "+48501234567" in out and "1-1 of 1 entries" in out
    code, out, _ = dialer("dnc", "remove", "501 234 567", "--region", "PL")
    assert 0 == code and "+48501234567 is off the global list" in out
    code, _, err = dialer("dnc", "remove", "+48501234567")
    assert 1 == code and "error: number: not on the global list (got '+48501234567')" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("number\nnope\n")
    code, out, _ = dialer("dnc", "import", str(empty))
    assert 1 == code and "0 numbers on the global list" in out


def test_the_dnc_file_reader_keeps_line_order_and_skips_a_header() -> None:
    read = read_dnc_lines(["phone,reason", "+48 501 234 567,x", "x1", "", "0048501234567", "12"], "PL")
    assert read.header and ["+48501234567"] == read.numbers
    assert [3, 6] == [line for line, _, _ in read.rejected]
