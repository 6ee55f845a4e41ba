"""Web callback sites over real HTTP (issue 13, "the public endpoint can be put on a website"):
an administrator adds a site and is answered its key once (kept hashed), names its origins,
rotates the key and revokes the site; the public endpoints answer a browser's preflight for any
site's origin, name the origin on the real answer only for the key's own site, and refuse a page
of another origin; keys appear in no error body and no log line."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from dialer.model import DialingMode
from dialer.store.users import Role
from dialer.store.web_callbacks import site_key_hash
from tests.dialer.api.conftest import Rig

SHOP = "https://shop.example"
OTHER = "https://other.example:8443"
PUBLIC = "/api/v1/public/callbacks"


async def _setup(rig: Rig) -> tuple[dict[str, str], dict[str, str]]:
    await rig.campaign("WEB", "q-prev", DialingMode.PREVIEW)
    await rig.campaign("WEB2", "q-other", DialingMode.PREVIEW)
    await rig.user("root", Role.ADMIN)
    await rig.user("sue", Role.SUPERVISOR)
    root = await rig.login("root")
    grid = {"schedule": "ALL_DAY", "slot_min": 30, "capacity": 5}
    r = await rig.client.put("/api/v1/campaigns/WEB/callback-grid", headers=root, json=grid)
    assert 200 == r.status_code, r.text
    return root, await rig.login("sue")


async def test_sites_are_added_listed_rotated_and_revoked_by_an_administrator_only(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    root, sue = await _setup(rig)
    body = {"name": "shop", "campaign": "WEB", "origins": ["HTTPS://Shop.Example:443/", OTHER]}
    r = await rig.client.post("/api/v1/callback-sites", headers=sue, json=body)
    assert (403, "forbidden") == (r.status_code, r.json()["error"])
    r = await rig.client.post("/api/v1/callback-sites", headers=root, json=body)
    assert 201 == r.status_code, r.text
    key = r.json()["key"]
    assert len(key) >= 40
    assert {"name": "shop", "campaign": "WEB", "origins": [SHOP, OTHER], "active": True} == {
        k: r.json()["site"][k] for k in ("name", "campaign", "origins", "active")
    }
    stored = await rig.store.pool.fetchval("SELECT key_hash FROM callback_sites WHERE name = 'shop'")
    assert site_key_hash(key) == stored and key not in stored  # only the hash is kept
    # a bad origin is refused, naming the field and why
    bad = {"name": "blog", "campaign": "WEB", "origins": ["shop.example/path"]}
    r = await rig.client.post("/api/v1/callback-sites", headers=root, json=bad)
    assert (422, "invalid_value", "origins") == (r.status_code, r.json()["error"], r.json()["field"])
    assert "scheme://host" in r.json()["reason"] or "http(s)://host" in r.json()["reason"]
    r = await rig.client.post("/api/v1/callback-sites", headers=root, json={**body, "origins": []})
    assert (422, "name") == (r.status_code, r.json()["field"])  # the name is taken
    r = await rig.client.post(
        "/api/v1/callback-sites", headers=root, json={**bad, "origins": [], "campaign": "NONE"}
    )
    assert 404 == r.status_code
    listed = (await rig.client.get("/api/v1/callback-sites", headers=root, params={"campaign": "WEB"})).json()
    assert ["shop"] == [s["name"] for s in listed]
    assert [] == (await rig.client.get("/api/v1/callback-sites?campaign=WEB2", headers=root)).json()
    assert "key" not in listed[0] and all(key not in str(v) for v in listed[0].values())
    r = await rig.client.patch("/api/v1/callback-sites/shop", headers=root, json={"origins": [SHOP]})
    assert [SHOP] == r.json()["origins"]
    # the key works; rotated, the old one is refused and the new one works
    today = dt.datetime.now(dt.UTC).date().isoformat()
    slots = f"{PUBLIC}/slots?from={today}"
    assert 200 == (await rig.client.get(slots, headers={"X-Api-Key": key})).status_code
    r = await rig.client.post("/api/v1/callback-sites/shop/rotate", headers=root)
    new_key = r.json()["key"]
    assert new_key != key and r.json()["site"]["key_rotated_at"] is not None
    r = await rig.client.get(slots, headers={"X-Api-Key": key})
    assert (401, "unauthorized") == (r.status_code, r.json()["error"])
    assert key not in r.text
    assert 200 == (await rig.client.get(slots, headers={"X-Api-Key": new_key})).status_code
    # revoked: refused, still listed with its time, and it cannot be rotated back to life
    r = await rig.client.delete("/api/v1/callback-sites/shop", headers=root)
    assert (200, False) == (r.status_code, r.json()["active"])
    assert 401 == (await rig.client.get(slots, headers={"X-Api-Key": new_key})).status_code
    r = await rig.client.post("/api/v1/callback-sites/shop/rotate", headers=root)
    assert (422, "site") == (r.status_code, r.json()["field"])
    assert 404 == (await rig.client.delete("/api/v1/callback-sites/nope", headers=root)).status_code
    (gone,) = (await rig.client.get("/api/v1/callback-sites", headers=root)).json()
    assert gone["revoked_at"] is not None
    # a key too long for the header is refused without being echoed
    r = await rig.client.get(slots, headers={"X-Api-Key": "k" * 300})
    assert 422 == r.status_code and r.json()["value"] is None
    logged = caplog.text
    assert key not in logged and new_key not in logged


async def test_the_public_endpoints_answer_cors_only_for_the_sites_origins(rig: Rig) -> None:
    root, _ = await _setup(rig)
    keys = {}
    for name, campaign, origins in (("shop", "WEB", [SHOP]), ("other", "WEB2", [OTHER]), ("api", "WEB", [])):
        r = await rig.client.post(
            "/api/v1/callback-sites",
            headers=root,
            json={"name": name, "campaign": campaign, "origins": origins},
        )
        keys[name] = {"X-Api-Key": r.json()["key"]}
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key",
    }
    # the preflight carries no key: any site's origin is answered, an unknown one refused
    for path in (PUBLIC, f"{PUBLIC}/slots"):
        for origin in (SHOP, OTHER):
            r = await rig.client.options(path, headers={**preflight, "Origin": origin})
            assert (204, origin) == (r.status_code, r.headers.get("access-control-allow-origin")), r.text
            assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
            assert "POST" in r.headers["access-control-allow-methods"]
            assert "Origin" in r.headers["vary"]
        for origin in (
            "https://evil.example",
            "https://shop.example.evil.example",
            "null",
            "https://SHOP.example",
        ):
            r = await rig.client.options(path, headers={**preflight, "Origin": origin})
            assert 403 == r.status_code and "access-control-allow-origin" not in r.headers, origin
    today = dt.datetime.now(dt.UTC).date()
    slots = f"{PUBLIC}/slots?from={today.isoformat()}&to={(today + dt.timedelta(days=1)).isoformat()}"
    # the real request: the key's own site's origin is named ...
    r = await rig.client.get(slots, headers={**keys["shop"], "Origin": SHOP})
    assert (200, SHOP) == (r.status_code, r.headers.get("access-control-allow-origin"))
    assert "Origin" in r.headers["vary"]
    free = next(s["starts_at"] for s in r.json() if s["state"] == "available")
    request = {"campaign": "WEB", "name": "Jan", "number": "+48 540 009 001", "slot": free, "consent": "Tak"}
    r = await rig.client.post(PUBLIC, headers={**keys["shop"], "Origin": SHOP}, json=request)
    assert (201, SHOP) == (r.status_code, r.headers.get("access-control-allow-origin")), r.text
    # ... on its errors too, so the page can show them
    r = await rig.client.post(
        PUBLIC, headers={**keys["shop"], "Origin": SHOP}, json={**request, "number": "12"}
    )
    assert (422, SHOP) == (r.status_code, r.headers.get("access-control-allow-origin"))
    # ... but another site's origin with this key is refused, and not named
    r = await rig.client.post(PUBLIC, headers={**keys["shop"], "Origin": OTHER}, json=request)
    assert (403, "origin") == (r.status_code, r.json()["field"])
    assert "access-control-allow-origin" not in r.headers
    # a site with no origins is for server-to-server use: no Origin header, no CORS header
    r = await rig.client.get(slots, headers=keys["api"])
    assert 200 == r.status_code and "access-control-allow-origin" not in r.headers
    r = await rig.client.get(slots, headers={**keys["api"], "Origin": SHOP})
    assert 403 == r.status_code
    # a wrong key names no origin
    r = await rig.client.get(slots, headers={"X-Api-Key": "w" * 40, "Origin": SHOP})
    assert 401 == r.status_code and "access-control-allow-origin" not in r.headers
    # revoked, its origin is no longer answered in a preflight
    await rig.client.delete("/api/v1/callback-sites/shop", headers=root)
    r = await rig.client.options(PUBLIC, headers={**preflight, "Origin": SHOP})
    assert 403 == r.status_code
    # other paths are untouched by the public CORS
    r = await rig.client.get("/api/v1/campaigns", headers={**root, "Origin": OTHER})
    assert "access-control-allow-origin" not in r.headers
