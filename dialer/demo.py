"""``dialer demo``: a sample campaign with contacts, built idempotently.

It creates (once) a schedule, the usual automatic statuses, a few agents and the campaign
``DEMO``, then imports generated contacts through the real CSV import path, so a new user
sees every part of the store working. Numbers are Polish mobile numbers generated from a
seeded ``numpy`` generator; running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np

from dialer import contact_import
from dialer.contact_csv import read_contacts
from dialer.errors import ValidationError
from dialer.model import (
    Backoff,
    CampaignSpec,
    CampaignState,
    Compliance,
    DialingMode,
    Qualifier,
    RetryRule,
    StatusSpec,
    SystemStatus,
    Trigger,
)
from dialer.schedule import Frequency, Schedule
from dialer.store import Store

CAMPAIGN = "DEMO"
SCHEDULE = "DEMO_ALL_DAY"

# The automatic statuses most campaigns want (seed 004), with retry rules: judgement calls
# matching DEFAULT_RULES in dialer.store, plus per-outcome budgets under the global cap.
DEMO_STATUSES = (
    StatusSpec(
        "Zajęty",
        SystemStatus.CALL,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.BUSY,
        auto_add=True,
        retry=RetryRule(600, Backoff.MULTIPLICATIVE, 2.0, max_attempts=5),
    ),
    StatusSpec(
        "Nie odbiera",
        SystemStatus.CALL,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.NO_ANSWER,
        auto_add=True,
        retry=RetryRule(3600, Backoff.FIXED, 2.0, max_attempts=5),
    ),
    StatusSpec(
        "Błąd sieci",
        SystemStatus.CALL,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.CONGESTION,
        auto_add=True,
        retry=RetryRule(300, Backoff.MULTIPLICATIVE, 2.0, max_attempts=5),
    ),
    StatusSpec(
        "Automat",
        SystemStatus.NOT_BEFORE,
        Qualifier.CALLBACK_RELATIVE,
        Trigger.MACHINE,
        auto_add=True,
        retry=RetryRule(4 * 3600, Backoff.FIXED, 2.0, max_attempts=3),
    ),
    StatusSpec(
        "Porzucone",
        SystemStatus.CALL_PROGRESSIVE,
        Qualifier.CALLBACK_END_OF_QUEUE,
        Trigger.ABANDONED,
        auto_add=True,
        retry=RetryRule(0),
    ),
    StatusSpec(
        "Błędny numer",
        SystemStatus.CALL,
        Qualifier.CLOSING,
        Trigger.INVALID_NUMBER,
        auto_add=True,
        retry=RetryRule(0),
    ),
    StatusSpec(
        "Oddzwonić", SystemStatus.MY_RECORD, Qualifier.CALLBACK_ABSOLUTE, auto_add=True, retry=RetryRule(0)
    ),
    StatusSpec("Sprzedane", SystemStatus.DO_NOT_CALL, Qualifier.SUCCESS, auto_add=True, retry=RetryRule(0)),
)
# Polish mobile prefixes (UKE numbering plan, 5xx-8xx mobile blocks) that phonenumbers accepts.
_PREFIXES = ("500", "501", "502", "510", "600", "601", "660", "691", "720", "781", "791", "880")
_CITIES = ("Warszawa", "Kraków", "Gdańsk", "Poznań", "Wrocław", "Łódź")


def sample_csv(n: int, seed: int) -> str:
    """``n`` contacts as the CSV a user would import: name, phone, phone2 (some), city."""
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    out.write("name,phone,phone2,city,segment\n")
    for i in range(n):
        prefix = _PREFIXES[int(rng.integers(len(_PREFIXES)))]
        number = f"{prefix}{int(rng.integers(0, 1_000_000)):06d}"
        second = ""
        if rng.random() < 0.3:
            second = (
                f"+48 {_PREFIXES[int(rng.integers(len(_PREFIXES)))]} {int(rng.integers(0, 1_000_000)):06d}"
            )
        city = _CITIES[int(rng.integers(len(_CITIES)))]
        out.write(f"Klient {i + 1},{number},{second},{city},{'ABC'[int(rng.integers(3))]}\n")
    return out.getvalue()


async def build(store: Store, *, contacts: int = 300, seed: int = 7) -> list[str]:
    """Create what is missing of the demo; return one line per thing created or found."""
    said: list[str] = []
    names = {s.name for s in await store.list_schedules()}
    if SCHEDULE not in names:
        await store.create_schedule(
            Schedule(
                name=SCHEDULE,
                frequency=Frequency.DAILY,
                window_start=dt.time(0),
                window_end=dt.time(0),
                timezone="Europe/Warsaw",
                description="demo: open all day; contacts' local hours still apply",
            )
        )
        said.append(f"created schedule {SCHEDULE} (daily, all day, Europe/Warsaw)")
    dictionary = {s.name for s in await store.list_statuses()}
    made = []
    for spec in DEMO_STATUSES:
        if spec.name not in dictionary:
            try:
                await store.create_status(spec)
                made.append(spec.name)
            except ValidationError:
                pass  # same trigger already taken by a status the user made; keep theirs
    if made:
        said.append(f"created statuses {', '.join(made)}")
    if CAMPAIGN not in {c.name for c in await store.list_campaigns()}:
        await store.create_campaign(
            CampaignSpec(
                name=CAMPAIGN,
                schedule=SCHEDULE,
                mode=DialingMode.PREDICTIVE,
                caller_id="+48221234567",
                queue="sales",
                compliance=Compliance.UK,
                timezone="Europe/Warsaw",
                state=CampaignState.RUNNING,
            )
        )
        said.append(f"created campaign {CAMPAIGN} (predictive, UK profile, running)")
        for i in range(1, 4):
            agent = f"demo-agent-{i}"
            try:
                await store.create_agent(agent, f"PJSIP/{1000 + i}")
            except ValidationError:
                pass
            await store.assign_agent(CAMPAIGN, agent)
        said.append("created agents demo-agent-1..3 (PJSIP/1001..1003) in DEMO")
    summary = await store.campaign_summary(CAMPAIGN)
    if summary.contacts == 0 and contacts > 0:
        rows = read_contacts(io.StringIO(sample_csv(contacts, seed)), default_region="PL")
        report = await contact_import.import_contacts(
            store.pool,
            CAMPAIGN,
            rows,
            source="demo",
        )
        said.append(
            f"imported {report.imported} generated contacts into {CAMPAIGN}"
            f" ({report.rejected} rejected)"
        )
    else:
        said.append(f"campaign {CAMPAIGN} already has {summary.contacts} contacts; nothing imported")
    return said
