"""Web callback sites' keys and origins: pure rules shared by the store, the API and the CLI.

A site's API key is made here (:func:`new_site_key`) so the console, the API and ``dialer
callbacks site-add`` hand out keys of one strength; the store keeps only its hash. A site's
*origins* are the web pages allowed to call the public endpoints from a browser (CORS): an
origin is what a browser sends in its ``Origin`` header -- a scheme, a host and a port, no
path -- so :func:`parse_origin` reduces what an administrator types to exactly that form
(lower case, the scheme's default port left out), and the comparison at request time is a
plain string match, never a pattern: ``https://shop.example`` does not let in
``https://evil-shop.example``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from dialer.errors import ValidationError

__all__ = ["MAX_ORIGINS", "new_site_key", "parse_origin", "parse_origins"]

#: Origins one site may name (a website and its staging copies, not a list of the web).
MAX_ORIGINS = 20
_DEFAULT_PORTS = {"http": 80, "https": 443}


def new_site_key() -> str:
    """A new API key for a site: 32 random bytes, URL-safe (fits an HTTP header as it is)."""
    return secrets.token_urlsafe(32)


def parse_origin(text: str, field: str = "origins") -> str:
    """``text`` as a browser's ``Origin``: ``https://host[:port]``; a clear error otherwise."""
    value = text.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValidationError(field, "not an origin (scheme://host[:port])", text) from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise ValidationError(field, "an origin is http(s)://host[:port], e.g. https://shop.example", text)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError(field, "an origin has no path, query or user: scheme://host[:port] only", text)
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def parse_origins(values: Iterable[str], field: str = "origins") -> tuple[str, ...]:
    """Each origin normalised (:func:`parse_origin`), repeats dropped, in the order given."""
    out: list[str] = []
    for v in values:
        origin = parse_origin(v, field)
        if origin not in out:
            out.append(origin)
    if len(out) > MAX_ORIGINS:
        raise ValidationError(field, f"a site names at most {MAX_ORIGINS} origins", len(out))
    return tuple(out)
