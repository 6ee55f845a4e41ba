"""The API keeps a browser's connection open between an agent's clicks (uvicorn's default closed
it after 5 s idle, and each click then paid a new connection on the loop that dials)."""

from __future__ import annotations

import asyncio
import json

from benchmarks.api import KeptConnection
from dialer.store.users import Role
from tests.dialer.api.conftest import Rig


async def test_a_connection_idle_longer_than_uvicorns_default_still_serves_the_next_click(rig: Rig) -> None:
    await rig.user("kim", Role.SUPERVISOR)
    headers = await rig.login("kim")
    assert rig.app.api_server is not None
    kept = KeptConnection(rig.app.api_server.port)
    try:
        first = await kept.request("GET", "/api/v1/me", headers)
        await asyncio.sleep(6.0)  # past uvicorn's default keep-alive of 5 s
        second = await kept.request("GET", "/api/v1/me", headers)
    finally:
        kept.close()
    for response in (first, second):
        assert response.startswith(b"HTTP/1.1 200"), response[:80]
        assert "kim" == json.loads(response.split(b"\r\n\r\n", 1)[1])["name"]
    assert 1 == kept.opened  # the same connection served both
