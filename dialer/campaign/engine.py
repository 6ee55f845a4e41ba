"""The engine supervisor: one runner per running campaign whose schedule is open.

Theory of operation. :meth:`Engine.run` first *reconciles* what a previous run of this engine
left behind (issue 5 item 5, "crash safety"), and what any engine handed over when it
stopped with calls still up (issue 19 item 2: those rows are claimed first). Every attempt
of this ``engine_id`` still open in the store is offered to the PBX (``adopt_attempts``:
CoreShowChannels over AMI, by the call's channel ids). An attempt whose call is still up is
followed from where its channels say it is (ringing, answered, talking to an agent) to its
real end, like a call this run placed, and closed by its campaign's runner with its real
outcome (issue 17 item 2); every other open attempt is closed as ``lost`` at once, which
counts it and applies the campaign's retry rule: never re-dialled blindly, never forgotten.
Updates of an adopted call that arrive before its runner starts are kept for it. A contact
whose call was answered but whose agent's disposition died with the engine gets the default
disposition (``RunnerSettings.default_disposition`` or the campaign's default status), as
the runner would have given it after the disposition timeout. The leases this engine id holds
are freed at once (only one process runs under an id: they are its previous run's), except
those of adopted calls and answered contacts; expired leases of any engine are reclaimed.
Only then does dialling start.

Stopping. When :meth:`Engine.run` ends with calls still up (a drain that outlived its
timeout, a second signal, :meth:`Engine.stop`), they are *handed over*: the PBX stops
following them and their attempt rows say so, with their channel ids, so that the next
engine of any id adopts them (``Store.hand_over_attempts``).

Then, every ``poll_s``, the supervisor lists the campaigns and starts a runner for each one
that is running with its schedule open, and drains the runner of one that was stopped or
paused or whose schedule closed. A runner that crashes is logged and restarted on the next
poll. One PBX subscription feeds all runners: attempt updates go to the runner that owns
the attempt, agent and connection updates to every runner (each board filters its queue).

Several engines (issue 15). With an :class:`~dialer.campaign.ownership.Ownership`, a campaign
runs here only while this engine owns it: each poll (every heartbeat, a quarter of the
take-over time) refreshes the heartbeat, stops at once the runner of a campaign taken over
by another engine (without taking its agents out of the queue: they are the new owner's
now), and takes free or expired campaigns up to this engine's share. Taking a campaign from
another engine first claims its open attempts and settles them as the start-up
reconciliation settles this engine's own (calls still up adopted, the rest closed as lost,
answered contacts given the default disposition); the runner then restores the stored
abandon windows and statistics as at any start, and its agents are logged in again
(``engine.autologin_agents``). The runner writes through a
:class:`~dialer.campaign.ownership.FencedStore`. A graceful stop hands the campaigns back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

import structlog

from ami.outcome import Ended
from dialer.campaign.alarm import Alarm
from dialer.campaign.ownership import FencedStore, Ownership
from dialer.campaign.presence import AgentPresence
from dialer.campaign.runner import CampaignRunner
from dialer.campaign.settings import RunnerSettings
from dialer.clock import Clock
from dialer.errors import DialerError
from dialer.model import Attempt, AttemptResult, Campaign, CampaignState, LeasedContact
from dialer.model import Outcome as StoreOutcome
from dialer.observability.metrics import CampaignGauges, DialerMetrics
from dialer.ports import ContactStore, PbxPort
from dialer.schedules.schedule import Schedule
from pacing import PacingPolicy

log = structlog.get_logger(__name__)

__all__ = ["Engine", "ReconcileReport"]

_Wanted = tuple[Campaign, Schedule]  # a campaign to run and its schedule


class ReconcileReport:
    """What start-up reconciliation did (for logs and tests)."""

    __slots__ = ("adopted", "claimed", "closed_lost", "defaulted", "reclaimed_leases", "released_own")

    def __init__(
        self, adopted: int = 0, closed_lost: int = 0, reclaimed_leases: int = 0, defaulted: int = 0
    ) -> None:
        self.adopted = adopted
        self.closed_lost = closed_lost
        self.reclaimed_leases = reclaimed_leases
        self.defaulted = defaulted  # answered contacts given the default disposition
        self.claimed = 0  # attempts handed over by a stopping engine, claimed by this one
        self.released_own = 0  # leases of this engine id's previous run, freed at once

    def __repr__(self) -> str:
        return (
            f"ReconcileReport(adopted={self.adopted}, closed_lost={self.closed_lost}, "
            f"defaulted={self.defaulted}, reclaimed_leases={self.reclaimed_leases}, "
            f"claimed={self.claimed}, released_own={self.released_own})"
        )


class Engine:
    """Supervise one runner per dialable campaign (see the module docstring).

    Args:
        store, pbx, clock, metrics, engine_id: shared by every runner.
        settings: every runner's :class:`RunnerSettings`.
        poll_s: how often campaigns and schedules are re-read.
        policy_factory: ``campaign -> PacingPolicy`` (benchmarks); default per mode/profile.
        campaigns: only these campaign names (None: all).
        dial_demo: dial campaigns flagged demo too (``dialer demo``, test rigs); otherwise each
            is skipped with one warning (issue 11 item 5: ``dialer run`` never dials demo data).
        ownership: run only the campaigns this engine owns among several (issue 15); None:
            every campaign (one engine on the database, tests, benchmarks).
    """

    def __init__(
        self,
        *,
        store: ContactStore,
        pbx: PbxPort,
        clock: Clock,
        metrics: DialerMetrics,
        engine_id: str,
        settings: RunnerSettings | None = None,
        poll_s: float = 5.0,
        policy_factory: Any = None,
        campaigns: set[str] | None = None,
        dial_demo: bool = False,
        ownership: Ownership | None = None,
    ) -> None:
        self.store = store
        self.pbx = pbx
        self.clock = clock
        self.metrics = metrics
        self.engine_id = engine_id
        self.settings = settings or RunnerSettings()
        self.poll_s = poll_s
        self._policy_factory = policy_factory
        self._only = campaigns
        self._dial_demo = dial_demo
        self.ownership = ownership
        self.demo_refused: set[str] = set()  # campaigns skipped for their demo flag (said once)
        self._runners: dict[str, CampaignRunner] = {}
        # where each agent is busy across the runners: one person, one call (presence.py)
        self.presence = AgentPresence()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._draining: set[asyncio.Task[None]] = set()
        self._adopt: dict[int, list[tuple[Attempt, LeasedContact]]] = {}
        self._early: dict[str, list[Any]] = {}  # updates of adopted calls whose runner is not up
        self.handed_over = 0
        self._stopping = False
        self._drain_started = False
        self._drained = asyncio.Event()
        self._wake = Alarm()
        self.reconciled: ReconcileReport | None = None
        self.started = asyncio.Event()
        pbx.subscribe(self)

    # ---------------------------------------------------------------- PbxListener (fan-out)

    def on_attempt(self, update: Any) -> None:
        attempt_id = update.outcome.attempt_id if isinstance(update, Ended) else update.attempt_id
        for runner in self._runners.values():
            if runner.owns(attempt_id):
                runner.on_attempt(update)
                return
        if attempt_id in self._early:
            self._early[attempt_id].append(update)  # adopted; its runner has not started yet

    def on_agent(self, update: Any) -> None:
        for runner in self._runners.values():
            runner.on_agent(update)

    def on_connection(self, up: bool) -> None:
        # a connection coming up is news, not trouble; going down is (issue 16 item 6)
        (log.info if up else log.warning)("pbx_connection", up=up)
        for runner in self._runners.values():
            runner.on_connection(up)

    # ---------------------------------------------------------------- public API

    def runner(self, campaign: str) -> CampaignRunner | None:
        return self._runners.get(campaign)

    def runners(self) -> list[CampaignRunner]:
        return list(self._runners.values())

    def gauges(self) -> list[CampaignGauges]:
        return [r.gauges() for r in self._runners.values()]

    async def run(self) -> None:
        """Reconcile, then supervise until :meth:`drain` or :meth:`stop`."""
        self.reconciled = await self.reconcile()
        self.started.set()
        try:
            while not self._stopping:
                try:
                    await self._supervise()
                except DialerError as err:
                    log.warning("supervise_failed", error=str(err))
                except Exception as err:  # database unreachable: runners keep what they have
                    log.warning("supervise_failed", error=type(err).__name__)
                beat_s = self.poll_s if self.ownership is None else self.ownership.heartbeat_s
                await self._sleep(self.clock.now() + min(self.poll_s, beat_s))
        finally:
            if self._drain_started:
                await self._drained.wait()  # drain() finishes the runners' calls itself
            for runner in self._runners.values():
                runner.stop()
            await asyncio.gather(*self._tasks.values(), *self._draining, return_exceptions=True)
            await self._hand_over()
            if self.ownership is not None:
                await self.ownership.hand_back()

    async def drain(self, *, timeout_s: float) -> None:
        """No new calls anywhere; wait for calls in progress up to ``timeout_s``; release leases."""
        self._stopping = True
        self._drain_started = True
        self._wake.set()
        beating = asyncio.ensure_future(self._beat_until_drained())
        try:
            await asyncio.gather(*(r.drain(timeout_s=timeout_s) for r in list(self._runners.values())))
        finally:
            self._drained.set()
            await beating
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _beat_until_drained(self) -> None:
        """Keep the campaigns while their calls drain (handed back when :meth:`run` ends)."""
        while self.ownership is not None and not self._drained.is_set():
            try:
                for campaign_id in await self.ownership.beat():
                    self._lose(campaign_id)
            except Exception as err:  # database down: the campaigns expire, the drain goes on
                log.warning("heartbeat_failed", error=type(err).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), self.ownership.heartbeat_s)

    def stop(self) -> None:
        """Stop at once (leases expire; open attempts are reconciled by the next start)."""
        self._stopping = True
        for runner in self._runners.values():
            runner.stop()
        self._wake.set()

    def wake(self) -> None:
        """Re-read the campaigns now (one was started or stopped)."""
        self._wake.set()

    # ---------------------------------------------------------------- reconciliation

    async def reconcile(self) -> ReconcileReport:
        """Settle what a previous run of this engine left open (see the module docstring)."""
        report = ReconcileReport()
        now = self.clock.utcnow()
        if self.ownership is None:
            report.claimed = await self.store.adopt_handed_over(self.engine_id)
        else:  # those of campaigns owned by a live engine are claimed by it
            report.claimed = await self.ownership.store.adopt_free_handed_over(
                self.engine_id, expiry_s=self.ownership.takeover_s
            )
        await self._settle(await self.store.open_attempts(self.engine_id), now, report)
        report.defaulted = await _default_dispositions(self.store, self.engine_id, self.settings, now)
        keep = [lease.contact_id for calls in self._adopt.values() for _, lease in calls]
        keep += [a.contact_id for a in await self.store.awaiting_disposition(self.engine_id)]
        report.released_own = await self.store.release_own_leases(self.engine_id, keep)
        report.reclaimed_leases = await self.store.reclaim_expired_leases(now)
        log.info(
            "engine_reconciled",
            engine_id=self.engine_id,
            adopted=report.adopted,
            closed_lost=report.closed_lost,
            defaulted=report.defaulted,
            reclaimed_leases=report.reclaimed_leases,
            claimed=report.claimed,
            released_own=report.released_own,
        )
        return report

    async def _settle(self, open_attempts: list[Attempt], now: dt.datetime, report: ReconcileReport) -> None:
        """Adopt the open attempts whose call is still up on the PBX; close the rest as lost."""
        live: set[str] | None = set()
        if open_attempts:
            for att in open_attempts:
                self._early[str(att.id)] = []
            live = await self.pbx.adopt_attempts(
                {str(a.id): max(0.0, (now - a.started_at).total_seconds()) for a in open_attempts}
            )
        for att in open_attempts:
            if live is not None and str(att.id) in live:
                lease = LeasedContact(
                    contact_id=att.contact_id,
                    campaign_id=att.campaign_id,
                    phone_id=att.phone_id or 0,
                    e164=att.e164,
                    name="",
                    fields={},
                    agent_id=att.agent_id,
                    callback_id=None,
                    reason="adopted",
                    lease_owner=self.engine_id,
                    lease_expires_at=now,
                )
                self._adopt.setdefault(att.campaign_id, []).append((att, lease))
                report.adopted += 1
                continue
            self._early.pop(str(att.id), None)
            try:
                await self.store.close_attempt(
                    att.id,
                    AttemptResult(
                        StoreOutcome.LOST,
                        now,
                        hangup_cause_text="lost: open at engine start, no channel on the PBX"
                        if live is not None
                        else "lost: open at engine start, PBX could not be asked",
                    ),
                )
                report.closed_lost += 1
            except DialerError as err:
                log.warning("reconcile_close_failed", attempt_id=att.id, error=str(err))

    async def _hand_over(self) -> None:
        """Leave the calls still up to the next engine and free every other lease of ours.

        See the module docstring. The leases kept are the handed-over calls' and those of
        answered contacts waiting for a disposition; the hopper's go back at once rather than
        at their expiry (a stop without a drain would otherwise strand them).
        """
        left = {int(c.attempt_id): c.lease.contact_id for r in self._runners.values() for c in r.calls}
        for calls in self._adopt.values():  # adopted, but their campaign never started
            left.update({att.id: lease.contact_id for att, lease in calls})
        try:
            if left:
                channels = self.pbx.release_attempts(str(a) for a in left)
                self.handed_over = await self.store.hand_over_attempts(
                    self.engine_id,
                    {a: channels.get(str(a)) or [f"dlr-{a}"] for a in sorted(left)},
                    at=self.clock.utcnow(),
                )
                log.warning("calls_handed_over", attempts=self.handed_over, engine_id=self.engine_id)
            waiting = await self.store.awaiting_disposition(self.engine_id)
            keep = [*left.values(), *(a.contact_id for a in waiting)]
            await self.store.release_own_leases(self.engine_id, keep)
        except Exception as err:  # database down: the rows stay open under our id, reconciled at start
            log.warning("hand_over_failed", attempts=len(left), error=type(err).__name__)

    # ---------------------------------------------------------------- supervision

    async def _sleep(self, until: float) -> None:
        await self._wake.sleep_until(self.clock, until)
        self._wake.clear()

    async def _supervise(self) -> None:
        now = self.clock.utcnow()
        campaigns = await self.store.list_campaigns()
        wanted: dict[str, _Wanted] = {}
        for camp in campaigns:
            if self._only is not None and camp.name not in self._only:
                continue
            if camp.state is not CampaignState.RUNNING:
                continue
            if camp.demo and not self._dial_demo:
                if camp.name not in self.demo_refused:
                    self.demo_refused.add(camp.name)
                    log.warning(
                        "campaign_demo_refused",
                        campaign=camp.name,
                        reason="flagged demo (`dialer demo`'s generated numbers): never dialled here",
                    )
                continue
            try:
                schedule = await self.store.get_schedule(camp.schedule)
            except DialerError as err:  # one unreadable schedule must not stop the others
                log.warning("schedule_unreadable", campaign=camp.name, error=str(err))
                continue
            if schedule.is_open(now):
                wanted[camp.name] = (camp, schedule)
        if self.ownership is not None:
            wanted = await self._owned(wanted)
        for name, task in list(self._tasks.items()):
            if task.done():
                exc = task.exception() if not task.cancelled() else None
                if exc is not None:
                    log.error("runner_crashed", campaign=name, error=repr(exc))
                self._tasks.pop(name)
                self._runners.pop(name, None)
        for name, runner in list(self._runners.items()):
            if name not in wanted and not runner.draining:
                log.info("runner_draining", campaign=name, reason="stopped, paused or schedule closed")
                task = asyncio.ensure_future(runner.drain(timeout_s=self.settings.drain_timeout_s))
                self._draining.add(task)
                task.add_done_callback(self._draining.discard)
        if self._stopping:
            return
        for name, (camp, schedule) in wanted.items():
            if name in self._runners:
                continue
            self._start(camp, schedule)

    async def _owned(self, wanted: dict[str, _Wanted]) -> dict[str, _Wanted]:
        """Heartbeat, let go of campaigns taken over, take more; the wanted campaigns owned here."""
        assert self.ownership is not None
        own = self.ownership
        for campaign_id in await own.beat():
            self._lose(campaign_id)
        label = self.engine_id
        self.metrics.engine_heartbeat.labels(label).set_to_current_time()
        if not self._stopping:
            for campaign_id, previous in await own.take([camp.id for camp, _ in wanted.values()]):
                if previous is not None and previous != self.engine_id:
                    self.metrics.takeovers.labels(label).inc()
                await self._take_over(campaign_id)
        self.metrics.engine_campaigns.labels(label).set(len(own.tokens))
        self.metrics.engine_calls.labels(label).set(sum(r.in_flight for r in self._runners.values()))
        self.metrics.campaigns_unowned.labels(label).set(own.unowned)
        return {name: w for name, w in wanted.items() if w[0].id in own.tokens}

    async def _take_over(self, campaign_id: int) -> None:
        """Claim and settle the open attempts another engine left in a campaign just taken, and
        this engine's own that nothing follows (its runner stopped when it lost the campaign,
        which it took back); not those adopted at the start, waiting for their runner."""
        assert self.ownership is not None
        claimed = await self.ownership.store.claim_campaign_attempts(self.engine_id, campaign_id)
        waiting = {att.id for att, _ in self._adopt.get(campaign_id, [])}
        own = await self.store.open_attempts(self.engine_id)
        mine = [a for a in own if a.campaign_id == campaign_id and a.id not in waiting]
        if not mine and not claimed:
            return
        now = self.clock.utcnow()
        report = ReconcileReport()
        report.claimed = claimed
        await self._settle(mine, now, report)  # no runner of the campaign here yet: all are to settle
        report.defaulted = await _default_dispositions(self.store, self.engine_id, self.settings, now)
        log.warning(
            "campaign_taken_over",
            campaign_id=campaign_id,
            claimed=claimed,
            adopted=report.adopted,
            closed_lost=report.closed_lost,
            defaulted=report.defaulted,
        )

    def _lose(self, campaign_id: int) -> None:
        """Another engine took ``campaign_id``: stop its runner now, leaving its calls and agents."""
        if self.ownership is not None:
            self.ownership.drop(campaign_id)
        for name, runner in list(self._runners.items()):
            if runner.campaign.id != campaign_id:
                continue
            log.warning("campaign_ownership_lost", campaign=name, engine_id=self.engine_id)
            self.metrics.ownership_lost.labels(self.engine_id).inc()
            self.pbx.release_attempts(c.attempt_id for c in runner.calls)
            runner.stop(leave_queue=False)
            self._runners.pop(name)
            task = self._tasks.pop(name, None)
            if task is not None:
                self._draining.add(task)
                task.add_done_callback(self._draining.discard)

    def _start(self, camp: Campaign, schedule: Schedule) -> None:
        policy: PacingPolicy | None = self._policy_factory(camp) if self._policy_factory else None
        store: Any = self.store
        if self.ownership is not None:
            store = FencedStore(self.store, self.ownership, camp.id, self._lose)
        runner = CampaignRunner(
            camp,
            store=store,
            pbx=self.pbx,
            clock=self.clock,
            metrics=self.metrics,
            engine_id=self.engine_id,
            settings=self.settings,
            policy=policy,
            schedule=schedule,
            subscribe=False,
            presence=self.presence,
        )
        if not self.pbx.connected:
            runner.on_connection(False)
        early: list[Any] = []
        for att, lease in self._adopt.pop(camp.id, []):
            runner.adopt(str(att.id), lease, att.started_at.timestamp())
            early += self._early.pop(str(att.id), [])
        for update in early:
            runner.on_attempt(update)
        self._runners[camp.name] = runner
        self._tasks[camp.name] = asyncio.ensure_future(runner.run())
        log.info("runner_started", campaign=camp.name, mode=camp.mode.value)


async def _default_dispositions(
    store: ContactStore, engine_id: str, settings: RunnerSettings, now: dt.datetime
) -> int:
    """Give the default disposition to answered contacts whose agent's decision died with us.

    A call that reached a person was talked about (or not) by an agent whose wrap-up this
    engine lost: the runner would have applied the default status after the disposition
    timeout, so the restart does the same. Without it the contact keeps its status and,
    once the answered hold expires, is dialled again as if nobody had spoken to it. A
    campaign with no default disposition (and no ``default_disposition`` setting) keeps the
    hold: releasing it would mean "call again now", the one thing not to do.
    """
    waiting = await store.awaiting_disposition(engine_id)
    if not waiting:
        return 0
    defaults = {c.id: c.default_disposition for c in await store.list_campaigns()}
    done = 0
    for att in waiting:
        status = settings.default_disposition or defaults.get(att.campaign_id)
        if status is None:
            log.warning("reconcile_no_default_status", attempt_id=att.id, contact_id=att.contact_id)
            continue
        try:
            await store.set_disposition(
                att.contact_id, status, at=now, agent_id=att.agent_id, attempt_id=att.id
            )
        except DialerError as err:
            log.warning("reconcile_disposition_failed", attempt_id=att.id, error=str(err))
            continue
        log.info("reconcile_default_disposition", attempt_id=att.id, contact_id=att.contact_id)
        done += 1
    return done
