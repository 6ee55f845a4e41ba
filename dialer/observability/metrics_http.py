"""The ``/metrics`` endpoint, served on the engine's own event loop.

Why not prometheus_client's ``start_http_server``: it scrapes from a thread, and the
engine's scrape-time collector (:class:`dialer.observability.metrics.EngineCollector`) reads runner state
(agent boards, hoppers) that only the event loop mutates. Serving on the loop makes every
scrape see a consistent engine without locks (STYLE rule 3: no global locks). A scrape
costs one ``generate_latest`` call; the handler only reads one request head.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = structlog.get_logger(__name__)

# A request head larger than this is not a scraper's; refuse rather than buffer it.
_MAX_HEAD_BYTES = 16_384
_READ_TIMEOUT_S = 5.0


class MetricsServer:
    """A minimal HTTP/1.0 server answering ``GET /metrics`` from one registry.

    Args:
        registry: the registry to expose (the composition root's, never the global one).
        host, port: where to listen; ``port=0`` picks a free port (see :attr:`port`).
    """

    def __init__(self, registry: CollectorRegistry, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._registry = registry
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen. Raises ``OSError`` if the port is taken (the caller names the config key)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("metrics_listening", host=self.host, port=self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT_S)
            if len(head) > _MAX_HEAD_BYTES:
                raise ValueError("request head too large")
            method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            path = path.split("?", 1)[0]
            if method not in ("GET", "HEAD"):
                writer.write(_response(405, b"method not allowed\n", "text/plain"))
            elif path in ("/metrics", "/"):
                body = generate_latest(self._registry)
                writer.write(_response(200, b"" if method == "HEAD" else body, CONTENT_TYPE_LATEST))
            else:
                writer.write(_response(404, b"not found; try /metrics\n", "text/plain"))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            pass  # a client that hung up or sent garbage: nothing to answer
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}


def _response(status: int, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.0 {status} {_REASONS[status]}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body
