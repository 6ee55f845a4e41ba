"""Events nothing consumes are dropped unread, and dropping them changes no outcome.

The filter is a deny-list the framer applies before decoding a block (issue 18 item 1).
What it must never do is drop a message the engine reads: the proof is every real-Asterisk
capture replayed twice -- once whole, once with the filtered messages removed -- giving the
same updates and outcome.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ami.framing import UNCONSUMED_EVENTS, AmiFramer, AmiMessage, encode
from ami.replay import replay
from ami.transcript import Direction, Transcript, load_transcript
from tests.ami.transcripts import originate_paths


def _block(msg: AmiMessage) -> bytes:
    return encode(msg.headers)[:-4]  # the framer looks at a block without its blank line


def _without_unconsumed(transcript: Transcript) -> tuple[Transcript, int]:
    kept = []
    for e in transcript.entries:
        if (
            e.direction is Direction.RECEIVED
            and isinstance(e.message, AmiMessage)
            and UNCONSUMED_EVENTS.skips(_block(e.message))
        ):
            continue
        kept.append(e)
    return dataclasses.replace(transcript, entries=tuple(kept)), len(transcript.entries) - len(kept)


def test_the_captures_hold_noise_for_the_filter_to_drop() -> None:
    dropped = sum(_without_unconsumed(load_transcript(p))[1] for p in originate_paths())
    assert dropped > 50  # Newexten and VarSet lines of every dialplan step


@pytest.mark.parametrize("path", originate_paths(), ids=lambda p: p.stem)
def test_every_capture_replays_the_same_without_the_dropped_events(path: Path) -> None:
    whole = load_transcript(path)
    filtered, _ = _without_unconsumed(whole)
    a, b = replay(whole), replay(filtered)
    assert (a.outcome, a.updates) == (b.outcome, b.updates)


def _skips(**headers: str) -> bool:
    return UNCONSUMED_EVENTS.skips(_block(AmiMessage.of(**headers)))


def test_amd_variables_and_list_rows_are_kept_other_noise_dropped() -> None:
    assert _skips(Event="Newexten", Channel="PJSIP/x", Uniqueid="u1")
    assert _skips(Event="VarSet", Variable="DIALSTATUS", Value="ANSWER")
    assert not _skips(Event="VarSet", Variable="AMDSTATUS", Value="MACHINE")
    assert not _skips(Event="VarSet", Variable="amdcause", Value="TOOLONG-5000")
    assert not _skips(Event="Newexten", ActionID="7", Uniqueid="u1")  # belongs to an action
    assert not _skips(Event="Hangup", Uniqueid="u1")
    assert not _skips(Response="Success", ActionID="1")
    # what precedes a Hangup or a DialEnd, and the queue's music, are noise; those two are not
    assert _skips(Event="HangupRequest", Uniqueid="u1", Cause="16")
    assert _skips(Event="SoftHangupRequest", Uniqueid="u1", Cause="16")
    assert _skips(Event="DialState", Uniqueid="u1", DialStatus="RINGING")
    assert _skips(Event="MusicOnHoldStart", Uniqueid="u1")
    assert not _skips(Event="DialEnd", Uniqueid="u1", DialStatus="ANSWER")


def test_the_captures_hold_each_newly_dropped_kind() -> None:
    """The replay proof above covers them only if real Asterisk sent them in the captures."""
    seen = {
        e.message.event
        for p in originate_paths()
        for e in load_transcript(p).entries
        if e.direction is Direction.RECEIVED and isinstance(e.message, AmiMessage)
    }
    assert {"HangupRequest", "SoftHangupRequest", "DialState", "MusicOnHoldStart", "MusicOnHoldStop"} <= seen


def test_the_framer_counts_what_it_dropped_and_returns_the_rest_in_order() -> None:
    wire = b"".join(
        encode(h)
        for h in (
            {"Event": "Newexten", "Uniqueid": "a"},
            {"Event": "Newchannel", "Uniqueid": "a"},
            {"Event": "VarSet", "Variable": "X", "Value": "1"},
            {"Event": "Hangup", "Uniqueid": "a"},
        )
    )
    framer = AmiFramer(expect_banner=False, skip=UNCONSUMED_EVENTS)
    head, tail = framer.feed(wire[:50]), framer.feed(wire[50:])
    assert ["Newchannel", "Hangup"] == [f.event for f in head + tail if isinstance(f, AmiMessage)]
    assert 2 == framer.skipped
    assert 4 == len(AmiFramer(expect_banner=False).feed(wire))  # no filter: everything parsed
