"""The channels: e-mail over SMTP (aiosmtplib) and SMS through a pluggable :class:`SmsGateway`,
with an HTTP gateway (most providers' REST APIs) and an SMPP one (the operators' protocol).

Every send carries the send's idempotency key (``reminder-<id>``): the HTTP gateway sends it
as the ``Idempotency-Key`` header (and the body template may use it), so a send the engine
repeats after a crash is one message at a provider that honours it; e-mail carries it in
its Message-ID. SMPP has no such key, so the service never repeats an SMPP or SMTP send
whose outcome it did not record (see :mod:`dialer.notify.service`).

Why smpplib for SMPP: it is the maintained, widely used pure-Python SMPP 3.4 client
(PyPI ``smpplib`` 2.2, 2025), with no native parts; the asyncio ones listed beside it
(aiosmpplib, aiosmpp, naz) have a fraction of its users or are unmaintained. It is a
blocking client, so one send runs in a worker thread (``asyncio.to_thread``) with a socket
timeout; we use it for the PDUs and the session, and our own :mod:`dialer.notify.sms` for the
encoding and the splitting (its splitter may cut an escaped GSM character in two).

Secrets (:class:`config.Secret`) are revealed only at the line that sends them; failures are
:class:`~dialer.notify.errors.SendFailed` with messages we build, never the library's text of
a request (which could echo a header).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import aiosmtplib
import httpx
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from config import RemindersConfig
from dialer.notify.errors import ChannelNotConfigured, SendFailed
from dialer.notify.sms import pdu_payloads


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    sender: str
    subject: str
    text: str
    html: str
    key: str


@dataclass(frozen=True, slots=True)
class Sms:
    to: str  # E.164
    sender: str
    text: str
    key: str


class SmsGateway(Protocol):
    """Sends one SMS; returns the provider's message id (several parts: their ids, comma-joined)."""

    async def send(self, sms: Sms) -> str: ...


class EmailChannel:
    """SMTP with STARTTLS or TLS and optional login.

    The server's certificate is verified (the system's CAs, or ``tls_context``'s: a private
    CA) and its name checked against ``smtp_host``. A certificate refused, or a server that
    does not offer the STARTTLS it is configured for, is a permanent failure whose reason
    says so: retrying cannot fix a configuration, and the message is never sent in clear.
    """

    def __init__(self, cfg: RemindersConfig, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._cfg = cfg
        self._tls_context = tls_context

    async def send(self, mail: Email) -> str:
        cfg = self._cfg
        if not cfg.smtp_host:
            raise ChannelNotConfigured("e-mail")
        msg = EmailMessage()
        msg["From"] = mail.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        domain = mail.sender.rpartition("@")[2] or "dialer.invalid"
        msg["Message-ID"] = make_msgid(idstring=mail.key, domain=domain)
        msg.set_content(mail.text)
        if mail.html:
            msg.add_alternative(mail.html, subtype="html")
        try:
            _, reply = await aiosmtplib.send(
                msg,
                hostname=cfg.smtp_host,
                port=cfg.smtp_port,
                username=cfg.smtp_username or None,
                password=cfg.smtp_password.reveal() if cfg.smtp_username else None,
                use_tls=cfg.smtp_tls == "tls",
                start_tls=True if cfg.smtp_tls == "starttls" else False,
                tls_context=self._tls_context,
                timeout=cfg.send_timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = sorted({r.code for r in e.recipients})
            raise SendFailed(
                f"the SMTP server refused the recipient ({codes})",
                transient=all(400 <= c < 500 for c in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as e:
            raise SendFailed(f"the SMTP server answered {e.code}", transient=400 <= e.code < 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise _tls_failure(e) or SendFailed(
                f"SMTP server unreachable ({type(e).__name__})", transient=True
            ) from None
        return reply.strip() or str(msg["Message-ID"])


def _tls_failure(err: BaseException) -> SendFailed | None:
    """The permanent failure a TLS problem is (see :class:`EmailChannel`), else None.

    The reason is built from OpenSSL's verdict (``certificate has expired``, ``self-signed
    certificate``, ``Hostname mismatch...``), which names no secret.
    """
    seen: BaseException | None = err
    for _ in range(5):  # the library wraps the ssl error once or twice
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            verdict = seen.verify_message or seen.reason or "verification failed"
            return SendFailed(f"the SMTP server's TLS certificate was refused: {verdict}", transient=False)
        if isinstance(seen, ssl.SSLError):
            reason = seen.reason or "handshake error"
            return SendFailed(f"TLS with the SMTP server failed: {reason}", transient=False)
        seen = seen.__cause__ or seen.__context__
    if isinstance(err, aiosmtplib.SMTPException) and "STARTTLS extension not supported" in str(err):
        return SendFailed(
            "the SMTP server does not offer STARTTLS (smtp_tls = starttls): not sent in clear",
            transient=False,
        )
    return None


class HttpSmsGateway:
    """A provider's REST API: URL, method, an auth header, a Jinja2 body of ``to``, ``sender``,
    ``text``, ``idempotency_key``; the reply's JSON field ``sms_http_id_field`` is the id."""

    def __init__(self, cfg: RemindersConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self._cfg = cfg
        self._body = SandboxedEnvironment(autoescape=False).from_string(cfg.sms_http_body)
        self._client = client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, sms: Sms) -> str:
        cfg = self._cfg
        try:
            body = self._body.render(to=sms.to, sender=sms.sender, text=sms.text, idempotency_key=sms.key)
        except TemplateError as e:
            raise SendFailed(
                f"reminders.sms_http_body does not render: {e.message}", transient=False
            ) from None
        headers = {"Content-Type": cfg.sms_http_content_type, "Idempotency-Key": sms.key}
        if cfg.sms_http_auth:
            headers[cfg.sms_http_auth_header] = cfg.sms_http_auth.reveal()
        if self._client is None:
            # one client for the service's life: a new one per send costs a TLS context each
            self._client = httpx.AsyncClient(timeout=cfg.send_timeout_s)
        try:
            reply = await self._client.request(
                cfg.sms_http_method, cfg.sms_http_url, content=body.encode(), headers=headers
            )
        except httpx.TimeoutException:
            raise SendFailed("the SMS gateway timed out", transient=True) from None
        except httpx.HTTPError as e:
            raise SendFailed(f"the SMS gateway is unreachable ({type(e).__name__})", transient=True) from None
        if reply.status_code == 429 or reply.status_code >= 500:
            raise SendFailed(f"the SMS gateway answered HTTP {reply.status_code}", transient=True)
        if not 200 <= reply.status_code < 300:
            raise SendFailed(
                f"the SMS gateway refused the message: HTTP {reply.status_code}", transient=False
            )
        try:
            data = reply.json()
            return str(data[cfg.sms_http_id_field]) if isinstance(data, dict) else str(data)
        except (ValueError, KeyError):
            return reply.headers.get("x-message-id", "")


# SMPP 3.4 command status codes that a later try may clear (5.1.3): system error, throttled,
# queue full, bind failed while the SMSC restarts.
_SMPP_TRANSIENT = {0x08, 0x14, 0x58, 0x0D}


class SmppGateway:
    """SMPP 3.4 as a transmitter: bind, one submit_sm per part, unbind. One session per send."""

    def __init__(self, cfg: RemindersConfig) -> None:
        self._cfg = cfg

    async def send(self, sms: Sms) -> str:
        return await asyncio.to_thread(self._send_blocking, sms)

    def _send_blocking(self, sms: Sms) -> str:
        import smpplib.client
        import smpplib.exceptions

        cfg = self._cfg
        data_coding, payloads, udh = pdu_payloads(sms.text)
        client = smpplib.client.Client(
            cfg.smpp_host, cfg.smpp_port, timeout=cfg.send_timeout_s, allow_unknown_opt_params=True
        )
        ids: list[str] = []
        try:
            client.connect()
            client.bind_transmitter(system_id=cfg.smpp_system_id, password=cfg.smpp_password.reveal())
            alphanumeric = not sms.sender.lstrip("+").isdigit()
            for payload in payloads:
                client.send_message(
                    source_addr_ton=5 if alphanumeric else 1,
                    source_addr_npi=0 if alphanumeric else 1,
                    source_addr=sms.sender.lstrip("+"),
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr=sms.to.lstrip("+"),
                    short_message=payload,
                    data_coding=data_coding,
                    esm_class=0x40 if udh else 0,
                    registered_delivery=0,
                )
                resp = client.read_pdu()
                if resp.is_error():
                    status = int(resp.status)
                    transient = status in _SMPP_TRANSIENT and not ids
                    part = f" after {len(ids)} of {len(payloads)} parts" if ids else ""
                    raise SendFailed(
                        f"the SMSC refused the message: status 0x{status:02X}{part}", transient=transient
                    )
                ids.append(_text(getattr(resp, "message_id", b"")))
            try:
                client.unbind()
            except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError):
                pass  # the messages were accepted; a lost unbind changes nothing
        except smpplib.exceptions.PDUError as e:
            status = e.args[1] if len(e.args) > 1 else 0
            raise SendFailed(
                f"the SMSC refused the session: status 0x{status:02X}",
                transient=status in _SMPP_TRANSIENT and not ids,
            ) from None
        except (TimeoutError, smpplib.exceptions.ConnectionError, OSError) as e:
            if ids:
                raise SendFailed(
                    f"the SMSC connection broke after {len(ids)} parts", transient=False
                ) from None
            raise SendFailed(f"the SMSC is unreachable ({type(e).__name__})", transient=True) from None
        finally:
            client.disconnect()
        return ",".join(ids)


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


@dataclass
class Channels:
    """The channels the service sends through, built from ``[reminders]``."""

    email: EmailChannel
    sms: SmsGateway | None
    email_from: str
    sms_sender: str

    @classmethod
    def from_config(cls, cfg: RemindersConfig) -> Channels:
        gateways: dict[str, type[HttpSmsGateway] | type[SmppGateway]] = {
            "http": HttpSmsGateway,
            "smpp": SmppGateway,
        }
        kind = gateways.get(cfg.sms_gateway)
        return cls(EmailChannel(cfg), kind(cfg) if kind else None, cfg.email_from, cfg.sms_sender)

    async def send_sms(self, sms: Sms) -> str:
        if self.sms is None:
            raise ChannelNotConfigured("SMS")
        return await self.sms.send(sms)

    async def aclose(self) -> None:
        """Let go of the connections a gateway keeps (the HTTP gateway's client)."""
        if isinstance(self.sms, HttpSmsGateway):
            await self.sms.aclose()
