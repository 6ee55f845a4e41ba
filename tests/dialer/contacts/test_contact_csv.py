"""Contact CSV reading: accepted rows, every rejection reason, line numbers, whole-file errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.contacts.csv_reader import ColumnMapping, ContactRow, RejectedRow, read_contacts
from dialer.contacts.phone import normalize
from dialer.errors import CsvFormatError, ValidationError


def read(text: str, region: str = "PL", **kw: object) -> list[ContactRow | RejectedRow]:
    return list(read_contacts(io.StringIO(text, newline=""), default_region=region, **kw))  # type: ignore[arg-type]


def rejected(results: list[ContactRow | RejectedRow]) -> list[tuple[int, str]]:
    return [(r.line, r.reason) for r in results if isinstance(r, RejectedRow)]


def accepted(results: list[ContactRow | RejectedRow]) -> list[ContactRow]:
    return [r for r in results if isinstance(r, ContactRow)]


# ---------------------------------------------------------------------------- accepted rows


def test_a_good_row_has_normalised_numbers_name_zone_and_custom_fields() -> None:
    [row] = read(
        "name,phone,phone2,timezone,city,debt\n"
        "Jan Kowalski,022 123-45-67,+48 600 123 456,,Warszawa,120.50\n"
    )
    assert isinstance(row, ContactRow)
    assert 2 == row.line
    assert "Jan Kowalski" == row.name
    assert ("+48221234567", "+48600123456") == tuple(p.e164 for p in row.phones)
    assert "Europe/Warsaw" == row.timezone  # derived from the first number
    assert {"city": "Warszawa", "debt": "120.50"} == row.fields


def test_given_time_zone_wins_over_the_number() -> None:
    [row] = read("phone,timezone\n+48600123456,America/Chicago\n")
    assert isinstance(row, ContactRow) and "America/Chicago" == row.timezone


def test_time_zone_spelling_is_matched_case_insensitively_and_stored_canonically() -> None:
    rows = read("phone,timezone\n600123456,europe/warsaw\n601123456,AMERICA/NEW_YORK\n602123456,UTC\n"
                "603123456,localtime\n604123456,Moon/Tranquility\n")
    assert ["Europe/Warsaw", "America/New_York", "UTC"] == [r.timezone for r in accepted(rows)]
    expected = [(5, "unknown time zone 'localtime'"), (6, "unknown time zone 'Moon/Tranquility'")]
    assert expected == rejected(rows)


def test_number_spanning_zones_gives_no_zone_when_none_is_given() -> None:
    [row] = read("phone\n+1 800 356 9377\n", region="US")
    assert isinstance(row, ContactRow) and row.timezone is None


def test_empty_extra_phones_are_skipped_and_a_repeated_number_in_a_row_kept_once() -> None:
    [row] = read("phone,phone2,phone3,phone4\n600123456,,+48600123456,601123456\n")
    assert isinstance(row, ContactRow)
    assert ("+48600123456", "+48601123456") == tuple(p.e164 for p in row.phones)


def test_name_and_timezone_columns_are_optional_and_empty_cells_are_not_fields() -> None:
    [row] = read("phone,note\n600123456,\n")
    assert isinstance(row, ContactRow)
    assert (None, {}) == (row.name, row.fields)


def test_header_names_match_case_insensitively_and_keep_their_spelling_as_fields() -> None:
    [row] = read("Name,PHONE,Phone2,City\nAla,600123456,601123456,Łódź\n")
    assert isinstance(row, ContactRow)
    assert ("Ala", 2, {"City": "Łódź"}) == (row.name, len(row.phones), row.fields)


def test_explicit_mapping_of_name_and_phone_columns() -> None:
    mapping = ColumnMapping(name="Imię i nazwisko", timezone="strefa", phones=("komórka", "stacjonarny"))
    text = "Imię i nazwisko;komórka;stacjonarny;strefa\nZenon;600123456;22 123 45 67;\n"
    [row] = read(text, mapping=mapping)
    assert isinstance(row, ContactRow)
    assert ("Zenon", ("+48600123456", "+48221234567"), {}) == (
        row.name, tuple(p.e164 for p in row.phones), row.fields)


# ---------------------------------------------------------------------------- rejections


def test_every_rejection_reason_with_its_line_and_the_good_rows_still_accepted() -> None:
    text = (
        "name,phone,phone2,timezone\n"  # 1
        "Ok,600123456,601123456,\n"  # 2
        "Short,12,,\n"  # 3
        "BadSecond,602123456,12,\n"  # 4
        "NoPhone,,603123456,\n"  # 5
        "Dup,+48 601 123 456,,\n"  # 6: the earlier row's second number
        "Mars,604123456,,Mars/Base\n"  # 7
        "Cols,605123456\n"  # 8
        "Ok2,606123456,,Europe/London\n"  # 9
        "Dup2,606123456,,\n"  # 10
        "Letters,abc,,\n"  # 11
    )
    results = read(text)
    assert [
        (3, "invalid number in column phone: '12' (too short)"),
        (4, "invalid number in column phone2: '12' (too short)"),
        (5, "missing value in column phone"),
        (6, "duplicate of line 2 (+48601123456)"),
        (7, "unknown time zone 'Mars/Base'"),
        (8, "wrong number of columns: 2, header has 4"),
        (10, "duplicate of line 9 (+48606123456)"),
        (11, "invalid number in column phone: 'abc' (not a phone number)"),
    ] == rejected(results)
    assert [2, 9] == [r.line for r in accepted(results)]


def test_a_rejected_row_does_not_make_later_rows_duplicates() -> None:
    results = read("phone,timezone\n600123456,Nowhere/City\n600123456,\n")
    assert [(2, "unknown time zone 'Nowhere/City'")] == rejected(results)
    assert [3] == [r.line for r in accepted(results)]


def test_any_number_held_by_an_earlier_row_makes_a_duplicate_in_one_wording() -> None:
    results = read("phone,phone2\n600123456,\n601123456,600123456\n602123456,\n603123456,602123456\n")
    assert [
        (3, "duplicate of line 2 (+48600123456)"),
        (5, "duplicate of line 4 (+48602123456)"),
    ] == rejected(results)


def test_an_oversized_cell_is_rejected_and_reading_goes_on() -> None:
    results = read("phone,note\n600123456," + "x" * 200_000 + "\n601123456,ok\n")
    assert [(2, "unreadable CSV: field larger than field limit (131072)")] == rejected(results)
    assert [3] == [r.line for r in accepted(results)]


# ---------------------------------------------------------------------------- line numbers and formats


def test_line_numbers_count_physical_lines_across_quoted_newlines_and_blank_lines() -> None:
    text = 'name,phone\n"Two\nlines",600123456\n\n\n"Three\n\nlines",12\nLast,601123456\n'
    results = read(text)
    assert [2] == [r.line for r in accepted(results)][:1]
    assert [(6, "invalid number in column phone: '12' (too short)")] == rejected(results)
    assert 9 == accepted(results)[-1].line
    assert "Two\nlines" == accepted(results)[0].name


def test_blank_lines_before_the_header_shift_the_numbers() -> None:
    results = read("\n\nphone\n12\n")
    assert [(4, "invalid number in column phone: '12' (too short)")] == rejected(results)


def test_crlf_line_ends_and_a_utf8_bom_are_handled() -> None:
    [row] = read("\ufeffname,phone\r\nŻaneta,600123456\r\n")
    assert isinstance(row, ContactRow) and "Żaneta" == row.name and 2 == row.line


def test_semicolon_delimiter_of_polish_excel_exports() -> None:
    [row] = read("name;phone;kwota\nJan;600 123 456;1,50\n")
    assert isinstance(row, ContactRow) and {"kwota": "1,50"} == row.fields


def test_tab_delimited_files() -> None:
    [row] = read("name\tphone\nJan\t600 123 456\n")
    assert isinstance(row, ContactRow) and "+48600123456" == row.phones[0].e164


def test_reading_is_lazy_so_files_of_any_size_stream() -> None:
    pulled = 0

    def lines() -> Iterator[str]:
        nonlocal pulled
        pulled += 1
        yield "phone,n\n"
        for i in range(1_000_000):
            pulled += 1
            yield f"+4860{i:07d},{i}\n"

    rows = read_contacts(lines(), default_region="PL")
    first = next(rows)
    assert isinstance(first, ContactRow) and 2 == first.line
    assert pulled < 10


# ---------------------------------------------------------------------------- whole-file errors


@pytest.mark.parametrize(
    ("text", "field", "reason_part"),
    [
        ("", "file", "empty file"),
        ("\n\n  \n", "file", "empty file"),
        ("name,mobile\nJan,600123456\n", "header", "no 'phone' column"),
        ("phone2,name\n600123456,Jan\n", "header", "no 'phone' column"),
        ("phone,name,Name\n600123456,a,b\n", "header", "duplicate column name 'Name'"),
        ("phone,,name\n600123456,,a\n", "header", "column 2 has no name"),
    ],
)
def test_whole_file_problems_raise_csv_format_error(text: str, field: str, reason_part: str) -> None:
    with pytest.raises(CsvFormatError) as err:
        read(text)
    assert field == err.value.field
    assert reason_part in err.value.reason


def test_a_mapped_column_that_is_missing_is_a_whole_file_error() -> None:
    mappings = (ColumnMapping(phones=("tel",)), ColumnMapping(name="full_name"), ColumnMapping(timezone="tz"))
    for mapping in mappings:
        with pytest.raises(CsvFormatError) as err:
            read("phone,name\n600123456,Jan\n", mapping=mapping)
        assert "missing" in err.value.reason


def test_a_column_mapped_to_two_roles_is_a_whole_file_error() -> None:
    cases = [
        (ColumnMapping(name="phone"), "name"),
        (ColumnMapping(timezone="name"), "timezone"),
        (ColumnMapping(phones=("phone", "PHONE")), "phones"),
        (ColumnMapping(phones=()), "phones"),
    ]
    for mapping, field in cases:
        with pytest.raises(CsvFormatError) as err:
            read("phone,name\n600123456,Jan\n", mapping=mapping)
        assert field == err.value.field


def test_unknown_default_region_fails_before_any_row() -> None:
    with pytest.raises(ValidationError) as err:
        read("phone\n600123456\n", region="XX")
    assert "region" == err.value.field


def test_undecodable_bytes_are_a_whole_file_error() -> None:
    raw = io.TextIOWrapper(io.BytesIO(b"phone\n600123456\n\xff\xfe\n"), encoding="utf-8", newline="")
    with pytest.raises(CsvFormatError) as err:
        list(read_contacts(raw, default_region="PL"))
    assert "file" == err.value.field


# ---------------------------------------------------------------------------- property

GOOD = [
    "600123456", "+48 22 123 45 67", "601-123-457", "(022) 555 12 34", "+1 212 555 0100", "0048 602 000 111",
]
BAD = ["", "12", "abc", "+999 1", "+48 99 123 45 67"]
cells = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\x00"), max_size=12
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, list[int], int]:
    """A well-formed CSV, the physical line each record starts on, and the record count."""
    n_extra = draw(st.integers(0, 2))
    header = ["name", "phone", "city"] + [f"phone{i + 2}" for i in range(n_extra)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    starts: list[int] = []
    numbers = st.sampled_from(GOOD + BAD)
    for _ in range(draw(st.integers(0, 12))):
        starts.append(out.getvalue().count("\n") + 1)
        row = [draw(cells), draw(numbers), draw(cells)] + [draw(numbers) for _ in range(n_extra)]
        if not any(c.strip() for c in row):
            row[2] = "x"  # an all-blank record is a blank line, not a record
        writer.writerow(row)
    return out.getvalue(), starts, len(starts)


@settings(max_examples=200, deadline=None)
@given(csv_files())
def test_every_record_yields_exactly_one_result_on_its_own_start_line(
    case: tuple[str, list[int], int],
) -> None:
    text, starts, count = case
    results = read(text)
    assert count == len(results)
    assert starts == [r.line for r in results]
    seen: set[str] = set()
    for r in results:
        if isinstance(r, ContactRow):
            assert r.phones and r.phones[0].e164 not in seen
            seen.update(p.e164 for p in r.phones)
        else:
            assert r.reason


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(GOOD), min_size=1, max_size=8))
def test_accepted_first_numbers_are_unique_and_duplicates_point_at_the_earlier_line(
    numbers: list[str],
) -> None:
    text = "phone\n" + "".join(f'"{n}"\n' for n in numbers)
    first_line: dict[str, int] = {}
    for r in read(text):
        e164 = normalize(numbers[r.line - 2], "PL").e164
        if isinstance(r, ContactRow):
            assert e164 not in first_line
            first_line[e164] = r.line
        else:
            assert f"duplicate of line {first_line[e164]} ({e164})" == r.reason
