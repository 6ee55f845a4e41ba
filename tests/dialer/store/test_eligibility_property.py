"""The lease query against a plain-Python statement of the eligibility rules, on random lists."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.model import Compliance, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign

AT = dt.datetime(2026, 3, 29, 7, 30, tzinfo=dt.UTC)  # the morning Europe changes to summer time
ZONES = ["Europe/Warsaw", "Europe/London", "America/New_York", "America/Chicago", "Asia/Tokyo"]
SYSTEM = {
    SystemStatus.CALL: "Dzwonić",
    SystemStatus.DO_NOT_CALL: "Nie dzwonić",
    SystemStatus.NOT_BEFORE: "P_NB",
    SystemStatus.CALL_PROGRESSIVE: "P_CP",
    SystemStatus.MY_RECORD: "P_MR",
}
_numbers = itertools.count(100_000)

hours = st.sampled_from(
    [
        (dt.time(0), dt.time(0)),
        (dt.time(8), dt.time(21)),
        (dt.time(9), dt.time(17)),
        (dt.time(21), dt.time(7)),
    ]
)
offsets = st.none() | st.integers(-100, 100).map(lambda h: AT + dt.timedelta(hours=h))


@dataclass(frozen=True)
class PhoneCase:
    zones: tuple[str, ...]
    window: tuple[dt.time, dt.time] | None
    dnc: bool


@dataclass(frozen=True)
class ContactCase:
    system: SystemStatus
    timezone: str | None
    phones: tuple[PhoneCase, ...]
    not_before: dt.datetime | None
    attempts: int
    day_attempts: int
    day_today: bool
    last_abandon: dt.datetime | None
    last_machine: dt.datetime | None
    agent: bool


phone_cases = st.builds(
    PhoneCase,
    zones=st.lists(st.sampled_from(ZONES), max_size=2, unique=True).map(tuple),
    window=st.none() | hours,
    dnc=st.booleans(),
)
contact_cases = st.builds(
    ContactCase,
    system=st.sampled_from(list(SYSTEM)),
    timezone=st.none() | st.sampled_from(ZONES),
    phones=st.lists(phone_cases, min_size=1, max_size=2).map(tuple),
    not_before=offsets,
    attempts=st.integers(0, 4),
    day_attempts=st.integers(0, 3),
    day_today=st.booleans(),
    last_abandon=offsets,
    last_machine=offsets,
    agent=st.booleans(),
)


def _in(t: dt.time, window: tuple[dt.time, dt.time]) -> bool:
    s, e = window
    return True if s == e else (s <= t < e if s < e else (t >= s or t < e))


def expected(
    c: ContactCase,
    *,
    campaign_zone: str,
    hours_: tuple[dt.time, dt.time],
    uk: bool,
    reserved: bool,
    max_attempts: int,
    per_day: int,
) -> bool:
    """DESIGN.md and the issue's rules, written the plain way."""
    if c.system is SystemStatus.DO_NOT_CALL:
        return False
    if c.system is SystemStatus.MY_RECORD and (c.not_before is None or not c.agent):
        return False
    if c.system is SystemStatus.CALL_PROGRESSIVE and not reserved:
        return False
    if c.not_before is not None and c.not_before > AT:
        return False
    appointment = c.system is SystemStatus.MY_RECORD
    if not appointment and (c.attempts >= max_attempts or (c.day_today and c.day_attempts >= per_day)):
        return False
    if uk and not reserved:
        if c.last_abandon is not None and c.last_abandon > AT - dt.timedelta(hours=72):
            return False
        if c.last_machine is not None and c.last_machine > AT - dt.timedelta(hours=24):
            return False
    for p in c.phones:
        zones = [c.timezone] if c.timezone else list(p.zones) or [campaign_zone]
        local = [AT.astimezone(ZoneInfo(z)).time().replace(tzinfo=None) for z in zones]
        if p.dnc or not all(_in(t, hours_) for t in local):
            continue
        if p.window is None or all(_in(t, p.window) for t in local):
            return True
    return False


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    contacts=st.lists(contact_cases, min_size=1, max_size=12),
    hours_=hours,
    campaign_zone=st.sampled_from(ZONES),
    uk=st.booleans(),
    reserved=st.booleans(),
)
def test_lease_returns_exactly_the_eligible_contacts(
    db_dsn: str,
    contacts: list[ContactCase],
    hours_: tuple[dt.time, dt.time],
    campaign_zone: str,
    uk: bool,
    reserved: bool,
) -> None:
    max_attempts, per_day = 4, 2

    async def run() -> tuple[set[int], set[int]]:
        store = await Store.open(db_dsn, min_size=1, max_size=2, migrate_now=False)
        try:
            camp = await make_campaign(
                store,
                local_hours_start=hours_[0],
                local_hours_end=hours_[1],
                timezone=campaign_zone,
                compliance=Compliance.UK if uk else Compliance.US,
                max_attempts=max_attempts,
                max_attempts_per_day=per_day,
            )
            for system, name in SYSTEM.items():
                if system not in (SystemStatus.CALL, SystemStatus.DO_NOT_CALL):
                    await store.create_status(StatusSpec(name, system), campaign=camp)
            agent = await store.create_agent(f"agent-{camp}")
            want: set[int] = set()
            for c in contacts:
                phones = []
                for p in c.phones:
                    number = f"+4855{next(_numbers):07d}"
                    extra: dict[str, object] = {"timezones": p.zones}
                    if p.window:
                        extra.update(window_start=p.window[0], window_end=p.window[1])
                    phones.append((number, extra))
                    if p.dnc:
                        await store.add_do_not_call(number, campaign=camp)
                cid = await store.add_contact(camp, phones, timezone=c.timezone, status=SYSTEM[c.system])
                day = AT.astimezone(ZoneInfo(campaign_zone)).date()
                await store.pool.execute(
                    """UPDATE contacts SET not_before = $2, attempts = $3, day_attempts = $4,
                           day_attempts_on = $5,
                           last_abandon_at = $6, last_machine_at = $7, agent_id = $8 WHERE id = $1""",
                    cid,
                    c.not_before,
                    c.attempts,
                    c.day_attempts,
                    day if c.day_today else day - dt.timedelta(days=1),
                    c.last_abandon,
                    c.last_machine,
                    agent.id if c.agent else None,
                )
                if expected(
                    c,
                    campaign_zone=campaign_zone,
                    hours_=hours_,
                    uk=uk,
                    reserved=reserved,
                    max_attempts=max_attempts,
                    per_day=per_day,
                ):
                    want.add(cid)
            leased = await store.lease_contacts(camp, at=AT, limit=100, owner="p", agent_reserved=reserved)
            return want, {x.contact_id for x in leased}
        finally:
            await store.close()

    want, got = asyncio.run(run())
    assert want == got
