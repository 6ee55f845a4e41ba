"""The outcome writer: a few writes at once, never two of one contact, order kept per contact."""

from __future__ import annotations

import asyncio
import dataclasses

from dialer.campaign.writer import Batch, OutcomeWriter
from dialer.clock import RealClock
from dialer.errors import NotFound
from tests.dialer.campaign.runner_fixtures import FAST, wait_for


class _Log:
    """Writes that block until the test lets them finish, recording start and end order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.fail_once: set[str] = set()

    def write(self, name: str):  # type: ignore[no-untyped-def]
        gate = self.gates.setdefault(name, asyncio.Event())

        async def run() -> str:
            self.events.append(f"start {name}")
            await gate.wait()
            if name in self.fail_once:
                self.fail_once.discard(name)
                gate.clear()
                raise ConnectionResetError("database gone")
            self.events.append(f"end {name}")
            return name

        return run


async def _writer(**kw: object) -> tuple[OutcomeWriter, asyncio.Task[None], list[bool]]:
    states: list[bool] = []
    writer = OutcomeWriter(RealClock(), dataclasses.replace(FAST, **kw), states.append)  # type: ignore[arg-type]
    return writer, asyncio.ensure_future(writer.run()), states


async def test_writes_of_other_contacts_overlap_and_one_contact_waits_its_turn() -> None:
    log = _Log()
    writer, task, _ = await _writer(max_concurrent_writes=4)
    done: list[str] = []
    try:
        writer.submit("a1", log.write("a1"), done.append, contacts=[1])
        writer.submit("b1", log.write("b1"), done.append, contacts=[2])
        writer.submit("a2", log.write("a2"), done.append, contacts=[1])
        await wait_for(
            lambda: log.events == ["start a1", "start b1"] or log.events == ["start b1", "start a1"]
        )
        await asyncio.sleep(0.05)
        assert "start a2" not in log.events  # a1 is still running
        log.gates["b1"].set()
        await wait_for(lambda: done == ["b1"])  # b1 overtook a1: another contact
        log.gates["a1"].set()
        log.gates["a2"].set()
        await wait_for(lambda: done == ["b1", "a1", "a2"])
        assert log.events.index("end a1") < log.events.index("start a2")
        assert 0 == writer.pending and 3 == writer.written
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_one_write_at_a_time_when_so_configured_and_unknown_contacts_are_a_barrier() -> None:
    log = _Log()
    writer, task, _ = await _writer(max_concurrent_writes=3)
    try:
        writer.submit("a", log.write("a"), contacts=[1])
        writer.submit("all", log.write("all"))  # contacts unknown: waits for a, holds back c
        writer.submit("c", log.write("c"), contacts=[3])
        await wait_for(lambda: log.events == ["start a"])
        await asyncio.sleep(0.05)
        assert ["start a"] == log.events
        log.gates["a"].set()
        await wait_for(lambda: log.events[-1] == "start all")
        await asyncio.sleep(0.05)
        assert "start c" not in log.events
        log.gates["all"].set()
        log.gates["c"].set()
        await wait_for(lambda: 0 == writer.pending)
        assert ["start a", "end a", "start all", "end all", "start c", "end c"] == log.events
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_failed_write_is_retried_in_place_and_a_dropped_one_does_not_block() -> None:
    log = _Log()
    writer, task, states = await _writer(max_concurrent_writes=4)
    done: list[str] = []

    async def not_found() -> None:
        raise NotFound("attempt", 7)

    try:
        log.fail_once.add("a1")
        writer.submit("gone", not_found, done.append, contacts=[9])
        writer.submit("a1", log.write("a1"), done.append, contacts=[1])
        writer.submit("a2", log.write("a2"), done.append, contacts=[1])
        log.gates["a1"].set()
        await wait_for(lambda: writer.down)  # the database looked unreachable
        log.gates["a1"].set()
        log.gates["a2"].set()
        await wait_for(lambda: done == ["a1", "a2"])  # a1 retried first, a2 after it; "gone" dropped
        assert [False, True] == states
        assert 0 == writer.pending
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_writes_that_queue_up_go_in_one_batch_each_settled_alone() -> None:
    log = _Log()
    writer, task, _ = await _writer(max_concurrent_writes=1)
    batches: list[list[int]] = []

    async def write_many(items: list[int]) -> list[object]:
        batches.append(items)
        return [NotFound("attempt", i) if i == 3 else i for i in items]

    kind = Batch(write_many, limit=3)
    done: list[object] = []
    try:
        writer.submit("first", log.write("first"), done.append, contacts=[1])
        await wait_for(lambda: log.events == ["start first"])
        for i in range(2, 7):  # queued behind the one slot; 5 and 6 share contact 5
            writer.submit(f"w{i}", log.write(f"w{i}"), done.append, contacts=[min(i, 5)], batch=(kind, i))
        for gate in log.gates.values():
            gate.set()  # "first" finishes; a write alone finishes at once
        # w2 takes the slot and w3, w4 join it (limit 3); w5 next; w6 waits for w5 (same contact)
        await wait_for(lambda: 0 == writer.pending)
        assert [[2, 3, 4]] == batches  # w5 then w6 came alone: the slot was free for each
        assert ["first", 2, 4, "w5", "w6"] == done  # w3's NotFound dropped it alone
        assert (4, 1) == (writer.written - 1, writer.batches)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_lingering_batch_holds_back_its_contacts_alone_and_starts_at_once_when_full() -> None:
    log = _Log()
    writer, task, _ = await _writer(max_concurrent_writes=4, write_linger_s=30.0)
    batches: list[list[int]] = []

    async def write_many(items: list[int]) -> list[object]:
        batches.append(items)
        return items

    kind = Batch(write_many, limit=3)
    done: list[object] = []
    try:
        writer.submit("w1", log.write("w1"), done.append, contacts=[1], batch=(kind, 1))
        writer.submit("other", log.write("other"), done.append, contacts=[2])
        writer.submit("after1", log.write("after1"), done.append, contacts=[1])
        log.gates["other"].set()
        log.gates["after1"].set()
        await wait_for(lambda: done == ["other"])  # another contact's write did not wait
        await asyncio.sleep(0.05)
        assert ([], ["start other", "end other"]) == (batches, log.events)  # w1 lingers, after1 behind it
        writer.submit("w3", log.write("w3"), done.append, contacts=[3], batch=(kind, 3))
        writer.submit("w4", log.write("w4"), done.append, contacts=[4], batch=(kind, 4))
        await wait_for(lambda: 0 == writer.pending)  # full: started without waiting out the 30 s
        assert [[1, 3, 4]] == batches
        assert ["other", 1, 3, 4, "after1"] == done
        assert (1, 3) == (writer.batches, writer.batched)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_flush_ends_the_linger() -> None:
    writer, task, _ = await _writer(write_linger_s=30.0)
    batches: list[list[int]] = []

    async def write_many(items: list[int]) -> list[object]:
        batches.append(items)
        return items

    kind = Batch(write_many)
    log = _Log()
    try:
        for i in (1, 2):
            writer.submit(f"w{i}", log.write(f"w{i}"), contacts=[i], batch=(kind, i))
        await asyncio.sleep(0.05)
        assert (2, []) == (writer.pending, batches)
        assert await writer.flush(timeout_s=5.0)  # the drain: nothing waits out its linger
        assert [[1, 2]] == batches
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
