"""The API keeps a browser's connection open between an agent's clicks (uvicorn's default closed
it after 5 s idle, and each click then paid a new connection on the loop that dials), with
Nagle's algorithm off (else each response's body waited 40 ms for the client's delayed ACK)."""

from __future__ import annotations

import asyncio
import json
import socket

import uvicorn
from uvicorn.server import ServerState

from benchmarks.api import KeptConnection
from dialer.api.server import _NoDelayHttp
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


async def test_connections_are_served_with_nagles_algorithm_off() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # as ApiServer binds: proto 0
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        # asyncio turns Nagle off only where proto is TCP: not on these sockets by itself
        assert 0 == accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        config = uvicorn.Config(lambda scope, receive, send: None, http=_NoDelayHttp, log_config=None)
        config.load()
        protocol = _NoDelayHttp(config=config, server_state=ServerState(), app_state={})
        transport, _ = await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, accepted)
        assert 0 != accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        transport.close()
    finally:
        client.close()
        listener.close()
