"""E-mail over TLS (issue 14): STARTTLS and implicit TLS against aiosmtpd on loopback, with
certificates made here by a throwaway CA (trustme).

What must hold: the message goes through, and the login only inside TLS; a certificate the
client cannot trust (another CA, another name) stops the send before anything is said in
clear, with a reason that says it was the certificate and is not retried; a server that does
not offer the STARTTLS it is configured for is refused too; the password is in no error and
no log line.
"""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import Iterator

import pytest
import trustme
from structlog.testing import capture_logs

from config import Secret
from dialer.notify.channels import Email, EmailChannel
from dialer.notify.errors import SendFailed
from tests.dialer.notify.conftest import reminders_config
from tests.dialer.notify.servers import SmtpHandler, SmtpLogins, smtp_server, smtp_tls_server

PASSWORD = "Tr0ub4dor&3-smtp"
MAIL = Email("a@example.com", "reminders@example.com", "Callback", "Plain", "<p>x</p>", "reminder-11")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts ``ca`` (as a deployment trusting a private CA would)."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def channel(port: int, mode: str, ca: trustme.CA, *, password: str = PASSWORD) -> EmailChannel:
    cfg = reminders_config(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls=mode,
        smtp_username="dialer",
        smtp_password=Secret(password),
    )
    return EmailChannel(cfg, tls_context=trusting(ca))


def secret_forms(password: str) -> list[str]:
    """The password as it could leak: plain, or inside AUTH PLAIN's / AUTH LOGIN's base64."""
    return [
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"\0dialer\0{password}".encode()).decode(),
    ]


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """What our code and the SMTP client log while a test runs (structlog and stdlib, debug up);
    the test server's own log (``mail.log``, aiosmtpd's) is not ours and is left out."""
    lines: list[str] = []
    caplog.set_level(logging.DEBUG)
    with capture_logs() as events:
        yield lines
    lines += [repr(e) for e in events]
    lines += [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_a_login_over_tls_delivers_the_message(
    mode: str, ca: trustme.CA, cert: trustme.LeafCert, every_log_line: list[str]
) -> None:
    mail, logins = SmtpHandler(), SmtpLogins("dialer", PASSWORD)
    async with smtp_tls_server(mail, cert, mode=mode, logins=logins) as port:
        reply = await channel(port, mode, ca).send(MAIL)
    assert "queued as Q1" in reply
    assert [("dialer", True)] == logins.tried  # logged in once, inside TLS
    (msg,) = mail.messages
    assert "reminder-11" in msg["Message-ID"] and "Callback" == msg["Subject"]
    assert not [line for line in every_log_line for s in secret_forms(PASSWORD) if s in line]


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_a_wrong_password_fails_without_the_password_in_the_error_or_the_logs(
    mode: str, ca: trustme.CA, cert: trustme.LeafCert, every_log_line: list[str]
) -> None:
    wrong = "N0t-the-s3cret!"
    mail, logins = SmtpHandler(), SmtpLogins("dialer", PASSWORD)
    async with smtp_tls_server(mail, cert, mode=mode, logins=logins) as port:
        with pytest.raises(SendFailed) as e:
            await channel(port, mode, ca, password=wrong).send(MAIL)
    assert "535" in e.value.reason and not e.value.transient  # authentication failed: not retried
    assert [] == mail.messages and logins.tried  # the client tries its mechanisms in turn
    assert {("dialer", True)} == set(logins.tried)  # each inside TLS
    told = [str(e.value), repr(e.value), *every_log_line]
    assert not [line for line in told for s in secret_forms(wrong) + secret_forms(PASSWORD) if s in line]


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_a_certificate_of_an_unknown_ca_is_refused_before_anything_is_sent(
    mode: str, ca: trustme.CA, every_log_line: list[str]
) -> None:
    stranger = trustme.CA().issue_cert("127.0.0.1")  # right name, a CA the client does not trust
    mail, logins = SmtpHandler(), SmtpLogins("dialer", PASSWORD)
    async with smtp_tls_server(mail, stranger, mode=mode, logins=logins) as port:
        with pytest.raises(SendFailed) as e:
            await channel(port, mode, ca).send(MAIL)
    assert not e.value.transient
    assert e.value.reason.startswith("the SMTP server's TLS certificate was refused: ")
    assert "unable to get local issuer certificate" in e.value.reason  # OpenSSL's verdict, as is
    assert ([], []) == (mail.messages, logins.tried)  # no login, no message
    assert not [line for line in every_log_line for s in secret_forms(PASSWORD) if s in line]


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_a_certificate_for_another_name_is_refused(mode: str, ca: trustme.CA) -> None:
    elsewhere = ca.issue_cert("mail.example.com")  # a trusted CA, but not this server's name
    mail = SmtpHandler()
    async with smtp_tls_server(mail, elsewhere, mode=mode) as port:
        with pytest.raises(SendFailed) as e:
            await channel(port, mode, ca).send(MAIL)
    assert not e.value.transient and "certificate was refused" in e.value.reason
    assert "mismatch" in e.value.reason.lower() and [] == mail.messages


async def test_a_server_without_starttls_is_refused_rather_than_used_in_clear(ca: trustme.CA) -> None:
    mail = SmtpHandler()
    async with smtp_server(mail) as port:  # plain SMTP, no STARTTLS offered
        with pytest.raises(SendFailed) as e:
            await channel(port, "starttls", ca).send(MAIL)
    assert not e.value.transient and "does not offer STARTTLS" in e.value.reason
    assert [] == mail.messages


async def test_the_default_context_trusts_only_the_systems_cas(cert: trustme.LeafCert) -> None:
    """Without a context of its own the channel verifies against the system's CAs, which do
    not know the test CA: the same refusal a self-made certificate gets in production."""
    mail = SmtpHandler()
    async with smtp_tls_server(mail, cert, mode="tls") as port:
        cfg = reminders_config(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="tls")
        with pytest.raises(SendFailed) as e:
            await EmailChannel(cfg).send(MAIL)
    assert "certificate was refused" in e.value.reason and [] == mail.messages
