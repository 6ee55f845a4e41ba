"""The supervisor and administrator endpoints (issue 9 item 5) over real HTTP against the engine:
campaigns (every setting, start/pause/stop, live figures, delete only without attempts),
schedules, the status dictionary and campaigns' statuses, agents, do-not-call lists, users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dialer.model import DialingMode
from dialer.store.users import Role
from tests.dialer.api.conftest import Rig, wait_for

V1 = "/api/v1"
WINDOW = {
    "name": "WORKDAYS",
    "frequency": "weekly",
    "weekdays": [0, 1, 2, 3, 4],
    "window_start": "09:00",
    "window_end": "20:00",
    "timezone": "Europe/Warsaw",
    "description": "office hours",
}


async def _staff(rig: Rig) -> tuple[dict[str, str], dict[str, str]]:
    await rig.user("sue", Role.SUPERVISOR)
    await rig.user("root", Role.ADMIN)
    return await rig.login("sue"), await rig.login("root")


def _error(r: Any, status: int, error: str, field: str | None = None) -> dict[str, Any]:
    assert status == r.status_code, r.text
    body = r.json()
    assert {"error", "field", "reason", "value"} == set(body)
    assert error == body["error"], body
    if field is not None:
        assert field == body["field"], body
    return dict(body)


async def test_a_supervisor_creates_edits_runs_and_reads_a_campaign(rig: Rig) -> None:
    sue, root = await _staff(rig)
    c = rig.client
    assert 201 == (await c.post(f"{V1}/schedules", headers=root, json=WINDOW)).status_code
    r = await c.post(
        f"{V1}/campaigns",
        headers=sue,
        json={
            "name": "SALES",
            "schedule": "WORKDAYS",
            "mode": "preview",
            "caller_id": "+48 22 123 45 67",
            "compliance": "zero",
            "timezone": "Europe/Warsaw",
            "local_hours_start": "09:00",
            "local_hours_end": "20:00",
        },
    )
    assert 201 == r.status_code, r.text
    created = r.json()
    assert ("preview", "stopped", "+48221234567", "SALES") == (
        created["mode"],
        created["state"],
        created["caller_id"],
        created["queue"],
    )
    every_field = {
        "mode": "predictive",
        "caller_id": "+48 22 765 43 21",
        "queue": "q-other",
        "ring_timeout_s": 25,
        "compliance": "us",
        "abandon_cap": 0.02,
        "local_hours_start": "10:00",
        "local_hours_end": "19:00",
        "timezone": "Europe/Berlin",
        "priority": 3,
        "max_attempts": 7,
        "max_attempts_per_day": 2,
        "default_disposition": "Nie dzwonić",
        "amd": True,
        "amd_action": "message",
        "amd_message": "goodbye",
        "amd_false_positive": 0.01,
        "schedule": "ALL_DAY",
    }
    r = await c.patch(f"{V1}/campaigns/SALES", headers=sue, json=every_field)
    assert 200 == r.status_code, r.text
    edited = r.json()
    expected = every_field | {"caller_id": "+48227654321"}
    assert expected == {k: edited[k] for k in every_field}
    shown = (await c.get(f"{V1}/campaigns/SALES", headers=sue)).json()
    assert (0, 0, 0) == (shown["contacts"], shown["attempts"], shown["dialable"])
    assert {k: shown[k] for k in every_field} == {k: edited[k] for k in every_field}
    # the store's rules, not the API's: a ring time below the legal minimum names the field
    _error(
        await c.patch(f"{V1}/campaigns/SALES", headers=sue, json={"ring_timeout_s": 5}),
        422,
        "invalid_value",
        "ring_timeout_s",
    )
    _error(
        await c.patch(f"{V1}/campaigns/SALES", headers=sue, json={"mode": None}), 422, "invalid_input", "mode"
    )
    _error(await c.patch(f"{V1}/campaigns/SALES", headers=sue, json={"name": "X"}), 422, "invalid_input")
    _error(
        await c.patch(f"{V1}/campaigns/SALES", headers=sue, json={"schedule": "NOPE"}),
        422,
        "invalid_value",
        "schedule",
    )
    _error(await c.patch(f"{V1}/campaigns/NOPE", headers=sue, json={"priority": 1}), 404, "not_found")
    # change mode, start, pause, stop
    r = await c.patch(f"{V1}/campaigns/SALES", headers=sue, json={"mode": "progressive", "amd": False})
    assert "progressive" == r.json()["mode"]
    for verb, state in (("start", "running"), ("pause", "paused"), ("stop", "stopped")):
        r = await c.post(f"{V1}/campaigns/SALES/{verb}", headers=sue)
        assert (200, state) == (r.status_code, r.json()["state"]), r.text
    names = [x["name"] for x in (await c.get(f"{V1}/campaigns", headers=sue)).json()]
    assert "SALES" in names
    # a supervisor may not delete; an admin may, since it never dialled
    _error(await c.delete(f"{V1}/campaigns/SALES", headers=sue), 403, "forbidden")
    # stopped, but its runner may still be draining, or be started late by an engine pass that
    # read the campaign running before the stop: refused until it is gone (a clear 409)
    async def deleted() -> bool:
        r = await c.delete(f"{V1}/campaigns/SALES", headers=root)
        if r.status_code == 409:
            assert "in_use" == r.json()["error"], r.text
            return False
        assert 204 == r.status_code, r.text
        return True

    await wait_for(deleted, what="the campaign deleted once its runner is gone")
    _error(await c.get(f"{V1}/campaigns/SALES", headers=sue), 404, "not_found")


async def test_live_figures_match_the_runner_and_a_dialled_campaign_is_not_deleted(rig: Rig) -> None:
    sue, root = await _staff(rig)
    c = rig.client
    await rig.agent_user("anna", "Local/anna@sim-agents")
    await rig.campaign("LIVE", "q-prog", DialingMode.PROGRESSIVE, agents=("anna",))
    await rig.store.add_contact("LIVE", ["+48100000001"], name="Ola")
    await rig.running("LIVE")
    anna = await rig.login("anna")
    assert 200 == (await c.post(f"{V1}/agents/anna/login", headers=anna)).status_code
    await wait_for(lambda: _has_attempt(rig, "LIVE"), what="an attempt of LIVE")
    r = await c.get(f"{V1}/campaigns/LIVE/figures", headers=sue)
    assert 200 == r.status_code, r.text
    fig = r.json()
    runner = rig.app.engine.runner("LIVE")
    assert runner is not None
    g = runner.gauges()
    assert fig["running_here"] and fig["state"] == "running"
    assert set(g.abandon_rate_by_window) == set(fig["abandon_rate_by_window"])
    assert 0.03 == fig["abandon_cap"]
    assert sum(fig["agents_by_state"].values()) == 1
    # one call at most (one agent, progressive): ringing, or answered and maybe still waiting
    assert fig["calls_ringing"] + fig["calls_connected"] <= 1
    assert 0 <= fig["customers_waiting"] <= fig["calls_connected"]
    assert fig["day"] == dt.datetime.now(dt.UTC).astimezone(_zone("Europe/Warsaw")).date().isoformat()
    await wait_for(lambda: _outcomes(rig, sue), what="an outcome today in the figures")
    # it has an attempt now: deleting it is refused, whatever its state
    await c.post(f"{V1}/campaigns/LIVE/stop", headers=sue)
    await wait_for(lambda: rig.app.engine.runner("LIVE") is None, what="LIVE stopped here")
    body = _error(await c.delete(f"{V1}/campaigns/LIVE", headers=root), 409, "in_use", "campaign")
    assert "attempts" in body["reason"]
    assert 200 == (await c.get(f"{V1}/campaigns/LIVE", headers=sue)).status_code


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


async def _has_attempt(rig: Rig, campaign: str) -> bool:
    return bool((await rig.store.campaign_summary(campaign)).attempts)


async def _outcomes(rig: Rig, headers: dict[str, str]) -> bool:
    fig = (await rig.client.get(f"{V1}/campaigns/LIVE/figures", headers=headers)).json()
    return sum(fig["outcomes_today"].values()) >= 1


async def test_schedules_every_field_of_seed_000(rig: Rig) -> None:
    sue, root = await _staff(rig)
    c = rig.client
    r = await c.post(f"{V1}/schedules", headers=root, json=WINDOW)
    assert 201 == r.status_code, r.text
    assert "weekly mon,tue,wed,thu,fri 09:00-20:00 (Europe/Warsaw)" == r.json()["describe"]
    _error(await c.post(f"{V1}/schedules", headers=sue, json=WINDOW), 403, "forbidden")
    monthly = {
        "name": "REPORT",
        "frequency": "monthly",
        "months": [1, 7],
        "days": [1, 15],
        "run_at": "06:30",
        "active": False,
    }
    r = await c.post(f"{V1}/schedules", headers=root, json=monthly)
    assert (201, [1, 7], [1, 15], "06:30", False) == (
        r.status_code,
        r.json()["months"],
        r.json()["days"],
        r.json()["run_at"],
        r.json()["active"],
    )
    # a run-at schedule becomes a window with an interval: null clears the run-at time
    r = await c.patch(
        f"{V1}/schedules/REPORT",
        headers=root,
        json={
            "run_at": None,
            "window_start": "08:00",
            "window_end": "16:00",
            "interval_min": 30,
            "name": "EVERY30",
            "active": True,
            "frequency": "daily",
            "months": [],
            "days": [],
        },
    )
    assert 200 == r.status_code, r.text
    assert "daily 08:00-16:00 every 30 min (UTC)" == r.json()["describe"]
    names = [s["name"] for s in (await c.get(f"{V1}/schedules", headers=sue)).json()]
    assert {"WORKDAYS", "EVERY30", "ALL_DAY"} <= set(names) and "REPORT" not in names
    _error(
        await c.patch(f"{V1}/schedules/EVERY30", headers=root, json={"window_end": "08:00"}),
        422,
        "invalid_value",
        "window",
    )
    _error(
        await c.post(f"{V1}/schedules", headers=root, json=WINDOW | {"name": "X", "run_at": "10:00"}),
        422,
        "invalid_value",
        "window",
    )
    _error(
        await c.post(
            f"{V1}/schedules",
            headers=root,
            json={
                "name": "Y",
                "frequency": "monthly",
                "months": [2],
                "days": [30, 31],
                "window_start": "09:00",
                "window_end": "10:00",
            },
        ),
        422,
        "invalid_value",
        "days",
    )
    # in use by a campaign: neither removed nor turned into a run-at time
    await c.post(
        f"{V1}/campaigns", headers=sue, json={"name": "C1", "schedule": "EVERY30", "compliance": "zero"}
    )
    _error(await c.delete(f"{V1}/schedules/EVERY30", headers=root), 409, "in_use", "schedule")
    _error(
        await c.patch(
            f"{V1}/schedules/EVERY30",
            headers=root,
            json={"run_at": "10:00", "window_start": None, "window_end": None, "interval_min": None},
        ),
        409,
        "in_use",
        "run_at",
    )
    assert 204 == (await c.delete(f"{V1}/schedules/WORKDAYS", headers=root)).status_code
    _error(await c.get(f"{V1}/schedules/WORKDAYS", headers=sue), 404, "not_found")


async def test_the_status_dictionary_and_a_campaigns_statuses_seed_004(rig: Rig) -> None:
    sue, root = await _staff(rig)
    c = rig.client
    status = {
        "name": "Wstępnie zainteresowany",
        "system_status": "my_record",
        "qualifier": "callback_absolute",
        "auto_add": True,
        "hidden": False,
        "active": True,
        "retry": {"delay_s": 600, "backoff": "multiplicative", "factor": 1.5, "max_attempts": 4},
    }
    r = await c.post(f"{V1}/statuses", headers=root, json=status)
    assert 201 == r.status_code, r.text
    assert status | {"trigger": None, "local": False} == r.json()
    _error(await c.post(f"{V1}/statuses", headers=sue, json=status | {"name": "x"}), 403, "forbidden")
    busy = {"name": "Zajęty", "system_status": "call", "trigger": "busy", "auto_add": True}
    assert 201 == (await c.post(f"{V1}/statuses", headers=root, json=busy)).status_code
    # the store's rule: a 'my record' status is never set automatically
    _error(
        await c.patch(f"{V1}/statuses/{status['name']}", headers=root, json={"trigger": "busy"}),
        422,
        "invalid_value",
        "trigger",
    )
    r = await c.patch(f"{V1}/statuses/Zajęty", headers=root, json={"hidden": True, "retry": {"delay_s": 120}})
    assert (True, 120) == (r.json()["hidden"], r.json()["retry"]["delay_s"])
    # auto-add: a new campaign gets both
    await c.post(
        f"{V1}/campaigns", headers=sue, json={"name": "ST", "schedule": "ALL_DAY", "compliance": "zero"}
    )
    r = await c.get(f"{V1}/campaigns/ST/status-settings", headers=sue)
    mine = {s["name"]: s for s in r.json()}
    assert {"Wstępnie zainteresowany", "Zajęty", "Dzwonić"} <= set(mine)
    assert "busy" == mine["Zajęty"]["trigger"]
    # the campaign's own rule, then a status of its own
    r = await c.patch(
        f"{V1}/campaigns/ST/status-settings/Zajęty", headers=sue, json={"retry": {"delay_s": 90}}
    )
    assert 90 == r.json()["retry"]["delay_s"]
    assert 120 == (await c.get(f"{V1}/statuses/Zajęty", headers=sue)).json()["retry"]["delay_s"]
    _error(
        await c.patch(f"{V1}/campaigns/ST/status-settings/Zajęty", headers=sue, json={"hidden": False}),
        422,
        "invalid_value",
        "hidden",
    )
    r = await c.post(
        f"{V1}/campaigns/ST/status-settings",
        headers=sue,
        json={"create": {"name": "Tylko tu", "system_status": "do_not_call"}},
    )
    assert (201, True) == (r.status_code, r.json()["local"]), r.text
    r = await c.patch(
        f"{V1}/campaigns/ST/status-settings/Tylko tu",
        headers=sue,
        json={"name": "Tylko tutaj", "hidden": True},
    )
    assert ("Tylko tutaj", True) == (r.json()["name"], r.json()["hidden"])
    assert "Tylko tutaj" not in [s["name"] for s in (await c.get(f"{V1}/statuses", headers=sue)).json()]
    # in use: the dictionary status is used by ST, the campaign's default status holds contacts
    _error(await c.delete(f"{V1}/statuses/Zajęty", headers=root), 409, "in_use", "status")
    await rig.store.add_contact("ST", ["+48100000009"], name="Ela")
    _error(await c.delete(f"{V1}/campaigns/ST/status-settings/Dzwonić", headers=sue), 409, "in_use", "status")
    assert 204 == (await c.delete(f"{V1}/campaigns/ST/status-settings/Zajęty", headers=sue)).status_code
    assert 204 == (await c.delete(f"{V1}/campaigns/ST/status-settings/Tylko tutaj", headers=sue)).status_code
    assert {"Zajęty", "Tylko tutaj"}.isdisjoint(
        s["name"] for s in (await c.get(f"{V1}/campaigns/ST/status-settings", headers=sue)).json()
    )
    # no campaign uses Zajęty now: the dictionary lets it go
    assert 204 == (await c.delete(f"{V1}/statuses/Zajęty", headers=root)).status_code
    _error(
        await c.post(f"{V1}/campaigns/ST/status-settings", headers=sue, json={"status": "Zajęty"}),
        404,
        "not_found",
    )
    _error(
        await c.post(f"{V1}/campaigns/ST/status-settings", headers=sue, json={}),
        422,
        "invalid_input",
        "status",
    )


async def test_agents_are_listed_edited_assigned_and_removed(rig: Rig) -> None:
    sue, root = await _staff(rig)
    c = rig.client
    await rig.campaign("A1", "q-prog", DialingMode.PREVIEW)
    await rig.campaign("A2", "q-prev", DialingMode.PREVIEW)
    r = await c.post(
        f"{V1}/agents", headers=root, json={"name": "zoe", "interface": "PJSIP/2001", "campaigns": ["A1"]}
    )
    assert 201 == r.status_code, r.text
    assert {
        "name": "zoe",
        "interface": "PJSIP/2001",
        "active": True,
        "server": "",
        "campaigns": ["A1"],
        "user": None,
        "logged_in": False,
    } == r.json()
    # the server its phone is on: one of [[ami.servers]] (the rig has "sim")
    r = await c.patch(f"{V1}/agents/zoe", headers=sue, json={"server": "sim"})
    assert "sim" == r.json()["server"]
    _error(
        await c.patch(f"{V1}/agents/zoe", headers=sue, json={"server": "pbx9"}),
        422,
        "invalid_value",
        "server",
    )
    r = await c.patch(f"{V1}/campaigns/A1", headers=sue, json={"servers": ["sim"]})
    assert ["sim"] == r.json()["servers"]
    _error(
        await c.patch(f"{V1}/campaigns/A1", headers=sue, json={"servers": ["pbx9"]}),
        422,
        "invalid_value",
        "servers",
    )
    _error(await c.post(f"{V1}/agents", headers=sue, json={"name": "x"}), 403, "forbidden")
    _error(
        await c.post(f"{V1}/agents", headers=root, json={"name": "y", "campaigns": ["NOPE"]}),
        404,
        "not_found",
    )
    assert "y" not in [a["name"] for a in (await c.get(f"{V1}/agents", headers=sue)).json()]
    r = await c.patch(f"{V1}/agents/zoe", headers=sue, json={"interface": "PJSIP/2002", "active": False})
    assert ("PJSIP/2002", False) == (r.json()["interface"], r.json()["active"])
    _error(
        await c.patch(f"{V1}/agents/zoe", headers=sue, json={"interface": "nonsense"}),
        422,
        "invalid_value",
        "interface",
    )
    r = await c.put(f"{V1}/agents/zoe/campaigns", headers=sue, json={"campaigns": ["A2", "A1", "A2"]})
    assert ["A1", "A2"] == r.json()["campaigns"]
    r = await c.put(f"{V1}/agents/zoe/campaigns", headers=sue, json={"campaigns": ["A2"]})
    assert ["A2"] == (await c.get(f"{V1}/agents/zoe/record", headers=sue)).json()["campaigns"]
    # an agent user linked to it: removal refused until the user goes
    await rig.store.create_user("zoe", Role.AGENT, "x", agent="zoe")
    assert "zoe" == (await c.get(f"{V1}/agents/zoe/record", headers=sue)).json()["user"]
    _error(await c.delete(f"{V1}/agents/zoe", headers=root), 409, "in_use", "agent")
    assert 204 == (await c.delete(f"{V1}/users/zoe", headers=root)).status_code
    _error(await c.delete(f"{V1}/agents/zoe", headers=sue), 403, "forbidden")
    assert 204 == (await c.delete(f"{V1}/agents/zoe", headers=root)).status_code
    _error(await c.get(f"{V1}/agents/zoe/record", headers=sue), 404, "not_found")


async def test_do_not_call_entries_are_added_searched_and_removed(rig: Rig) -> None:
    sue, root = await _staff(rig)
    c = rig.client
    await rig.campaign("D1", "q-prog", DialingMode.PREVIEW)
    r = await c.post(
        f"{V1}/dnc", headers=sue, json={"number": "501 234 567", "region": "PL", "reason": "asked"}
    )
    assert (201, "+48501234567", None) == (r.status_code, r.json()["number"], r.json()["campaign"]), r.text
    await c.post(
        f"{V1}/dnc", headers=sue, json={"number": "+48 601 234 568", "campaign": "D1", "reason": "angry"}
    )
    _error(await c.post(f"{V1}/dnc", headers=sue, json={"number": "12"}), 422, "invalid_value", "phone")
    _error(
        await c.post(f"{V1}/dnc", headers=sue, json={"number": "+48601234568", "campaign": "NOPE"}),
        404,
        "not_found",
    )
    everything = (await c.get(f"{V1}/dnc", headers=sue)).json()
    assert 2 == everything["total"]
    assert {"+48501234567": None, "+48601234568": "D1"} == {
        e["number"]: e["campaign"] for e in everything["entries"]
    }
    assert ["+48601234568"] == [
        e["number"] for e in (await c.get(f"{V1}/dnc?campaign=D1", headers=sue)).json()["entries"]
    ]
    assert ["+48501234567"] == [
        e["number"] for e in (await c.get(f"{V1}/dnc?campaign=-", headers=sue)).json()["entries"]
    ]
    assert ["+48601234568"] == [
        e["number"] for e in (await c.get(f"{V1}/dnc?search=ANGRY", headers=sue)).json()["entries"]
    ]
    assert ["+48501234567"] == [
        e["number"] for e in (await c.get(f"{V1}/dnc?search=2345 67", headers=sue)).json()["entries"]
    ]
    page = (await c.get(f"{V1}/dnc?limit=1&offset=1", headers=sue)).json()
    assert (2, 1) == (page["total"], len(page["entries"]))
    # removal: administrators only; the number as typed nationally finds the entry
    _error(await c.delete(f"{V1}/dnc/%2B48501234567", headers=sue), 403, "forbidden")
    assert 204 == (await c.delete(f"{V1}/dnc/501234567?region=PL", headers=root)).status_code
    _error(await c.delete(f"{V1}/dnc/+48501234567", headers=root), 404, "not_found", "number")
    _error(await c.delete(f"{V1}/dnc/+48601234568", headers=root), 404, "not_found")  # on D1's list only
    assert 204 == (await c.delete(f"{V1}/dnc/+48601234568?campaign=D1", headers=root)).status_code
    assert 0 == (await c.get(f"{V1}/dnc", headers=sue)).json()["total"]


async def test_a_do_not_call_file_is_imported_with_its_rejected_lines(rig: Rig) -> None:
    sue, _ = await _staff(rig)
    c = rig.client
    await rig.campaign("D2", "q-prog", DialingMode.PREVIEW)
    text = "numer;powód\n501 234 567;prosił\nzadzwoń później\n+48 601 234 568\n501234567\n"
    upload = {"file": ("dnc.csv", text.encode("cp1250"), "text/csv")}
    url = f"{V1}/dnc/imports"
    r = await c.post(
        url, params={"campaign": "D2", "region": "PL", "encoding": "cp1250"}, files=upload, headers=sue
    )
    assert 200 == r.status_code, r.text
    body = r.json()
    assert (2, 2) == (body["numbers"], body["new"])  # the repeat counted once
    assert [(3, "zadzwoń później")] == [(x["line"], x["text"]) for x in body["rejected"]]
    listed = (await c.get(f"{V1}/dnc?campaign=D2", headers=sue)).json()["entries"]
    assert {"+48501234567", "+48601234568"} == {e["number"] for e in listed}
    again = await c.post(
        url, params={"campaign": "D2", "region": "PL", "encoding": "cp1250"}, files=upload, headers=sue
    )
    assert 0 == again.json()["new"]
    _error(
        await c.post(url, params={"region": "PL"}, files=upload, headers=sue),
        422,
        "invalid_value",
        "encoding",
    )
    assert 0 == (await c.get(f"{V1}/dnc?campaign=-", headers=sue)).json()["total"]  # nothing half-written


async def test_users_change_role_and_the_last_admin_stays(rig: Rig) -> None:
    sue, root = await _staff(rig)
    c = rig.client
    _error(await c.patch(f"{V1}/users/sue", headers=sue, json={"role": "admin"}), 403, "forbidden")
    r = await c.patch(f"{V1}/users/sue", headers=root, json={"role": "admin"})
    assert (200, "admin") == (r.status_code, r.json()["role"]), r.text
    # the role change revoked sue's token: she logs in again with the new rights
    _error(await c.get(f"{V1}/me", headers=sue), 401, "unauthorized")
    sue = await rig.login("sue")
    assert 200 == (await c.get(f"{V1}/users", headers=sue)).status_code
    assert "admin" == (await c.get(f"{V1}/users/sue", headers=sue)).json()["role"]
    assert 204 == (await c.delete(f"{V1}/users/root", headers=sue)).status_code
    _error(await c.delete(f"{V1}/users/sue", headers=sue), 409, "in_use", "role")
    _error(await c.patch(f"{V1}/users/sue", headers=sue, json={"role": "supervisor"}), 409, "in_use", "role")
    _error(
        await c.patch(f"{V1}/users/sue", headers=sue, json={"role": "agent"}), 422, "invalid_value", "agent"
    )
    _error(await c.patch(f"{V1}/users/sue", headers=sue, json={"password": "short"}), 422, "invalid_input")
    r = await c.patch(f"{V1}/users/sue", headers=sue, json={"password": "a much longer passphrase"})
    assert 200 == r.status_code and "passphrase" not in r.text
    r = await c.post(f"{V1}/auth/login", json={"name": "sue", "password": "a much longer passphrase"})
    assert 200 == r.status_code
