"""Several ``dialer run`` on one database (issue 15): ownership, take-over, fencing.

Real processes on the embedded PostgreSQL and the simulated PBX (``tests/engine_process.py``).
SIGKILL one of two engines mid-campaign: its campaigns are owned again within the take-over
bound, its calls are adopted or closed, and from the attempts table no contact was dialled
twice at once and no attempt is left open. SIGSTOP an owner past its heartbeat: another
engine takes over, and once SIGCONT wakes the old one up it opens no attempt and stops its
runner.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import signal
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import asyncpg
import numpy as np
import pytest

from ami.simulator.server import SimulatedPbx
from dialer.cli import demo
from dialer.contacts import importer as contact_import
from dialer.contacts.csv_reader import read_contacts
from dialer.model import CampaignState, DialingMode
from dialer.store.store import Store
from tests.engine_process import (
    POPULATION,
    SECRET,
    TIME_SCALE,
    EngineProcess,
    attempt_rows,
    kill_left,
    wait_for,
    write_config,
)

TAKEOVER_S = 4.0
# take-over time (no heartbeat for TAKEOVER_S) + the next heartbeat of the survivor
# (TAKEOVER_S / 4) + slack for a loaded 2-core machine
BOUND_S = TAKEOVER_S * 1.25 + 4.0
CONTACTS = 150


@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


async def _campaigns(dsn: str, modes: list[DialingMode]) -> list[str]:
    """One paused demo campaign per mode, each with its own contacts (one number each); their
    queues. Paused until the engines are up (:func:`_start_campaigns`): a campaign started
    before would be dialled through by the first engine while the others start."""
    store = await Store.open(dsn)
    try:
        queues = []
        for i, mode in enumerate(modes):
            await demo.build(store, contacts=0, seed=11, mode=mode, agents=3, running=False)
            name = demo.campaign_name(mode)
            lines = demo.sample_csv(CONTACTS, 20 + i).splitlines()[1:]
            text = "name,phone\n" + "".join(f"K {n},{line.split(',')[1]}\n" for n, line in enumerate(lines))
            await contact_import.import_contacts(
                store.pool, name, read_contacts(io.StringIO(text), default_region="PL"), source="test"
            )
            queues.append((await store.get_campaign(name)).queue)
        return queues
    finally:
        await store.close()


async def _pbx(queues: list[str]) -> SimulatedPbx:
    pbx = SimulatedPbx(
        secret=SECRET,
        time_scale=TIME_SCALE,
        queues=tuple(queues),
        population=POPULATION,
        rng=np.random.default_rng(5),
        agent_ring_s=1.0,
        auth_fail_delay_s=0.05,
    )
    await pbx.start()
    return pbx


async def _start_campaigns(dsn: str, engine_ids: list[str], names: list[str]) -> None:
    """Once every engine has sent a heartbeat, set the campaigns running."""

    async def up() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            return bool(await conn.fetchval("SELECT count(*) = $1 FROM engines", len(engine_ids)))
        finally:
            await conn.close()

    await wait_for(up, timeout_s=45, every_s=0.2, what=f"engines {engine_ids} up")
    store = await Store.open(dsn)
    try:
        for name in names:
            await store.set_campaign_state(name, CampaignState.RUNNING)
    finally:
        await store.close()


async def _engine(tmp_path: Path, dsn: str, port: int, engine_id: str) -> EngineProcess:
    folder = tmp_path / engine_id
    folder.mkdir()
    config = write_config(folder / "dialer.toml", ami_port=port, engine_id=engine_id)
    with config.open("a") as f:
        f.write(f"takeover_s = {TAKEOVER_S}\n")
    return await EngineProcess.start(config, dsn, tmp_path / f"{engine_id}.log")


async def _owners(dsn: str) -> dict[str, tuple[str | None, int]]:
    """campaign name -> (owner engine, token)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT c.name, o.engine_id, o.token
               FROM campaign_owners o JOIN campaigns c ON c.id = o.campaign_id"""
        )
    finally:
        await conn.close()
    return {r["name"]: (r["engine_id"], r["token"]) for r in rows}


def _assert_never_twice_at_once(attempts: list[asyncpg.Record]) -> None:
    by_contact: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for r in attempts:
        by_contact[r["contact_id"]].append(r)
    for rows in by_contact.values():
        for earlier, later in itertools.pairwise(sorted(rows, key=lambda r: r["started_at"])):
            assert earlier["ended_at"] <= later["started_at"], (dict(earlier), dict(later))


async def test_sigkill_of_an_engine_its_campaigns_are_owned_again_within_the_bound(
    dsn: str, tmp_path: Path
) -> None:
    modes = [DialingMode.PREDICTIVE, DialingMode.PROGRESSIVE]
    queues = await _campaigns(dsn, modes)
    names = [demo.campaign_name(m) for m in modes]
    pbx = await _pbx(queues)
    engines = {
        "eng-a": await _engine(tmp_path, dsn, pbx.port, "eng-a"),
        "eng-b": await _engine(tmp_path, dsn, pbx.port, "eng-b"),
    }
    try:
        await _start_campaigns(dsn, list(engines), names)

        async def busy() -> bool:
            owners = await _owners(dsn)
            rows = [r for n in names for r in await attempt_rows(dsn, n)]
            return (
                set(owners) == set(names)
                and all(owner is not None for owner, _ in owners.values())
                and len({owner for owner, _ in owners.values()}) == 2  # one each: the fair share
                and sum(r["ended_at"] is None for r in rows) >= 2
                and len(rows) >= 8
            )

        await wait_for(busy, timeout_s=45, every_s=0.2, what="both campaigns owned, calls up")
        owners = await _owners(dsn)
        victim = owners[names[0]][0]
        assert victim is not None
        survivor = next(e for e in engines if e != victim)
        engines[victim].kill()
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        assert -9 == await engines[victim].wait(10)
        at_kill = {r["id"]: r for n in names for r in await attempt_rows(dsn, n)}
        open_at_kill = {i for i, r in at_kill.items() if r["ended_at"] is None and r["engine_id"] == victim}

        async def owned_again() -> bool:
            now = await _owners(dsn)
            return all(now[n][0] == survivor for n in names)

        await wait_for(owned_again, timeout_s=BOUND_S + 10, every_s=0.1, what="every campaign owned again")
        took_s = loop.time() - killed_at
        assert took_s <= BOUND_S, f"take-over took {took_s:.1f} s, bound {BOUND_S} s"
        assert owners[names[0]][1] < (await _owners(dsn))[names[0]][1]  # a new token

        async def settled() -> bool:
            rows = {r["id"]: r for n in names for r in await attempt_rows(dsn, n)}
            return all(rows[i]["ended_at"] is not None for i in open_at_kill) and len(rows) > len(at_kill) + 3

        await wait_for(settled, timeout_s=40, every_s=0.2, what="the victim's calls closed, dialling on")
        engines[survivor].terminate()
        assert 0 == await engines[survivor].wait(40), engines[survivor].log_text()[-3000:]
    finally:
        await kill_left(*engines.values())
        await pbx.close()
    attempts = [r for n in names for r in await attempt_rows(dsn, n)]
    assert [] == [r["id"] for r in attempts if r["ended_at"] is None]
    _assert_never_twice_at_once(attempts)
    # the calls the victim left open were taken over and closed by the survivor
    closed_by = {r["engine_id"] for r in attempts if r["id"] in open_at_kill}
    assert closed_by <= {survivor}, closed_by
    assert '"event": "campaign_taken_over"' in engines[survivor].log_text()
    # no contact is held by the dead engine beyond its hopper's short lease (3 s)
    conn = await asyncpg.connect(dsn)
    try:
        held = await conn.fetchval(
            """SELECT count(*) FROM contacts
               WHERE lease_owner = $1 AND lease_expires_at > now() + interval '5 s'""",
            victim,
        )
    finally:
        await conn.close()
    assert 0 == held


async def test_a_stalled_owner_is_fenced_off_when_it_wakes_up(dsn: str, tmp_path: Path) -> None:
    [queue] = await _campaigns(dsn, [DialingMode.PREDICTIVE])
    name = demo.CAMPAIGN
    pbx = await _pbx([queue])
    engines = {e: await _engine(tmp_path, dsn, pbx.port, e) for e in ("stall-a", "stall-b")}
    stopped = False
    try:
        await _start_campaigns(dsn, list(engines), [name])

        async def dialling() -> bool:
            rows = await attempt_rows(dsn, name)
            return (await _owners(dsn)).get(name, (None, 0))[0] is not None and len(rows) >= 4

        await wait_for(dialling, timeout_s=45, every_s=0.2, what="the campaign owned and dialled")
        owner = (await _owners(dsn))[name][0]
        first = engines[owner or ""]
        other = next(e for e in engines if e != owner)
        second = engines[other]
        os.kill(first.proc.pid, signal.SIGSTOP)
        stopped = True
        token_before = (await _owners(dsn))[name][1]

        async def taken() -> bool:
            return (await _owners(dsn))[name][0] == other

        await wait_for(taken, timeout_s=BOUND_S + 10, every_s=0.1, what="the other engine takes it over")
        conn = await asyncpg.connect(dsn)
        try:
            taken_at = await conn.fetchval(
                "SELECT o.acquired_at FROM campaign_owners o JOIN campaigns c ON c.id = o.campaign_id"
                " WHERE c.name = $1",
                name,
            )
        finally:
            await conn.close()
        assert (await _owners(dsn))[name][1] == token_before + 1

        async def b_dials() -> bool:
            return sum(r["engine_id"] == other for r in await attempt_rows(dsn, name)) >= 3

        await wait_for(b_dials, timeout_s=30, every_s=0.2, what="the new owner dialling")
        os.kill(first.proc.pid, signal.SIGCONT)
        stopped = False
        await wait_for(
            lambda: _logged(first, "campaign_ownership_lost"),  # type: ignore[arg-type]
            timeout_s=20,
            what="the old owner learns it lost the campaign",
        )
        await asyncio.sleep(2.0)  # whatever stall-a would still do, it has had time to try
        first.terminate()
        second.terminate()
        assert 0 == await first.wait(40), first.log_text()[-3000:]
        assert 0 == await second.wait(40), second.log_text()[-3000:]
    finally:
        if stopped:
            os.kill(first.proc.pid, signal.SIGCONT)
        await kill_left(*engines.values())
        await pbx.close()
    attempts = await attempt_rows(dsn, name)
    # the woken engine opened nothing after the take-over, and nothing is left open
    assert [] == [r["id"] for r in attempts if r["engine_id"] == owner and r["started_at"] >= taken_at]
    assert [] == [r["id"] for r in attempts if r["ended_at"] is None]
    _assert_never_twice_at_once(attempts)
    # its runner stopped without taking the agents out of stall-b's queue
    log = first.log_text()
    assert '"event": "runner_stopped"' in log.split('"event": "campaign_ownership_lost"', 1)[1]


async def _logged(engine: EngineProcess, event: str) -> bool:
    return f'"event": "{event}"' in engine.log_text()
