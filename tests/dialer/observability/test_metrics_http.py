"""The /metrics endpoint over a real socket, on an isolated registry."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter

from dialer.observability.metrics_http import MetricsServer


async def http_get(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_serves_the_injected_registry_only() -> None:
    registry = CollectorRegistry()
    Counter("dialer_demo_things", "things", registry=registry).inc(3)
    server = MetricsServer(registry, port=0)
    await server.start()
    try:
        status, body = await http_get(server.port, "/metrics")
        assert 200 == status
        assert b"dialer_demo_things_total 3.0" in body
        assert b"python_gc" not in body  # not the global registry
        assert 404 == (await http_get(server.port, "/nope"))[0]
        assert 405 == (await http_get(server.port, "/metrics", "POST"))[0]
    finally:
        await server.close()


async def test_garbage_request_does_not_stop_the_server() -> None:
    server = MetricsServer(CollectorRegistry(), port=0)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"\x00\x01garbage\r\n\r\n")
        await writer.drain()
        await reader.read()
        writer.close()
        assert 200 == (await http_get(server.port, "/metrics"))[0]
    finally:
        await server.close()
