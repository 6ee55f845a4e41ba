"""The command-line contract, run through ``dialer.cli.main`` against a real database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dialer.cli.main import main
from dialer.store import migrate

CSV = """name,phone,phone2,timezone,city
Anna,501 234 567,,,Kraków
Bartek,+48 601 234 568,22 123 45 67,,Gdańsk
Celina,not a number,,,Łódź
Darek,501 234 567,,,Poznań
Ewa,,,,Opole
Franek,+1 212 555 0147,,America/New_York,NYC
Gosia,602 345 678,,Mars/Base,Wrocław
"""


@pytest.fixture(scope="module")
def cli_dsn(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
def dialer(cli_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DIALER_DSN", cli_dsn)
    monkeypatch.delenv("DIALER_CONFIG", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_contract_forms_in_order(dialer, tmp_path: Path) -> None:
    code, out, _ = dialer("db", "migrate")
    assert 0 == code and f"database is at version {migrate.available()[-1].version}" in out
    code, out, _ = dialer("db", "migrate")
    assert 0 == code and "(0 applied now)" in out

    assert (
        0
        == dialer(
            "schedule", "create", "WORKDAYS", "--weekly", "mon,tue,wed,thu,fri", "--window", "09:00-20:00"
        )[0]
    )
    assert 0 == dialer("schedule", "create", "REPORTS", "--daily", "--at", "07:30")[0]
    code, out, _ = dialer("schedule", "list")
    assert 0 == code and "weekly mon,tue,wed,thu,fri 09:00-20:00 (UTC)" in out and "daily at 07:30" in out

    assert 0 == dialer("campaign", "create", "SALES", "--schedule", "WORKDAYS", "--mode", "predictive")[0]
    assert 0 == dialer("campaign", "create", "RETENTION", "--schedule", "WORKDAYS")[0]
    code, out, _ = dialer("campaign", "list")
    assert 0 == code and "SALES" in out and "predictive" in out and "RETENTION" in out

    code, out, _ = dialer("status", "list", "--campaign", "SALES")
    assert 0 == code and "Dzwonić" in out and "Nie dzwonić" in out

    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    code, out, _ = dialer("contacts", "import", "SALES", str(csv_file), "--region", "PL")
    assert 0 == code
    assert "imported 3 rows into SALES, rejected 4" in out
    rejected = sorted(line.split(":")[0] for line in out.splitlines() if line.startswith("line "))
    assert ["line 4", "line 5", "line 6", "line 8"] == rejected

    code, out, _ = dialer(
        "contacts",
        "move",
        "--from",
        "SALES",
        "--status",
        "Dzwonić",
        "--to",
        "RETENTION",
        "--new-status",
        "Dzwonić",
        "--limit",
        "10",
    )
    assert 0 == code
    assert "3 records in SALES / Dzwonić" in out
    assert "moved 3 of 3 records from SALES / Dzwonić to RETENTION / Dzwonić" in out

    code, out, _ = dialer("campaign", "show", "RETENTION")
    assert 0 == code and "contacts 3" in out


def test_wrong_input_names_the_field_and_exits_non_zero(dialer) -> None:
    dialer("schedule", "create", "ERRS", "--daily", "--window", "00:00-00:00")
    dialer("schedule", "create", "ERRS_AT", "--daily", "--at", "07:30")
    cases = [
        (("schedule", "create", "X1", "--daily", "--window", "25:00-20:00"), "window"),
        (("schedule", "create", "X2", "--weekly", "mon,xyz", "--at", "07:00"), "weekdays"),
        (("schedule", "create", "X3", "--daily"), "time"),
        (("campaign", "create", "BAD1", "--schedule", "NOPE"), "schedule"),
        (("campaign", "create", "BAD0", "--schedule", "ERRS_AT"), "schedule"),
        (("campaign", "create", "BAD2", "--schedule", "ERRS", "--ring-timeout", "10"), "ring_timeout_s"),
        (("campaign", "create", "BAD3", "--schedule", "ERRS", "--mode", "turbo"), "mode"),
        (
            (
                "campaign",
                "create",
                "BAD4",
                "--schedule",
                "ERRS",
                "--compliance",
                "zero",
                "--mode",
                "predictive",
            ),
            "mode",
        ),
        (("campaign", "create", "BAD5", "--schedule", "ERRS", "--timezone", "Mars/Base"), "timezone"),
        (("status", "create", "S1", "--system", "maybe"), "system"),
        (("campaign", "show", "NOPE"), "campaign"),
    ]
    for argv, field in cases:
        code, _, err = dialer(*argv)
        assert 1 == code, argv
        assert err.startswith("error: ") and field in err, (argv, err)


def test_transfer_refusal_is_a_clear_error(dialer) -> None:
    dialer("schedule", "create", "TR", "--daily", "--window", "00:00-00:00")
    dialer("campaign", "create", "TR_A", "--schedule", "TR")
    dialer("campaign", "create", "TR_B", "--schedule", "TR")
    assert 0 == dialer("status", "create", "Plain", "--campaign", "TR_B")[0]
    code, _, err = dialer(
        "contacts", "move", "--from", "TR_A", "--status", "Dzwonić", "--to", "TR_B", "--new-status", "Plain"
    )
    assert 1 == code and "new_status" in err and "qualifier is none" in err


def test_import_of_a_missing_file_fails(dialer, tmp_path: Path) -> None:
    dialer("schedule", "create", "IM", "--daily", "--window", "00:00-00:00")
    dialer("campaign", "create", "IM_A", "--schedule", "IM")
    code, _, err = dialer("contacts", "import", "IM_A", str(tmp_path / "nope.csv"))
    assert 1 == code and "file" in err


def test_demo_on_the_embedded_database_is_idempotent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIALER_DSN", raising=False)
    monkeypatch.delenv("DIALER_CONFIG", raising=False)
    monkeypatch.setenv("DIALER_HOME", str(tmp_path / "home"))
    assert 0 == main(["demo", "--build-only", "--contacts", "120"])
    first = capsys.readouterr().out
    assert "created campaign DEMO" in first and "imported 120 generated contacts" in first
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()
    assert 0 == main(["demo", "--build-only", "--contacts", "120"])
    second = capsys.readouterr().out
    assert "created campaign" not in second and "already has 120 contacts" in second
    assert 0 == main(["campaign", "show", "DEMO"])
    assert "contacts 120" in capsys.readouterr().out


def test_monthly_schedule_with_months_days_and_interval(dialer) -> None:
    code, out, err = dialer(
        "schedule",
        "create",
        "MONTHLY_REPORT",
        "--monthly",
        "--months",
        "1,4,7,10",
        "--days",
        "1,15",
        "--window",
        "08:00-10:00",
        "--every",
        "30",
        "--timezone",
        "Europe/Warsaw",
    )
    assert 0 == code, err
    assert "monthly months 1,4,7,10 days 1,15 08:00-10:00 every 30 min (Europe/Warsaw)" in out
    code, _, err = dialer("schedule", "create", "BAD_MIX", "--daily", "--days", "1", "--at", "07:00")
    assert 1 == code
    assert "--months and --days belong to a --monthly schedule" in err


def test_compliance_report_and_prune(dialer) -> None:
    assert 0 == dialer("schedule", "create", "AUDITED", "--daily", "--window", "08:00-21:00")[0]
    assert 0 == dialer("campaign", "create", "AUDIT", "--schedule", "AUDITED", "--compliance", "uk")[0]
    code, out, _ = dialer(
        "compliance", "report", "--campaign", "AUDIT", "--from", "2026-01-01", "--to", "2026-02-01"
    )
    assert 0 == code
    assert "profile uk" in out and "abandon_rate_24h" in out and out.rstrip().endswith("0 violations")
    code, _, err = dialer("compliance", "report", "--campaign", "AUDIT", "--from", "yesterday")
    assert 1 == code and "from: must be an ISO 8601 date" in err
    code, _, err = dialer("compliance", "report", "--campaign", "NOPE")
    assert 1 == code and "NOPE" in err
    code, _, err = dialer("db", "prune", "--older-than", "90d")
    assert 1 == code and "older-than: must be at least 183 days" in err
    code, out, _ = dialer("db", "prune", "--older-than", "400")
    assert 0 == code and out.startswith("deleted 0 attempts")
