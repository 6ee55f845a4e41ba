"""The reminder service: a loop that plans, claims, renders, sends and records reminders.

Theory of operation (issue 14 item 4, seed 002's "Serwis Operacji Automatycznych"): every
``tick_s`` one pass (:meth:`ReminderService.tick`) writes the service's heartbeat, hands back
sends a dead engine left mid-send (:meth:`~dialer.store.reminder_sends.ReminderSends.recover_stale_sends`),
plans the callbacks' reminders and the status actions, then claims the due sends and sends
them one by one. The claim is committed before the send, the result written after; the
store's docstring says why that is exactly once for an idempotent HTTP gateway and at most
once for SMTP and SMPP. A transient failure is retried with doubling backoff until the
send's deadline (the callback's time); a permanent one, a refusal at send time (do-not-call,
opt-out added since planning) and a template that fails to render are recorded and not retried.
Rendering happens before anything is sent, so a broken template never sends half a message.

It runs inside ``dialer run`` (the composition root starts it) or alone
(``dialer reminders run``); several engines may run it at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass, field

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from config import RemindersConfig
from dialer.clock import Clock
from dialer.notify.channels import Channels, Email, HttpSmsGateway, Sms
from dialer.notify.errors import SendFailed, TemplateRefused
from dialer.notify.planning import retry_at
from dialer.notify.templates import TemplateText, build_context, render
from dialer.store.reminder_sends import ClaimedSend
from dialer.store.store import Store

log = structlog.get_logger(__name__)


class ReminderMetrics:
    """``dialer_reminders_*`` on an injected registry (channel and result labels only: never a
    number or an address)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.sends = Counter(
            "dialer_reminders_sends",
            "Reminder sends by channel and result",
            ["channel", "result"],
            registry=registry,
        )
        self.running = Gauge(
            "dialer_reminders_running", "1 while this process runs the reminder service", registry=registry
        )
        self.backlog = Gauge("dialer_reminders_backlog", "Sends due and not yet sent", registry=registry)
        self.failures_last_hour = Gauge(
            "dialer_reminders_failures_last_hour",
            "Sends failed or uncertain in the last hour",
            registry=registry,
        )
        self.last_run = Gauge(
            "dialer_reminders_last_run_timestamp_seconds", "When the service last ran", registry=registry
        )


@dataclass
class TickReport:
    planned: int = 0
    recovered: int = 0
    results: dict[str, int] = field(default_factory=dict)


class ReminderService:
    """One engine's reminder loop over the store and the channels."""

    def __init__(
        self,
        store: Store,
        channels: Channels,
        clock: Clock,
        engine_id: str,
        settings: RemindersConfig,
        *,
        metrics: ReminderMetrics | None = None,
    ) -> None:
        self._store = store
        self._channels = channels
        self._clock = clock
        self._engine_id = engine_id
        self._settings = settings
        self._metrics = metrics
        self._started_at: dt.datetime | None = None
        self._stop = asyncio.Event()

    @property
    def _resend_sms(self) -> bool:
        """An SMS interrupted mid-send is sent again only through a gateway that deduplicates."""
        return isinstance(self._channels.sms, HttpSmsGateway)

    async def tick(self) -> TickReport:
        """One pass; returns what it did."""
        now = self._clock.utcnow()
        if self._started_at is None:
            self._started_at = now
        s = self._settings
        report = TickReport()
        await self._store.reminder_heartbeat(
            self._engine_id, now, started_at=self._started_at, tick_s=s.tick_s
        )
        stale = now - dt.timedelta(seconds=s.send_timeout_s * 3 + s.tick_s)
        report.recovered = await self._store.recover_stale_sends(now, stale, resend_sms=self._resend_sms)
        report.planned = await self._store.plan_reminders(now)
        report.planned += await self._store.plan_status_actions(now, s.status_action_deadline_s)
        while True:
            claimed = await self._store.claim_reminder_sends(self._clock.utcnow(), self._engine_id, s.batch)
            for send in claimed:
                result = await self._send(send)
                report.results[result] = report.results.get(result, 0) + 1
            if len(claimed) < s.batch:
                break
        await self._update_gauges()
        return report

    async def _send(self, send: ClaimedSend) -> str:
        now = self._clock.utcnow()
        store = self._store
        if now >= send.deadline:
            await store.finish_reminder_send(
                send.id, now, state="failed", error="too late: past its deadline"
            )
            return self._count(send, "failed")
        if send.refused is not None:
            await store.finish_reminder_send(send.id, now, state="cancelled", error=send.refused)
            return self._count(send, "cancelled")
        try:
            if send.template is None:
                raise TemplateRefused("template", "the template was deleted")
            text = TemplateText(**send.template)
            rendered = render(
                text,
                build_context(
                    contact_name=send.contact_name,
                    fields=send.fields,
                    callback_at=send.callback_at,
                    timezone=send.timezone,
                    agent=send.agent,
                    campaign=send.campaign,
                    language=send.language,
                ),
            )
        except TemplateRefused as e:
            await store.finish_reminder_send(send.id, now, state="failed", error=str(e))
            return self._count(send, "failed")
        digest = hashlib.sha256(
            "\x00".join((rendered.subject, rendered.text, rendered.html)).encode()
        ).hexdigest()
        key = f"reminder-{send.id}"
        try:
            if send.channel == "email":
                sender = send.email_from or self._channels.email_from
                provider_id = await self._channels.email.send(
                    Email(send.address, sender, rendered.subject, rendered.text, rendered.html, key)
                )
            else:
                sender = send.sms_sender or self._channels.sms_sender
                provider_id = await self._channels.send_sms(Sms(send.address, sender, rendered.text, key))
        except SendFailed as e:
            now = self._clock.utcnow()
            again = retry_at(
                now, send.tries, base_s=self._settings.retry_base_s, cap_s=self._settings.retry_cap_s
            )
            if e.transient and again < send.deadline:
                await store.finish_reminder_send(
                    send.id, now, state="pending", error=e.reason, retry_at=again
                )
                log.info("reminder_retry", send=send.id, channel=send.channel, error=e.reason)
                return self._count(send, "retry")
            await store.finish_reminder_send(send.id, now, state="failed", error=e.reason, text_hash=digest)
            log.warning("reminder_failed", send=send.id, channel=send.channel, error=e.reason)
            return self._count(send, "failed")
        await store.finish_reminder_send(
            send.id, self._clock.utcnow(), state="sent", provider_id=provider_id[:200], text_hash=digest
        )
        log.info("reminder_sent", send=send.id, channel=send.channel, recipient=send.recipient)
        return self._count(send, "sent")

    def _count(self, send: ClaimedSend, result: str) -> str:
        if self._metrics is not None:
            self._metrics.sends.labels(channel=send.channel, result=result).inc()
        return result

    async def _update_gauges(self) -> None:
        if self._metrics is None:
            return
        state = await self._store.reminder_service_state(self._clock.utcnow())
        self._metrics.backlog.set(state.backlog)
        self._metrics.failures_last_hour.set(state.failures_last_hour)
        self._metrics.last_run.set(self._clock.now())

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Tick until :meth:`stop` (or cancelled); a failing pass (the database down) is logged
        and the next one tried, backing off to ten ticks."""
        failures = 0
        if self._metrics is not None:
            self._metrics.running.set(1)
        log.info("reminders_started", engine_id=self._engine_id, tick_s=self._settings.tick_s)
        try:
            while not self._stop.is_set():
                try:
                    await self.tick()
                    failures = 0
                except Exception as err:  # the database or a channel's library: try again later
                    failures += 1
                    log.warning("reminders_pass_failed", error=type(err).__name__, failures=failures)
                delay = self._settings.tick_s * min(10, 2 ** min(failures, 4))
                sleeper = asyncio.ensure_future(self._clock.sleep(delay))
                stopper = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
                sleeper.cancel()
                stopper.cancel()
        finally:
            if self._metrics is not None:
                self._metrics.running.set(0)
            await self._channels.aclose()
            try:
                await asyncio.shield(
                    self._store.reminder_service_stopped(self._engine_id, self._clock.utcnow())
                )
            except Exception as err:
                log.warning("reminders_stop_not_recorded", error=type(err).__name__)
            log.info("reminders_stopped", engine_id=self._engine_id)
