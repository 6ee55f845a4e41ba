"""The reminders panel in a real browser against the real engine (issue 14, seed 002): the
service shown running, a template that does not render refused on save with the server's
error, an SMS template's encoding and parts shown, the rules saved, the log filtered; in Polish
too."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from dialer.model import CallbackKind, DialingMode, Qualifier, StatusSpec, SystemStatus
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


async def test_a_callbacks_choice_an_opt_out_an_agents_address_and_a_status_action(console: Console) -> None:
    rig = console.rig
    await rig.user("sue", Role.SUPERVISOR)
    await rig.campaign("OPC", "q-prev", DialingMode.PREVIEW)
    await rig.store.create_status(
        StatusSpec("Wyślij SMS", SystemStatus.DO_NOT_CALL, Qualifier.ACTION_SMS), campaign="OPC"
    )
    await rig.store.create_agent("ola", "")
    cid = await rig.store.add_contact("OPC", ["+48600100201"], name="Jan")
    callback = await rig.store.schedule_callback(
        cid, due_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2), kind=CallbackKind.CAMPAIGN
    )
    sue = await rig.login("sue")
    put = await rig.client.put(
        "/api/v1/campaigns/OPC/reminder-templates/sms",
        headers=sue,
        json={"channel": "sms", "body": "Hello {{ contact.name }}"},
    )
    assert 200 == put.status_code, put.text
    page = await console.page()
    await console.sign_in(page, "sue")
    await console.open_screen(page, "reminders")
    await expect(page.locator("#remc-no-action")).to_have_count(0)  # the action status is offered
    # one callback's choice: a template without its channel is the store's refusal
    await page.fill("#remc-override-callback", str(callback.id))
    await page.select_option("#remc-override-recipients", "customer")
    await page.select_option("#remc-override-template", "sms")
    await page.fill("#remc-override-lead_s", "45")
    await page.click("#remc-override-submit")
    await expect(page.locator("#remc-override .field-error[data-field=template]")).to_contain_text("channel")
    await page.select_option("#remc-override-channel", "sms")
    await page.click("#remc-override-submit")
    await expect(page.locator("#remc-override .saved")).to_have_text("Saved.")
    row = await rig.store.pool.fetchrow(
        "SELECT recipients, channel, lead_s, template_id IS NOT NULL AS t FROM reminder_overrides"
        " WHERE callback_id = $1",
        callback.id,
    )
    assert ("customer", "sms", 2700, True) == (row["recipients"], row["channel"], row["lead_s"], row["t"])
    # the contact opts out
    await page.fill("#remc-optout-contact", str(cid))
    await page.check("#remc-optout-opted_out")
    await page.click("#remc-optout-submit")
    await expect(page.locator("#remc-optout .saved")).to_have_text("Saved.")
    optouts = await rig.store.pool.fetch("SELECT contact_id FROM reminder_optouts")
    assert [cid] == [r["contact_id"] for r in optouts]
    # the agent's address: not an e-mail address, refused beside the field; then stored
    await page.select_option("#remc-address-agent", "ola")
    await page.fill("#remc-address-email", "ola at example")
    await page.click("#remc-address-submit")
    await expect(page.locator("#remc-address .field-error[data-field=email]")).to_contain_text("e-mail")
    await page.fill("#remc-address-email", "ola@example.com")
    await page.fill("#remc-address-phone", "+48600100200")
    await page.click("#remc-address-submit")
    await expect(page.locator("#remc-address .saved")).to_have_text("Saved.")
    address = await rig.store.pool.fetchrow("SELECT email, phone FROM reminder_agent_addresses")
    assert ("ola@example.com", "+48600100200") == (address["email"], address["phone"])
    # the status with the action "send SMS" sends the SMS template
    await page.select_option("#remc-action-status", "Wyślij SMS")
    await page.select_option("#remc-action-template", "sms")
    await page.click("#remc-action-submit")
    await expect(page.locator("#remc-action .saved")).to_have_text("Saved.")
    actions = await rig.store.pool.fetch("SELECT template_id FROM reminder_status_actions")
    assert 1 == len(actions)
    await console.shot(page, "reminders-choices")
