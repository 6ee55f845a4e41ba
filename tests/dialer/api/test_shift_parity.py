"""What the CLI does that a supervisor or an administrator now does over HTTP too (issue 9's
"everything the README's CLI section does"): the compliance audit (``dialer compliance
report``), the retention of call records (``dialer db prune``), and the contact import
answering with its progress as it goes. Real server, real sockets, embedded PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

from dialer.model import DialingMode, Qualifier, StatusSpec, SystemStatus
from dialer.store.users import Role
from tests.dialer.api.conftest import Rig

V1 = "/api/v1"
NOON = dt.datetime(2026, 6, 10, 12, tzinfo=dt.UTC)


async def closed_attempt(rig: Rig, campaign: str, started: dt.datetime, outcome: str, ring_s: float) -> int:
    """A closed attempt row as the engine writes it (what the audit reads)."""
    cid = await rig.store.add_contact(campaign, ["+48600100200"], name="Anna")
    row = await rig.store.pool.fetchrow(
        "SELECT c.campaign_id, p.id FROM contacts c JOIN contact_phones p ON p.contact_id = c.id"
        " WHERE c.id = $1",
        cid,
    )
    return int(
        await rig.store.pool.fetchval(
            """INSERT INTO attempts (contact_id, campaign_id, phone_id, e164, engine_id, started_at,
                   ended_at, outcome, zones, ring_s)
               VALUES ($1, $2, $3, '+48600100200', 'e1', $4, $5, $6, $7, $8) RETURNING id""",
            cid,
            row["campaign_id"],
            row["id"],
            started,
            started + dt.timedelta(seconds=ring_s),
            outcome,
            ["Europe/Warsaw"],
            ring_s,
        )
    )


async def test_the_compliance_audit_over_http_is_the_clis_report(rig: Rig) -> None:
    await rig.user("sue", Role.SUPERVISOR)
    sue = await rig.login("sue")
    camp = await rig.campaign("AUDIT", "q-other", DialingMode.PREVIEW)
    url = f"{V1}/campaigns/{camp}/compliance"
    r = await rig.client.get(url, headers=sue)
    assert 200 == r.status_code, r.text
    clean = r.json()
    assert (0, 0, "us") == (clean["violations"], clean["attempts"], clean["profile"])
    assert {"ring_under_15s", "do_not_call", "outside_local_hours", "uk_repeat_lock"} <= {
        row["rule"] for row in clean["rows"]
    }

    short = await closed_attempt(rig, camp, NOON, "no_answer", ring_s=6.0)
    await closed_attempt(rig, camp, NOON + dt.timedelta(hours=1), "no_answer", ring_s=25.0)
    params = {"since": "2026-06-01", "until": "2026-07-01T00:00:00+00:00"}  # a date: its 00:00 UTC
    r = await rig.client.get(url, params=params, headers=sue)
    report = r.json()
    rows = {row["rule"]: row for row in report["rows"]}
    assert (1, 2) == (report["violations"], report["attempts"])
    assert (1, [short]) == (rows["ring_under_15s"]["violations"], rows["ring_under_15s"]["attempt_ids"])
    # the store function the CLI prints, with the same bounds: the same rows
    same = await rig.store.audit_campaign(
        camp, since=dt.datetime(2026, 6, 1), until=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), now=NOON
    )
    assert [(x.rule, x.violations, list(x.attempt_ids), x.detail) for x in same.rows] == [
        (x["rule"], x["violations"], x["attempt_ids"], x["detail"]) for x in report["rows"]
    ]
    assert "2026-06-01T00:00:00Z" == report["since"]
    r = await rig.client.get(url, params={"since": "2026-06-01", "until": "2026-05-01"}, headers=sue)
    assert (422, "invalid_value", "to") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.get(url, params={"since": "June"}, headers=sue)
    assert (422, "invalid_input", "since") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.get(f"{V1}/campaigns/NOPE/compliance", headers=sue)
    assert (404, "campaign") == (r.status_code, r.json()["field"])


async def test_pruning_old_records_is_the_administrators_and_keeps_six_months(rig: Rig) -> None:
    await rig.user("root", Role.ADMIN)
    await rig.user("sue", Role.SUPERVISOR)
    root, sue = await rig.login("root"), await rig.login("sue")
    camp = await rig.campaign("OLD", "q-other", DialingMode.PREVIEW)
    now = rig.app.clock.utcnow()
    old = await closed_attempt(rig, camp, now - dt.timedelta(days=800), "busy", ring_s=20.0)
    recent = await closed_attempt(rig, camp, now - dt.timedelta(days=30), "busy", ring_s=20.0)
    r = await rig.client.post(f"{V1}/records/prune", json={"older_than_days": 400}, headers=sue)
    assert (403, "forbidden") == (r.status_code, r.json()["error"])
    r = await rig.client.post(f"{V1}/records/prune", json={"older_than_days": 100}, headers=root)
    assert (422, "invalid_value", "older-than") == (r.status_code, r.json()["error"], r.json()["field"])
    assert "183" in r.json()["reason"]
    r = await rig.client.post(f"{V1}/records/prune", json={"older_than_days": 1e12}, headers=root)
    assert (422, "invalid_value", "older-than") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.post(f"{V1}/records/prune", json={"older_than_days": 400}, headers=root)
    assert 200 == r.status_code, r.text
    assert (1, 0) == (r.json()["attempts"], r.json()["occupancy_minutes"])
    left = {
        row["id"]
        for row in await rig.store.pool.fetch(
            "SELECT id FROM attempts WHERE campaign_id = (SELECT id FROM campaigns WHERE name = $1)", camp
        )
    }
    assert ({recent}, False) == (left, old in left)


def big_csv(rows: int, bad: dict[int, str]) -> bytes:
    """``rows`` contacts with distinct Polish mobile numbers; the file lines in ``bad`` (2 is
    the first data line) get that phone instead."""
    lines = ["name,phone,city"]
    for i in range(rows):
        line = i + 2
        lines.append(f"Person {i},{bad.get(line, f'+48 6{i:08d}')},Opole")
    return ("\n".join(lines) + "\n").encode()


async def _stream(
    rig: Rig, url: str, body: bytes, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    files = {"file": ("big.csv", body, "text/csv")}
    got: list[dict[str, Any]] = []
    async with rig.client.stream("POST", url, params=params, files=files, headers=headers, timeout=120) as r:
        assert 200 == r.status_code
        assert r.headers["content-type"].startswith("application/x-ndjson")
        async for line in r.aiter_lines():
            if line:
                got.append(json.loads(line))
    return got


async def test_an_import_answers_its_progress_as_it_goes_then_the_rejected_lines(rig: Rig) -> None:
    await rig.user("sue", Role.SUPERVISOR)
    sue = await rig.login("sue")
    camp = await rig.campaign("BIG", "q-other", DialingMode.PREVIEW)
    total = 30_000
    bad = {10: "12", 25_000: "not a number"}
    body = big_csv(total, bad)
    url = f"{V1}/campaigns/{camp}/imports/stream"
    lines = await _stream(rig, url, body, sue)
    progress = [x for x in lines if x["event"] == "progress"]
    done = lines[-1]
    assert "done" == done["event"], lines[-3:]
    result = done["result"]
    assert (total - 2, 2, False) == (result["imported"], result["rejected"], result["dry_run"])
    assert [10, 25_000] == [x["line"] for x in result["rejects"]]
    # seen while it went: a line with some batches loaded and not all, counts never going back
    assert any(0 < p["imported"] < total - 2 for p in progress), progress
    assert all(
        a["imported"] <= b["imported"] and a["parsed"] <= b["parsed"] for a, b in itertools.pairwise(progress)
    )
    assert (len(body), len(body), total) == (
        progress[-1]["bytes_read"],
        progress[-1]["bytes_total"],
        progress[-1]["parsed"],
    )
    assert total - 2 == await rig.store.pool.fetchval(
        "SELECT count(*) FROM contacts WHERE campaign_id = (SELECT id FROM campaigns WHERE name = $1)", camp
    )

    # a file that cannot be read at all is refused before the stream, as the plain endpoint does
    r = await rig.client.post(
        f"{V1}/campaigns/NOPE/imports/stream", files={"file": ("x.csv", body[:200], "text/csv")}, headers=sue
    )
    assert (404, "campaign") == (r.status_code, r.json()["field"])
    r = await rig.client.post(url, files={"file": ("x.csv", b"name,city\nA,B\n", "text/csv")}, headers=sue)
    assert (422, "invalid_file") == (r.status_code, r.json()["error"])
    # the same rows again: every one a duplicate of a contact already in the campaign, by line
    lines = await _stream(rig, url, body[: body.index(b"\n", 2000) + 1], sue, dry_run="true")
    assert "done" == lines[-1]["event"]
    again = lines[-1]["result"]
    assert again["imported"] == 0 and again["rejected"] == again["rejects"][-1]["line"] - 1
    assert all("duplicate" in x["reason"] or x["line"] == 10 for x in again["rejects"])


async def test_the_reminder_choices_of_the_cli_over_http(rig: Rig) -> None:
    await rig.user("sue", Role.SUPERVISOR)
    sue = await rig.login("sue")
    camp = await rig.campaign("PRZYP", "q-prev", DialingMode.PREVIEW)
    await rig.store.create_status(
        StatusSpec("Wyślij SMS", SystemStatus.CALL, qualifier=Qualifier.ACTION_SMS), campaign=camp
    )
    r = await rig.client.put(
        f"{V1}/campaigns/{camp}/reminder-templates/offer", headers=sue, json={"channel": "sms", "body": "Hi"}
    )
    assert 200 == r.status_code, r.text
    cid = await rig.store.add_contact(camp, ["+48600100300"], name="Ewa")
    cb = await rig.store.schedule_callback(cid, due_at=NOON + dt.timedelta(days=400))

    r = await rig.client.put(
        f"{V1}/reminders/overrides/{cb.id}",
        headers=sue,
        json={"recipients": "customer", "channel": "sms", "template": "offer", "lead_s": 900},
    )
    assert 204 == r.status_code, r.text
    saved = await rig.store.pool.fetchrow(
        "SELECT recipients, lead_s FROM reminder_overrides WHERE callback_id = $1", cb.id
    )
    assert ("customer", 900) == (saved["recipients"], saved["lead_s"])
    r = await rig.client.put(f"{V1}/reminders/overrides/{cb.id}", headers=sue, json={"template": "offer"})
    assert (422, "template") == (r.status_code, r.json()["field"])  # the store's rule: name the channel
    r = await rig.client.put(f"{V1}/reminders/overrides/999999", headers=sue, json={})
    assert (404, "callback") == (r.status_code, r.json()["field"])

    r = await rig.client.put(f"{V1}/reminders/optouts/{cid}", headers=sue, json={"opted_out": True})
    assert 204 == r.status_code
    assert (
        await rig.store.pool.fetchval("SELECT count(*) FROM reminder_optouts WHERE contact_id = $1", cid) == 1
    )
    r = await rig.client.put(f"{V1}/reminders/optouts/{cid}", headers=sue, json={"opted_out": False})
    assert (
        await rig.store.pool.fetchval("SELECT count(*) FROM reminder_optouts WHERE contact_id = $1", cid) == 0
    )

    await rig.store.create_agent("ola", "PJSIP/3001")
    r = await rig.client.put(
        f"{V1}/agents/ola/reminder-address",
        headers=sue,
        json={"email": "ola@example.com", "phone": "+48600100301"},
    )
    assert 204 == r.status_code, r.text
    r = await rig.client.put(f"{V1}/agents/ola/reminder-address", headers=sue, json={"phone": "600 100 301"})
    assert (422, "invalid_value", "phone") == (r.status_code, r.json()["error"], r.json()["field"])

    r = await rig.client.put(
        f"{V1}/campaigns/{camp}/reminder-actions/Wyślij SMS", headers=sue, json={"template": "offer"}
    )
    assert 204 == r.status_code, r.text
    r = await rig.client.put(
        f"{V1}/campaigns/{camp}/reminder-actions/Oddzwonić", headers=sue, json={"template": "offer"}
    )
    assert (422, "invalid_value") == (r.status_code, r.json()["error"])  # no action qualifier
