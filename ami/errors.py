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


class TranscriptFormatError(AmiError, ValueError):
    """A transcript file (``shared/ami-transcripts`` format) cannot be read; names file and line."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class IllegalTransition(AmiError):
    """A state machine was asked for a transition its table does not have (our bug, not the peer's)."""

    def __init__(self, state: object, signal: object) -> None:
        super().__init__(f"no transition from {state} on {signal}")
        self.state = state
        self.signal = signal


# -- raised by the I/O shell (ami.client, ami.pool) ------------------------------------------


class AmiAuthError(AmiError):
    """Asterisk refused the Login. Names the server and user, never the secret."""

    def __init__(self, server: str, username: str, message: str) -> None:
        super().__init__(f"AMI login to server {server!r} as user {username!r} refused: {message}")
        self.server = server
        self.username = username


class AmiConnectionLost(AmiError):
    """The connection closed (or never opened) while an action waited for its response."""


class AmiNotConnected(AmiConnectionLost):
    """An action was asked for while the client is not logged in."""


class AmiActionFailed(AmiError):
    """Asterisk answered ``Response: Error`` (e.g. ``Unable to add interface: Already there``)."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"AMI {action} failed: {message}")
        self.action = action
        self.message = message


class AmiTimeout(AmiError):
    """No response to an action within its timeout."""


class AmiCapacityError(AmiError):
    """Every server is down or at its channel limit: the call cannot be placed now."""


class AmiUnknownServer(AmiCapacityError):
    """A campaign or agent names a server (or group) the configuration does not have."""
