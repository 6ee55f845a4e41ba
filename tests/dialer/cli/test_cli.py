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
    assert 3 == code  # some rows rejected
    assert "imported 3 rows into SALES, rejected 4" in out
    rejected = [line.split(":")[0] for line in out.splitlines() if line.startswith("line ")]
    assert ["line 4", "line 5", "line 6", "line 8"] == rejected  # in line order

    code, out, _ = dialer("contacts", "move", "--from", "SALES", "--status", "Dzwonić", "--count")
    assert (0, "3 records in SALES / Dzwonić\n") == (code, out)

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
    assert "created campaign DEMO" in first and "imported 120 of 120 generated contacts" in first
    assert "state paused" in first and "demo data (never dialled by `dialer run`)" in first
    # the demo lives apart: its own home, never the one `dialer run` uses
    assert (tmp_path / "home" / "demo" / "pgdata" / "PG_VERSION").exists()
    assert not (tmp_path / "home" / "pgdata").exists()
    assert 0 == main(["demo", "--build-only", "--contacts", "120"])
    second = capsys.readouterr().out
    assert "created campaign" not in second and "has 120 contacts from an earlier run" in second
    monkeypatch.setenv("DIALER_HOME", str(tmp_path / "home" / "demo"))
    assert 0 == main(["campaign", "show", "DEMO"])
    assert "contacts 120" in capsys.readouterr().out


def test_demo_refuses_a_configured_database_unless_given_explicitly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIALER_CONFIG", raising=False)
    monkeypatch.setenv("DIALER_DSN", "postgresql://dialer@127.0.0.1:1/production")
    for argv in (["demo", "--build-only"], ["demo", "--duration", "1"]):
        assert 1 == main(argv)
        err = capsys.readouterr().err
        assert "database.dsn: the demo never writes into a configured database" in err
        assert "production" not in err  # nor says where it is


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


def test_campaign_rules_through_the_command_line(
    dialer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 items 3-4, issue 17 item 5: refusals name the field and the rule; AMD and the
    default disposition are set on create, changed by ``campaign set`` and shown."""
    assert 0 == dialer("schedule", "create", "RULES", "--daily", "--window", "09:00-17:00")[0]
    code, _, err = dialer("campaign", "create", "NIGHT", "--schedule", "RULES", "--hours", "22:00-07:00")
    assert 1 == code and "hours: the us profile allows calls only within 08:00-21:00" in err
    code, _, err = dialer("campaign", "create", "R0", "--schedule", "RULES", "--caller-id", "not a number")
    assert 1 == code and "caller_id: must be a valid phone number" in err
    code, _, err = dialer("campaign", "create", "UKAMD", "--schedule", "RULES", "--compliance", "uk", "--amd")
    assert 1 == code and "amd_false_positive: Ofcom counts AMD false positives" in err
    code, out, err = dialer(
        "campaign", "create", "UKAMD", "--schedule", "RULES", "--compliance", "uk", "--amd",
        "--amd-false-positive", "0.01", "--caller-id", "020 7946 0999",
    )
    assert 0 == code, err
    code, out, _ = dialer("campaign", "show", "UKAMD")
    assert "caller id +442079460999" in out
    assert "default disposition Odebrany bez dyspozycji" in out
    assert "amd on, machine: hangup, false-positive estimate 1.0%" in out
    code, out, err = dialer("campaign", "set", "UKAMD", "--amd-action", "message", "--amd-message", "vm-drop")
    assert 0 == code and "changed: amd_action, amd_message" in out, err
    assert "machine: message vm-drop" in dialer("campaign", "show", "UKAMD")[1]
    code, _, err = dialer("campaign", "set", "UKAMD", "--default-disposition", "Dzwonić")
    assert 1 == code and "default_disposition: its system status is 'call'" in err
    code, _, err = dialer("campaign", "set", "UKAMD", "--ring-timeout", "100000")
    assert 1 == code and "ring_timeout_s: must be 15-120 seconds" in err
    assert 1 == dialer("campaign", "set", "UKAMD")[0]  # nothing to change
    assert "default disposition Nie dzwonić" in (
        dialer("campaign", "set", "UKAMD", "--default-disposition", "nie dzwonić")[1]
        + dialer("campaign", "show", "UKAMD")[1]
    )
    # [campaigns] in the configuration gives the defaults the options leave out
    cfg = tmp_path / "dialer.toml"
    cfg.write_text('[campaigns]\namd = true\namd_action = "agent"\n')
    monkeypatch.setenv("DIALER_CONFIG", str(cfg))
    assert 0 == dialer("campaign", "create", "ZAMD", "--schedule", "RULES", "--compliance", "zero")[0]
    assert "amd on, machine: agent" in dialer("campaign", "show", "ZAMD")[1]
    code, _, err = dialer("campaign", "create", "ZAMD2", "--schedule", "RULES", "--compliance", "zero",
                          "--amd-action", "hangup")
    assert 1 == code and "amd_action: the zero-abandon profile allows AMD only with action 'agent'" in err
    # agents and schedules
    assert 0 == dialer("agent", "create", "r1", "--interface", "PJSIP/r1")[0]
    code, _, err = dialer("agent", "create", "r2", "--interface", "pjsip/R1")
    assert 1 == code and "interface: another agent already uses this interface" in err
    code, _, err = dialer("agent", "create", "r3", "--interface", "101")
    assert 1 == code and "interface: must be an Asterisk member interface" in err
    code, _, err = dialer("schedule", "create", "FEB31", "--monthly", "--months", "2", "--days", "30,31",
                          "--window", "09:00-17:00")
    assert 1 == code and "never open" in err


def test_only_commands_that_talk_to_ami_need_its_secret(dialer, tmp_path: Path, monkeypatch) -> None:
    """A configuration naming an AMI secret variable that is not set: the store commands run,
    ``dialer run`` refuses with one line naming the variable (exit 2, a configuration error)."""
    monkeypatch.delenv("PBX_NOT_SET_SECRET", raising=False)
    cfg = tmp_path / "dialer.toml"
    cfg.write_text(
        '[[ami.servers]]\nname = "pbx1"\nsecret_env = "PBX_NOT_SET_SECRET"\n[metrics]\nenabled = false\n'
    )
    code, out, err = dialer("--config", str(cfg), "db", "migrate")
    assert code == 0 and "database is at version" in out, err
    code, out, _ = dialer("--config", str(cfg), "campaign", "list")
    assert code == 0
    code, out, err = dialer("--config", str(cfg), "run")
    assert code == 2
    assert "ami.servers[0].secret_env" in err and "'PBX_NOT_SET_SECRET' is not set" in err


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


def test_worst_hour_cap_is_a_campaign_setting(dialer) -> None:  # type: ignore[no-untyped-def]
    """Issue 12 item 3: off by default, set on create or by ``campaign set``, stored and shown."""
    assert 0 == dialer("schedule", "create", "HOURS", "--daily", "--window", "09:00-17:00")[0]
    assert 0 == dialer("campaign", "create", "HOURLY", "--schedule", "HOURS", "--mode", "predictive")[0]
    assert "(every rolling hour too)" not in dialer("campaign", "show", "HOURLY")[1]
    code, _, err = dialer("campaign", "set", "HOURLY", "--worst-hour-cap")
    assert 0 == code, err
    assert "abandon cap 3.0% (every rolling hour too)" in dialer("campaign", "show", "HOURLY")[1]
    assert 0 == dialer("campaign", "set", "HOURLY", "--no-worst-hour-cap")[0]
    assert "(every rolling hour too)" not in dialer("campaign", "show", "HOURLY")[1]
    code, _, err = dialer("campaign", "create", "HOURLY2", "--schedule", "HOURS", "--worst-hour-cap")
    assert 0 == code, err
    assert "(every rolling hour too)" in dialer("campaign", "show", "HOURLY2")[1]
