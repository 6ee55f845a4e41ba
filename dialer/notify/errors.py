"""The reminder service's errors, under the engine's :class:`~dialer.errors.DialerError`.

A template the user saves that does not render is a :class:`TemplateRefused` (a
``ValidationError``: the API answers 422 and the CLI prints it). A channel's failure is a
:class:`SendFailed`, ``transient`` (retry with backoff up to the deadline: a refused
connection, a timeout, a 4xx SMTP reply, an HTTP 5xx) or not (log it and stop: a refused
address, an HTTP 4xx). Neither carries a secret: channels build their messages themselves.
"""

from __future__ import annotations

from dialer.errors import DialerError, ValidationError


class TemplateRefused(ValidationError):
    """A template does not render against the sample (or breaks a channel's rule)."""


class SendFailed(DialerError):
    """A channel did not take a message."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        self.reason = reason
        self.transient = transient
        super().__init__(reason)


class ChannelNotConfigured(SendFailed):
    """No SMTP server or SMS gateway is configured for a channel a reminder needs."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"no {channel} channel is configured ([reminders] in the config)", transient=False)
