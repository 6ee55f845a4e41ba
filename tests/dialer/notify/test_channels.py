"""The channels against real servers on loopback: SMTP (aiosmtpd), an SMS provider's HTTP API,
and an SMSC speaking SMPP 3.4 (``servers.Smsc``), with smpplib as our client."""

from __future__ import annotations

import pytest

from config import Secret
from dialer.notify.channels import Email, EmailChannel, HttpSmsGateway, SmppGateway, Sms
from dialer.notify.errors import SendFailed
from tests.dialer.notify.conftest import reminders_config
from tests.dialer.notify.servers import SmsApi, Smsc, SmtpHandler, sms_api, smsc_server, smtp_server


async def test_smtp_delivers_text_and_html_with_the_keys_message_id() -> None:
    mail = SmtpHandler()
    async with smtp_server(mail) as port:
        channel = EmailChannel(reminders_config(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none"))
        reply = await channel.send(
            Email("a@example.com", "r@example.com", "Subj", "Plain", "<p>x</p>", "reminder-7")
        )
    assert "queued as Q1" in reply
    (msg,) = mail.messages
    assert "reminder-7" in msg["Message-ID"] and "Subj" == msg["Subject"]
    assert {"text/plain", "text/html"} == {p.get_content_type() for p in msg.iter_parts()}


async def test_smtp_temporary_refusal_is_transient_and_an_unreachable_server_too() -> None:
    async with smtp_server(SmtpHandler(refuse_first=5)) as port:
        channel = EmailChannel(reminders_config(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none"))
        with pytest.raises(SendFailed) as e:
            await channel.send(Email("a@example.com", "r@example.com", "S", "T", "", "k"))
    assert e.value.transient and "451" in e.value.reason
    closed = EmailChannel(reminders_config(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none"))
    with pytest.raises(SendFailed) as e:
        await closed.send(Email("a@example.com", "r@example.com", "S", "T", "", "k"))
    assert e.value.transient


async def test_http_gateway_sends_the_auth_secret_only_in_its_header() -> None:
    api = SmsApi()
    async with sms_api(api) as port:
        cfg = reminders_config(
            sms_gateway="http",
            sms_http_url=f"http://127.0.0.1:{port}/v1/sms",
            sms_http_auth=Secret("Bearer s3cret"),
            sms_http_body='{"to": {{ to|tojson }}, "text": {{ text|tojson }},'
            ' "ref": {{ idempotency_key|tojson }}}',
        )
        provider_id = await HttpSmsGateway(cfg).send(
            Sms("+48600000001", "Shop", 'Zażółć "gęślą"', "reminder-3")
        )
    assert "msg-1" == provider_id
    (req,) = api.requests
    assert "Bearer s3cret" == req["headers"]["authorization"] and "reminder-3" == req["key"]
    assert {"to": "+48600000001", "text": 'Zażółć "gęślą"', "ref": "reminder-3"} == req["body"]
    assert "s3cret" not in repr(cfg)


@pytest.mark.parametrize(("status", "transient"), [(503, True), (429, True), (400, False)])
async def test_http_gateway_errors_are_classified(status: int, transient: bool) -> None:
    async with sms_api(SmsApi(status=status)) as port:
        cfg = reminders_config(
            sms_gateway="http", sms_http_url=f"http://127.0.0.1:{port}/", sms_http_auth=Secret("k3y")
        )
        with pytest.raises(SendFailed) as e:
            await HttpSmsGateway(cfg).send(Sms("+48600000001", "S", "t", "k"))
    assert transient == e.value.transient and str(status) in e.value.reason and "k3y" not in str(e.value)


def smpp_cfg(port: int, password: str = "pw") -> object:
    return reminders_config(
        sms_gateway="smpp",
        smpp_host="127.0.0.1",
        smpp_port=port,
        smpp_system_id="dialer",
        smpp_password=Secret(password),
    )


async def test_smpp_submits_a_long_ucs2_message_in_concatenated_parts() -> None:
    smsc = Smsc()
    text = "Przypomnienie: zadzwonimy jutro o 10:00, ząb. " * 4  # Polish letters: UCS-2, 3 parts
    async with smsc_server(smsc) as port:
        ids = await SmppGateway(smpp_cfg(port)).send(Sms("+48600000001", "Sklep", text, "k"))  # type: ignore[arg-type]
    assert "smsc-1,smsc-2,smsc-3" == ids
    assert [text] == smsc.texts()
    first = smsc.submits[0]
    assert ("48600000001", "Sklep", 5, 8) == (
        first["destination"],
        first["source"],
        first["source_ton"],
        first["data_coding"],
    )


async def test_smpp_gsm7_single_part_and_refusals() -> None:
    smsc = Smsc()
    async with smsc_server(smsc) as port:
        await SmppGateway(smpp_cfg(port)).send(Sms("+48600000001", "+48500000000", "Hi {€}", "k"))  # type: ignore[arg-type]
        assert ["Hi {€}"] == smsc.texts() and 0 == smsc.submits[0]["data_coding"]
        with pytest.raises(SendFailed) as e:
            await SmppGateway(smpp_cfg(port, "wrong")).send(Sms("+48600000001", "S", "x", "k"))  # type: ignore[arg-type]
        assert not e.value.transient and "0x0E" in e.value.reason and "wrong" not in str(e.value)
        smsc.error_status = 0x58  # throttled: try later
        with pytest.raises(SendFailed) as e:
            await SmppGateway(smpp_cfg(port)).send(Sms("+48600000001", "S", "x", "k"))  # type: ignore[arg-type]
        assert e.value.transient
    with pytest.raises(SendFailed) as e:
        await SmppGateway(smpp_cfg(port)).send(Sms("+48600000001", "S", "x", "k"))  # type: ignore[arg-type]
    assert e.value.transient and "unreachable" in e.value.reason
