"""The callback administration screens in a real browser against the real engine (issues 10 and
13): an administrator defines a campaign's slot grid -- a bad value refused beside its field,
a schedule without a from-to window refused with the store's reason -- and sees the slots it
makes, with closed dates and booked places, in another time zone; web callback sites are added
(the key shown once and working), their origins edited, the key rotated and the site revoked."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from dialer.model import DialingMode
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.users import Role
from tests.web.conftest import Console

WARSAW = ZoneInfo("Europe/Warsaw")


async def _open(console: Console, user: str, screen: str, locale: str = "en-US") -> Page:
    page = await console.page(locale=locale)
    await console.sign_in(page, user)
    await console.open_screen(page, screen)
    return page


def _next_monday() -> dt.date:
    today = dt.datetime.now(WARSAW).date()
    return today + dt.timedelta(days=7 - today.weekday())


async def test_an_admin_defines_a_grid_is_told_what_is_wrong_and_sees_the_slots(console: Console) -> None:
    rig = console.rig
    await rig.user("root", Role.ADMIN)
    await rig.campaign("OKNO", "q-prev", DialingMode.PREVIEW)
    await rig.store.create_schedule(
        Schedule(name="BIURO", frequency=Frequency.WEEKLY, weekdays=frozenset(range(5)),
                 window_start=dt.time(9), window_end=dt.time(17), timezone="Europe/Warsaw")
    )  # fmt: skip
    await rig.store.create_schedule(
        Schedule(name="RANO", frequency=Frequency.DAILY, run_at=dt.time(8), timezone="Europe/Warsaw")
    )
    monday = _next_monday()
    tuesday, friday = monday + dt.timedelta(days=1), monday + dt.timedelta(days=4)
    page = await _open(console, "root", "callback-grid")
    await page.select_option("#grid-campaign", "OKNO")
    await expect(page.locator("#grid-about")).to_contain_text("no callback grid yet")
    # a slot of 3 minutes: refused beside its field
    await page.select_option("#grid-form-schedule", "BIURO")
    await page.fill("#grid-form-slot_min", "3")
    await page.click("#grid-form-submit")
    await expect(page.locator(".field-error[data-field=slot_min]")).to_contain_text("5")
    await expect(page.locator("#grid-form-slot_min")).to_have_class("invalid")
    # a run-at schedule: the store's reason beside the schedule
    await page.fill("#grid-form-slot_min", "30")
    await page.select_option("#grid-form-schedule", "RANO")
    await page.click("#grid-form-submit")
    await expect(page.locator(".field-error[data-field=schedule]")).to_contain_text("from-to window")
    await expect(page.locator("#grid-form p.error")).to_contain_text("Invalid value (schedule)")
    await console.shot(page, "admin-callback-grid-error")
    await page.select_option("#grid-form-schedule", "BIURO")
    await page.fill("#grid-form-capacity", "2")
    await page.fill("#grid-form-closed_dates", tuesday.isoformat())
    await page.select_option("#grid-form-missed_rule", "next_slot")
    await page.click("#grid-form-submit")
    await expect(page.locator("#admin-message")).to_contain_text("Callback grid of OKNO saved")
    spec = await rig.store.get_callback_grid("OKNO")
    assert ("BIURO", 30, 2, frozenset({tuesday}), "next_slot") == (
        spec.schedule.name, spec.slot_min, spec.capacity, spec.closed_dates, spec.missed_rule.value
    )  # fmt: skip
    await expect(page.locator("#grid-about")).to_contain_text("BIURO")
    # a place booked at 10:00 on Monday shows as taken
    booked_at = dt.datetime.combine(monday, dt.time(10), tzinfo=WARSAW)
    taken = await rig.store.add_contact("OKNO", ["+48540007001"], name="Zajęty")
    await rig.store.schedule_callback(taken, slot_at=booked_at)
    await page.fill("#grid-from", monday.isoformat())
    await page.fill("#grid-to", friday.isoformat())
    await page.select_option("#grid-zone", "Europe/Warsaw")
    await page.click("#grid-show")
    await expect(page.locator("#grid-summary")).to_contain_text("80 slots: 64 available, 0 full, 16 closed")
    mon = page.locator(f".grid-day[data-day='{monday.isoformat()}'] .slot")
    await expect(mon).to_have_count(16)
    await expect(mon.first).to_contain_text("09:00–09:30")
    await expect(mon.first).to_contain_text("2 of 2 free")
    await expect(mon.nth(2)).to_contain_text("10:00–10:30")
    await expect(mon.nth(2)).to_contain_text("1 of 2 free")
    tue = page.locator(f".grid-day[data-day='{tuesday.isoformat()}'] .slot")
    await expect(tue).to_have_count(16)
    await expect(page.locator(f".grid-day[data-day='{tuesday.isoformat()}'] .slot-closed")).to_have_count(16)
    await console.shot(page, "admin-callback-grid")
    # the same slots read in New York
    await page.select_option("#grid-zone", "America/New_York")
    await page.click("#grid-show")
    first = dt.datetime.combine(monday, dt.time(9), tzinfo=WARSAW).astimezone(ZoneInfo("America/New_York"))
    await expect(page.locator(".grid-day .slot").first).to_contain_text(first.strftime("%H:%M"))
    # a bad range gets the API's reason on screen
    await page.fill("#grid-to", (monday - dt.timedelta(days=1)).isoformat())
    await page.click("#grid-show")
    await expect(page.locator("#admin-message")).to_contain_text("must not be before")


async def test_an_admin_adds_a_site_sees_its_key_once_rotates_and_revokes_it(console: Console) -> None:
    rig = console.rig
    await rig.user("root", Role.ADMIN)
    await rig.user("szef", Role.SUPERVISOR)
    await rig.campaign("WWW", "q-prev", DialingMode.PREVIEW)
    await rig.store.define_callback_grid("WWW", schedule="ALL_DAY", slot_min=60, capacity=3)
    page = await _open(console, "root", "callback-sites")
    await page.fill("#site-form-name", "sklep")
    await page.select_option("#site-form-campaign", "WWW")
    await page.fill("#site-form-origins", "https://sklep.example\nsklep.example/kontakt")
    await page.click("#site-form-submit")
    await expect(page.locator(".field-error[data-field=origins]")).to_contain_text("http(s)://host")
    await expect(page.locator("#site-key")).to_have_count(0)
    await page.fill("#site-form-origins", "https://sklep.example\nhttps://www.sklep.example:443")
    await page.click("#site-form-submit")
    await expect(page.locator("#admin-message")).to_contain_text("Site sklep added")
    key = await page.locator("#site-key").input_value()
    assert len(key) >= 40
    row = page.locator("#site-list tr[data-site='sklep']")
    await expect(row).to_contain_text("https://sklep.example https://www.sklep.example")
    await expect(row).to_contain_text("in use")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    slots = f"/api/v1/public/callbacks/slots?from={today}"
    assert 200 == (await rig.client.get(slots, headers={"X-Api-Key": key})).status_code
    await console.shot(page, "admin-callback-sites")
    # origins edited
    await row.locator("a").click()
    await page.fill("#site-origins-form-origins", "https://nowy.example")
    await page.click("#site-origins-form-submit")
    await expect(page.locator("#admin-message")).to_contain_text("Origins of site sklep saved")
    assert ("https://nowy.example",) == (await rig.store.get_callback_site("sklep")).origins
    # a new key: shown once, the old one refused
    page.once("dialog", lambda d: d.accept())
    await page.click("#site-rotate-sklep")
    await expect(page.locator("#admin-message")).to_contain_text("Site sklep has a new key")
    new_key = await page.locator("#site-key").input_value()
    assert new_key != key
    assert 401 == (await rig.client.get(slots, headers={"X-Api-Key": key})).status_code
    assert 200 == (await rig.client.get(slots, headers={"X-Api-Key": new_key})).status_code
    await page.click("#site-key-hide")
    await expect(page.locator("#site-key")).to_have_count(0)
    # revoked
    page.once("dialog", lambda d: d.accept())
    await page.click("#site-revoke-sklep")
    await expect(page.locator("#admin-message")).to_contain_text("Site sklep revoked")
    await expect(row).to_contain_text("revoked")
    await expect(page.locator("#site-rotate-sklep")).to_have_count(0)
    assert 401 == (await rig.client.get(slots, headers={"X-Api-Key": new_key})).status_code
    # a supervisor has no such screen (and the API refuses it)
    other = await console.page()
    await console.sign_in(other, "szef")
    await expect(other.locator("header nav a[href='#/callback-grid']")).to_have_count(1)  # in a menu
    await expect(other.locator("header nav a[href='#/callback-sites']")).to_have_count(0)
