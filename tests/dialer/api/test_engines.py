"""``GET /api/v1/engines`` (issue 15): the engines on the database, what each owns, as the CLI."""

from __future__ import annotations

from dialer.cli.engine import format_engines
from dialer.model import DialingMode
from dialer.store.users import Role
from tests.dialer.api.conftest import Rig


async def test_a_supervisor_sees_the_engine_and_the_campaign_it_owns(rig: Rig) -> None:
    await rig.user("sue", Role.SUPERVISOR)
    sue = await rig.login("sue")
    await rig.campaign("ENG1", "q-eng1", DialingMode.PROGRESSIVE)
    await rig.running("ENG1")
    r = await rig.client.get("/api/v1/engines", headers=sue)
    assert 200 == r.status_code, r.text
    [me] = [e for e in r.json() if e["engine_id"] == "api-test"]
    assert (True, ["ENG1"], None) == (me["alive"], me["campaigns"], me["stopped_at"])
    assert 0 <= me["heartbeat_age_s"] < 10 and me["calls"] >= 0 and me["pid"] > 0
    # the CLI prints the same rows from the same store function
    text = format_engines(await rig.store.engines(expiry_s=10))
    [line] = [x for x in text.splitlines() if x.startswith("api-test")]
    assert "alive" in line and "ENG1" in line
