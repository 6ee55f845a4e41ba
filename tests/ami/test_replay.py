"""``dialer ami replay``: one ``NAME OUTCOME`` line per file, errors per file, exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from ami.transcript import load_transcript
from dialer.cli.main import main
from tests.ami.transcripts import TRANSCRIPTS_DIR, originate_paths


def test_replay_prints_each_files_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    paths = originate_paths()

    status = main(["ami", "replay", *map(str, paths)])

    out = capsys.readouterr()
    assert 0 == status
    assert [f"{p.stem} {load_transcript(p).outcome}" for p in paths] == out.out.splitlines()
    assert "" == out.err


def test_bad_files_get_an_error_line_and_exit_1_after_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbled = tmp_path / "garbled.txt"
    garbled.write_text(
        "# AMI transcript: garbled\n\n# +0.000s\n>>> Action: Originate\n<<< Response: Success\n"
    )
    truncated = tmp_path / "truncated.txt"
    lines = (TRANSCRIPTS_DIR / "originate-answer-agent.txt").read_text().splitlines()
    truncated.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    missing = tmp_path / "missing.txt"
    busy = TRANSCRIPTS_DIR / "originate-busy.txt"

    status = main(
        [
            "ami",
            "replay",
            str(garbled),
            str(missing),
            str(truncated),
            str(TRANSCRIPTS_DIR / "login.txt"),
            str(busy),
        ]
    )

    out = capsys.readouterr()
    assert 1 == status
    assert ["originate-busy busy"] == out.out.splitlines()
    errors = out.err.splitlines()
    assert 4 == len(errors)
    assert f"{garbled}:5:" in errors[0] and "mixes" in errors[0]
    assert str(missing) in errors[1] and "cannot read" in errors[1]
    assert "truncated" in errors[2] and "ends before the call does" in errors[2]
    assert "login" in errors[3] and "no Originate" in errors[3]


def test_detail_shows_the_codes_behind_the_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["ami", "replay", "--detail", str(TRANSCRIPTS_DIR / "originate-busy.txt")])

    assert 0 == status
    assert capsys.readouterr().out.startswith("originate-busy busy reason=5 cause=17 (User busy) ring=")


def test_detail_of_the_optimised_capture_shows_the_real_talk_time(capsys: pytest.CaptureFixture[str]) -> None:
    path = TRANSCRIPTS_DIR / "originate-local-optimized-reserved-agent.txt"

    status = main(["ami", "replay", "--detail", str(path)])

    assert 0 == status
    expected = (
        "originate-local-optimized-reserved-agent connected reason=4 cause=16 (Normal Clearing) "
        "agent=Local/agent2@sim-agents ring=1.013s wait=0.992s talk=8.016s"
    )
    assert [expected] == capsys.readouterr().out.splitlines()
