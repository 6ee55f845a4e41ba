"""Phone numbers: from whatever a spreadsheet holds to E.164, with type and time zones.

Normalisation is :mod:`phonenumbers` (Google's libphonenumber metadata) plus two retries for
habits that the metadata alone rejects, tried only when the plain parse gives an invalid
number, so a valid reading is never overridden:

* a leading trunk ``0`` in countries that dropped it (Poland since 2009: people still write
  ``022 123-45-67`` for ``+48 22 123 45 67``);
* the ``00`` international prefix used with a default region whose own prefix differs
  (``0048...`` in a US-default file).

The time zones come from the number's prefix (``phonenumbers.timezone``); DESIGN.md's
calling-hours rule uses them when a contact has no time zone of its own.

Speed (issue 18 item 5: an import is parse-bound). libphonenumber's verdict on a parsed number
(type, validity, region) is remembered by the prefix it provably depends on
(:mod:`dialer.contacts.verdicts`), the zones by the prefix the zone table is keyed by, and the
library keeps its compiled metadata patterns instead of looking each one up in ``re``'s
bounded cache per match (``re_util.enable_pattern_cache``, where the installed version has
it). None of it changes a result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from dialer.contacts.verdicts import Verdict, VerdictCache
from dialer.errors import InvalidNumber, ValidationError

__all__ = ["PhoneNumber", "check_region", "normalize", "zone_for"]

#: The kinds we keep; libphonenumber's rarer types fold into "other".
_KIND = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
}

#: Why a parse failed, in words an operator understands (codes -> text, not an if-chain).
_PARSE_REASON = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}

_UNKNOWN_ZONE = "Etc/Unknown"
_LEADING_TRUNK_ZERO = re.compile(r"^\s*\(?\s*0(?!0)")
_BRACKETED_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")  # "+48 (0) 22 ..." marks the trunk 0 to drop
_SPREADSHEET_FLOAT = re.compile(r"^\s*(\+?\d+)\.0+\s*$")  # a number cell saved as a float: "48600123456.0"
_SCIENTIFIC = re.compile(r"^\s*\d(?:[.,]\d+)?[eE]\+?\d+\s*$")  # "4.86001E+10": the digits are gone
_VERDICTS = VerdictCache()

getattr(phonenumbers.re_util, "enable_pattern_cache", lambda: None)()


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid number in E.164 with what the numbering plan says about it."""

    e164: str  # "+48221234567"
    region: str | None  # "PL"; None for non-geographic numbers (+800, +882...)
    kind: str  # "mobile" | "fixed" | "fixed_or_mobile" | "voip" | "toll_free" | "premium" | "other"
    timezones: tuple[str, ...]  # IANA zones of the number's prefix, "Etc/Unknown" dropped

    def __reduce__(self) -> tuple[type[PhoneNumber], tuple[object, ...]]:
        # pickled with each row from an import's parser process: see ContactRow.__reduce__
        return PhoneNumber, (self.e164, self.region, self.kind, self.timezones)


def normalize(
    raw: str, default_region: str, *, judge: Callable[[phonenumbers.PhoneNumber], Verdict] | None = None
) -> PhoneNumber:
    """Parse and validate ``raw``; numbers without ``+`` are read as in ``default_region``.

    Args:
        raw: the number as written ("+48 22 123 45 67", "022 123-45-67", "(212) 555-0100").
        default_region: ISO 3166 code ("PL", "US") for numbers written without a country code.
        judge: how a parsed number's type, validity and region are decided; by default the
            process's exact cache of libphonenumber's verdicts (tests compare it with
            :func:`dialer.contacts.verdicts.judge`, the verdict computed).

    Raises:
        InvalidNumber: field ``phone``; empty, unparseable or not a valid number, with the reason.
        ValidationError: field ``region`` when ``default_region`` is not a known region code.
    """
    region = check_region(default_region)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise InvalidNumber("phone", "empty", raw)
    decide = _VERDICTS.judge if judge is None else judge
    number, (ntype, reason, code) = _parse(text, region, decide)
    if reason:
        for retry in _retries(text):
            alternative, (alt_type, alt_reason, alt_code) = _parse(retry, region, decide)
            if not alt_reason:
                number, ntype, reason, code = alternative, alt_type, "", alt_code
                break
    if number is None or reason:
        if _SCIENTIFIC.match(text):
            reason = "written in scientific notation by a spreadsheet, digits lost"
        raise InvalidNumber("phone", reason, raw)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return PhoneNumber(
        e164=e164,
        region=code if code and code in phonenumbers.SUPPORTED_REGIONS else None,
        kind=_KIND.get(ntype, "other"),
        timezones=_zones(e164, ntype, number.country_code or 0),
    )


def check_region(region: str) -> str:
    """``region`` as an upper-case region code libphonenumber knows ("pl" -> "PL").

    Raises:
        ValidationError: field ``region`` when the code is unknown, so a whole import fails
            once up front instead of rejecting every row.
    """
    code = region.strip().upper() if isinstance(region, str) else ""
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError("region", "unknown region code (use ISO 3166, e.g. PL, US)", region)
    return code


def zone_for(number: PhoneNumber) -> str | None:
    """The number's time zone when its prefix names exactly one, else ``None``.

    A US toll-free number spans every US zone; guessing one would break calling hours.
    """
    return number.timezones[0] if len(number.timezones) == 1 else None


def _parse(
    text: str, region: str, decide: Callable[[phonenumbers.PhoneNumber], Verdict]
) -> tuple[phonenumbers.PhoneNumber | None, Verdict]:
    """The parsed number and its verdict (type, "" when valid else the reason it is not, region)."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as e:
        return None, (PhoneNumberType.UNKNOWN, _PARSE_REASON.get(e.error_type, "not a phone number"), None)
    return number, decide(number)


def _zones(e164: str, ntype: int, country_code: int) -> tuple[str, ...]:
    """``phonenumbers.timezone.time_zones_for_number`` for a number whose type is known.

    Same rule as the library: geographic types use the longest matching prefix of the
    number, the others the country calling code's zones. Remembered by what the lookup reads:
    the number's first ``TIMEZONE_LONGEST_PREFIX`` digits, or the calling code.
    """
    if phonenumbers.is_number_type_geographical(ntype, country_code):
        return _zones_of_prefix(e164[1 : TIMEZONE_LONGEST_PREFIX + 1])
    return _zones_of_code(country_code)


@lru_cache(maxsize=65_536)
def _zones_of_prefix(digits: str) -> tuple[str, ...]:
    return _first_zones(digits[:n] for n in range(TIMEZONE_LONGEST_PREFIX, 0, -1))


@lru_cache(maxsize=1_024)
def _zones_of_code(country_code: int) -> tuple[str, ...]:
    code = str(country_code)  # the library tries code[:10] .. code[:2], never a single digit alone
    return _first_zones(dict.fromkeys(code[:n] for n in range(TIMEZONE_LONGEST_PREFIX + 1, 1, -1)))


def _first_zones(prefixes: Iterable[str]) -> tuple[str, ...]:
    for prefix in prefixes:
        zones = TIMEZONE_DATA.get(prefix)
        if zones is not None:
            return tuple(z for z in zones if z != _UNKNOWN_ZONE)
    return ()


def _retries(text: str) -> list[str]:
    """Other readings of ``text``, each tried only after the plain one proved invalid."""
    out = []
    if float_cell := _SPREADSHEET_FLOAT.match(text):
        text = float_cell[1]
        out.append(text)
    if _BRACKETED_TRUNK_ZERO.search(text):
        out.append(_BRACKETED_TRUNK_ZERO.sub(" ", text))
    if _LEADING_TRUNK_ZERO.match(text):
        out.append(_LEADING_TRUNK_ZERO.sub(lambda m: m.group(0)[:-1], text, count=1))
    stripped = text.lstrip()
    if stripped.startswith("00"):
        out.append("+" + stripped[2:])
    return out
