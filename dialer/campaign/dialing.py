"""The dial path: a leased contact checked once more, its attempt row written, the Originate sent.

Theory of operation. The decision hands :meth:`Dialer.launch` a contact taken from the hopper
(and, if the call needs one, the agent reserved for it); the launch runs as a task of its
own, owned by the dialler, so that the decision never waits for the store or the PBX. Until
the task ends the call counts as *launching* (the pacing snapshot sees it as ringing and
holding a line). The task, in order:

1. gives the contact back undialled if launching stopped since the decision (a pause, a
   drain, a stop);
2. gives the contact back if its calling window ended since the lease (``dial_until``), and
   re-checks every rule the lease checked that may have changed since (issue 11: contacts
   leased before 21:00 were dialled after it) in the store statement that writes the attempt
   row (``open_checked_attempt``: campaign running, schedule open, status still due, number
   enabled, do-not-call lists -- callbacks included --, the local hours in every candidate
   zone, the number's window, the caps, the UK locks unless this call has an agent
   reserved); a refused contact is given back without an attempt row, and the refusal is
   logged (``dial_refused``) and counted by rule (``dialer_dial_refusals_total``);
3. when none refuses, that statement has written the attempt row *before* the call exists,
   so that a crash never leaves a call the store does not know of; the contact moves to
   *dialled* in the hopper and the call into the :class:`~dialer.campaign.calls.CallTable`;
4. sends the Originate, with the reserved agent's interface, the ring timeout (at least
   :data:`pacing.MIN_RING_S`) and the connect limit.

Failures undo what they must: a lost lease drops the contact and frees the agent; a contact
the store no longer knows is given back; a store that looks unreachable pauses launching
(``on_store_failure``) and gives the contact back -- closing, in the writer's order, an
attempt row the failed ``open_attempt`` may have committed anyway; an Originate the PBX
refuses closes the attempt as cancelled ("not placed: ..." with the PBX's reason: counted
nothing, the contact released at once; the row, written before the call for crash safety,
stays as the record of what happened) and frees the agent. A PBX that went away or began
shutting down between the decision and the attempt row gets no row at all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import structlog
from structlog.contextvars import bound_contextvars

from dialer.agents.board import AgentBoard
from dialer.agents.state import AgentEffect, ReleaseContact
from dialer.campaign.calls import CallTable, InFlightCall
from dialer.campaign.hopper import Hopper, window_ended
from dialer.campaign.settings import RunnerSettings
from dialer.campaign.writer import OutcomeWriter
from dialer.clock import Clock, utc_at
from dialer.errors import AgentError, DialerError, LeaseLost, NotFound, PbxUnavailable
from dialer.model import AttemptResult, Campaign, DialRefusal, LeasedContact
from dialer.model import Outcome as StoreOutcome
from dialer.observability.metrics import DialerMetrics
from dialer.ports import ContactStore, OriginateRequest, PbxPort

log = structlog.get_logger(__name__)

__all__ = ["Dialer"]


class _Close(Protocol):
    """:meth:`dialer.campaign.closing.AttemptCloser.close`."""

    def __call__(self, attempt_id: int, result: AttemptResult, contact_id: int, *, keep: bool) -> None: ...


# Refusals that mean the campaign itself changed since the runner last read it.
_CAMPAIGN_CHANGED = frozenset({DialRefusal.SCHEDULE_CLOSED, DialRefusal.CAMPAIGN_NOT_RUNNING})


class Dialer:
    """Places the runner's calls, one owned task per call (see the module docstring).

    Args:
        campaign: the campaign (its name, queue and caller id go into the Originate).
        store: the dial-time recheck, attempt rows, releases.
        pbx: where the Originate goes.
        clock: the runner's clock.
        settings: ``amd`` (AMD on every call, whatever the campaign says) and
            ``queue_timeout_s`` for the Originate.
        engine_id: the lease owner and the attempt's ``engine_id``.
        ring_timeout_s: the ring timeout of every call (already at least 15 s).
        metrics: the engine's event metrics (refused Originates).
        hopper, board, calls, writer: shared with the runner.
        close: closes an attempt through the outcome path (an Originate refused).
        perform: performs the board's effects when a reservation is released.
        halted: whether launching stopped since the decision.
        on_store_failure: the store looked unreachable (launching pauses).
        on_campaign_changed: the recheck found the campaign paused or its schedule closed
            (the runner re-reads both at once rather than at its next periodic read).
    """

    def __init__(
        self,
        campaign: Campaign,
        *,
        store: ContactStore,
        pbx: PbxPort,
        clock: Clock,
        settings: RunnerSettings,
        engine_id: str,
        ring_timeout_s: float,
        metrics: DialerMetrics,
        hopper: Hopper,
        board: AgentBoard,
        calls: CallTable,
        writer: OutcomeWriter,
        close: _Close,
        perform: Callable[[Iterable[AgentEffect]], Awaitable[None]],
        halted: Callable[[], bool],
        on_store_failure: Callable[[], None],
        on_campaign_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._campaign = campaign
        self._store = store
        self._pbx = pbx
        self._clock = clock
        self._settings = settings
        self._engine_id = engine_id
        self._ring_timeout_s = ring_timeout_s
        self._metrics = metrics
        self._hopper = hopper
        self._board = board
        self._calls = calls
        self._writer = writer
        self._close = close
        self._perform = perform
        self._halted = halted
        self._on_store_failure = on_store_failure
        self._on_campaign_changed = on_campaign_changed
        self._launching = 0
        self._launching_reserved = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)

    @property
    def launching(self) -> int:
        """Launches whose task has not ended (their Originate not yet sent or refused)."""
        return self._launching

    @property
    def launching_reserved(self) -> int:
        """Those of :attr:`launching` with an agent reserved (pacing counts them apart)."""
        return self._launching_reserved

    def launch(self, lease: LeasedContact, agent: str | None) -> None:
        """Start dialling ``lease`` (held in the hopper), with ``agent`` reserved or for the queue."""
        coro = self._launch(lease, agent)
        reserved = int(agent is not None)
        self._launching += 1
        self._launching_reserved += reserved

        async def wrapped() -> None:
            try:
                await coro
            finally:
                self._launching -= 1
                self._launching_reserved -= reserved

        task = asyncio.ensure_future(wrapped())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def terminate(self) -> None:
        """Cancel every launch in progress and wait for their tasks (the runner stops)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _interface(self, agent: str | None) -> str | None:
        """The member interface of the agent a call is for (None: the queue picks one)."""
        return None if agent is None else self._board.view(agent, self._clock.now()).interface

    async def _launch(self, lease: LeasedContact, agent: str | None) -> None:
        """Compliance checks, attempt row, Originate; a refusal undoes what it must."""
        now = self._clock.now()
        if self._halted():
            await self._give_back(lease, agent, "paused before dialling")
            return
        try:
            opened: int | DialRefusal | None = None
            if window_ended(lease, utc_at(now)):
                opened = DialRefusal.WINDOW_ENDED
            elif self._pbx.reaches(self._campaign.servers, self._interface(agent)):
                # The dial-time checks and the attempt row, one statement (issue 18 item 3).
                opened = await self._store.open_checked_attempt(
                    lease, at=utc_at(now), agent_reserved=agent is not None, engine_id=self._engine_id
                )
            if isinstance(opened, DialRefusal):
                self._log.info("dial_refused", contact_id=lease.contact_id, reason=opened.value)
                self._metrics.dial_refusals.labels(self._campaign.name, opened.value).inc()
                # The lease query leaves out what refused here, so a release cannot come straight
                # back to a call of the same kind (a UK-locked contact returns only marked
                # ``agent_required``, for a call with an agent).
                await self._give_back(lease, agent, str(opened))
                if opened in _CAMPAIGN_CHANGED:
                    self._on_campaign_changed()  # paused or schedule changed: the runner re-reads
                return
            if opened is None:
                # The PBX went away or said it is shutting down since the decision (or the
                # campaign's servers, or the agent's, did): no attempt row for a call that cannot
                # be placed (issue 17 item 4).
                await self._give_back(lease, agent, "pbx unavailable")
                return
            attempt = opened
        except LeaseLost:
            self._log.warning("lease_lost_before_dial", contact_id=lease.contact_id)
            self._hopper.unhold(lease.contact_id)
            if agent is not None:
                await self._perform(
                    self._board.release_reservation(agent, self._clock.now(), reason="lease lost")
                )
            return
        except NotFound as err:
            self._log.warning("dial_failed", error=str(err))
            await self._give_back(lease, agent, "not found")
            return
        except Exception as err:
            self._log.warning("dial_store_failed", error=type(err).__name__, contact_id=lease.contact_id)
            self._on_store_failure()
            await self._give_back(lease, agent, "store unreachable", opened_at=utc_at(now))
            return
        attempt_id = str(attempt)
        self._hopper.mark_dialled(lease.contact_id)
        self._calls.add(InFlightCall(attempt_id, lease, agent, now))
        if agent is not None:
            try:
                self._board.attach_attempt(agent, attempt_id)
            except AgentError as err:
                self._log.warning("attach_failed", attempt_id=attempt_id, error=str(err))
        interface = self._interface(agent)
        request = OriginateRequest(
            attempt_id=attempt_id,
            number=lease.e164,
            campaign=self._campaign.name,
            queue=self._campaign.queue,
            caller_id=self._campaign.caller_id,
            ring_timeout_s=self._ring_timeout_s,
            amd=self._settings.amd or self._campaign.amd,
            amd_action=self._campaign.amd_action.value,
            amd_message=self._campaign.amd_message,
            agent_interface=interface,
            queue_timeout_s=self._settings.queue_timeout_s,
            servers=self._campaign.servers,
        )
        with bound_contextvars(attempt_id=attempt_id):
            try:
                await self._pbx.originate(request)
            except PbxUnavailable as err:
                self._calls.pop(attempt_id)
                self._log.warning("originate_refused", attempt_id=attempt_id, error=str(err))
                self._metrics.originate_errors.labels(self._campaign.name, "pbx").inc()
                self._close(
                    attempt,
                    AttemptResult(
                        StoreOutcome.CANCELLED,
                        utc_at(self._clock.now()),
                        hangup_cause_text=f"not placed: {err}"[:200],
                    ),
                    lease.contact_id,
                    keep=False,
                )
                if agent is not None:
                    await self._perform(
                        self._board.release_reservation(agent, self._clock.now(), reason="originate refused")
                    )
                return
            # the one line per launch at info (the AMI client's own is debug)
            self._log.info("originate_sent", attempt_id=attempt_id, reserved=agent is not None)

    async def _give_back(
        self,
        lease: LeasedContact,
        agent: str | None,
        reason: str,
        *,
        opened_at: dt.datetime | None = None,
    ) -> None:
        """Return an undialled contact; ``opened_at``: an ``open_attempt`` at that time failed.

        A failed ``open_attempt`` may have committed just as the connection died: the row
        exists though nothing was dialled. The release is then preceded, in the writer's
        order (so once the database is back, without waiting for a restart), by closing
        such a row as cancelled, which counts nothing and releases the lease itself.
        """
        self._log.info("contact_given_back", contact_id=lease.contact_id, reason=reason)
        self._hopper.unhold(lease.contact_id)
        if agent is not None:
            effects = self._board.release_reservation(agent, self._clock.now(), reason=reason)
            effects = [e for e in effects if not isinstance(e, ReleaseContact)]
            await self._perform(effects)
        ids = [lease.contact_id]
        if opened_at is None:
            self._writer.submit(
                f"release ({reason})", lambda: self._store.release_leases(self._engine_id, ids), contacts=ids
            )
            return

        async def settle_doubtful_open() -> int:
            cancelled = 0
            for att in await self._store.open_attempts(self._engine_id):
                if att.contact_id != lease.contact_id or att.started_at != opened_at:
                    continue
                if str(att.id) in self._calls:
                    continue
                try:
                    await self._store.close_attempt(
                        att.id,
                        AttemptResult(
                            StoreOutcome.CANCELLED,
                            utc_at(self._clock.now()),
                            hangup_cause_text="cancelled: not placed, the database failed as it was opened",
                        ),
                    )
                except DialerError as err:  # closed meanwhile: nothing left to settle
                    self._log.info("doubtful_attempt_closed_already", attempt_id=att.id, error=str(err))
                    continue
                self._log.info("doubtful_attempt_cancelled", attempt_id=att.id, contact_id=lease.contact_id)
                cancelled += 1
            return cancelled + await self._store.release_leases(self._engine_id, ids)

        self._writer.submit(f"release ({reason}, open_attempt in doubt)", settle_doubtful_open, contacts=ids)
