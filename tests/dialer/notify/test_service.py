"""The reminder service against the real database and real servers on loopback: the issue's
"done when" (a callback tomorrow 10:00, 1 h lead: the customer's SMS and the agent's e-mail
at 09:00, exactly once), retries, crashes between send and record, moves and cancellations,
the customer's protections, status actions, and two engines at once."""

from __future__ import annotations

import asyncio
import datetime as dt

from prometheus_client import CollectorRegistry

from dialer.model import Qualifier, StatusSpec, SystemStatus
from dialer.notify.channels import Channels
from dialer.notify.service import ReminderMetrics, ReminderService
from dialer.store.store import Store
from tests.dialer.notify.conftest import TOMORROW_10, StepClock, book, reminders_config, world
from tests.dialer.notify.servers import SmsApi, SmtpHandler, sms_api, smtp_server

HOUR = dt.timedelta(hours=1)


def service(
    store: Store,
    clock: StepClock,
    smtp_port: int,
    api_port: int,
    engine: str = "e1",
    metrics: ReminderMetrics | None = None,
    **kw: object,
) -> ReminderService:
    cfg = reminders_config(
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_tls="none",
        sms_gateway="http",
        sms_http_url=f"http://127.0.0.1:{api_port}/send",
        **kw,
    )
    return ReminderService(store, Channels.from_config(cfg), clock, engine, cfg, metrics=metrics)


async def states(store: Store, callback_id: int) -> dict[tuple[str, str], str]:
    rows = await store.pool.fetch(
        "SELECT recipient, channel, state FROM reminder_sends WHERE callback_id = $1", callback_id
    )
    return {(r["recipient"], r["channel"]): r["state"] for r in rows}


async def test_callback_tomorrow_10_sends_sms_and_email_at_9_exactly_once(store: Store) -> None:
    w = await world(store)
    cb = await book(store, w)
    clock = StepClock(TOMORROW_10 - HOUR - dt.timedelta(minutes=1))
    mail, api = SmtpHandler(), SmsApi()
    async with smtp_server(mail) as smtp_port:
        async with sms_api(api) as api_port:
            svc = service(
                store, clock, smtp_port, api_port, metrics=ReminderMetrics(registry := CollectorRegistry())
            )
            await svc.tick()
            assert [] == api.requests and [] == mail.messages  # 08:59: not yet
            clock.t = TOMORROW_10 - HOUR
            report = await svc.tick()
            assert {"sent": 2} == report.results
            for _ in range(3):
                clock.t += dt.timedelta(minutes=5)
                await svc.tick()
    assert 1 == len(api.requests)
    sms = api.requests[0]["body"]
    assert w.phone == sms["to"] and "Dialer" == sms["from"]
    assert "Hi Zofia Nowak, we call you Tuesday, 1 December 2026 10:00" in sms["text"]
    sms_id = await store.pool.fetchval(
        "SELECT id FROM reminder_sends WHERE callback_id = $1 AND channel = 'sms'", cb
    )
    assert [f"reminder-{sms_id}"] == [r["key"] for r in api.requests]
    assert 1 == len(mail.messages)
    msg = mail.messages[0]
    assert f"{w.agent}@example.com" == msg["To"] and "Callback Zofia Nowak" == msg["Subject"]
    assert "reminders@example.com" == msg["From"]
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Call Zofia Nowak at 10:00, city Kraków." in text
    assert {("customer", "sms"): "sent", ("agent", "email"): "sent"} == await states(store, cb)
    rows = await store.pool.fetch("SELECT * FROM reminder_sends WHERE callback_id = $1", cb)
    assert all(r["finished_at"] == TOMORROW_10 - HOUR for r in rows)
    assert {"msg-1"} == {r["provider_id"] for r in rows if r["channel"] == "sms"}
    assert all(r["text_hash"] and len(r["text_hash"]) == 64 for r in rows)
    log = await store.reminder_log(w.campaign, callback_id=cb)
    assert {"planned", "claimed", "sent"} <= {e.operation for e in log}
    state = await store.reminder_service_state(clock.t)
    assert state.running and ("e1",) == state.engines and 0 == state.backlog
    for channel in ("sms", "email"):
        assert 1 == registry.get_sample_value(
            "dialer_reminders_sends_total", {"channel": channel, "result": "sent"}
        )
    assert 0 == registry.get_sample_value("dialer_reminders_backlog")


async def test_a_callbacks_override_chooses_recipients_channel_and_lead(store: Store) -> None:
    w = await world(store)
    cb = await book(store, w)
    await store.save_reminder_template(
        w.campaign, "mail-customer", channel="email", subject="Hi", body="Hi {{ contact.name }}"
    )
    await store.set_reminder_override(
        cb, recipients="customer", channel="email", template="mail-customer", lead_s=600
    )
    clock = StepClock(TOMORROW_10 - dt.timedelta(minutes=10))
    async with smtp_server(mail := SmtpHandler()) as smtp_port:
        async with sms_api(api := SmsApi()) as api_port:
            await service(store, clock, smtp_port, api_port).tick()
    assert [] == api.requests
    assert [("z@example.com", "Hi")] == [(m["To"], m["Subject"]) for m in mail.messages]
    assert {("customer", "email"): "sent"} == await states(store, cb)


async def test_smtp_refusing_then_accepting_is_retried_with_backoff(store: Store) -> None:
    w = await world(store, customer_enabled=False)
    cb = await book(store, w)
    clock = StepClock(TOMORROW_10 - HOUR)
    mail = SmtpHandler(refuse_first=1)
    async with smtp_server(mail) as smtp_port:
        async with sms_api(SmsApi()) as api_port:
            svc = service(store, clock, smtp_port, api_port)
            assert {"retry": 1} == (await svc.tick()).results
            assert [] == mail.messages
            clock.t += dt.timedelta(seconds=30)
            assert {} == (await svc.tick()).results  # backoff: not before 60 s
            clock.t += dt.timedelta(seconds=31)
            assert {"sent": 1} == (await svc.tick()).results
    assert 1 == len(mail.messages) and 2 == mail.seen
    assert {("agent", "email"): "sent"} == await states(store, cb)
    ops = [e.operation for e in reversed(await store.reminder_log(w.campaign, callback_id=cb))]
    assert ["planned", "claimed", "retry", "claimed", "sent"] == ops


async def test_gateway_timing_out_is_retried_until_the_deadline_then_failed(store: Store) -> None:
    w = await world(store, agent_enabled=False, customer_lead_s=150)
    cb = await book(store, w)
    clock = StepClock(TOMORROW_10 - dt.timedelta(seconds=150))
    api = SmsApi(delay_s=1.0)
    async with smtp_server(SmtpHandler()) as smtp_port:
        async with sms_api(api) as api_port:
            svc = service(store, clock, smtp_port, api_port, send_timeout_s=0.3)
            assert {"retry": 1} == (await svc.tick()).results
            clock.t += dt.timedelta(seconds=61)
            # the next try would be 120 s later, past the callback: it fails for good
            assert {"failed": 1} == (await svc.tick()).results
    assert {("customer", "sms"): "failed"} == await states(store, cb)
    error = await store.pool.fetchval("SELECT error FROM reminder_sends WHERE callback_id = $1", cb)
    assert "timed out" in error
    assert 1 == (await store.reminder_service_state(clock.t)).failures_last_hour


async def test_killed_between_send_and_record_resends_only_through_the_idempotent_gateway(
    store: Store,
) -> None:
    """The provider got the SMS and the e-mail, then the engine died before writing the result.
    The next engine sends the SMS again with the same idempotency key (the provider keeps one)
    and marks the e-mail uncertain rather than sending it twice."""
    w = await world(store)
    cb = await book(store, w)
    clock = StepClock(TOMORROW_10 - HOUR)
    mail, api = SmtpHandler(), SmsApi(hold=asyncio.Event())
    async with smtp_server(mail) as smtp_port:
        async with sms_api(api) as api_port:
            first = service(store, clock, smtp_port, api_port, engine="dies")
            task = asyncio.create_task(first.tick())
            await asyncio.wait_for(api.received.wait(), 5)
            await asyncio.sleep(0.2)  # the e-mail (claimed with it) is not reached; the SMS is in flight
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert {"sending"} == set((await states(store, cb)).values())
            api.hold.set()  # type: ignore[union-attr]
            clock.t += dt.timedelta(seconds=10)  # past the stale limit (3 x send timeout + tick)
            second = service(store, clock, smtp_port, api_port, engine="restarted")
            await second.tick()
            await second.tick()
    assert 2 == len(api.requests) and 1 == len(api.delivered)  # one key: one SMS at the provider
    assert api.requests[0]["key"] == api.requests[1]["key"]
    assert 0 == len(mail.messages)
    assert {("customer", "sms"): "sent", ("agent", "email"): "uncertain"} == await states(store, cb)


async def test_moved_callback_replans_and_cancelled_one_cancels(store: Store) -> None:
    w = await world(store)
    cb = await book(store, w)
    clock = StepClock(TOMORROW_10 - 2 * HOUR)
    async with smtp_server(SmtpHandler()) as smtp_port:
        async with sms_api(api := SmsApi()) as api_port:
            svc = service(store, clock, smtp_port, api_port)
            await svc.tick()
            assert {"pending"} == set((await states(store, cb)).values())
            await store.pool.execute(
                "UPDATE callbacks SET due_at = due_at + interval '2 hours' WHERE id = $1", cb
            )
            clock.t = TOMORROW_10 - HOUR
            await svc.tick()
            assert [] == api.requests  # not at the old time
            send_at = await store.pool.fetch("SELECT send_at FROM reminder_sends WHERE callback_id = $1", cb)
            assert {TOMORROW_10 + HOUR} == {r["send_at"] for r in send_at}
            await store.pool.execute("UPDATE callbacks SET state = 'cancelled' WHERE id = $1", cb)
            clock.t = TOMORROW_10 + HOUR
            await svc.tick()
    assert [] == api.requests
    assert {"cancelled"} == set((await states(store, cb)).values())
    details = {e.detail for e in await store.reminder_log(w.campaign, callback_id=cb)}
    assert "the callback is cancelled" in details


async def test_do_not_call_opt_out_and_night_hours_protect_the_customer(store: Store) -> None:
    # hours 08:00-21:00 UTC: a 09:30 callback with a 2 h lead would text at 07:30; it goes at 08:00
    w = await world(store, hours=(dt.time(8), dt.time(21)), agent_enabled=False, customer_lead_s=7200)
    early = await book(store, w, TOMORROW_10 - dt.timedelta(minutes=30))
    planned = StepClock(TOMORROW_10 - 3 * HOUR)
    async with smtp_server(SmtpHandler()) as smtp_port:
        async with sms_api(api := SmsApi()) as api_port:
            svc = service(store, planned, smtp_port, api_port)
            await svc.tick()
            at = await store.pool.fetchval("SELECT send_at FROM reminder_sends WHERE callback_id = $1", early)
            assert dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC) == at
            await store.set_reminder_optout(w.contact_id)
            planned.t = at
            await svc.tick()
            assert [] == api.requests
            assert {("customer", "sms"): "cancelled"} == await states(store, early)
            await store.set_reminder_optout(w.contact_id, False)
            await store.add_do_not_call(w.phone)
            later = await book(store, w, TOMORROW_10 + 3 * HOUR)
            planned.t = TOMORROW_10 + HOUR
            await svc.tick()
    assert [] == api.requests
    error = await store.pool.fetchval("SELECT error FROM reminder_sends WHERE callback_id = $1", later)
    assert "do-not-call" in error


async def test_status_action_sends_its_template_once_per_status_change(store: Store) -> None:
    w = await world(store)
    await store.create_status(
        StatusSpec("Wyślij SMS", SystemStatus.CALL, qualifier=Qualifier.ACTION_SMS), campaign=w.campaign
    )
    await store.save_reminder_template(
        w.campaign, "offer", channel="sms", body="Offer for {{ contact.name }}"
    )
    clock = StepClock(TOMORROW_10)
    await store.set_status_action(w.campaign, "Wyślij SMS", "offer", at=clock.t - HOUR)
    await store.set_disposition(w.contact_id, "Wyślij SMS", at=clock.t, agent_id=w.agent_id)
    async with smtp_server(SmtpHandler()) as smtp_port:
        async with sms_api(api := SmsApi()) as api_port:
            svc = service(store, clock, smtp_port, api_port)
            await svc.tick()
            clock.t += dt.timedelta(minutes=1)
            await svc.tick()
    assert ["Offer for Zofia Nowak"] == [r["body"]["text"] for r in api.requests]
    rows = await store.pool.fetch(
        "SELECT purpose, state FROM reminder_sends WHERE contact_id = $1", w.contact_id
    )
    assert [("status_action", "sent")] == [(r["purpose"], r["state"]) for r in rows]


async def test_two_engines_at_once_send_each_reminder_once(store: Store) -> None:
    ws = [await world(store) for _ in range(4)]
    for w in ws:
        await book(store, w)
    clock = StepClock(TOMORROW_10 - HOUR)
    mail, api = SmtpHandler(), SmsApi(delay_s=0.05)
    async with smtp_server(mail) as smtp_port:
        async with sms_api(api) as api_port:
            a = service(store, clock, smtp_port, api_port, engine="a", batch=1)
            b = service(store, clock, smtp_port, api_port, engine="b", batch=1)
            await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
    assert 4 == len(api.requests) and 4 == len({r["key"] for r in api.requests})
    assert 4 == len(mail.messages)
    rows = await store.pool.fetch(
        "SELECT state, tries FROM reminder_sends WHERE campaign_id = ANY("
        "SELECT id FROM campaigns WHERE name = ANY($1::text[]))",
        [w.campaign for w in ws],
    )
    # each row claimed once (which engine won each is the race's business), each sent once
    assert 8 == len(rows) and {("sent", 1)} == {(r["state"], r["tries"]) for r in rows}


async def test_a_day_of_callbacks_gets_each_reminder_once_at_its_lead_time(store: Store) -> None:
    """In stepped time: callbacks every 40 minutes over a day, customer SMS 1 h before, agent
    e-mail 30 min before; the service ticks every ten minutes (the times are whole tens of
    minutes) and each reminder goes at its exact time."""
    w = await world(store, agent_lead_s=1800)
    day = dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)
    due = [day + dt.timedelta(minutes=90 + 40 * k) for k in range(30)]
    ids = [await book(store, w, d) for d in due]
    clock = StepClock(day)
    async with smtp_server(mail := SmtpHandler()) as smtp_port:
        async with sms_api(api := SmsApi()) as api_port:
            svc = service(store, clock, smtp_port, api_port)
            while clock.t <= due[-1]:
                await svc.tick()
                clock.t += dt.timedelta(minutes=10)
    assert 30 == len(api.requests) and 30 == len(mail.messages)
    rows = await store.pool.fetch(
        "SELECT callback_id, channel, finished_at, state FROM reminder_sends"
        " WHERE callback_id = ANY($1::bigint[])",
        ids,
    )
    lead = {"sms": dt.timedelta(hours=1), "email": dt.timedelta(minutes=30)}
    by_id = dict(zip(ids, due, strict=True))
    assert 60 == len(rows)
    for r in rows:
        assert "sent" == r["state"]
        assert by_id[r["callback_id"]] - lead[r["channel"]] == r["finished_at"]
