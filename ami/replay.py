"""``dialer ami replay FILE...``: derive the outcome of captured AMI transcripts.

Runs each transcript through the same :class:`~ami.routing.EventRouter` and
:class:`~ami.outcome.AttemptMachine` the client uses, so a new capture from a real Asterisk
can be checked without writing a test: one line per file, ``NAME OUTCOME``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ami.errors import AmiError, TranscriptFormatError
from ami.framing import AmiMessage
from ami.outcome import AttemptMachine, AttemptUpdate, CallOutcome, Ended
from ami.routing import EventRouter
from ami.transcript import Direction, Transcript, load_transcript

REPLAY_ATTEMPT_ID = "replay"


class ReplayError(AmiError, ValueError):
    """A transcript that parses but cannot be replayed (no Originate, call never ends)."""


@dataclass(frozen=True, slots=True)
class ReplayResult:
    outcome: CallOutcome
    updates: tuple[AttemptUpdate, ...]
    routed: int  # messages the router assigned to the attempt
    ignored: int  # messages from Asterisk that were not about it


def originate_ids(transcript: Transcript) -> tuple[str, str, float]:
    """``(action_id, channel_id, sent_at_s)`` of the transcript's Originate.

    Without a ``ChannelId`` on the action, the ``;1`` Uniqueid is taken from the
    OriginateResponse with the same ActionID (a replay sees the whole capture).

    Raises:
        ReplayError: no Originate was sent, or its channel id cannot be found.
    """
    sent = transcript.sent_actions("Originate")
    if not sent:
        raise ReplayError(f"{transcript.name}: no Originate action in the transcript")
    entry = sent[0]
    assert isinstance(entry.message, AmiMessage)
    action_id = entry.message.action_id or ""
    channel_id = entry.message.get("ChannelId")
    if not channel_id:
        for e in transcript.received():
            m = e.message
            if isinstance(m, AmiMessage) and m.event == "OriginateResponse" and m.action_id == action_id:
                channel_id = m.get("Uniqueid")
                break
    if not channel_id:
        raise ReplayError(f"{transcript.name}: Originate has no ChannelId and no OriginateResponse names one")
    return action_id, channel_id, entry.at_s


def replay(transcript: Transcript) -> ReplayResult:
    """Feed a transcript's Asterisk messages through the router and the outcome machine.

    Raises:
        ReplayError: no Originate, or the capture ends before the call's outcome is final.
    """
    action_id, channel_id, started = originate_ids(transcript)
    router = EventRouter()
    router.register(REPLAY_ATTEMPT_ID, action_id=action_id, channel_id=channel_id)
    machine = AttemptMachine(
        REPLAY_ATTEMPT_ID, action_id=action_id, channel_id=channel_id, started_at_s=started
    )
    updates: list[AttemptUpdate] = []
    routed = ignored = 0
    for e in transcript.entries:
        if e.direction is not Direction.RECEIVED or not isinstance(e.message, AmiMessage):
            continue
        if router.route(e.message) == REPLAY_ATTEMPT_ID:
            routed += 1
            updates.extend(machine.feed(e.message, e.at_s))
        else:
            ignored += 1
    if machine.outcome is None:
        raise ReplayError(
            f"{transcript.name}: the capture ends before the call does (state {machine.state.value})"
        )
    assert isinstance(updates[-1], Ended)
    return ReplayResult(machine.outcome, tuple(updates), routed, ignored)


def _detail(o: CallOutcome) -> str:
    """The codes and times behind an outcome, for ``--detail``."""
    parts = [f"reason={o.reason}", f"cause={o.cause}"]
    if o.cause_txt:
        parts[-1] += f" ({o.cause_txt})"
    if o.agent:
        parts.append(f"agent={o.agent}")
    if o.amd_status:
        parts.append(f"amd={o.amd_status}/{o.amd_cause}")
    for name, value in (("ring", o.ring_s), ("wait", o.wait_s), ("talk", o.talk_s)):
        if value is not None:
            parts.append(f"{name}={value:.3f}s")
    return " ".join(parts)


def run(paths: list[str], *, detail: bool = False) -> int:
    """Print ``NAME OUTCOME`` per file; a bad file gets an error line; exit 1 if any failed."""
    status = 0
    for path in paths:
        try:
            result = replay(load_transcript(path))
        except (TranscriptFormatError, ReplayError) as e:
            print(f"error: {e}", file=sys.stderr)
            status = 1
            continue
        except OSError as e:
            print(f"error: {path}: cannot read ({e.strerror or e})", file=sys.stderr)
            status = 1
            continue
        line = f"{Path(path).stem} {result.outcome.outcome.value}"
        print(f"{line} {_detail(result.outcome)}" if detail else line)
    return status


def register(sub: Any) -> None:
    """Register ``dialer ami replay FILE...``."""
    ami = sub.add_parser("ami", help="AMI tools")
    ami_sub = ami.add_subparsers(dest="ami_command", metavar="AMI_COMMAND")
    ami_sub.required = True
    rep = ami_sub.add_parser(
        "replay",
        help="derive the call outcome of AMI transcript files (one 'NAME OUTCOME' line each)",
    )
    rep.add_argument(
        "files", nargs="+", metavar="FILE", help="transcript in the shared/ami-transcripts format"
    )
    rep.add_argument(
        "--detail", action="store_true", help="also print the Reason and cause codes, agent, AMD and times"
    )
    rep.set_defaults(func=lambda args: run(list(args.files), detail=args.detail))
