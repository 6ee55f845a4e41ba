"""Sans-IO AMI framing: bytes in, messages out; messages in, bytes out.

Theory of operation: AMI is a line protocol. After connecting, Asterisk sends one banner
line (``Asterisk Call Manager/11.0.0``); from then on every message is a block of
``Key: Value`` lines ended by an empty line (CRLF on the wire; we also accept bare LF).
:class:`AmiFramer` keeps the unconsumed tail between reads, like h11's receive buffer, and
returns complete messages in wire order. A block that is not ``Key: Value`` lines comes out
as a :class:`GarbledMessage` so the I/O shell can log and skip it — a peer's garbage never
raises. Encoding refuses CR/LF inside names and values, because such a value (a contact
name, a custom field) would otherwise inject headers into the action.

Events nothing consumes (issue 18 item 1). At full verbosity about half of Asterisk's
traffic is dialplan and device noise (``Newexten``, ``VarSet``, ``DeviceStateChange``,
caller-ID and connected-line updates) that no machine, router or listener reads. An
:class:`EventFilter` given to the framer looks at a block's first line only and drops such a
message before it is decoded or split into headers, counting it
(:attr:`AmiFramer.skipped`). It is a deny-list on purpose: an event type added to Asterisk
or newly consumed here is parsed unless someone decides it is noise. A ``VarSet`` of an
``AMD*`` variable is kept (the outcome machine reads ``AMDSTATUS``/``AMDCAUSE`` when the
dialplan sends no UserEvent), and so is any event carrying an ``ActionID`` (a list reply
row belongs to a pending action).

Nothing here imports asyncio or panoramisk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ami.errors import AmiActionError, AmiProtocolError

# A single AMI message larger than this is not something Asterisk sends (the largest real
# ones, CoreShowChannel events at full verbosity, are a few KiB); treat it as garbage so a
# broken peer cannot make us buffer without bound (h11 applies the same idea to headers).
MAX_MESSAGE_BYTES = 1 << 20
# Every other read is bounded too (issue 19 item 5: an endless banner took the engine from 54
# to 157 MB on every connect attempt). Asterisk's banner is ~30 bytes ("Asterisk Call
# Manager/11.0.0"); its longest header lines (a Variable, a long caller name) are far below
# 64 KiB; its largest messages carry a few dozen headers (a Command's output comes as one
# "Output:" header per line, hence the generous count).
MAX_BANNER_BYTES = 512
MAX_LINE_BYTES = 64 * 1024
MAX_HEADERS = 4096


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One AMI message: headers in wire order (duplicates kept, e.g. ``Variable``)."""

    headers: tuple[tuple[str, str], ...]
    _index: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for key, value in self.headers:
            index.setdefault(key.lower(), value)
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, *pairs: tuple[str, str], **headers: str) -> AmiMessage:
        """Build a message from pairs and/or keywords (keywords keep their spelling)."""
        return cls(tuple(pairs) + tuple(headers.items()))

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of header ``name`` (case-insensitive), or ``default``."""
        return self._index.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def get_all(self, name: str) -> list[str]:
        """Every value of a repeated header, in wire order."""
        low = name.lower()
        return [v for k, v in self.headers if k.lower() == low]

    @property
    def event(self) -> str | None:
        return self._index.get("event")

    @property
    def response(self) -> str | None:
        return self._index.get("response")

    @property
    def action(self) -> str | None:
        return self._index.get("action")

    @property
    def action_id(self) -> str | None:
        return self._index.get("actionid")


@dataclass(frozen=True, slots=True)
class Banner:
    """The greeting line Asterisk sends once per connection."""

    text: str


@dataclass(frozen=True, slots=True)
class GarbledMessage:
    """A block we could not read; kept raw (truncated) for the log line."""

    raw: bytes
    reason: str


Frame = AmiMessage | Banner | GarbledMessage

_ACTION_ID = re.compile(rb"\r\nActionID:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to drop unread (see the module docstring).

    Attributes:
        drop: event names, as Asterisk spells them on the ``Event:`` line.
        keep_if: event name -> a pattern whose match anywhere in the block keeps the message.
    """

    drop: frozenset[bytes]
    keep_if: Mapping[bytes, re.Pattern[bytes]] = field(default_factory=dict)

    def skips(self, block: bytes) -> bool:
        """Whether ``block`` (one message, without its blank line) is dropped unread."""
        if not block.startswith(b"Event: "):
            return False
        end = block.find(b"\r\n", 7)
        name = block[7:end] if end >= 0 else block[7:]
        if name not in self.drop:
            return False
        keep = self.keep_if.get(name)
        if keep is not None and keep.search(block):
            return False
        return _ACTION_ID.search(block) is None


# What no part of the engine reads (ami/outcome.py, ami/routing.py, ami/agent_events.py and
# the client's own handlers were checked): the dialplan's steps, variables other than AMD's,
# device states, caller-ID / connected-line changes, RTCP reports, CDR/CEL records; and (session
# 13, a fifth of what was still parsed) the requests that precede a Hangup, a dial's progress
# before its DialEnd, and music on hold while a customer waits in the queue.
UNCONSUMED_EVENTS = EventFilter(
    drop=frozenset(
        {
            b"Newexten",
            b"VarSet",
            b"DeviceStateChange",
            b"NewCallerid",
            b"NewConnectedLine",
            b"NewAccountCode",
            b"RTCPSent",
            b"RTCPReceived",
            b"Cdr",
            b"CEL",
            b"HangupRequest",
            b"SoftHangupRequest",
            b"DialState",
            b"MusicOnHoldStart",
            b"MusicOnHoldStop",
        }
    ),
    keep_if={b"VarSet": re.compile(rb"\r\nVariable: ?amd", re.IGNORECASE)},
)


def _message(headers: list[tuple[str, str]], index: dict[str, str]) -> AmiMessage:
    """Build a message whose index is already known (the hot path skips __post_init__)."""
    msg = object.__new__(AmiMessage)
    object.__setattr__(msg, "headers", tuple(headers))
    object.__setattr__(msg, "_index", index)
    return msg


def _split_block(block: bytes) -> AmiMessage | GarbledMessage:
    if len(block) > MAX_LINE_BYTES:  # only a block this long can hold a line this long
        over = _bounds_broken(block)
        if over is not None:
            return GarbledMessage(block[:200], over)
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        # Asterisk passes through whatever bytes a caller ID carries; keep the message.
        text = block.decode("latin-1")
    # Fast path (every well-formed CRLF message): one partition per line in a comprehension,
    # the index built back to front so the first of a repeated header wins.
    parts = [line.partition(": ") for line in text.split("\r\n")]
    if len(parts) > MAX_HEADERS:
        return GarbledMessage(block[:200], f"message with over {MAX_HEADERS} header lines")
    if all(sep and key and " " not in key for key, sep, _ in parts):
        return _message([(k, v) for k, _, v in parts], {k.lower(): v for k, _, v in reversed(parts)})
    return _split_block_slow(block, text)


def _bounds_broken(block: bytes) -> str | None:
    lines = block.split(b"\n")
    if len(lines) > MAX_HEADERS:
        return f"message with over {MAX_HEADERS} header lines"
    if max(len(line) for line in lines) > MAX_LINE_BYTES:
        return f"header line over {MAX_LINE_BYTES} bytes"
    return None


def _split_block_slow(block: bytes, text: str) -> AmiMessage | GarbledMessage:
    """Lenient reading: bare LF, ``Key:Value`` without the space, blank lines; else garbage."""
    headers: list[tuple[str, str]] = []
    index: dict[str, str] = {}
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key or "\t" in key:
            return GarbledMessage(block[:200], f"line without 'Key: Value': {line[:80]!r}")
        value = value[1:] if value.startswith(" ") else value
        headers.append((key, value))
        index.setdefault(key.lower(), value)
    if not headers:
        return GarbledMessage(block[:200], "empty message")
    return _message(headers, index)


def parse_buffer(data: bytes) -> tuple[list[AmiMessage | GarbledMessage], bytes]:
    """Split ``data`` into complete messages; return them and the unconsumed tail."""
    out, rest, _ = _parse(data, None)
    return out, rest


def _parse(data: bytes, skip: EventFilter | None) -> tuple[list[AmiMessage | GarbledMessage], bytes, int]:
    """:func:`parse_buffer`, dropping what ``skip`` names; also returns how many it dropped."""
    if b"\n\n" in data:
        # A peer using bare LF (or mixing): normalise once, then split on the blank line.
        data = data.replace(b"\r\n", b"\n")
        parts = data.split(b"\n\n")
    else:
        parts = data.split(b"\r\n\r\n")
    rest = parts.pop()
    out: list[AmiMessage | GarbledMessage] = []
    skipped = 0
    for block in parts:
        if not block or not block.strip(b"\r\n"):
            continue
        if skip is not None and skip.skips(block):
            skipped += 1
        else:
            out.append(_split_block(block))
    return out, rest, skipped


class AmiFramer:
    """Incremental framer for one connection (the read side)."""

    def __init__(
        self,
        *,
        expect_banner: bool = True,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        skip: EventFilter | None = None,
    ) -> None:
        self._buffer = b""
        self._expect_banner = expect_banner
        self._max = max_message_bytes
        self._skip = skip
        self.skipped = 0  # messages the filter dropped unread

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes read from the socket; return the frames they complete.

        Raises:
            AmiProtocolError: no banner line within :data:`MAX_BANNER_BYTES` (not an AMI
                server, or a hostile one): the connection cannot go on.
        """
        buf = self._buffer + data if self._buffer else data
        frames: list[Frame] = []
        if self._expect_banner:
            nl = buf.find(b"\n", 0, MAX_BANNER_BYTES + 2)
            if nl < 0 and len(buf) > MAX_BANNER_BYTES:
                self._buffer = b""
                raise AmiProtocolError(
                    f"no AMI banner line within the first {MAX_BANNER_BYTES} bytes "
                    f"(they begin {buf[:40]!r}): is this an Asterisk manager port?"
                )
            if nl < 0:
                self._buffer = buf
                return frames
            line = buf[:nl].rstrip(b"\r")
            self._expect_banner = False
            buf = buf[nl + 1 :]
            if b":" in line and not line.startswith(b"Asterisk"):
                # No banner: the peer went straight to messages; put the line back.
                buf = line + b"\r\n" + buf
            else:
                frames.append(Banner(line.decode("utf-8", "replace")))
        messages, rest, skipped = _parse(buf, self._skip)
        self.skipped += skipped
        frames.extend(messages)
        if len(rest) > self._max:
            frames.append(GarbledMessage(rest[:200], f"message over {self._max} bytes without an end"))
            rest = b""
        self._buffer = rest
        return frames

    @property
    def pending(self) -> int:
        """Bytes held waiting for the end of a message."""
        return len(self._buffer)


def encode(headers: Mapping[str, object] | Iterable[tuple[str, object]]) -> bytes:
    """Encode one message. Lists/tuples as values repeat the header (``Variable``).

    Raises:
        AmiActionError: a name or value contains CR or LF, or a name is empty/has ':'.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines: list[str] = []
    for key, value in items:
        if not key or ":" in key or "\r" in key or "\n" in key or " " in key:
            raise AmiActionError(f"invalid AMI header name {key!r}")
        values = value if isinstance(value, list | tuple) else (value,)
        for v in values:
            text = str(v)
            if "\r" in text or "\n" in text:
                raise AmiActionError(f"AMI header {key} contains a line break")
            lines.append(f"{key}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
