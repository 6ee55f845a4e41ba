"""The transcript reader: every shared capture parses; malformed files name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ami.errors import TranscriptFormatError
from ami.framing import AmiMessage, Banner
from ami.transcript import Direction, load_transcript, parse_transcript
from tests.ami.transcripts import load, transcript_paths


@pytest.mark.parametrize("path", transcript_paths(), ids=lambda p: p.stem)
def test_every_shared_transcript_parses_with_its_header(path: Path) -> None:
    t = load_transcript(path)

    assert path.stem == t.name == t.header("AMI transcript")
    assert t.entries
    times = [e.at_s for e in t.entries]
    assert sorted(times) == times


def test_originate_transcript_fields() -> None:
    t = load("originate-busy")

    assert "busy" == t.outcome
    assert t.scenario is not None and t.scenario.startswith("far end busy")
    assert t.sent is not None and "Channel=Local/2005550001@sim-pstn" in t.sent
    first = t.entries[0]
    assert (Direction.SENT, 0.0) == (first.direction, first.at_s)
    assert isinstance(first.message, AmiMessage) and "Originate" == first.message.action
    assert ["DIALER_LEAD_ID=L0001", "DIALER_CAMPAIGN=campaign1"] == first.message.get_all("Variable")
    # an empty value keeps its header ("AccountCode: ")
    newchannel = next(
        e.message for e in t.received() if isinstance(e.message, AmiMessage) and e.message.event
    )
    assert "" == newchannel.get("AccountCode")


def test_banner_and_notes_are_kept() -> None:
    t = load("asterisk-restart")

    banners = [e for e in t.entries if isinstance(e.message, Banner)]
    assert 2 == len(banners) and "Asterisk Call Manager/11.0.0" == banners[0].message.text  # type: ignore[union-attr]
    assert any(
        "socket closed by Asterisk (EOF)" == n.text and n.at_s == pytest.approx(1.051) for n in t.notes
    )
    assert t.outcome is None


GOOD = """# AMI transcript: tiny
# Outcome: busy
# Format: '>>> ' = sent,
#   '# +S.SSSs' = seconds

# +0.000s
>>> Action: Ping
>>> ActionID: p1

# +0.010s
<<< Response: Success
<<< ActionID: p1
"""


def test_minimal_transcript() -> None:
    t = parse_transcript(GOOD, name="tiny")

    assert ("tiny", "busy") == (t.name, t.outcome)
    assert "'>>> ' = sent, '# +S.SSSs' = seconds" == t.header("Format")
    assert [(Direction.SENT, 0.0), (Direction.RECEIVED, 0.01)] == [(e.direction, e.at_s) for e in t.entries]
    assert [7, 11] == [e.line for e in t.entries]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (GOOD.replace("<<< ActionID: p1", ">>> ActionID: p1"), 12, "mixes"),
        (GOOD.replace("<<< ActionID: p1", "<<< no colon here"), 12, "Key: Value"),
        (GOOD.replace("# +0.010s", "# +0.0x0s"), 10, "bad time mark"),
        (GOOD.replace("# +0.010s", "# +0.000s\n# +0.5s\n\n# +0.1s"), 13, "time goes back"),
        (GOOD.replace("# +0.000s\n", ""), 6, "before the first"),
        (GOOD + "what is this\n", 13, "unrecognised line"),
    ],
)
def test_malformed_transcript_names_file_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(TranscriptFormatError) as err:
        parse_transcript(text, name="bad", path="/x/bad.txt")

    assert ("/x/bad.txt", line) == (err.value.path, err.value.line)
    assert reason in str(err.value) and str(err.value).startswith(f"/x/bad.txt:{line}:")
    assert isinstance(err.value, ValueError)


def test_binary_file_is_a_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "binary.txt"
    bad.write_bytes(b"\xff\xfe\x00garbage")

    with pytest.raises(TranscriptFormatError, match="not UTF-8"):
        load_transcript(bad)
