"""A long CSV parsed in a child process gives what the in-process reader gives, errors included."""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import pytest

from dialer.contacts import parser_process
from dialer.contacts.csv_reader import ColumnMapping, RejectedRow, read_contacts
from dialer.contacts.encoding import decoded_lines
from dialer.contacts.parser_process import rows_in_child, rows_of_file
from dialer.errors import CsvFormatError, ValidationError
from dialer.store.imports import ImportProgress
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign


def _csv(n: int, *, bad_byte_at: int | None = None) -> list[bytes]:
    """A file's byte lines: ``n`` data rows, every 7th number invalid, every 11th a repeat."""
    lines = [b"name,phone,city\n"]
    for i in range(n):
        number = f"+48 60{i // 1_000_000} {i % 1_000_000:06d}"
        if i % 7 == 3:
            number = "12"
        elif i % 11 == 5:
            number = "+48 600 000000"  # the first row's number again
        city = "Krak\xf3w".encode() if bad_byte_at != i + 2 else b"Krak\xf3w"  # cp1250 in a UTF-8 file
        lines.append(f"Klient {i},{number},".encode() + city + b"\n")
    return lines


def _in_process(lines: list[bytes]) -> list[object]:
    return list(read_contacts(decoded_lines(lines), default_region="PL"))


async def _in_child(lines: list[bytes]) -> list[object]:
    return [
        r async for r in rows_in_child(iter(lines), encoding="utf-8", region="PL", mapping=ColumnMapping())
    ]


def _children() -> list[str]:
    """This process's live children running the parser (Linux's /proc lists each thread's)."""
    tasks = Path("/proc/self/task").iterdir()
    pids = [pid for task in tasks for pid in (task / "children").read_text().split()]
    running = []
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            if b"child_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                running.append(pid)
    return running


async def test_the_child_gives_the_rows_the_reader_gives_in_order() -> None:
    lines = _csv(1_300)  # several messages each way
    counted: list[int] = []
    got = [
        r
        async for r in rows_in_child(
            iter(lines), encoding="utf-8", region="PL", mapping=ColumnMapping(), counted=counted.append
        )
    ]
    expected = _in_process(lines)
    assert expected == got
    assert sum(isinstance(r, RejectedRow) for r in got) > 100  # invalid numbers and repeats came back
    assert len(got) == sum(counted)
    assert [] == _children()


async def test_an_undecodable_line_raises_the_readers_error_after_the_rows_before_it() -> None:
    lines = _csv(900, bad_byte_at=700)
    with pytest.raises(CsvFormatError) as in_process:
        _in_process(lines)
    got: list[object] = []
    with pytest.raises(CsvFormatError) as in_child:
        async for r in rows_in_child(iter(lines), encoding="utf-8", region="PL", mapping=ColumnMapping()):
            got.append(r)
    assert "line 700" in str(in_child.value)
    assert str(in_process.value) == str(in_child.value)
    assert ("encoding", "utf-8") == (in_child.value.field, in_child.value.value)
    assert 699 == max(getattr(r, "line", 0) for r in got)  # every row before the bad line
    assert [] == _children()


async def test_a_file_without_a_header_and_a_bad_region_are_refused() -> None:
    with pytest.raises(CsvFormatError, match="empty file"):
        await _in_child([])
    with pytest.raises(CsvFormatError, match="phone"):
        await _in_child([b"name,city\n", b"a,b\n"])
    with pytest.raises(ValidationError, match="region"):
        [
            r
            async for r in rows_in_child(
                iter(_csv(3)), encoding="utf-8", region="XX", mapping=ColumnMapping()
            )
        ]
    assert [] == _children()


async def test_an_import_that_stops_early_leaves_no_process_or_thread_behind() -> None:
    rows = rows_in_child(iter(_csv(50_000)), encoding="utf-8", region="PL", mapping=ColumnMapping())
    first = [await anext(rows) for _ in range(10)]
    assert [2, 3, 4] == [r.line for r in first[:3]]  # type: ignore[union-attr]
    assert 1 == len(_children())
    await rows.aclose()
    assert [] == _children()
    assert not any(t.name == "dialer-import-feeder" and t.is_alive() for t in threading.enumerate())


async def test_only_a_long_file_goes_to_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser_process, "CHILD_FROM_LINES", 100)
    short = await rows_of_file(_csv(98), encoding="utf-8", region="PL", mapping=ColumnMapping())
    long = await rows_of_file(_csv(99), encoding="utf-8", region="PL", mapping=ColumnMapping())
    assert not hasattr(short, "__anext__") and hasattr(long, "__anext__")
    assert _in_process(_csv(99)) == [r async for r in long]  # type: ignore[union-attr]


async def test_a_long_file_imports_as_a_short_one_does(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _csv(2_000)
    results = []
    for threshold in (10_000, 500):  # in the worker thread, then in a child process
        monkeypatch.setattr(parser_process, "CHILD_FROM_LINES", threshold)
        camp = await make_campaign(store)
        rejects: list[RejectedRow] = []
        progress = ImportProgress()
        report = await store.import_csv(
            camp,
            io.BytesIO(b"".join(lines)),
            region="PL",
            batch_size=300,
            on_reject=rejects.append,
            progress=progress,
        )
        stored = await store.pool.fetch(
            """SELECT c.import_line, c.name, p.e164 FROM contacts c JOIN campaigns k ON k.id = c.campaign_id
               JOIN contact_phones p ON p.contact_id = c.id WHERE k.name = $1 ORDER BY c.import_line""",
            camp,
        )
        results.append(
            (
                report.imported,
                report.rejected,
                rejects,
                [tuple(r) for r in stored],
                progress.parsed,
                progress.batches,
            )
        )
    assert results[0] == results[1]
    imported, rejected, rejects, stored, parsed, _ = results[1]
    assert (2_000, 2_000) == (imported + rejected, parsed)
    assert imported == len(stored) > 1_000
    assert [r.line for r in rejects] == sorted(r.line for r in rejects)
