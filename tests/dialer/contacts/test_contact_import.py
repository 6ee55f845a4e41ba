"""Loading rows into a campaign: COPY batches, duplicates, rejects with line numbers, rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dialer.contacts.csv_reader import ContactRow, RejectedRow
from dialer.contacts.importer import import_contacts
from dialer.contacts.phone import PhoneNumber
from dialer.errors import CsvFormatError, ImportAborted
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign


def pl(e164: str) -> PhoneNumber:
    return PhoneNumber(e164=e164, region="PL", kind="mobile", timezones=("Europe/Warsaw",))


def row(line: int, *numbers: str, tz: str | None = None, **fields: str) -> ContactRow:
    return ContactRow(
        line=line, name=f"n{line}", phones=tuple(pl(n) for n in numbers), timezone=tz, fields=fields
    )


async def test_good_rows_are_imported_with_numbers_zones_and_fields(store: Store) -> None:
    camp = await make_campaign(store)
    rejects: list[RejectedRow] = []
    report = await import_contacts(
        store.pool,
        camp,
        [
            row(2, "+48530000001", "+48530000002", city="Kraków"),
            row(3, "+48530000003", tz="America/New_York"),
        ],
        on_reject=rejects.append,
    )
    assert (2, 0, []) == (report.imported, report.rejected, rejects)
    rows = await store.pool.fetch(
        "SELECT c.id, c.timezone, c.fields FROM contacts c JOIN campaigns p ON p.id = c.campaign_id"
        " WHERE p.name = $1 ORDER BY c.import_line",
        camp,
    )
    assert [("Europe/Warsaw", {"city": "Kraków"}), ("America/New_York", {})] == [
        (r["timezone"], r["fields"]) for r in rows
    ]
    assert rows[0]["id"] < rows[1]["id"]  # ids rise with the lines: the dial order's last tie-break
    first = await store.get_contact(rows[0]["id"])
    assert [("+48530000001", 1, ("Europe/Warsaw",)), ("+48530000002", 2, ("Europe/Warsaw",))] == [
        (p.e164, p.position, p.timezones) for p in first.phones
    ]


async def test_rejected_and_duplicate_rows_are_reported_and_the_rest_imported(store: Store) -> None:
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48530000010"])
    rejects: list[RejectedRow] = []
    rows = [
        row(2, "+48530000011"),
        RejectedRow(3, "phone: invalid number"),
        row(4, "+48530000010"),  # already in the campaign
        row(5, "+48530000011"),  # earlier in this file
        row(6, "+48530000012", tz="Mars/Olympus"),
        row(7, "+48530000013"),
    ]
    report = await import_contacts(store.pool, camp, rows, on_reject=rejects.append, batch_size=2)
    assert (2, 4) == (report.imported, report.rejected)
    assert [
        (3, "phone: invalid number"),
        (4, "duplicate of a contact already in the campaign (+48530000010)"),
        (5, "duplicate of line 2 (+48530000011)"),
        (6, "unknown time zone 'Mars/Olympus'"),
    ] == [(r.line, r.reason) for r in rejects]  # in line order, though line 4 was known last


async def test_a_batch_failing_in_the_database_rolls_back_whole(store: Store) -> None:
    camp = await make_campaign(store)
    bad = ContactRow(
        line=5, name="x", phones=(PhoneNumber("+0bad", "PL", "mobile", ()),), timezone=None, fields={}
    )
    rows = [row(2, "+48530000021"), row(3, "+48530000022"), row(4, "+48530000023"), bad]
    with pytest.raises(ImportAborted) as e:
        await import_contacts(store.pool, camp, rows, batch_size=2)
    assert (3, 2) == (e.value.committed_through_line, e.value.imported)
    numbers = await store.pool.fetch(
        "SELECT p.e164 FROM contact_phones p JOIN campaigns c ON c.id = p.campaign_id WHERE c.name = $1"
        " ORDER BY p.e164",
        camp,
    )
    assert ["+48530000021", "+48530000022"] == [r["e164"] for r in numbers]
    orphans = await store.pool.fetchval(
        "SELECT count(*) FROM contacts c JOIN campaigns p ON p.id = c.campaign_id WHERE p.name = $1", camp
    )
    assert 2 == orphans


async def test_a_failing_batch_stops_the_import_though_later_rows_were_read_meanwhile(store: Store) -> None:
    camp = await make_campaign(store)
    bad = ContactRow(
        line=3, name="x", phones=(PhoneNumber("+0bad", "PL", "mobile", ()),), timezone=None, fields={}
    )
    rows = [row(2, "+48530000031"), bad, *(row(line, f"+485300001{line:02d}") for line in range(4, 12))]
    with pytest.raises(ImportAborted) as e:
        await import_contacts(store.pool, camp, rows, batch_size=2)
    assert (0, 0) == (e.value.committed_through_line, e.value.imported)
    assert "lines 2-3" in str(e.value)
    stored = await store.pool.fetchval(
        "SELECT count(*) FROM contacts c JOIN campaigns p ON p.id = c.campaign_id WHERE p.name = $1", camp
    )
    assert 0 == stored  # nothing after the failed batch was loaded either


async def test_a_fault_in_the_rows_keeps_the_batches_read_before_it(store: Store) -> None:
    camp = await make_campaign(store)
    rejects: list[RejectedRow] = []

    async def rows() -> AsyncIterator[ContactRow | RejectedRow]:
        yield row(2, "+48530000041")
        yield RejectedRow(3, "phone: invalid number")
        yield row(4, "+48530000042")  # a full batch: handed to the database, the reading goes on
        yield row(5, "+48530000041")
        raise CsvFormatError("file", "not valid text in the expected encoding near line 6")

    with pytest.raises(CsvFormatError):
        await import_contacts(store.pool, camp, rows(), batch_size=2, on_reject=rejects.append)
    numbers = await store.pool.fetch(
        "SELECT p.e164 FROM contact_phones p JOIN campaigns c ON c.id = p.campaign_id WHERE c.name = $1"
        " ORDER BY p.e164",
        camp,
    )
    assert ["+48530000041", "+48530000042"] == [r["e164"] for r in numbers]
    assert [3] == [r.line for r in rejects]  # the first batch's rejects went out before the fault
