"""The reminder tests' rig: a migrated database (``store`` from tests/dialer/conftest.py), a
clock the test moves, and a campaign with templates, defaults, an agent and a contact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from config import RemindersConfig
from dialer.clock import SteppedClock
from dialer.model import CallbackKind
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, unique

TOMORROW_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


StepClock = SteppedClock  # time moves only when the test says so (``.t``)


@dataclass
class World:
    campaign: str
    agent: str
    agent_id: int
    contact_id: int
    phone: str


SMS_BODY = "Hi {{ contact.name }}, we call you {{ callback.at|datetime }} ({{ campaign.name }})."
MAIL_BODY = "Call {{ contact.name }} at {{ callback.at|time }}, city {{ contact.fields.city }}."


async def world(store: Store, *, hours: tuple[dt.time, dt.time] | None = None, **settings: object) -> World:
    """A campaign with an SMS template for customers, an e-mail one for agents, reminders on
    with a 1 h lead for both, an agent with an e-mail address and a contact with a number."""
    extra: dict[str, object] = {}
    if hours is not None:
        extra = {"local_hours_start": hours[0], "local_hours_end": hours[1], "demo": False}
    campaign = await make_campaign(store, **extra)
    await store.save_reminder_template(campaign, "sms-customer", channel="sms", body=SMS_BODY)
    await store.save_reminder_template(
        campaign,
        "mail-agent",
        channel="email",
        subject="Callback {{ contact.name }}",
        body=MAIL_BODY,
        html="<p>Call <b>{{ contact.name }}</b></p>",
    )
    defaults: dict[str, object] = {
        "enabled": True,
        "customer_channel": "sms",
        "customer_template": "sms-customer",
        "customer_lead_s": 3600,
        "agent_channel": "email",
        "agent_template": "mail-agent",
        "agent_lead_s": 3600,
        "email_from": "reminders@example.com",
        "sms_sender": "Dialer",
    }
    defaults.update(settings)
    await store.set_reminder_settings(campaign, **defaults)
    agent = unique("agent")
    agent_id = (await store.create_agent(agent)).id
    await store.set_agent_reminder_address(agent, email=f"{agent}@example.com")
    phone = f"+4860{next_phone():07d}"
    contact = await store.add_contact(
        campaign,
        [phone],
        name="Zofia Nowak",
        timezone="UTC",
        fields={"city": "Kraków", "email": "z@example.com"},
    )
    return World(campaign, agent, agent_id, contact, phone)


_phones = iter(range(1000000, 9999999, 7919))


def next_phone() -> int:
    return next(_phones)


async def book(store: Store, w: World, due: dt.datetime = TOMORROW_10) -> int:
    cb = await store.schedule_callback(
        w.contact_id, due_at=due, kind=CallbackKind.PERSONAL, agent_id=w.agent_id
    )
    return cb.id


def reminders_config(**kw: object) -> RemindersConfig:
    base: dict[str, object] = {
        "tick_s": 1.0,
        "send_timeout_s": 2.0,
        "retry_base_s": 60.0,
        "retry_cap_s": 600.0,
    }
    base.update(kw)
    return RemindersConfig(**base)  # type: ignore[arg-type]
