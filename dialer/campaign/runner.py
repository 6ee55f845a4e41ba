"""The campaign runner: one asyncio task per running campaign, deciding and placing calls.

Theory of operation. A :class:`CampaignRunner` keeps the loop and the decision for one
campaign; the rest is done by collaborators it builds and wires, each in its own module and
each given only what it needs:

* :class:`~dialer.campaign.dialing.Dialer` -- the dial path: dial-time compliance, the
  attempt row, the Originate, the give-back of a contact that cannot be dialled;
* :class:`~dialer.campaign.closing.AttemptCloser` -- the outcome path: an ended call counted,
  fed to the pacing statistics and closed with the mapped outcome
  (:mod:`dialer.campaign.outcomes`), which applies the automatic status;
* :class:`~dialer.campaign.writer.OutcomeWriter` -- every store write that must not be lost,
  in order per contact, kept and retried while the database is unreachable;
* :class:`~dialer.campaign.agent_effects.AgentEffects` and
  :class:`~dialer.campaign.dispositions.DispositionWriter` -- the pure
  :class:`~dialer.agents.board.AgentBoard`'s effects performed on the PBX, the store and the
  dial path; an answered contact is kept until the agent's disposition (or the default);
* :class:`~dialer.campaign.housekeeping.Housekeeping` -- the
  :class:`~dialer.campaign.hopper.Hopper` topped up and its leases renewed, calls adopted after
  a restart, queue members restored after a reconnect;
* :class:`~dialer.campaign.desk.AgentDesk` (``runner.agents``) -- the agent interface.

They share the hopper, the board, the :class:`~dialer.campaign.calls.CallTable` of calls in
flight and the writer; the runner's own state (paused, draining, stopping) reaches them as
callables, so that none of them holds the runner. :func:`~dialer.campaign.assembly.assemble`
builds and wires them.

The loop. PBX updates (the runner is a ``PbxListener``) are queued and handled in arrival
order at the top of each turn; then the board's timers, the schedule check and
housekeeping run, then the *decision*; then the runner sleeps until the next tick, the
board's next deadline, or a wake-up (an update, a freed agent, an agent's request).

The decision (timed into ``dialer_decision_latency_seconds``). Contacts that need an agent
(callbacks -- personal ones to their agent, after a grace to anyone -- "my record", "call
progressive" and contacts a UK repeat-call lock holds, leased as ``agent_required``) go
first to free agents, never before a live answer already waiting in the queue; then the
pacing policy (``pacing.policy_for``) decides on a snapshot of the agents and the calls,
read from counts and ordered lists the board (:mod:`dialer.agents.index`), the call table
and the hopper keep current as events arrive: no pass over every agent or call in flight.
Predictive: calls without an agent go to the campaign's queue, the policy's
``reserved`` share with a ready agent reserved. Progressive: every call reserves an agent.
Preview / push-preview: records are offered to agents and dialled only when accepted. The
abandon cap is the policy's (its progressive fallback).

Mode changes. Every call teaches the campaign's learning policy (the predictive one where the
profile allows it), whatever the mode; the policy that decides follows the campaign's mode,
which a supervisor may change while it runs (:meth:`CampaignRunner._change_mode`, read with
the campaign's state): a switch to predictive starts with what the calls taught so far.

Pauses. Launching stops while the PBX port is disconnected, while the store is unreachable,
while the schedule is closed, while the campaign's queue does not exist on the PBX
(:mod:`dialer.campaign.queue_gate`), and once :meth:`CampaignRunner.drain` began. Calls in progress
always run to their end.

Length: over our usual 600 lines for the reason the class gives (loop and decision share one
pause state), and because this docstring is the runner's theory of operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import replace
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from ami.agent_events import AgentCallEvent, AgentStateChange
from ami.outcome import AgentConnected, AmdDetected, Answered, Ended
from ami.outcome import Outcome as AmiOutcome
from dialer.agents.callback_routing import DueCallback, route_callbacks
from dialer.agents.state import AgentEffect, AgentState, ApplyDefaultDisposition, PlaceCall, ReservationKind
from dialer.campaign.alarm import Alarm
from dialer.campaign.assembly import assemble
from dialer.campaign.occupancy import Occupancy
from dialer.campaign.presence import AgentPresence
from dialer.campaign.queue_gate import QueueGate
from dialer.campaign.rules import campaign_policy, learning_policy
from dialer.campaign.settings import RunnerSettings, RunnerStats
from dialer.clock import Clock, utc_at
from dialer.errors import DialerError
from dialer.model import Campaign, CampaignState, DialingMode, LeasedContact
from dialer.observability.metrics import CampaignGauges, DialerMetrics
from dialer.ports import ContactStore, PbxPort
from dialer.schedules.schedule import Schedule
from pacing import (
    MIN_RING_S,
    CampaignSnapshot,
    DialDecision,
    PacingPolicy,
    PredictivePolicy,
)

log = structlog.get_logger(__name__)

__all__ = ["CampaignRunner"]

_PREVIEW_MODES = frozenset({DialingMode.PREVIEW, DialingMode.PUSH_PREVIEW})
OCCUPANCY_WRITE_S = 15.0  # how often agent time is written (the wallboard's day chart)


class CampaignRunner:
    """Dial one campaign (see the module docstring).

    Length: longer than our usual class (400 lines), because the event loop and the decision
    stay together: both turn on the same pause state (PBX, store, schedule, draining,
    stopping) and the same queue of PBX updates; what could stand alone is in the
    collaborators.

    Args:
        campaign: the campaign as the store has it (mode, queue, caller id, limits).
        store: leases, attempts, dispositions (:class:`dialer.store.store.Store` or a fake).
        pbx: where calls go (:class:`dialer.pbx.ami_pbx.AmiPbx` or a simulated port).
        clock: real or virtual time; the runner never reads time any other way.
        metrics: the engine's event metrics.
        engine_id: this engine's lease owner and attempt ``engine_id``.
        settings: :class:`RunnerSettings`.
        policy: the pacing policy; default ``policy_for(mode, profile)``.
        schedule: the campaign's schedule (None: read from the store at start).
        subscribe: subscribe to ``pbx`` (an engine with many runners routes updates itself).
        presence: the engine's record of where its agents are busy, shared by its runners
            (:mod:`dialer.campaign.presence`); None: this campaign's board alone.
    """

    def __init__(
        self,
        campaign: Campaign,
        *,
        store: ContactStore,
        pbx: PbxPort,
        clock: Clock,
        metrics: DialerMetrics,
        engine_id: str,
        settings: RunnerSettings | None = None,
        policy: PacingPolicy | None = None,
        schedule: Schedule | None = None,
        subscribe: bool = True,
        presence: AgentPresence | None = None,
    ) -> None:
        self.campaign = campaign
        self.store = store
        self.pbx = pbx
        self.clock = clock
        self.metrics = metrics
        self.engine_id = engine_id
        self.settings = settings = settings or RunnerSettings()
        self.schedule = schedule
        # Every call teaches ``_learner`` (the predictive policy where the profile allows it, in
        # every mode); ``policy`` decides, and follows a mode change (:meth:`_change_mode`).
        self._fixed_policy = policy is not None
        self._learner: PacingPolicy = policy or learning_policy(campaign)
        self.policy: PacingPolicy = self._policy_for(campaign)
        self.ring_timeout_s = max(float(campaign.ring_timeout_s), MIN_RING_S)
        self._converted: set[int] = set()  # personal callbacks handed to the campaign (written)
        self._events: deque[tuple[str, Any]] = deque()
        self._agent_waits: dict[str, int] = {}  # adopted attempt -> its reserved agent (store id)
        self._wake = Alarm()
        parts = assemble(
            campaign,
            store=store,
            pbx=pbx,
            clock=clock,
            metrics=metrics,
            engine_id=engine_id,
            settings=settings,
            policy=self._learner,
            ring_timeout_s=self.ring_timeout_s,
            on_store_state=self._on_store_state,
            paused=self._paused,
            winding_down=lambda: self._draining or self._stopping,
            halted=lambda: self._paused() or self._stopping,
            wake=self.wake,
            on_campaign_changed=self._campaign_changed,
            presence=presence,
        )
        self.board, self.hopper, self.calls = parts.board, parts.hopper, parts.calls
        self.directory, self._writer, self.closer = parts.directory, parts.writer, parts.closer
        self.housekeeping, self.effects, self.dialer = parts.housekeeping, parts.effects, parts.dialer
        self.agents = parts.desk
        self.memory = parts.memory  # the campaign's abandon windows and pacing, from the store
        self.dispositions = parts.dispositions
        self.queue_gate = QueueGate(campaign, pbx, metrics, recheck_s=settings.queue_recheck_s)
        self._pbx_up = bool(pbx.connected)
        self._draining = False
        self._stopping = False
        self._leave_queue = True
        self._last_decision = DialDecision(launch=0)
        # A decision is due on the tick, or once something asked for one (``wake``).
        self._decision_asked = True
        self._decision_due = clock.now()
        self._lines_full = False  # the last decision wanted every free line
        self._schedule_open = True
        self._ends_at: float | None = None  # end_at()
        self._schedule_read: Schedule | None = None  # the schedule _schedule_open was read from
        self._schedule_holds_until = -math.inf  # until when that answer holds
        self._campaign_running = True
        self._reread_at = clock.now() + settings.reread_s  # when the campaign and schedule are read again
        self.occupancy = Occupancy()  # agent time per minute, for the wallboard's day chart
        self._occupancy_at = clock.now() + 5.0  # soon: a wallboard opened now shows the start
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)
        if subscribe:
            pbx.subscribe(self)

    # -------------------------------------------------------------- PbxListener

    def on_attempt(self, update: Any) -> None:
        """Queue an attempt update (``ami.outcome``) of a call of ours; others are ignored."""
        attempt_id = update.outcome.attempt_id if isinstance(update, Ended) else update.attempt_id
        if attempt_id in self.calls:
            self._events.append(("attempt", update))
            self._wake.set()

    def on_agent(self, update: Any) -> None:
        """Queue an agent update (``ami.agent_events``) of this campaign's queue."""
        if isinstance(update, AgentStateChange | AgentCallEvent) and update.queue != self.campaign.queue:
            return
        self._events.append(("agent", update))
        self._wake.set()

    def on_connection(self, up: bool) -> None:
        """Queue a change of the PBX connection (launching pauses while it is down)."""
        self._events.append(("connection", up))
        self._wake.set()

    def owns(self, attempt_id: str) -> bool:
        """Whether ``attempt_id`` is one of this runner's calls in flight."""
        return attempt_id in self.calls

    # -------------------------------------------------------------- public API

    def wake(self) -> None:
        """Decide now rather than at the next tick (an agent freed up, a request came).

        A decision comes on the tick, on a wake and on a call answered (:meth:`_on_attempt`).
        The PBX's other updates (a call ended, an answer put through to an agent, a member's
        status, a queue's call events) are taken in by a pass of the loop without one: a call
        that ends frees an agent only through the board (whose ``StateChanged`` to ready wakes
        us) and otherwise frees a line, which matters only when the last decision wanted every
        free line (``_lines_full``). Deciding on every pass, the runner decided 2.5 times as
        often as the pure simulator (which decides on its tick and when an agent frees up);
        with this and the loop's :class:`~dialer.campaign.alarm.Alarm` the engine's CPU for
        an hour of ``benchmarks.engine_pacing`` S3 halved, its talk share 86.60% → 86.95%
        (docs/performance.md, "engine_pacing S3"). Answers keep theirs: the predictive pacer
        gains from them (each re-reads the calls ringing, and its steady launch rate is a token
        bucket); without a decision on each answer S3 lost 2.9 points of talk share.
        """
        self._decision_asked = True
        self._wake.set()

    def end_at(self, t: float | None) -> None:
        """Announce when the campaign stops dialling (a run's or a shift's end; None: none).

        The caller still stops it (a drain). Until then the pacer counts no answer after
        ``t`` to dilute the abandons of calls it launches now (``CampaignSnapshot.dials_for_s``),
        so the last minutes are paced to end under the cap: ``dialer demo`` ended its runs at
        3.2-3.9% on seed 1 without it, the abandons of the last launches landing after the end.
        """
        self._ends_at = t

    def settings_changed(self) -> None:
        """The campaign was edited: read it again at the next turn (a new mode applies then)."""
        self._campaign_changed()

    def adopt(self, attempt_id: str, lease: LeasedContact, started_at: float) -> None:
        """Re-track an attempt placed before this run that the PBX follows again (``adopt_attempts``).

        Its updates arrive like those of a call placed here (``Answered``, ``AgentConnected``
        as its channels showed, ``Ended`` with its real outcome), so it is an ordinary call
        in flight; its lease is renewed with the others.
        """
        self.housekeeping.adopt(attempt_id, lease, started_at)
        if lease.agent_id is not None:
            self._agent_waits[attempt_id] = lease.agent_id  # tied once that agent is logged in

    def _tie_adopted_agents(self, now: float) -> list[AgentEffect]:
        """An adopted call's reserved agent, once logged in here, is busy with it, not free.

        The dead engine had reserved the agent; the new board would otherwise offer it the
        next call while it rings for (or talks on) the adopted one.
        """
        effects: list[AgentEffect] = []
        for attempt_id, store_id in list(self._agent_waits.items()):
            call = self.calls.get(attempt_id)
            name = self.directory.name_of(store_id)
            if call is None or (name is not None and self.board.state_of(name) is not AgentState.READY):
                self._agent_waits.pop(attempt_id, None)
                continue
            if name is None:
                continue
            self._agent_waits.pop(attempt_id)
            call.agent = name
            if call.connected_at is not None:
                effects += self.board.feed(AgentConnected(attempt_id, name, now, None), now)
            else:  # held for the call already placed: no new PlaceCall
                held = self.board.reserve(name, call.lease.contact_id, now)
                effects += [e for e in held if not isinstance(e, PlaceCall)]
                self.board.attach_attempt(name, attempt_id)
        return effects

    async def run(self) -> None:
        """Dial until :meth:`stop` or the end of :meth:`drain`; owns every task it starts."""
        with bound_contextvars(campaign_id=self.campaign.id), self.effects.presence_joined():
            if self.schedule is None:
                try:
                    self.schedule = await self.store.get_schedule(self.campaign.schedule)
                except DialerError as err:
                    self._log.error("schedule_unreadable", error=str(err))
            self._log.info("runner_started", mode=self.campaign.mode.value, engine_id=self.engine_id)
            await self.memory.restore(self._now())
            writer = asyncio.create_task(self._writer.run(), name=f"writer:{self.campaign.name}")
            try:
                await self._loop()
            finally:
                self.effects.leave_presence()  # its agents are free for the engine's other campaigns
                self._count_occupancy()
                with contextlib.suppress(TimeoutError):  # a database gone: the chart loses it
                    await asyncio.wait_for(self._write_occupancy(), timeout=2.0)
                await self._writer.end_linger(timeout_s=1.0)  # a close held back for its batch
                writer.cancel()
                self.housekeeping.stop_checks()
                await self.effects.settle(timeout_s=5.0)  # queue actions answered (or timed out)
                if self._leave_queue:
                    await self.housekeeping.leave_queue(self._now(), pbx_up=self._pbx_up)
                await self.dialer.terminate()
                await asyncio.gather(writer, return_exceptions=True)
                self._log.info(
                    "runner_stopped", in_flight=len(self.calls), pending_writes=self._writer.pending
                )

    def stop(self, *, leave_queue: bool = True) -> None:
        """Stop now: launch nothing more, leave leases to expire (a crash-like stop).

        As after a drain, the runner's agents then leave the campaign's queue (:meth:`run` ends
        with ``Housekeeping.remove_members``), unless ``leave_queue`` is False: another engine
        took the campaign over and its agents are that engine's now (issue 15).
        """
        self._leave_queue = leave_queue
        self._stopping = True
        self._wake.set()

    async def drain(self, *, timeout_s: float | None = None) -> None:
        """No new calls; wait for calls in progress (up to ``timeout_s``); release leases.

        Answered contacts still waiting for a disposition keep their lease (the store holds
        it for the agent); everything waiting in the hopper is released at once.
        """
        timeout_s = self.settings.drain_timeout_s if timeout_s is None else timeout_s
        self._draining = True
        self._wake.set()
        self.housekeeping.release(self.hopper.release_waiting(), "draining")
        deadline = self.clock.now() + timeout_s
        while (self.calls or self.dialer.launching) and self.clock.now() < deadline:
            await self.clock.sleep(min(0.05, max(0.0, deadline - self.clock.now())))
        # a refill that was in flight when the drain began may have added leases since
        self.housekeeping.release(self.hopper.release_waiting(), "draining")
        left = max(0.0, deadline - self.clock.now())
        await self._writer.flush(timeout_s=max(left, 1.0))
        self._log.info("runner_drained", in_flight=len(self.calls), pending_writes=self._writer.pending)
        self.stop()

    def gauges(self) -> CampaignGauges:
        """Scrape-time values of this campaign (``dialer.observability.metrics``)."""
        now = self._now()
        stats = getattr(self._learner, "stats", None)  # only the predictive policy learns
        answer_rate = talk_mean = None
        if stats is not None:
            answer_rate = float(stats.p_live)
            talk_mean = float(stats.talk_time.mean_s)
        return CampaignGauges(
            campaign=self.campaign.name,
            hopper_depth=self.hopper.depth,
            lines_in_use=len(self.calls),
            dial_level=self._last_decision.dial_level,
            predictive_fallback=self._last_decision.fallback,
            agents_by_state=self.board.agents_by_state(),
            abandon_rate_by_window=self.closer.tally.abandon_rates(now),
            learned_answer_rate=answer_rate,
            learned_talk_mean_s=talk_mean,
            schedule_open=self._schedule_open,
        )

    def stats(self) -> RunnerStats:
        """Counters for the demo's live view and summary."""
        now = self._now()
        tally = self.closer.tally
        return RunnerStats(
            campaign=self.campaign.name,
            attempts=tally.attempts,
            by_outcome=dict(tally.by_outcome),
            live_answers=tally.live,
            connects=tally.connects,
            abandons=tally.abandons,
            abandon_rate=tally.trackers["24h"].rate(now),
            in_flight=len(self.calls),
            hopper_depth=self.hopper.depth,
            agents_by_state=self.board.agents_by_state(),
            dial_level=self._last_decision.dial_level,
            fallback=self._last_decision.fallback,
            pending_writes=self._writer.pending,
            paused_reasons=self.paused_reasons(),
        )

    def paused_reasons(self) -> tuple[str, ...]:
        """Why no call is launched now (empty: dialling)."""
        reasons = []
        if not self._pbx_up:
            reasons.append("pbx_down")
        if (
            self._writer.down
            or self.housekeeping.store_failures
            or self._writer.pending > self.settings.max_pending_writes
        ):
            reasons.append("store_down")
        if not self._schedule_open:
            reasons.append("schedule_closed")
        if self.queue_gate.missing:
            reasons.append("queue_missing")
        if not self._campaign_running:
            reasons.append("campaign_not_running")
        if self._draining:
            reasons.append("draining")
        return tuple(reasons)

    @property
    def draining(self) -> bool:
        """Whether :meth:`drain` began."""
        return self._draining

    @property
    def in_flight(self) -> int:
        """Calls from their attempt row until the PBX reports their end."""
        return len(self.calls)

    # -------------------------------------------------------------- the loop

    def _now(self) -> float:
        return self.clock.now()

    async def _loop(self) -> None:
        while not self._stopping:
            await self._process_events()
            if self._stopping:
                break
            now = self._now()
            if self._agent_waits:
                await self.effects.perform(self._tie_adopted_agents(now))
            await self.effects.perform(self.board.tick(now))
            await self._housekeeping(now)
            if self._decision_asked or now >= self._decision_due:
                self._decision_asked = False
                self._decision_due = now + self.settings.tick_s
                await self._decide()
            self._count_occupancy()
            deadline = self.board.next_deadline_at()
            wake_at = min(self._decision_due, deadline) if deadline is not None else self._decision_due
            await self._sleep(wake_at)

    async def _sleep(self, until: float) -> None:
        if not self._events:  # an update already waiting: no sleep (a set alarm returns at once)
            await self._wake.sleep_until(self.clock, until)
        self._wake.clear()

    async def _process_events(self) -> None:
        while self._events:
            kind, update = self._events.popleft()
            now = self._now()
            if kind == "connection":
                if update != self._pbx_up:
                    self._pbx_up = bool(update)
                    # the engine's "pbx_connection" line is the one at info/warning
                    self._log.debug("pbx_connection", up=self._pbx_up, in_flight=len(self.calls))
                    if self._pbx_up:
                        self.queue_gate.reconnected()
                        self.housekeeping.restore_members(now)
                continue
            if kind == "agent":
                await self.effects.perform(self.board.feed(update, now))
                continue
            await self._on_attempt(update, now)

    async def _on_attempt(self, update: Any, now: float) -> None:
        if isinstance(update, Ended):
            await self._on_ended(update, now)
            return
        call = self.calls.get(update.attempt_id)
        if call is None:
            return
        if isinstance(update, Answered):
            call.answered_at = now
            self._decision_asked = True  # one call ringing fewer: see wake()
        elif isinstance(update, AgentConnected):
            call.connected_at = now
            await self.effects.perform(self.board.feed(update, now))
        elif isinstance(update, AmdDetected):
            pass  # the verdict arrives in Ended

    async def _on_ended(self, update: Ended, now: float) -> None:
        with bound_contextvars(attempt_id=update.outcome.attempt_id):
            call = self.closer.ended(update, now)
            if call is None:
                return
            out = update.outcome
            # a wrap-up that ended before this Ended: its disposition goes behind the close
            self.dispositions.call_ended(out.attempt_id, call.lease.contact_id)
            # Asked before the board takes the Ended and before its effects run (they await:
            # an agent may set the disposition meanwhile, and that call is not one nobody took).
            finished = self.board.finished_before_end(out.attempt_id)
            effects = self.board.feed(update, now)
            orphan = (
                out.outcome is AmiOutcome.CONNECTED
                and not finished
                and self.board.agent_for_attempt(out.attempt_id) is None
            )
            await self.effects.perform(effects)
            if orphan:
                # A call that reached an agent no one on the board holds it for (the agent
                # logged out, a member we never added): nobody will set its disposition, so
                # its contact gets the default at once instead of staying leased for an hour.
                agent = (self.board.agent_for_interface(out.agent) if out.agent else None) or ""
                self._log.warning("answered_without_agent", agent=out.agent)
                await self.effects.perform([ApplyDefaultDisposition(agent, out.attempt_id, None, "no_agent")])
            if self._lines_full:
                self.wake()  # else an end frees nothing the last decision lacked: see wake()

    def _campaign_changed(self) -> None:
        self._reread_at = self.clock.now()
        self.wake()

    async def _reread(self, now: float) -> None:
        """Read the campaign's state and schedule again (issue 19 item 4: a schedule changed in
        the store took effect only when the engine's poll drained the runner, 5 s later; a
        dial-time refusal now triggers the read at once, and it also runs every ``reread_s``)."""
        self._reread_at = now + self.settings.reread_s
        try:
            camp = await self.store.get_campaign(self.campaign.name)
            self.schedule = await self.store.get_schedule(camp.schedule)
        except Exception as err:  # the database may be down: the writer's probe tells
            self._log.warning("campaign_reread_failed", error=type(err).__name__)
            return
        self._campaign_running = camp.state is CampaignState.RUNNING
        if camp.mode is not self.campaign.mode:
            self._change_mode(camp.mode)

    def _policy_for(self, campaign: Campaign) -> PacingPolicy:
        if self._fixed_policy or (
            campaign.mode is DialingMode.PREDICTIVE and isinstance(self._learner, PredictivePolicy)
        ):
            return self._learner
        return campaign_policy(campaign)

    def _change_mode(self, mode: DialingMode) -> None:
        """A supervisor switched the running campaign's mode: the next decision dials by it.

        Calls in flight go on as they were placed (a reserved agent keeps its call, a predictive
        call without one still goes to the queue); offered records stay offered until accepted
        or skipped. The learned statistics carry over (``_learner``). Only the mode changes
        live; other settings wait for the next start (docs/api.md, ``PATCH /campaigns``).
        """
        was = self.campaign.mode
        self.campaign = replace(self.campaign, mode=mode)
        self.policy = self._policy_for(self.campaign)
        self.housekeeping.mode_changed(self.campaign)
        self._log.info("mode_changed", mode=mode.value, was=was.value)
        self.wake()

    async def _housekeeping(self, now: float) -> None:
        if now >= self._reread_at and not self._writer.down:
            await self._reread(now)
        self._schedule_open = self._schedule_open_at(now)
        if not self._schedule_open and self.hopper.depth:
            self.housekeeping.release(self.hopper.release_waiting(), "schedule closed")
        await self.housekeeping.tend(now)
        await self.memory.tend(now)
        if now >= self._occupancy_at and not self._writer.down:
            self._occupancy_at = now + OCCUPANCY_WRITE_S
            await self._write_occupancy()
        if self._pbx_up:
            was_missing = self.queue_gate.missing
            await self.queue_gate.tend(now)
            if was_missing and not self.queue_gate.missing:  # their QueueAdds were refused
                self.housekeeping.restore_members(now)

    def _schedule_open_at(self, now: float) -> bool:
        """Whether the schedule is open at ``now``, read again only when it changes.

        Asked on every pass of the loop; the answer holds until the schedule's next close (or
        open), or until a reread brings a new schedule. ``Schedule.next_open`` and
        ``next_close`` are property-tested to bound the stretch ``is_open`` agrees with
        (tests/dialer/schedules/test_schedule.py).
        """
        schedule = self.schedule
        if schedule is None:
            return True
        if schedule is self._schedule_read and now < self._schedule_holds_until:
            return self._schedule_open
        at = utc_at(now)
        is_open = schedule.is_open(at)
        edge = schedule.next_close(at) if is_open else schedule.next_open(at)
        self._schedule_read = schedule
        self._schedule_holds_until = edge.timestamp() if edge is not None else math.inf
        return is_open

    def _count_occupancy(self) -> None:
        self.occupancy.advance(self._now(), logged_in=self.board.logged_in(), talking=self.board.talking())

    async def _write_occupancy(self) -> None:
        """Write the agent time counted since the last write (:mod:`dialer.campaign.occupancy`).

        Not one of the writes that must not be lost (a chart's input, not a record): one that
        fails is kept for the next try, and what is still unwritten when the runner ends is lost.
        """
        minutes = self.occupancy.take()
        if not minutes:
            return
        rows = [(utc_at(m.start), m.logged_in_s, m.talking_s) for m in minutes]
        try:
            await self.store.record_occupancy(self.campaign.id, rows)
        except Exception as err:  # the database may be down: the writer's probe tells
            self.occupancy.give_back(minutes)
            self._log.warning("occupancy_write_failed", error=type(err).__name__, minutes=len(minutes))

    # -------------------------------------------------------------- deciding

    def _on_store_state(self, up: bool) -> None:
        self._log.warning("store_state", up=up)
        self._wake.set()

    def _paused(self) -> bool:
        return bool(self.paused_reasons())

    async def _decide(self) -> None:
        if self._paused() or self._stopping:
            return
        started = time.perf_counter()  # decision latency is CPU work, measured, never slept on
        now = self._now()
        preview = self.campaign.mode in _PREVIEW_MODES
        effects: list[AgentEffect] = []
        # 1. contacts that need an agent: callbacks (personal to their agent, with grace), then
        #    "call progressive" and UK-locked contacts (``agent_required``), each to a free agent.
        due: list[DueCallback] = []
        progressive: list[int] = []
        for entry in self.hopper.agent_entries():
            lease = entry.lease
            if lease.reason != "callback":  # only due callbacks and "my record" carry an agent
                progressive.append(lease.contact_id)
            else:
                owner = self.directory.name_of(lease.agent_id) if lease.agent_id is not None else None
                if lease.agent_id is not None and owner is None:
                    owner = f"#{lease.agent_id}"  # an agent not logged in here: away
                due.append(DueCallback(lease.contact_id, entry.leased_at, owner))
        plan = route_callbacks(due, self.board, now, grace_s=self.settings.callback_grace_s)
        for conv in plan.conversions:
            self._persist_conversion(conv.contact, conv.reason)
        free = list(plan.free_for_fresh)
        # Live answers already waiting in the queue have the first claim on a free agent:
        # reserving that agent for a callback would abandon the person on the line.
        spare = self.board.free_count() - self.calls.customers_waiting()
        for a in plan.assignments:
            if spare <= 0:
                free.append(a.agent_id)
                continue
            if self.hopper.take(a.contact) is None:  # type: ignore[arg-type]
                free.append(a.agent_id)
                continue
            spare -= 1
            effects += self._hand(a.agent_id, a.contact, now, a.kind, preview)  # type: ignore[arg-type]
        for cid in progressive:
            if not free or spare <= 0:
                break
            spare -= 1
            agent = free.pop(0)
            if self.hopper.take(cid) is not None:
                effects += self._hand(agent, cid, now, ReservationKind.CALL_PROGRESSIVE, preview)
        # 2. the policy, on what is left.
        # The queue hands the longest-idle free agents to the callers already waiting: the
        # policy sees (and the reservations below use) only the agents left after them.
        waiting = self.calls.customers_waiting()
        queue_claims = min(len(free), waiting)
        free = free[queue_claims:]
        snapshot = self._snapshot(now, len(free))
        decision = self.policy.decide(snapshot)
        self._last_decision = decision
        self._lines_full = decision.launch >= snapshot.lines_free  # a call's end frees a line we want
        if preview:
            asking = [a for a in self.board.awaiting_record() if a in free]
            takers = asking if self.campaign.mode is DialingMode.PREVIEW else free
            for agent in takers[: decision.records_to_offer]:
                fresh = self.hopper.take_fresh()
                if fresh is None:
                    break
                effects += self.board.offer(agent, fresh.contact_id, now)
        else:
            budget = min(decision.launch, self.settings.max_launch_per_tick)
            reserved = min(decision.reserved, budget)
            if self.campaign.mode is DialingMode.PROGRESSIVE:
                reserved = budget
            for _ in range(reserved):
                if not free:
                    break
                fresh = self.hopper.take_fresh()
                if fresh is None:
                    break
                effects += self.board.reserve(free.pop(0), fresh.contact_id, now, ReservationKind.PROGRESSIVE)
            for _ in range(budget - reserved if self.campaign.mode is DialingMode.PREDICTIVE else 0):
                fresh = self.hopper.take_fresh()
                if fresh is None:
                    break
                self.dialer.launch(fresh, None)
        # The decision ends here; the queue actions that follow wait on the PBX's answers.
        self.metrics.decision_latency.labels(self.campaign.name).observe(time.perf_counter() - started)
        await self.effects.perform(effects)

    def _persist_conversion(self, contact: object, reason: str) -> None:
        """Write a personal callback's hand-over to the campaign once (routing repeats it each pass).

        Only in memory, a restart would lease the contact as the absent agent's again and
        make it wait out another grace.
        """
        if not isinstance(contact, int) or contact in self._converted:
            return
        self._converted.add(contact)
        self._log.info("personal_callback_to_campaign", contact_id=contact, reason=reason)
        self._writer.submit(
            f"convert callback {contact}",
            lambda: self.store.convert_to_campaign_callback(contact),
            contacts=[contact],
        )

    def _hand(
        self, agent: str, contact_id: int, now: float, kind: ReservationKind, preview: bool
    ) -> list[AgentEffect]:
        if preview:
            return self.board.offer(agent, contact_id, now)
        return self.board.reserve(agent, contact_id, now, kind)

    def _snapshot(self, now: float, ready: int) -> CampaignSnapshot:
        """The policy's input, read from counts and lists the board and the call table keep current."""
        load = self.board.load(now)
        ringing = self.calls.ringing_ages_s(now)
        # Launches in progress count as just placed: for the queue (ringing) or reserved.
        reserved_launching = self.dialer.launching_reserved
        if self.dialer.launching > reserved_launching:
            ringing += [0.0] * (self.dialer.launching - reserved_launching)
        return CampaignSnapshot(
            now_s=now,
            ready_agents=ready,
            talking_elapsed_s=load.talking_elapsed_s,
            wrapping_elapsed_s=load.wrapping_elapsed_s,
            reserved_agents=load.reserved,
            paused_agents=load.paused,
            ringing_ages_s=tuple(ringing),
            reserved_ringing=self.calls.reserved_ringing() + reserved_launching,
            customers_waiting=self.calls.customers_waiting(),
            lines_free=max(0, self.pbx.lines_free(self.campaign.servers) - self.dialer.launching),
            progressive_contacts=self.hopper.count_reason("call_progressive"),
            record_requests=load.record_requests,
            records_accepted=0,
            dials_for_s=None if self._ends_at is None else max(0.0, self._ends_at - now),
        )
