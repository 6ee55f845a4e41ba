"""Text from a CSV's bytes with the line a bad byte is on, and numbers a campaign can never dial."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.contacts.dialability import (
    FEW_HOURS,
    NO_COMMON_HOUR,
    PREMIUM,
    TOLL_FREE,
    DialabilityTally,
    common_hours,
)
from dialer.contacts.dnc_file import decode_dnc_file
from dialer.contacts.encoding import check_encoding, decoded_lines, guess_code_pages
from dialer.contacts.phone import normalize
from dialer.errors import CsvFormatError, ValidationError

POLISH = "name,phone,city\nAnna,600123456,Kraków\nŁucja,600123457,Łódź\n"


def test_a_cp1250_file_read_as_utf8_names_the_bad_line_and_the_code_page() -> None:
    data = ("name,phone\nAnna,600123456\n" + "Łucja,600123457\n").encode("cp1250")
    with pytest.raises(CsvFormatError) as e:
        list(decoded_lines(data.splitlines(keepends=True)))
    assert "encoding" == e.value.field
    assert e.value.reason.startswith("line 3, column 1 is not valid utf-8 (byte 0xa3)")
    assert e.value.reason.endswith("try encoding cp1250")


def test_the_right_code_page_decodes_every_line_as_written() -> None:
    data = POLISH.encode("cp1250")
    assert POLISH == "".join(decoded_lines(data.splitlines(keepends=True), "cp1250"))
    assert POLISH == "".join(decoded_lines(("\ufeff" + POLISH).encode().splitlines(keepends=True)))
    crlf = POLISH.replace("\n", "\r\n").encode()
    assert POLISH.replace("\n", "\r\n") == "".join(decoded_lines(crlf.splitlines(keepends=True)))


def test_code_pages_are_guessed_by_letters() -> None:
    assert ["cp1250"] == guess_code_pages("zażółć gęślą jaźń".encode("cp1250"))
    assert "cp1252" in guess_code_pages("café crème".encode("cp1252"))
    assert [] == guess_code_pages(b"\x98")  # unmapped in cp1251, not a letter in the rest


def test_unknown_and_not_ascii_compatible_encodings_are_refused() -> None:
    assert "cp1250" == check_encoding("CP1250")
    for name in ("klingon", "utf-16", "utf-32"):
        with pytest.raises(ValidationError) as e:
            check_encoding(name)
        assert "encoding" == e.value.field


AT = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)


def test_toll_free_premium_and_zones_without_common_hours_are_counted_by_reason() -> None:
    tally = DialabilityTally(dt.time(9), dt.time(20), AT)
    toll_free = normalize("+1 800 555 0100", "US")
    tally.check(2, toll_free.kind, toll_free.timezones, None)
    tally.check(3, toll_free.kind, toll_free.timezones, None)
    ny = normalize("+1 212 555 0147", "US")
    tally.check(4, ny.kind, ny.timezones, None)
    premium = normalize("+48 701 234 567", "PL")
    tally.check(5, premium.kind, premium.timezones, None)
    tally.check(6, "mobile", ("Asia/Kolkata", "America/Chicago"), None)  # 11.5 h apart, 11 h of hours
    tally.check(7, "mobile", ("Asia/Kolkata", "America/Chicago"), "Europe/Warsaw")  # its own zone wins
    tally.check(8, "mobile", ("Asia/Tokyo", "America/New_York"), None)  # 1 h in common
    (toll_free_reason, rows, first), *rest = tally.summary()
    # 42 candidate zones from Guam to Hawaii leave at most a few hours of 09:00-20:00
    assert (2, 2) == (rows, first) and toll_free_reason.startswith(TOLL_FREE + "; ")
    assert [(PREMIUM, 1, 5), (NO_COMMON_HOUR, 1, 6), (FEW_HOURS, 1, 8)] == rest


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["Europe/Warsaw", "America/New_York", "Asia/Tokyo", "Pacific/Honolulu", "UTC"]),
    st.integers(0, 23),
    st.integers(1, 23),
)
def test_one_zone_has_as_many_common_hours_as_the_window_is_long(zone: str, start: int, length: int) -> None:
    end = (start + length) % 24
    seconds = common_hours((zone,), dt.time(start), dt.time(end), AT.replace(minute=0))
    # a DST change within the day moves one hour in or out
    assert abs(seconds - length * 3600) <= 3600
    assert common_hours((zone, zone), dt.time(start), dt.time(end), AT.replace(minute=0)) == seconds


@pytest.mark.parametrize("name", ["no-such-codec", "utf\x008", "\U000c0106\x00W"])
def test_a_do_not_call_file_in_an_unknown_encoding_is_refused_naming_the_field(name: str) -> None:
    # a NUL in the name made Python raise ValueError, not LookupError: an HTTP 500 (schemathesis)
    with pytest.raises(ValidationError) as info:
        decode_dnc_file(b"+48501000111\n", name)
    assert "encoding" == info.value.field


def test_a_do_not_call_file_decodes_in_its_encoding() -> None:
    assert "+48 501 000 111 ż\n" == decode_dnc_file("+48 501 000 111 ż\n".encode("cp1250"), "cp1250")
