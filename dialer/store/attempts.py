"""Attempts and their outcomes: one row per call placed, and what its end does to the contact.

Theory of operation: an attempt is opened BEFORE the Originate is sent (its id is the
channel tag) and only while the engine still holds the contact's lease; it is closed once,
with the call's result, and closing applies the outcome to the contact in the same
transaction: the campaign's status for the trigger (or :data:`~dialer.store.statuses.DEFAULT_RULES`),
the counters, the next number or the retry time (:func:`dialer.campaign.retry.plan`), the
cap, the callback it dialled, the status history and the lease. An answered call keeps its
contact until the agent's disposition (:meth:`Attempts.set_disposition`). The engine runs
these once per call, so each is a fixed, small number of statements (data-modifying CTEs;
``tests/dialer/store/test_store_pool.py`` pins the first two): opening is one statement that
also makes the dial-time checks, closing one read and one guarded write with no transaction
(their SQL, and the one place a condition on every attempt write goes, is
:mod:`dialer.store.attempt_sql`), a disposition one statement (:data:`_DISPOSITION_SQL`: the
checks and the writes; no BEGIN/COMMIT round trips).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import asyncpg

from dialer.campaign import retry
from dialer.errors import AttemptClosed, DialerError, LeaseLost, NotFound, OwnershipLost, ValidationError
from dialer.model import (
    ANSWERED_HOLD_S,
    OUTCOME_TRIGGER,
    AppliedOutcome,
    Attempt,
    AttemptResult,
    DialRefusal,
    Fence,
    LeasedContact,
    Outcome,
    RetryRule,
    SystemStatus,
    Trigger,
)
from dialer.store.attempt_sql import (
    CLOSE_CANCELLED_SQL,
    CLOSE_READ_SQL,
    CLOSE_WRITE_SQL,
    OPEN_UNCHECKED_SQL,
    open_checked,
)
from dialer.store.callbacks import retry_in_window
from dialer.store.campaigns import local_day
from dialer.store.connection import PoolNoun
from dialer.store.owners import owner_holds
from dialer.store.statuses import DEFAULT_RULES, rule_from

_NO_RETRY = RetryRule(delay_s=0)


# $1 contact, $2 status name, $3 not before, $4 at, $5 agent, $6 engine, $7 fence token (NULL:
# no fence), $8 attempt (NULL: none). One statement: it locks the contact, finds the status among
# its campaign's, checks the fence (share-locking the owner row, as every fenced write) and, only
# when all of that holds and a "my record" status has its agent, writes the contact, its attempt
# and its history; what it found says which refusal it was when it wrote nothing.
_DISPOSITION_SQL = f"""
WITH c AS (
    SELECT c.id, c.status_id AS from_status, c.campaign_id FROM contacts c WHERE c.id = $1 FOR UPDATE OF c
),
st AS (
    SELECT s.id, s.system_status, cs.retry_delay_s AS c_delay
    FROM c JOIN campaign_statuses cs ON cs.campaign_id = c.campaign_id
    JOIN statuses s ON s.id = cs.status_id
    WHERE s.name = $2
    LIMIT 1
),
ok AS (
    SELECT c.id AS contact_id, c.from_status, c.campaign_id, st.id AS status_id, st.system_status,
        coalesce($3::timestamptz, CASE WHEN st.c_delay > 0
                                       THEN $4::timestamptz + make_interval(secs => st.c_delay) END) AS due,
        {owner_holds('c.campaign_id', '$6', '$7')} AS owned
    FROM c JOIN st ON true
),
go AS (
    SELECT * FROM ok WHERE owned AND NOT (system_status = 'my_record' AND $5::bigint IS NULL)
),
att AS (
    UPDATE attempts SET status_id = go.status_id, agent_id = coalesce($5::bigint, attempts.agent_id)
    FROM go WHERE attempts.id = $8::bigint
),
hist AS (
    INSERT INTO status_changes (contact_id, from_status, to_status, from_campaign, to_campaign,
                                reason, agent_id, attempt_id, changed_at)
    SELECT go.contact_id, go.from_status, go.status_id, go.campaign_id, go.campaign_id,
           'disposition', $5::bigint, $8::bigint, $4::timestamptz
    FROM go
),
upd AS (
    UPDATE contacts SET status_id = go.status_id, not_before = go.due,
        agent_id = CASE WHEN go.system_status = 'my_record' THEN $5::bigint END,
        lease_owner = CASE WHEN $9::boolean THEN contacts.lease_owner END,
        lease_expires_at = CASE WHEN $9::boolean THEN contacts.lease_expires_at END
    FROM go WHERE contacts.id = go.contact_id
    RETURNING contacts.id
)
SELECT (SELECT count(*) FROM c) AS found, ok.status_id, ok.system_status, ok.owned,
       (SELECT count(*) FROM upd) AS wrote
FROM (SELECT 1) one LEFT JOIN ok ON true
"""


# Optimistic closes tried before the locked transaction (a contact's row changing between the read
# and the write each time: a lease renewed, a disposition).
_OPTIMISTIC_TRIES = 3


async def _close_row(
    conn: asyncpg.Connection | asyncpg.Pool,
    attempt_id: int,
    result: AttemptResult,
    *,
    locked: bool,
    fence: tuple[str | None, int | None],
) -> asyncpg.Record:
    """What closing ``attempt_id`` needs (:data:`CLOSE_READ_SQL`); ``locked``: inside a transaction.

    Raises:
        NotFound: no such attempt.
        OwnershipLost: ``fence`` (engine, token) no longer holds the attempt's campaign.
        AttemptClosed: it was closed already.
    """
    trigger = OUTCOME_TRIGGER[result.outcome]
    rows = await conn.fetch(
        CLOSE_READ_SQL + (" FOR UPDATE OF a, c" if locked else ""),
        [attempt_id],
        [None if trigger is None else trigger.value],
        *fence,
    )
    if not rows:
        raise NotFound("attempt", attempt_id)
    row = rows[0]
    if not row["owned"]:
        raise OwnershipLost(f"attempt {attempt_id}: its campaign was taken over from {fence[0]}")
    if row["ended_at"] is not None:
        raise AttemptClosed(f"attempt {attempt_id} was closed already ({row['outcome']})")
    return row


def _close_plan(
    row: asyncpg.Record, attempt_id: int, result: AttemptResult, trigger: Trigger | None
) -> tuple[str, tuple[object, ...], AppliedOutcome]:
    """The write that closes the attempt read in ``row``, its arguments but the contact's version
    (the caller's last one), and what it applies."""
    at = result.ended_at
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
        kept = AppliedOutcome(
            attempt_id,
            contact_id,
            row["status_name"],
            row["not_before"],
            row["closed_reason"],
            row["next_phone_pos"],
        )
        return CLOSE_CANCELLED_SQL, attempt_args, kept
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
    args = (
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
    applied = AppliedOutcome(
        attempt_id,
        contact_id,
        status_name,
        None if answered else step.not_before,
        closed,
        step.next_phone_pos,
    )
    return CLOSE_WRITE_SQL, args, applied


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
            OPEN_UNCHECKED_SQL,
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

    async def _holds(self, campaign_id: int, fence: Fence) -> bool:
        """Whether ``fence`` still holds the campaign (told apart from a lost lease after a refusal)."""
        sql = f"SELECT {owner_holds('$1', '$2', '$3', lock=False)}"
        return bool(await self.pool.fetchval(sql, campaign_id, fence.engine_id, fence.token))

    async def open_checked_attempt(
        self,
        lease: LeasedContact,
        *,
        at: dt.datetime,
        agent_reserved: bool,
        engine_id: str | None = None,
        fence: Fence | None = None,
    ) -> int | DialRefusal:
        """The dial-time checks and, when they pass, the attempt row: one statement.

        Every rule the lease checked, again at ``at`` (issue 11; as :meth:`recheck_before_dial`),
        then the insert while the contact is still leased to ``lease.lease_owner``; see
        :func:`dialer.store.attempt_sql.open_checked`. Returns the new attempt's id, or the first
        rule that refuses (nothing written).

        Raises:
            ValidationError: ``at`` is naive.
            NotFound: the contact or its number is gone.
            LeaseLost: every rule holds but the contact is no longer leased to this engine.
            OwnershipLost: ``fence`` no longer holds the campaign (another engine took it over).
        """
        if at.tzinfo is None:
            raise ValidationError("at", "must be timezone-aware", at)
        opened = await open_checked(
            self.pool, lease, at=at, agent_reserved=agent_reserved, engine_id=engine_id, fence=fence
        )
        assert opened is not None  # written, or a refusal
        return opened

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

    async def close_attempt(
        self, attempt_id: int, result: AttemptResult, *, fence: Fence | None = None
    ) -> AppliedOutcome:
        """Close an attempt and apply its outcome to the contact, all or nothing.

        An automatic trigger sets the campaign's status for it (or keeps the status and uses
        :data:`DEFAULT_RULES` when the campaign has none), counts the attempt, rotates to the
        contact's next number or schedules the retry, closes the contact at a cap, and
        releases the lease. An answered call keeps its lease (up to :data:`ANSWERED_HOLD_S`)
        until :meth:`set_disposition` and meanwhile has the campaign's default disposition
        (migration 004), so it is never due again as fresh. A cancelled attempt (never
        placed) counts nothing.

        Two statements and no transaction (the engine closes an attempt per call, so round
        trips count): one read that gathers everything :func:`dialer.campaign.retry.plan`
        needs, and one write whose data-modifying CTEs update the attempt, the number, the
        callback, the contact and the status history together, and only while the contact's
        row is the version that was read (:mod:`dialer.store.attempt_sql`); when it changed
        meanwhile the close is read and planned again. A callback's unanswered call, which may
        put the callback back (the grid's missed rule), runs in a transaction.

        Raises:
            NotFound: no such attempt.
            AttemptClosed: it was closed already.
            OwnershipLost: ``fence`` no longer holds the attempt's campaign; nothing was written.
        """
        trigger = OUTCOME_TRIGGER[result.outcome]
        fenced = (None, None) if fence is None else (fence.engine_id, fence.token)
        for _ in range(_OPTIMISTIC_TRIES):
            row = await _close_row(self.pool, attempt_id, result, locked=False, fence=fenced)
            if row["callback_id"] is not None and result.outcome not in (Outcome.ANSWERED, Outcome.CANCELLED):
                break  # the callback may stay pending: several statements, one transaction
            sql, args, applied = _close_plan(row, attempt_id, result, trigger)
            if await self.pool.fetchval(sql, *args, row["contact_version"], *fenced) is not None:
                return applied
        async with self.pool.acquire() as conn, conn.transaction():
            row = await _close_row(conn, attempt_id, result, locked=True, fence=fenced)
            sql, args, applied = _close_plan(row, attempt_id, result, trigger)
            if await conn.fetchval(sql, *args, None, *fenced) is None:
                # attempt and contact are locked: only the fence's guard can refuse now
                raise OwnershipLost(f"attempt {attempt_id}: its campaign was taken over from {fenced[0]}")
            if result.outcome is not Outcome.ANSWERED and row["callback_id"] is not None:
                if result.outcome is not Outcome.CANCELLED:
                    await retry_in_window(conn, row["callback_id"], row["campaign_id"], result.ended_at)
            return applied

    async def close_attempts(
        self, closes: Sequence[tuple[int, AttemptResult]], *, fence: Fence | None = None
    ) -> list[AppliedOutcome | DialerError]:
        """Close many attempts in two round trips when nothing stands in the way: the closes that queued up.

        The same read as :meth:`close_attempt` for all of them (one statement: the read takes
        arrays), each planned alone, then every planned write in one round trip and one
        transaction (asyncpg's ``fetchmany``: the prepared write bound and executed once per
        close, one Sync), in contact order. Each write keeps its own guard (attempt open,
        contact row the version read, the fence), so a close its guard refuses simply wrote
        nothing; it and every close the batch cannot take (a callback's call that may stay
        pending, a second close of the same contact, a batch the database refused as a
        whole, e.g. a deadlock) go through :meth:`close_attempt` one by one, which re-reads,
        retries and raises as for a single close. The result, in the order given, is each
        close's outcome or the error it met (``NotFound``, ``AttemptClosed``,
        ``OwnershipLost``); an unreachable database raises and nothing is lost (each close
        is all or nothing, and a retry re-reads what is still open).
        """
        results: list[AppliedOutcome | DialerError | None] = [None] * len(closes)
        fenced = (None, None) if fence is None else (fence.engine_id, fence.token)
        triggers = [OUTCOME_TRIGGER[result.outcome] for _, result in closes]
        rows = {
            r["attempt_id"]: r
            for r in await self.pool.fetch(
                CLOSE_READ_SQL,
                [attempt_id for attempt_id, _ in closes],
                [None if t is None else t.value for t in triggers],
                *fenced,
            )
        }
        planned: dict[str, list[tuple[int, int, tuple[object, ...], AppliedOutcome]]] = {}
        alone: list[int] = []
        contacts: set[int] = set()
        for i, ((attempt_id, result), trigger) in enumerate(zip(closes, triggers, strict=True)):
            row = rows.get(attempt_id)
            if row is None:
                results[i] = NotFound("attempt", attempt_id)
            elif not row["owned"]:
                results[i] = OwnershipLost(f"attempt {attempt_id}: campaign taken over from {fenced[0]}")
            elif row["ended_at"] is not None:
                results[i] = AttemptClosed(f"attempt {attempt_id} was closed already ({row['outcome']})")
            elif row["contact_id"] in contacts or (
                row["callback_id"] is not None and result.outcome not in (Outcome.ANSWERED, Outcome.CANCELLED)
            ):
                alone.append(i)
            else:
                contacts.add(row["contact_id"])
                sql, args, applied = _close_plan(row, attempt_id, result, trigger)
                planned.setdefault(sql, []).append(
                    (row["contact_id"], i, (*args, row["contact_version"], *fenced), applied)
                )
        for sql, writes in planned.items():
            writes.sort(key=lambda w: w[0])  # one lock order for every batch
            try:
                wrote = {r["id"] for r in await self.pool.fetchmany(sql, [w[2] for w in writes])}
            except asyncpg.PostgresError:  # refused as a whole (e.g. a deadlock): one by one
                wrote = set()
            for contact_id, i, _, applied in writes:
                if contact_id in wrote:
                    results[i] = applied
                else:
                    alone.append(i)  # its guard refused: read, planned and written again alone
        for i in sorted(alone):
            attempt_id, result = closes[i]
            try:
                results[i] = await self.close_attempt(attempt_id, result, fence=fence)
            except (NotFound, AttemptClosed, OwnershipLost) as err:
                results[i] = err
        done = [r for r in results if r is not None]
        assert len(done) == len(closes)  # every close settled one way or the other
        return done

    async def set_disposition(
        self,
        contact_id: int,
        status: str,
        *,
        at: dt.datetime,
        agent_id: int | None = None,
        not_before: dt.datetime | None = None,
        attempt_id: int | None = None,
        fence: Fence | None = None,
        keep_lease: bool = False,
    ) -> None:
        """Apply the agent's disposition after a call and release the contact.

        "My record" assigns the contact to ``agent_id`` and calls it back to that agent at
        ``not_before``; "not before" waits until ``not_before``; otherwise the campaign's
        retry delay for the status applies (0 = at once). ``keep_lease``: the contact stays
        leased, because a callback is scheduled next (:meth:`schedule_callback` with
        ``release_lease``): released here, a refill could lease it in between as a plain retry
        and dial it without its agent.

        Raises:
            NotFound: no such contact or the status is not one of its campaign's.
            ValidationError: "my record" without an agent.
            OwnershipLost: ``fence`` no longer holds the contact's campaign; nothing written.
        """
        row = await self.pool.fetchrow(
            _DISPOSITION_SQL,
            contact_id,
            status,
            not_before,
            at,
            agent_id,
            None if fence is None else fence.engine_id,
            None if fence is None else fence.token,
            attempt_id,
            keep_lease,
        )
        if not row["found"]:
            raise NotFound("contact", contact_id)
        if row["status_id"] is None:
            raise NotFound("status", status)
        if not row["owned"]:
            assert fence is not None  # without a fence the check holds
            raise OwnershipLost(f"contact {contact_id}: campaign taken over from {fence.engine_id}")
        if SystemStatus(row["system_status"]) is SystemStatus.MY_RECORD and agent_id is None:
            raise ValidationError("agent", "status 'my record' needs the agent it belongs to", status)
        assert 1 == row["wrote"]  # the contact was locked: nothing else can refuse

    async def contact_attempts(self, contact_id: int, *, include_cleared: bool = False) -> list[Attempt]:
        """A contact's call history (without the part a move to an "unused" status cleared)."""
        rows = await self.pool.fetch(
            "SELECT * FROM attempts WHERE contact_id = $1 AND ($2 OR history_cleared_at IS NULL)"
            " ORDER BY started_at, id",
            contact_id,
            include_cleared,
        )
        return [_attempt_from(r) for r in rows]
