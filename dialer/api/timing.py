"""How long the API takes to answer, measured inside the engine: request in, headers out.

Why here and not only in a load client: the engine and the API share one process and, on a
small machine, the CPU with PostgreSQL and the PBX. A client's latency then holds the time
its own request waited for a CPU; this one holds what the engine's loop took (routing,
authentication, the endpoint, the loop's other work before it got to it), which is what a
deployment can act on. It is a Prometheus histogram (``dialer_api_request_seconds``) so that
an operator sees it in Grafana next to the decision latency, and ``benchmarks.api`` reports
it beside the client's figures.

The clock stops at the response's start (its status and headers): an event stream is timed
to its opening, not for the hours it stays open. Labels are the route's template
(``/api/v1/agents/{agent}/pause``), never the path itself, so no agent name, number or
token ever becomes a label; anything no API route matched (the console's files, a 404) is
``other``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["Observe", "RequestTiming", "route_label"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Where a timing goes: (route template, method, seconds).
Observe = Callable[[str, str, float], None]


def route_label(scope: Scope, prefix: str = "/api/v1") -> str:
    """The matched API route's template, or ``other``.

    A route included under ``prefix`` may carry its template without it (FastAPI keeps the
    router's own route in the scope), so the prefix is put back for a request under it.
    """
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str) or not path.startswith("/"):
        return "other"
    if path.startswith("/api/"):
        return path
    if str(scope.get("path", "")).startswith(prefix + "/"):
        return prefix + path
    return "other"


class RequestTiming:
    """Pure ASGI middleware: each HTTP request's time to its response's start, to ``observe``."""

    def __init__(self, app: App, observe: Observe | None = None, prefix: str = "/api/v1") -> None:
        self.app = app
        self.observe = observe
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        observe = self.observe
        if observe is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe(route_label(scope, self.prefix), scope["method"], time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)
