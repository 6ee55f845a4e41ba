"""The web callback sites' pure rules: an origin reduced to what a browser sends, keys."""

from __future__ import annotations

import pytest

from dialer.callbacks.sites import MAX_ORIGINS, new_site_key, parse_origin, parse_origins
from dialer.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("https://shop.example", "https://shop.example"),
        (" HTTPS://Shop.Example/ ", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://shop.example:80", "http://shop.example"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_an_origin_is_what_a_browser_sends(text: str, origin: str) -> None:
    assert origin == parse_origin(text)


@pytest.mark.parametrize(
    "text",
    [
        "shop.example",
        "ftp://shop.example",
        "https://shop.example/page",
        "https://shop.example?x=1",
        "https://user@shop.example",
        "https://",
        "*",
        "https://shop.example:99999",
        "null",
    ],
)
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_origin(text)
    assert ("origins", text) == (err.value.field, err.value.value)


def test_origins_are_deduplicated_and_capped() -> None:
    assert ("https://a.example",) == parse_origins(["https://a.example", "HTTPS://A.EXAMPLE:443"])
    with pytest.raises(ValidationError, match="at most"):
        parse_origins([f"https://s{i}.example" for i in range(MAX_ORIGINS + 1)])


def test_keys_are_long_random_and_header_safe() -> None:
    keys = {new_site_key() for _ in range(50)}
    assert 50 == len(keys)
    assert all(len(k) >= 40 and k.isascii() and " " not in k for k in keys)
