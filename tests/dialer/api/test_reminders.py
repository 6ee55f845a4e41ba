"""The reminder endpoints on the running engine (issue 14): a supervisor turns reminders on,
sets the seed's defaults, saves templates (a broken one refused, an SMS's length shown), sees
the log and that the service runs inside the engine."""

from __future__ import annotations

import datetime as dt

from dialer.model import CallbackKind, DialingMode
from dialer.store.users import Role
from tests.dialer.api.conftest import Rig, wait_for


async def test_a_supervisor_sets_up_reminders_and_sees_the_service(rig: Rig) -> None:
    await rig.user("sue", Role.SUPERVISOR)
    sue = await rig.login("sue")
    await rig.campaign("REM", "q-prev", DialingMode.PREVIEW)
    base = "/api/v1/campaigns/REM"

    r = await rig.client.put(
        f"{base}/reminder-templates/sms",
        headers=sue,
        json={"channel": "sms", "body": "Dzień dobry {{ contact.name }}, {{ callback.at|time }}"},
    )
    assert 200 == r.status_code, r.text
    assert {"encoding": "ucs2", "units": 41, "parts": 1} == r.json()["sms"]
    assert "Dzień dobry Zofia Łukasiewicz-Grün, 10:00" == r.json()["sample_text"]

    r = await rig.client.put(
        f"{base}/reminder-templates/bad", headers=sue, json={"channel": "sms", "body": "{{ contact.nmae }}"}
    )
    assert (422, "invalid_value", "template") == (r.status_code, r.json()["error"], r.json()["field"])

    r = await rig.client.put(
        f"{base}/reminder-templates/mail",
        headers=sue,
        json={"channel": "email", "subject": "Callback", "body": "Call {{ contact.name }}"},
    )
    assert 200 == r.status_code and r.json()["sms"] is None

    r = await rig.client.put(
        f"{base}/reminders",
        headers=sue,
        json={
            "enabled": True,
            "customer_channel": "sms",
            "customer_template": "sms",
            "customer_lead_s": 3600,
            "agent_channel": "email",
            "agent_template": "mail",
            "agent_lead_s": 3600,
            "language": "pl",
        },
    )
    assert 200 == r.status_code, r.text
    assert {"enabled": True, "customer_template": "sms", "agent_template": "mail"}.items() <= r.json().items()

    r = await rig.client.put(f"{base}/reminders", headers=sue, json={"customer_template": "mail"})
    assert (422, "customer_template") == (r.status_code, r.json()["field"])  # an e-mail template for SMS
    r = await rig.client.put(f"{base}/reminders", headers=sue, json={"agent_lead_s": 10**7})
    assert 422 == r.status_code
    assert "sms" == (await rig.client.get(f"{base}/reminders", headers=sue)).json()["customer_template"]
    names = [t["name"] for t in (await rig.client.get(f"{base}/reminder-templates", headers=sue)).json()]
    assert ["mail", "sms"] == names

    async def running() -> bool:
        body = (await rig.client.get("/api/v1/reminders/service", headers=sue)).json()
        return bool(body["running"]) and body["engines"] == ["api-test"]

    await wait_for(running, what="the reminder service running in the engine")

    # a callback far enough ahead: the service plans its reminders (no agent: that one is skipped)
    cid = await rig.store.add_contact("REM", ["+48600100200"], name="Jan")
    await rig.store.schedule_callback(
        cid, due_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2), kind=CallbackKind.CAMPAIGN
    )
    assert rig.app.reminders is not None
    await rig.app.reminders.tick()
    log = (await rig.client.get(f"{base}/reminders/log", headers=sue)).json()
    assert {("planned", "customer"), ("skipped", "agent")} == {(e["operation"], e["recipient"]) for e in log}
    assert 404 == (await rig.client.get("/api/v1/campaigns/NOPE/reminders", headers=sue)).status_code
