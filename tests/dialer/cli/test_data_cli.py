"""``dialer contacts import|list|search|show|export``, ``attempts``, ``report`` through the real
CLI against a real database (issue 16 items 1-2)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path

from dialer.model import AttemptResult, Outcome
from dialer.store.store import Store
from tests.dialer.cli.test_cli import cli_dsn, dialer  # noqa: F401  # the CLI fixtures
from tests.dialer.conftest import make_campaign, utc

# Polish Excel's CSV: cp1250, ';'. Line 3 holds the first non-ASCII byte.
ROWS = [
    "imie;phone;miasto",
    "Anna;501 234 567;Krakow",  # 2
    "Łucja;502 234 567;Łódź",  # 3
    "Zła;12;Gdańsk",  # 4: invalid
    "Duplikat;+48 501 234 567;Poznań",  # 5: duplicate of line 2
    "Toll;+1 800 555 0100;NYC",  # 6: US toll-free, accepted with a warning
    "Ewa;;Opole",  # 7: no number
    "Ola;503 234 567;Żory",  # 8
]
TEXT = "\r\n".join(ROWS) + "\r\n"


def test_import_encoding_dry_run_rejects_quiet_exit_codes_and_warnings(dialer, tmp_path: Path) -> None:  # noqa: F811
    assert 0 == dialer("schedule", "create", "DATA_S", "--daily", "--window", "08:00-20:00")[0]
    assert 0 == dialer("campaign", "create", "DATA_C", "--schedule", "DATA_S")[0]
    source = tmp_path / "excel.csv"
    source.write_bytes(TEXT.encode("cp1250"))

    code, out, err = dialer("contacts", "import", "DATA_C", str(source), "--name-column", "imie")
    assert 1 == code and "" == out
    assert "line 3, column 1 is not valid utf-8" in err and "try encoding cp1250" in err

    args = ("contacts", "import", "DATA_C", str(source), "--name-column", "imie", "--encoding", "cp1250")
    code, out, _ = dialer(*args, "--dry-run")
    assert 3 == code
    assert "would import 4 rows into DATA_C, rejected 3" in out and "dry run: nothing stored" in out
    assert (0, "no contacts match\n") == dialer("contacts", "list", "DATA_C")[:2]

    rejects = tmp_path / "rejects.csv"
    code, out, _ = dialer(*args, "--quiet", "--rejects", str(rejects))
    assert 3 == code
    lines = out.splitlines()
    assert lines[0].startswith("imported 4 rows into DATA_C, rejected 3")
    assert not any(line.startswith("line ") for line in lines)  # quiet: the summary only
    assert "warning: 1 imported rows cannot be dialled as things stand:" == lines[1]
    assert lines[2].startswith("  1 x toll-free number") and lines[2].endswith("(first at line 6)")
    assert f"3 rejected rows written to {rejects}" == lines[-1]
    with rejects.open(encoding="utf-8", newline="") as f:
        assert [
            ["line", "reason", "imie", "phone", "miasto"],
            ["4", "invalid number in column phone: '12' (too short)", "Zła", "12", "Gdańsk"],
            ["5", "duplicate of line 2 (+48501234567)", "Duplikat", "+48 501 234 567", "Poznań"],
            ["7", "missing value in column phone", "Ewa", "", "Opole"],
        ] == list(csv.reader(f))

    code, out, _ = dialer(*args)  # again: every row is rejected, in line order, one wording each
    assert 1 == code
    assert [
        "line 2: duplicate of a contact already in the campaign (+48501234567)",
        "line 3: duplicate of a contact already in the campaign (+48502234567)",
        "line 4: invalid number in column phone: '12' (too short)",
        "line 5: duplicate of line 2 (+48501234567)",
    ] == out.splitlines()[:4]

    code, out, _ = dialer("contacts", "list", "DATA_C", "--limit", "3")
    assert 0 == code
    body = out.splitlines()
    assert ["Anna", "Łucja", "Toll"] == [line.split()[2] for line in body[1:4]]
    assert body[-1].startswith("more: --after ")
    code, out, _ = dialer("contacts", "list", "DATA_C", "--after", body[-1].split()[-1])
    assert ["Ola"] == [line.split()[2] for line in out.splitlines()[1:]]
    code, out, _ = dialer("contacts", "search", "--name", "łUC")
    assert 0 == code and 2 == len(out.splitlines()) and "+48502234567" in out
    code, out, _ = dialer("contacts", "search", "--number", "503 234", "--campaign", "DATA_C")
    assert 0 == code and "Ola" in out and "Anna" not in out
    contact_id = out.splitlines()[1].split()[0]
    code, out, _ = dialer("contacts", "show", contact_id)
    assert 0 == code
    assert f"contact {contact_id} in DATA_C: Ola" in out and "number 1: +48503234567 (" in out
    assert "miasto: Żory" in out

    exported = tmp_path / "out.csv"
    code, out, _ = dialer("contacts", "export", "--campaign", "DATA_C", "-o", str(exported))
    assert (0, f"4 contacts written to {exported}\n") == (code, out)
    with exported.open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert ["id", "campaign", "name", "status", "timezone", "phone"] == table[0][:6] and "miasto" == table[0][
        -1
    ]
    assert ["Anna", "Łucja", "Toll", "Ola"] == [r[2] for r in table[1:]]
    assert "Łódź" == table[2][-1]


def test_a_move_that_fails_prints_nothing_before_its_error(dialer) -> None:  # noqa: F811
    code, out, err = dialer(
        "contacts", "move", "--from", "NOPE", "--status", "Dzwonić", "--to", "X", "--new-status", "Dzwonić"
    )
    assert (1, "") == (code, out) and err.startswith("error: campaign: not found (got 'NOPE')")
    code, out, err = dialer("contacts", "move", "--from", "NOPE", "--status", "Dzwonić", "--count")
    assert (1, "") == (code, out) and "NOPE" in err


NOON = utc(2026, 3, 10, 12)


async def _calls(dsn: str) -> str:
    store = await Store.open(dsn, min_size=1, max_size=2)
    try:
        camp = await make_campaign(store, max_attempts_per_day=10, timezone="Europe/Warsaw")
        agent = await store.create_agent("cli_rep_agent")
        for i in range(3):
            await store.add_contact(camp, [f"+4852000000{i}"])
        for at, outcome, extra in [
            (NOON, Outcome.ANSWERED, {"answered_at": NOON, "agent_id": agent.id}),
            (NOON + dt.timedelta(minutes=1), Outcome.ABANDONED, {"answered_at": NOON}),
            (NOON + dt.timedelta(days=1), Outcome.BUSY, {}),
        ]:
            [lease] = await store.lease_contacts(camp, at=at, limit=1, owner="cli")
            attempt = await store.open_attempt(lease, at=at)
            await store.close_attempt(
                attempt,
                AttemptResult(outcome, ended_at=at + dt.timedelta(seconds=40), **extra),  # type: ignore[arg-type]
            )
        return camp
    finally:
        await store.close()


def test_attempts_and_the_report_in_three_formats(dialer, cli_dsn: str, tmp_path: Path) -> None:  # noqa: F811
    camp = asyncio.run(_calls(cli_dsn))
    code, out, _ = dialer("attempts", "list", "--campaign", camp)
    assert 0 == code and 4 == len(out.splitlines())
    code, out, _ = dialer(
        "attempts", "list", "--campaign", camp, "--outcome", "busy", "--since", "2026-03-11"
    )
    assert 0 == code and ["busy"] == [line.split()[6] for line in out.splitlines()[1:]]
    code, out, _ = dialer("attempts", "export", "--campaign", camp, "--until", "2026-03-11T00:00+00:00")
    assert 0 == code
    rows = list(csv.reader(io.StringIO(out)))
    assert ["answered", "abandoned"] == [r[7] for r in rows[1:]] and "cli_rep_agent" == rows[1][9]

    span = ("--campaign", camp, "--since", "2026-03-10", "--until", "2026-03-12")
    code, out, _ = dialer("report", *span, "--format", "json")
    assert 0 == code
    report = json.loads(out)
    assert "Europe/Warsaw" == report["timezone"]
    assert [["2026-03-10", "abandoned", 1], ["2026-03-10", "answered", 1], ["2026-03-11", "busy", 1]] == [
        [o["day"], o["outcome"], o["attempts"]] for o in report["outcomes"]
    ]
    assert [(2, 1, "0.5000")] == [(w["live"], w["abandoned"], w["rate"]) for w in report["abandons"]]
    assert [("cli_rep_agent", 1, "40", "1.0000")] == [
        (t["agent"], t["calls"], t["talk_s"], t["share"]) for t in report["talk"]
    ]
    code, out, _ = dialer("report", *span, "--format", "csv")
    assert 0 == code
    rows = list(csv.reader(io.StringIO(out)))
    assert ["section", "day", "outcome", "attempts"] == rows[0]
    assert ["talk", "cli_rep_agent", "1", "40", "1.0000"] == rows[-1]
    code, out, _ = dialer("report", *span, "--window", "hour")
    assert 0 == code
    assert "abandon rate per hour (abandoned / live answers):" in out and "talk share per agent:" in out

    for argv, field in [
        (("attempts", "list", "--outcome", "maybe"), "outcome"),
        (("attempts", "list", "--since", "yesterday"), "since"),
        (("attempts", "list", "--limit", "0"), "limit"),
        (("attempts", "export", "--campaign", "NOPE"), "campaign"),
        (("report", "--format", "xml"), "format"),
        (("report", "--window", "month"), "window"),
        (("contacts", "search", "--number", "12"), "number"),
        (("contacts", "list", "NOPE"), "campaign"),
        (("contacts", "show", "999999999"), "contact"),
        (("contacts", "export", "-o", str(tmp_path / "no" / "such.csv")), "output"),
        (("contacts", "import", camp, str(tmp_path / "x.csv"), "--encoding", "klingon"), "file"),
    ]:
        code, out, err = dialer(*argv)
        assert 1 == code and err.startswith("error: ") and field in err, (argv, err)
        assert "Traceback" not in out + err
