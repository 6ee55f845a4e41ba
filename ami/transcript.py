"""Reader for AMI transcript files (the ``shared/ami-transcripts`` capture format).

Theory of operation: a transcript is what a plain socket client saw while talking to a real
Asterisk. It opens with ``#`` header lines (``# Scenario: ...``, ``# Sent: ...``,
``# Outcome: X``, continuation lines indented under ``#``), then messages in wire order:
``>>> `` lines were sent by the client, ``<<< `` lines by Asterisk, a blank line ends a
message, and ``# +S.SSSs`` lines stamp the time since the scenario started (text after the
stamp is a note about something off the wire, e.g. ``socket closed by Asterisk (EOF)``).

The reader is strict, because a silently misread capture would make the outcome tests pass
or fail for the wrong reason: anything it does not understand raises
:class:`~ami.errors.TranscriptFormatError` naming the file and line.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path

from ami.errors import TranscriptFormatError
from ami.framing import AmiMessage, Banner

_TIME_MARK = re.compile(r"^# \+(\d+(?:\.\d+)?)s(?:\s+(.*))?$")
_HEADER = re.compile(r"^#\s*([A-Za-z][A-Za-z -]*):\s?(.*)$")
_BANNER_PREFIX = "Asterisk Call Manager"


class Direction(enum.StrEnum):
    """Who put the message on the wire."""

    SENT = ">>>"  # by the client (us)
    RECEIVED = "<<<"  # by Asterisk


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    direction: Direction
    at_s: float
    message: AmiMessage | Banner
    line: int  # first line of the message in the file, for error messages


@dataclass(frozen=True, slots=True)
class TranscriptNote:
    """A time-stamped remark about something that is not on the wire (EOF, a restart)."""

    at_s: float
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    name: str
    outcome: str | None
    scenario: str | None
    sent: str | None
    headers: tuple[tuple[str, str], ...]
    entries: tuple[TranscriptEntry, ...]
    notes: tuple[TranscriptNote, ...] = ()

    def header(self, key: str) -> str | None:
        low = key.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)

    def received(self) -> tuple[TranscriptEntry, ...]:
        """What Asterisk sent, in wire order."""
        return tuple(e for e in self.entries if e.direction is Direction.RECEIVED)

    def sent_actions(self, action: str | None = None) -> tuple[TranscriptEntry, ...]:
        """Client messages, optionally only those of one ``Action`` (case-insensitive)."""
        out = []
        for e in self.entries:
            if e.direction is not Direction.SENT or not isinstance(e.message, AmiMessage):
                continue
            if action is None or (e.message.action or "").lower() == action.lower():
                out.append(e)
        return tuple(out)


def parse_transcript(text: str, *, name: str = "<transcript>", path: str | None = None) -> Transcript:
    """Parse transcript text.

    Raises:
        TranscriptFormatError: a line that is neither a header, a time mark, a message line
            nor blank; a message mixing directions; a message line without ``Key: Value``.
    """
    where = path or name
    headers: list[tuple[str, str]] = []
    entries: list[TranscriptEntry] = []
    notes: list[TranscriptNote] = []
    at_s = 0.0
    seen_time = False
    block: list[str] = []
    block_dir: Direction | None = None
    block_line = 0

    def flush() -> None:
        nonlocal block, block_dir
        if block_dir is None:
            return
        entries.append(TranscriptEntry(block_dir, at_s, _message(block, where, block_line), block_line))
        block, block_dir = [], None

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if line.startswith((">>>", "<<<")):
            direction = Direction(line[:3])
            if block_dir is not None and direction is not block_dir:
                raise TranscriptFormatError(where, lineno, "message mixes '>>>' and '<<<' lines")
            if not seen_time:
                raise TranscriptFormatError(where, lineno, "message line before the first '# +S.SSSs' mark")
            if block_dir is None:
                block_dir, block_line = direction, lineno
            body = line[3:]
            block.append(body[1:] if body.startswith(" ") else body)
            continue
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            flush()
            mark = _TIME_MARK.match(line)
            if mark:
                new_at = float(mark.group(1))
                if new_at + 1e-9 < at_s:
                    raise TranscriptFormatError(where, lineno, f"time goes back from +{at_s}s to +{new_at}s")
                at_s, seen_time = new_at, True
                if mark.group(2):
                    notes.append(TranscriptNote(at_s, mark.group(2)))
                continue
            if line.startswith("# +"):
                raise TranscriptFormatError(where, lineno, f"bad time mark {line[:40]!r}")
            if seen_time:
                # A comment between messages: keep it as a note, it is not on the wire.
                notes.append(TranscriptNote(at_s, line.lstrip("# ").strip()))
                continue
            found = _HEADER.match(line)
            if found and not line.startswith("#   "):
                headers.append((found.group(1).strip(), found.group(2).strip()))
            elif headers:
                key, value = headers[-1]
                headers[-1] = (key, f"{value} {line.lstrip('#').strip()}".strip())
            continue
        raise TranscriptFormatError(where, lineno, f"unrecognised line {line[:60]!r}")
    flush()

    def head(key: str) -> str | None:
        return next((v for k, v in headers if k.lower() == key.lower()), None)

    return Transcript(
        name=name,
        outcome=head("Outcome") or None,
        scenario=head("Scenario"),
        sent=head("Sent"),
        headers=tuple(headers),
        entries=tuple(entries),
        notes=tuple(notes),
    )


def load_transcript(path: str | Path) -> Transcript:
    """Read and parse one transcript file; its name is the file stem.

    Raises:
        TranscriptFormatError: the file is malformed (line 0: not readable as UTF-8 text).
        OSError: the file cannot be opened.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise TranscriptFormatError(str(p), 0, f"not UTF-8 text ({e.reason})") from e
    return parse_transcript(text, name=p.stem, path=str(p))


def _message(lines: list[str], where: str, first_line: int) -> AmiMessage | Banner:
    if len(lines) == 1 and lines[0].startswith(_BANNER_PREFIX):
        return Banner(lines[0])
    headers: list[tuple[str, str]] = []
    for offset, text in enumerate(lines):
        key, sep, value = text.partition(":")
        if not sep or not key or key != key.strip() or " " in key:
            raise TranscriptFormatError(where, first_line + offset, f"not a 'Key: Value' line: {text[:60]!r}")
        headers.append((key, value[1:] if value.startswith(" ") else value))
    return AmiMessage(tuple(headers))
