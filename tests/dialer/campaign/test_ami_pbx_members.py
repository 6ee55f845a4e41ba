"""The PBX port's queue actions over real AMI (issue 19 items 3 and 6).

An "Already there" to a QueueAdd and a "Not there" to a QueueRemove mean the member already
is as asked: success, and no log line (a reconnect used to write ten of them). The members'
QueueStatus is what the reconciliation reads.
"""

from __future__ import annotations

from structlog.testing import capture_logs

from tests.dialer.campaign.runner_fixtures import agent_interface, pbx_rig


async def test_already_there_and_not_there_are_success_without_a_log_line() -> None:
    async with pbx_rig("qa") as rig:
        iface = agent_interface(7)
        with capture_logs() as logs:
            await rig.pbx.queue_add("qa", iface, member_name="a7", paused=False)
            await rig.pbx.queue_add("qa", iface, member_name="a7", paused=False)  # Already there
            assert {iface} == await rig.pbx.queue_members("qa")
            await rig.pbx.queue_remove("qa", iface)
            await rig.pbx.queue_remove("qa", iface)  # Not there
            assert set() == await rig.pbx.queue_members("qa")
        assert [] == [e for e in logs if e["event"].startswith("queue_action")]
        assert "qa" in rig.sim.queues and iface not in rig.sim.queues["qa"].members
