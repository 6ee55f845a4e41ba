"""The compliance proof's code path at a small scale: two simulated days across the US DST change.

The whole runner on the real store in virtual time (``benchmarks.compliance_proof``): two
campaigns (US and UK profiles), a nightly restart, numbers listed mid-run; the audit report
must read 0 in every row, and the attempt rows must carry what the report reads. A run kept in
a home (``--home``) carries on after a kill from its last whole day (``--resume``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from benchmarks.compliance_proof import PLANS, ProofOptions, report_home, run_proof
from benchmarks.compliance_proof_home import ProofHome, ProofHomeError


@pytest.mark.timeout(900)  # two simulated days of two campaigns: minutes on a busy machine
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


@pytest.mark.timeout(900)  # as long as the test above
def test_a_run_kept_in_a_home_resumes_from_its_last_whole_day(pg_dsn: str, tmp_path: Path) -> None:
    """Day 1 kept; day 2 killed half-way (its rows in the live database, the state not clean);
    ``--resume`` starts day 2 again from the copy taken after day 1; ``--report`` reads the
    newest copy; a new run refuses a home that holds one."""
    home = ProofHome(tmp_path, "both", server=pg_dsn, prefix=f"t_{uuid.uuid4().hex[:8]}")
    opts = ProofOptions(
        days=2,
        start=dt.datetime(2026, 3, 7, tzinfo=dt.UTC),
        agents=1,
        contacts=40,
        dnc_numbers=4,
        tick_s=60.0,
        quiet=True,
        wall_limit_s=0.0,  # stop after the first day
    )
    first = asyncio.run(run_proof(None, opts, home))
    kept = home.load()
    assert (1, 1, True) == (first.days_run, kept.days_done, kept.clean) and first.calls == kept.calls

    async def sql(dsn: str, statement: str) -> object:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchval(statement)
        finally:
            await conn.close()

    # what a process killed during day 2 leaves: rows of half a day, a state saying so
    asyncio.run(sql(home.dsn(home.live), "CREATE TABLE half_a_day (x int)"))
    kept.clean = False
    home.save(kept)
    with pytest.raises(ProofHomeError, match="already here"):
        asyncio.run(run_proof(None, opts, home))

    second = asyncio.run(run_proof(None, replace(opts, wall_limit_s=None), home, resume=True))
    state = home.load()
    assert (2, 2, True) == (second.days_run, state.days_done, state.clean)
    assert second.calls > first.calls and [d.day for d in state.days] == [0, 1]
    assert None is asyncio.run(sql(home.dsn(home.live), "SELECT to_regclass('half_a_day')::text"))
    databases = asyncio.run(
        sql(pg_dsn, f"SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE '{home.prefix}%'")
    )
    assert {home.live, home.snapshot_name(2)} == set(str(databases).split(","))  # only the newest copy
    assert [] == [(r.campaign, x.rule) for r in second.reports for x in r.rows if x.violations]

    reported = asyncio.run(report_home(home, replace(opts, wall_limit_s=None)))
    assert (second.calls, 2) == (reported.calls, reported.days_run)
    assert [r.attempts for r in second.reports] == [r.attempts for r in reported.reports]
