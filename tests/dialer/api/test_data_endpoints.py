"""The supervisor's data endpoints over real HTTP against the real engine (issue 9 item 5):
contacts, import (multipart), transfer, attempts, report; the same store functions as the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

from dialer.model import (
    AttemptResult,
    CampaignSpec,
    CampaignState,
    DialingMode,
    Outcome,
    StatusSpec,
    SystemStatus,
)
from dialer.store.users import Role
from tests.dialer.api.conftest import Rig

V1 = "/api/v1"


async def _supervisor(rig: Rig) -> dict[str, str]:
    await rig.user("sue", Role.SUPERVISOR)
    return await rig.login("sue")


async def test_contacts_search_page_show_edit_and_export(rig: Rig) -> None:
    sue = await _supervisor(rig)
    camp = await rig.campaign("DATA", "q-other", DialingMode.PREVIEW)
    ids = [
        await rig.store.add_contact(camp, [f"+4860000010{i}"], name=f"Nowak {i}", fields={"city": "Opole"})
        for i in range(3)
    ]
    r = await rig.client.get(f"{V1}/contacts", params={"campaign": camp, "limit": 2}, headers=sue)
    assert 200 == r.status_code, r.text
    page = r.json()
    assert (ids[:2], ids[1]) == ([c["id"] for c in page["items"]], page["next_after"])
    r = await rig.client.get(
        f"{V1}/contacts", params={"campaign": camp, "after": page["next_after"]}, headers=sue
    )
    assert ([ids[2]], None) == ([c["id"] for c in r.json()["items"]], r.json()["next_after"])
    r = await rig.client.get(f"{V1}/contacts", params={"number": "600 000 101"}, headers=sue)
    assert [(ids[1], ["+48600000101"], "Dzwonić")] == [
        (c["id"], c["phones"], c["status"]) for c in r.json()["items"]
    ]
    r = await rig.client.get(f"{V1}/contacts", params={"campaign": camp, "status": "Nope"}, headers=sue)
    assert (422, "invalid_value", "status", "Nope") == (
        r.status_code,
        *[r.json()[k] for k in ("error", "field", "value")],
    )
    r = await rig.client.get(f"{V1}/contacts", params={"campaign": "NOPE"}, headers=sue)
    assert (404, "not_found") == (r.status_code, r.json()["error"])

    r = await rig.client.patch(
        f"{V1}/contacts/{ids[0]}",
        json={"name": "Anna Nowak", "fields": {"city": None, "vip": "yes"}, "timezone": "Europe/Warsaw"},
        headers=sue,
    )
    assert 200 == r.status_code, r.text
    assert ("Anna Nowak", {"vip": "yes"}, "Europe/Warsaw") == (
        r.json()["name"],
        r.json()["fields"],
        r.json()["timezone"],
    )
    r = await rig.client.patch(f"{V1}/contacts/{ids[0]}", json={"timezone": "Mars/Base"}, headers=sue)
    assert (422, "invalid_value", "timezone") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.get(f"{V1}/contacts/{ids[0]}", headers=sue)
    body = r.json()
    assert ("Anna Nowak", "+48600000100", [], []) == (
        body["name"],
        body["phones"][0]["number"],
        body["attempts"],
        body["callbacks"],
    )
    assert 404 == (await rig.client.get(f"{V1}/contacts/999999999", headers=sue)).status_code

    r = await rig.client.get(f"{V1}/contacts/export", params={"campaign": camp}, headers=sue)
    assert 200 == r.status_code and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert ["id", "campaign", "name"] == rows[0][:3] and ["city", "vip"] == rows[0][-2:]
    assert [["Anna Nowak", "", "yes"], ["Nowak 1", "Opole", ""], ["Nowak 2", "Opole", ""]] == [
        [row[2], *row[-2:]] for row in rows[1:]
    ]
    r = await rig.client.get(f"{V1}/contacts/export", params={"number": "12"}, headers=sue)
    assert (422, "number") == (r.status_code, r.json()["field"])


async def test_import_upload_with_an_encoding_per_row_rejects_and_a_dry_run(rig: Rig) -> None:
    sue = await _supervisor(rig)
    camp = await rig.campaign("IMPORTS", "q-other", DialingMode.PREVIEW)
    text = (
        "name;phone;city\r\nAnna;600 123 456;Kraków\r\nŁucja;600 123 457;Łódź\r\n"
        "Bad;12;x\r\nDup;600123456;y\r\n"
    )
    upload = {"file": ("kontakty.csv", text.encode("cp1250"), "text/csv")}
    r = await rig.client.post(f"{V1}/campaigns/{camp}/imports", files=upload, headers=sue)
    assert (422, "invalid_file", "encoding") == (r.status_code, r.json()["error"], r.json()["field"])
    assert r.json()["reason"].startswith("line 2, column 22 is not valid utf-8 (byte 0xf3)")
    assert "try encoding cp1250 or " in r.json()["reason"]

    url = f"{V1}/campaigns/{camp}/imports"
    r = await rig.client.post(
        url, params={"encoding": "cp1250", "dry_run": "true"}, files=upload, headers=sue
    )
    assert 200 == r.status_code, r.text
    assert (True, 2, 2) == (r.json()["dry_run"], r.json()["imported"], r.json()["rejected"])
    listed = await rig.client.get(f"{V1}/contacts", params={"campaign": camp}, headers=sue)
    assert [] == listed.json()["items"]

    r = await rig.client.post(url, params={"encoding": "cp1250", "max_rejects": 1}, files=upload, headers=sue)
    out = r.json()
    assert (False, 2, 2, True) == (out["dry_run"], out["imported"], out["rejected"], out["rejects_truncated"])
    assert [{"line": 4, "reason": "invalid number in column phone: '12' (too short)"}] == out["rejects"]
    listed = await rig.client.get(f"{V1}/contacts", params={"campaign": camp}, headers=sue)
    assert [("Anna", {"city": "Kraków"}), ("Łucja", {"city": "Łódź"})] == [
        (c["name"], c["fields"]) for c in listed.json()["items"]
    ]
    r = await rig.client.post(url, params={"encoding": "cp1250"}, files=upload, headers=sue)
    assert [2, 3, 4, 5] == [x["line"] for x in r.json()["rejects"]]  # in line order
    for params, error, field in [
        ({"encoding": "utf-16"}, "invalid_value", "encoding"),
        ({"region": "XX"}, "invalid_value", "region"),
        ({"status": "Nope"}, "not_found", "status"),
    ]:
        r = await rig.client.post(url, params=params, files=upload, headers=sue)
        assert (error, field) == (r.json()["error"], r.json()["field"]), r.text
    r = await rig.client.post(f"{V1}/campaigns/NOPE/imports", files=upload, headers=sue)
    assert (404, "campaign") == (r.status_code, r.json()["field"])
    r = await rig.client.post(url, headers=sue)  # no file
    assert (422, "invalid_input", "file") == (r.status_code, r.json()["error"], r.json()["field"])


async def test_transfer_count_then_move_with_the_seeds_rules(rig: Rig) -> None:
    sue = await _supervisor(rig)
    src = await rig.campaign("FROM", "q-other", DialingMode.PREVIEW)
    dst = await rig.campaign("TO", "q-other", DialingMode.PREVIEW)
    await rig.store.create_status(StatusSpec("Plain", SystemStatus.CALL), campaign=dst)
    for i in range(3):
        await rig.store.add_contact(src, [f"+4860000020{i}"])
    r = await rig.client.get(
        f"{V1}/transfers/count", params={"from_campaign": src, "status": "Dzwonić"}, headers=sue
    )
    assert 200 == r.status_code, r.text
    assert {"campaign": src, "status": "Dzwonić", "matched": 3, "in_call": 0, "refusal": None} == r.json()
    r = await rig.client.get(
        f"{V1}/transfers/count", params={"from_campaign": src, "status": "Sprzedane"}, headers=sue
    )
    assert 0 == r.json()["matched"]
    r = await rig.client.get(
        f"{V1}/transfers/count", params={"from_campaign": "NOPE", "status": "x"}, headers=sue
    )
    assert (404, "campaign") == (r.status_code, r.json()["field"])

    move = {"from_campaign": src, "status": "Dzwonić", "to_campaign": dst, "new_status": "Plain"}
    r = await rig.client.post(f"{V1}/transfers", json=move, headers=sue)
    assert (409, "transfer_refused", "new_status") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.post(
        f"{V1}/transfers", json={**move, "new_status": "Dzwonić", "limit": 2}, headers=sue
    )
    assert 200 == r.status_code, r.text
    out = r.json()
    assert (3, 2, 0) == (out["matched"], out["moved"], out["skipped_leased"])
    assert f"moved 2 of 3 records from {src} / Dzwonić to {dst} / Dzwonić" in out["message"]
    listed = await rig.client.get(f"{V1}/contacts", params={"campaign": dst}, headers=sue)
    assert 2 == len(listed.json()["items"])


async def test_attempts_filter_page_export_and_the_report(rig: Rig) -> None:
    sue = await _supervisor(rig)
    # A campaign the running engine cannot dial now: its contacts' zone is in the night, so the
    # test's own leases at noon (local) of a past day do not race the engine's.
    now = dt.datetime.now(dt.UTC)
    offset = next(k for k in range(-12, 15) if (now.hour + k) % 24 in (0, 1, 2, 3, 4))
    zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
    await rig.store.create_campaign(
        CampaignSpec("CALLS", "ALL_DAY", DialingMode.PREVIEW, queue="q-other", state=CampaignState.RUNNING,
                     local_hours_start=dt.time(9), local_hours_end=dt.time(20), timezone="Europe/Warsaw",
                     max_attempts_per_day=10)
    )  # fmt: skip
    camp = "CALLS"
    noon = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC) - dt.timedelta(hours=offset)  # local noon in zone
    made = []
    for i, outcome in enumerate([Outcome.BUSY, Outcome.NO_ANSWER, Outcome.BUSY]):
        await rig.store.add_contact(camp, [f"+4860000030{i}"], timezone=zone)
        at = noon + dt.timedelta(hours=i)
        [lease] = await rig.store.lease_contacts(camp, at=at, limit=1, owner="report-test")
        attempt = await rig.store.open_attempt(lease, at=at)
        await rig.store.close_attempt(attempt, AttemptResult(outcome, ended_at=at + dt.timedelta(seconds=20)))
        made.append((attempt, lease.contact_id))
    params = {"campaign": camp, "outcome": "busy", "limit": 1}
    r = await rig.client.get(f"{V1}/attempts", params=params, headers=sue)
    assert 200 == r.status_code, r.text
    assert ([made[0][0]], made[0][0]) == ([a["id"] for a in r.json()["items"]], r.json()["next_after"])
    since = noon + dt.timedelta(hours=1)
    until = since + dt.timedelta(hours=1)
    params = {"campaign": camp, "since": since.isoformat(), "until": until.isoformat()}
    r = await rig.client.get(f"{V1}/attempts", params=params, headers=sue)
    assert [(made[1][0], "no_answer", made[1][1])] == [
        (a["id"], a["outcome"], a["contact_id"]) for a in r.json()["items"]
    ]
    r = await rig.client.get(f"{V1}/attempts", params={"outcome": "maybe"}, headers=sue)
    assert (422, "invalid_input", "outcome") == (r.status_code, r.json()["error"], r.json()["field"])
    r = await rig.client.get(f"{V1}/attempts/export", params={"campaign": camp}, headers=sue)
    rows = list(csv.reader(io.StringIO(r.text)))
    assert [str(a) for a, _ in made] == [row[0] for row in rows[1:]]

    params = {"campaign": camp, "since": "2026-03-09", "until": "2026-03-12"}
    r = await rig.client.get(f"{V1}/report", params=params, headers=sue)
    assert 200 == r.status_code, r.text
    report = r.json()
    assert ("Europe/Warsaw", "day") == (report["timezone"], report["window"])
    warsaw = ZoneInfo("Europe/Warsaw")
    days = [(noon + dt.timedelta(hours=i)).astimezone(warsaw).date().isoformat() for i in range(3)]
    expected = sorted(Counter(zip(days, ["busy", "no_answer", "busy"], strict=True)).items())
    assert [(day, outcome, n) for (day, outcome), n in expected] == [
        (o["day"], o["outcome"], o["attempts"]) for o in report["outcomes"]
    ]
    assert ([], []) == (report["abandons"], report["talk"])  # no live answer, no agent talk
    r = await rig.client.get(f"{V1}/report", params={"window": "month"}, headers=sue)
    assert (422, "window") == (r.status_code, r.json()["field"])


async def test_the_day_chart_of_a_campaign_for_supervisors_only(rig: Rig) -> None:
    sue = await _supervisor(rig)
    camp = await rig.campaign("DAYCHART", "q-other", DialingMode.PREVIEW)
    cid = (await rig.store.get_campaign(camp)).id
    now = dt.datetime.now(dt.UTC)
    minute = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    await rig.store.record_occupancy(cid, [(minute, 240.0, 60.0)])
    r = await rig.client.get(f"{V1}/campaigns/{camp}/day", params={"timezone": "UTC"}, headers=sue)
    assert 200 == r.status_code, r.text
    chart = r.json()
    assert ("UTC", now.date().isoformat()) == (chart["timezone"], chart["day"])
    with_agents = [p for p in chart["points"] if p["logged_in_s"]]
    assert [(240.0, 60.0, 0.25)] == [(p["logged_in_s"], p["talking_s"], p["talk_share"]) for p in with_agents]
    assert now.hour * 4 + now.minute // 15 + 1 == len(chart["points"])  # midnight to the quarter under way
    r = await rig.client.get(f"{V1}/campaigns/{camp}/day", params={"day": "2026-02-30"}, headers=sue)
    assert (422, "day") == (r.status_code, r.json()["field"])
    tomorrow = (now + dt.timedelta(days=2)).date().isoformat()
    r = await rig.client.get(f"{V1}/campaigns/{camp}/day", params={"day": tomorrow}, headers=sue)
    assert (422, "day") == (r.status_code, r.json()["field"]), r.text
    assert "after today" in r.json()["reason"]
    r = await rig.client.get(f"{V1}/campaigns/{camp}/day", params={"timezone": "Nowhere/Land"}, headers=sue)
    assert (422, "timezone") == (r.status_code, r.json()["field"])
    r = await rig.client.get(f"{V1}/campaigns/NOSUCH/day", headers=sue)
    assert 404 == r.status_code
    await rig.agent_user("dayagent", "Local/dayagent@sim-agents")
    r = await rig.client.get(f"{V1}/campaigns/{camp}/day", headers=await rig.login("dayagent"))
    assert 403 == r.status_code
    assert 401 == (await rig.client.get(f"{V1}/campaigns/{camp}/day")).status_code
