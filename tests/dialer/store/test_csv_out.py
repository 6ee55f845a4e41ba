"""CSV exports never hand a spreadsheet a formula (OWASP "CSV Injection"), yet keep E.164 numbers."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.store.csv_out import csv_text, neutralise

_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+48600123456", "+48600123456"),  # E.164: a number, not a formula
        ("+1", "'+1"),  # too short for E.164
        ("+48 600 123 456", "'+48 600 123 456"),  # not E.164 (spaces): free text
        ("+0600123456", "'+0600123456"),  # no country code starts with 0
        ("+4860012345678901", "'+4860012345678901"),  # 16 digits: longer than E.164 allows
        ("Ewa = Anna", "Ewa = Anna"),
        ("", ""),
        (-5, -5),  # a number value is written as a number
        (None, None),
    ],
)
def test_formula_like_text_gets_a_quote_and_e164_numbers_stay(cell: object, written: object) -> None:
    assert written == neutralise(cell)


async def _rows(rows: list[Sequence[object]]) -> AsyncIterator[Sequence[object]]:
    for row in rows:
        yield row


def _read(rows: list[Sequence[object]]) -> list[list[str]]:
    async def text() -> str:
        return "".join([piece async for piece in csv_text(_rows(rows), chunk_rows=2)])

    return list(csv.reader(io.StringIO(asyncio.run(text()), newline="")))


@settings(deadline=None, max_examples=60)  # one event loop per example: slow on a busy machine
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_every_cell_reads_back_as_itself_or_quoted_and_never_as_a_formula(cells: list[str]) -> None:
    (read,) = _read([cells])
    assert len(cells) == len(read)
    for original, cell in zip(cells, read, strict=True):
        assert cell in (original, "'" + original)
        assert not cell.startswith(_STARTS) or cell == original == neutralise(original)  # E.164 only


def test_a_header_and_many_rows_are_neutralised_in_every_chunk() -> None:
    rows: list[Sequence[object]] = [["id", "name", "@field"]]
    rows += [[i, f"=cmd{i}", "+48600123456"] for i in range(5)]
    header, *body = _read(rows)
    assert ["id", "name", "'@field"] == header
    assert [[str(i), f"'=cmd{i}", "+48600123456"] for i in range(5)] == body
