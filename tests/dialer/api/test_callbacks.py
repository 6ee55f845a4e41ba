"""Callbacks through the HTTP API (issue 13): the grid, planning, rescheduling, history, a
disposition booking a slot, the agent's notice, and the public web callback endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from dialer.model import DialingMode
from dialer.store.users import Role
from dialer.store.web_callbacks import PER_SOURCE_PER_HOUR
from tests.dialer.api.conftest import EventLog, Rig, wait_for

KEY = "site-key-0123456789abcdef"


async def _grid(rig: Rig, campaign: str, headers: dict[str, str], **kw: Any) -> None:
    body = {"schedule": "ALL_DAY", "slot_min": 5, "capacity": 1, **kw}
    r = await rig.client.put(f"/api/v1/campaigns/{campaign}/callback-grid", headers=headers, json=body)
    assert 200 == r.status_code, r.text


async def _free_slots(rig: Rig, campaign: str, headers: dict[str, str], *, now: bool = False) -> list[str]:
    today = dt.datetime.now(dt.UTC).date()
    r = await rig.client.get(
        f"/api/v1/campaigns/{campaign}/callback-slots",
        headers=headers,
        params={
            "from": today.isoformat(),
            "to": (today + dt.timedelta(days=1)).isoformat(),
            "timezone": "UTC",
        },
    )
    assert 200 == r.status_code, r.text
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=0 if now else 10)
    if now:
        soon -= dt.timedelta(minutes=5)  # a slot of 5 minutes that has begun
    return [
        s["starts_at"]
        for s in r.json()
        if s["state"] == "available" and dt.datetime.fromisoformat(s["starts_at"]) > soon
    ]


async def test_plan_reschedule_cancel_with_history_and_a_full_slot(rig: Rig) -> None:
    await rig.agent_user("anna", "Local/anna@sim-agents")
    await rig.campaign("CB", "q-prev", DialingMode.PREVIEW, agents=("anna",))
    await rig.user("sue", Role.SUPERVISOR)
    anna, sue = await rig.login("anna"), await rig.login("sue")
    r = await rig.client.put(
        "/api/v1/campaigns/CB/callback-grid", headers=anna, json={"schedule": "ALL_DAY", "slot_min": 5}
    )
    assert (403, "forbidden") == (r.status_code, r.json()["error"])
    r = await rig.client.put(
        "/api/v1/campaigns/CB/callback-grid", headers=sue, json={"schedule": "ALL_DAY", "slot_min": 3}
    )
    assert (422, "slot_min") == (r.status_code, r.json()["field"])
    await _grid(rig, "CB", sue)
    assert 5 == (await rig.client.get("/api/v1/campaigns/CB/callback-grid", headers=anna)).json()["slot_min"]
    slots = await _free_slots(rig, "CB", anna)
    a = await rig.store.add_contact("CB", ["+48540002001"], name="Ala")
    b = await rig.store.add_contact("CB", ["+48540002002"], name="Bob")
    plan = {"contact_id": a, "kind": "personal", "slot": slots[0]}
    r = await rig.client.post("/api/v1/campaigns/CB/callbacks", headers=anna, json=plan)
    assert 201 == r.status_code, r.text
    cb = r.json()
    assert ("anna", True) == (cb["agent"], cb["slot"])
    assert dt.datetime.fromisoformat(cb["due_at"]) == dt.datetime.fromisoformat(slots[0])
    full = {"contact_id": b, "slot": slots[0]}
    r = await rig.client.post("/api/v1/campaigns/CB/callbacks", headers=anna, json=full)
    assert (409, "slot_unavailable", "slot") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.post(
        "/api/v1/campaigns/CB/callbacks", headers=anna, json={**plan, "contact_id": b, "agent": "sue"}
    )
    assert (403, "forbidden") == (r.status_code, r.json()["error"])  # personal only for oneself
    url = f"/api/v1/campaigns/CB/callbacks/{cb['id']}"
    r = await rig.client.post(f"{url}/reschedule", headers=anna, json={"slot": slots[1]})
    assert 200 == r.status_code, r.text
    assert dt.datetime.fromisoformat(r.json()["due_at"]) == dt.datetime.fromisoformat(slots[1])
    r = await rig.client.post("/api/v1/campaigns/CB/callbacks", headers=anna, json=full)
    assert 201 == r.status_code, r.text  # the place freed by the reschedule
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    window = {"at": later.isoformat(), "window_end": (later + dt.timedelta(hours=2)).isoformat()}
    moved = {**window, "new_number": {"number": "+48600100200"}}
    r = await rig.client.post(f"{url}/reschedule", headers=sue, json=moved)
    assert (200, "+48600100200", False) == (r.status_code, r.json()["number"], r.json()["slot"])
    assert dt.datetime.fromisoformat(r.json()["window_end_at"]) == later + dt.timedelta(hours=2)
    history = (await rig.client.get(f"{url}/history", headers=anna)).json()
    assert [("agent:anna", "created"), ("agent:anna", "rescheduled"), ("supervisor:sue", "rescheduled")] == [
        (h["actor"], h["action"]) for h in history
    ]
    listed = (await rig.client.get("/api/v1/campaigns/CB/callbacks", headers=anna)).json()
    assert {a, b} == {c["contact_id"] for c in listed}
    r = await rig.client.delete(url, headers=anna)
    assert (200, "cancelled") == (r.status_code, r.json()["state"])
    r = await rig.client.get("/api/v1/campaigns/CB/callbacks/999999", headers=anna)
    assert (404, "not_found") == (r.status_code, r.json()["error"])


async def test_public_web_callback_request(rig: Rig) -> None:
    await rig.agent_user("wanda", "Local/wanda@sim-agents")
    await rig.campaign("WEB", "q-prev", DialingMode.PREVIEW, agents=("wanda",))
    await rig.user("sue", Role.SUPERVISOR)
    sue = await rig.login("sue")
    await _grid(rig, "WEB", sue, capacity=5)
    await rig.store.add_callback_site("shop", "WEB", KEY)
    slot = (await _free_slots(rig, "WEB", sue, now=True))[0]  # the slot in progress: due at once
    body = {"campaign": "WEB", "name": "Jan", "number": "+48 540 002 101", "slot": slot, "consent": "Tak"}
    r = await rig.client.post("/api/v1/public/callbacks", json=body)
    assert (401, "unauthorized") == (r.status_code, r.json()["error"])
    r = await rig.client.post("/api/v1/public/callbacks", json=body, headers={"X-Api-Key": "wrong"})
    assert 401 == r.status_code
    key = {"X-Api-Key": KEY}
    r = await rig.client.get("/api/v1/public/callbacks/slots", headers=key, params={"from": slot[:10]})
    assert 200 == r.status_code and r.json(), r.text
    r = await rig.client.post("/api/v1/public/callbacks", json=body, headers=key)
    assert (201, False) == (r.status_code, r.json()["duplicate"]), r.text
    assert dt.datetime.fromisoformat(r.json()["starts_at"]) == dt.datetime.fromisoformat(slot)
    r = await rig.client.post("/api/v1/public/callbacks", json=body, headers=key)
    assert (201, True) == (r.status_code, r.json()["duplicate"])
    (web,) = (await rig.client.get("/api/v1/campaigns/WEB/callbacks?source=web", headers=sue)).json()
    assert ("web", "Jan", "+48540002101") == (web["source"], web["requester_name"], web["number"])
    wanda = await rig.login("wanda")
    await rig.running("WEB")
    assert 200 == (await rig.client.post("/api/v1/agents/wanda/login", headers=wanda, json={})).status_code
    r = await rig.client.post("/api/v1/agents/wanda/preview", headers=wanda, json={})
    # a due callback may be offered to the free agent before it asks
    assert 200 == r.status_code or "while offered" in r.json()["reason"], r.text

    async def offered() -> bool:
        return 200 == (await rig.client.get("/api/v1/agents/wanda/offer", headers=wanda)).status_code

    await wait_for(offered, what="the web callback offered as a preview")
    offer = (await rig.client.get("/api/v1/agents/wanda/offer", headers=wanda)).json()
    (shown,) = offer["contact"]["callbacks"]  # the preview shows it is a web callback and who asked
    assert ("web", "Jan", web["id"]) == (shown["source"], shown["requester_name"], shown["id"])
    await rig.store.add_do_not_call("+48540002102")
    r = await rig.client.post(
        "/api/v1/public/callbacks", json={**body, "number": "+48540002102"}, headers=key
    )
    assert (409, "callback_refused") == (r.status_code, r.json()["error"])
    assert "call" not in r.json()["reason"]  # it does not say why
    past = {**body, "slot": None, "wanted_at": "2020-01-01T10:00:00Z"}
    r = await rig.client.post("/api/v1/public/callbacks", json=past, headers=key)
    assert (422, "wanted_at") == (r.status_code, r.json()["field"])
    r = await rig.client.post("/api/v1/public/callbacks", json={**body, "number": "12"}, headers=key)
    assert (422, "number") == (r.status_code, r.json()["field"])
    r = await rig.client.post("/api/v1/public/callbacks", json=body, headers=key)  # the third this hour
    r = await rig.client.post("/api/v1/public/callbacks", json=body, headers=key)
    assert (429, "rate_limited") == (r.status_code, r.json()["error"])


async def test_disposition_books_a_grid_slot_and_the_agent_is_told_when_due(rig: Rig) -> None:
    cid, headers = await rig.one_contact(
        "ewa", "DISP", "q-prog", DialingMode.PROGRESSIVE, "+1005550301", "Jan"
    )
    await rig.user("sue", Role.SUPERVISOR)
    sue = await rig.login("sue")
    await _grid(rig, "DISP", sue, capacity=1)
    other = await rig.store.add_contact("DISP", ["+48540002201"], status="Sprzedane")
    slot = (await _free_slots(rig, "DISP", sue))[0]
    async with EventLog(rig, headers) as log:
        r = await rig.client.post("/api/v1/agents/ewa/login", headers=headers, json={})
        assert 200 == r.status_code, r.text

        async def wrap_up() -> bool:
            s = (await rig.client.get("/api/v1/agents/ewa", headers=headers)).json()
            return any(c["state"] == "wrap_up" for c in s["campaigns"])

        await wait_for(wrap_up, what="ewa in wrap-up")
        await rig.store.schedule_callback(other, slot_at=dt.datetime.fromisoformat(slot))  # the slot is full
        body = {"status": "Oddzwonić", "callback": {"kind": "personal", "slot": slot}}
        r = await rig.client.post("/api/v1/agents/ewa/disposition", headers=headers, json=body)
        assert (409, "slot_unavailable") == (r.status_code, r.json()["error"])
        assert await wrap_up()  # nothing was set: the agent picks another slot
        soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=3)
        body = {
            "status": "Oddzwonić",
            "at": soon.isoformat(),
            "callback": {"kind": "personal", "window_end": (soon + dt.timedelta(hours=1)).isoformat()},
        }
        r = await rig.client.post("/api/v1/agents/ewa/disposition", headers=headers, json=body)
        assert 200 == r.status_code, r.text
        r = await rig.client.post("/api/v1/agents/ewa/pause", headers=headers, json={"reason": "lunch"})
        assert 200 == r.status_code, r.text  # so the callback waits, pending, for its notice
        await wait_for(lambda: bool(log.named("callback_due")), what="the callback_due notice")
    (notice,) = log.named("callback_due")
    assert cid == notice["contact_id"] and notice["window_end_at"] is not None


async def test_public_requests_are_limited_per_source_address(rig: Rig) -> None:
    """Different numbers from one address: refused past the hourly limit with field ``source``;
    a request from another address (127.0.0.2, loopback too) is still taken."""
    await rig.campaign("WEBSRC", "q-prev", DialingMode.PREVIEW)
    await rig.user("sam", Role.SUPERVISOR)
    sam = await rig.login("sam")
    await _grid(rig, "WEBSRC", sam, capacity=PER_SOURCE_PER_HOUR + 5)
    await rig.store.add_callback_site("src-shop", "WEBSRC", KEY)
    slot = (await _free_slots(rig, "WEBSRC", sam))[0]
    key = {"X-Api-Key": KEY}
    body = {"campaign": "WEBSRC", "name": "Ola", "slot": slot, "consent": "Tak"}
    for i in range(PER_SOURCE_PER_HOUR):
        number = f"+485400031{i:02d}"
        r = await rig.client.post("/api/v1/public/callbacks", json={**body, "number": number}, headers=key)
        assert (201, False) == (r.status_code, r.json()["duplicate"]), r.text
    last = {**body, "number": "+48540003199"}
    r = await rig.client.post("/api/v1/public/callbacks", json=last, headers=key)
    refused = (r.status_code, r.json()["error"], r.json()["field"])
    assert (429, "rate_limited", "source") == refused, r.text
    elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=rig.client.base_url, transport=elsewhere, timeout=10) as other:
        r = await other.post("/api/v1/public/callbacks", json=last, headers=key)
    assert (201, False) == (r.status_code, r.json()["duplicate"]), r.text
