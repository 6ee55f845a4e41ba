"""Text out of a CSV file's bytes, one physical line at a time, with the line a bad byte is on.

Why not ``open(path, encoding=...)``: a text stream decodes in chunks of several kilobytes,
so a byte that is not valid in the encoding fails the read of the first chunk and the error
points at line 1 whatever line the byte is on (issue 16). Here the bytes are split into
lines first (``\\n``, kept with its line, as ``newline=""`` would) and each line decoded alone,
so the error names its line and column. That needs an encoding in which ``\\n`` is the byte
0x0A and no other character's bytes contain it: ASCII-compatible encodings (UTF-8, the
Windows and ISO-8859 code pages); UTF-16 and UTF-32 are refused up front.

When UTF-8 fails, the offending line is tried in the Windows code pages Excel writes CSV in
(:data:`CODE_PAGES`); those under which it reads as letters are named in the error, so the
operator learns the ``--encoding`` (or ``encoding=``) to give, not only that the file is bad.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Iterator

from dialer.errors import CsvFormatError, ValidationError

__all__ = ["CODE_PAGES", "DEFAULT_ENCODING", "check_encoding", "decoded_lines", "guess_code_pages"]

DEFAULT_ENCODING = "utf-8"
# Central European (Polish Excel), Western European, Cyrillic, Greek, Turkish, Baltic.
CODE_PAGES = ("cp1250", "cp1252", "cp1251", "cp1253", "cp1254", "cp1257")
_BOM = b"\xef\xbb\xbf"


def check_encoding(name: str) -> str:
    """``name`` as Python's canonical codec name.

    Raises:
        ValidationError: field ``encoding``: unknown, or not ASCII-compatible (UTF-16 and
            UTF-32 files must be converted, or saved by Excel as "CSV UTF-8").
    """
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):
        raise ValidationError("encoding", "unknown encoding (e.g. utf-8, cp1250, iso-8859-2)", name) from None
    try:
        compatible = "a,\n".encode(info.name) == b"a,\n" and b"\n" not in "ąéж".encode(info.name, "ignore")
    except (UnicodeError, LookupError):
        compatible = False
    if not compatible:
        raise ValidationError(
            "encoding", "not an ASCII-compatible encoding: save the file as UTF-8 or a code page", name
        )
    return info.name


def _mixed_words(text: str) -> int:
    """Words mixing letters of two scripts ("Јucja": a Cyrillic Je before Latin letters)."""
    mixed = 0
    for word in re.findall(r"[^\W\d_]+", text):
        scripts = {unicodedata.name(c, "?").split(" ")[0] for c in word}
        mixed += len(scripts) > 1
    return mixed


def guess_code_pages(raw: bytes) -> list[str]:
    """The code pages of :data:`CODE_PAGES` under which ``raw`` reads as text: no unmapped
    byte, every non-ASCII character a letter (``ą`` rather than ``¹``), and the fewest words
    mixing two scripts; in the order of :data:`CODE_PAGES`."""
    scored = []
    for page in CODE_PAGES:
        try:
            text = raw.decode(page)
        except UnicodeDecodeError:
            continue
        high = [c for c in text if ord(c) > 127]
        if high and all(c.isalpha() for c in high):
            scored.append((_mixed_words(text), page))
    best = min((score for score, _ in scored), default=0)
    return [page for score, page in scored if score == best]


def decoded_lines(lines: Iterable[bytes], encoding: str = DEFAULT_ENCODING) -> Iterator[str]:
    """Decode a binary stream's lines (a file opened ``"rb"``) one by one.

    A UTF-8 byte-order mark at the start is dropped. Raises :class:`CsvFormatError` (field
    ``encoding``) at the first line that does not decode, naming the line, the column, the
    byte and, for UTF-8, the code pages the line does read in.
    """
    codec = check_encoding(encoding)
    utf8 = codec == "utf-8"
    for number, raw in enumerate(lines, start=1):
        if number == 1 and utf8 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        try:
            yield raw.decode(codec)
        except UnicodeDecodeError as e:
            column = len(raw[: e.start].decode(codec, "replace")) + 1
            where = f"line {number}, column {column} is not valid {codec} (byte 0x{raw[e.start]:02x})"
            pages = guess_code_pages(raw) if utf8 else []
            hint = (
                f": the file looks like a Windows code page; try encoding {' or '.join(pages)}"
                if pages
                else ": give the file's encoding (e.g. cp1250 for Polish Excel)"
            )
            raise CsvFormatError("encoding", where + hint, codec) from None
