"""The API's errors: stable ids (a contract, as wazo-agentd's are) and their HTTP statuses.

Every 4xx body is ``{"error": ID, "field": ..., "reason": ..., "value": ...}``; ``docs/api.md``
has the table of ids. :class:`ApiError` is raised by the endpoints; the handlers in
:mod:`dialer.api.application` turn it, the store's :class:`~dialer.errors.ValidationError` and
:class:`~dialer.errors.NotFound`, the agent board's :class:`~dialer.errors.AgentError` and the
framework's own validation and routing errors into that body. A value is never echoed for a
field that may hold a secret (:data:`SECRET_FIELDS`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ERRORS", "SECRET_FIELDS", "ApiError", "error_body"]

# id -> (HTTP status, what it means). Ids never change meaning; new ones may be added.
ERRORS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "no bearer token, or it is unknown, expired or revoked"),
    "bad_credentials": (401, "the user name or the password is wrong"),
    "forbidden": (403, "the user's role may not do this, or the resource is another agent's"),
    "not_found": (404, "no such path, or the named object does not exist"),
    "method_not_allowed": (405, "the path exists but not with this method"),
    "agent_state": (409, "the action does not fit the agent's current state"),
    "not_logged_in": (409, "the agent is not logged in to a running campaign"),
    "in_use": (409, "the object is still in use (a campaign with attempts, a schedule campaigns dial in...)"),
    "invalid_input": (422, "the request does not have the documented shape or types"),
    "invalid_value": (422, "a value breaks a rule of the data model (the store's validation)"),
    "invalid_file": (422, "an uploaded file as a whole cannot be read (encoding, header, no phone column)"),
    "transfer_refused": (409, "the transfer's rules forbid moving these records (status qualifiers)"),
    "too_many_attempts": (429, "too many failed logins for this user or address; wait and retry"),
    "slot_unavailable": (409, "the callback slot is full, closed, past or not on the campaign's grid"),
    "callback_refused": (409, "a web callback request that cannot be accepted (no reason is given)"),
    "rate_limited": (429, "too many web callback requests for the number or from the address this hour"),
    # not a 4xx: the database is unreachable; the same request may succeed later
    "unavailable": (503, "the engine cannot reach its database now; retry"),
}

# Fields whose value is never put in an error body (nor a log line).
SECRET_FIELDS = frozenset({"password", "token", "authorization", "key", "x-api-key"})


class ApiError(Exception):
    """A 4xx answer: ``error`` is an id of :data:`ERRORS`; ``field``/``reason``/``value`` explain it."""

    def __init__(
        self,
        error: str,
        reason: str,
        *,
        field: str | None = None,
        value: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if error not in ERRORS:
            raise ValueError(f"unknown API error id {error!r}")  # our misuse, caught by the tests
        super().__init__(reason)
        self.error = error
        self.status = ERRORS[error][0]
        self.field = field
        self.reason = reason
        self.value = value
        self.headers = headers


# An echoed value longer than this is cut: the body names the value, it does not return uploads.
_MAX_VALUE_CHARS = 200


def error_body(error: str, reason: str, *, field: str | None = None, value: Any = None) -> dict[str, Any]:
    """The JSON body of a 4xx answer.

    ``value`` is echoed only when it is a plain scalar of a field that holds no secret: an
    object or a list (a request body, which may carry a password) is never echoed.
    """
    leaf = (field or "").rsplit(".", 1)[-1].lower()
    if leaf in SECRET_FIELDS or not isinstance(value, str | int | float | bool):
        value = None
    elif isinstance(value, str) and len(value) > _MAX_VALUE_CHARS:
        value = value[:_MAX_VALUE_CHARS] + "..."
    return {"error": error, "field": field, "reason": reason, "value": value}
