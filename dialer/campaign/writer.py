"""The ordered outcome writer: store writes that must not be lost, kept in order per contact.

Theory of operation. Everything the runner learns about a contact after it was dialled -- the
closed attempt, the agent's disposition, the release of its lease, a personal callback handed
to the campaign -- is a write the store must eventually see, in the order it was learnt.
:class:`OutcomeWriter` is the one place those writes wait:

* a write names the contacts it touches; it starts only when no earlier write of one of those
  contacts is waiting or running, so one contact's writes never overtake each other, while
  writes of other contacts overlap (up to ``max_concurrent_writes`` at once);
* a write of unknown contacts is a barrier: it waits for every earlier write and holds back
  every later one;
* a write that fails with one of our own errors (:class:`~dialer.errors.DialerError`) is
  logged and dropped, since retrying cannot help; any other failure means the database is
  unreachable: the writer reports ``down`` (``on_state(False)``), keeps the write in line and
  retries one write at a time with exponential backoff on the runner's clock until one
  succeeds (``on_state(True)``);
* writes of one kind that queue up go to the store together (issue 18: closes). A write
  submitted with a :class:`Batch` joins a batch of its kind started in the same round when
  no slot is free for it alone, up to ``Batch.limit``; the batch is one call
  (``Batch.write_many``) that settles each write alone (its result, or the ``DialerError``
  it met: that write is dropped, the others stand). While the database is down writes go
  one at a time, unbatched;
* a batchable write that finds no batch of its kind to join lingers (``write_linger_s``, a
  few tens of milliseconds; 0: never) before it starts, so that the closes of a steady
  25-200 attempts/s go in batches too and not only once they queue up: while it lingers,
  later writes of its kind join it (up to ``Batch.limit``; a full batch starts at once),
  its contacts' later writes wait behind it as behind any write, and writes of other
  contacts start as usual. :meth:`OutcomeWriter.flush` and :meth:`OutcomeWriter.end_linger`
  (the runner's drain and stop) end every linger at once.

The runner owns the task of :meth:`OutcomeWriter.run`; the writer owns the tasks of the writes
it started and cancels them when its own task is cancelled.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import structlog

from dialer.campaign.alarm import Alarm
from dialer.campaign.settings import RunnerSettings
from dialer.clock import Clock
from dialer.errors import DialerError

log = structlog.get_logger(__name__)

__all__ = ["Batch", "OutcomeWriter"]


class Batch:
    """A kind of write that may go to the store many at once.

    Args:
        write_many: writes the items given, returns one result per item in their order: the
            write's result, or the ``DialerError`` it met (that write alone is dropped).
        limit: most writes in one batch.
    """

    __slots__ = ("limit", "write_many")

    def __init__(
        self, write_many: Callable[[list[Any]], Awaitable[Sequence[Any]]], *, limit: int = 100
    ) -> None:
        self.write_many = write_many
        self.limit = limit


class _Write:
    __slots__ = ("batch", "done", "item", "keys", "queued_at", "started", "what", "write")

    def __init__(
        self,
        what: str,
        write: Callable[[], Awaitable[Any]],
        done: Callable[[Any], None] | None,
        keys: frozenset[int] | None,
        batch: Batch | None = None,
        item: Any = None,
        queued_at: float = 0.0,
    ) -> None:
        self.what = what
        self.write = write
        self.done = done
        self.keys = keys  # the contacts it touches; None: all (waits for and holds back everything)
        self.started = False
        self.batch = batch  # the kind it may be batched with (None: always alone), and its item
        self.item = item
        self.queued_at = queued_at  # runner clock: when its linger began


class OutcomeWriter:
    """Store writes that must not be lost, in order per contact, retried while the database is down.

    Up to ``max_concurrent_writes`` writes run at once (one transaction each: a strictly
    serial writer caps a runner at one round trip per attempt, ~50 attempts/s); a write
    starts only when no earlier write of the same contact is waiting or running, so a
    contact's close, disposition and release stay in the order they were submitted. A write
    whose contacts are unknown (``keys=None``) waits for everything before it and holds
    back everything after it. While the database is down one write at a time is retried.

    A write that fails with one of our own errors (``DialerError``: not found, closed
    already, bad input) is logged and dropped: retrying cannot help. Anything else (socket
    errors, asyncpg connection errors, timeouts) means the database is unreachable: the
    write stays in line and is retried with exponential backoff on the runner's clock.

    Args:
        clock: the runner's clock (backoff, lingers and :meth:`flush` sleep on it).
        settings: ``max_concurrent_writes``, ``write_linger_s``, ``db_retry_initial_s`` and
            ``db_retry_max_s``.
        on_state: called with False when the database starts looking unreachable and with
            True when a write succeeds again.

    Attributes:
        down: the last write failed as if the database were unreachable.
        written: writes that succeeded so far.
    """

    def __init__(self, clock: Clock, settings: RunnerSettings, on_state: Callable[[bool], None]) -> None:
        self._clock = clock
        self._settings = settings
        self._queue: deque[_Write] = deque()
        self._running: dict[asyncio.Task[Any], list[_Write]] = {}
        self._wake = Alarm()
        self._on_state = on_state
        self.down = False
        self.written = 0
        self.batches = 0  # batches of more than one write started so far
        self.batched = 0  # writes that went in those batches
        self._linger_until: float | None = None  # when the earliest lingering batch is due
        self._no_linger = 0  # flushes and stops under way: every batch starts at once

    def submit(
        self,
        what: str,
        write: Callable[[], Awaitable[Any]],
        done: Callable[[Any], None] | None = None,
        *,
        contacts: Iterable[int] | None = None,
        batch: tuple[Batch, Any] | None = None,
    ) -> None:
        """Queue a write behind every earlier write of the same contacts.

        Args:
            what: names the write in logs.
            write: makes the store call; called again on retry, so it must be repeatable.
            done: called with the write's result once it succeeded (never if dropped).
            contacts: the contacts it touches; None: unknown, a barrier for every write.
            batch: (kind, item): when writes queue up, this one may go in one
                ``kind.write_many`` call with others of its kind (``item`` its part); alone
                it is ``write()``. Needs ``contacts``.
        """
        keys = frozenset(contacts) if contacts is not None else None
        kind, item = batch if batch is not None and keys is not None else (None, None)
        self._queue.append(_Write(what, write, done, keys, kind, item, self._clock.now()))
        self._wake.set()

    @property
    def pending(self) -> int:
        """Writes waiting or running."""
        return len(self._queue)

    async def flush(self, *, timeout_s: float) -> bool:
        """Wait until everything is written or ``timeout_s`` (runner clock) passes.

        Returns:
            True if nothing is left to write.
        """
        return await self._wait_for(lambda: not self._queue, timeout_s, step_s=0.05)

    async def end_linger(self, *, timeout_s: float) -> bool:
        """Start every lingering write now and wait until they are written (the runner's stop:
        nothing a linger held back is left behind), at most ``timeout_s`` (runner clock).

        Without a linger (``write_linger_s`` 0, or the database down) it returns at once: the
        stop is what it was before lingers.

        Returns:
            True if none of them is left to write.
        """
        if self.down or self._settings.write_linger_s <= 0:
            return True
        held = [w for w in self._queue if w.batch is not None and not w.started]
        return await self._wait_for(lambda: not any(w in self._queue for w in held), timeout_s, step_s=0.01)

    async def _wait_for(self, done: Callable[[], bool], timeout_s: float, *, step_s: float) -> bool:
        """Poll ``done`` every ``step_s``, lingering nowhere, until it holds or ``timeout_s`` passes."""
        self._no_linger += 1
        self._wake.set()
        try:
            deadline = self._clock.now() + timeout_s
            while not done() and self._clock.now() < deadline:
                await self._clock.sleep(min(step_s, max(0.0, deadline - self._clock.now())))
            return done()
        finally:
            self._no_linger -= 1

    def _startable(self) -> list[list[_Write]]:
        """What may start now: each a write alone or a batch (a write with no slot of its own
        joins a batch of its kind started in this round; with a linger, a write of a kind
        joins its kind's batch even when a slot is free, and a batch whose first write came
        less than the linger ago waits, unless full)."""
        limit = 1 if self.down else self._settings.max_concurrent_writes
        room = limit - len(self._running)
        join = self._settings.write_linger_s > 0  # a write joins its kind's batch even with a slot free
        linger = 0.0 if self.down or self._no_linger else self._settings.write_linger_s
        now = self._clock.now()
        ready: list[list[_Write]] = []
        open_batches: dict[int, list[_Write]] = {}  # by id of the kind, still with room
        lingering: dict[int, list[_Write]] = {}  # batches not started: their linger goes on
        held: set[int] = set()  # contacts of earlier writes, waiting or running
        for w in self._queue:
            if room <= 0 and not open_batches:
                break
            if w.keys is None:
                if not w.started and not self._running and not ready and w is self._queue[0]:
                    ready.append([w])
                break  # nothing after a write of unknown contacts may overtake it
            if not w.started and not (w.keys & held):
                kind = w.batch
                if kind is not None and id(kind) in open_batches and (room <= 0 or join):
                    group = open_batches[id(kind)]
                    group.append(w)
                    if len(group) >= kind.limit:
                        del open_batches[id(kind)]
                        if id(kind) in lingering and room > 0:  # full: no reason to wait longer
                            del lingering[id(kind)]
                            ready.append(group)
                            room -= 1
                elif room > 0 and kind is not None and linger > 0 and now < w.queued_at + linger:
                    # (the same sum as the deadline below: a clock that wakes at it ends it)
                    open_batches[id(kind)] = lingering[id(kind)] = [w]  # takes no slot yet
                elif room > 0:
                    ready.append([w])
                    room -= 1
                    if kind is not None and not self.down:
                        open_batches[id(kind)] = ready[-1]
            held |= w.keys
            if self.down:
                break
        firsts = [group[0].queued_at + linger for group in lingering.values()]
        self._linger_until = min(firsts) if firsts else None
        return ready

    def _start(self, group: list[_Write]) -> asyncio.Future[Any]:
        for w in group:
            w.started = True
        if len(group) == 1:
            return asyncio.ensure_future(group[0].write())
        self.batches += 1
        self.batched += len(group)
        kind = group[0].batch
        assert kind is not None
        return asyncio.ensure_future(kind.write_many([w.item for w in group]))

    async def run(self) -> None:
        """Start, settle and retry writes until cancelled (then cancel the writes running)."""
        backoff = self._settings.db_retry_initial_s
        try:
            while True:
                for group in self._startable():
                    task = self._start(group)
                    task.add_done_callback(self._ended)
                    self._running[task] = group  # type: ignore[index]
                finished = [task for task in self._running if task.done()]
                if not finished:  # sleep until a write ends, one is submitted or a linger ends
                    if self._linger_until is None:
                        await self._wake.wait()
                    else:
                        await self._wake.sleep_until(self._clock, self._linger_until)
                    self._wake.clear()
                    finished = [task for task in self._running if task.done()]
                failed = False
                for task in finished:
                    group = self._running.pop(task, None)  # type: ignore[arg-type]
                    if group is None:
                        continue
                    if self._finish(group, task):
                        backoff = self._settings.db_retry_initial_s
                    else:
                        failed = True
                if failed:
                    await self._clock.sleep(backoff)
                    backoff = min(backoff * 2, self._settings.db_retry_max_s)
        finally:
            for task in self._running:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    def _ended(self, _: asyncio.Future[Any]) -> None:
        self._wake.set()

    def _finish(self, group: list[_Write], task: asyncio.Future[Any]) -> bool:
        """Settle a finished write or batch; False if the database looked unreachable (retry it)."""
        err = task.exception() if not task.cancelled() else asyncio.CancelledError()
        if isinstance(err, DialerError) and len(group) > 1:
            # the batch as a whole refused (write_many settles each write): each goes alone
            log.warning("store_batch_refused", write=group[0].what, size=len(group), error=str(err))
            for w in group:
                w.started, w.batch = False, None
            return True
        if isinstance(err, DialerError):
            log.warning("store_write_dropped", write=group[0].what, error=str(err))
            self._queue.remove(group[0])
            return True
        if err is not None:
            for w in group:
                w.started = False
            if not self.down:
                self.down = True
                self._on_state(False)
                log.warning(
                    "store_unreachable", write=group[0].what, error=type(err).__name__, pending=self.pending
                )
            return False
        results = [task.result()] if len(group) == 1 else list(task.result())
        if self.down:
            self.down = False
            self._on_state(True)
            log.info("store_reachable", pending=self.pending)
        for w, result in zip(group, results, strict=True):
            self._queue.remove(w)
            if len(group) > 1 and isinstance(result, DialerError):
                log.warning("store_write_dropped", write=w.what, error=str(result))
                continue
            self.written += 1
            if w.done is not None:
                w.done(result)
        return True
