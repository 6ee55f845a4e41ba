"""A runner's housekeeping: its leases kept, renewed and given back, missed callbacks, queue members.

Theory of operation. Once per loop turn, after the schedule check and before the decision,
the runner calls :meth:`Housekeeping.tend`, which in this order:

0. takes out of the hopper, and releases, the waiting contacts whose calling window ended
   (``dial_until``, issue 11);
1. does nothing more while the outcome writer finds the database unreachable (the writer's
   retries are the probe then); every ``missed_callback_check_s`` it has the store apply the
   campaign's missed-callback rule to callbacks whose window passed (issue 13);
2. every ``lease_renew_s``, renews every lease the hopper holds -- an answered contact
   waiting for its disposition for the store's answered hold, not the short lease;
3. tops the hopper up from the store when it runs below ``hopper_low`` (up to
   ``hopper_high``): contacts that need an agent first, a few per logged-in agent, then, in
   predictive mode, fresh ones. A lease call that fails with anything but our own error means
   the database is unreachable: launching pauses (:attr:`Housekeeping.store_failures`) and
   leasing backs off exponentially on the runner's clock; the next lease call is the probe
   that tells whether the database is back. When nothing more is due, it asks again a tick
   later rather than on every event.

:meth:`Housekeeping.release` gives contacts back (a closed schedule, a drain, a contact that
needs no disposition): the hopper forgets them at once and the release waits its turn in the
outcome writer, behind the contacts' earlier writes.

Adopted calls. After a restart the engine hands the runner the attempts a previous run left
live on the PBX (:meth:`Housekeeping.adopt`). The PBX follows them again
(``PbxPort.adopt_attempts``), so they are ordinary calls in flight whose leases are renewed
with the others.

Queue members (issue 19 item 3). After the PBX connection comes back, and every
:data:`MEMBER_CHECK_S` while connected, :meth:`Housekeeping.restore_members` asks the PBX
(``QueueStatus``) which members the campaign's queue has and has the board re-add every
logged-in agent the PBX lost (a restarted Asterisk forgets dynamic members); the reply's
member rows also reach the board as snapshot events, which lift a ``dialer:`` hold the PBX
still shows on an agent the dialer let go. The check runs beside the loop, never in it: a
slow PBX must not hold the runner.

The end. When the runner ends (a drain, a stop), :meth:`Housekeeping.remove_members` takes its
agents out of the queue, so that Asterisk's members are again exactly the agents an engine
has logged in (see there why removing, not pausing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import structlog

from dialer.agents.board import AgentBoard
from dialer.agents.state import AgentEffect, AgentState
from dialer.campaign.calls import CallTable, InFlightCall
from dialer.campaign.hopper import Hopper
from dialer.campaign.settings import RunnerSettings
from dialer.campaign.writer import OutcomeWriter
from dialer.clock import Clock, utc_at
from dialer.errors import DialerError, PbxUnavailable
from dialer.model import ANSWERED_HOLD_S, Campaign, DialingMode, LeasedContact
from dialer.ports import ContactStore, PbxPort

log = structlog.get_logger(__name__)

__all__ = ["Housekeeping"]

# How often the queue's members are checked against the PBX's QueueStatus while connected.
MEMBER_CHECK_S = 30.0


class Housekeeping:
    """Leases, missed callbacks and queue members of one runner (see the module docstring).

    Args:
        campaign: the campaign (id to lease from, mode, queue).
        store: leases are taken, renewed and released here.
        pbx: queue membership.
        clock: the runner's clock.
        settings: hopper levels, lease times, tick and backoff.
        engine_id: the lease owner.
        hopper, board, calls, writer: shared with the runner.
        paused: whether launching is paused now (then the hopper is not topped up).
        winding_down: whether the runner is draining or stopping (new leases go back at once).
        wake: asks the runner to decide now.
        perform: performs the board's effects (the members the check re-adds).
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
        hopper: Hopper,
        board: AgentBoard,
        calls: CallTable,
        writer: OutcomeWriter,
        paused: Callable[[], bool],
        winding_down: Callable[[], bool],
        wake: Callable[[], None],
        perform: Callable[[Iterable[AgentEffect]], Awaitable[None]],
    ) -> None:
        self._campaign = campaign
        self._store = store
        self._pbx = pbx
        self._settings = settings
        self._engine_id = engine_id
        self._hopper = hopper
        self._board = board
        self._calls = calls
        self._writer = writer
        self._paused = paused
        self._winding_down = winding_down
        self._wake = wake
        self._last_renew_at = clock.now()
        self._store_failures = 0  # consecutive failed lease calls (database unreachable)
        self._lease_retry_at = 0.0
        self._perform = perform
        self._clock = clock
        self._last_member_check_at = clock.now()
        self._last_missed_at = -1e18
        self._member_check: asyncio.Task[None] | None = None
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)

    @property
    def store_failures(self) -> int:
        """Consecutive store calls that failed as if the database were unreachable (0: fine)."""
        return self._store_failures

    @property
    def last_renewed_at(self) -> float:
        """When the leases were last renewed (runner clock)."""
        return self._last_renew_at

    def note_store_failure(self) -> None:
        """A store call elsewhere (the dial path) failed: pause until a lease call succeeds."""
        self._store_failures = max(1, self._store_failures)

    async def tend(self, now: float) -> None:
        """Renew and refill as due (see the module docstring)."""
        if now - self._last_member_check_at >= MEMBER_CHECK_S and self._pbx.connected:
            self.restore_members(now, after_reconnect=False)
        self.release(self._hopper.expire_waiting(utc_at(now)), "calling window ended")
        if self._writer.down:
            return
        if now - self._last_renew_at >= self._settings.lease_renew_s:
            self._last_renew_at = now
            await self._renew(now)
        if now - self._last_missed_at >= self._settings.missed_callback_check_s:
            self._last_missed_at = now
            await self._apply_missed(now)
        if now < self._lease_retry_at:
            return
        if self._store_failures:
            await self._refill(now)  # the probe that tells whether the database is back
            return
        if self._paused() or self._hopper.depth >= self._settings.hopper_low:
            return
        if self._board.logged_in() == 0 and self._campaign.mode is not DialingMode.PREDICTIVE:
            return
        await self._refill(now)

    def mode_changed(self, campaign: Campaign) -> None:
        """The runner switched the campaign's mode (the refill leases by mode)."""
        self._campaign = campaign

    def release(self, contact_ids: Iterable[int], reason: str) -> None:
        """Forget ``contact_ids`` in the hopper and release their leases, in the writer's order."""
        ids = list(contact_ids)
        if not ids:
            return
        for cid in ids:
            self._hopper.settle(cid)
        self._writer.submit(
            f"release {len(ids)} ({reason})",
            lambda: self._store.release_leases(self._engine_id, ids),
            contacts=ids,
        )

    async def _apply_missed(self, now: float) -> None:
        """Callbacks whose window passed without a connect: the campaign's missed rule (issue 13)."""
        try:
            handled = await self._store.apply_missed_callbacks(self._campaign.id, utc_at(now))
        except DialerError as err:
            self._log.warning("missed_callbacks_failed", error=str(err))
            return
        except Exception as err:  # the database is down: the lease path notices and backs off
            self._log.warning("missed_callbacks_failed", error=type(err).__name__)
            return
        if handled:
            self._log.info("missed_callbacks", count=handled)

    # ------------------------------------------------------------------ leases

    async def _renew(self, now: float) -> None:
        """Renew every lease; an answered contact keeps the store's answered hold.

        The store holds an answered contact for :data:`ANSWERED_HOLD_S` (a generous wrap-up);
        renewing it with the short ``lease_ttl_s`` would cut that hold to two minutes, so a
        wrap-up outliving a renewal gap (a database blip) would lose its contact to another
        engine. Answered contacts are renewed for the longer of the two.
        """
        ids = self._hopper.leased_ids()
        if not ids:
            return
        answered = self._calls.awaiting_disposition()
        groups = [
            ([i for i in ids if i not in answered], self._settings.lease_ttl_s),
            ([i for i in ids if i in answered], max(self._settings.lease_ttl_s, ANSWERED_HOLD_S)),
        ]
        kept: set[int] = set()
        for group, ttl_s in groups:
            if not group:
                continue
            try:
                renewed = await self._store.renew_leases(self._engine_id, group, at=utc_at(now), ttl_s=ttl_s)
                kept |= set(renewed)
            except DialerError as err:
                self._log.warning("lease_renew_failed", error=str(err))
                return
            except Exception as err:
                self._log.warning("lease_renew_failed", error=type(err).__name__)
                return
        lost = self._hopper.drop_lost(kept)
        if lost:
            self._log.warning("leases_lost", count=len(lost))

    async def _refill(self, now: float) -> None:
        settings = self._settings
        campaign = self._campaign
        want = settings.hopper_high - self._hopper.depth
        at = utc_at(now)
        try:
            leases: list[LeasedContact] = []
            if self._board.logged_in():
                # Contacts that need an agent (callbacks, my record, call progressive) come
                # first in the lease order; a few per logged-in agent is all one pass can use.
                # Personal ones of *any* agent are leased (agent_ids=None): callback routing
                # holds them for their agent, and past the grace (counted from the lease,
                # which happens once due) gives them to anyone.
                limit = min(want, max(1, 2 * self._board.logged_in()))
                if campaign.mode is not DialingMode.PREDICTIVE:
                    limit = want
                leases += await self._store.lease_contacts(
                    campaign.id,
                    at=at,
                    limit=limit,
                    owner=self._engine_id,
                    ttl_s=settings.lease_ttl_s,
                    agent_reserved=True,
                    agent_ids=None,
                )
            rest = want - len(leases)
            if rest > 0 and campaign.mode is DialingMode.PREDICTIVE:
                leases += await self._store.lease_contacts(
                    campaign.id,
                    at=at,
                    limit=rest,
                    owner=self._engine_id,
                    ttl_s=settings.lease_ttl_s,
                    agent_reserved=False,
                    agent_ids=[],
                )
        except DialerError as err:
            self._log.warning("lease_failed", error=str(err))
            return
        except Exception as err:
            # The database is unreachable: launching pauses and leasing backs off until a
            # store call succeeds again (no log line per tick).
            self._store_failures += 1
            delay = min(
                settings.db_retry_initial_s * 2 ** (self._store_failures - 1),
                settings.db_retry_max_s,
            )
            self._lease_retry_at = now + delay
            if self._store_failures == 1:
                self._log.warning("lease_failed", error=type(err).__name__)
                self._wake()
            return
        if self._store_failures:
            self._log.info("store_leasing_again", failures=self._store_failures)
        self._store_failures = 0
        if self._winding_down():
            self.release([lease.contact_id for lease in leases], "draining")
            return
        self._hopper.add(leases, now)
        if len(leases) < want:
            # The campaign has nothing more due now: ask again next tick, not on every event.
            self._lease_retry_at = now + settings.tick_s

    # ------------------------------------------------------------------ adopted calls

    def adopt(self, attempt_id: str, lease: LeasedContact, started_at: float) -> None:
        """Track an attempt a previous run left live on the PBX (see the module docstring)."""
        self._calls.add(InFlightCall(attempt_id, lease, None, started_at))
        self._hopper.adopt_dialled(lease)

    # ------------------------------------------------------------------ queue members

    async def remove_members(self, now: float) -> int:
        """The runner is ending: QueueRemove every agent it had logged in. Returns how many.

        Why remove rather than pause: once the runner is gone, nothing tracks those agents
        (their logins lived in its board), so they are logged out as far as the engine knows
        -- and an operator reads ``queue show`` as "who takes calls". A member left behind,
        even paused, is a ghost: the next runner's QueueAdd gets "Already there" and keeps
        Asterisk's stale state, and an unpaused one is handed the predictive calls of any
        runner that dials into the queue while its person may have gone home (auto-answer
        phones make that a silent, "connected" call). Removing mirrors a logout; agents log
        in again when a runner starts (``engine.autologin_agents`` or the API). A member still
        on a call stays on it: QueueRemove does not touch the bridged channels.
        """
        views = [v for v in self._board.views(now) if v.state is not AgentState.LOGGED_OUT]
        # at once, not one after another: a slow PBX answers all of them in one response time
        results = await asyncio.gather(
            *(self._pbx.queue_remove(self._campaign.queue, v.interface) for v in views),
            return_exceptions=True,
        )
        removed = 0
        for view, result in zip(views, results, strict=True):
            if isinstance(result, PbxUnavailable):
                self._log.warning("member_remove_failed", agent=view.agent_id, error=str(result))
            elif isinstance(result, BaseException):
                raise result
            else:
                removed += 1
        return removed

    async def leave_queue(self, now: float, *, pbx_up: bool) -> None:
        """The runner ends: :meth:`remove_members`, bounded to 5 s, and say what was left."""
        if not pbx_up:
            self._log.warning("members_left_in_queue", reason="pbx_down", queue=self._campaign.queue)
            return
        try:
            removed = await asyncio.wait_for(self.remove_members(now), 5.0)
        except TimeoutError:
            self._log.warning("members_left_in_queue", reason="timeout", queue=self._campaign.queue)
            return
        self._log.info("members_removed_from_queue", queue=self._campaign.queue, agents=removed)

    def restore_members(self, now: float, *, after_reconnect: bool = True) -> asyncio.Task[None] | None:
        """Start a check of the queue's members against the PBX (see the module docstring).

        Returns the check's task (None when one is still running), which never raises.
        """
        if self._member_check is not None and not self._member_check.done():
            if not after_reconnect:
                return None
            self._member_check.cancel()  # it asked the connection that dropped
        self._last_member_check_at = now
        self._member_check = asyncio.ensure_future(self._check_members(after_reconnect))
        return self._member_check

    def stop_checks(self) -> None:
        """Cancel a member check in flight (the runner stops)."""
        if self._member_check is not None:
            self._member_check.cancel()

    async def _check_members(self, after_reconnect: bool) -> None:
        try:
            present = await self._pbx.queue_members(self._campaign.queue)
            if present is None:
                return
            now = self._clock.now()
            effects = self._board.reconcile_members(present, now, after_reconnect=after_reconnect)
            if effects:
                added = [getattr(e, "agent_id", None) for e in effects]
                self._log.warning("queue_members_restored", agents=added, after_reconnect=after_reconnect)
            await self._perform(effects)
        except Exception as err:  # the PBX went away again: the next check tries
            self._log.warning("member_check_failed", error=type(err).__name__)
