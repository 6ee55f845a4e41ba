"""The SQL that opens and closes an attempt: every condition an attempt write must meet, in one place.

Theory of operation (issue 18 item 3: round trips per attempt). The engine opens and closes
one attempt per call, so each is as few statements as the rules allow:

* **Opening is one statement** (:data:`OPEN_SQL`, :func:`open_checked`): the dial-time recheck
  of issue 11 -- every rule of the lease again, each the very fragment the lease is built from
  (:mod:`dialer.store.eligibility`), evaluated as a column so the caller learns which one
  refuses -- and the insert of the attempt row, which happens only when every rule holds and
  the contact is still leased to the caller. The same statement with ``write`` false is the
  recheck alone (``Store.recheck_before_dial``), so the dial path and the recheck's tests run
  the same SQL.

  The campaign's schedule is the one rule checked in Python (``Schedule.is_open``: calendar
  arithmetic across DST changes that has no SQL form). The caller judges it on the schedule
  it last read (:class:`ScheduleMemo`) and passes that row's fingerprint (``md5`` of the row)
  with its verdict; the statement inserts only when the schedule row in the database still
  has that fingerprint. A schedule edited since is caught in the same statement: its new row
  comes back, is judged, and the statement runs once more. A stale memo therefore costs a
  round trip, never a call outside the schedule.

* **Closing is two statements and no transaction** (:data:`CLOSE_READ_SQL`, :data:`CLOSE_WRITE_SQL`):
  the read gathers what :func:`dialer.campaign.retry.plan` needs without locking, with the
  contact's row version (``xmin``); the write's first CTE (:data:`_CLOSE_GUARD`) locks the
  attempt and the contact only while the attempt is open and the contact's row is still the
  version that was read, and every part of the write hangs on it. A concurrent change
  (a lease renewed, a disposition) makes the write do nothing, and the close is read and
  planned again: the same outcome as the old BEGIN / SELECT FOR UPDATE / write / COMMIT,
  in half the round trips. A callback's call that may stay pending (the grid's missed rule
  ``retry``, several statements) still runs in one transaction. Closes that queue up
  (``Attempts.close_attempts``) share the read (it takes arrays) and send their writes in one
  round trip (``fetchmany``: one transaction), each with its own guard.

**Fencing** (issue 15). Every attempt write must also be made by the campaign's owner with its
current token (:func:`dialer.store.owners.owner_holds`; a NULL token: unfenced): the ``ok_owner``
column of :data:`OPEN_SQL` in :data:`OPEN_GUARD` (opening) and :data:`_CLOSE_GUARD` (closing),
the one place each statement's writes depend on, with the owner row share-locked. The close's
read reports it too (``owned``, unlocked: the write's guard is what holds), so a refused close
raises :class:`~dialer.errors.OwnershipLost` instead of being retried.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

import asyncpg

from dialer.errors import LeaseLost, NotFound, OwnershipLost
from dialer.model import CampaignState, DialRefusal, Fence, LeasedContact
from dialer.schedules.schedule import Schedule
from dialer.store.campaigns import schedule_from
from dialer.store.eligibility import ZONES, rules
from dialer.store.owners import owner_holds

# What must hold for the attempt row to be written, over the ``gate`` row of :data:`OPEN_SQL`
# ($11 write, $12 schedule fingerprint judged, $13 its verdict). Fencing goes here.
OPEN_GUARD = """$11::boolean AND g.campaign_state = 'running'
      AND g.schedule_fp = $12::text AND $13::boolean AND g.ok_lease
      AND g.ok_due AND g.ok_enabled AND g.ok_not_listed AND g.ok_hours AND g.ok_window
      AND g.ok_caps AND g.ok_uk_locks AND g.ok_owner"""

# $1 contact, $2 phone, $3 at, $4 agent reserved, $5 lease owner, $6 campaign, $7 e164, $8 engine,
# $9 callback, $10 agent, $11 write (false: the recheck alone), $12 the schedule fingerprint the
# caller judged, $13 its verdict (open at $3), $14 the engine's fencing token (NULL: unfenced).
# The lease's rules for one contact and the number it was leased with, each as a column (NULL
# where a rule does not apply counts as refused),
# with the campaign's state and its schedule's row; the campaign's values come from its row,
# the campaign-local day as :func:`~dialer.store.campaigns.local_day`. The row lock makes the
# lease check and the insert one step; the number's candidate zones go into the row (the audit
# report reads them, migration 006), so the report judges the hours as the lease did.
OPEN_SQL = rules(
    """
WITH gate AS (
    SELECT s.*, c.id AS contact_id, cam.state AS campaign_state, z.zones,
           md5(s::text) AS schedule_fp,
           coalesce(c.lease_owner = $5::text AND c.lease_expires_at > $3::timestamptz
                    AND c.campaign_id = $6::bigint, false) AS ok_lease,
           {due} AS ok_due,
           {enabled} AS ok_enabled,
           {not_listed} AS ok_not_listed,
           {hours} AS ok_hours,
           {window} AS ok_window,
           {caps} AS ok_caps,
           {uk_locks} AS ok_uk_locks,
           """ + owner_holds("$6", "$8", "$14") + """ AS ok_owner
    FROM contacts c
    JOIN campaigns cam ON cam.id = c.campaign_id
    JOIN schedules s ON s.id = cam.schedule_id
    JOIN contact_phones p ON p.id = $2 AND p.contact_id = c.id
    CROSS JOIN LATERAL (SELECT {zones} AS zones) z
    WHERE c.id = $1
    FOR UPDATE OF c
),
opened AS (
    INSERT INTO attempts (contact_id, campaign_id, phone_id, e164, engine_id, callback_id, started_at,
                          agent_id, zones)
    SELECT g.contact_id, $6, $2, $7, $8, $9, $3, $10, g.zones FROM gate g
    WHERE """
    + OPEN_GUARD
    + """
    RETURNING id
)
SELECT g.*, (SELECT id FROM opened) AS attempt_id FROM gate g
""",
    campaign="c.campaign_id",
    at="$3::timestamptz",
    reserved="$4::boolean",
    day="($3::timestamptz AT TIME ZONE cam.timezone)::date",
    max_attempts="cam.max_attempts",
    max_per_day="cam.max_attempts_per_day",
    uk="(cam.compliance = 'uk')",
    hours_start="cam.local_hours_start",
    hours_end="cam.local_hours_end",
    zone="cam.timezone",
)

# $1 contact, $2 lease owner, $3 at, $4 campaign, $5 phone, $6 e164, $7 engine, $8 callback, $9 agent,
# $10 the engine's fencing token (NULL: unfenced). ``Attempts.open_attempt``: the lease check and
# the insert without the dial-time rules (tests and tools that record an attempt at any hour).
OPEN_UNCHECKED_SQL = """
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

#: The recheck's columns in the order they are reported, each with the refusal it stands for.
RECHECK_RULES = (
    ("ok_due", DialRefusal.NOT_DUE),
    ("ok_enabled", DialRefusal.NUMBER_DISABLED),
    ("ok_not_listed", DialRefusal.DO_NOT_CALL),
    ("ok_hours", DialRefusal.OUTSIDE_LOCAL_HOURS),
    ("ok_window", DialRefusal.NUMBER_WINDOW),
    ("ok_caps", DialRefusal.CAP_REACHED),
    ("ok_uk_locks", DialRefusal.UK_LOCK),
)


class ScheduleMemo:
    """The schedule each campaign dialled with last, by campaign id, with its row's fingerprint.

    A cache the database validates (see the module docstring): a wrong or stale entry costs one
    more statement, never a wrong verdict, so one memo may serve every pool of the process.
    Bounded: the least recently used campaigns are forgotten first.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._by_campaign: OrderedDict[int, tuple[str, Schedule]] = OrderedDict()

    def judge(self, campaign_id: int, at: dt.datetime) -> tuple[str | None, bool]:
        """The fingerprint known for the campaign's schedule and whether it is open at ``at``."""
        known = self._by_campaign.get(campaign_id)
        if known is None:
            return None, False
        self._by_campaign.move_to_end(campaign_id)
        fingerprint, schedule = known
        return fingerprint, schedule.active and schedule.is_open(at)

    def learn(self, campaign_id: int, row: asyncpg.Record) -> Schedule:
        """Remember the schedule in ``row`` (a :data:`OPEN_SQL` row) and return it."""
        known = self._by_campaign.get(campaign_id)
        if known is not None and known[0] == row["schedule_fp"]:
            return known[1]
        schedule = schedule_from(row)
        self._by_campaign[campaign_id] = (row["schedule_fp"], schedule)
        self._by_campaign.move_to_end(campaign_id)
        while len(self._by_campaign) > self._size:
            self._by_campaign.popitem(last=False)
        return schedule


SCHEDULES = ScheduleMemo()


def _refusal(row: asyncpg.Record, schedule: Schedule, at: dt.datetime) -> DialRefusal | None:
    """The first rule that refuses in ``row``: the campaign's state, its schedule, then the SQL rules."""
    if CampaignState(row["campaign_state"]) is not CampaignState.RUNNING:
        return DialRefusal.CAMPAIGN_NOT_RUNNING
    if not schedule.active or not schedule.is_open(at):
        return DialRefusal.SCHEDULE_CLOSED
    for column, refusal in RECHECK_RULES:
        if row[column] is not True:
            return refusal
    return None


async def open_checked(
    conn: asyncpg.Connection | asyncpg.Pool,
    lease: LeasedContact,
    *,
    at: dt.datetime,
    agent_reserved: bool,
    engine_id: str | None,
    write: bool = True,
    fence: Fence | None = None,
) -> int | DialRefusal | None:
    """Every dial-time rule for ``lease`` at ``at`` and, when they hold, its attempt row: one statement.

    Returns the new attempt's id, or the first rule that refuses (:data:`RECHECK_RULES` order,
    after the campaign's state and schedule). With ``write`` false nothing is written and the
    lease is not checked: None means the call may be placed (the recheck alone).

    Raises:
        NotFound: the contact or the number is gone.
        LeaseLost: every rule holds but the contact is no longer leased to ``lease.lease_owner``.
        OwnershipLost: ``fence`` no longer holds the campaign (another engine took it over).
    """
    engine = fence.engine_id if fence is not None else engine_id or lease.lease_owner
    for _ in range(2):
        fingerprint, verdict = SCHEDULES.judge(lease.campaign_id, at)
        row = await conn.fetchrow(
            OPEN_SQL,
            lease.contact_id,
            lease.phone_id,
            at,
            agent_reserved,
            lease.lease_owner,
            lease.campaign_id,
            lease.e164,
            engine,
            lease.callback_id,
            lease.agent_id,
            write,
            fingerprint,
            verdict,
            None if fence is None else fence.token,
        )
        if row is None:
            raise NotFound("contact phone", (lease.contact_id, lease.phone_id))
        if row["attempt_id"] is not None:
            return int(row["attempt_id"])
        if write and not row["ok_owner"]:
            raise OwnershipLost(f"campaign {lease.campaign_id} was taken over from {engine}")
        refusal = _refusal(row, SCHEDULES.learn(lease.campaign_id, row), at)
        if refusal is not None or not write:
            return refusal
        if not row["ok_lease"]:
            raise LeaseLost(f"contact {lease.contact_id} is not leased to {lease.lease_owner}")
        # Every rule holds on the schedule's current row, which the memo had not seen: again.
    raise LeaseLost(f"contact {lease.contact_id}: its campaign's schedule keeps changing")


# -- closing ----------------------------------------------------------------------------

# $1 attempts, $2 their triggers (NULL: none), $3 $4 the writer's fence (engine, token; NULL: none).
# No lock: the write checks that nothing changed
# (the contact's ``xmin``). Brings the campaign's rule for the trigger, the enabled positions
# and the position of the number just dialled.
CLOSE_READ_SQL = """
SELECT a.id AS attempt_id, a.ended_at, a.outcome, a.contact_id, a.phone_id, a.callback_id,
       c.xmin::text AS contact_version,
       c.campaign_id, c.status_id, c.attempts, c.outcome_counts, c.day_attempts, c.day_attempts_on,
       c.not_before, c.closed_reason, c.next_phone_pos, c.round_due_at,
       s.name AS status_name, cp.timezone AS campaign_zone, cp.max_attempts AS cap,
       cp.default_disposition_id AS dd_id, dd.name AS dd_name,
       r.id AS rule_status_id, r.name AS rule_status_name, r.retry_delay_s, r.backoff, r.backoff_factor,
       r.max_attempts,
       ARRAY(SELECT p.position FROM contact_phones p
             WHERE p.contact_id = c.id AND p.disabled_at IS NULL) AS positions,
       (SELECT p.position FROM contact_phones p WHERE p.id = a.phone_id) AS current_pos,
       """ + owner_holds("c.campaign_id", "$3", "$4", lock=False) + """ AS owned
FROM unnest($1::bigint[], $2::text[]) AS want(id, trigger)
JOIN attempts a ON a.id = want.id
JOIN contacts c ON c.id = a.contact_id
JOIN statuses s ON s.id = c.status_id
JOIN campaigns cp ON cp.id = c.campaign_id
LEFT JOIN statuses dd ON dd.id = cp.default_disposition_id
LEFT JOIN LATERAL (
    SELECT s2.id, s2.name, cs.retry_delay_s, cs.backoff, cs.backoff_factor, cs.max_attempts
    FROM campaign_statuses cs JOIN statuses s2 ON s2.id = cs.status_id
    WHERE cs.campaign_id = c.campaign_id AND cs.trigger = want.trigger AND s2.active
    LIMIT 1
) r ON true
"""

# What must hold for a close to write anything: the attempt still open, its contact's row still
# the version the close was planned on (``version``: NULL inside a transaction that locked it
# already), and the writer still the campaign's owner (``engine``, ``token``: its fence).
# Locks both.
_CLOSE_GUARD = """guard AS (
    SELECT a.id FROM attempts a JOIN contacts c ON c.id = a.contact_id
    WHERE a.id = $1 AND c.id = $11 AND a.ended_at IS NULL
      AND ({version}::text IS NULL OR c.xmin::text = {version}::text)
      AND {owned}
    FOR UPDATE OF a, c
)"""

# $1..$11: the attempt's columns and its contact, $12..$14 what the audit report reads (ring
# time, information message, agent reserved; migration 006). Shared by the two writes below.
_CLOSE_ATTEMPT_SET = """
    UPDATE attempts SET ended_at = $2, answered_at = $3, outcome = $4, hangup_cause = $5,
        hangup_cause_text = $6, asterisk_uniqueid = $7, asterisk_linkedid = $8,
        agent_id = $9, status_id = $10,
        ring_s = $12, info_message = $13, agent_reserved = $14
    WHERE id = $1 AND EXISTS (SELECT 1 FROM guard)
"""

# $15 the contact's version read, $16 $17 the fence (see the guard). Returns the contact's id
# when it wrote.
CLOSE_CANCELLED_SQL = f"""
WITH {_CLOSE_GUARD.format(version="$15", owned=owner_holds("c.campaign_id", "$16", "$17"))},
att AS ({_CLOSE_ATTEMPT_SET})
UPDATE contacts SET lease_owner = NULL, lease_expires_at = NULL
WHERE id = $11 AND EXISTS (SELECT 1 FROM guard)
RETURNING id
"""

# $15 phone to disable (NULL: none), $16 callback done (NULL: none), $17 status, $18 attempts,
# $19 outcome counts, $20 day attempts, $21 day, $22 not before, $23 next position,
# $24 closed reason, $25 answered hold until, $26 answered, $27 round due, $28 previous status,
# $29 campaign, $30 status-change reason, $31 the contact's version read, $32 $33 the fence
# (see the guard). All
# CTEs see the same snapshot, so the contact's next callback is computed leaving out the
# callback this attempt just completed. Returns the contact's id when it wrote.
CLOSE_WRITE_SQL = f"""
WITH {_CLOSE_GUARD.format(version="$31", owned=owner_holds("c.campaign_id", "$32", "$33"))},
att AS ({_CLOSE_ATTEMPT_SET}),
dead AS (UPDATE contact_phones SET disabled_at = $2 WHERE id = $15 AND EXISTS (SELECT 1 FROM guard)),
cb AS (UPDATE callbacks SET state = 'done' WHERE id = $16 AND EXISTS (SELECT 1 FROM guard)),
hist AS (
    INSERT INTO status_changes (contact_id, from_status, to_status, from_campaign, to_campaign,
                                reason, attempt_id, changed_at)
    SELECT $11, $28, $17, $29, $29, $30, $1, $2
    WHERE $17::bigint IS DISTINCT FROM $28::bigint AND EXISTS (SELECT 1 FROM guard)
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
WHERE id = $11 AND EXISTS (SELECT 1 FROM guard)
RETURNING id
"""
