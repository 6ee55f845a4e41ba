"""Stored call history for the campaign-memory tests: attempts written as if dialled earlier."""

from __future__ import annotations

import datetime as dt

from dialer.model import Outcome
from dialer.store.store import Store


async def past_attempt(
    store: Store,
    campaign: str,
    outcome: Outcome,
    ended_at: dt.datetime,
    *,
    ring_s: float = 5.0,
    talk_s: float = 0.0,
    engine_id: str = "earlier",
    number: str = "+48510999000",
) -> int:
    """Write one closed attempt of ``campaign`` (on a contact of its own, not due again); return its id."""
    camp = await store.get_campaign(campaign)
    contact = await store.add_contact(campaign, [number])
    await store.pool.execute(
        "UPDATE contacts SET attempts = 1, not_before = now() + interval '60 days' WHERE id = $1", contact
    )
    started = ended_at - dt.timedelta(seconds=ring_s + talk_s)
    answered = started + dt.timedelta(seconds=ring_s) if outcome in (Outcome.ANSWERED, Outcome.ABANDONED,
                                                                     Outcome.MACHINE) else None
    return int(
        await store.pool.fetchval(
            "INSERT INTO attempts (contact_id, campaign_id, e164, engine_id, started_at, answered_at,"
            " ended_at, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            contact, camp.id, number, engine_id, started, answered, ended_at, outcome.value,
        )
    )
