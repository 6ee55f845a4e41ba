"""Authorisation as a table over every path of the OpenAPI document (issue 9).

Without a token every operation but the login answers 401 ``unauthorized``; with a token of
the wrong role, or naming another agent's resource, 403 ``forbidden``. The table must cover
the document exactly: a new path without a row fails here, so its rules are decided.
"""

from __future__ import annotations

from typing import Any

from dialer.model import DialingMode
from dialer.store.users import Role
from tests.dialer.api.conftest import Rig

# path -> who gets 403 on it: "agent" (an agent user naming another agent or a campaign it is
# not assigned to) and/or "supervisor" (admin-only paths; an agent is refused there too).
FORBIDDEN: dict[str, set[str]] = {
    "/api/v1/auth/login": set(),
    "/api/v1/auth/logout": set(),
    "/api/v1/me": set(),
    "/api/v1/events": set(),
    "/api/v1/campaigns": set(),
    "/api/v1/engines": {"agent"},
    "/api/v1/campaigns/{campaign}/statuses": {"agent"},
    "/api/v1/agents/{agent}": {"agent"},
    "/api/v1/agents/{agent}/login": {"agent"},
    "/api/v1/agents/{agent}/ready": {"agent"},
    "/api/v1/agents/{agent}/pause": {"agent"},
    "/api/v1/agents/{agent}/logout": {"agent"},
    "/api/v1/agents/{agent}/preview": {"agent"},
    "/api/v1/agents/{agent}/offer": {"agent"},
    "/api/v1/agents/{agent}/offer/accept": {"agent"},
    "/api/v1/agents/{agent}/offer/skip": {"agent"},
    "/api/v1/agents/{agent}/call": {"agent"},
    "/api/v1/agents/{agent}/contact": {"agent"},
    "/api/v1/agents/{agent}/disposition": {"agent"},
    "/api/v1/users": {"agent", "supervisor"},
    "/api/v1/users/{name}": {"agent", "supervisor"},
    # supervisor and administrator endpoints (docs/api.md, "who may"); writes that are the
    # administrator's alone are in BY_METHOD
    "/api/v1/campaigns/{campaign}": {"agent"},
    "/api/v1/campaigns/{campaign}/start": {"agent"},
    "/api/v1/campaigns/{campaign}/pause": {"agent"},
    "/api/v1/campaigns/{campaign}/stop": {"agent"},
    "/api/v1/campaigns/{campaign}/figures": {"agent"},
    "/api/v1/campaigns/{campaign}/day": {"agent"},
    "/api/v1/campaigns/{campaign}/status-settings": {"agent"},
    "/api/v1/campaigns/{campaign}/status-settings/{status}": {"agent"},
    "/api/v1/schedules": {"agent"},
    "/api/v1/schedules/{schedule}": {"agent"},
    "/api/v1/statuses": {"agent"},
    "/api/v1/statuses/{status}": {"agent"},
    "/api/v1/agents": {"agent"},
    "/api/v1/agents/{agent}/record": {"agent"},
    "/api/v1/agents/{agent}/campaigns": {"agent"},
    "/api/v1/dnc": {"agent"},
    "/api/v1/dnc/imports": {"agent"},
    "/api/v1/dnc/{number}": {"agent", "supervisor"},
    "/api/v1/reminders/service": {"agent"},
    "/api/v1/campaigns/{campaign}/reminders": {"agent"},
    "/api/v1/campaigns/{campaign}/reminder-templates": {"agent"},
    "/api/v1/campaigns/{campaign}/reminder-templates/{name}": {"agent"},
    "/api/v1/campaigns/{campaign}/reminders/log": {"agent"},
    # the data endpoints: supervisors and admins
    "/api/v1/contacts": {"agent"},
    "/api/v1/contacts/export": {"agent"},
    "/api/v1/contacts/{contact_id}": {"agent"},
    "/api/v1/campaigns/{campaign}/imports": {"agent"},
    "/api/v1/campaigns/{campaign}/imports/stream": {"agent"},
    "/api/v1/campaigns/{campaign}/compliance": {"agent"},
    "/api/v1/records/prune": {"agent", "supervisor"},
    "/api/v1/reminders/overrides/{callback_id}": {"agent"},
    "/api/v1/reminders/optouts/{contact_id}": {"agent"},
    "/api/v1/agents/{agent}/reminder-address": {"agent"},
    "/api/v1/campaigns/{campaign}/reminder-actions/{status}": {"agent"},
    "/api/v1/transfers/count": {"agent"},
    "/api/v1/transfers": {"agent"},
    "/api/v1/attempts": {"agent"},
    "/api/v1/attempts/export": {"agent"},
    "/api/v1/report": {"agent"},
    "/api/v1/campaigns/{campaign}/callback-grid": {"agent"},
    "/api/v1/campaigns/{campaign}/callback-slots": {"agent"},
    "/api/v1/campaigns/{campaign}/callbacks": {"agent"},
    "/api/v1/campaigns/{campaign}/callbacks/{callback_id}": {"agent"},
    "/api/v1/campaigns/{campaign}/callbacks/{callback_id}/history": {"agent"},
    "/api/v1/campaigns/{campaign}/callbacks/{callback_id}/reschedule": {"agent"},
    # a website's key, not a bearer token (401 without one: tests/dialer/api/test_callbacks.py)
    "/api/v1/public/callbacks": set(),
    "/api/v1/public/callbacks/slots": set(),
    # web callback sites: administrators only (their keys book callbacks without a login)
    "/api/v1/callback-sites": {"agent", "supervisor"},
    "/api/v1/callback-sites/{site}": {"agent", "supervisor"},
    "/api/v1/callback-sites/{site}/rotate": {"agent", "supervisor"},
}
# (method, path) whose refusals differ from the path's row.
_ADMIN_ONLY = {"agent", "supervisor"}
BY_METHOD: dict[tuple[str, str], set[str]] = {
    ("post", "/api/v1/campaigns"): {"agent"},
    ("delete", "/api/v1/campaigns/{campaign}"): _ADMIN_ONLY,
    ("post", "/api/v1/schedules"): _ADMIN_ONLY,
    ("patch", "/api/v1/schedules/{schedule}"): _ADMIN_ONLY,
    ("delete", "/api/v1/schedules/{schedule}"): _ADMIN_ONLY,
    ("post", "/api/v1/statuses"): _ADMIN_ONLY,
    ("patch", "/api/v1/statuses/{status}"): _ADMIN_ONLY,
    ("delete", "/api/v1/statuses/{status}"): _ADMIN_ONLY,
    ("post", "/api/v1/agents"): _ADMIN_ONLY,
    ("delete", "/api/v1/agents/{agent}"): _ADMIN_ONLY,
}
PUBLIC = {"/api/v1/auth/login", "/api/v1/public/callbacks", "/api/v1/public/callbacks/slots"}
# What the path parameters name: another agent, a campaign the agent is not assigned to.
PARAMS = {
    "agent": "bob",
    "campaign": "THEIRS",
    "name": "bob",
    "schedule": "ALL_DAY",
    "status": "Dzwonić",
    "number": "+48501234567",
    "contact_id": 1,
    "callback_id": "1",
    "site": "shop",
}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (path, method) for path, item in doc["paths"].items() for method in item if method != "parameters"
    ]


async def _call(rig: Rig, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    url = path.format(**PARAMS)
    body = {} if method in ("post", "put", "patch") else None
    r = await rig.client.request(method.upper(), url, headers=headers, json=body)
    return r.status_code, r.json()


async def test_every_path_refuses_without_a_token_and_for_the_wrong_role_or_agent(rig: Rig) -> None:
    doc = (await rig.client.get("/api/openapi.json")).json()
    assert set(FORBIDDEN) == set(doc["paths"])
    assert set(BY_METHOD) <= {(method, path) for path, method in _operations(doc)}
    await rig.agent_user("anna", "Local/agent1@sim-agents")
    await rig.agent_user("bob", "Local/agent2@sim-agents")
    await rig.campaign("MINE", "q-prog", DialingMode.PREVIEW, agents=("anna",))
    await rig.campaign("THEIRS", "q-other", DialingMode.PREVIEW, agents=("bob",))
    await rig.user("sue", Role.SUPERVISOR)
    tokens = {"agent": await rig.login("anna"), "supervisor": await rig.login("sue")}
    checked = 0
    for path, method in _operations(doc):
        if path not in PUBLIC:
            for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YTpi"}):
                status, body = await _call(rig, method, path, headers)
                assert (401, "unauthorized") == (status, body["error"]), (method, path, headers)
                checked += 1
        for role in BY_METHOD.get((method, path), FORBIDDEN[path]):
            status, body = await _call(rig, method, path, tokens[role])
            assert (403, "forbidden") == (status, body["error"]), (method, path, role)
            assert {"error", "field", "reason", "value"} == set(body)
            checked += 1
    assert checked > 3 * len(doc["paths"])
    # an agent user is refused the supervisor endpoints even on itself and its own campaign
    for method, path in (
        ("patch", "/api/v1/agents/anna"),
        ("get", "/api/v1/campaigns/MINE"),
        ("get", "/api/v1/campaigns/MINE/figures"),
        ("get", "/api/v1/campaigns/MINE/day"),
        ("get", "/api/v1/agents/anna/record"),
    ):
        r = await rig.client.request(method.upper(), path, headers=tokens["agent"], json={"active": True})
        assert (403, "forbidden") == (r.status_code, r.json()["error"]), (method, path)


async def test_an_agent_acts_as_itself_and_a_supervisor_for_any_agent(rig: Rig) -> None:
    await rig.agent_user("anna", "Local/agent1@sim-agents")
    await rig.campaign("MINE", "q-prev", DialingMode.PREVIEW, agents=("anna",))
    await rig.user("sue", Role.SUPERVISOR)
    await rig.running("MINE")
    anna, sue = await rig.login("anna"), await rig.login("sue")
    assert 200 == (await rig.client.get("/api/v1/agents/anna", headers=anna)).status_code
    assert 200 == (await rig.client.get("/api/v1/campaigns/MINE/statuses", headers=anna)).status_code
    assert ["MINE"] == [c["name"] for c in (await rig.client.get("/api/v1/campaigns", headers=anna)).json()]
    r = await rig.client.post("/api/v1/agents/anna/login", headers=sue)  # a supervisor logs anna in
    assert 200 == r.status_code, r.text
    r = await rig.client.post("/api/v1/agents/anna/pause", headers=anna, json={"reason": "coffee"})
    assert ("paused", "coffee") == (
        r.json()["campaigns"][0]["state"],
        r.json()["campaigns"][0]["pause_reason"],
    )
    assert 200 == (await rig.client.post("/api/v1/agents/anna/ready", headers=sue)).status_code
    assert (
        "ready" == (await rig.client.get("/api/v1/agents/anna", headers=anna)).json()["campaigns"][0]["state"]
    )
