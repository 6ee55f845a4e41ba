"""Which contacts of a campaign may be dialled at instant *t*, and leasing them.

Theory of operation: the trigger in migration 001 keeps each contact's ``dial_rank``
(0 due callback or "my record", 1 call progressive, 2 retry, 3 fresh; NULL never) and
``due_at``. The lease query walks the partial index ``contacts_dial_order`` in
(rank, due_at, priority, id) order, checks the per-row rules on each row it meets, and stops
after N hits, so leasing 100 contacts reads roughly 100 index entries however large the
campaign. The rules checked per row:

* due (``due_at <= t``) and not leased by anybody (or the lease has expired);
* "call progressive" only for a caller that has an agent reserved;
* under the campaign's attempt cap and its per-day cap (campaign-local day), except a due
  callback or "my record" appointment: the person agreed to that call, so the caps (meant
  against harassment) do not hold it back; lists, hours and windows still do;
* UK profile: not within 72 h of an abandon or 24 h of a machine unless an agent is
  reserved (Ofcom persistent-misuse policy, DESIGN.md);
* "my record" and personal callbacks only when their agent is among the caller's agents;
* a number that is enabled, on no do-not-call list (global or the campaign's), inside its
  own contact window and inside the campaign's local calling hours, both in the number's
  local time. The contact's own time zone wins; else the zones ``phonenumbers`` derived
  from the number; a number whose zone is ambiguous (a US area code spanning two zones) is
  only dialled when the hours hold in *every* candidate zone; a number with no zone at all
  falls back to the campaign's zone. Numbers are tried in rotation from the contact's
  ``next_phone_pos``; a due callback uses its own number.

Whether the campaign's schedule is open is checked in Python (``Schedule.is_open``) before
the query; a closed schedule or a campaign not running leases nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from dialer.model import LeasedContact

REASONS = {0: "callback", 1: "call_progressive", 2: "retry", 3: "fresh"}

# $1 campaign, $2 at, $3 limit, $4 owner, $5 lease until, $6 agent reserved, $7 agent ids
# (NULL: any), $8 campaign-local day, $9 max attempts, $10 max per day, $11 UK locks apply,
# $12 hours start, $13 hours end, $14 campaign zone.
LEASE_SQL = """
WITH picked AS (
    SELECT c.id, c.dial_rank, ph.id AS phone_id, ph.e164, cb.id AS callback_id
    FROM contacts c
    LEFT JOIN LATERAL (
        SELECT b.id, b.phone_id FROM callbacks b
        WHERE b.contact_id = c.id AND b.state = 'pending' AND b.due_at <= $2
        ORDER BY b.due_at LIMIT 1
    ) cb ON c.callback_due_at IS NOT NULL
    CROSS JOIN LATERAL (
        SELECT p.id, p.e164 FROM contact_phones p
        CROSS JOIN LATERAL (SELECT CASE
            WHEN c.timezone IS NOT NULL THEN ARRAY[c.timezone]
            WHEN cardinality(p.timezones) > 0 THEN p.timezones
            ELSE ARRAY[$14::text] END AS zones) z
        WHERE p.contact_id = c.id AND p.disabled_at IS NULL
          AND (cb.phone_id IS NULL OR p.id = cb.phone_id)
          AND dialer_in_hours($2, z.zones, $12, $13)
          AND dialer_in_hours($2, z.zones, p.window_start, p.window_end)
          AND NOT EXISTS (SELECT 1 FROM do_not_call d
                          WHERE d.e164 = p.e164 AND (d.campaign_id IS NULL OR d.campaign_id = $1))
        ORDER BY (p.position < c.next_phone_pos), p.position
        LIMIT 1
    ) ph
    WHERE c.campaign_id = $1
      AND c.dial_rank IS NOT NULL
      AND c.due_at <= $2
      AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= $2)
      AND (c.dial_rank <> 1 OR $6)
      AND (c.dial_rank = 0
           OR (c.attempts < $9 AND (c.day_attempts_on IS DISTINCT FROM $8 OR c.day_attempts < $10)))
      AND (NOT $11 OR $6
           OR ((c.last_abandon_at IS NULL OR c.last_abandon_at <= $2 - interval '72 hours')
               AND (c.last_machine_at IS NULL OR c.last_machine_at <= $2 - interval '24 hours')))
      AND (c.dial_rank <> 0 OR c.agent_id IS NULL OR $7::bigint[] IS NULL OR c.agent_id = ANY($7::bigint[]))
    ORDER BY c.dial_rank, c.due_at, c.priority DESC, c.id
    LIMIT $3
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE contacts c
SET lease_owner = $4, lease_expires_at = $5
FROM picked
WHERE c.id = picked.id
RETURNING c.id, c.campaign_id, c.name, c.fields, c.agent_id, c.dial_rank, c.due_at, c.priority,
          picked.phone_id, picked.e164, picked.callback_id, c.lease_owner, c.lease_expires_at
"""


async def lease(
    conn: asyncpg.Connection,
    *,
    campaign_id: int,
    at: dt.datetime,
    limit: int,
    owner: str,
    ttl_s: float,
    agent_reserved: bool,
    agent_ids: Sequence[int] | None,
    local_day: dt.date,
    max_attempts: int,
    max_per_day: int,
    uk_locks: bool,
    hours_start: dt.time,
    hours_end: dt.time,
    timezone: str,
) -> list[LeasedContact]:
    """Run the lease query on ``conn`` (the caller owns the transaction)."""
    until = at + dt.timedelta(seconds=ttl_s)
    rows = await conn.fetch(
        LEASE_SQL,
        campaign_id,
        at,
        limit,
        owner,
        until,
        agent_reserved,
        None if agent_ids is None else list(agent_ids),
        local_day,
        max_attempts,
        max_per_day,
        uk_locks,
        hours_start,
        hours_end,
        timezone,
    )
    # UPDATE ... RETURNING does not keep the CTE's order; restore it.
    rows = sorted(rows, key=lambda r: (r["dial_rank"], _instant(r["due_at"]), -r["priority"], r["id"]))
    return [
        LeasedContact(
            contact_id=r["id"],
            campaign_id=r["campaign_id"],
            phone_id=r["phone_id"],
            e164=r["e164"],
            name=r["name"],
            fields=r["fields"],
            agent_id=r["agent_id"] if r["dial_rank"] == 0 else None,
            callback_id=r["callback_id"],
            reason=REASONS[r["dial_rank"]],
            lease_owner=r["lease_owner"],
            lease_expires_at=r["lease_expires_at"],
        )
        for r in rows
    ]


def _instant(value: dt.datetime) -> float:
    """Seconds since the epoch; asyncpg returns +-infinity timestamps as naive datetime.max/min."""
    if value.tzinfo is None:
        return float("-inf") if value == dt.datetime.min else float("inf")
    return value.timestamp()
