"""An agent's disposition in one statement (issue 18): the checks and the writes together.

Each refusal (no such contact, a status not of its campaign, "my record" without its agent,
a fence no longer held) writes nothing: not the contact, not its attempt, not its history.
Against the embedded PostgreSQL; statements counted on a one-connection pool.
"""

from __future__ import annotations

import asyncpg
import pytest

from dialer.errors import NotFound, OwnershipLost, ValidationError
from dialer.model import AttemptResult, Fence, Outcome, RetryRule, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12)


async def _state(store: Store, contact_id: int, attempt_id: int) -> tuple[object, ...]:
    """Everything a disposition writes: the contact's row, its attempt's, its history."""
    contact = await store.pool.fetchrow("SELECT * FROM contacts WHERE id = $1", contact_id)
    attempt = await store.pool.fetchrow("SELECT * FROM attempts WHERE id = $1", attempt_id)
    history = await store.pool.fetchval(
        "SELECT count(*) FROM status_changes WHERE contact_id = $1", contact_id
    )
    return dict(contact), dict(attempt), history


async def test_a_disposition_is_one_statement_and_every_refusal_writes_nothing(one_conn_store: Store) -> None:
    store = one_conn_store
    camp = await make_campaign(store)
    await store.create_status(StatusSpec("Oddzwonić", retry=RetryRule(delay_s=900)), campaign=camp)
    await store.create_status(StatusSpec("Mój", SystemStatus.MY_RECORD), campaign=camp)
    cid = await store.add_contact(camp, ["+48510000071"])
    owner = await store.pool.fetchval("SELECT id FROM campaigns WHERE name = $1", camp)
    token, _ = await store.take_campaign("e1", owner, expiry_s=30) or (0, None)
    [lease] = await store.lease_contacts(camp, at=NOON, owner="e1", limit=1)
    att = await store.open_attempt(lease, at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.ANSWERED, ended_at=NOON, answered_at=NOON))
    before = await _state(store, cid, att)
    with pytest.raises(NotFound) as missing_status:
        await store.set_disposition(cid, "Nie ma takiego", at=NOON, attempt_id=att)
    assert "status" == missing_status.value.field
    with pytest.raises(NotFound) as missing_contact:
        await store.set_disposition(987654321, "Oddzwonić", at=NOON)
    assert "contact" == missing_contact.value.field
    with pytest.raises(ValidationError) as no_agent:
        await store.set_disposition(cid, "Mój", at=NOON, attempt_id=att)
    assert "agent" == no_agent.value.field
    with pytest.raises(OwnershipLost):
        await store.set_disposition(cid, "Oddzwonić", at=NOON, attempt_id=att, fence=Fence("e2", token + 1))
    assert before == await _state(store, cid, att)  # nothing written by any of them

    seen: list[str] = []
    async with store.pool.acquire() as conn:
        raw: asyncpg.Connection = conn._con  # type: ignore[attr-defined]
        raw.add_query_logger(lambda record: seen.append(record.query))
    await store.set_disposition(cid, "Oddzwonić", at=NOON, attempt_id=att, fence=Fence("e1", token))
    assert 1 == len(seen), seen  # no BEGIN, no COMMIT, no separate fence check
    contact, attempt, history = await _state(store, cid, att)
    assert contact["lease_owner"] is None and history == before[2] + 1
    assert attempt["status_id"] == contact["status_id"] != before[0]["status_id"]
    got = await store.get_contact(cid)
    assert ("Oddzwonić", NOON.timestamp() + 900) == (got.status, got.not_before.timestamp())  # type: ignore[union-attr]
