"""A campaign's call history as pacing remembers it: abandon-window counts and recent calls.

Theory of operation: the abandon-rate windows (US 30 days, UK 24 hours) and the pacer's
learned statistics are the campaign's, not one process's, so a runner rebuilds them from the
attempts table at start and keeps the windows current from it
(:mod:`dialer.campaign.memory`, :mod:`dialer.campaign.recall`). Two reads serve that:

* :meth:`History.answer_buckets`: live answers, abandons and machine verdicts per time bucket
  of end time, for several bucket widths in one round trip, leaving out the attempts the
  runner still counts itself. What counts as what is the pacer's rule in SQL (the outcome
  column is the store outcome :func:`dialer.campaign.outcomes.map_outcome` wrote): a live
  answer is ``outcome IN ('answered', 'abandoned')``, an abandon ``outcome = 'abandoned'``,
  a machine verdict ``outcome = 'machine'``; the bucket is ``floor(epoch(ended_at) / width)``.
* :meth:`History.recent_calls`: the campaign's latest closed calls with the time of their
  agent's disposition, newest first, for the pacer's warm start.

Both read through ``attempts_campaign_ended`` (migration 005).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dialer.model import AnswerBucket, Outcome, PastCall
from dialer.store.connection import PoolNoun

# $1 campaign, $2 bucket widths (s), $3 the start of each width's span, $4 attempts left out.
_ANSWER_BUCKETS_SQL = """
SELECT b.width, floor(extract(epoch FROM a.ended_at)::float8 / b.width)::bigint AS index,
       count(*) FILTER (WHERE a.outcome IN ('answered', 'abandoned')) AS live,
       count(*) FILTER (WHERE a.outcome = 'abandoned') AS abandoned,
       count(*) FILTER (WHERE a.outcome = 'machine') AS machines
FROM unnest($2::float8[], $3::timestamptz[]) AS b(width, since)
JOIN attempts a ON a.campaign_id = $1 AND a.ended_at >= b.since
WHERE a.ended_at IS NOT NULL AND a.outcome IN ('answered', 'abandoned', 'machine')
  AND a.id <> ALL($4::bigint[])
GROUP BY 1, 2
ORDER BY 1, 2
"""

# $1 campaign, $2 oldest end, $3 newest end, $4 how many. A disposition is the status change
# the agent's (or the default) disposition wrote for the attempt (reason 'disposition').
_RECENT_CALLS_SQL = """
SELECT a.id, a.outcome, a.started_at, a.answered_at, a.ended_at,
       (SELECT min(sc.changed_at) FROM status_changes sc
        WHERE sc.contact_id = a.contact_id AND sc.attempt_id = a.id AND sc.reason = 'disposition')
           AS disposed_at
FROM attempts a
WHERE a.campaign_id = $1 AND a.ended_at IS NOT NULL AND a.ended_at >= $2 AND a.ended_at <= $3
  AND a.outcome IS NOT NULL AND a.outcome <> 'cancelled'
ORDER BY a.ended_at DESC, a.id DESC
LIMIT $4
"""


class History(PoolNoun):
    """What pacing remembers of a campaign's calls, read from its attempts."""

    async def answer_buckets(
        self, campaign_id: int, spans: Sequence[tuple[float, dt.datetime]], *, exclude: Sequence[int] = ()
    ) -> list[AnswerBucket]:
        """Live answers, abandons and machine verdicts per bucket (see the module docstring).

        Args:
            campaign_id: the campaign.
            spans: for each bucket width (seconds), the earliest end time to count.
            exclude: attempt ids left out (those the caller counts itself).
        """
        rows = await self.pool.fetch(
            _ANSWER_BUCKETS_SQL,
            campaign_id,
            [float(w) for w, _ in spans],
            [since for _, since in spans],
            list(exclude),
        )
        return [
            AnswerBucket(r["width"], r["index"], r["live"], r["abandoned"], r["machines"]) for r in rows
        ]

    async def recent_calls(
        self, campaign_id: int, *, since: dt.datetime, until: dt.datetime, limit: int
    ) -> list[PastCall]:
        """The campaign's latest ``limit`` closed calls ended in ``[since, until]``, newest first.

        Cancelled attempts (never placed) are left out.
        """
        rows = await self.pool.fetch(_RECENT_CALLS_SQL, campaign_id, since, until, limit)
        return [
            PastCall(r["id"], Outcome(r["outcome"]), r["started_at"], r["answered_at"], r["ended_at"],
                     r["disposed_at"])
            for r in rows
        ]
