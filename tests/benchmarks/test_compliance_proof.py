"""The compliance proof's code path at a small scale: two simulated days across the US DST change.

The whole runner on the real store in virtual time (``benchmarks.compliance_proof``): two
campaigns (US and UK profiles), a nightly restart, numbers listed mid-run; the audit report
must read 0 in every row, and the attempt rows must carry what the report reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import asyncpg

from benchmarks.compliance_proof import PLANS, ProofOptions, run_proof


def test_two_days_of_two_campaigns_break_no_rule(make_database: Callable[[], str]) -> None:
    dsn = make_database()
    opts = ProofOptions(
        days=2,  # restarted once, numbers listed at noon of the second day
        start=dt.datetime(2026, 3, 7, tzinfo=dt.UTC),  # New York and Chicago change clocks on 8 March
        agents=1,
        contacts=40,  # 20 a day
        dnc_numbers=4,
        tick_s=60.0,
        quiet=True,
    )
    result = asyncio.run(run_proof(dsn, opts))

    async def recorded() -> asyncpg.Record:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchrow(
                """SELECT count(*) AS placed,
                      count(*) FILTER (WHERE zones IS NULL) AS no_zones,
                      count(*) FILTER (WHERE ended_at IS NOT NULL AND ring_s IS NULL) AS no_ring,
                      count(*) FILTER (WHERE ended_at IS NOT NULL AND agent_reserved IS NULL) AS no_reserved,
                      count(DISTINCT (started_at AT TIME ZONE 'UTC')::date) AS days
                   FROM attempts WHERE outcome IS DISTINCT FROM 'cancelled'"""
            )
        finally:
            await conn.close()

    row = asyncio.run(recorded())
    assert (2, ()) == (result.days_run, result.errors) and result.dnc_listed  # some still due mid-run
    assert [p.name for p in PLANS] == [r.campaign for r in result.reports]
    assert all(r.attempts > 40 for r in result.reports), [r.attempts for r in result.reports]
    assert result.calls == row["placed"] and row["days"] >= 2
    assert (0, 0, 0) == (row["no_zones"], row["no_ring"], row["no_reserved"])
    assert [] == [(r.campaign, x.rule, x.attempt_ids) for r in result.reports for x in r.rows if x.violations]
