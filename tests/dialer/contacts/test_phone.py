"""Phone numbers: normalisation to E.164, rejection reasons, kinds and time zones."""

from __future__ import annotations

import phonenumbers
import phonenumbers.timezone
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from dialer.contacts.phone import PhoneNumber, normalize, zone_for
from dialer.errors import InvalidNumber, ValidationError


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+48 22 123 45 67", "PL", "+48221234567"),
        ("022 123-45-67", "PL", "+48221234567"),  # trunk 0 Poland dropped in 2009, still written
        ("(022) 123-45-67", "PL", "+48221234567"),
        ("0048221234567", "PL", "+48221234567"),
        ("0048 22 123 45 67", "US", "+48221234567"),  # 00 prefix in a file whose default is US
        ("(212) 555-0100", "US", "+12125550100"),
        ("+1 212 555 0100", "PL", "+12125550100"),  # an explicit country code wins over the default
        ("600 123 456", "pl", "+48600123456"),  # region code case does not matter
        ("+39 06 1234 5678", "IT", "+390612345678"),  # Italy keeps its leading 0
        ("020 7946 0958", "GB", "+442079460958"),  # UK trunk 0
        ("  +48600123456  ", "PL", "+48600123456"),
        ("48600123456", "PL", "+48600123456"),  # country code without the plus
        ("48600123456.0", "PL", "+48600123456"),  # a number cell saved as a float
        ("+48 (0) 22 123 45 67", "PL", "+48221234567"),  # bracketed trunk 0
        ("+48600123456 ext. 12", "PL", "+48600123456"),  # extension dropped: the dialer dials the line
    ],
)
def test_common_formatting_is_normalised_to_e164(raw: str, region: str, e164: str) -> None:
    assert e164 == normalize(raw, region).e164


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", "PL", "empty"),
        ("   ", "PL", "empty"),
        ("12", "PL", "too short"),
        ("abc", "PL", "not a phone number"),
        ("+999 123 456", "PL", "unknown country code"),
        ("+48 22 123 45 678 9", "PL", "too long"),
        ("+48 99 123 45 67", "PL", "not a valid number in PL"),
        ("555-0100", "US", "local number without an area code"),
        ("4.86001E+10", "PL", "written in scientific notation by a spreadsheet, digits lost"),
    ],
)
def test_bad_numbers_are_rejected_with_the_reason(raw: str, region: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as err:
        normalize(raw, region)
    assert ("phone", reason, raw) == (err.value.field, err.value.reason, err.value.value)


def test_unknown_default_region_is_a_validation_error_naming_region() -> None:
    with pytest.raises(ValidationError) as err:
        normalize("600 123 456", "XX")
    assert "region" == err.value.field


def test_kind_region_and_zone_of_a_polish_mobile() -> None:
    n = normalize("+48 600 123 456", "PL")
    assert PhoneNumber("+48600123456", "PL", "mobile", ("Europe/Warsaw",)) == n
    assert "Europe/Warsaw" == zone_for(n)


def test_fixed_line_and_us_fixed_or_mobile_kinds() -> None:
    assert "fixed" == normalize("+48 22 123 45 67", "PL").kind
    assert "fixed_or_mobile" == normalize("(212) 555-0100", "US").kind


def test_toll_free_number_spans_many_zones_so_no_zone_is_guessed() -> None:
    n = normalize("+1 800 FLOWERS", "US")
    assert "toll_free" == n.kind
    assert len(n.timezones) > 1
    assert zone_for(n) is None


def test_non_geographic_number_has_no_region_and_no_zone() -> None:
    n = normalize("+800 1234 5678", "PL")
    assert (None, (), None) == (n.region, n.timezones, zone_for(n))


# Example numbers from libphonenumber's own metadata, written the ways people write them.
REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.example_number(r) is not None)
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(REGIONS), st.sampled_from(FORMATS))
def test_every_regions_example_number_round_trips_in_every_format(region: str, fmt: int) -> None:
    example = phonenumbers.example_number(region)
    assert example is not None
    expected = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    written = phonenumbers.format_number(example, fmt)
    n = normalize(written, region)
    assert expected == n.e164
    library_zones = phonenumbers.timezone.time_zones_for_number(example)
    assert tuple(z for z in library_zones if z != "Etc/Unknown") == n.timezones
    assert n == normalize(n.e164, "PL")  # normalising is idempotent and region-independent for E.164


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.sampled_from(["PL", "US", "GB", "DE"]))
def test_arbitrary_text_gives_a_valid_number_or_invalid_number(raw: str, region: str) -> None:
    try:
        n = normalize(raw, region)
    except InvalidNumber as err:
        assert "phone" == err.field and err.reason
    else:
        assert phonenumbers.is_valid_number(phonenumbers.parse(n.e164, None))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([1, 7, 44, 48, 49, 61, 86, 800, 882, 979]), st.text("0123456789", min_size=4, max_size=12)
)
def test_kind_and_zones_agree_with_the_library_for_any_valid_number(country: int, digits: str) -> None:
    raw = f"+{country}{digits}"
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return
    if not phonenumbers.is_valid_number(parsed):
        with pytest.raises(InvalidNumber):
            normalize(raw, "PL")
        return
    n = normalize(raw, "PL")
    library_zones = phonenumbers.timezone.time_zones_for_number(parsed)
    assert tuple(z for z in library_zones if z != "Etc/Unknown") == n.timezones
    assert phonenumbers.format_number(parsed, PhoneNumberFormat.E164) == n.e164
