"""What libphonenumber says about a parsed number (type, why invalid, region), remembered exactly.

Why. An import's CPU time is parsing, and most of parsing was libphonenumber's verdict on each
number: ``number_type`` matches the national significant number (NSN) against up to ten
regular expressions of the country's metadata (issue 18 item 5). Contact lists do not repeat
numbers, but they repeat prefixes: a list of Polish mobiles is a few hundred prefixes.

What the verdict depends on. :func:`judge` calls ``number_type``,
``is_possible_number_with_reason`` and ``region_code_for_number``; all three read the number
only through its country calling code and its NSN string, and of the NSN only (a) its length
(the possible lengths) and (b) whether it fully matches the patterns of the regions sharing the
code (``_number_type_helper``) or begins with a match of a region's ``leading_digits``.

Why a prefix is enough. Most patterns end in "any digits": ``(?:45|5[0137]|6[069])\\d{7}``.
Changing the last 7 digits of a 9-digit string to other digits cannot change whether it
matches: the ``\\d{7}`` takes the last 7 characters whatever they are, and the part before it
sees the same characters. :func:`tail` computes, from the pattern's syntax tree, how many
trailing positions a pattern provably ignores for strings of a given length, ``k``:

* a run of pure digit items (``\\d``, ``[0-9]``, repeats and groups of them) at the end of a
  sequence takes at least ``min`` characters, all digits, so the last ``min`` are free; when
  the run's length is fixed, the item before it is analysed too and its free positions add;
* an alternation is free where every branch that can have the required length is free (the
  minimum over those branches); a group is free where its content is;
* a pattern with look-arounds, anchors or back-references gets 0 (nothing assumed).

The matches of a ``leading_digits`` pattern (``re.match``) are at most ``W`` characters long
(its width), so for an NSN of length ``n`` they see only the first ``n - k`` characters when
``W <= n - k``; otherwise the number is not cached. Taking the minimum ``k`` over every pattern
the verdict can consult for that code and length, the verdict is a function of
``(code, n, nsn[:n - k])``, the key of :class:`VerdictCache`. ``tests/dialer/contacts/
test_verdicts.py`` checks it against :func:`judge` by property tests (UK, US, PL, other
countries, invalid numbers, national and E.164 forms).
"""

from __future__ import annotations

import re._constants as sre
import re._parser as sre_parse
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType, ValidationResult

__all__ = ["Verdict", "VerdictCache", "judge", "tail"]

#: (``PhoneNumberType``, "" when valid else the reason it is not, ``region_code_for_number``)
Verdict = tuple[int, str, str | None]

#: Why a parsed number is not valid.
_LENGTH_REASON = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without an area code",
}

#: Every description ``_number_type_helper`` may match a number against.
_DESCS = (
    "general_desc",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_UNSAFE = {sre.ASSERT, sre.ASSERT_NOT, sre.GROUPREF, sre.GROUPREF_EXISTS, sre.AT}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT}
_EVERYTHING = 1_000  # "no string of this length matches": every position is free
_DIGIT_SETS = ([(sre.CATEGORY, sre.CATEGORY_DIGIT)], [(sre.RANGE, (48, 57))])  # \d, [0-9]


def judge(number: phonenumbers.PhoneNumber) -> Verdict:
    """libphonenumber's verdict on ``number``, computed (the reference the cache must equal).

    ``number_type`` is computed once: a number is valid exactly when its type is known (that
    is how ``is_valid_number`` decides); only an invalid number pays for the reason.
    """
    region = phonenumbers.region_code_for_number(number)
    ntype = phonenumbers.number_type(number)
    if ntype != PhoneNumberType.UNKNOWN:
        return ntype, "", region
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _LENGTH_REASON:
        return ntype, _LENGTH_REASON[possible], region
    where = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return ntype, f"not a valid number in {where}" if where != "ZZ" else "not a valid number", region


class VerdictCache:
    """:func:`judge` remembered by ``(code, NSN length, the NSN less its free tail)``.

    Bounded: emptied when it holds ``limit`` verdicts (a file has a few thousand prefixes;
    a list of numbers spread over a whole country's plan just recomputes more often).
    """

    def __init__(self, limit: int = 65_536) -> None:
        self._limit = limit
        self._known: dict[tuple[int, int, str], Verdict] = {}

    def judge(self, number: phonenumbers.PhoneNumber) -> Verdict:
        code = number.country_code or 0
        nsn = phonenumbers.national_significant_number(number)
        free = _free_tail(code, len(nsn))
        if free is None:
            return judge(number)
        key = (code, len(nsn), nsn[: max(0, len(nsn) - free)])
        found = self._known.get(key)
        if found is None:
            if len(self._known) >= self._limit:
                self._known.clear()
            found = self._known[key] = judge(number)
        return found


@lru_cache(maxsize=4096)
def _free_tail(code: int, length: int) -> int | None:
    """Trailing NSN positions no pattern for ``code`` reads at this length; None: do not cache."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return None  # no metadata: the verdict is cheap and fixed, and nothing to analyse
    free = _EVERYTHING
    widest_leading = 0
    for region in regions:
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            metadata = PhoneMetadata.metadata_for_nongeo_region(code)
        else:
            metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            continue
        if metadata.leading_digits is not None and len(regions) > 1:
            widest_leading = max(widest_leading, sre_parse.parse(metadata.leading_digits).getwidth()[1])
        for name in _DESCS:
            desc = getattr(metadata, name)
            if desc is None or not desc.national_number_pattern:
                continue  # never matches, whatever the digits
            if desc.possible_length and length not in desc.possible_length:
                continue  # refused on length before its pattern is tried
            free = min(free, tail(desc.national_number_pattern, length))
    free = min(free, length)
    if length - free < widest_leading:
        return None
    return free


@lru_cache(maxsize=8192)
def tail(pattern: str, length: int | None = None) -> int:
    """How many trailing positions of a digit string (of ``length``, None: any) cannot change
    whether it fully matches ``pattern`` when replaced by other ASCII digits."""
    parsed = sre_parse.parse(pattern)
    if _unsafe(list(parsed)):
        return 0
    return _sequence_tail(parsed, length)


def _unsafe(items: list[tuple[object, object]]) -> bool:
    for op, av in items:
        if op in _UNSAFE:
            return True
        if op in _REPEATS and _unsafe(list(av[2])):  # type: ignore[index]
            return True
        if op is sre.SUBPATTERN and _unsafe(list(av[3])):  # type: ignore[index]
            return True
        if op is sre.BRANCH and any(_unsafe(list(b)) for b in av[1]):  # type: ignore[index]
            return True
    return False


def _digits_only(op: object, av: object) -> bool:
    """Whether the item matches exactly the strings of ASCII digits of the lengths it allows."""
    if op is sre.IN:
        return av in _DIGIT_SETS
    if op in _REPEATS:
        return all(_digits_only(o, a) for o, a in av[2])  # type: ignore[index]
    if op is sre.SUBPATTERN:
        return all(_digits_only(o, a) for o, a in av[3])  # type: ignore[index]
    if op is sre.BRANCH:
        return all(_digits_only(o, a) for b in av[1] for o, a in b)  # type: ignore[index]
    return False


def _width(state: sre_parse.State, items: list[tuple[object, object]]) -> tuple[int, int]:
    return sre_parse.SubPattern(state, items).getwidth()  # type: ignore[no-any-return]


def _sequence_tail(parsed: sre_parse.SubPattern, length: int | None) -> int:
    """Free trailing positions of a sequence of items that must match ``length`` characters."""
    items = list(parsed)
    if length is not None:
        low, high = _width(parsed.state, items)
        if not low <= length <= high:
            return _EVERYTHING  # no string of this length matches, before or after any change
    free = 0
    i = len(items)
    fixed = True
    while i > 0 and _digits_only(*items[i - 1]):  # the trailing run of digit items
        low, high = _width(parsed.state, [items[i - 1]])
        free += low
        fixed = fixed and low == high
        i -= 1
    if not fixed and length is not None:
        before_run = _width(parsed.state, items[:i])
        if before_run[0] == before_run[1]:  # the run is as long as what the items before leave
            free, fixed = length - before_run[0], True
    if not fixed or i == 0:
        return free
    op, av = items[i - 1]
    before = _width(parsed.state, items[: i - 1])
    inner = None
    if length is not None and before[0] == before[1]:
        inner = length - before[0] - free  # what the item must match, the rest being fixed
    if op is sre.SUBPATTERN:
        return free + _sequence_tail(av[3], inner)  # type: ignore[index]
    if op is sre.BRANCH:
        return free + min(_sequence_tail(b, inner) for b in av[1])  # type: ignore[index]
    return free
