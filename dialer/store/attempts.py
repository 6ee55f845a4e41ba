"""Attempts and their outcomes: one row per call placed, and what its end does to the contact.

Theory of operation: an attempt is opened BEFORE the Originate is sent (its id is the
channel tag) and only while the engine still holds the contact's lease; it is closed once,
with the call's result, and closing applies the outcome to the contact in the same
transaction: the campaign's status for the trigger (or :data:`~dialer.store.statuses.DEFAULT_RULES`),
the counters, the next number or the retry time (:func:`dialer.campaign.retry.plan`), the
cap, the callback it dialled, the status history and the lease. An answered call keeps its
contact until the agent's disposition (:meth:`Attempts.set_disposition`). The engine runs
these once per call, so each is a fixed, small number of statements (data-modifying CTEs;
``tests/dialer/store/test_store_pool.py`` pins the first two): opening is one statement, closing and
a disposition one read and one write in a transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import asyncpg

from dialer.campaign import retry
from dialer.errors import AttemptClosed, LeaseLost, NotFound, OwnershipLost, ValidationError
from dialer.model import (
    ANSWERED_HOLD_S,
    OUTCOME_TRIGGER,
    AppliedOutcome,
    Attempt,
    AttemptResult,
    Fence,
    LeasedContact,
    Outcome,
    RetryRule,
    SystemStatus,
)
from dialer.store.callbacks import retry_in_window
from dialer.store.campaigns import local_day
from dialer.store.connection import PoolNoun
from dialer.store.eligibility import ZONES
from dialer.store.owners import owner_holds
from dialer.store.statuses import DEFAULT_RULES, rule_from

_NO_RETRY = RetryRule(delay_s=0)


# $1 contact, $2 lease owner, $3 at, $4 campaign, $5 phone, $6 e164, $7 engine, $8 callback, $9 agent,
# $10 the engine's fencing token for the campaign (NULL: unfenced; issue 15, dialer/store/owners.py).
# The lease check and the insert in one statement: the CTE locks the contact row only when it is
# still leased to this owner, and without that row nothing is inserted (LeaseLost).
# The number's candidate zones at dial time go into the row (the audit report reads them,
# migration 006): the lease's own ZONES rule, so the report judges the hours as the lease did.
_OPEN_ATTEMPT_SQL = """
WITH held AS (
    SELECT c.id, {zones} AS zones
    FROM contacts c
    JOIN campaigns cam ON cam.id = c.campaign_id
    LEFT JOIN contact_phones p ON p.id = $5
    WHERE c.id = $1 AND c.lease_owner = $2 AND c.lease_expires_at > $3 AND {fence}
    FOR UPDATE OF c
)
INSERT INTO attempts (contact_id, campaign_id, phone_id, e164, engine_id, callback_id, started_at, agent_id,
                      zones)
SELECT held.id, $4, $5, $6, $7, $8, $3, $9, held.zones FROM held
RETURNING id
""".format(zones=ZONES.format(zone="cam.timezone"), fence=owner_holds("$4", "$7", "$10"))

# $1 attempt, $2 trigger (NULL: none), $3 $4 the writer's fence (engine, token; NULL token: none).
# Locks the attempt and its contact (in that order, as the
# old statement-per-step code did) and brings the campaign's rule for the trigger, the enabled
# positions and the position of the number just dialled.
_CLOSE_READ_SQL = f"""
SELECT a.ended_at, a.outcome, a.contact_id, a.phone_id, a.callback_id,
       c.campaign_id, c.status_id, c.attempts, c.outcome_counts, c.day_attempts, c.day_attempts_on,
       c.not_before, c.closed_reason, c.next_phone_pos, c.round_due_at,
       s.name AS status_name, cp.timezone AS campaign_zone, cp.max_attempts AS cap,
       cp.default_disposition_id AS dd_id, dd.name AS dd_name,
       r.id AS rule_status_id, r.name AS rule_status_name, r.retry_delay_s, r.backoff, r.backoff_factor,
       r.max_attempts,
       ARRAY(SELECT p.position FROM contact_phones p
             WHERE p.contact_id = c.id AND p.disabled_at IS NULL) AS positions,
       (SELECT p.position FROM contact_phones p WHERE p.id = a.phone_id) AS current_pos,
       {owner_holds("a.campaign_id", "$3", "$4")} AS owned
FROM attempts a
JOIN contacts c ON c.id = a.contact_id
JOIN statuses s ON s.id = c.status_id
JOIN campaigns cp ON cp.id = c.campaign_id
LEFT JOIN statuses dd ON dd.id = cp.default_disposition_id
LEFT JOIN LATERAL (
    SELECT s2.id, s2.name, cs.retry_delay_s, cs.backoff, cs.backoff_factor, cs.max_attempts
    FROM campaign_statuses cs JOIN statuses s2 ON s2.id = cs.status_id
    WHERE cs.campaign_id = c.campaign_id AND cs.trigger = $2 AND s2.active
    LIMIT 1
) r ON true
WHERE a.id = $1
FOR UPDATE OF a, c
"""

# $1..$11: the attempt's columns and its contact, $12..$14 what the audit report reads (ring
# time, information message, agent reserved; migration 006). Shared by the two writes below.
_CLOSE_ATTEMPT_SET = """
    UPDATE attempts SET ended_at = $2, answered_at = $3, outcome = $4, hangup_cause = $5,
        hangup_cause_text = $6, asterisk_uniqueid = $7, asterisk_linkedid = $8,
        agent_id = $9, status_id = $10,
        ring_s = $12, info_message = $13, agent_reserved = $14
    WHERE id = $1
"""

_CLOSE_CANCELLED_SQL = f"""
WITH att AS ({_CLOSE_ATTEMPT_SET})
UPDATE contacts SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $11
"""

# $15 phone to disable (NULL: none), $16 callback done (NULL: none), $17 status, $18 attempts,
# $19 outcome counts, $20 day attempts, $21 day, $22 not before, $23 next position,
# $24 closed reason, $25 answered hold until, $26 answered, $27 round due, $28 previous status,
# $29 campaign, $30 status-change reason. All CTEs see the same snapshot, so the contact's next
# callback is computed leaving out the callback this attempt just completed.
_CLOSE_WRITE_SQL = f"""
WITH att AS ({_CLOSE_ATTEMPT_SET}),
dead AS (UPDATE contact_phones SET disabled_at = $2 WHERE id = $15),
cb AS (UPDATE callbacks SET state = 'done' WHERE id = $16),
hist AS (
    INSERT INTO status_changes (contact_id, from_status, to_status, from_campaign, to_campaign,
                                reason, attempt_id, changed_at)
    SELECT $11, $28, $17, $29, $29, $30, $1, $2 WHERE $17::bigint IS DISTINCT FROM $28::bigint
)
UPDATE contacts SET status_id = $17, attempts = $18, outcome_counts = $19, day_attempts = $20,
    day_attempts_on = $21,
    not_before = CASE WHEN $26 THEN not_before ELSE $22::timestamptz END,
    next_phone_pos = $23, closed_reason = $24, last_attempt_at = $2, last_outcome = $4,
    last_abandon_at = CASE WHEN $4::text = 'abandoned' THEN $2::timestamptz ELSE last_abandon_at END,
    last_machine_at = CASE WHEN $4::text = 'machine' THEN $2::timestamptz ELSE last_machine_at END,
    callback_due_at = (SELECT min(due_at) FROM callbacks
                       WHERE contact_id = $11 AND state = 'pending' AND id IS DISTINCT FROM $16),
    lease_owner = CASE WHEN $26 THEN lease_owner END,
    lease_expires_at = CASE WHEN $26 THEN $25::timestamptz END,
    round_due_at = $27
WHERE id = $11
"""

# $1 contact, $2 status name. Locks the contact; status columns are NULL when the campaign has
# no status of that name.
_DISPOSITION_READ_SQL = """
SELECT c.status_id AS from_status, c.campaign_id, st.id AS status_id, st.system_status, st.c_delay
FROM contacts c
LEFT JOIN LATERAL (
    SELECT s.id, s.system_status, cs.retry_delay_s AS c_delay
    FROM campaign_statuses cs JOIN statuses s ON s.id = cs.status_id
    WHERE cs.campaign_id = c.campaign_id AND s.name = $2
    LIMIT 1
) st ON true
WHERE c.id = $1
FOR UPDATE OF c
"""

# $1 contact, $2 not before, $3 status, $4 "my record" agent, $5 previous status, $6 campaign,
# $7 agent, $8 attempt (NULL: none), $9 at. The contact, its attempt and its history in one go.
_DISPOSITION_WRITE_SQL = """
WITH att AS (
    UPDATE attempts SET status_id = $3, agent_id = coalesce($7, agent_id) WHERE id = $8
),
hist AS (
    INSERT INTO status_changes (contact_id, from_status, to_status, from_campaign, to_campaign,
                                reason, agent_id, attempt_id, changed_at)
    VALUES ($1, $5, $3, $6, $6, 'disposition', $7, $8, $9)
)
UPDATE contacts SET status_id = $3, not_before = $2, agent_id = $4,
    lease_owner = NULL, lease_expires_at = NULL
WHERE id = $1
"""


def _attempt_from(row: asyncpg.Record) -> Attempt:
    return Attempt(
        id=row["id"],
        contact_id=row["contact_id"],
        campaign_id=row["campaign_id"],
        phone_id=row["phone_id"],
        e164=row["e164"],
        engine_id=row["engine_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        hangup_cause=row["hangup_cause"],
        asterisk_uniqueid=row["asterisk_uniqueid"],
        agent_id=row["agent_id"],
    )


class Attempts(PoolNoun):
    """Attempts, their outcomes and the agent's disposition on the shared pool."""

    async def open_attempt(
        self,
        lease: LeasedContact,
        *,
        at: dt.datetime,
        engine_id: str | None = None,
        fence: Fence | None = None,
    ) -> int:
        """Record an attempt BEFORE the Originate is sent; return its id for the channel variable.

        One statement (its own implicit transaction): the lease check locks the contact row
        and the insert only happens when it holds, so no BEGIN/COMMIT round trips.

        Raises:
            LeaseLost: the contact is no longer leased to this engine.
            OwnershipLost: ``fence`` no longer holds the campaign (another engine took it over).
        """
        engine = fence.engine_id if fence is not None else engine_id or lease.lease_owner
        attempt_id = await self.pool.fetchval(
            _OPEN_ATTEMPT_SQL,
            lease.contact_id,
            lease.lease_owner,
            at,
            lease.campaign_id,
            lease.phone_id,
            lease.e164,
            engine,
            lease.callback_id,
            lease.agent_id,
            None if fence is None else fence.token,
        )
        if attempt_id is None:
            if fence is not None and not await self._holds(lease.campaign_id, fence):
                raise OwnershipLost(f"campaign {lease.campaign_id} was taken over from {fence.engine_id}")
            raise LeaseLost(f"contact {lease.contact_id} is not leased to {lease.lease_owner}")
        return int(attempt_id)

    async def open_attempts(self, engine_id: str | None = None) -> list[Attempt]:
        """Attempts started and never closed (crash reconciliation), oldest first."""
        rows = await self.pool.fetch(
            "SELECT * FROM attempts WHERE ended_at IS NULL AND ($1::text IS NULL OR engine_id = $1)"
            " ORDER BY started_at, id",
            engine_id,
        )
        return [_attempt_from(r) for r in rows]

    async def hand_over_attempts(
        self, engine_id: str, channels: Mapping[int, Sequence[str]], *, at: dt.datetime
    ) -> int:
        """Leave calls still up to the next engine: mark their open attempts handed over.

        Each row gets ``handed_over_at`` and the call's channel ids; its contact's lease is
        extended by :data:`ANSWERED_HOLD_S` so nobody dials it while the call goes on (the
        adopting engine takes the lease over). Returns how many rows were marked.
        """
        if not channels:
            return 0
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """UPDATE attempts a SET handed_over_at = $2, channel_ids = string_to_array(c.ids, ' ')
                   FROM (SELECT unnest($3::bigint[]) AS id, unnest($4::text[]) AS ids) c
                   WHERE a.id = c.id AND a.engine_id = $1 AND a.ended_at IS NULL
                   RETURNING a.contact_id""",
                engine_id,
                at,
                list(channels),
                [" ".join(ids) for ids in channels.values()],
            )
            await conn.execute(
                """UPDATE contacts SET lease_expires_at = greatest(lease_expires_at, $3)
                   WHERE id = ANY($2::bigint[]) AND lease_owner = $1""",
                engine_id,
                [r["contact_id"] for r in rows],
                at + dt.timedelta(seconds=ANSWERED_HOLD_S),
            )
        return len(rows)

    async def adopt_handed_over(self, engine_id: str) -> int:
        """Claim every attempt handed over by any engine (``engine_id`` and the contact's lease).

        One statement: two engines starting together never claim the same row (SKIP LOCKED).
        The claimed attempts are then among :meth:`open_attempts` of ``engine_id``.
        """
        done = await self.pool.execute(
            """WITH claimed AS (
                   UPDATE attempts SET engine_id = $1, handed_over_at = NULL
                   WHERE id IN (SELECT id FROM attempts
                                WHERE handed_over_at IS NOT NULL AND ended_at IS NULL
                                FOR UPDATE SKIP LOCKED)
                   RETURNING contact_id)
               UPDATE contacts SET lease_owner = $1
               WHERE id IN (SELECT contact_id FROM claimed) AND lease_owner IS NOT NULL""",
            engine_id,
        )
        return int(done.split()[-1])

    async def awaiting_disposition(self, engine_id: str) -> list[Attempt]:
        """Answered attempts of ``engine_id`` whose contact still waits for the agent's disposition.

        What a crash during talk or wrap-up leaves: the attempt is closed as answered and the
        contact is held (:data:`ANSWERED_HOLD_S`) for a disposition that will never come.
        Only a contact's latest attempt counts, and only while ``engine_id`` still holds it.
        """
        rows = await self.pool.fetch(
            """SELECT a.* FROM attempts a JOIN contacts c ON c.id = a.contact_id
               WHERE a.engine_id = $1 AND a.outcome = 'answered' AND a.status_id IS NULL
                 AND c.lease_owner = $1
                 AND a.id = (SELECT max(id) FROM attempts WHERE contact_id = a.contact_id)
               ORDER BY a.ended_at, a.id""",
            engine_id,
        )
        return [_attempt_from(r) for r in rows]

    async def _holds(self, campaign_id: int, fence: Fence) -> bool:
        """Whether ``fence`` still holds the campaign (told apart from a lost lease after a refusal)."""
        sql = f"SELECT {owner_holds('$1', '$2', '$3')}"
        return bool(await self.pool.fetchval(sql, campaign_id, fence.engine_id, fence.token))

    async def close_attempt(
        self, attempt_id: int, result: AttemptResult, *, fence: Fence | None = None
    ) -> AppliedOutcome:
        """Close an attempt and apply its outcome to the contact, in one transaction.

        An automatic trigger sets the campaign's status for it (or keeps the status and uses
        :data:`DEFAULT_RULES` when the campaign has none), counts the attempt, rotates to the
        contact's next number or schedules the retry, closes the contact at a cap, and
        releases the lease. An answered call keeps its lease (up to :data:`ANSWERED_HOLD_S`)
        until :meth:`set_disposition` and meanwhile has the campaign's default disposition
        (migration 004), so it is never due again as fresh. A cancelled attempt (never
        placed) counts nothing.

        Two statements inside the transaction: one read that locks the attempt and its
        contact and gathers everything :func:`dialer.campaign.retry.plan` needs, and one write whose
        data-modifying CTEs update the attempt, the number, the callback, the contact and the
        status history together (the engine closes an attempt per call, so round trips count).

        Raises:
            NotFound: no such attempt.
            AttemptClosed: it was closed already.
            OwnershipLost: ``fence`` no longer holds the attempt's campaign; nothing was written.
        """
        trigger = OUTCOME_TRIGGER[result.outcome]
        at = result.ended_at
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                _CLOSE_READ_SQL,
                attempt_id,
                None if trigger is None else trigger.value,
                None if fence is None else fence.engine_id,
                None if fence is None else fence.token,
            )
            if row is None:
                raise NotFound("attempt", attempt_id)
            if not row["owned"]:
                raise OwnershipLost(f"attempt {attempt_id}: its campaign was taken over from {fence}")
            if row["ended_at"] is not None:
                raise AttemptClosed(f"attempt {attempt_id} was closed already ({row['outcome']})")
            contact_id = row["contact_id"]
            status_id, status_name = row["status_id"], row["status_name"]
            rule = _NO_RETRY
            if trigger is not None:
                if row["rule_status_id"] is not None:
                    status_id, status_name = row["rule_status_id"], row["rule_status_name"]
                    rule = rule_from(row)
                else:
                    rule = DEFAULT_RULES[trigger]
            attempt_args = (
                attempt_id,
                at,
                result.answered_at,
                result.outcome.value,
                result.hangup_cause,
                result.hangup_cause_text,
                result.asterisk_uniqueid,
                result.asterisk_linkedid,
                result.agent_id,
                status_id if trigger is not None else None,
                contact_id,
                result.ring_s,
                result.info_message,
                result.agent_reserved,
            )
            if result.outcome is Outcome.CANCELLED:
                await conn.execute(_CLOSE_CANCELLED_SQL, *attempt_args)
                return AppliedOutcome(
                    attempt_id,
                    contact_id,
                    row["status_name"],
                    row["not_before"],
                    row["closed_reason"],
                    row["next_phone_pos"],
                )
            current = row["current_pos"]
            if current is None:
                current = row["next_phone_pos"]
            positions = list(row["positions"])
            step = retry.plan(
                trigger=trigger,
                rule=rule,
                counters=retry.Counters(
                    row["attempts"], row["outcome_counts"], row["day_attempts"], row["day_attempts_on"]
                ),
                at=at,
                local_day=local_day(at, row["campaign_zone"]),
                positions=positions or [current],
                current_pos=current,
                max_attempts=row["cap"],
                round_due=row["round_due_at"],
            )
            answered = result.outcome is Outcome.ANSWERED
            # An answered call is not closed by a cap: the agent's disposition decides what next.
            closed = step.closed_reason if trigger is not None else row["closed_reason"]
            if answered and row["dd_id"] is not None:
                # Until the agent's disposition replaces it, the contact has the campaign's default
                # disposition (never a "call" status): whatever becomes of this engine or its
                # lease, a person who talked to an agent is not dialled again as fresh.
                status_id, status_name = row["dd_id"], row["dd_name"]
            await conn.execute(
                _CLOSE_WRITE_SQL,
                *attempt_args,
                row["phone_id"] if step.disable_phone else None,
                row["callback_id"],
                status_id,
                step.attempts,
                step.outcome_counts,
                step.day_attempts,
                step.day_attempts_on,
                step.not_before,
                step.next_phone_pos,
                closed,
                at + dt.timedelta(seconds=ANSWERED_HOLD_S),
                answered,
                step.round_due,
                row["status_id"],
                row["campaign_id"],
                f"trigger:{trigger.value if trigger else result.outcome.value}",
            )
            if not answered and row["callback_id"] is not None:
                await retry_in_window(conn, row["callback_id"], row["campaign_id"], at)
            return AppliedOutcome(
                attempt_id,
                contact_id,
                status_name,
                None if answered else step.not_before,
                closed,
                step.next_phone_pos,
            )

    async def set_disposition(
        self,
        contact_id: int,
        status: str,
        *,
        at: dt.datetime,
        agent_id: int | None = None,
        not_before: dt.datetime | None = None,
        attempt_id: int | None = None,
    ) -> None:
        """Apply the agent's disposition after a call and release the contact.

        "My record" assigns the contact to ``agent_id`` and calls it back to that agent at
        ``not_before``; "not before" waits until ``not_before``; otherwise the campaign's
        retry delay for the status applies (0 = at once).

        Raises:
            NotFound: no such contact or the status is not one of its campaign's.
            ValidationError: "my record" without an agent.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_DISPOSITION_READ_SQL, contact_id, status)
            if row is None:
                raise NotFound("contact", contact_id)
            if row["status_id"] is None:
                raise NotFound("status", status)
            system = SystemStatus(row["system_status"])
            if system is SystemStatus.MY_RECORD and agent_id is None:
                raise ValidationError("agent", "status 'my record' needs the agent it belongs to", status)
            due = not_before
            if due is None and row["c_delay"] > 0:
                due = at + dt.timedelta(seconds=row["c_delay"])
            await conn.execute(
                _DISPOSITION_WRITE_SQL,
                contact_id,
                due,
                row["status_id"],
                agent_id if system is SystemStatus.MY_RECORD else None,
                row["from_status"],
                row["campaign_id"],
                agent_id,
                attempt_id,
                at,
            )

    async def contact_attempts(self, contact_id: int, *, include_cleared: bool = False) -> list[Attempt]:
        """A contact's call history (without the part a move to an "unused" status cleared)."""
        rows = await self.pool.fetch(
            "SELECT * FROM attempts WHERE contact_id = $1 AND ($2 OR history_cleared_at IS NULL)"
            " ORDER BY started_at, id",
            contact_id,
            include_cleared,
        )
        return [_attempt_from(r) for r in rows]
