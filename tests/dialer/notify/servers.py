"""Real servers on loopback for the reminder channels: SMTP (aiosmtpd), an SMS provider's
HTTP API, and a minimal SMSC speaking SMPP 3.4 over TCP.

Each records what it received; each can be told to fail (SMTP refuses the first N messages
with 451, the HTTP gateway answers late or holds a request, the SMSC answers an error status).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import ssl
import struct
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult

from dialer.notify.sms import decode


@dataclass
class SmtpHandler:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse_first: int = 0
    seen: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.seen <= self.refuse_first:
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return f"250 2.0.0 queued as Q{self.seen}"


@contextlib.asynccontextmanager
async def smtp_server(handler: SmtpHandler) -> AsyncIterator[int]:
    """aiosmtpd's SMTP protocol served on this event loop, on a free port; yields the port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp.test"), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@dataclass
class SmtpLogins:
    """An aiosmtpd authenticator accepting one login; records who logged in and whether over TLS."""

    user: str
    password: str
    tried: list[tuple[str, bool]] = field(default_factory=list)  # (login, the session was TLS)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        login = auth_data.login.decode()
        self.tried.append((login, server.transport.get_extra_info("ssl_object") is not None))
        ok = (login, auth_data.password.decode()) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)


@contextlib.asynccontextmanager
async def smtp_tls_server(
    handler: SmtpHandler, cert: trustme.LeafCert, *, mode: str, logins: SmtpLogins | None = None
) -> AsyncIterator[int]:
    """aiosmtpd with TLS on this event loop; yields the port.

    ``mode`` ``starttls``: plain at first, STARTTLS offered and required before MAIL (and
    AUTH); ``tls``: TLS from the first byte (implicit TLS, port 465 style). With ``logins``,
    AUTH PLAIN/LOGIN is required, only over TLS under STARTTLS (aiosmtpd 1.4 cannot tell an
    implicit TLS session, so there it offers AUTH at once: the whole connection is TLS).
    """
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    auth: dict[str, Any] = {"authenticator": logins, "auth_required": True} if logins else {}
    loop = asyncio.get_running_loop()
    if mode == "starttls":
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="smtp.test", tls_context=ctx, require_starttls=True, **auth),
            "127.0.0.1",
            0,
        )
    else:

        def implicit() -> SMTP:
            with warnings.catch_warnings():  # "AUTH without requiring TLS": it is all TLS here
                warnings.simplefilter("ignore", UserWarning)
                return SMTP(handler, hostname="smtp.test", auth_require_tls=False, **auth)

        server = await loop.create_server(implicit, "127.0.0.1", 0, ssl=ctx)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@dataclass
class SmsApi:
    """A provider's REST API: POST JSON, answers {"id": ...}; deduplicates by Idempotency-Key."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0
    hold: asyncio.Event | None = None  # set: the request is recorded, then the reply waits for it
    received: asyncio.Event = field(default_factory=asyncio.Event)
    status: int = 200
    by_key: dict[str, str] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """One per idempotency key: what the provider would have sent to phones."""
        seen: dict[str, dict[str, Any]] = {}
        for r in self.requests:
            seen.setdefault(r["key"], r)
        return list(seen.values())

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            key = headers.get("idempotency-key", "")
            self.requests.append(
                {"method": method, "path": path, "headers": headers, "body": json.loads(body), "key": key}
            )
            self.received.set()
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.hold is not None:
                await self.hold.wait()
            if self.status == 200:
                if key not in self.by_key:
                    self.by_key[key] = f"msg-{next(self._ids)}"
                payload = json.dumps({"id": self.by_key[key]}).encode()
            else:
                payload = b'{"error": "no"}'
            writer.write(
                f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def sms_api(api: SmsApi) -> AsyncIterator[int]:
    server = await asyncio.start_server(api.handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def _cstr(data: bytes, i: int) -> tuple[str, int]:
    end = data.index(b"\x00", i)
    return data[i:end].decode(), end + 1


@dataclass
class Smsc:
    """A minimal SMSC: bind_transmitter, submit_sm, enquire_link, unbind (SMPP 3.4 section 4)."""

    system_id: str = "dialer"
    password: str = "pw"
    submits: list[dict[str, Any]] = field(default_factory=list)
    error_status: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def texts(self) -> list[str]:
        """The messages as the phone shows them (concatenated parts joined)."""
        out: list[str] = []
        parts: dict[int, dict[int, str]] = {}
        for s in self.submits:
            sm: bytes = s["short_message"]
            encoding = "ucs2" if s["data_coding"] == 8 else "gsm7"
            if s["esm_class"] & 0x40:
                ref, total, seq = sm[3], sm[4], sm[5]
                parts.setdefault(ref, {})[seq] = decode(sm[6:], encoding)
                if len(parts[ref]) == total:
                    out.append("".join(parts[ref][i] for i in range(1, total + 1)))
            else:
                out.append(decode(sm, encoding))
        return out

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length, command, _, seq = struct.unpack(">IIII", await reader.readexactly(16))
                body = await reader.readexactly(length - 16)
                if command == 0x00000002:  # bind_transmitter
                    system_id, i = _cstr(body, 0)
                    password, i = _cstr(body, i)
                    ok = system_id == self.system_id and password == self.password
                    self._reply(writer, 0x80000002, 0 if ok else 0x0E, seq, b"smsc\x00")
                elif command == 0x00000004:  # submit_sm
                    self.submits.append(self._parse_submit(body))
                    if self.error_status:
                        self._reply(writer, 0x80000004, self.error_status, seq, b"\x00")
                    else:
                        self._reply(writer, 0x80000004, 0, seq, f"smsc-{next(self._ids)}".encode() + b"\x00")
                elif command == 0x00000015:  # enquire_link
                    self._reply(writer, 0x80000015, 0, seq, b"")
                elif command == 0x00000006:  # unbind
                    self._reply(writer, 0x80000006, 0, seq, b"")
                    await writer.drain()
                    break
                else:
                    self._reply(writer, 0x80000000, 0x03, seq, b"")  # generic_nack: invalid command
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, command: int, status: int, seq: int, body: bytes) -> None:
        writer.write(struct.pack(">IIII", 16 + len(body), command, status, seq) + body)

    @staticmethod
    def _parse_submit(body: bytes) -> dict[str, Any]:
        _service, i = _cstr(body, 0)
        src_ton, src_npi = body[i], body[i + 1]
        source, i = _cstr(body, i + 2)
        i += 2  # dest ton, npi
        dest, i = _cstr(body, i)
        esm_class = body[i]
        i += 3  # esm_class, protocol_id, priority_flag
        _sched, i = _cstr(body, i)
        _validity, i = _cstr(body, i)
        i += 2  # registered_delivery, replace_if_present
        data_coding = body[i]
        sm_length = body[i + 2]
        short_message = body[i + 3 : i + 3 + sm_length]
        return {
            "source": source,
            "source_ton": src_ton,
            "source_npi": src_npi,
            "destination": dest,
            "esm_class": esm_class,
            "data_coding": data_coding,
            "short_message": short_message,
        }


@contextlib.asynccontextmanager
async def smsc_server(smsc: Smsc) -> AsyncIterator[int]:
    server = await asyncio.start_server(smsc.handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
