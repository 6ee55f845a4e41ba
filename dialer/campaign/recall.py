"""Campaign memory, the I/O part: a runner's abandon windows and pacer restored from the store.

Theory of operation: :class:`CampaignMemory` is the shell around the pure
:mod:`dialer.campaign.memory` (read its docstring for what counts and why). At the runner's
start, :meth:`CampaignMemory.restore` reads the campaign's whole abandon windows from the
attempts table and warms the pacer's statistics with its recent calls; on every housekeeping
pass :meth:`CampaignMemory.tend` re-reads the windows every ``refresh_s`` (the recent part;
all of it every ``full_refresh_s``). A read that fails (database unreachable) is logged and
tried again on the next pass; meanwhile the trackers keep counting this runner's calls, and
the warm start is skipped once the pacer has learned from live calls of its own (it would
count them twice).
"""

from __future__ import annotations

import structlog

from dialer.campaign.memory import AbandonLedger, MemorySettings, warm_statistics
from dialer.clock import utc_at
from dialer.model import Campaign
from dialer.ports import ContactStore
from pacing import CallStatistics

log = structlog.get_logger(__name__)

__all__ = ["CampaignMemory"]


class CampaignMemory:
    """Restores and refreshes one runner's view of its campaign's history (module docstring).

    Args:
        campaign: the campaign whose attempts are read.
        store: where they are read from.
        ledger: the runner's abandon trackers and the calls it counted itself.
        stats: the pacer's learned statistics (None: the policy learns nothing).
        settings: refresh periods and the warm start's bounds.

    Attributes:
        restored: the whole windows have been read from the store at least once.
        warmed: how many stored calls warmed the pacer at start (None: not tried yet).
    """

    def __init__(
        self,
        campaign: Campaign,
        *,
        store: ContactStore,
        ledger: AbandonLedger,
        stats: CallStatistics | None,
        settings: MemorySettings,
    ) -> None:
        self._campaign_id = campaign.id
        self._store = store
        self.ledger = ledger
        self._stats = stats
        self.settings = settings
        self.restored = False
        self.warmed: int | None = None
        self._next_refresh = float("-inf")
        self._next_full = float("-inf")
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)

    async def restore(self, now: float) -> None:
        """Read the whole windows and warm the pacer (at the runner's start)."""
        await self._refresh(now, full=True)
        await self._warm(now)

    async def tend(self, now: float) -> None:
        """Refresh the windows when due (the whole of them when a full refresh is due).

        A read that failed is tried again ``refresh_s`` later, not on every pass.
        """
        if now < self._next_refresh:
            return
        await self._refresh(now, full=now >= self._next_full or not self.restored)
        if self.warmed is None:
            await self._warm(now)

    async def _refresh(self, now: float, *, full: bool) -> None:
        s = self.settings
        self._next_refresh = now + s.refresh_s
        if full:
            self._next_full = now + s.full_refresh_s
        if not self.ledger.trackers:
            self.restored = True
            return
        refresh = self.ledger.begin(now, full=full, recent_span_s=s.recent_span_s)
        spans = [(width, utc_at(since)) for width, since in refresh.store_spans()]
        try:
            buckets = await self._store.answer_buckets(self._campaign_id, spans, exclude=refresh.exclude)
        except Exception as err:  # our own error, or the database is unreachable
            self._log.warning("abandon_windows_unread", full=full, error=str(err) or type(err).__name__)
            return
        self.ledger.apply(refresh, buckets)
        if full and not self.restored:
            self._log.info("abandon_windows_restored", buckets=len(buckets))
        self.restored = self.restored or full

    async def _warm(self, now: float) -> None:
        stats = self._stats
        if stats is None or stats.outcomes.n_seen or stats.talk_time.n_seen or stats.wrap_time.n_seen:
            self.warmed = 0  # nothing learns, or it learned from live calls already
            return
        s = self.settings
        if s.warm_calls == 0:
            self.warmed = 0
            return
        try:
            since, until = utc_at(now - s.warm_lookback_s), utc_at(now)
            limit = s.warm_calls
            calls = await self._store.recent_calls(self._campaign_id, since=since, until=until, limit=limit)
        except Exception as err:  # our own error, or the database is unreachable
            self._log.warning("pacing_history_unread", error=str(err) or type(err).__name__)
            return
        self.warmed = warm_statistics(stats, calls, now)
        self._log.info("pacing_warmed", calls=self.warmed, ready=stats.ready())
