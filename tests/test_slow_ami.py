"""A slow PBX neither stalls dialling nor strands agents paused (issue 19 item 3).

The simulated PBX answers every AMI action late (``response_delay_s``; it applies the action
at once, as Asterisk does before it writes the response). The real engine from
:func:`dialer.app.build_app` runs in the test's loop over TCP. Checked after each fault: the
PBX's queue members equal the engine's agents (a ready agent is an unpaused member, a held
one is paused with the dialer's reason, a paused one paused), no attempt is left open, and
no contact is leased once the engine has stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from structlog.testing import capture_logs

from ami.simulator.server import SimulatedPbx
from dialer.agents.state import AgentState
from dialer.campaign.runner import CampaignRunner
from tests.engine_process import attempt_rows, contact_rows, make_campaign, start_pbx, wait_for
from tests.test_resilience import start_engine, stop_engine


@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


async def list_everyone(dsn: str) -> None:
    """Put every number on the do-not-call list: nothing more is dialled, calls up finish."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO do_not_call (e164, reason) SELECT DISTINCT e164, 'test' FROM contact_phones"
            " ON CONFLICT DO NOTHING"
        )
    finally:
        await conn.close()


def member_mismatches(runner: CampaignRunner, pbx: SimulatedPbx) -> list[str]:
    """Where the PBX's members and the engine's agents disagree (empty: they agree)."""
    queue = pbx.queues[runner.campaign.queue]
    wrong: list[str] = []
    for view in runner.agents.views():
        member = queue.members.get(view.interface)
        state = view.state
        if state is AgentState.LOGGED_OUT:
            if member is not None:
                wrong.append(f"{view.agent_id}: logged out, still a member")
            continue
        if member is None:
            wrong.append(f"{view.agent_id}: {state.value}, no member on the PBX")
        elif state is AgentState.READY and member.paused:
            wrong.append(f"{view.agent_id}: ready, paused on the PBX ({member.paused_reason})")
        elif state in (AgentState.RESERVED, AgentState.OFFERED, AgentState.WRAP_UP) and not (
            member.paused and member.paused_reason.startswith("dialer:")
        ):
            shown = f"paused={member.paused} {member.paused_reason!r}"
            wrong.append(f"{view.agent_id}: {state.value}, PBX {shown}")
        elif state is AgentState.PAUSED and not member.paused:
            wrong.append(f"{view.agent_id}: paused, unpaused on the PBX")
    return wrong


async def members_agree(runner: CampaignRunner, pbx: SimulatedPbx) -> None:
    """Wait (the PBX answers late) until no call is up and members equal agents, else fail naming them."""

    async def settled() -> bool:
        busy = runner.in_flight or runner.effects.queue_actions_pending
        return not busy and not member_mismatches(runner, pbx)

    try:
        await wait_for(settled, timeout_s=30, what="the PBX's members to equal the engine's agents")
    except AssertionError as e:
        raise AssertionError(f"{e}: {member_mismatches(runner, pbx)}") from None


async def test_slow_responses_keep_dialling_and_leave_no_agent_stranded(dsn: str, tmp_path: Path) -> None:
    queue = await make_campaign(dsn, contacts=60)
    pbx = await start_pbx(queue)
    pbx.response_delay_s = 1.5  # every AMI response, the Login's included, 1.5 s late
    with capture_logs() as logs:
        engine = await start_engine(dsn, tmp_path, pbx.port)
        try:
            runner = engine.runner

            async def dialling() -> bool:
                return runner.stats().attempts >= 40

            await wait_for(dialling, timeout_s=90, what="40 attempts through the slow PBX")
            await list_everyone(dsn)  # no more calls: the agents end ready once the last is over
            await members_agree(runner, pbx)
            # What a lost release or a PBX that lost a member leaves: a ready agent still held
            # by a dialer: pause, and a member gone, both without an event. A reconnect's
            # QueueStatus reconciliation puts both right.
            pbx.response_delay_s = 0.0
            members = pbx.queues[queue].members
            ready = [v for v in runner.agents.views() if v.state is AgentState.READY]
            assert len(ready) >= 2, ready
            stale, gone = members[ready[0].interface], ready[1].interface
            stale.paused, stale.paused_reason = True, "dialer:reserved"
            del members[gone]
            assert len(member_mismatches(runner, pbx)) == 2
            pbx.drop_connections()
            await members_agree(runner, pbx)
        finally:
            await stop_engine(engine)
            await pbx.close()
    attempts = await attempt_rows(dsn, "DEMO")
    assert [] == [dict(r) for r in attempts if r["ended_at"] is None]
    assert [] == [c["id"] for c in await contact_rows(dsn, "DEMO") if c["lease_owner"] is not None]
    slow = {e.get("action") for e in logs if e["event"] == "ami_response_slow"}
    assert {"Login", "QueuePause"} <= slow, slow  # a slow PBX says which action and how long
