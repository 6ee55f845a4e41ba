"""Passwords and bearer tokens: how they are made, checked and stored.

Passwords are hashed with Argon2id (``argon2-cffi``'s defaults, RFC 9106's second
recommended parameter set); only the hash is stored. A bearer token is 32 random bytes
(``secrets.token_urlsafe``): with that much entropy a fast hash cannot be reversed, so the
store keeps its SHA-256 and a lookup is one indexed read. Neither a password nor a token is
ever logged: the functions here take and return them, nothing more.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dialer.errors import ValidationError

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "check_password",
    "hash_password",
    "hash_token",
    "new_token",
    "verify_password",
]

# NIST SP 800-63B 5.1.1.2: memorized secrets of at least 8 characters.
MIN_PASSWORD_LENGTH = 8
# A password longer than this is not typed by a person; refuse it rather than hash megabytes.
MAX_PASSWORD_LENGTH = 1024

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so an unknown name costs as long as a wrong password.

    Made on first use, not at import: hashing takes most of a second and every ``dialer``
    command imports this module (issue 16: a command should cost ~0.1 s).
    """
    return _HASHER.hash("not-a-password-of-anyone")


def check_password(password: str) -> None:
    """The rules a new password must meet (one set for the CLI and the API).

    Raises:
        ValidationError: field ``password``, never with the value.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    """The Argon2id hash to store (CPU-bound: call it off the event loop)."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """Check ``password`` against ``stored`` (None: no such user; still costs one verify).

    Returns:
        (matches, a new hash to store when the parameters changed since ``stored`` was made).
    """
    try:
        _HASHER.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, (_HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None)


def new_token() -> str:
    """A fresh opaque bearer token (32 random bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    """What the store keeps of a token."""
    return hashlib.sha256(token.encode()).digest()
