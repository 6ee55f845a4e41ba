"""Whether a PostgreSQL DSN can be read at all, before a driver chokes on it.

asyncpg parses the DSN only when it connects, and a port that is not a number
(``127.0.0.1:notaport``) or an IPv6 address left open (``[::1``) comes out of its parser as a
bare ``ValueError`` with a driver traceback. :func:`dsn_problem` checks the shape asyncpg
accepts (``postgresql://[user[:password]@]host[:port][,host[:port]...][/database][?...]``) and
says what is wrong in words that never quote the password.
"""

from __future__ import annotations

__all__ = ["dsn_problem"]

_SCHEMES = ("postgresql", "postgres")


def dsn_problem(dsn: str) -> str | None:
    """Why ``dsn`` cannot be used, or None. The reason names hosts and ports, never the password."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme.lower() not in _SCHEMES:
        return "must be a URI: postgresql://user:password@host:port/database"
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    hosts = authority.rpartition("@")[2]  # a password may hold an unencoded '@': the last one counts
    for part in hosts.split(","):
        if part.startswith("["):
            end = part.find("]")
            if end < 0:
                return f"host {part!r}: an IPv6 address opened with '[' is not closed with ']'"
            host, tail = part[: end + 1], part[end + 1 :]
            if tail and not tail.startswith(":"):
                return f"host {part!r}: only ':port' may follow an IPv6 address"
            port = tail[1:]
        else:
            if "]" in part:
                return f"host {part!r}: ']' without the '[' that opens an IPv6 address"
            host, _, port = part.partition(":")
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            return f"host {host!r}: port {port!r} is not a TCP port (1-65535)"
    return None
