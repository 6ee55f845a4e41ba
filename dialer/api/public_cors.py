"""CORS for the public endpoints (``/api/v1/public/...``): a website's own pages may call them
from a browser (issue 13, "the public endpoint can be put on a website").

Theory of operation: the website's key travels in the ``X-Api-Key`` header, so every browser
call is preceded by a preflight (``OPTIONS`` with ``Access-Control-Request-Method``), which
carries no key: the preflight is answered for an origin that *any* site in use names
(:meth:`~dialer.store.web_callbacks.WebCallbacks.callback_origin_known`), and refused (403)
otherwise. The real request then carries the key: the endpoint's dependency
(:func:`dialer.api.callbacks.site_of_request`) checks the request's ``Origin`` against *that*
site's origins -- refusing a page of another origin -- and leaves the allowed origin in the
request's scope, from where this middleware writes ``Access-Control-Allow-Origin`` on the
answer, errors included (a page can show "slot full"). No wildcard is ever answered and
credentials (cookies) are not allowed: the key is the only credential. Every answer of these
paths says ``Vary: Origin`` so a cache does not hand one site's answer to another's page.

A pure ASGI middleware rather than Starlette's ``CORSMiddleware``: the allowed origins are
rows of the database that change while the engine runs, not a list fixed at start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg
from starlette.responses import JSONResponse, Response

from dialer.api.errors import error_body
from dialer.callbacks.sites import parse_origin
from dialer.errors import StoreError, ValidationError

__all__ = ["ORIGIN_SCOPE_KEY", "PUBLIC_PREFIX", "PublicCors", "allow_origin"]

PUBLIC_PREFIX = "/api/v1/public/"
#: The scope entry where the endpoint leaves the origin it allowed (a dict shared down the stack).
ORIGIN_SCOPE_KEY = "dialer.cors"
_PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Content-Type, X-Api-Key",
    "Access-Control-Max-Age": "600",
    "Vary": "Origin",
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def allow_origin(scope: Scope, origin: str) -> None:
    """Let the answer to this request name ``origin`` (called once the site's key is checked)."""
    holder = scope.get(ORIGIN_SCOPE_KEY)
    if isinstance(holder, dict):
        holder["origin"] = origin


class PublicCors:
    """The middleware (see the module docstring); other paths pass through untouched."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PUBLIC_PREFIX):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if scope["method"] == "OPTIONS" and origin and _header(scope, b"access-control-request-method"):
            response = await self._preflight(scope, origin)
            await response(scope, receive, send)
            return
        holder: dict[str, str] = {}
        scope[ORIGIN_SCOPE_KEY] = holder

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"vary", b"Origin")]
                if "origin" in holder:
                    headers.append((b"access-control-allow-origin", holder["origin"].encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, origin: str) -> Response:
        store = scope["app"].state.ctx.store
        try:
            canonical: str | None = parse_origin(origin, "origin")
        except ValidationError:
            canonical = None
        # a browser sends an origin in its canonical form; anything else is no site's page
        try:
            known = canonical == origin and await store.callback_origin_known(origin)
        except (StoreError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            body = error_body("unavailable", "the database cannot be reached now; retry")
            return JSONResponse(body, status_code=503, headers={"Vary": "Origin"})
        if not known:
            body = error_body(
                "forbidden",
                "no web callback site allows calls from this origin",
                field="origin",
                value=origin,
            )
            return JSONResponse(body, status_code=403, headers={"Vary": "Origin"})
        return Response(status_code=204, headers={**_PREFLIGHT, "Access-Control-Allow-Origin": origin})
