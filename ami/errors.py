"""The AMI package's exception hierarchy, rooted in :class:`AmiError`.

Their fault vs ours (h11's Remote/Local split): a peer's garbage is not an exception at
all on the read path — the framer yields :class:`~ami.framing.GarbledMessage` for the shell
to log, count and skip. Exceptions here are for our misuse (an action we cannot encode)
and for conditions a caller must handle (authentication refused, connection lost).
"""

from __future__ import annotations


class AmiError(Exception):
    """Root of every error the AMI layer raises on purpose."""


class AmiProtocolError(AmiError):
    """The peer broke the protocol in a way that ends the connection (e.g. no banner)."""


class AmiActionError(AmiError):
    """We were asked to send an action that cannot be encoded safely (our fault)."""
