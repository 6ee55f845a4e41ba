"""The remembered libphonenumber verdicts give exactly what computing them gives."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dialer.contacts import phone
from dialer.contacts.verdicts import VerdictCache, judge, tail
from dialer.errors import InvalidNumber

#: UK, US, PL first (the files we see), then a spread of plans: shared codes (+1, +7, +44,
#: +39 with the Vatican, +61), long and short numbers, Italy's leading zero, non-geographic.
REGIONS = ["GB", "US", "PL", "CA", "DE", "FR", "IT", "VA", "RU", "KZ", "AU", "IN", "CN", "BR", "JE", "IM"]
TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.VOIP,
    PhoneNumberType.UAN,
]
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL, None]


def _outcome(text: str, region: str, decide: object) -> object:
    """What :func:`phone.normalize` says: the number, or the error's field, reason and value."""
    try:
        return phone.normalize(text, region, judge=decide)  # type: ignore[arg-type]
    except InvalidNumber as e:
        return (e.field, e.reason, e.value)


def _written(region: str, ntype: int, fmt: int | None, tail_digits: str, cut: int) -> str | None:
    """An example number of ``region`` with its last digits replaced (and maybe cut or grown),
    written in ``fmt`` (None: the bare digits after the country code)."""
    example = phonenumbers.example_number_for_type(region, ntype)
    if example is None:
        return None
    nsn = phonenumbers.national_significant_number(example)
    keep = max(1, len(nsn) - len(tail_digits))
    digits = nsn[:keep] + tail_digits
    digits = digits[: len(nsn) + cut] if cut <= 0 else digits + "7" * cut
    code = example.country_code
    if fmt is None:
        return f"+{code}{digits}"
    try:
        number = phonenumbers.parse(f"+{code}{digits}", None)
    except phonenumbers.NumberParseException:
        return f"+{code} {digits}"
    return phonenumbers.format_number(number, fmt)


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(REGIONS),
    st.sampled_from(TYPES),
    st.sampled_from(FORMATS),
    st.sampled_from(REGIONS),
    st.lists(st.text("0123456789", min_size=1, max_size=7), min_size=2, max_size=4),
    st.integers(-2, 2),
)
def test_numbers_sharing_a_prefix_get_the_computed_verdict(
    region: str, ntype: int, fmt: int | None, default: str, tails: list[str], cut: int
) -> None:
    """Each example fills a fresh cache with numbers differing only in their last digits: the
    second and later are answered from the first's entry wherever the key says they may be."""
    cache = VerdictCache()
    for tail_digits in tails:
        text = _written(region, ntype, fmt, tail_digits, cut)
        if text is None:
            return
        assert _outcome(text, default, judge) == _outcome(text, default, cache.judge)
        assert _outcome(text, default, judge) == _outcome(text, default, None)  # the process's cache


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from([1, 7, 33, 39, 44, 48, 49, 61, 86, 91, 800, 882, 979, 999]),
    st.text("0123456789", min_size=1, max_size=16),
    st.lists(st.text("0123456789", min_size=1, max_size=6), min_size=1, max_size=3),
    st.sampled_from(["PL", "US", "GB"]),
    st.booleans(),
)
def test_any_digits_get_the_computed_verdict(
    code: int, digits: str, tails: list[str], default: str, plus: bool
) -> None:
    """Arbitrary digits after a country code (valid, invalid, too short, too long, unknown
    codes), and the same digits with other endings, with or without the plus sign."""
    cache = VerdictCache()
    for ending in ["", *tails]:
        body = digits[: max(1, len(digits) - len(ending))] + ending
        text = f"+{code} {body}" if plus else f"{code}{body}"
        assert _outcome(text, default, judge) == _outcome(text, default, cache.judge)
        try:
            number = phonenumbers.parse(text, default)
        except phonenumbers.NumberParseException:
            continue
        assert judge(number) == cache.judge(number)  # the region of an invalid number too


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["PL", "US", "GB", "IT"]), st.text("0123456789 -()", min_size=1, max_size=14))
def test_numbers_written_nationally_get_the_computed_verdict(region: str, text: str) -> None:
    cache = VerdictCache()
    for written in (text, "0" + text, text[:-1] + "5"):
        assert _outcome(written, region, judge) == _outcome(written, region, cache.judge)


def test_a_full_cache_starts_again_and_still_answers() -> None:
    cache = VerdictCache(limit=2)
    numbers = [phonenumbers.parse(n, None) for n in ("+48600123456", "+442079460958", "+12125550100")]
    assert [judge(n) for n in numbers] == [cache.judge(n) for n in numbers]
    assert [judge(n) for n in numbers] == [cache.judge(n) for n in numbers]


@pytest.mark.parametrize(
    ("pattern", "length", "free"),
    [
        (r"(?:45|5[0137]|6[069])\d{7}", 9, 7),  # a fixed prefix, then any 7 digits
        (r"(?:45|5[0137]|6[069])\d{7}", 8, 1_000),  # no 8-digit string matches: all free
        (r"9\d{3}(?:\d{2})?", None, 3),  # 4 or 6 digits long: only the last 3 are always free
        (r"9\d{3}(?:\d{2})?", 6, 5),  # at length 6 everything after the 9
        (r"(?:30|47\d\d)\d{5}", 9, 7),  # "30" cannot make 9 digits: only 47\d\d counts
        (r"21(?:1[013-5]|2\d)\d{5}", 9, 5),  # [013-5] is not any digit
        (r"80[08]\d{7}|800\d{6}|8001111", 7, 0),  # a literal ending reads every digit
        (r"(?=\d{9})6\d{8}", 9, 0),  # a look-ahead: nothing is assumed
        (r"6\d{8}$", 9, 0),  # an anchor: nothing is assumed
    ],
)
def test_free_tail_of_a_pattern(pattern: str, length: int | None, free: int) -> None:
    assert free == tail(pattern, length)


@pytest.mark.parametrize(
    "numbers",
    [
        ("+1 212 555 012", "+1 268 555 012"),  # 9 digits: no US pattern reads them, Antigua's prefix does
        ("+39 06 698", "+39 333 12"),  # the Vatican's leading digits inside Italy's +39
        ("+7 701 123 45", "+7 912 123 45"),  # Kazakhstan's leading digits against Russia's
    ],
)
def test_a_shared_code_keeps_each_regions_verdict_when_no_pattern_reads_the_digits(
    numbers: tuple[str, ...],
) -> None:
    cache = VerdictCache()
    parsed = [phonenumbers.parse(n, None) for n in numbers]
    assert [judge(n) for n in parsed] == [cache.judge(n) for n in parsed]
    assert len({judge(n)[2] for n in parsed}) == 2  # the two regions differ: a shared entry would be wrong
