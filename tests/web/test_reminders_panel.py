"""The reminders panel in a real browser against the real engine (issue 14, seed 002): the
service shown running, a template that does not render refused on save with the server's
error, an SMS template's encoding and parts shown, the rules saved, the log filtered; in Polish
too."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from dialer.model import CallbackKind, DialingMode
from dialer.store.users import Role
from tests.web.conftest import Console


async def _save_template(page: Page, name: str, body: str, channel: str = "sms", subject: str = "") -> None:
    """Fill the template editor and press Save (the subject only for e-mail)."""
    await page.select_option("#tpl-channel", channel)
    await page.fill("#tpl-name", name)
    if subject:
        await page.fill("#tpl-subject", subject)
    await page.fill("#tpl-body", body)
    await page.click("#tpl-save")


async def test_a_supervisor_sees_the_service_saves_templates_and_rules_and_reads_the_log(
    console: Console,
) -> None:
    rig = console.rig
    await rig.user("sue", Role.SUPERVISOR)
    await rig.campaign("REM", "q-prev", DialingMode.PREVIEW)
    page = await console.page()
    await console.sign_in(page, "sue")
    await console.open_screen(page, "reminders")
    await expect(page.locator("#rem-running")).to_have_text("running")
    await expect(page.locator("#rem-campaign")).to_have_value("REM")
    # a template naming a field the sample has not: refused, the server's words shown
    await _save_template(page, "bad", "Hello {{ contact.nmae }}")
    error = page.locator("#tpl-error")
    await expect(error).to_contain_text("Template refused")
    await expect(error).to_contain_text("(template)")
    await expect(page.locator("#tpl-result")).to_be_hidden()
    assert [] == await rig.store.reminder_templates("REM")
    # an SMS with Polish letters: UCS-2, its length and parts shown with the sample's text
    await _save_template(page, "sms", "Dzień dobry {{ contact.name }}, {{ callback.at|time }}")
    await expect(error).to_be_empty()
    await expect(page.locator("#tpl-sms")).to_have_text("SMS: UCS-2 (Unicode), 41 characters, 1 part(s)")
    await expect(page.locator("#tpl-sample")).to_have_text("Dzień dobry Zofia Łukasiewicz-Grün, 10:00")
    await _save_template(page, "ascii", "Hello! We call you at {{ callback.at|time }}. " * 6)  # 174 GSM-7
    await expect(page.locator("#tpl-sms")).to_have_text("SMS: GSM-7, 174 characters, 2 part(s)")
    await expect(page.locator("#tpl-list")).to_contain_text("ascii")
    await _save_template(page, "mail", "Call {{ contact.name }}", "email", "Callback {{ callback.at|time }}")
    await expect(page.locator("#tpl-result")).to_contain_text("Template mail saved.")
    await expect(page.locator("#tpl-sms")).to_have_count(0)
    await expect(page.locator("#tpl-sample-subject")).to_have_text("Callback 10:00")
    # the seed's defaults: customers by SMS an hour before, agents by e-mail 30 minutes before
    await page.check("#rem-enabled")
    await page.select_option("#rem-customer-channel", "sms")
    await page.select_option("#rem-customer-template", "sms")
    await page.fill("#rem-customer-lead", "60")
    await page.select_option("#rem-agent-channel", "email")
    await page.select_option("#rem-agent-template", "mail")
    await page.fill("#rem-agent-lead", "30")
    await page.click("#rules-save")
    await expect(page.locator("#rules-said")).to_have_text("Saved.")
    settings = await rig.store.reminder_settings("REM")
    assert (True, "sms", 3600, "mail", 1800) == (
        settings.enabled,
        settings.customer_template,
        settings.customer_lead_s,
        settings.agent_template,
        settings.agent_lead_s,
    )
    # a callback: the service plans its reminders, the log shows them, filtered by recipient
    cid = await rig.store.add_contact("REM", ["+48600100200"], name="Jan")
    await rig.store.schedule_callback(
        cid, due_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2), kind=CallbackKind.CAMPAIGN
    )
    assert rig.app.reminders is not None
    await rig.app.reminders.tick()
    await page.click("#log-refresh")
    log = page.locator("#rem-log tbody")
    await expect(log.locator("tr")).to_have_count(2)
    await expect(log).to_contain_text("planned")
    await expect(log).to_contain_text("skipped")
    await page.select_option("#log-recipient", "customer")
    await expect(log.locator("tr")).to_have_count(1)
    await expect(log).to_contain_text("customer")
    await expect(log).not_to_contain_text("skipped")
    await page.click("#tpl-list button[data-template=sms]")  # back to the SMS template, saved again
    await expect(page.locator("#tpl-channel")).to_have_value("sms")
    await page.click("#tpl-save")
    await expect(page.locator("#tpl-sms")).to_contain_text("UCS-2")
    await expect(page.locator("#tpl-result")).not_to_contain_text("null")
    await console.shot(page, "reminders")


async def test_the_reminders_panel_in_polish(console: Console) -> None:
    rig = console.rig
    await rig.user("sue", Role.SUPERVISOR)
    await rig.campaign("PRZ", "q-prev", DialingMode.PREVIEW)
    page = await console.page(locale="pl-PL")
    await console.sign_in(page, "sue")
    await console.open_screen(page, "reminders")
    await expect(page.locator("h1", has_text="Przypomnienia")).to_be_visible()
    await expect(page.locator("#rem-running")).to_have_text("działa")
    await _save_template(page, "zly", "{% if %}")
    await expect(page.locator("#tpl-error")).to_contain_text("Szablon odrzucony")
    await _save_template(page, "sms", "Zadzwonimy o {{ callback.at|time }}")
    await expect(page.locator("#tpl-sms")).to_contain_text("części: 1")
