"""The API's own latency histogram (``dialer_api_request_seconds``), over real HTTP."""

from __future__ import annotations

from typing import Any

from dialer.api.timing import route_label
from dialer.model import DialingMode
from dialer.store.users import Role
from tests.dialer.api.conftest import EventLog, Rig


def _timings(rig: Rig) -> dict[tuple[str, str], float]:
    """(route, method) -> requests counted, read from the engine's registry."""
    counts: dict[tuple[str, str], float] = {}
    for metric in rig.app.registry.collect():
        if metric.name != "dialer_api_request_seconds":
            continue
        for s in metric.samples:
            if s.name.endswith("_count"):
                counts[(s.labels["route"], s.labels["method"])] = s.value
    return counts


async def test_each_request_is_timed_by_its_route_template_never_its_path(rig: Rig) -> None:
    _, headers = await rig.one_contact(
        "anna", "TIMED", "q-prog", DialingMode.PROGRESSIVE, "+48501000111", "Jan"
    )
    for _ in range(3):
        assert 200 == (await rig.client.get("/api/v1/agents/anna", headers=headers)).status_code
    assert 404 == (await rig.client.get("/api/v1/no/such/path", headers=headers)).status_code
    await rig.user("sup", Role.SUPERVISOR)
    sup = await rig.login("sup")
    async with EventLog(rig, sup):
        # an event stream is timed to its opening, while it stays open
        counted = _timings(rig)
        assert 1 == counted[("/api/v1/events", "GET")]
    counted = _timings(rig)
    assert 3 == counted[("/api/v1/agents/{agent}", "GET")]
    assert 2 == counted[("/api/v1/auth/login", "POST")]
    assert counted[("other", "GET")] >= 1
    labels = " ".join(f"{route} {method}" for route, method in counted)
    # no agent name, number or token in a label
    assert "anna" not in labels and "+48501000111" not in labels and "Bearer" not in labels


def test_a_route_label_is_the_template_or_other() -> None:
    class Full:
        path = "/api/openapi.json"

    class Included:
        path = "/agents/{agent}/pause"

    scopes: list[dict[str, Any]] = [
        {"route": Full(), "path": "/api/openapi.json"},
        {"route": Included(), "path": "/api/v1/agents/anna/pause"},  # the router's own template
        {"route": Included(), "path": "/agents/anna/pause"},  # not under the API
        {"path": "/static/app.js"},
        {"route": None, "path": "/api/v1/x"},
    ]
    assert ["/api/openapi.json", "/api/v1/agents/{agent}/pause", "other", "other", "other"] == [
        route_label(s) for s in scopes
    ]
