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
  reserved (Ofcom persistent-misuse policy, DESIGN.md); such a contact comes back marked
  ``agent_required``, so that the hopper keeps it for a call with an agent even when the
  caller's other leases are dialled predictively;
* "my record" and personal callbacks only when their agent is among the caller's agents;
* a number that is enabled, on no do-not-call list (global or the campaign's), inside its
  own contact window and inside the campaign's local calling hours, both in the number's
  local time. The contact's own time zone wins; else the zones ``phonenumbers`` derived
  from the number; a number whose zone is ambiguous (a US area code spanning two zones) is
  only dialled when the hours hold in *every* candidate zone; a number with no zone at all
  falls back to the campaign's zone. Numbers are tried in rotation from the contact's
  ``next_phone_pos``; a due callback uses its own number;
* a callback with a window only inside it (issue 13): a contact whose due callbacks' windows
  have all passed waits for the missed-callback rule (``Store.apply_missed_callbacks``), and
  the lease's ``dial_until`` is no later than the callback's window end.

Whether the campaign's schedule is open is checked in Python (``Schedule.is_open``) before
the query; a closed schedule or a campaign not running leases nothing.

Each lease comes with ``dial_until``, the end of the contact's current window: the earliest
end of the campaign's hours and the number's window in every candidate zone
(:data:`WINDOW_END`, SQL function ``dialer_window_end`` of migration 006, early rather than
late across a DST change) and of the schedule's open stretch (``Schedule.next_close``). The
hopper drops a waiting lease at that instant and the dial path never launches one past it,
so a lease cannot outlive the window it was granted in (issue 11).

The same rules again at dial time (:func:`dialer.store.attempt_sql.open_checked`, issue 11):
a contact leased at 20:59 may be launched after 21:00, its number listed, a cap or a UK
lock reached meanwhile. Each rule is one SQL fragment (``RULE_*``, :data:`ZONES`) that both
statements build from, so the lease and the recheck cannot drift apart; the recheck evaluates
each fragment as a column for the contact and the number it was leased with, so the dial path
learns *which* rule refuses, in the very statement that writes the attempt row when none does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from dialer.model import LeasedContact

REASONS = {0: "callback", 1: "call_progressive", 2: "retry", 3: "fresh"}

# The rules, one fragment each, shared by the lease (many contacts, every number) and the
# dial-time recheck (one contact, the leased number): the same text, so the two cannot drift.
# ``c`` is the contact, ``p`` its number, ``z.zones`` the number's candidate zones; the
# ``{...}`` fields are filled with each statement's own parameters (:func:`rules`).
ZONES = """CASE
            WHEN c.timezone IS NOT NULL THEN ARRAY[c.timezone]
            WHEN cardinality(p.timezones) > 0 THEN p.timezones
            ELSE ARRAY[{zone}::text] END"""
RULE_DUE = "c.dial_rank IS NOT NULL AND c.due_at <= {at} AND (c.dial_rank <> 1 OR {reserved})"
RULE_CAPS = """(c.dial_rank = 0
           OR (c.attempts < {max_attempts}
               AND (c.day_attempts_on IS DISTINCT FROM {day} OR c.day_attempts < {max_per_day})))"""
UK_LOCKS_CLEAR = """((c.last_abandon_at IS NULL OR c.last_abandon_at <= {at} - interval '72 hours')
               AND (c.last_machine_at IS NULL OR c.last_machine_at <= {at} - interval '24 hours'))"""
RULE_UK_LOCKS = "(NOT {uk} OR {reserved} OR " + UK_LOCKS_CLEAR + ")"
# A contact leased only because the caller has an agent reserved (a UK lock holds it):
# it must be dialled with an agent, whatever the caller does with its other leases.
UK_LOCKED = "({uk} AND NOT " + UK_LOCKS_CLEAR + ")"
RULE_ENABLED = "p.disabled_at IS NULL"
RULE_HOURS = "dialer_in_hours({at}, z.zones, {hours_start}, {hours_end})"
RULE_WINDOW = "dialer_in_hours({at}, z.zones, p.window_start, p.window_end)"
# When the number's current window ends (the campaign's hours and the number's own window, in
# every candidate zone; NULL: never), evaluated for an instant inside both (migration 006).
WINDOW_END = """least(dialer_window_end({at}, z.zones, {hours_start}, {hours_end}),
                      dialer_window_end({at}, z.zones, p.window_start, p.window_end))"""
RULE_NOT_LISTED = """NOT EXISTS (SELECT 1 FROM do_not_call d
                          WHERE d.e164 = p.e164 AND (d.campaign_id IS NULL OR d.campaign_id = {campaign}))"""


def rules(template: str, **params: str) -> str:
    """``template`` with the rule fragments in place, their fields bound to ``params``."""
    fragments = {
        "zones": ZONES,
        "due": RULE_DUE,
        "caps": RULE_CAPS,
        "uk_locks": RULE_UK_LOCKS,
        "uk_locked": UK_LOCKED,
        "enabled": RULE_ENABLED,
        "hours": RULE_HOURS,
        "window": RULE_WINDOW,
        "not_listed": RULE_NOT_LISTED,
        "window_end": WINDOW_END,
    }
    return template.format(**{k: v.format(**params) for k, v in fragments.items()})


# $1 campaign, $2 at, $3 limit, $4 owner, $5 lease until, $6 agent reserved, $7 agent ids
# (NULL: any), $8 campaign-local day, $9 max attempts, $10 max per day, $11 UK locks apply,
# $12 hours start, $13 hours end, $14 campaign zone.
# The end of each lease's window (:data:`WINDOW_END`, the costliest expression here: a few ms a
# call on PostgreSQL 18) is computed once per distinct candidate zones and number window among
# the contacts picked (``ends``), not once per contact: a campaign's numbers share a few zones.
LEASE_SQL = rules(
    """
WITH picked AS (
    SELECT c.id, c.dial_rank, ph.id AS phone_id, ph.e164, cb.id AS callback_id,
           cb.window_end_at, ph.zones, ph.window_start, ph.window_end
    FROM contacts c
    LEFT JOIN LATERAL (
        SELECT b.id, b.phone_id, b.window_end_at FROM callbacks b
        WHERE b.contact_id = c.id AND b.state = 'pending' AND b.due_at <= $2
          AND (b.window_end_at IS NULL OR b.window_end_at > $2)
        ORDER BY b.due_at LIMIT 1
    ) cb ON c.callback_due_at IS NOT NULL
    CROSS JOIN LATERAL (
        SELECT p.id, p.e164, z.zones, p.window_start, p.window_end FROM contact_phones p
        CROSS JOIN LATERAL (SELECT {zones} AS zones) z
        WHERE p.contact_id = c.id AND {enabled}
          AND (cb.phone_id IS NULL OR p.id = cb.phone_id)
          AND {hours}
          AND {window}
          AND {not_listed}
        ORDER BY (p.position < c.next_phone_pos), p.position
        LIMIT 1
    ) ph
    WHERE c.campaign_id = $1
      AND {due}
      AND (c.callback_due_at IS NULL OR c.callback_due_at > $2 OR cb.id IS NOT NULL)
      AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= $2)
      AND {caps}
      AND {uk_locks}
      AND (c.dial_rank <> 0 OR c.agent_id IS NULL OR $7::bigint[] IS NULL OR c.agent_id = ANY($7::bigint[]))
    ORDER BY c.dial_rank, c.due_at, c.priority DESC, c.id
    LIMIT $3
    FOR UPDATE OF c SKIP LOCKED
),
ends AS MATERIALIZED (
    SELECT p.zones, p.window_start, p.window_end, {window_end} AS dial_until
    FROM (SELECT DISTINCT zones, window_start, window_end FROM picked) p
    CROSS JOIN LATERAL (SELECT p.zones) z
)
UPDATE contacts c
SET lease_owner = $4, lease_expires_at = $5
FROM picked
JOIN ends e ON e.zones = picked.zones AND e.window_start IS NOT DISTINCT FROM picked.window_start
           AND e.window_end IS NOT DISTINCT FROM picked.window_end
WHERE c.id = picked.id
RETURNING c.id, c.campaign_id, c.name, c.fields, c.agent_id, c.dial_rank, c.due_at, c.priority,
          picked.phone_id, picked.e164, picked.callback_id, c.lease_owner, c.lease_expires_at,
          least(e.dial_until, picked.window_end_at) AS dial_until,
          {uk_locked} AS agent_required
""",
    campaign="$1",
    at="$2",
    reserved="$6",
    day="$8",
    max_attempts="$9",
    max_per_day="$10",
    uk="$11",
    hours_start="$12",
    hours_end="$13",
    zone="$14",
)


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
    schedule_close: dt.datetime | None = None,
) -> list[LeasedContact]:
    """Run the lease query on ``conn`` (the caller owns the transaction).

    Each lease carries ``dial_until``: the end of the contact's current window, the earliest of
    the campaign's local hours and the number's own window (in every candidate zone) and
    ``schedule_close`` (when the campaign's schedule closes next); None when none of them ends.
    The runner never dials a lease at or past it (issue 11: leased before 21:00, dialled after).
    """
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
            agent_required=r["agent_required"],
            dial_until=_earliest(r["dial_until"], schedule_close),
        )
        for r in rows
    ]


def _earliest(*instants: dt.datetime | None) -> dt.datetime | None:
    """The earliest of the instants given, ignoring None (None when all are)."""
    known = [i for i in instants if i is not None]
    return min(known) if known else None


def _instant(value: dt.datetime) -> float:
    """Seconds since the epoch; asyncpg returns +-infinity timestamps as naive datetime.max/min."""
    if value.tzinfo is None:
        return float("-inf") if value == dt.datetime.min else float("inf")
    return value.timestamp()
