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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, ValidationResult
from phonenumbers import timezone as phone_timezone

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

#: Why a parsed number is not valid.
_LENGTH_REASON = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without an area code",
}

_UNKNOWN_ZONE = "Etc/Unknown"
_LEADING_TRUNK_ZERO = re.compile(r"^\s*\(?\s*0(?!0)")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid number in E.164 with what the numbering plan says about it."""

    e164: str  # "+48221234567"
    region: str | None  # "PL"; None for non-geographic numbers (+800, +882...)
    kind: str  # "mobile" | "fixed" | "fixed_or_mobile" | "voip" | "toll_free" | "premium" | "other"
    timezones: tuple[str, ...]  # IANA zones of the number's prefix, "Etc/Unknown" dropped


def normalize(raw: str, default_region: str) -> PhoneNumber:
    """Parse and validate ``raw``; numbers without ``+`` are read as in ``default_region``.

    Args:
        raw: the number as written ("+48 22 123 45 67", "022 123-45-67", "(212) 555-0100").
        default_region: ISO 3166 code ("PL", "US") for numbers written without a country code.

    Raises:
        InvalidNumber: field ``phone``; empty, unparseable or not a valid number, with the reason.
        ValidationError: field ``region`` when ``default_region`` is not a known region code.
    """
    region = check_region(default_region)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise InvalidNumber("phone", "empty", raw)
    number, reason = _parse(text, region)
    if number is None or reason:
        for retry in _retries(text):
            alternative, alt_reason = _parse(retry, region)
            if alternative is not None and not alt_reason:
                number, reason = alternative, ""
                break
    if number is None or reason:
        raise InvalidNumber("phone", reason, raw)
    code = phonenumbers.region_code_for_number(number)
    return PhoneNumber(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=code if code and code in phonenumbers.SUPPORTED_REGIONS else None,
        kind=_KIND.get(phonenumbers.number_type(number), "other"),
        timezones=tuple(z for z in phone_timezone.time_zones_for_number(number) if z != _UNKNOWN_ZONE),
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


def _parse(text: str, region: str) -> tuple[phonenumbers.PhoneNumber | None, str]:
    """The parsed number and "" when valid, else the number (or None) and the reason."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as e:
        return None, _PARSE_REASON.get(e.error_type, "not a phone number")
    if phonenumbers.is_valid_number(number):
        return number, ""
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _LENGTH_REASON:
        return number, _LENGTH_REASON[possible]
    where = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return number, f"not a valid number in {where}" if where != "ZZ" else "not a valid number"


def _retries(text: str) -> list[str]:
    out = []
    if _LEADING_TRUNK_ZERO.match(text):
        out.append(_LEADING_TRUNK_ZERO.sub(lambda m: m.group(0)[:-1], text, count=1))
    stripped = text.lstrip()
    if stripped.startswith("00"):
        out.append("+" + stripped[2:])
    return out
