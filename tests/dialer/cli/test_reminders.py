"""``dialer reminders ...``: the store's rules from the command line, one-line errors."""

from __future__ import annotations

import asyncio

from dialer.store.store import Store
from tests.dialer.cli.test_users import dialer  # noqa: F401  (the same CLI runner fixture)
from tests.dialer.conftest import make_campaign


def _campaign(dsn: str) -> str:
    async def go() -> str:
        store = await Store.open(dsn)
        try:
            return await make_campaign(store)
        finally:
            await store.close()

    return asyncio.run(go())


def test_templates_rules_status_and_log(dialer, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    campaign = _campaign(dialer.dsn)
    code, out, err = dialer(
        "reminders",
        "template",
        campaign,
        "sms1",
        "--channel",
        "sms",
        "--body",
        "Hi {{ contact.name }}, jutro {{ callback.at|time }}",
    )
    assert 0 == code, err
    assert "SMS: UCS-2, 38 UTF-16 units, 1 part" in out  # the sample name has Polish letters
    code, _, err = dialer("reminders", "template", campaign, "bad", "--channel", "sms", "--body", "{{ x.y }}")
    assert 1 == code and err.startswith("error: template: does not render")
    html = tmp_path / "mail.html"
    html.write_text("<p>{{ contact.name }}</p>", encoding="utf-8")
    code, out, err = dialer(
        "reminders",
        "template",
        campaign,
        "mail1",
        "--channel",
        "email",
        "--subject",
        "Hello",
        "--body",
        "Call {{ contact.name }}",
        "--html-file",
        str(html),
    )
    assert 0 == code, err
    code, out, err = dialer(
        "reminders",
        "set",
        campaign,
        "--enabled",
        "on",
        "--customer-template",
        "sms1",
        "--customer-lead",
        "60",
        "--agent-template",
        "mail1",
        "--agent-lead",
        "90",
    )
    assert 0 == code, err
    assert f"reminders for {campaign}: on" in out
    assert ["customer", "on", "sms", "sms1", "60"] == out.splitlines()[2].split()
    assert ["agent", "on", "email", "mail1", "90"] == out.splitlines()[3].split()
    code, _, err = dialer("reminders", "set", campaign, "--agent-template", "sms1")
    assert 1 == code and "error: agent_template: is a sms template, the channel is email" in err
    code, _, err = dialer("reminders", "set", campaign, "--enabled", "maybe")
    assert 1 == code and "error: enabled: must be on or off" in err
    code, out, _ = dialer("reminders", "status")
    assert 3 == code and "running: no" in out
    code, out, _ = dialer("reminders", "log", campaign)
    assert 0 == code and out.startswith("AT")
    code, _, err = dialer("reminders", "optout", "999999")
    assert 1 == code and "contact" in err and "not found" in err
    code, _, err = dialer("reminders", "agent-address", "nobody", "--email", "x@example.com")
    assert 1 == code and "not found" in err
