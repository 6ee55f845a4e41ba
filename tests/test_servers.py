"""Several Asterisk servers per campaign (issue 15 item 3), with a real ``dialer run``.

Two simulated PBXs over real sockets, both in the group ``east`` the campaign names. The
campaign's agents: one whose phone is on ``pbx1``, one on ``pbx2``, one on any server. Calls
spread over both servers; each homed agent is a queue member on its own server only. Then
``pbx1`` becomes unreachable mid-campaign: calls go on through ``pbx2``; when it is reachable
again the engine reconciles the calls it had up there (``CoreShowChannels``) and dials
through it again. From the attempts table: every attempt closed, no contact dialled twice at
once, no contact held.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from ami.simulator.server import SimulatedPbx
from dialer.cli import demo
from dialer.model import DialingMode
from dialer.store.store import Store
from tests.engine_process import (
    attempt_rows,
    kill_left,
    make_campaigns,
    start_campaigns,
    start_engine,
    start_multi_pbx,
    wait_for,
)
from tests.test_engines import assert_never_twice_at_once

CONTACTS = 400


@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


def _members(pbx: SimulatedPbx, queue: str) -> set[str]:
    return {m.interface for m in pbx.queue(queue).members.values()}


def _attempts_up(pbx: SimulatedPbx) -> set[int]:
    """The attempt ids of the calls up on ``pbx`` (our Originates' ActionID: dlr-<attempt id>)."""
    ids = (call.action_id or "" for call in pbx.calls_by_uid.values())
    return {int(i.removeprefix("dlr-")) for i in ids if i.startswith("dlr-")}


async def test_calls_spread_over_two_pbxs_one_drops_and_returns(dsn: str, tmp_path: Path) -> None:
    mode = DialingMode.PROGRESSIVE
    [queue] = await make_campaigns(dsn, [mode], contacts=CONTACTS)
    name = demo.campaign_name(mode)
    store = await Store.open(dsn)
    try:
        await store.update_campaign(name, servers=("east",))
        agents = await store.campaign_agents(name)
        on1, on2 = agents[0], agents[1]
        await store.update_agent(on1.name, server="pbx1")
        await store.update_agent(on2.name, server="pbx2")
    finally:
        await store.close()
    pbx1 = await start_multi_pbx([queue], seed=5)
    pbx2 = await start_multi_pbx([queue], seed=6)
    servers = [("pbx1", pbx1.port, "east"), ("pbx2", pbx2.port, "east")]
    engine = await start_engine(tmp_path, dsn, 0, "srv-a", takeover_s=4.0, servers=servers)
    try:
        await start_campaigns(dsn, ["srv-a"], [name])

        async def both_dial() -> bool:
            return pbx1.action_counts["originate"] >= 4 and pbx2.action_counts["originate"] >= 4

        await wait_for(both_dial, timeout_s=60, every_s=0.2, what="calls on both PBXs")
        # an agent is a queue member on the server its phone is on, and only there
        assert on1.interface in _members(pbx1, queue) and on1.interface not in _members(pbx2, queue)
        assert on2.interface in _members(pbx2, queue) and on2.interface not in _members(pbx1, queue)
        anywhere = agents[2].interface
        assert anywhere in _members(pbx1, queue) and anywhere in _members(pbx2, queue)

        async def up_on_pbx1() -> bool:
            return bool(_attempts_up(pbx1))

        await wait_for(up_on_pbx1, timeout_s=20, what="a call up on pbx1")
        await pbx1.unreachable()
        up_on_1 = _attempts_up(pbx1)
        assert up_on_1
        originated_1 = pbx1.action_counts["originate"]
        originated_2 = pbx2.action_counts["originate"]

        async def on_through_pbx2() -> bool:
            return pbx2.action_counts["originate"] >= originated_2 + 6

        await wait_for(on_through_pbx2, timeout_s=30, every_s=0.2, what="calls going on through pbx2")
        assert pbx1.action_counts["originate"] == originated_1  # out of the rotation
        await pbx1.reachable()

        async def reconciled() -> bool:
            rows = {r["id"]: r for r in await attempt_rows(dsn, name)}
            return (
                all(rows[i]["ended_at"] is not None for i in up_on_1)
                and pbx1.action_counts["originate"] > originated_1 + 2
            )

        await wait_for(
            reconciled, timeout_s=40, every_s=0.2, what="pbx1's calls reconciled, pbx1 dialled again"
        )
        log = engine.log_text()
        assert '"event": "inflight_audited"' in log.split('"event": "ami_connection_lost"', 1)[1]
        engine.terminate()
        assert 0 == await engine.wait(40), engine.log_text()[-3000:]
    finally:
        await kill_left(engine)
        await pbx1.close()
        await pbx2.close()
    attempts = await attempt_rows(dsn, name)
    assert [] == [r["id"] for r in attempts if r["ended_at"] is None]
    assert_never_twice_at_once(attempts)
    # no contact is held, but answered ones waiting for their agent's disposition (kept by design)
    conn = await asyncpg.connect(dsn)
    try:
        held = await conn.fetch(
            "SELECT id FROM contacts WHERE lease_owner IS NOT NULL AND lease_expires_at > now()"
        )
    finally:
        await conn.close()
    store = await Store.open(dsn)
    try:
        waiting = {a.contact_id for a in await store.awaiting_disposition("srv-a")}
    finally:
        await store.close()
    assert {r["id"] for r in held} <= waiting
