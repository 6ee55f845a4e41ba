"""``dialer engines`` (issue 15 item 4) on the success path: the engines sharing the database,
each with its state and the campaigns it owns."""

from __future__ import annotations

import asyncio

from dialer.store.store import Store
from tests.dialer.cli.test_cli import cli_dsn, dialer

__all__ = ["cli_dsn", "dialer"]  # the fixtures, used by name


async def _two_engines(dsn: str) -> None:
    """engine-a alive owning NORTH and SOUTH, engine-b stopped (handed back what it had)."""
    store = await Store.open(dsn, min_size=1, max_size=2, migrate_now=False)
    try:
        north, south, west = [(await store.get_campaign(n)).id for n in ("NORTH", "SOUTH", "WEST")]
        tokens = {}
        for camp_id in (north, south):
            got = await store.take_campaign("engine-a", camp_id, expiry_s=30)
            assert got is not None
            tokens[camp_id] = got[0]
        await store.engine_heartbeat("engine-a", tokens, host="host-a", pid=4242, max_campaigns=2)
        got = await store.take_campaign("engine-b", west, expiry_s=30)
        assert got is not None
        await store.engine_heartbeat("engine-b", {west: got[0]}, host="host-b", pid=4343)
        await store.hand_back_campaigns("engine-b")
    finally:
        await store.close()


def test_engines_lists_each_engine_with_its_state_and_campaigns(dialer, cli_dsn: str) -> None:  # type: ignore[no-untyped-def]
    assert 0 == dialer("db", "migrate")[0]
    code, out, _ = dialer("engines")
    assert (0, "no engine has run on this database") == (code, out.strip())
    assert 0 == dialer("schedule", "create", "ALWAYS", "--daily", "--window", "00:00-23:59")[0]
    for name in ("NORTH", "SOUTH", "WEST"):
        assert 0 == dialer("campaign", "create", name, "--schedule", "ALWAYS")[0]
    asyncio.run(_two_engines(cli_dsn))
    code, out, err = dialer("engines")
    assert 0 == code, err
    header, first, second = out.strip().splitlines()
    assert header.split()[:4] == ["ENGINE", "STATE", "HEARTBEAT", "CALLS"]
    assert first.split()[:2] == ["engine-a", "alive"]  # the live ones first
    assert "host-a:4242" in first and first.endswith("NORTH, SOUTH")
    assert second.split()[:2] == ["engine-b", "stopped"] and second.endswith("-")  # handed back
