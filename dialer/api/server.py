"""The API served on the engine's event loop: :class:`ApiServer` (uvicorn, embedded).

The server binds its socket itself (so a taken port is an ``OSError`` at :meth:`ApiServer.start`,
which the composition root reports as ``api.port``, and port 0 picks a free one), runs
uvicorn's server loop as a task of the engine's loop, keeps the agent sessions in step with
the runners every ``sync_s``, and runs the event streams' hub (:mod:`dialer.api.event_hub`).
uvicorn's own signal handlers are not installed: the engine's (``dialer run``) decide when
to stop. Its access log is off: a request line may carry what does not belong in a log, and
the API logs its own facts. HTTP is parsed by httptools (a dependency; uvicorn picks it when
installed): measured on the API's requests, about half the server CPU of uvicorn's pure-Python
h11 (``benchmarks/api.py`` notes).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import structlog
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from config import ApiConfig, CampaignDefaultsConfig
from dialer.api.application import create_api
from dialer.api.context import ApiContext
from dialer.api.event_hub import EventHub
from dialer.api.ratelimit import LoginLimiter
from dialer.api.sessions import AgentSessions
from dialer.api.timing import Observe
from dialer.campaign.engine import Engine
from dialer.clock import Clock
from dialer.store.store import Store

log = structlog.get_logger(__name__)

__all__ = ["ApiServer", "build_api_server"]

# uvicorn's default: connections the kernel holds until the loop accepts them (the socket's
# own default, 128, is fewer than the agents of one engine opening requests at once; a full
# queue drops the connection attempt, which the client retries a second or more later).
_BACKLOG = 2048
_KEEP_ALIVE_S = 75  # seconds an idle connection stays open between an agent's clicks


class _NoDelayHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol on a connection with Nagle's algorithm off.

    Why: uvicorn writes a response's headers and its body in two sends. asyncio turns Nagle
    off only on sockets whose ``proto`` is TCP, and the sockets accepted from the listening
    socket we bind (``socket.create_server``: proto 0) are not, so on a kept-alive connection
    the body waited for the client's delayed ACK of the headers: 40 ms on every request of a
    browser that clicks again within a second or so (measured: 41.7 ms against 0.9 ms).
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the engine owns SIGTERM/SIGINT


class ApiServer:
    """The HTTP API of one engine process.

    Args:
        ctx: what the endpoints use.
        host, port: where to listen (``port=0``: any free port; see :attr:`port` after start).
        sync_s: how often agent sessions join newly started runners.
    """

    def __init__(self, ctx: ApiContext, *, host: str, port: int, sync_s: float = 1.0) -> None:
        self.ctx = ctx
        self.host = host
        self.port = port
        self._sync_s = sync_s
        self.app = create_api(ctx)
        self.hub = EventHub(ctx)
        self._server: _EmbeddedServer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Listen and serve. Raises ``OSError`` if the address cannot be bound."""
        sock = socket.create_server((self.host, self.port), reuse_port=False, backlog=_BACKLOG)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            proxy_headers=False,
            backlog=_BACKLOG,
            # A browser keeps its connection between an agent's clicks; uvicorn's default (5 s)
            # closed it between most of them, and each click then paid a new connection on
            # the loop that dials (issue 9's action tail).
            timeout_keep_alive=_KEEP_ALIVE_S,
            http=_NoDelayHttp,
        )
        self._server = _EmbeddedServer(config)
        self._tasks = [
            asyncio.create_task(self._server.serve(sockets=[sock]), name="api-server"),
            asyncio.create_task(self._sync(), name="api-sessions"),
            asyncio.create_task(self.hub.looks(), name="api-event-looks"),
            asyncio.create_task(self.hub.checks(), name="api-event-checks"),
        ]
        for _ in range(200):
            if self._server.started or self._tasks[0].done():
                break
            await asyncio.sleep(0.01)
        if self._tasks[0].done():
            self._tasks[0].result()
        log.info("api_listening", host=self.host, port=self.port)

    async def _sync(self) -> None:
        while True:
            try:
                await self.ctx.sessions.sync()
            except Exception as err:  # a board refused or the database is down: next time
                log.warning("api_sessions_sync_failed", error=type(err).__name__)
            await asyncio.sleep(self._sync_s)

    async def close(self) -> None:
        """Stop serving: event streams end, connections close, the sessions task stops."""
        self.ctx.closing.set()
        self.ctx.streams.wake_all()
        if self._server is not None:
            self._server.should_exit = True
        for task in self._tasks[1:]:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []


def build_api_server(
    settings: ApiConfig,
    *,
    store: Store,
    engine: Engine,
    clock: Clock,
    default_region: str,
    campaign_defaults: CampaignDefaultsConfig | None = None,
    observe_latency: Observe | None = None,
) -> ApiServer:
    """The API over the engine's store, engine and clock (called by :func:`dialer.app.build_app`)."""
    ctx = ApiContext(
        store=store,
        engine=engine,
        clock=clock,
        settings=settings,
        default_region=default_region,
        limiter=LoginLimiter(
            per_user=settings.login_failures_per_user,
            per_address=settings.login_failures_per_address,
            window_s=settings.login_window_s,
        ),
        sessions=AgentSessions(engine),
        campaign_defaults=campaign_defaults or CampaignDefaultsConfig(),
        observe_latency=observe_latency,
    )
    return ApiServer(ctx, host=settings.host, port=settings.port)
