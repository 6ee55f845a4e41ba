"""SMS length and encoding: GSM 03.38 7-bit when every character fits, UCS-2 otherwise.

Why our own table and not smpplib's ``make_parts``: its splitter may cut an escaped GSM
character (``€``, ``{``...) in half at a part boundary (its own FIXME), and the length shown
when a template is saved must be the one the gateway bills. Pure: no I/O.

A single GSM-7 message holds 160 septets, a part of a long one 153 (the 6-octet
concatenation header takes 7 septets); an extension character counts two. UCS-2 holds 70
UTF-16 code units, 67 per part; a character outside the BMP takes two units and is never split.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_BASIC_INDEX = {c: i for i, c in enumerate(GSM7_BASIC) if c != "\x1b"}

GSM7 = "gsm7"
UCS2 = "ucs2"
# SMPP data_coding of each encoding (SMPP 3.4 5.2.19: 0 SMSC default alphabet, 8 UCS2)
DATA_CODING = {GSM7: 0, UCS2: 8}
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True, slots=True)
class SmsLength:
    """What a text costs: its encoding, its length in units (septets or UTF-16 units), its parts."""

    encoding: str
    units: int
    parts: int

    def describe(self) -> str:
        kind = "GSM-7" if self.encoding == GSM7 else "UCS-2"
        unit = "septets" if self.encoding == GSM7 else "UTF-16 units"
        return f"{kind}, {self.units} {unit}, {self.parts} part{'s' if self.parts != 1 else ''}"


def _units(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def encoding_of(text: str) -> str:
    """GSM-7 if every character is in the basic table or its extension, else UCS-2."""
    return GSM7 if all(c in _BASIC_INDEX or c in GSM7_EXTENSION for c in text) else UCS2


def split_text(text: str) -> tuple[str, list[str]]:
    """The encoding and the text cut into parts, never inside a character (or its escape)."""
    encoding = encoding_of(text)
    single, per_part = _LIMITS[encoding]
    if sum(_units(c, encoding) for c in text) <= single:
        return encoding, [text] if text else [""]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        u = _units(ch, encoding)
        if used + u > per_part:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += u
    parts.append("".join(current))
    return encoding, parts


def measure(text: str) -> SmsLength:
    """The encoding, units and number of parts ``text`` is sent as."""
    encoding, parts = split_text(text)
    return SmsLength(encoding, sum(_units(c, encoding) for c in text), len(parts))


def encode(text: str, encoding: str) -> bytes:
    """The octets of ``text`` for SMPP's short_message: GSM-7 unpacked (one septet an octet,
    escapes as 0x1B + code, as SMSCs take data_coding 0 over SMPP), UCS-2 big-endian."""
    if encoding == UCS2:
        return text.encode("utf-16-be")
    out = bytearray()
    for ch in text:
        if ch in GSM7_EXTENSION:
            out += bytes((0x1B, GSM7_EXTENSION[ch]))
        else:
            out.append(_BASIC_INDEX[ch])
    return bytes(out)


def decode(data: bytes, encoding: str) -> str:
    """The inverse of :func:`encode` (the test SMSC reads messages back with it)."""
    if encoding == UCS2:
        return data.decode("utf-16-be")
    reverse_ext = {v: k for k, v in GSM7_EXTENSION.items()}
    out: list[str] = []
    escaped = False
    for b in data:
        if escaped:
            out.append(reverse_ext.get(b, " "))
            escaped = False
        elif b == 0x1B:
            escaped = True
        else:
            out.append(GSM7_BASIC[b])
    return "".join(out)


def pdu_payloads(text: str, *, reference: int | None = None) -> tuple[int, list[bytes], bool]:
    """SMPP data_coding, the short_message of each part, and whether they carry a UDH.

    A long text gets the 8-bit concatenation header (IEI 0x00: reference, total, sequence).
    """
    encoding, parts = split_text(text)
    if len(parts) == 1:
        return DATA_CODING[encoding], [encode(parts[0], encoding)], False
    if len(parts) > 255:
        raise ValueError("an SMS may have at most 255 parts")
    ref = random.randrange(256) if reference is None else reference & 0xFF
    total = len(parts)
    payloads = [bytes((5, 0, 3, ref, total, i + 1)) + encode(p, encoding) for i, p in enumerate(parts)]
    return DATA_CODING[encoding], payloads, True
