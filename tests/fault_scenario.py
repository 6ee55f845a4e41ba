"""The fault run of issue 15's Tests section, shared by ``tests/test_engines.py`` (short) and
``benchmarks/scale.py`` (``--fault``, longer).

Three ``dialer run`` processes on one PostgreSQL that the run may stop and start, two simulated
PBXs (every campaign dials through the group ``east`` of both), three campaigns. Mid-campaign:
SIGKILL the owner of one campaign; SIGSTOP the owner of another past its heartbeat, then
SIGCONT it; restart the database once. After each fault every campaign must be owned again by
a live engine; the time each took is reported. At the end the campaigns are paused, the engines
stopped, and the attempts table is read: contacts dialled twice at once, attempts left open,
contacts lost (held by an engine with no call and no disposition pending), and each campaign's
abandon rate from the table beside the rate an engine reports for it: the windows a runner
restores from the store when it takes the campaign over (``CampaignMemory.restore``, the
trackers behind ``dialer_abandon_rate`` and the API's campaign figures), which must agree.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import signal
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import asyncpg
from prometheus_client import CollectorRegistry

from ami.simulator.server import SimulatedPbx
from dialer.campaign.closing import OutcomeTally
from dialer.campaign.memory import AbandonLedger, MemorySettings
from dialer.campaign.recall import CampaignMemory
from dialer.cli import demo
from dialer.contacts import importer as contact_import
from dialer.contacts.csv_reader import read_contacts
from dialer.model import CampaignState, DialingMode
from dialer.observability.metrics import DialerMetrics
from dialer.store.campaigns import spec_of
from dialer.store.store import Store
from pacing.abandon import AbandonCounts
from tests.engine_process import (
    EngineProcess,
    attempt_rows,
    campaign_owners,
    kill_left,
    make_campaigns,
    set_states,
    start_campaigns,
    start_engine,
    start_multi_pbx,
    wait_for,
)

ENGINES = ("fault-a", "fault-b", "fault-c")


@dataclass
class FaultReport:
    """What a fault run measured and found."""

    owned_again_s: dict[str, float] = field(default_factory=dict)  # fault -> seconds
    attempts: int = 0
    twice_at_once: int = 0
    left_open: int = 0
    open_rows: list[dict[str, object]] = field(default_factory=list)  # for the failure message
    lost_contacts: int = 0
    abandon_rate: dict[str, float] = field(default_factory=dict)  # from the attempts table
    answers: dict[str, tuple[int, int]] = field(default_factory=dict)  # live answers, abandons
    reported_abandon_rate: dict[str, dict[str, float]] = field(default_factory=dict)  # by window
    reported_answers: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # by window
    calls_by_pbx: tuple[int, int] = (0, 0)


async def copy_campaign(store: Store, name: str, copy: str, *, contacts: int, seed: int) -> None:
    """A paused copy of campaign ``name`` (its settings and agents) with its own queue and contacts."""
    base = await store.get_campaign(name)
    await store.create_campaign(replace(spec_of(base), name=copy, queue=copy, state=CampaignState.PAUSED))
    for agent in await store.campaign_agents(name):
        await store.assign_agent(copy, agent.name)
    lines = demo.sample_csv(contacts, seed).splitlines()[1:]
    text = "name,phone\n" + "".join(f"K {n},{line.split(',')[1]}\n" for n, line in enumerate(lines))
    await contact_import.import_contacts(
        store.pool, copy, read_contacts(io.StringIO(text), default_region="PL"), source="test"
    )


async def make_three_campaigns(dsn: str, contacts: int) -> tuple[list[str], list[str]]:
    """The predictive and progressive demo campaigns and a copy of the predictive one, paused,
    every one dialling through the group ``east``; their names and queues."""
    await make_campaigns(dsn, [DialingMode.PREDICTIVE, DialingMode.PROGRESSIVE], contacts=contacts)
    names = [
        demo.campaign_name(DialingMode.PREDICTIVE),
        demo.campaign_name(DialingMode.PROGRESSIVE),
        "DEMO_2",
    ]
    store = await Store.open(dsn)
    try:
        await copy_campaign(store, names[0], names[2], contacts=contacts, seed=40)
        for name in names:
            await store.update_campaign(name, servers=("east",))
        queues = [(await store.get_campaign(n)).queue for n in names]
    finally:
        await store.close()
    return names, queues


async def _owned_by_live(dsn: str, names: list[str], live: set[str], since: float = 0.0) -> bool:
    """Every campaign owned by a live engine whose heartbeat for it is later than ``since``
    (epoch seconds on the database's clock)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT c.name, o.engine_id FROM campaign_owners o JOIN campaigns c ON c.id = o.campaign_id
               WHERE o.heartbeat_at > to_timestamp($1)""",
            since,
        )
    finally:
        await conn.close()
    owners = {r["name"]: r["engine_id"] for r in rows}
    return all(owners.get(n) in live for n in names)


async def _db_now(dsn: str) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        return float(await conn.fetchval("SELECT extract(epoch FROM now())"))
    finally:
        await conn.close()


async def fault_run(
    dsn: str,
    tmp_path: Path,
    *,
    restart_database: Callable[[], Awaitable[None]],
    contacts: int = 150,
    takeover_s: float = 4.0,
    settle_s: float = 2.0,
) -> FaultReport:
    """Run the faults (see the module docstring) and read the outcome from the database.

    ``restart_database`` stops the PostgreSQL server the engines use and starts it again.
    ``settle_s``: how long the campaigns dial between faults.
    """
    report = FaultReport()
    names, queues = await make_three_campaigns(dsn, contacts)
    pbxs: list[SimulatedPbx] = [await start_multi_pbx(queues, seed=5), await start_multi_pbx(queues, seed=6)]
    servers = [("pbx1", pbxs[0].port, "east"), ("pbx2", pbxs[1].port, "east")]
    engines: dict[str, EngineProcess] = {}
    stopped: EngineProcess | None = None
    bound = takeover_s * 1.25 + 25.0  # generous: the bound itself is asserted by the caller
    try:
        for engine_id in ENGINES:
            engines[engine_id] = await start_engine(
                tmp_path, dsn, 0, engine_id, takeover_s=takeover_s, servers=servers
            )
        await start_campaigns(dsn, list(ENGINES), names)
        live = set(ENGINES)

        async def dialling() -> bool:
            owners = await campaign_owners(dsn)
            counts = [len(await attempt_rows(dsn, n)) for n in names]
            holders = [owners.get(n, (None, 0))[0] for n in names]
            return (
                all(h in live for h in holders)
                and len(set(holders)) == 3  # one each: the fair share
                and min(counts) >= 4
                and min(p.action_counts["originate"] for p in pbxs) >= 3
            )

        await wait_for(dialling, timeout_s=90, every_s=0.25, what="three campaigns owned and dialling")

        async def timed(what: str, started: float, since: float) -> None:
            """Until every campaign is owned again, with a heartbeat after the fault."""
            await wait_for(
                lambda: _owned_by_live(dsn, names, live, since),
                timeout_s=bound,
                every_s=0.1,
                what=f"owned after {what}",
            )
            report.owned_again_s[what] = time.monotonic() - started

        # 1. SIGKILL the owner of the first campaign
        victim = (await campaign_owners(dsn))[names[0]][0] or ""
        since, started = await _db_now(dsn), time.monotonic()
        engines[victim].kill()
        live.discard(victim)
        await engines[victim].wait(10)
        await timed("sigkill", started, since)
        await asyncio.sleep(settle_s)

        # 2. SIGSTOP the owner of another campaign past its heartbeat, then SIGCONT it
        owners = await campaign_owners(dsn)
        sleeper = next(owners[n][0] for n in names if owners[n][0] in live) or ""
        stopped = engines[sleeper]
        since, started = await _db_now(dsn), time.monotonic()
        os.kill(stopped.proc.pid, signal.SIGSTOP)
        live.discard(sleeper)
        await timed("sigstop", started, since)
        os.kill(stopped.proc.pid, signal.SIGCONT)
        stopped = None
        live.add(sleeper)
        await asyncio.sleep(settle_s)

        # 3. restart the database under the engines
        since = await _db_now(dsn)
        await restart_database()
        started = time.monotonic()  # from the moment the database accepts connections again
        await timed("database restart", started, since + 1.0)
        await asyncio.sleep(settle_s)

        # the end: no new calls, the calls up end, the engines stop and hand everything back
        await set_states(dsn, names, CampaignState.PAUSED)
        await asyncio.sleep(1.0)
        for engine_id in sorted(live):
            engines[engine_id].terminate()
        for engine_id in sorted(live):
            code = await engines[engine_id].wait(60)
            assert 0 == code, engines[engine_id].log_text()[-3000:]
    finally:
        if stopped is not None:
            os.kill(stopped.proc.pid, signal.SIGCONT)
        await kill_left(*engines.values())
        for p in pbxs:
            await p.close()
    report.calls_by_pbx = (pbxs[0].action_counts["originate"], pbxs[1].action_counts["originate"])
    await _read_outcome(dsn, names, report)
    return report


async def _read_outcome(dsn: str, names: list[str], report: FaultReport) -> None:
    attempts = [r for n in names for r in await attempt_rows(dsn, n)]
    report.attempts = len(attempts)
    report.left_open = sum(r["ended_at"] is None for r in attempts)
    report.open_rows = [dict(r) for r in attempts if r["ended_at"] is None]
    by_contact: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for r in attempts:
        by_contact[r["contact_id"]].append(r)
    report.twice_at_once = sum(
        1
        for rows in by_contact.values()
        for a, b in itertools.pairwise(sorted(rows, key=lambda r: r["started_at"]))
        if a["ended_at"] is None or a["ended_at"] > b["started_at"]
    )
    store = await Store.open(dsn)
    try:
        waiting = {a.contact_id for e in ENGINES for a in await store.awaiting_disposition(e)}
        held = await store.pool.fetch(
            "SELECT id FROM contacts WHERE lease_owner IS NOT NULL AND lease_expires_at > now()"
        )
        report.lost_contacts = len({r["id"] for r in held} - waiting)
        for name in names:
            rows = await store.pool.fetchrow(
                """SELECT count(*) FILTER (WHERE a.outcome = 'abandoned') AS abandoned,
                          count(*) FILTER (WHERE a.outcome IN ('answered', 'abandoned')) AS live
                   FROM attempts a JOIN campaigns c ON c.id = a.campaign_id WHERE c.name = $1""",
                name,
            )
            report.abandon_rate[name] = rows["abandoned"] / rows["live"] if rows["live"] else 0.0
            report.answers[name] = (rows["live"], rows["abandoned"])
            restored = await restored_abandon_windows(store, name)
            report.reported_abandon_rate[name] = {w: c.rate for w, c in restored.items()}
            report.reported_answers[name] = {w: (c.live_answers, c.abandoned) for w, c in restored.items()}
    finally:
        await store.close()


async def restored_abandon_windows(store: Store, name: str) -> dict[str, AbandonCounts]:
    """What each abandon window holds for an engine taking campaign ``name`` over: its runner's
    trackers (the exported windows) restored from the store as at every take-over."""
    campaign = await store.get_campaign(name)
    tally = OutcomeTally(name, DialerMetrics(CollectorRegistry()))
    memory = CampaignMemory(
        campaign,
        store=store,
        ledger=AbandonLedger(list(tally.trackers.values())),
        stats=None,
        settings=MemorySettings(),
    )
    now = time.time()
    await memory.restore(now)
    assert memory.restored
    return {w: t.counts(now) for w, t in tally.trackers.items()}
