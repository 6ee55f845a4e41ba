"""The README's walk-through runs as written (issue 16 item 5).

Every shell block the README marks with ``<!-- readme-test: run -->`` on the line before it
is run line by line, from the repository's folder (its paths are relative to it, e.g.
``examples/contacts.csv``), in a temporary home, against a database of its own. Each line must
be a ``dialer`` command (optionally after ``VAR=value`` assignments) and must exit 0 without
an error line. Blocks that need a running engine, a PBX or minutes (the demo, the API
session, Docker) are not marked. In-process through :func:`dialer.cli.main.main`, so the walk
costs about as much as its commands' database work.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dialer.cli.main import main

REPO = Path(__file__).resolve().parents[1]
MARK = "<!-- readme-test: run -->"


def marked_blocks(text: str) -> list[list[str]]:
    """The command lines of each marked ``sh`` block (continuations joined, comments kept out)."""
    blocks = re.findall(rf"^{re.escape(MARK)}\n```(?:sh|bash)\n(.*?)^```", text, flags=re.M | re.S)
    return [[ln for ln in b.replace("\\\n", " ").splitlines() if ln.strip()] for b in blocks]


def test_the_readme_marks_its_walk_through() -> None:
    blocks = marked_blocks((REPO / "README.md").read_text())
    assert blocks, f"no block marked {MARK!r}"
    commands = [ln for b in blocks for ln in b]
    assert any("contacts import" in c and "examples/contacts.csv" in c for c in commands)


@pytest.fixture
def fresh_dsn(make_database: Callable[[], str]) -> str:
    return make_database()


def test_readme_walk_through_runs_as_written(
    fresh_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("DIALER_CONFIG", "DIALER_AMI_HOST", "DIALER_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DIALER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIALER_DSN", fresh_dsn)
    # the commands read examples/ and write their files (rejects, exports) in a directory of
    # their own, not in the repository
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    said: list[str] = []
    for block in marked_blocks((REPO / "README.md").read_text()):
        for line in block:
            words = shlex.split(line, comments=True)
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                name, _, value = words.pop(0).partition("=")
                monkeypatch.setenv(name, value)
            assert words[:1] == ["dialer"], f"a marked block runs only dialer commands: {line}"
            code = main(words[1:])
            out, err = capsys.readouterr()
            assert (0, "") == (code, err.strip()), f"{line}\n{out}{err}"
            said.append(out)
    text = "".join(said)
    assert "imported 20 rows into SALES, rejected 0" in text
    assert "moved 10 of 20 records from SALES / Dzwonić to RETENTION / Dzwonić" in text
