"""Callbacks on the agent desktop in a real browser against the real engine (issues 10 and 13,
seed 003): the slot grid greys a full slot and, when two agents book the last place of a slot
at once, the second is told "slot full"; the agent is notified when a personal callback is due
and reschedules it with a date, from-to and a new number, and is told when it goes to the
campaign; a web callback request shows on the preview with its wanted time and is moved to
another slot of the grid; a disposition books a slot, and one taken meanwhile is refused."""

from __future__ import annotations

import contextlib
import datetime as dt
from zoneinfo import ZoneInfo

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, expect

from dialer.model import CallbackKind, DialingMode
from tests.dialer.api.conftest import wait_for
from tests.web.conftest import Console

WARSAW = ZoneInfo("Europe/Warsaw")


def _tomorrow_at(hour: int, minute: int = 0) -> dt.datetime:
    day = dt.datetime.now(WARSAW).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=WARSAW)


async def _open_grid_for_tomorrow(page: Page, callback_id: int) -> None:
    await page.click(f"#reschedule-{callback_id}")
    await expect(page.locator("dialog#reschedule")).to_be_visible()
    await page.fill("#rs-slots-date", _tomorrow_at(0).date().isoformat())
    await expect(page.locator("#rs-slots-grid button.slot").first).to_be_visible()


async def test_slot_grid_greys_a_full_slot_and_the_second_booking_of_the_last_place_is_refused(
    console: Console,
) -> None:
    rig = console.rig
    for name in ("anna", "bob"):
        await rig.agent_user(name, f"Local/{name}@sim-agents")
    await rig.campaign("GRID", "q-prev", DialingMode.PREVIEW, agents=("anna", "bob"))
    await rig.store.define_callback_grid("GRID", schedule="ALL_DAY", slot_min=60, capacity=1)
    taken = await rig.store.add_contact("GRID", ["+48540003001"], name="Zajęty")
    await rig.store.schedule_callback(taken, slot_at=_tomorrow_at(12))  # 12:00-13:00 is full
    mine = {}
    for agent, number, who in (("anna", "+48540003002", "Ala Kot"), ("bob", "+48540003003", "Olek Mysz")):
        cid = await rig.store.add_contact("GRID", [number], name=who)
        agent_id = (await rig.store.get_agent(agent)).id
        cb = await rig.store.schedule_callback(
            cid, due_at=_tomorrow_at(18), kind=CallbackKind.PERSONAL, agent_id=agent_id
        )
        mine[agent] = cb.id
    pages = {}
    for agent in ("anna", "bob"):
        page = await console.page()
        await console.sign_in(page, agent)
        await expect(page.locator(f"#my-callbacks tr[data-callback='{mine[agent]}']")).to_be_visible()
        await _open_grid_for_tomorrow(page, mine[agent])
        full = page.locator("#rs-slots-grid button.slot", has_text="12:00–13:00")
        await expect(full).to_be_disabled()
        await expect(full).to_have_class("slot slot-full")
        await expect(full).to_contain_text("full")
        free = page.locator("#rs-slots-grid button.slot", has_text="14:00–15:00")
        await expect(free).to_be_enabled()
        await expect(free).to_contain_text("1 free")
        await free.click()
        await expect(page.locator("#rs-slots-said")).to_contain_text("14:00–15:00")
        pages[agent] = page
    await console.shot(pages["bob"], "agent-callback-slot-grid")
    await pages["anna"].click("#rs-save")  # anna takes the last place of 14:00 ...
    await expect(pages["anna"].locator("dialog#reschedule")).to_be_hidden()
    await expect(pages["anna"].locator("#notices")).to_contain_text("Callback rescheduled: Ala Kot")
    await pages["bob"].click("#rs-save")  # ... bob, who saw it free, is refused
    bob = pages["bob"]
    await expect(bob.locator("#rs-error")).to_contain_text("Slot full")
    await expect(bob.locator("#rs-slots-grid button.slot", has_text="14:00–15:00")).to_be_disabled()
    await console.shot(bob, "agent-callback-slot-full")
    anna_cb = await rig.store.get_callback(mine["anna"])
    bob_cb = await rig.store.get_callback(mine["bob"])
    assert (_tomorrow_at(14), _tomorrow_at(18)) == (anna_cb.due_at, bob_cb.due_at)
    assert anna_cb.slot_id is not None and bob_cb.slot_id is None
    await bob.locator("#rs-slots-grid button.slot", has_text="15:00–16:00").click()
    await bob.click("#rs-save")  # another slot: booked
    await expect(bob.locator("dialog#reschedule")).to_be_hidden()
    assert _tomorrow_at(15) == (await rig.store.get_callback(mine["bob"])).due_at


async def test_the_agent_is_told_a_personal_callback_is_due_and_reschedules_it(console: Console) -> None:
    rig = console.rig
    cid, _ = await rig.one_contact(
        "ewa", "LATER", "q-prev", DialingMode.PREVIEW, "+48540003101", "Jan Kowalski"
    )
    ewa = await rig.store.get_agent("ewa")
    page = await console.page()
    await console.sign_in(page, "ewa")
    await expect(page.locator("#my-callbacks-empty")).to_be_visible()
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=3)
    cb = await rig.store.schedule_callback(
        cid,
        due_at=soon,
        kind=CallbackKind.PERSONAL,
        agent_id=ewa.id,
        window_end_at=soon + dt.timedelta(hours=1),
    )
    notices = page.locator("#notices")
    await expect(notices).to_contain_text("Callback due now: Jan Kowalski")
    row = page.locator(f"#my-callbacks tr[data-callback='{cb.id}']")
    await expect(row).to_have_class("due")
    await expect(row).to_contain_text("due now")
    await console.shot(page, "agent-callback-due")
    # no grid in this campaign: the date, from-to and the number, as for a web callback
    await page.click(f"#reschedule-{cb.id}")
    await expect(page.locator("#rs-slots-grid")).to_have_count(0)
    await page.fill("#rs-date", _tomorrow_at(0).date().isoformat())
    await page.fill("#rs-from", "10:00")
    await page.fill("#rs-to", "11:30")
    await page.select_option("#rs-zone", "Europe/Warsaw")
    await page.select_option("#rs-phone", "new")
    await page.fill("#rs-number", "+48 600 123 999")
    await page.click("#rs-save")
    await expect(page.locator("dialog#reschedule")).to_be_hidden()
    await expect(notices).to_contain_text("Callback rescheduled: Jan Kowalski")
    await expect(row).not_to_have_class("due")
    moved = await rig.store.get_callback(cb.id)
    assert (_tomorrow_at(10), _tomorrow_at(11, 30), "+48600123999", CallbackKind.PERSONAL) == (
        moved.due_at,
        moved.window_end_at,
        moved.e164,
        moved.kind,
    )
    history = await rig.store.callback_history(cb.id)
    assert ["created", "rescheduled"] == [h.action for h in history]
    assert "agent:ewa" == history[-1].actor
    # the engine hands it to the whole campaign (as when she is away past the grace): she is told
    assert await rig.store.convert_to_campaign_callback(cid)
    await expect(notices).to_contain_text("Your callback to Jan Kowalski went to the campaign")
    await expect(row).to_have_count(0)  # no longer hers


async def test_a_web_callback_shows_on_the_preview_with_its_time_and_moves_to_another_slot(
    console: Console,
) -> None:
    rig = console.rig
    await rig.one_contact("wanda", "WEB", "q-prev", DialingMode.PREVIEW, "+48540003201", "Stały klient")
    await rig.store.define_callback_grid("WEB", schedule="ALL_DAY", slot_min=60, capacity=5)
    site = await rig.store.add_callback_site("shop", "WEB", "site-key-0123456789abcdef")
    now = dt.datetime.now(dt.UTC)
    result = await rig.store.request_web_callback(
        site,
        e164="+48540003202",
        name="Basia z formularza",
        consent_text="Tak",
        source_addr="127.0.0.1",
        at=now,
        wanted_at=now,
        region="PL",
    )
    assert result.accepted
    page = await console.page()
    await console.sign_in(page, "wanda")
    await page.click("#login-campaigns")
    await expect(page.locator("#my-state")).to_have_text("Paused")
    await page.click("#ready")
    offer = page.locator("#offer")

    async def offered() -> bool:  # the due web callback comes first, asked for or offered
        if await offer.count():
            return True
        with contextlib.suppress(PlaywrightError):  # gone when the record is offered meanwhile
            await page.locator("#next-record").click(timeout=1000)
        return False

    await wait_for(offered, what="the web callback offered as a preview")
    card = offer.locator("#web-callback")
    await expect(card).to_contain_text("Web callback request")
    await expect(card).to_contain_text("Basia z formularza asked to be called")
    await expect(card).to_contain_text("+48540003202")
    (web,) = await rig.store.list_callbacks("WEB", state="pending", source="web")
    await console.shot(page, "agent-web-callback-preview")
    await page.click(f"#webcb-reschedule-{web.id}")
    await expect(page.locator("dialog#reschedule")).to_contain_text("web callback")
    await page.fill("#rs-slots-date", _tomorrow_at(0).date().isoformat())
    await page.locator("#rs-slots-grid button.slot", has_text="09:00–10:00").click()
    await page.click("#rs-save")
    await expect(page.locator("dialog#reschedule")).to_be_hidden()
    await expect(page.locator("#notices")).to_contain_text("Callback rescheduled: Basia z formularza")
    assert _tomorrow_at(9) == (await rig.store.get_callback(web.id)).due_at


async def test_a_disposition_books_a_slot_of_the_grid_and_a_slot_taken_meanwhile_is_refused(
    console: Console,
) -> None:
    rig = console.rig
    cid, _ = await rig.one_contact(
        "olga", "SLOTS", "q-prog", DialingMode.PROGRESSIVE, "+1005550401", "Ewa Lis"
    )
    await rig.store.define_callback_grid("SLOTS", schedule="ALL_DAY", slot_min=30, capacity=1)
    other = await rig.store.add_contact("SLOTS", ["+48540003301"], status="Sprzedane")
    page = await console.page()
    await console.sign_in(page, "olga")
    await page.click("#login-campaigns")
    await expect(page.locator("#my-state")).to_have_text("Paused")
    await page.keyboard.press("r")
    await expect(page.locator("#disposition")).to_be_visible()  # called, answered, hung up: wrap-up
    await page.locator("#disposition label.choice", has_text="Oddzwonić").click()
    await expect(page.locator("#cb-slots")).to_be_hidden()  # no callback wanted: the plain date
    await expect(page.locator("#cb-date")).to_be_visible()
    await page.check("#cb-wanted")
    await expect(page.locator("#cb-slots")).to_be_visible()
    await expect(page.locator("#cb-date")).to_be_hidden()
    await expect(page.locator("#cb-slots-zone")).to_have_value("Europe/Warsaw")
    await page.fill("#cb-slots-date", _tomorrow_at(0).date().isoformat())
    await page.locator("#cb-slots-grid button.slot", has_text="09:30–10:00").click()
    await rig.store.schedule_callback(other, slot_at=_tomorrow_at(9, 30))  # another agent was quicker
    await page.click("#dispose")
    await expect(page.locator("#disposition-error")).to_contain_text("Slot full")
    await expect(page.locator("#cb-slots-grid button.slot", has_text="09:30–10:00")).to_be_disabled()
    await expect(page.locator("#my-state")).to_have_text("Wrap-up")  # nothing set: pick another
    await page.locator("#cb-slots-grid button.slot", has_text="10:00–10:30").click()
    await console.shot(page, "agent-disposition-slot-grid")
    await page.click("#dispose")
    await expect(page.locator("#notices")).to_contain_text("Disposition saved: Oddzwonić")
    await expect(page.locator("#my-callbacks tr:has-text('Ewa Lis')")).to_be_visible()

    async def booked() -> bool:
        found = await rig.store.list_callbacks("SLOTS", state="pending", agent="olga")
        return any(cb.contact_id == cid and cb.due_at == _tomorrow_at(10) for cb in found)

    await wait_for(booked, what="the callback booked in the 10:00 slot")
