"""Every ``dialer`` command given bad values: one ``error: FIELD: REASON`` line, the documented
exit code, never a traceback (issue 16 item 3).

The table has at least one row per command (``test_every_command_has_a_row`` walks the parser,
so a new command without a row fails here) and one per kind of option: whole numbers,
numbers, enums, ports, times, names that do not exist, missing required arguments, unknown
options, files. To add a command: add rows to ``CASES``; ``field`` is the FIELD the message
must name. Exit codes (README, "Exit codes"): 1 for input the user can fix, 2 for the
configuration. Runs in-process against a database of its own (``DIALER_DSN``), so the whole
table costs about a second.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialer.cli.main import build_parser, main


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    field: str
    code: int = 1


def c(field: str, *argv: str, code: int = 1) -> Case:
    return Case(tuple(argv), field, code)


CASES: tuple[Case, ...] = (
    # the top level
    c("command", "nope"),
    c("config", "--config", "{missing}", "schedule", "list", code=2),
    c("config", "--config", "{not_utf8}", "schedule", "list", code=2),
    c("config", "--config", "{not_toml}", "campaign", "list", code=2),
    # db
    c("older-than", "db", "prune", "--older-than", "soon"),
    c("older-than", "db", "prune"),
    c("arguments", "db", "migrate", "--force"),
    # schedule
    c("window", "schedule", "create", "S1", "--daily", "--window", "25:00-26:00"),
    c("every", "schedule", "create", "S1", "--daily", "--every", "often"),
    c("timezone", "schedule", "create", "S1", "--daily", "--at", "07:30", "--timezone", "Mars/Base"),
    c("at", "schedule", "create", "S1", "--daily", "--at", "7h"),
    c("arguments", "schedule", "list", "extra"),
    # status
    c("trigger", "status", "create", "X", "--trigger", "sometimes"),
    c("retry-delay", "status", "create", "X", "--retry-delay", "1h"),
    c("factor", "status", "create", "X", "--factor", "double"),
    c("max-attempts", "status", "add", "C", "X", "--max-attempts", "many"),
    c("campaign", "status", "add", "NOPE", "X"),
    c("campaign", "status", "list", "--campaign", "NOPE"),
    # campaign
    c("ring-timeout", "campaign", "create", "C1", "--schedule", "S", "--ring-timeout", "abc"),
    c("abandon-cap", "campaign", "create", "C1", "--schedule", "S", "--abandon-cap", "3%"),
    c("mode", "campaign", "create", "C1", "--schedule", "S", "--mode", "robocall"),
    c("schedule", "campaign", "create", "C1"),
    c("schedule", "campaign", "create", "C1", "--schedule", "NOPE"),
    c("hours", "campaign", "set", "C", "--hours", "7-23"),
    c("priority", "campaign", "set", "C", "--priority", "high"),
    c("campaign", "campaign", "set", "NOPE", "--priority", "1"),
    c("arguments", "campaign", "list", "--all"),
    c("campaign", "campaign", "show", "NOPE"),
    c("campaign", "campaign", "start", "NOPE"),
    c("campaign", "campaign", "pause", "NOPE"),
    c("campaign", "campaign", "stop", "NOPE"),
    # agent, dnc
    c("interface", "agent", "create", "a1", "--interface", "not an interface"),
    c("campaign", "agent", "create", "a1", "--interface", "PJSIP/1999", "--campaign", "NOPE"),
    c("phone", "dnc", "add", "not a number"),
    c("region", "dnc", "add", "501 234 567", "--region", "XX"),
    # contacts
    c("campaign", "contacts", "import", "NOPE", "{csv}"),
    c("file", "contacts", "import", "C", "{missing}"),
    c("batch-size", "contacts", "import", "C", "{csv}", "--batch-size", "big"),
    c(
        "limit",
        "contacts",
        "move",
        "--from",
        "C",
        "--status",
        "X",
        "--to",
        "D",
        "--new-status",
        "X",
        "--limit",
        "x",
    ),
    c("from", "contacts", "move", "--status", "X", "--to", "D", "--new-status", "X"),
    # compliance, users
    c("from", "compliance", "report", "--campaign", "C", "--from", "last week"),
    c("campaign", "compliance", "report", "--campaign", "NOPE"),
    c("role", "user", "create", "u1", "--role", "god"),
    c("arguments", "user", "list", "--all"),
    c("user", "user", "remove", "nobody"),
    # the engine's commands
    c("metrics-port", "demo", "--metrics-port", "70000"),
    c("metrics-port", "demo", "--metrics-port", "abc"),
    c("api-port", "demo", "--api-port", "-1"),
    c("agents", "demo", "--agents", "0"),
    c("contacts", "demo", "--contacts", "-5"),
    c("duration", "demo", "--duration", "0"),
    c("time-scale", "demo", "--time-scale", "fast"),
    c("seed", "demo", "--seed", "x"),
    c("mode", "demo", "--mode", "robocall", "--build-only"),
    c("config", "run", "--config", "{not_utf8}", code=2),
    c("metrics.port", "run", "--config", "{bad_port}", code=2),
    c("engine.takeover_s", "--config", "{bad_takeover}", "engines", code=2),
    c("arguments", "engines", "extra"),
    c("ami.servers", "asterisk", "check", code=2),
    c("queue", "asterisk", "check", "--queue"),
    # the AMI tools
    c("file", "ami", "replay"),
    c("port", "simulate-pbx", "--port", "99999"),
    c("port", "simulate-pbx", "--port", "abc"),
    c("agent", "simulate-pbx", "--agent", "campaign1"),
    c("verbosity", "simulate-pbx", "--verbosity", "loud"),
    c("answer-p", "simulate-pbx", "--answer-p", "half"),
    c("answer_p", "simulate-pbx", "--answer-p", "2"),
    c("busy_share", "simulate-pbx", "--busy-share", "0.9", "--congestion-share", "0.2"),
    c("time_scale", "simulate-pbx", "--time-scale", "0"),
    # administration (issue 16 item 1)
    c("agent", "agent", "edit", "nobody", "--interface", "PJSIP/1998"),
    c("arguments", "agent", "list", "extra"),
    c("agent", "agent", "remove", "nobody"),
    c("campaign", "campaign", "edit", "NOPE", "--priority", "1"),
    c("campaign", "campaign", "delete", "NOPE"),
    c("schedule", "schedule", "edit", "NOPE", "--active"),
    c("schedule", "schedule", "remove", "NOPE"),
    c("file", "dnc", "import", "{missing}"),
    c("limit", "dnc", "list", "--limit", "lots"),
    c("phone", "dnc", "remove", "not a number"),
    # reading the data
    c("limit", "attempts", "list", "--limit", "many"),
    c("since", "attempts", "export", "--since", "yesterday"),
    c("campaign", "contacts", "list", "NOPE"),
    c("number", "contacts", "search", "--number", "12"),
    c("id", "contacts", "show", "abc"),
    c("campaign", "contacts", "export", "--campaign", "NOPE"),
    c("format", "report", "--format", "xml"),
    # callbacks (issue 13)
    c("contact", "callbacks", "book", "NOPE", "--slot", "1"),
    c("callback", "callbacks", "cancel", "abc"),
    c("schedule", "callbacks", "grid", "C"),
    c("callback", "callbacks", "history", "abc"),
    c("campaign", "callbacks", "list", "NOPE"),
    c("callback", "callbacks", "reschedule", "abc"),
    c("name", "callbacks", "site-add"),
    c("from", "callbacks", "slots", "C", "--from", "yesterday"),
    # reminders
    c("enabled", "reminders", "set", "C", "--enabled", "maybe"),
    c("channel", "reminders", "template", "C", "T", "--channel", "fax", "--body", "x"),
    c("callback", "reminders", "override", "abc"),
    c("contact", "reminders", "optout", "abc"),
    c("email", "reminders", "agent-address", "nobody", "--email", "x"),
    c("campaign", "reminders", "status-action", "NOPE", "X", "T"),
    c("campaign", "reminders", "log", "NOPE"),
    c("arguments", "reminders", "run", "extra"),
    c("arguments", "reminders", "status", "extra"),
)

LINE = re.compile(r"^error: (?P<field>[^:]+): \S")


@pytest.fixture(scope="module")
def bad_dsn(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "bad.toml").write_bytes(b'[log]\nlevel = "info"\n# \xff\xfe Zaj\xeaty\n')
    (tmp_path / "not.toml").write_text("[log\n")
    (tmp_path / "port.toml").write_text("[metrics]\nport = 70000\n")
    (tmp_path / "takeover.toml").write_text("[engine]\ntakeover_s = 0\n")
    (tmp_path / "contacts.csv").write_text("phone\n501 234 567\n")
    return {
        "{missing}": str(tmp_path / "missing.toml"),
        "{not_utf8}": str(tmp_path / "bad.toml"),
        "{not_toml}": str(tmp_path / "not.toml"),
        "{bad_port}": str(tmp_path / "port.toml"),
        "{bad_takeover}": str(tmp_path / "takeover.toml"),
        "{csv}": str(tmp_path / "contacts.csv"),
    }


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c.argv) for c in CASES])
def test_bad_value_is_one_error_line_with_the_documented_code(
    case: Case,
    bad_dsn: str,
    files: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for var in ("DIALER_CONFIG", "DIALER_AMI_HOST", "DIALER_METRICS_PORT", "DIALER_USER_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DIALER_DSN", bad_dsn)
    monkeypatch.setenv("DIALER_HOME", str(tmp_path / "home"))
    argv = [files.get(a, a) for a in case.argv]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's usage errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "error: internal" not in err
    first = err.strip().splitlines()[0] if err.strip() else ""
    m = LINE.match(first.replace("error: configuration: ", "error: ", 1))
    assert m, f"not an 'error: FIELD: REASON' line: {err!r}"
    assert (case.field, case.code) == (m["field"], code), err


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {path}
    return {cmd for name, p in subs[0].choices.items() for cmd in _commands(p, (*path, name))}


def test_every_command_has_a_row() -> None:
    commands = _commands(build_parser())
    covered = {cmd for case in CASES for cmd in commands if case.argv[: len(cmd)] == cmd}
    missing = commands - covered
    assert not missing, f"add bad-value rows to CASES for: {sorted(' '.join(m) for m in missing)}"
