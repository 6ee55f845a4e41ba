"""Error bodies, login limits, token life, user administration, and no secret in a log line."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import structlog
from structlog.testing import capture_logs

from dialer.api.errors import ERRORS
from dialer.api.passwords import hash_token
from dialer.store.users import Role
from tests.dialer.api.conftest import PASSWORD, Rig, rig_on

KEYS = {"error", "field", "reason", "value"}


async def test_bad_input_gets_a_4xx_body_naming_the_field_never_a_5xx(rig: Rig) -> None:
    c = rig.client
    r = await c.get("/api/v1/nothing-here")
    assert (404, "not_found") == (r.status_code, r.json()["error"]) and KEYS == set(r.json())
    r = await c.put("/api/v1/auth/login", json={})
    assert (405, "method_not_allowed") == (r.status_code, r.json()["error"])
    r = await c.post("/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert (422, "invalid_input") == (r.status_code, r.json()["error"])
    r = await c.post("/api/v1/auth/login", json={"name": "x"})
    assert (422, "invalid_input", "password", None) == (
        r.status_code,
        r.json()["error"],
        r.json()["field"],
        r.json()["value"],
    )
    r = await c.post("/api/v1/auth/login", json={"name": "x", "password": "p", "remember": True})
    assert (422, "remember") == (r.status_code, r.json()["field"])
    r = await c.post("/api/v1/auth/login", json={"name": "x" * 500, "password": "p"})
    assert (422, "name") == (r.status_code, r.json()["field"])
    assert len(r.json()["value"]) < 300  # an echoed value is cut
    # what PostgreSQL cannot store (a NUL character, a lone surrogate) is the client's input too
    r = await c.post("/api/v1/auth/login", json={"name": "a\x00b", "password": "p"})
    assert (422, "invalid_input") == (r.status_code, r.json()["error"])
    r = await c.post("/api/v1/auth/login", content=b'{"name": "\\ud800", "password": "p"}')
    assert (422, "invalid_input") == (r.status_code, r.json()["error"])
    await rig.user("root", Role.ADMIN)
    r = await c.post("/api/v1/agents/a%00b/login", headers=await rig.login("root"))
    assert (422, "invalid_input") == (r.status_code, r.json()["error"])


async def test_a_password_or_token_never_reaches_a_log_line_or_an_error_body(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await rig.user("root", Role.ADMIN)
    secret = "s3cret-Passw0rd-xyz"
    structlog.reset_defaults()  # an earlier test may have configured a level that drops info lines
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        admin = await rig.login("root")
        token = admin["Authorization"].split()[1]
        r = await rig.client.post(
            "/api/v1/users", headers=admin, json={"name": "kim", "role": "supervisor", "password": secret}
        )
        assert 201 == r.status_code, r.text
        r = await rig.client.post("/api/v1/auth/login", json={"name": "kim", "password": secret + "-wrong"})
        assert (401, "bad_credentials") == (r.status_code, r.json()["error"])
        bodies = [r.text]
        r = await rig.client.post("/api/v1/auth/login", json={"name": "kim", "password": 12345678})
        bodies.append(r.text)
        r = await rig.client.post(
            "/api/v1/users", headers=admin, json={"name": "lee", "role": "admin", "password": "short"}
        )
        assert (422, "password", None) == (r.status_code, r.json()["field"], r.json()["value"])
        bodies.append(r.text)
        await rig.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
    text = repr(logs) + caplog.text + "".join(bodies)
    assert any(e.get("event") == "api_login_failed" for e in logs)  # the failure is logged ...
    for leaked in (secret, token, "12345678", "short"):
        assert leaked not in text  # ... without the password or the token


async def test_failed_logins_are_limited_per_user(api_dsn: str, tmp_path: object) -> None:
    async with rig_on(api_dsn, tmp_path, login_failures_per_user=3, login_window_s=60) as rig:
        await rig.user("max", Role.SUPERVISOR)
        for _ in range(3):
            r = await rig.client.post("/api/v1/auth/login", json={"name": "max", "password": "wrong-one"})
            assert 401 == r.status_code
        r = await rig.client.post("/api/v1/auth/login", json={"name": "max", "password": PASSWORD})
        assert (429, "too_many_attempts") == (r.status_code, r.json()["error"])  # even the right one now
        assert 0 < int(r.headers["Retry-After"]) <= 60
        await rig.user("other", Role.SUPERVISOR)
        assert (
            200
            == (
                await rig.client.post("/api/v1/auth/login", json={"name": "other", "password": PASSWORD})
            ).status_code
        )


async def test_logout_revokes_the_token_and_an_expired_token_is_refused(rig: Rig) -> None:
    await rig.user("sue", Role.SUPERVISOR)
    headers = await rig.login("sue")
    assert "sue" == (await rig.client.get("/api/v1/me", headers=headers)).json()["name"]
    assert 204 == (await rig.client.post("/api/v1/auth/logout", headers=headers)).status_code
    r = await rig.client.get("/api/v1/me", headers=headers)
    assert (401, "unauthorized") == (r.status_code, r.json()["error"])
    await rig.store.add_token(
        "sue", hash_token("old-token"), dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    r = await rig.client.get("/api/v1/me", headers={"Authorization": "Bearer old-token"})
    assert 401 == r.status_code


async def test_admin_manages_users_with_the_stores_rules(rig: Rig) -> None:
    await rig.user("root", Role.ADMIN)
    await rig.store.create_agent("zoe", "PJSIP/1009")
    admin = await rig.login("root")
    new = {"name": "zoe", "role": "agent", "password": "zoe-password", "agent": "zoe"}
    r = await rig.client.post("/api/v1/users", headers=admin, json=new)
    assert (201, "zoe") == (r.status_code, r.json()["agent"])
    r = await rig.client.post("/api/v1/users", headers=admin, json=new)
    assert (422, "invalid_value", "name") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.post(
        "/api/v1/users", headers=admin, json={**new, "name": "z2", "role": "supervisor"}
    )
    assert (422, "agent") == (r.status_code, r.json()["field"])
    r = await rig.client.post("/api/v1/users", headers=admin, json={**new, "name": "z3", "agent": "nobody"})
    assert (404, "not_found") == (r.status_code, r.json()["error"])
    r = await rig.client.post("/api/v1/users", headers=admin, json={**new, "role": "boss"})
    assert (422, "invalid_input", "role") == (r.status_code, r.json()["error"], r.json()["field"])
    assert ["root", "zoe"] == [
        u["name"] for u in (await rig.client.get("/api/v1/users", headers=admin)).json()
    ]
    zoe = await rig.client.post("/api/v1/auth/login", json={"name": "zoe", "password": "zoe-password"})
    zoe_headers = {"Authorization": f"Bearer {zoe.json()['token']}"}
    assert 204 == (await rig.client.delete("/api/v1/users/zoe", headers=admin)).status_code
    assert 404 == (await rig.client.delete("/api/v1/users/zoe", headers=admin)).status_code
    assert (
        401 == (await rig.client.get("/api/v1/me", headers=zoe_headers)).status_code
    )  # tokens went with her


def test_every_error_id_is_in_the_docs_table() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()
    assert [] == [e for e in ERRORS if f"`{e}`" not in doc]
