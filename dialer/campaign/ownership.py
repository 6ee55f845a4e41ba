"""Which campaigns this engine owns among several engines on one database (issue 15).

Theory of operation. :class:`Ownership` keeps the campaigns this engine has taken and the
fencing token of each (the store's ``campaign_owners`` rows, ``dialer/store/owners.py``). The
engine supervisor calls :meth:`Ownership.beat` every :attr:`Ownership.heartbeat_s` (a quarter
of the take-over time): one transaction refreshes the engine's row and its campaigns'
heartbeats and answers which campaigns it still owns; a campaign missing from the answer
was taken over, and its runner is stopped at once. :meth:`Ownership.take` then takes free,
handed-back or expired campaigns up to this engine's share: ``engine.max_campaigns``, or,
when that is 0, the wanted campaigns divided by the live engines, rounded up (an engine
alone takes them all; a new engine does not take campaigns that others run, only those
that are free: nothing is moved while its owner lives).

Fencing. Every runner of an owned campaign gets a :class:`FencedStore` instead of the
store: opening and closing attempts, renewing and releasing leases and writing dispositions
carry the campaign's :class:`~dialer.model.Fence`, which the store checks in the same
statement, so once another engine took the campaign (a higher
token) the write is refused (``OwnershipLost``) and the runner is stopped. Besides, no call
is opened while this engine's last heartbeat is older than half the take-over time
(:meth:`Ownership.fresh`, on the monotonic clock, which runs on while the process is
stopped): an engine that was paused (SIGSTOP, a stalled VM) past its heartbeat never places
a call it opened before its pause, even before it learns from the database that it lost.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import structlog

from dialer.errors import DialerError, OwnershipLost
from dialer.model import AppliedOutcome, AttemptResult, DialRefusal, Fence, LeasedContact, Outcome

log = structlog.get_logger(__name__)

__all__ = ["FencedStore", "Ownership", "OwnershipStore"]


class OwnershipStore(Protocol):
    """What ownership needs of the store (``dialer.store.owners.Owners`` and the fenced writes)."""

    async def engine_heartbeat(
        self,
        engine_id: str,
        tokens: Mapping[int, int],
        *,
        host: str = "",
        pid: int = 0,
        max_campaigns: int = 0,
    ) -> set[int]: ...

    async def live_engines(self, *, expiry_s: float) -> int: ...

    async def take_campaign(
        self, engine_id: str, campaign_id: int, *, expiry_s: float
    ) -> tuple[int, str | None] | None: ...

    async def hand_back_campaigns(self, engine_id: str, campaign_ids: Sequence[int] | None = None) -> int: ...

    async def claim_campaign_attempts(self, engine_id: str, campaign_id: int) -> int: ...

    async def adopt_free_handed_over(self, engine_id: str, *, expiry_s: float) -> int: ...

    async def unowned_campaigns(self, campaign_ids: Sequence[int], *, expiry_s: float) -> list[int]: ...

    async def open_attempt(
        self,
        lease: LeasedContact,
        *,
        at: dt.datetime,
        engine_id: str | None = None,
        fence: Fence | None = None,
    ) -> int: ...

    async def open_checked_attempt(
        self,
        lease: LeasedContact,
        *,
        at: dt.datetime,
        agent_reserved: bool,
        engine_id: str | None = None,
        fence: Fence | None = None,
    ) -> int | DialRefusal: ...

    async def close_attempt(
        self, attempt_id: int, result: AttemptResult, *, fence: Fence | None = None
    ) -> AppliedOutcome: ...

    async def close_attempts(
        self, closes: Sequence[tuple[int, AttemptResult]], *, fence: Fence | None = None
    ) -> list[AppliedOutcome | DialerError]: ...


class Ownership:
    """This engine's campaigns and their tokens (see the module docstring)."""

    def __init__(
        self,
        store: OwnershipStore,
        engine_id: str,
        *,
        takeover_s: float = 10.0,
        max_campaigns: int = 0,
        host: str = "",
        pid: int = 0,
    ) -> None:
        self.store = store
        self.engine_id = engine_id
        self.takeover_s = takeover_s
        self.max_campaigns = max_campaigns
        self._host = host
        self._pid = pid
        self.tokens: dict[int, int] = {}
        self._fresh_until = 0.0  # time.monotonic() until which the last heartbeat vouches for us
        self.unowned = 0  # wanted campaigns no live engine owns (the alert's gauge)

    @property
    def heartbeat_s(self) -> float:
        return self.takeover_s / 4

    def fresh(self) -> bool:
        """Whether the last heartbeat is recent enough to place calls for owned campaigns."""
        return time.monotonic() < self._fresh_until

    def fence(self, campaign_id: int) -> Fence:
        """The fence of an owned campaign.

        Raises:
            OwnershipLost: not owned (any more), or the heartbeat is not fresh.
        """
        token = self.tokens.get(campaign_id)
        if token is None or not self.fresh():
            raise OwnershipLost(
                f"campaign {campaign_id}: not held by {self.engine_id} with a fresh heartbeat"
            )
        return Fence(self.engine_id, token)

    def drop(self, campaign_id: int) -> None:
        """Forget a campaign the store says was taken over."""
        self.tokens.pop(campaign_id, None)

    async def beat(self) -> set[int]:
        """Send the heartbeat; return the campaigns lost since the last one (taken over)."""
        sent = time.monotonic()
        mine = dict(self.tokens)
        kept = await self.store.engine_heartbeat(
            self.engine_id, mine, host=self._host, pid=self._pid, max_campaigns=self.max_campaigns
        )
        self._fresh_until = sent + self.takeover_s / 2
        lost = {c for c in mine if c not in kept and self.tokens.get(c) == mine[c]}
        for campaign_id in lost:
            self.tokens.pop(campaign_id, None)
        return lost

    async def take(self, wanted: Sequence[int]) -> list[tuple[int, str | None]]:
        """Take wanted campaigns up to this engine's share; return ``(campaign, taken from)``."""
        missing = [c for c in wanted if c not in self.tokens]
        if not missing:
            self.unowned = 0
            return []
        share = self.max_campaigns
        if share == 0:
            live = await self.store.live_engines(expiry_s=self.takeover_s)
            share = math.ceil(len(wanted) / max(1, live))
        taken: list[tuple[int, str | None]] = []
        for campaign_id in missing:
            if len(self.tokens) >= share:
                break
            got = await self.store.take_campaign(self.engine_id, campaign_id, expiry_s=self.takeover_s)
            if got is None:
                continue
            self.tokens[campaign_id] = got[0]
            taken.append((campaign_id, got[1]))
            log.info("campaign_taken", campaign_id=campaign_id, fence=got[0], previous_owner=got[1])
        left = [c for c in wanted if c not in self.tokens]
        self.unowned = len(await self.store.unowned_campaigns(left, expiry_s=self.takeover_s)) if left else 0
        return taken

    async def hand_back(self) -> None:
        """A graceful stop: free every campaign at once for the other engines."""
        self.tokens.clear()
        self._fresh_until = 0.0
        try:
            await self.store.hand_back_campaigns(self.engine_id)
        except Exception as err:  # database down: the campaigns expire instead
            log.warning("hand_back_failed", error=type(err).__name__)


class FencedStore:
    """The store as one owned campaign's runner sees it: attempt writes carry the campaign's fence.

    Everything else is the store's own method. ``on_lost`` is called (once per refusal) when
    the store says another engine took the campaign.
    """

    def __init__(
        self, store: Any, ownership: Ownership, campaign_id: int, on_lost: Callable[[int], None]
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._campaign_id = campaign_id
        self._on_lost = on_lost

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _fence(self) -> Fence:
        try:
            return self._ownership.fence(self._campaign_id)
        except OwnershipLost:
            if self._campaign_id not in self._ownership.tokens:
                self._on_lost(self._campaign_id)
            raise

    def _lost(self) -> None:
        self._ownership.drop(self._campaign_id)
        self._on_lost(self._campaign_id)

    async def open_attempt(
        self,
        lease: LeasedContact,
        *,
        at: dt.datetime,
        engine_id: str | None = None,
        fence: Fence | None = None,
    ) -> int:
        """Open the attempt under the campaign's fence (see :meth:`_open_fenced`)."""
        held = self._fence()
        opened = await self._open_fenced(
            self._ownership.store.open_attempt(lease, at=at, engine_id=engine_id, fence=held), held, at
        )
        assert isinstance(opened, int)
        return opened

    async def open_checked_attempt(
        self,
        lease: LeasedContact,
        *,
        at: dt.datetime,
        agent_reserved: bool,
        engine_id: str | None = None,
        fence: Fence | None = None,
    ) -> int | DialRefusal:
        """The dial-time checks and the attempt row under the campaign's fence (see :meth:`_open_fenced`)."""
        held = self._fence()
        return await self._open_fenced(
            self._ownership.store.open_checked_attempt(
                lease, at=at, agent_reserved=agent_reserved, engine_id=engine_id, fence=held
            ),
            held,
            at,
        )

    async def _open_fenced(
        self, opening: Awaitable[int | DialRefusal], held: Fence, at: dt.datetime
    ) -> int | DialRefusal:
        """Await ``opening``; refuse when the heartbeat went stale meanwhile.

        A pause during the write (SIGSTOP) may outlast the heartbeat: the row is then closed
        as cancelled rather than dialled, since another engine may have taken the campaign.
        """
        try:
            attempt_id = await opening
        except OwnershipLost:
            self._lost()
            raise
        if isinstance(attempt_id, DialRefusal) or self._ownership.fresh():
            return attempt_id
        try:
            await self._ownership.store.close_attempt(
                attempt_id,
                AttemptResult(
                    Outcome.CANCELLED, at, hangup_cause_text="cancelled: heartbeat stale before dialling"
                ),
                fence=held,
            )
        except OwnershipLost:  # the new owner closes it (no channel: lost, counted as nothing placed)
            self._lost()
        raise OwnershipLost(
            f"campaign {self._campaign_id}: heartbeat stale, attempt {attempt_id} not dialled"
        )

    def _held(self) -> Fence:
        """The campaign's fence for a write about a call already placed: the token alone (a
        stale heartbeat, a database blip, is no reason to drop it; the store judges the token).

        Raises:
            OwnershipLost: the campaign is no longer this engine's.
        """
        token = self._ownership.tokens.get(self._campaign_id)
        if token is None:
            self._on_lost(self._campaign_id)
            raise OwnershipLost(f"campaign {self._campaign_id} is no longer ours")
        return Fence(self._ownership.engine_id, token)

    async def renew_leases(
        self, owner: str, contact_ids: Sequence[int], *, at: dt.datetime, ttl_s: float
    ) -> list[int]:
        """Renew only while the campaign's fence holds (a lease past it is reported lost)."""
        fence = self._held()
        renewed: list[int] = await self._store.renew_leases(
            owner, contact_ids, at=at, ttl_s=ttl_s, fence=fence
        )
        return renewed

    async def release_leases(self, owner: str, contact_ids: Sequence[int]) -> int:
        """Give contacts back only while the campaign's fence holds (a former owner's release
        changes nothing: its leases expire, or the new owner claimed them)."""
        fence = self._held()
        released: int = await self._store.release_leases(owner, contact_ids, fence=fence)
        return released

    async def set_disposition(self, contact_id: int, status: str, **kwargs: Any) -> None:
        """The agent's disposition (the store's arguments) under the campaign's fence."""
        fence = self._held()
        try:
            await self._store.set_disposition(contact_id, status, fence=fence, **kwargs)
        except OwnershipLost:
            self._lost()
            raise

    async def close_attempt(
        self, attempt_id: int, result: AttemptResult, *, fence: Fence | None = None
    ) -> AppliedOutcome:
        held = self._held()
        try:
            return await self._ownership.store.close_attempt(attempt_id, result, fence=held)
        except OwnershipLost:
            self._lost()
            raise

    async def close_attempts(
        self, closes: Sequence[tuple[int, AttemptResult]], *, fence: Fence | None = None
    ) -> list[AppliedOutcome | DialerError]:
        """Close the attempts that queued up under the campaign's fence (as :meth:`close_attempt`, each)."""
        token = self._ownership.tokens.get(self._campaign_id)
        if token is None:
            self._on_lost(self._campaign_id)
            lost = OwnershipLost(f"campaign {self._campaign_id} is no longer ours")
            return [lost for _ in closes]
        results = await self._ownership.store.close_attempts(
            closes, fence=Fence(self._ownership.engine_id, token)
        )
        if any(isinstance(r, OwnershipLost) for r in results):
            self._lost()
        return results
