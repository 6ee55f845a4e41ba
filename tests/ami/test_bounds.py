"""Every read from an AMI peer is bounded (issue 19 item 5): the banner, a line, a message.

An endless banner used to be buffered whole (54 -> 157 MB on every connect attempt); now the
connection is refused with an error that says what the peer did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator

import pytest

from ami.client import AmiClient
from ami.errors import AmiConnectionLost, AmiProtocolError
from ami.framing import (
    MAX_BANNER_BYTES,
    MAX_HEADERS,
    MAX_LINE_BYTES,
    AmiFramer,
    AmiMessage,
    Banner,
    GarbledMessage,
)
from ami.simulator.server import SimulatedPbx
from tests.ami.test_client import server_config


def test_a_banner_without_an_end_is_refused_once_past_the_bound() -> None:
    framer = AmiFramer()
    assert [] == framer.feed(b"A" * MAX_BANNER_BYTES)  # still might be a (long) banner
    with pytest.raises(AmiProtocolError, match=f"first {MAX_BANNER_BYTES} bytes"):
        framer.feed(b"A" * 100)
    assert 0 == framer.pending


def test_a_banner_line_just_inside_the_bound_is_read() -> None:
    line = b"Asterisk Call Manager/" + b"9" * (MAX_BANNER_BYTES - 30)
    frames = AmiFramer().feed(line + b"\r\nResponse: Success\r\n\r\n")
    assert isinstance(frames[0], Banner) and isinstance(frames[1], AmiMessage)


def test_too_many_headers_or_a_too_long_line_is_garbage_and_the_next_message_survives() -> None:
    many = b"".join(b"K%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n"
    long_line = b"Event: X\r\nVariable: " + b"v" * (MAX_LINE_BYTES + 1) + b"\r\n\r\n"
    ok = b"Event: Ping\r\nActionID: 1\r\n\r\n"
    frames = AmiFramer(expect_banner=False).feed(many + long_line + ok)
    assert [type(f) for f in frames] == [GarbledMessage, GarbledMessage, AmiMessage]
    assert "header lines" in frames[0].reason  # type: ignore[union-attr]
    assert "header line over" in frames[1].reason  # type: ignore[union-attr]


@pytest.fixture
async def endless_banner() -> AsyncIterator[tuple[int, list[int]]]:
    """A hostile peer: writes bytes without a line end as fast as the client reads them."""
    written = [0]

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(b"A" * 65536)
                written[0] += 65536
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], written
    finally:
        server.close()
        await server.wait_closed()


async def test_client_refuses_an_endless_banner_at_once_with_a_clear_error(
    endless_banner: tuple[int, list[int]],
) -> None:
    port, written = endless_banner
    client = AmiClient(server_config(port), rng=random.Random(1))
    try:
        with pytest.raises(AmiConnectionLost, match="no AMI banner line") as err:
            await asyncio.wait_for(client.connect(), 3.0)
    finally:
        await client.terminate()
    assert "Asterisk manager port" in str(err.value)
    assert client._protocol is None  # the connection was dropped, not kept reading
    assert written[0] < 64 * 1024 * 1024  # it stopped reading long before the old 100 MB


async def test_a_login_slower_than_its_timeout_says_so() -> None:
    pbx = SimulatedPbx(time_scale=0.01)
    await pbx.start()
    pbx.response_delay_s = 2.5
    cfg = dataclasses.replace(server_config(pbx.port), connect_timeout_s=0.3)
    client = AmiClient(cfg, rng=random.Random(1))
    try:
        with pytest.raises(AmiConnectionLost, match=r"did not answer the Login within 2.3 s"):
            await client.connect()
    finally:
        await client.terminate()
        await pbx.close()
