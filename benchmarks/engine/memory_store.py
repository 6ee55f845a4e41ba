"""An in-memory :class:`~dialer.ports.ContactStore` for running the real runner in virtual time.

Theory of operation
-------------------
The pacing benchmark runs :class:`~dialer.campaign.runner.CampaignRunner` for hours of virtual time in
seconds, so its store must answer without I/O. :class:`MemoryStore` keeps one campaign and an
unbounded population of single-number contacts, created as they are first leased (contact
``k`` dials :func:`number_of` ``k``). It keeps the promises the runner relies on, with the same
pure rules the SQL store uses where they exist (:func:`dialer.campaign.retry.plan` for counters, caps,
retry delays and rotation):

* leases: a contact is leased to one owner until ``at + ttl_s``; renew, release and reclaim as
  in :class:`dialer.store.store.Store`; ``open_attempt`` on a lost lease raises ``LeaseLost``;
* eligibility order (``dialer.store.eligibility``): due callbacks and "my record" (rank 0, the
  personal ones only to their agent), then "call progressive" (rank 1, only with
  ``agent_reserved``), then due retries (rank 2), then fresh contacts (rank 3); the campaign's
  attempt cap and per-day cap (campaign-local day in UTC); do-not-call numbers are skipped;
* the dial-time recheck (``recheck_before_dial``): the same rules once more for one leased
  contact -- campaign running, schedule open, still due, not listed, under the caps;
* automatic statuses: ``close_attempt`` applies the status configured for the outcome's
  trigger with its retry delay (or :data:`dialer.store.statuses.DEFAULT_RULES`), counts the attempt,
  closes the contact at a cap, and releases the lease, except for an answered call, which
  stays leased until ``set_disposition``;
* dispositions and callbacks: "my record" needs the agent; "not before" and the status's delay
  set the due time; ``schedule_callback`` makes the contact a rank-0 callback.

Left out (it is a benchmark double, not a second store): schedules are always open (the
benchmark's shift *is* the window), calling hours and contact windows are not checked (every
number is in the campaign's zone), contacts have one number (invalid number closes them), the
UK repeat-call locks, callback slots, audit rows (status changes) and several campaigns.

Every public call is counted in :attr:`MemoryStore.calls` (method name -> count) so a benchmark
can report store operations per attempt.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from benchmarks.engine.call_history import CallHistory
from dialer.campaign import retry
from dialer.errors import AttemptClosed, DialerError, LeaseLost, NotFound, ValidationError
from dialer.model import (
    ANSWERED_HOLD_S,
    OUTCOME_TRIGGER,
    Agent,
    AnswerBucket,
    AppliedOutcome,
    Attempt,
    AttemptResult,
    Callback,
    CallbackKind,
    Campaign,
    CampaignState,
    DialRefusal,
    LeasedContact,
    Outcome,
    PastCall,
    RetryRule,
    SystemStatus,
    Trigger,
)
from dialer.schedules.schedule import Schedule, schedule_from_text
from dialer.store.statuses import DEFAULT_RULES

_RANK_CALLBACK, _RANK_PROGRESSIVE, _RANK_RETRY, _RANK_FRESH = range(4)
_REASONS = {0: "callback", 1: "call_progressive", 2: "retry", 3: "fresh"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class StatusRule:
    """A campaign status: what the dialer does next (system status) and its retry rule."""

    name: str
    system_status: SystemStatus = SystemStatus.CALL
    retry: RetryRule = field(default_factory=lambda: RetryRule(delay_s=0))


def number_of(k: int) -> str:
    """The number of the ``k``-th contact of the population (E.164, a reserved-looking US range)."""
    return f"+1555{k:07d}"


@dataclass(slots=True)
class _Contact:
    id: int
    e164: str
    status: StatusRule
    not_before: float | None = None
    agent_id: int | None = None
    attempts: int = 0
    outcome_counts: dict[str, int] = field(default_factory=dict)
    day_attempts: int = 0
    day_attempts_on: dt.date | None = None
    closed_reason: str | None = None
    lease_owner: str | None = None
    lease_until: float = 0.0
    callback_id: int | None = None
    callback_agent: int | None = None
    callback_due: float = 0.0
    generation: int = 0      # bumps on every change of due rank/time (stale heap entries)

    def rank(self) -> int | None:
        if self.closed_reason is not None:
            return None
        if self.callback_id is not None:
            return _RANK_CALLBACK
        system = self.status.system_status
        if system is SystemStatus.DO_NOT_CALL:
            return None
        if system is SystemStatus.MY_RECORD:
            return _RANK_CALLBACK
        if system is SystemStatus.CALL_PROGRESSIVE:
            return _RANK_PROGRESSIVE
        return _RANK_RETRY

    def due(self) -> float:
        if self.callback_id is not None:
            return self.callback_due
        return self.not_before if self.not_before is not None else float("-inf")


@dataclass(slots=True)
class _Attempt:
    id: int
    contact_id: int
    e164: str
    engine_id: str
    started_at: dt.datetime
    callback_id: int | None
    agent_id: int | None
    ended_at: dt.datetime | None = None
    outcome: Outcome | None = None


def _ts(at: dt.datetime) -> float:
    if at.tzinfo is None:
        raise ValidationError("at", "must be timezone-aware", at)
    return at.timestamp()


def _dt(ts: float) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=ts)


class MemoryStore:
    """One campaign over an unbounded in-memory population (see the module docstring).

    Args:
        campaign: the campaign (its ``max_attempts``, ``max_attempts_per_day`` apply).
        triggers: the status set automatically for each trigger, with its retry rule; a
            trigger not listed keeps the contact's status and uses ``DEFAULT_RULES``.
        statuses: further statuses agents may set (dispositions), by name.
        initial: the status of a fresh contact.
        population: how many contacts exist (``None``: unbounded).
        number: the number of contact ``k``.
        schedule: what ``get_schedule`` returns (default: every day, all day).
    """

    def __init__(
        self,
        campaign: Campaign,
        *,
        triggers: Mapping[Trigger, StatusRule] | None = None,
        statuses: Iterable[StatusRule] = (),
        initial: StatusRule | None = None,
        population: int | None = None,
        number: Callable[[int], str] = number_of,
        schedule: Schedule | None = None,
    ) -> None:
        self.campaign = campaign
        self.initial = initial or StatusRule("call")
        self.triggers = dict(triggers or {})
        self.statuses: dict[str, StatusRule] = {self.initial.name: self.initial}
        for rule in (*self.triggers.values(), *statuses):
            self.statuses[rule.name] = rule
        self.population = population
        self._number = number
        self._schedule = schedule or schedule_from_text(campaign.schedule, frequency="daily",
                                                         window="00:00-00:00")
        self.contacts: dict[int, _Contact] = {}
        self.attempts: dict[int, _Attempt] = {}
        self.callbacks: dict[int, Callback] = {}
        self.agents: dict[str, Agent] = {}
        self.do_not_call: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.occupancy: dict[tuple[int, dt.datetime], tuple[float, float]] = {}  # agent time per minute
        self.history = CallHistory()  # what campaign memory reads (answer_buckets, recent_calls)
        self._fresh = 0
        self._leased: set[int] = set()
        self._heaps: dict[int, list[tuple[float, int, int, int]]] = {r: [] for r in range(3)}
        self._ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    # ------------------------------------------------------------------ set-up helpers

    def add_agent(self, name: str, interface: str) -> Agent:
        agent = Agent(len(self.agents) + 1, name, interface, True)
        self.agents[name] = agent
        return agent

    def contact_of(self, contact_id: int) -> _Contact:
        try:
            return self.contacts[contact_id]
        except KeyError:
            raise NotFound("contact", contact_id) from None

    def attempts_of(self, contact_id: int) -> list[_Attempt]:
        return [a for a in self.attempts.values() if a.contact_id == contact_id]

    # ------------------------------------------------------------------ campaign

    async def get_campaign(self, name: str) -> Campaign:
        self.calls["get_campaign"] += 1
        if name not in (self.campaign.name, str(self.campaign.id)):
            raise NotFound("campaign", name)
        return self.campaign

    async def list_campaigns(self) -> list[Campaign]:
        self.calls["list_campaigns"] += 1
        return [self.campaign]

    async def get_schedule(self, name: str) -> Schedule:
        self.calls["get_schedule"] += 1
        if name != self._schedule.name:
            raise NotFound("schedule", name)
        return self._schedule

    async def get_agent(self, name: str) -> Agent:
        self.calls["get_agent"] += 1
        try:
            return self.agents[name]
        except KeyError:
            raise NotFound("agent", name) from None

    async def campaign_agents(self, campaign: str) -> list[Agent]:
        self.calls["campaign_agents"] += 1
        return list(self.agents.values())

    async def recheck_before_dial(
        self, lease: LeasedContact, *, at: dt.datetime, agent_reserved: bool
    ) -> DialRefusal | None:
        """The lease's rules this store models, again at ``at`` (the dial-time recheck).

        In the SQL store's order: the campaign running, its schedule open, the contact still
        due (and "call progressive" only with ``agent_reserved``), its number on no
        do-not-call list, under the caps. Calling hours, contact windows, disabled numbers and
        the UK locks are not modelled (module docstring), so never refuse here.

        Raises:
            NotFound: no such contact.
        """
        self.calls["recheck_before_dial"] += 1
        now = _ts(at)
        c = self.contacts.get(lease.contact_id)
        if c is None:
            raise NotFound("contact", lease.contact_id)
        if self.campaign.state is not CampaignState.RUNNING:
            return DialRefusal.CAMPAIGN_NOT_RUNNING
        if not self._schedule.is_open(at):
            return DialRefusal.SCHEDULE_CLOSED
        rank = c.rank()
        if rank is None or c.due() > now or (rank == _RANK_PROGRESSIVE and not agent_reserved):
            return DialRefusal.NOT_DUE
        if c.e164 in self.do_not_call:
            return DialRefusal.DO_NOT_CALL
        if not self._under_caps(c, rank, at.date()):
            return DialRefusal.CAP_REACHED
        return None

    # ------------------------------------------------------------------ leasing

    def _push(self, c: _Contact) -> None:
        rank = c.rank()
        if rank is None:
            return
        c.generation += 1
        heapq.heappush(self._heaps[rank], (c.due(), c.id, c.generation, rank))

    def _free(self, c: _Contact, now: float) -> bool:
        return c.lease_owner is None or c.lease_until <= now

    def _under_caps(self, c: _Contact, rank: int, day: dt.date) -> bool:
        if rank == _RANK_CALLBACK:
            return True  # an agreed callback is exempt from the caps (dialer.store.eligibility)
        if c.attempts >= self.campaign.max_attempts:
            return False
        return c.day_attempts_on != day or c.day_attempts < self.campaign.max_attempts_per_day

    async def lease_contacts(
        self,
        campaign: str | int,
        *,
        at: dt.datetime,
        limit: int,
        owner: str,
        ttl_s: float = 120.0,
        agent_reserved: bool = False,
        agent_ids: Sequence[int] | None = None,
        check_schedule: bool = True,
    ) -> list[LeasedContact]:
        """Lease up to ``limit`` due contacts in eligibility order (see the module docstring)."""
        self.calls["lease_contacts"] += 1
        if campaign not in (self.campaign.name, self.campaign.id):
            raise NotFound("campaign", campaign)
        if limit < 1:
            raise ValidationError("limit", "must be at least 1", limit)
        if ttl_s <= 0:
            raise ValidationError("ttl_s", "must be positive", ttl_s)
        now = _ts(at)
        if self.campaign.state is not CampaignState.RUNNING:
            return []
        if check_schedule and not self._schedule.is_open(at):
            return []
        self._lapse(now)
        day = at.date()
        out: list[LeasedContact] = []
        wanted_agents = None if agent_ids is None else set(agent_ids)
        for rank in (_RANK_CALLBACK, _RANK_PROGRESSIVE, _RANK_RETRY):
            if rank == _RANK_PROGRESSIVE and not agent_reserved:
                continue
            heap = self._heaps[rank]
            kept: list[tuple[float, int, int, int]] = []
            while heap and len(out) < limit and heap[0][0] <= now:
                entry = heapq.heappop(heap)
                c = self.contacts[entry[1]]
                if entry[2] != c.generation or c.rank() != rank:
                    continue  # stale: the contact changed since it was queued
                if not self._free(c, now):
                    kept.append(entry)  # leased: comes back if the lease lapses
                    continue
                owner_agent = c.callback_agent if c.callback_id is not None else c.agent_id
                if rank == _RANK_CALLBACK and owner_agent is not None and wanted_agents is not None \
                        and owner_agent not in wanted_agents:
                    kept.append(entry)
                    continue
                if not self._under_caps(c, rank, day) or c.e164 in self.do_not_call:
                    kept.append(entry)
                    continue
                out.append(self._lease(c, rank, owner, now + ttl_s, owner_agent if rank == 0 else None))
            for entry in kept:
                heapq.heappush(heap, entry)
        while len(out) < limit and (self.population is None or self._fresh < self.population):
            k = self._fresh
            self._fresh += 1
            c = _Contact(next(self._ids), self._number(k), self.initial)
            self.contacts[c.id] = c
            if c.e164 in self.do_not_call:
                self._push(c)
                continue
            out.append(self._lease(c, _RANK_FRESH, owner, now + ttl_s, None))
        return out

    def _lapse(self, now: float) -> list[_Contact]:
        """Leases that ran out are free again (a crashed or slow owner's), as in the SQL query."""
        expired = [self.contacts[cid] for cid in self._leased if self.contacts[cid].lease_until <= now]
        for c in expired:
            self._unlease(c)
        return expired

    def _lease(self, c: _Contact, rank: int, owner: str, until: float, agent_id: int | None) -> LeasedContact:
        c.lease_owner, c.lease_until = owner, until
        self._leased.add(c.id)
        c.generation += 1   # off the heap while leased
        return LeasedContact(
            contact_id=c.id, campaign_id=self.campaign.id, phone_id=c.id, e164=c.e164, name=f"contact {c.id}",
            fields={}, agent_id=agent_id, callback_id=c.callback_id, reason=_REASONS[rank], lease_owner=owner,
            lease_expires_at=_dt(until),
        )

    async def renew_leases(
        self, owner: str, contact_ids: Sequence[int], *, at: dt.datetime, ttl_s: float
    ) -> list[int]:
        self.calls["renew_leases"] += 1
        now = _ts(at)
        held = []
        for cid in contact_ids:
            c = self.contacts.get(cid)
            if c is not None and c.lease_owner == owner and c.lease_until > now:
                c.lease_until = now + ttl_s
                held.append(cid)
        return sorted(held)

    def _unlease(self, c: _Contact) -> None:
        c.lease_owner, c.lease_until = None, 0.0
        self._leased.discard(c.id)
        self._push(c)

    async def release_leases(self, owner: str, contact_ids: Sequence[int]) -> int:
        self.calls["release_leases"] += 1
        n = 0
        for cid in contact_ids:
            c = self.contacts.get(cid)
            if c is not None and c.lease_owner == owner:
                self._unlease(c)
                n += 1
        return n

    async def reclaim_expired_leases(self, at: dt.datetime) -> int:
        self.calls["reclaim_expired_leases"] += 1
        return len(self._lapse(_ts(at)))

    async def release_own_leases(self, engine_id: str, keep: Sequence[int]) -> int:
        """An engine restarting under its id takes back its leases at once (as Store)."""
        self.calls["release_own_leases"] += 1
        kept = set(keep)
        mine = [c for c in self._leased if c not in kept and self.contacts[c].lease_owner == engine_id]
        return await self.release_leases(engine_id, mine)

    async def hand_over_attempts(
        self, engine_id: str, channels: Mapping[int, Sequence[str]], *, at: dt.datetime
    ) -> int:
        """One engine per benchmark: nobody adopts; the calls' ends are simply not written."""
        self.calls["hand_over_attempts"] += 1
        return sum(1 for aid in channels if aid in self.attempts and self.attempts[aid].ended_at is None)

    async def adopt_handed_over(self, engine_id: str) -> int:
        self.calls["adopt_handed_over"] += 1
        return 0

    # ------------------------------------------------------------------ attempts

    async def open_attempt(
        self, lease: LeasedContact, *, at: dt.datetime, engine_id: str | None = None
    ) -> int:
        """Record an attempt before the Originate.

        Raises:
            LeaseLost: the contact is no longer leased to the lease's owner.
        """
        self.calls["open_attempt"] += 1
        c = self.contacts.get(lease.contact_id)
        if c is None or c.lease_owner != lease.lease_owner or c.lease_until <= _ts(at):
            raise LeaseLost(f"contact {lease.contact_id} is not leased to {lease.lease_owner}")
        aid = len(self.attempts) + 1
        self.attempts[aid] = _Attempt(aid, c.id, lease.e164, engine_id or lease.lease_owner, at,
                                      lease.callback_id, lease.agent_id)
        return aid

    async def open_checked_attempt(
        self, lease: LeasedContact, *, at: dt.datetime, agent_reserved: bool, engine_id: str | None = None
    ) -> int | DialRefusal:
        """The dial-time recheck, then the attempt (the SQL store's one statement, in two steps here).

        Raises:
            NotFound: no such contact.
            LeaseLost: the contact is no longer leased to the lease's owner.
        """
        refusal = await self.recheck_before_dial(lease, at=at, agent_reserved=agent_reserved)
        if refusal is not None:
            return refusal
        return await self.open_attempt(lease, at=at, engine_id=engine_id)

    async def open_attempts(self, engine_id: str | None = None) -> list[Attempt]:
        self.calls["open_attempts"] += 1
        return [
            Attempt(a.id, a.contact_id, self.campaign.id, a.contact_id, a.e164, a.engine_id, a.started_at,
                    None, None, None, None, a.agent_id)
            for a in self.attempts.values()
            if a.ended_at is None and (engine_id is None or a.engine_id == engine_id)
        ]

    async def awaiting_disposition(self, engine_id: str) -> list[Attempt]:
        """Answered attempts whose contact ``engine_id`` still holds for a disposition (as Store)."""
        self.calls["awaiting_disposition"] += 1
        latest: dict[int, _Attempt] = {}
        for a in self.attempts.values():
            if a.contact_id not in latest or a.id > latest[a.contact_id].id:
                latest[a.contact_id] = a
        return [
            Attempt(a.id, a.contact_id, self.campaign.id, a.contact_id, a.e164, a.engine_id, a.started_at,
                    a.ended_at, a.outcome, None, None, a.agent_id)
            for a in sorted(latest.values(), key=lambda a: (a.ended_at or a.started_at, a.id))
            if a.engine_id == engine_id and a.outcome is Outcome.ANSWERED
            and self.contacts[a.contact_id].lease_owner == engine_id
        ]

    async def apply_missed_callbacks(self, campaign_id: int, at: dt.datetime) -> int:
        """Nothing to do: callbacks here have no windows that pass unseen (windows end leases)."""
        self.calls["apply_missed_callbacks"] += 1
        return 0

    async def convert_to_campaign_callback(self, contact_id: int) -> bool:
        """A pending personal callback becomes a campaign one (as Store); False if none was pending."""
        self.calls["convert_to_campaign_callback"] += 1
        c = self.contact_of(contact_id)
        cb = self.callbacks.get(c.callback_id) if c.callback_id is not None else None
        if cb is None or cb.kind is not CallbackKind.PERSONAL:
            return False
        self.callbacks[cb.id] = replace(cb, kind=CallbackKind.CAMPAIGN, agent_id=None)
        c.callback_agent = None
        c.agent_id = None
        return True

    async def close_attempts(
        self, closes: Sequence[tuple[int, AttemptResult]]
    ) -> list[AppliedOutcome | DialerError]:
        """Close each as :meth:`close_attempt` (its outcome, or the error it met)."""
        results: list[AppliedOutcome | DialerError] = []
        for attempt_id, result in closes:
            try:
                results.append(await self.close_attempt(attempt_id, result))
            except DialerError as err:
                results.append(err)
        return results

    async def close_attempt(self, attempt_id: int, result: AttemptResult) -> AppliedOutcome:
        """Close an attempt and apply its automatic status (see the module docstring).

        Raises:
            NotFound: no such attempt.
            AttemptClosed: it was closed already.
        """
        self.calls["close_attempt"] += 1
        att = self.attempts.get(attempt_id)
        if att is None:
            raise NotFound("attempt", attempt_id)
        if att.ended_at is not None:
            raise AttemptClosed(f"attempt {attempt_id} was closed already ({att.outcome})")
        att.ended_at, att.outcome = result.ended_at, result.outcome
        self.history.closed(attempt_id, result.outcome, att.started_at, result.answered_at, result.ended_at)
        c = self.contacts[att.contact_id]
        trigger = OUTCOME_TRIGGER.get(result.outcome)
        if att.callback_id is not None and result.outcome is not Outcome.CANCELLED:
            c.callback_id = c.callback_agent = None
        if result.outcome is Outcome.CANCELLED:
            self._unlease(c)
            return AppliedOutcome(attempt_id, c.id, c.status.name, _opt_dt(c.not_before), c.closed_reason, 0)
        status, rule = c.status, RetryRule(delay_s=0)
        if trigger is not None:
            configured = self.triggers.get(trigger)
            if configured is not None:
                status, rule = configured, configured.retry
            else:
                rule = DEFAULT_RULES[trigger]
        step = retry.plan(
            trigger=trigger, rule=rule,
            counters=retry.Counters(c.attempts, c.outcome_counts, c.day_attempts, c.day_attempts_on),
            at=result.ended_at, local_day=result.ended_at.astimezone(dt.UTC).date(), positions=[0],
            current_pos=0, max_attempts=self.campaign.max_attempts,
        )
        c.attempts, c.outcome_counts = step.attempts, step.outcome_counts
        c.day_attempts, c.day_attempts_on = step.day_attempts, step.day_attempts_on
        answered = result.outcome is Outcome.ANSWERED
        if trigger is not None:
            c.status = status
            c.closed_reason = step.closed_reason
        if answered:
            # Kept for the agent's disposition, at most ANSWERED_HOLD_S (as the SQL store).
            c.lease_until = _ts(result.ended_at) + ANSWERED_HOLD_S
            return AppliedOutcome(attempt_id, c.id, c.status.name, None, c.closed_reason, 0)
        c.not_before = None if step.not_before is None else _ts(step.not_before)
        self._unlease(c)
        return AppliedOutcome(attempt_id, c.id, c.status.name, step.not_before, c.closed_reason, 0)

    async def set_disposition(
        self,
        contact_id: int,
        status: str,
        *,
        at: dt.datetime,
        agent_id: int | None = None,
        not_before: dt.datetime | None = None,
        attempt_id: int | None = None,
        keep_lease: bool = False,
    ) -> None:
        """Apply an agent's disposition and release the contact (unless ``keep_lease``: a
        callback's booking releases it).

        Raises:
            NotFound: no such contact or status.
            ValidationError: "my record" without an agent.
        """
        self.calls["set_disposition"] += 1
        c = self.contact_of(contact_id)
        rule = self.statuses.get(status)
        if rule is None:
            raise NotFound("status", status)
        if rule.system_status is SystemStatus.MY_RECORD and agent_id is None:
            raise ValidationError("agent", "status 'my record' needs the agent it belongs to", status)
        due = not_before
        if due is None and rule.retry.delay_s > 0:
            due = at + dt.timedelta(seconds=rule.retry.delay_s)
        c.status = rule
        c.not_before = None if due is None else _ts(due)
        c.agent_id = agent_id if rule.system_status is SystemStatus.MY_RECORD else None
        if not keep_lease:
            self._unlease(c)
        self.history.disposed(attempt_id, at)

    async def answer_buckets(
        self, campaign_id: int, spans: Sequence[tuple[float, dt.datetime]], *, exclude: Sequence[int] = ()
    ) -> list[AnswerBucket]:
        self.calls["answer_buckets"] += 1
        return self.history.answer_buckets(spans, exclude)

    async def recent_calls(
        self, campaign_id: int, *, since: dt.datetime, until: dt.datetime, limit: int
    ) -> list[PastCall]:
        self.calls["recent_calls"] += 1
        return self.history.recent_calls(since, until, limit)

    async def record_occupancy(
        self, campaign_id: int, minutes: Sequence[tuple[dt.datetime, float, float]]
    ) -> None:
        self.calls["record_occupancy"] += 1
        for minute, logged_in, talking in minutes:
            was = self.occupancy.get((campaign_id, minute), (0.0, 0.0))
            self.occupancy[(campaign_id, minute)] = (was[0] + logged_in, was[1] + talking)

    async def schedule_callback(
        self,
        contact_id: int,
        *,
        due_at: dt.datetime,
        kind: CallbackKind = CallbackKind.CAMPAIGN,
        agent_id: int | None = None,
        window_end_at: dt.datetime | None = None,
        phone_position: int | None = None,
        new_phone: str | None = None,
        new_phone_window: tuple[dt.time, dt.time] | None = None,
        new_phone_kind: str | None = None,
        slot_id: int | None = None,
        source: str = "agent",
        actor: str | None = None,
        at: dt.datetime | None = None,
        release_lease: bool = False,
    ) -> Callback:
        """Make the contact a due-at callback (personal: only for ``agent_id``); one number only.
        ``release_lease``: the disposition before it kept the lease.

        Raises:
            ValidationError: a personal callback without an agent, a window ending before it
                starts, or a new number (contacts here have one number).
        """
        self.calls["schedule_callback"] += 1
        if kind is CallbackKind.PERSONAL and agent_id is None:
            raise ValidationError("agent", "a personal callback needs its agent")
        if window_end_at is not None and window_end_at <= due_at:
            raise ValidationError("window_end_at", "must be after due_at", window_end_at)
        if new_phone is not None:
            raise ValidationError("new_phone", "the in-memory store keeps one number per contact", new_phone)
        c = self.contact_of(contact_id)
        personal_agent = agent_id if kind is CallbackKind.PERSONAL else None
        cb = Callback(next(self._callback_ids), c.id, self.campaign.id, kind, personal_agent, c.id, due_at,
                      window_end_at, "pending")
        self.callbacks[cb.id] = cb
        c.callback_id, c.callback_agent, c.callback_due = cb.id, cb.agent_id, _ts(due_at)
        if release_lease:
            self._unlease(c)
        elif c.lease_owner is None:
            self._push(c)
        return cb


def _opt_dt(ts: float | None) -> dt.datetime | None:
    return None if ts is None else _dt(ts)
