"""The store's pool: round trips per attempt and what releasing a connection still undoes."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest

from dialer.errors import LeaseLost
from dialer.model import AttemptResult, Outcome
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12)


async def _log_queries(store: Store) -> list[str]:
    seen: list[str] = []
    async with store.pool.acquire() as conn:
        raw: asyncpg.Connection = conn._con  # type: ignore[attr-defined]
        raw.add_query_logger(lambda record: seen.append(" ".join(record.query.split())))
    return seen


async def test_open_and_close_take_one_and_two_statements_and_no_reset(one_conn_store: Store) -> None:
    store = one_conn_store
    camp = await make_campaign(store)
    await store.add_contact(camp, ["+48510000041", "+48510000042"])
    [lease] = await store.lease_contacts(camp, at=NOON, limit=1, owner="e1")
    seen = await _log_queries(store)
    assert None is await store.recheck_before_dial(lease, at=NOON, agent_reserved=False)
    assert 1 == len(seen), seen  # and the campaign's schedule, remembered from now on
    seen.clear()
    att = await store.open_checked_attempt(lease, at=NOON, agent_reserved=False)
    assert isinstance(att, int)
    assert 1 == len(seen), seen  # the dial-time checks and the insert
    seen.clear()
    await store.close_attempt(att, AttemptResult(Outcome.NO_ANSWER, ended_at=NOON))
    assert 2 == len(seen), seen  # one read, one guarded write: no BEGIN / COMMIT
    assert not any(q.startswith(("BEGIN", "COMMIT")) for q in seen), seen
    assert not any("RESET ALL" in q or "UNLISTEN" in q for q in seen)
    [lease] = await store.lease_contacts(camp, at=NOON, limit=1, owner="e1")
    seen.clear()
    await store.open_attempt(lease, at=NOON)
    assert 1 == len(seen), seen


async def test_open_attempt_inserts_nothing_without_the_lease(one_conn_store: Store) -> None:
    store = one_conn_store
    camp = await make_campaign(store)
    cid = await store.add_contact(camp, ["+48510000043"])
    [lease] = await store.lease_contacts(camp, at=NOON, limit=1, owner="e1")
    late = lease.lease_expires_at + dt.timedelta(seconds=1)
    with pytest.raises(LeaseLost):
        await store.open_attempt(lease, at=late)
    assert [] == await store.contact_attempts(cid, include_cleared=True)


async def test_a_transaction_left_open_is_still_rolled_back_on_release(one_conn_store: Store) -> None:
    store = one_conn_store
    camp = await make_campaign(store)
    loop = asyncio.get_running_loop()
    complaints: list[str] = []
    loop.set_exception_handler(lambda _loop, ctx: complaints.append(ctx["message"]))
    try:
        async with store.pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("UPDATE campaigns SET max_attempts = 99 WHERE name = $1", camp)
    finally:
        loop.set_exception_handler(None)
    assert any("active transaction" in m for m in complaints)
    async with store.pool.acquire() as conn:
        assert not conn.is_in_transaction()
    assert 99 != (await store.get_campaign(camp)).max_attempts
