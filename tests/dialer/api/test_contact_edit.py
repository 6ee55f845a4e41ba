"""``PATCH /agents/{agent}/contact``: the agent edits the customer on its screen, and only that one."""

from __future__ import annotations

from dialer.model import DialingMode
from tests.dialer.api.conftest import Rig, wait_for


async def test_the_agent_edits_the_offered_customer_and_nothing_else(rig: Rig) -> None:
    cid, headers = await rig.one_contact(
        "ewa", "PREV", "q-prev", DialingMode.PREVIEW, "+1005550901", "Adam Mały", city="Gdańsk"
    )
    url = "/api/v1/agents/ewa/contact"
    assert 200 == (await rig.client.post("/api/v1/agents/ewa/login", headers=headers)).status_code
    r = await rig.client.patch(url, headers=headers, json={"name": "Nobody"})
    assert (409, "agent_state") == (r.status_code, r.json()["error"])  # nothing on the screen yet
    assert 200 == (await rig.client.post("/api/v1/agents/ewa/preview", headers=headers, json={})).status_code

    async def offered() -> bool:
        r = await rig.client.get("/api/v1/agents/ewa", headers=headers)
        return r.json()["campaigns"][0]["state"] == "offered"

    await wait_for(offered, what="the record offered")
    refused = (
        ({"name": ""}, "invalid_input", "name"),
        ({"name": "   "}, "invalid_value", "name"),
        ({"fields": {"city": ["a", "list"]}}, "invalid_input", "fields.city.str"),
        ({"phones": []}, "invalid_input", "phones"),
    )
    for body, error, field in refused:
        r = await rig.client.patch(url, headers=headers, json=body)
        assert (422, error) == (r.status_code, r.json()["error"]), (body, r.text)
        assert r.json()["field"].startswith(field.split(".")[0]), r.text
    edit = {"name": " Adam Duży ", "fields": {"city": "Sopot"}}
    r = await rig.client.patch(url, headers=headers, json=edit)
    assert 200 == r.status_code, r.text
    assert ("Adam Duży", {"city": "Sopot"}) == (r.json()["name"], r.json()["fields"])
    stored = await rig.store.get_contact(cid)
    assert ("Adam Duży", {"city": "Sopot"}, ["+1005550901"]) == (
        stored.name,
        stored.fields,
        [p.e164 for p in stored.phones],
    )
    r = await rig.client.patch(url, headers=headers, json={"name": "Adam"})  # fields untouched
    assert {"city": "Sopot"} == r.json()["fields"]
