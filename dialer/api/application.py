"""The FastAPI application: routers under ``/api/v1``, the OpenAPI document, the error handlers.

Why FastAPI (issue 9 let us pick it or Litestar): its OpenAPI document comes from the same
pydantic models that validate requests, so ``/api/openapi.json`` cannot drift from what the
server accepts; it runs on uvicorn inside the engine's own event loop (no thread touches
the boards); and its dependency injection carries the authorisation rules per endpoint,
which the authorisation table test reads back from the document.

Every error leaves as :func:`~dialer.api.errors.error_body`: FastAPI's own validation
handler (``{"detail": [...]}``) and Starlette's 404/405 are replaced, and the engine's
errors map by type through :data:`_DIALER_ERRORS`, a table, not an if-chain.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dialer.api import (
    agent_records,
    agents,
    attempts,
    auth,
    callback_sites,
    callbacks,
    campaigns,
    compliance,
    contacts,
    dnc,
    engines,
    events,
    imports,
    reminder_choices,
    reminders,
    reports,
    schedules,
    statuses,
    transfers,
    users,
)
from dialer.api.context import ApiContext
from dialer.api.errors import ERRORS, ApiError, error_body
from dialer.api.public_cors import PublicCors
from dialer.api.schemas import ErrorOut
from dialer.api.timing import RequestTiming
from dialer.errors import (
    AgentError,
    CsvFormatError,
    DialerError,
    InUse,
    NotFound,
    RateLimited,
    SlotUnavailable,
    StoreError,
    TransferRefused,
    ValidationError,
)
from dialer.web.mount import mount_console

log = structlog.get_logger(__name__)

__all__ = ["API_PREFIX", "create_api"]

API_PREFIX = "/api/v1"

_ERROR = {"model": ErrorOut}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {**_ERROR, "description": "unauthorized: no valid bearer token"},
    403: {**_ERROR, "description": "forbidden: the role or the agent does not allow it"},
    404: {**_ERROR, "description": "not_found"},
    409: {**_ERROR, "description": "agent_state / not_logged_in / in_use / transfer_refused"},
    422: {**_ERROR, "description": "invalid_input / invalid_value / invalid_file"},
}

# Starlette's own HTTP errors (routing) -> our ids.
_HTTP_IDS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _json(exc.status, error_body(exc.error, exc.reason, field=exc.field, value=exc.value), exc.headers)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ())]
    if loc and loc[0] in ("body", "path", "query", "header"):
        loc = loc[1:]
    field = ".".join(loc) or None
    value = None if first.get("type") == "missing" else first.get("input")
    reason = str(first.get("msg", "invalid"))
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more)"
    return _json(422, error_body("invalid_input", reason, field=field, value=value))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's "error parsing the body": not JSON, not UTF-8
        return _json(422, error_body("invalid_input", f"the body cannot be read: {exc.detail}", field="body"))
    error = _HTTP_IDS.get(exc.status_code)
    if error is None:
        return _json(
            exc.status_code, {"error": "http_error", "field": None, "reason": str(exc.detail), "value": None}
        )
    return _json(exc.status_code, error_body(error, str(exc.detail)), getattr(exc, "headers", None))


# The store's errors that carry field / reason / value, by type (most specific first), and the
# error id each answers with; the status is the id's (errors.ERRORS).
_DESCRIBED: tuple[tuple[type[DialerError], str], ...] = (
    (InUse, "in_use"),
    (TransferRefused, "transfer_refused"),
    (CsvFormatError, "invalid_file"),
    (RateLimited, "rate_limited"),
    (SlotUnavailable, "slot_unavailable"),
    (ValidationError, "invalid_value"),
)


def _described(exc: DialerError) -> JSONResponse | None:
    for kind, error in _DESCRIBED:
        if isinstance(exc, kind):
            assert isinstance(exc, ValidationError)
            return _json(ERRORS[error][0], error_body(error, exc.reason, field=exc.field, value=exc.value))
    return None


def _not_found(exc: DialerError) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return _json(404, error_body("not_found", str(exc), field=exc.kind, value=exc.name))


def _agent(exc: DialerError) -> JSONResponse:
    return _json(409, error_body("agent_state", str(exc), field="agent"))


def _store(exc: DialerError) -> JSONResponse:
    log.warning("api_store_error", error=type(exc).__name__)
    return _json(503, error_body("unavailable", "the database cannot be reached now; retry"))


# The engine's other errors by type.
_DIALER_ERRORS = (
    (NotFound, _not_found),
    (AgentError, _agent),
    (StoreError, _store),
)


async def _dialer_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DialerError)
    described = _described(exc)
    if described is not None:
        return described
    for kind, answer in _DIALER_ERRORS:
        if isinstance(exc, kind):
            return answer(exc)  # type: ignore[arg-type]
    return _json(409, error_body("agent_state", str(exc)))


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """A string PostgreSQL cannot hold (a NUL character, a lone surrogate) or a value out of a
    column's range: the client's input, refused before anything was written."""
    reason = f"a value the database cannot store ({type(exc).__name__})"
    return _json(422, error_body("invalid_input", reason))


def create_api(ctx: ApiContext) -> FastAPI:
    """The application over ``ctx``: ``/api/v1/...``, ``/api/openapi.json``, docs at ``/api/docs``."""
    app = FastAPI(
        title="Dialer API",
        version="1",
        description="Agents, supervisors and administrators of the outbound dialer (docs/api.md).",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        # No OpenTelemetry here (the engine's metrics are Prometheus): FastAPI's own telemetry
        # asked the tracer, meter and logger providers on every request, os.environ lookups
        # that were ~8 % of the API's CPU under load (benchmarks/api.py).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ctx = ctx
    for module in (
        auth, agents, campaigns, events, users, reminders, callbacks, contacts, imports, transfers,
        attempts, reports, schedules, statuses, agent_records, dnc, engines, callback_sites, compliance,
        reminder_choices,
    ):  # fmt: skip
        app.include_router(module.router, prefix=API_PREFIX, responses=_RESPONSES)
    mount_console(app)  # the web console at / (docs/console.md)
    app.add_middleware(PublicCors)  # websites' pages on /api/v1/public/ (issue 13)
    app.add_middleware(RequestTiming, observe=ctx.observe_latency, prefix=API_PREFIX)  # outermost
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DialerError, _dialer_error)
    app.add_exception_handler(asyncpg.DataError, _unstorable)
    app.add_exception_handler(UnicodeEncodeError, _unstorable)
    return app
