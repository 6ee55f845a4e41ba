"""The console in a real browser against the real engine: an agent's shift on the desktop, the
screen pop of a dialler call, the negotiated logout's countdown, the wallboard, Polish."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from dialer.model import DialingMode
from dialer.store.users import Role
from tests.dialer.api.conftest import wait_for
from tests.web.conftest import Console


async def _ready(page: Page) -> None:
    """Log in to the campaigns (paused, as a person starts) and press Ready by its key."""
    await page.click("#login-campaigns")
    await expect(page.locator("#my-state")).to_have_text("Paused")
    await page.keyboard.press("r")
    # Ready can last less than the page's poll: a dialler campaign reserves the agent at once
    await expect(page.locator("#my-state")).not_to_have_text("Paused")


async def test_preview_dial_answer_and_personal_callback_on_a_new_number(console: Console) -> None:
    rig = console.rig
    cid, _ = await rig.one_contact(
        "anna", "PREV", "q-prev", DialingMode.PREVIEW, "+1005550101", "Jan Nowak", city="Kraków"
    )
    await rig.user("szef", Role.SUPERVISOR)
    page = await console.page()
    await expect(page.locator("#login-submit")).to_be_visible()
    await console.shot(page, "login")
    await console.sign_in(page, "anna")
    await expect(page.locator("#my-campaigns tr[data-campaign=PREV]")).to_contain_text("Running")
    await _ready(page)
    await page.click("#next-record")
    offer = page.locator("#offer")
    await expect(offer.locator(".contact-name")).to_contain_text("Jan Nowak")
    await expect(offer).to_contain_text("Kraków")  # the custom field
    await expect(offer).to_contain_text("+1005550101")
    await console.shot(page, "agent-preview")
    assert [] == await rig.store.contact_attempts(cid)  # seen, not dialled
    board = await console.page()  # the supervisor's wallboard beside the agent
    await console.sign_in(board, "szef")
    await expect(board.locator("[data-campaign=PREV] tr[data-agent=anna]")).to_contain_text("Record offered")
    await page.click("#dial")
    await expect(page.locator("#screen-pop")).to_be_visible()  # the customer answered
    await expect(board.locator("[data-campaign=PREV] tr[data-agent=anna]")).to_contain_text(
        re.compile("Talking|Wrap-up")
    )
    await page.click("#edit-contact summary")
    await page.fill("#edit-name", "Jan Nowak-Kowalski")
    await page.click("#edit-save")
    await expect(page.locator("#contact .contact-name")).to_contain_text("Jan Nowak-Kowalski")
    default = (await rig.store.get_campaign("PREV")).default_disposition
    await expect(page.locator("#wrap-timer")).to_contain_text(f"Default disposition “{default}” in")
    # the disposition: a personal callback tomorrow on a new mobile number, 09:00-17:00
    await page.locator("#disposition label.choice", has_text="Oddzwonić").click()
    await page.check("#cb-wanted")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    await page.fill("#cb-date", tomorrow.isoformat())
    await page.fill("#cb-time", "10:30")
    await page.select_option("#cb-zone", "Europe/Warsaw")
    await page.check("#cb-personal")
    await page.select_option("#cb-phone", "new")
    await page.fill("#cb-number", "+48 600 123 456")
    await page.select_option("#cb-type", "mobile")
    await page.fill("#cb-from", "09:00")
    await page.fill("#cb-to", "17:00")
    await console.shot(page, "agent-disposition")
    await page.click("#dispose")
    await expect(page.locator("#my-state")).to_have_text("Ready")
    await expect(page.locator("#notices")).to_contain_text("Disposition saved: Oddzwonić")

    async def written() -> bool:  # the disposition is written beside the runner's loop
        c = await rig.store.get_contact(cid)
        return "Oddzwonić" == c.status and any(p.e164 == "+48600123456" for p in c.phones)

    await wait_for(written, what="the disposition stored")
    contact = await rig.store.get_contact(cid)
    new = [p for p in contact.phones if p.e164 == "+48600123456"]
    assert 1 == len(new) and ("mobile", dt.time(9), dt.time(17)) == (
        new[0].kind,
        new[0].window_start,
        new[0].window_end,
    )
    anna = await rig.store.get_agent("anna")
    assert ("Jan Nowak-Kowalski", anna.id) == (contact.name, contact.agent_id)
    # 10:30 tomorrow in Warsaw
    due = dt.datetime.combine(tomorrow, dt.time(10, 30), tzinfo=ZoneInfo("Europe/Warsaw"))
    assert contact.not_before == due


async def test_dialler_call_pops_and_negotiated_logout_counts_down_to_logout(console: Console) -> None:
    rig = console.rig
    cid, _ = await rig.one_contact(
        "bartek", "PRED", "q-prog", DialingMode.PREDICTIVE, "+1005550201", "Ewa Lis"
    )
    page = await console.page()
    await console.sign_in(page, "bartek")
    await _ready(page)
    pop = page.locator("#screen-pop")
    await expect(pop).to_contain_text("Call connected · PRED")
    await expect(page.locator("#contact .contact-name")).to_contain_text("Ewa Lis")
    await expect(page.locator("#notices")).to_contain_text("Call connected: Ewa Lis")
    await console.shot(page, "agent-screen-pop")
    await expect(page.locator("#disposition")).to_be_visible()
    key = await page.locator("#disposition label.choice", has_text="Sprzedane").locator("kbd").inner_text()
    await page.keyboard.press(key)  # a status that needs no date: set at once by its key
    await expect(page.locator("#my-state")).to_have_text("Ready")

    async def sold() -> bool:
        return "Sprzedane" == (await rig.store.get_contact(cid)).status

    await wait_for(sold, what="the disposition stored")
    # a customer who never answers: the agent is reserved while it rings, then asks to leave
    await rig.store.add_contact("PRED", ["+3005550202"], name="Nikt")
    await expect(page.locator("#my-state")).to_have_text("Reserved for a call")
    await page.click("#logout")
    countdown = page.locator("#logout-countdown")
    await expect(countdown).to_contain_text("Waiting for logout authorisation")
    await expect(countdown).to_contain_text("logged out in")
    await console.shot(page, "agent-logout-countdown")
    await expect(page.locator("#my-state")).to_have_text("Logged out", timeout=40_000)
    await expect(countdown).to_be_hidden()
    await expect(page.locator("#notices")).to_contain_text("Logout granted")


async def test_polish_catalogue_follows_the_browser_and_the_setting(console: Console) -> None:
    rig = console.rig
    await rig.one_contact("celina", "PUSH", "q-push", DialingMode.PUSH_PREVIEW, "+1005550301", "Ola Kot")
    page = await console.page(locale="pl-PL")
    await expect(page.locator("#login-submit")).to_have_text("Zaloguj")
    await console.sign_in(page, "celina")
    await expect(page.locator("h2", has_text="Moje kampanie")).to_be_visible()
    await page.click("#login-campaigns")
    await expect(page.locator("#my-state")).to_have_text("Przerwa")
    await page.click("#ready")
    offer = page.locator("#offer")  # push preview: the record comes to the ready agent
    await expect(offer).to_contain_text("Rekord przekazany · PUSH")
    await expect(page.locator("#dial")).to_contain_text("Akceptuj")
    await expect(page.locator("#skip")).to_contain_text("Odrzuć")
    await console.shot(page, "agent-push-preview-pl")
    await page.select_option("#pause-reason", "lunch")
    await page.click("#pause")  # with a record on the screen: held until it is done
    await expect(page.locator("#state-detail")).to_contain_text("przerwa po tym połączeniu")
    await page.click("#skip")  # rejected: back to the store undialled, and the pause begins
    await expect(page.locator("#my-state")).to_have_text("Przerwa")
    await expect(page.locator("#state-detail")).to_have_text("powód: Obiad")
    await rig.campaign("POZNIEJ", "q-other", DialingMode.PROGRESSIVE, agents=("celina",))
    await expect(page.locator("#notices")).to_contain_text("Kampania POZNIEJ została uruchomiona")
    await expect(page.locator("#my-campaigns tr[data-campaign=POZNIEJ]")).to_contain_text("Uruchomiona")
    await page.select_option("#language", "en")  # the user's setting wins over the browser
    await expect(page.locator("h2", has_text="My campaigns")).to_be_visible()
    await page.reload()
    await expect(page.locator("h2", has_text="My campaigns")).to_be_visible()

