"""A CSV import's parsing in a child process, so that parsing and loading overlap on two cores.

Why. Parsing and normalising a row (a libphonenumber match per number) costs about as much CPU
as loading it (asyncpg encodes COPY records in Python). In one interpreter the importer's
worker thread overlaps the two only while the event loop waits on the database socket, so an
import ran at the rate of parsing and loading one after the other (issue 18 item 5: 0.42x a
plain COPY). A child process parses while this one loads; and an upload being parsed no longer
holds the engine's event loop, which dials meanwhile.

How. A feeder thread sends the file's byte lines to the child through one pipe (lists of
lines); the child decodes and parses them exactly as the in-process path does
(:func:`~dialer.contacts.encoding.decoded_lines`, :func:`~dialer.contacts.csv_reader.read_contacts`)
and sends the rows back in lists through a second pipe, which a receiver thread empties into
a bounded queue so that the child keeps parsing while the import waits on the database. The
queue and the pipes' buffers bound memory: a side that writes blocks while the other lags.
A :class:`~dialer.errors.DialerError` the child meets (a line that does not decode, a file
without a header) is sent as itself and raised here after the rows before it, as the
in-process reader would raise it; a crash of the child is a ``RuntimeError`` naming its exit
code. When the import stops early (a batch refused by the database) the child is killed and
nothing is left running.

The child is a fresh interpreter started with ``subprocess`` running :func:`child_main` (the
pipes' descriptors passed to it), not a ``multiprocessing`` spawn: a spawned child re-imports
the parent's ``__main__`` module first (the CLI's: 1.4 s; the benchmark's, with numpy: 0.6 s)
while this one imports only the reader (0.2 s). Still, only files of at least
:data:`CHILD_FROM_LINES` lines are parsed in a child (:func:`rows_of_file`); shorter ones are
parsed in the worker thread as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import queue
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from dialer.contacts.csv_reader import ColumnMapping, ContactRow, RejectedRow, read_contacts
from dialer.contacts.encoding import decoded_lines
from dialer.contacts.phone import check_region
from dialer.errors import DialerError

__all__ = ["CHILD_FROM_LINES", "rows_in_child", "rows_of_file"]

_Row = ContactRow | RejectedRow

CHILD_FROM_LINES = 20_000  # a file this long is parsed in a child process
_LINES_PER_MESSAGE = 500
_ROWS_PER_MESSAGE = 500
_MESSAGES_AHEAD = 24  # rows parsed ahead of the import: about two of its batches
_ROOT = str(Path(__file__).resolve().parents[2])  # where the child imports ``dialer`` from
_BOOT = "import sys; sys.path.insert(0, {root!r}); from {module} import child_main; child_main({fds})"


def child_main(lines_fd: int, rows_fd: int) -> None:
    """The child's entry: the settings, then lines, in on one pipe; rows out on the other."""
    lines_in = Connection(lines_fd, writable=False)
    rows_out = Connection(rows_fd, readable=False)
    try:
        encoding, region, mapping = lines_in.recv()
    except EOFError:  # the parent stopped before it sent anything
        return
    _child(lines_in, rows_out, encoding, region, mapping)


def _child(
    lines_in: Connection, rows_out: Connection, encoding: str, region: str, mapping: ColumnMapping
) -> None:
    """The child's work: lines in, rows out, then ``None`` (or the error that stopped it)."""

    def lines() -> Iterator[bytes]:
        while (got := lines_in.recv()) is not None:
            yield from got

    out: list[_Row] = []
    try:
        for row in read_contacts(decoded_lines(lines(), encoding), default_region=region, mapping=mapping):
            out.append(row)
            if len(out) >= _ROWS_PER_MESSAGE:
                rows_out.send(out)
                out = []
        rows_out.send(out)
        rows_out.send(None)
    except DialerError as err:  # the file's fault: raised in the parent, after the rows before it
        rows_out.send(out)
        rows_out.send(err)
    except (BrokenPipeError, EOFError):  # the parent stopped listening: the import is over
        pass
    except Exception as err:  # a bug: the parent says what it was instead of waiting forever
        rows_out.send(RuntimeError(f"import parser failed: {type(err).__name__}: {err}"))


def _feed(lines: Iterator[bytes], out: Connection, settings: tuple[str, str, ColumnMapping]) -> None:
    """Send the settings and ``lines`` to the child (runs in a thread); stops quietly once the
    child is gone."""
    try:
        out.send(settings)
        while chunk := list(itertools.islice(lines, _LINES_PER_MESSAGE)):
            out.send(chunk)
        out.send(None)
    except OSError:  # a broken pipe, a reset: the child is gone
        pass
    finally:
        out.close()


def _receive(rows_in: Connection, process: subprocess.Popen[bytes], ahead: queue.Queue[object]) -> None:
    """Move the child's messages into ``ahead`` (runs in a thread), up to its size ahead of the
    import: the child keeps parsing while the import waits on the database."""
    while True:
        try:
            got = rows_in.recv()
        except (EOFError, OSError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
            got = RuntimeError(f"import parser ended unexpectedly (exit code {process.returncode})")
        ahead.put(got)
        if not isinstance(got, list):
            return


def _stop(process: subprocess.Popen[bytes], receiver: threading.Thread, ahead: queue.Queue[object]) -> None:
    """Kill the child if it still runs, and wait for it and the threads (runs in a thread)."""
    if process.poll() is None:
        process.kill()  # stopped early: the import no longer wants its rows
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
    while receiver.is_alive():  # it may wait for room in ``ahead``; it ends at the child's EOF
        with contextlib.suppress(queue.Empty):
            while True:
                ahead.get_nowait()
        receiver.join(0.05)


async def rows_in_child(
    lines: Iterator[bytes],
    *,
    encoding: str,
    region: str,
    mapping: ColumnMapping,
    counted: Callable[[int], None] | None = None,
) -> AsyncIterator[_Row]:
    """The rows of ``lines`` (a CSV file's byte lines) parsed in a child process, in file order.

    Args:
        counted: called with the number of rows of each list received (import progress).

    Raises:
        CsvFormatError, ValidationError: as :func:`read_contacts` raises them, after the rows
            before the fault.
        RuntimeError: the child crashed (a bug, or the system killed it).
    """
    check_region(region)  # refused here, before a process is spawned for nothing
    lines_in, lines_out = multiprocessing.Pipe(duplex=False)
    rows_in, rows_out = multiprocessing.Pipe(duplex=False)
    fds = (lines_in.fileno(), rows_out.fileno())
    boot = _BOOT.format(root=_ROOT, module=__name__, fds=", ".join(map(str, fds)))
    try:
        process = await asyncio.to_thread(
            subprocess.Popen, [sys.executable, "-c", boot], pass_fds=fds, stdin=subprocess.DEVNULL
        )
    finally:
        lines_in.close()  # the child's ends: closing ours lets each side see the other leave
        rows_out.close()
    ahead: queue.Queue[object] = queue.Queue(maxsize=_MESSAGES_AHEAD)
    feeder = threading.Thread(
        target=_feed,
        args=(lines, lines_out, (encoding, region, mapping)),
        name="dialer-import-feeder",
        daemon=True,
    )
    receiver = threading.Thread(
        target=_receive, args=(rows_in, process, ahead), name="dialer-import-receiver", daemon=True
    )
    feeder.start()
    receiver.start()
    try:
        while True:
            try:
                got = ahead.get_nowait()
            except queue.Empty:
                got = await asyncio.to_thread(ahead.get)
            if got is None:
                return
            if isinstance(got, BaseException):
                raise got
            assert isinstance(got, list)
            if counted is not None:
                counted(len(got))
            for row in got:
                yield row
    finally:
        await asyncio.to_thread(_stop, process, receiver, ahead)
        rows_in.close()
        await asyncio.to_thread(feeder.join, 5)  # its next send fails now that the child is gone


async def rows_of_file(
    lines: Iterable[bytes],
    *,
    encoding: str,
    region: str,
    mapping: ColumnMapping,
    counted: Callable[[int], None] | None = None,
) -> AsyncIterator[_Row] | Iterator[_Row]:
    """The rows of a CSV file's byte ``lines``: parsed in a child when the file is long.

    Reads up to :data:`CHILD_FROM_LINES` lines in a worker thread first. A file that ends
    within them is parsed here (a plain iterator: the importer parses it in its worker thread,
    a batch ahead); a longer one in a child process (an async iterator).
    """
    source = iter(lines)
    head = await asyncio.to_thread(lambda: list(itertools.islice(source, CHILD_FROM_LINES)))
    if len(head) < CHILD_FROM_LINES:
        rows: Iterator[_Row] = read_contacts(
            decoded_lines(head, encoding), default_region=region, mapping=mapping
        )
        return rows if counted is None else _counting(rows, counted)
    return rows_in_child(
        itertools.chain(head, source), encoding=encoding, region=region, mapping=mapping, counted=counted
    )


def _counting(rows: Iterator[_Row], counted: Callable[[int], None]) -> Iterator[_Row]:
    for row in rows:
        counted(1)
        yield row
