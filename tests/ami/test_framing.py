"""The framer over real transcripts, any byte split, garbage, and encoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ami.errors import AmiActionError
from ami.framing import AmiFramer, AmiMessage, Banner, GarbledMessage, _split_block, encode, parse_buffer
from tests.ami.transcripts import TRANSCRIPTS_DIR as TRANSCRIPTS


def _asterisk_bytes(path: Path) -> bytes:
    """Rebuild what Asterisk put on the wire in a transcript (``<<<`` lines, CRLF)."""
    out: list[str] = []
    block: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("<<< "):
            block.append(line[4:])
        elif block and not line.strip():
            out.append("\r\n".join(block) + ("\r\n" if block[0].startswith("Asterisk Call") else "\r\n\r\n"))
            block = []
    if block:
        out.append("\r\n".join(block) + "\r\n\r\n")
    return "".join(out).encode()


def _all_transcripts() -> list[Path]:
    files = sorted(TRANSCRIPTS.glob("*.txt"))
    assert files, f"no transcripts under {TRANSCRIPTS}"
    return files


def test_login_transcript_frames_banner_then_messages() -> None:
    frames = AmiFramer().feed(_asterisk_bytes(TRANSCRIPTS / "login.txt"))
    assert frames[0] == Banner("Asterisk Call Manager/11.0.0")
    assert [f.response or f.event for f in frames[1:] if isinstance(f, AmiMessage)][:2] == [
        "Success",
        "FullyBooted",
    ]


@pytest.mark.parametrize("path", _all_transcripts(), ids=lambda p: p.stem)
def test_no_transcript_message_is_garbled(path: Path) -> None:
    # A restart transcript holds two connections: each starts with its own banner.
    wire = _asterisk_bytes(path)
    connections = [c for c in wire.split(b"Asterisk Call Manager/") if c]
    for i, conn in enumerate(connections):
        with_banner = wire.startswith(b"Asterisk Call") or i > 0
        framer = AmiFramer(expect_banner=with_banner)
        frames = framer.feed((b"Asterisk Call Manager/" if with_banner else b"") + conn)
        assert not [f for f in frames if isinstance(f, GarbledMessage)]
        assert framer.pending == 0


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_byte_split_gives_the_same_messages(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_all_transcripts()))
    wire = _asterisk_bytes(path)
    expect_banner = wire.startswith(b"Asterisk Call")
    whole = AmiFramer(expect_banner=expect_banner).feed(wire)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    framer = AmiFramer(expect_banner=expect_banner)
    pieces: list[object] = []
    prev = 0
    for c in [*cuts, len(wire)]:
        pieces.extend(framer.feed(wire[prev:c]))
        prev = c
    assert whole == pieces


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_never_raises_and_yields_only_frames(blob: bytes) -> None:
    frames = AmiFramer().feed(blob + b"\r\n\r\n")
    assert all(isinstance(f, AmiMessage | Banner | GarbledMessage) for f in frames)


def test_garbled_block_is_reported_and_next_message_survives() -> None:
    msgs, rest = parse_buffer(b"this is not ami\r\n\r\nEvent: Ping\r\nActionID: 1\r\n\r\nEvent: Par")
    assert isinstance(msgs[0], GarbledMessage)
    assert msgs[1] == AmiMessage((("Event", "Ping"), ("ActionID", "1")))
    assert rest == b"Event: Par"


def test_repeated_headers_kept_in_order_and_lookup_is_case_insensitive() -> None:
    (msg,), _ = parse_buffer(b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n")
    assert isinstance(msg, AmiMessage)
    assert msg.get_all("variable") == ["A=1", "B=2"]
    assert msg["ACTION"] == "Originate"
    assert msg.get("AccountCode") is None


def test_empty_value_is_kept() -> None:
    (msg,), _ = parse_buffer(b"Event: Newchannel\r\nAccountCode: \r\n\r\n")
    assert isinstance(msg, AmiMessage)
    assert msg["AccountCode"] == ""


def test_oversized_message_is_dropped_as_garbage() -> None:
    framer = AmiFramer(expect_banner=False, max_message_bytes=64)
    frames = framer.feed(b"Event: X\r\nData: " + b"x" * 100)
    assert isinstance(frames[-1], GarbledMessage)
    assert framer.pending == 0


def test_encode_roundtrip_and_refuses_header_injection() -> None:
    wire = encode([("Action", "Originate"), ("Variable", ["A=1", "B=2"])])
    (msg,), rest = parse_buffer(wire)
    assert rest == b""
    assert isinstance(msg, AmiMessage)
    assert msg.get_all("Variable") == ["A=1", "B=2"]
    with pytest.raises(AmiActionError):
        encode({"Action": "Originate", "CallerID": "x\r\nAction: Logoff"})


def _reference(block: bytes) -> tuple[tuple[tuple[str, str], ...], dict[str, str]] | None:
    """The fast path's contract, written plainly: every CRLF line is ``Key: Value`` with a
    non-empty key holding no space or line feed; the first of a repeated key wins the index."""
    headers = []
    for line in block.decode("utf-8").split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key or "\n" in key:
            return None
        headers.append((key, value))
    index: dict[str, str] = {}
    for key, value in headers:
        index.setdefault(key.lower(), value)
    return tuple(headers), index


_KEY_TEXT = st.text(alphabet="AbcD-_:x \n1É", min_size=0, max_size=6)
_VALUE_TEXT = st.text(alphabet="ab :\n\r-É1", max_size=8)


@given(st.lists(st.tuples(_KEY_TEXT, _VALUE_TEXT), min_size=1, max_size=6))
def test_the_fast_path_reads_as_the_plain_reference(pairs: list[tuple[str, str]]) -> None:
    """Keys and values with the awkward characters (colons, spaces, bare LF and CR, non-ASCII,
    repeats differing in case): wherever the plain reading accepts a block, the framer reads the
    same headers and index (a block it refuses is the lenient path's, tested above)."""
    block = "\r\n".join(f"{k}: {v}" for k, v in pairs).encode("utf-8")
    if b"\r\n\r\n" in block or b"\n\n" in block or not block.strip(b"\r\n"):
        return  # not one block on the wire
    expected = _reference(block)
    got = _split_block(block)
    if expected is not None:
        assert isinstance(got, AmiMessage)
        assert (got.headers, got._index) == expected
