"""An agent's shift through the HTTP API alone: log in, calls in each mode, dispositions with a
callback, negotiated logout, the event stream. Real engine, simulated PBX over TCP, httpx."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from dialer.api.passwords import hash_token
from dialer.model import DialingMode
from tests.dialer.api.conftest import EventLog, Rig, wait_for

WARSAW = ZoneInfo("Europe/Warsaw")


async def _state(rig: Rig, headers: dict[str, str], agent: str) -> dict[str, Any]:
    r = await rig.client.get(f"/api/v1/agents/{agent}", headers=headers)
    assert 200 == r.status_code, r.text
    return r.json()


async def _wait_state(rig: Rig, headers: dict[str, str], agent: str, *states: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.update(await _state(rig, headers, agent))
        return any(c["state"] in states for c in seen["campaigns"])

    await wait_for(reached, what=f"{agent} in {states}")
    return seen


async def test_progressive_call_screen_pop_and_personal_callback_on_a_new_number(rig: Rig) -> None:
    cid, headers = await rig.one_contact(
        "anna", "PROG", "q-prog", DialingMode.PROGRESSIVE, "+1005550101", "Jan Nowak", city="Kraków"
    )
    async with EventLog(rig, headers) as log:
        r = await rig.client.post("/api/v1/agents/anna/login", headers=headers, json={})
        assert 200 == r.status_code, r.text
        assert ["PROG"] == [c["campaign"] for c in r.json()["campaigns"]]
        await _wait_state(rig, headers, "anna", "talking", "wrap_up")
        r = await rig.client.get("/api/v1/agents/anna/call", headers=headers)
        assert 200 == r.status_code, r.text
        pop = r.json()
        assert (cid, "Jan Nowak", {"city": "Kraków"}) == (pop["id"], pop["name"], pop["fields"])
        assert ["+1005550101"] == [p["number"] for p in pop["phones"]]
        assert {"Sprzedane", "Oddzwonić"} <= {s["name"] for s in pop["statuses"]}
        assert "Ukryty" not in {s["name"] for s in pop["statuses"]}  # hidden: not for agents
        await _wait_state(rig, headers, "anna", "wrap_up")
        # the date is required by "my record"; the store's and the campaign's rules name the field
        future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
        personal: dict[str, Any] = {"kind": "personal"}
        refused = (
            ({"status": "Oddzwonić"}, "at"),
            ({"status": "Ukryty"}, "status"),  # hidden
            ({"status": "Nieznany"}, "status"),
            ({"status": "Oddzwonić", "at": "2020-01-01T10:00:00"}, "at"),  # in the past
            ({"status": "Oddzwonić", "at": future, "timezone": "Mars/Base"}, "timezone"),
            ({"status": "Sprzedane", "callback": {"kind": "campaign"}}, "at"),
            (
                {"status": "Oddzwonić", "at": future, "callback": {**personal, "phone_position": 7}},
                "callback.phone_position",
            ),
            (
                {
                    "status": "Oddzwonić",
                    "at": future,
                    "callback": {**personal, "new_number": {"number": "12"}},
                },
                "callback.new_number.number",
            ),
        )
        for wrong, field in refused:
            r = await rig.client.post("/api/v1/agents/anna/disposition", headers=headers, json=wrong)
            assert (422, "invalid_value", field) == (r.status_code, r.json()["error"], r.json()["field"]), (
                wrong
            )
        r = await rig.client.post("/api/v1/agents/anna/disposition", headers=headers, json={"status": 7})
        assert (422, "invalid_input", "status") == (r.status_code, r.json()["error"], r.json()["field"])
        assert "wrap_up" == (await _state(rig, headers, "anna"))["campaigns"][0]["state"]  # nothing was set
        due = dt.datetime.now(WARSAW) + dt.timedelta(seconds=2)
        # the new number's window: from an hour ago to two hours ahead in the contact's zone
        # (it wraps midnight near the day's end), so the callback is due inside it
        opens, closes = (
            (due + dt.timedelta(hours=k)).time().replace(second=0, microsecond=0) for k in (-1, 2)
        )
        body = {
            "status": "Oddzwonić",
            "at": due.replace(tzinfo=None).isoformat(timespec="seconds"),
            "timezone": "Europe/Warsaw",
            "callback": {
                "kind": "personal",
                "new_number": {
                    "number": "+48 600 123 456",
                    "kind": "mobile",
                    "window_start": opens.strftime("%H:%M"),
                    "window_end": closes.strftime("%H:%M"),
                },
            },
        }
        r = await rig.client.post("/api/v1/agents/anna/disposition", headers=headers, json=body)
        assert 200 == r.status_code, r.text
        assert "ready" == r.json()["campaigns"][0]["state"]
        anna = await rig.store.get_agent("anna")

        async def called_back() -> bool:
            return any(
                a.e164 == "+48600123456" and a.agent_id == anna.id
                for a in await rig.store.contact_attempts(cid)
            )

        await wait_for(called_back, what="the callback dialled on the new number for anna")
        contact = await rig.store.get_contact(cid)
        new = [p for p in contact.phones if p.e164 == "+48600123456"]
        assert [("mobile", opens, closes)] == [(p.kind, p.window_start, p.window_end) for p in new]
        [dialled] = [a for a in await rig.store.contact_attempts(cid) if a.e164 == "+48600123456"]
        local = dialled.started_at.astimezone(WARSAW).time()
        inside = opens <= local < closes if opens < closes else (local >= opens or local < closes)
        assert inside and dialled.started_at >= due.astimezone(dt.UTC) - dt.timedelta(seconds=1), dialled
    names = [name for name, _ in log.events]
    assert "state" == names[0]  # the current state first
    assert log.named("call") and cid == log.named("call")[0]["contact"]["id"]
    assert log.named("wrap_up") and 0 < log.named("wrap_up")[0]["left_s"] <= 30
    default = (await rig.store.get_campaign("PROG")).default_disposition
    assert default and default == log.named("wrap_up")[0]["status"]  # what the timeout will set


async def test_predictive_call_reaches_the_agent_with_its_screen_pop_and_disposition(rig: Rig) -> None:
    cid, headers = await rig.one_contact(
        "iga", "PRED", "q-prog", DialingMode.PREDICTIVE, "+1005550111", "Olga Wiśniewska", city="Gdańsk"
    )
    async with EventLog(rig, headers) as log:
        assert 200 == (await rig.client.post("/api/v1/agents/iga/login", headers=headers)).status_code
        state = await _wait_state(rig, headers, "iga", "talking", "wrap_up")
        assert "predictive" == state["campaigns"][0]["mode"]
        r = await rig.client.get("/api/v1/agents/iga/call", headers=headers)
        assert 200 == r.status_code, r.text
        pop = r.json()
        assert (cid, "Olga Wiśniewska", {"city": "Gdańsk"}) == (pop["id"], pop["name"], pop["fields"])
        await _wait_state(rig, headers, "iga", "wrap_up")
        sold_body = {"status": "Sprzedane"}
        r = await rig.client.post("/api/v1/agents/iga/disposition", headers=headers, json=sold_body)
        assert 200 == r.status_code, r.text

        async def sold() -> bool:
            return (await rig.store.get_contact(cid)).status == "Sprzedane"

        await wait_for(sold, what="the disposition written")
    assert cid == log.named("call")[0]["contact"]["id"]
    [attempt] = await rig.store.contact_attempts(cid)
    assert ("answered", (await rig.store.get_agent("iga")).id) == (attempt.outcome.value, attempt.agent_id)


async def test_preview_request_see_dial_and_dispose(rig: Rig) -> None:
    cid, headers = await rig.one_contact(
        "piotr", "PREV", "q-prev", DialingMode.PREVIEW, "+1005550201", "Ewa Lis"
    )
    async with EventLog(rig, headers) as log:
        assert 200 == (await rig.client.post("/api/v1/agents/piotr/login", headers=headers)).status_code
        r = await rig.client.get("/api/v1/agents/piotr/offer", headers=headers)
        assert (409, "agent_state") == (r.status_code, r.json()["error"])  # nothing asked for yet
        r = await rig.client.post("/api/v1/agents/piotr/preview", headers=headers, json={})
        assert 200 == r.status_code, r.text
        await _wait_state(rig, headers, "piotr", "offered")
        r = await rig.client.get("/api/v1/agents/piotr/offer", headers=headers)
        assert 200 == r.status_code, r.text
        assert ("preview", cid, "Ewa Lis") == (
            r.json()["kind"],
            r.json()["contact"]["id"],
            r.json()["contact"]["name"],
        )
        assert [] == await rig.store.contact_attempts(cid)  # seen, not dialled
        # the console shows the offer from its stream before the agent can accept it; a click
        # within the hub's 50 ms look would leave the stream only the states after it
        await wait_for(lambda: bool(log.named("offer")), what="the offer on the stream")
        assert (
            200 == (await rig.client.post("/api/v1/agents/piotr/offer/accept", headers=headers)).status_code
        )
        await _wait_state(rig, headers, "piotr", "wrap_up")
        r = await rig.client.post(
            "/api/v1/agents/piotr/disposition", headers=headers, json={"status": "Sprzedane"}
        )
        assert 200 == r.status_code, r.text

        async def sold() -> bool:
            return (await rig.store.get_contact(cid)).status == "Sprzedane"

        await wait_for(sold, what="the disposition written")
    assert cid == log.named("offer")[0]["contact"]["id"]


async def test_push_preview_offer_is_rejected_undialled(rig: Rig) -> None:
    cid, headers = await rig.one_contact(
        "ola", "PUSH", "q-push", DialingMode.PUSH_PREVIEW, "+1005550301", "Adam Kot"
    )
    assert 200 == (await rig.client.post("/api/v1/agents/ola/login", headers=headers)).status_code
    await _wait_state(rig, headers, "ola", "offered")  # pushed without asking
    r = await rig.client.get("/api/v1/agents/ola/offer", headers=headers)
    assert ("push_preview", cid) == (r.json()["kind"], r.json()["contact"]["id"])
    r = await rig.client.post("/api/v1/agents/ola/offer/skip", headers=headers)
    assert 200 == r.status_code, r.text
    assert [] == await rig.store.contact_attempts(cid)


async def test_negotiated_logout_during_a_call_counts_down_and_completes_after_it(rig: Rig) -> None:
    _, headers = await rig.one_contact(
        "ewa", "LOGOUT", "q-other", DialingMode.PROGRESSIVE, "+1105550401", "Long"
    )
    async with EventLog(rig, headers) as log:
        assert 200 == (await rig.client.post("/api/v1/agents/ewa/login", headers=headers)).status_code
        await _wait_state(rig, headers, "ewa", "reserved", "talking", "wrap_up")
        r = await rig.client.post("/api/v1/agents/ewa/logout", headers=headers)
        assert 200 == r.status_code, r.text
        held = r.json()
        assert held["logged_out"] is False
        assert held["remaining"][0]["waiting_for"] in ("reserved", "talking", "wrap_up")
        assert held["state"]["logging_out"] is True
        # withdrawn and asked again: the agent changed their mind twice
        assert 200 == (await rig.client.delete("/api/v1/agents/ewa/logout", headers=headers)).status_code
        assert (await _state(rig, headers, "ewa"))["logging_out"] is False
        assert 200 == (await rig.client.post("/api/v1/agents/ewa/logout", headers=headers)).status_code
        await _wait_state(rig, headers, "ewa", "wrap_up")
        ticks = lambda: [t["remaining"][0] for t in log.named("logout")]  # noqa: E731
        await wait_for(
            lambda: any(t["waiting_for"] == "wrap_up" for t in ticks()), what="a wrap-up countdown"
        )
        tick = next(t for t in ticks() if t["waiting_for"] == "wrap_up")
        assert 0 < tick["remaining_s"] <= 30
        r = await rig.client.post(
            "/api/v1/agents/ewa/disposition", headers=headers, json={"status": "Sprzedane"}
        )
        assert 200 == r.status_code, r.text
        assert [] == r.json()["campaigns"]  # the logout completed with the wrap-up

        async def gone() -> bool:
            return not (await _state(rig, headers, "ewa"))["logged_in"]

        await wait_for(gone, what="the session ended")
        await wait_for(lambda: bool(log.named("logout_granted")), what="the grant event")
    r = await rig.client.post("/api/v1/agents/ewa/ready", headers=headers)
    assert (409, "not_logged_in") == (r.status_code, r.json()["error"])


async def test_supervisors_get_figures_and_agents_hear_of_campaigns_starting(rig: Rig) -> None:
    from dialer.store.users import Role

    await rig.user("sue", Role.SUPERVISOR)
    await rig.agent_user("iga", "Local/agent5@sim-agents")
    await rig.campaign("FIRST", "q-prog", DialingMode.PREVIEW, agents=("iga",))
    await rig.running("FIRST")
    sue, iga = await rig.login("sue"), await rig.login("iga")
    async with EventLog(rig, sue) as supervisor, EventLog(rig, iga) as agent:
        assert "logged_in" in agent.named("state")[0]  # the state first, before anything happened
        await wait_for(lambda: bool(supervisor.named("figures")), what="figures")
        assert ["FIRST"] == [c["campaign"] for c in supervisor.named("figures")[0]["campaigns"]]
        assert {"attempts", "abandon_rate", "agents_by_state", "calls_ringing", "customers_waiting"} <= set(
            supervisor.named("figures")[0]["campaigns"][0]
        )
        await rig.campaign("SECOND", "q-other", DialingMode.PREVIEW, agents=("iga",))
        await wait_for(lambda: bool(agent.named("campaign_started")), what="the campaign-started notice")
        assert [{"campaign": "SECOND"}] == agent.named("campaign_started")
        await wait_for(lambda: bool(agent.named("assigned")), what="the assignment notice")
        assert [{"campaign": "SECOND"}] == agent.named("assigned")
        assert [] == supervisor.named("state")  # a supervisor is not an agent


async def test_two_streams_of_one_agent_hear_each_action_and_a_revoked_token_ends_them(rig: Rig) -> None:
    await rig.agent_user("ola", "Local/agent6@sim-agents")
    await rig.campaign("STREAMS", "q-other", DialingMode.PREVIEW, agents=("ola",))
    await rig.running("STREAMS")
    ola = await rig.login("ola")
    assert rig.app.api_server is not None
    rig.app.api_server.hub.recheck_s = 0.2  # the token check, every 10 s in service
    async with EventLog(rig, ola) as first, EventLog(rig, ola) as second:
        assert 200 == (await rig.client.post("/api/v1/agents/ola/login", headers=ola)).status_code
        r = await rig.client.post("/api/v1/agents/ola/pause", headers=ola, json={"reason": "coffee"})
        assert 200 == r.status_code, r.text

        def paused(log: EventLog) -> bool:
            return any(
                c["state"] == "paused" and c["pause_reason"] == "coffee"
                for s in log.named("state")
                for c in s["campaigns"]
            )

        await wait_for(lambda: paused(first) and paused(second), what="the pause on both streams")
        assert 204 == (await rig.client.post("/api/v1/auth/logout", headers=ola)).status_code
        await wait_for(
            lambda: bool(first.named("token_expired") and second.named("token_expired")),
            what="both streams told the token is gone",
        )
        assert (200, 200) == (first.status, second.status)


async def test_an_open_streams_token_stays_cached_and_one_revoked_behind_the_apis_back_is_dropped(
    rig: Rig,
) -> None:
    await rig.agent_user("ida", "Local/agent7@sim-agents")
    await rig.campaign("CACHED", "q-other", DialingMode.PREVIEW, agents=("ida",))
    ida = await rig.login("ida")
    assert rig.app.api_server is not None
    rig.app.api_server.hub.recheck_s = 0.2  # the token check, every 10 s in service
    ctx = rig.app.api_server.ctx
    ctx.tokens.ttl_s = 0.6  # 30 s in service: three checks
    token_hash = hash_token(ida["Authorization"].removeprefix("Bearer "))
    async with EventLog(rig, ida) as log:
        assert 200 == (await rig.client.get("/api/v1/me", headers=ida)).status_code
        began = ctx.clock.now()
        await wait_for(lambda: ctx.clock.now() - began > 3 * ctx.tokens.ttl_s, what="three lifetimes")
        # the hub's checks put the streamed token back fresh: the next click reads no database
        assert ctx.tokens.get(token_hash, ctx.clock.now()) is not None
        # revoked as the CLI or another engine would: gone from the cache and the stream at the next check
        assert await rig.store.revoke_token(token_hash, dt.datetime.now(dt.UTC))
        await wait_for(lambda: bool(log.named("token_expired")), what="the stream told the token is gone")
        assert ctx.tokens.get(token_hash, ctx.clock.now()) is None
    r = await rig.client.get("/api/v1/me", headers=ida)
    assert (401, "unauthorized") == (r.status_code, r.json()["error"])
