"""Which attempt an AMI message belongs to.

Theory of operation: the client originates with ``ActionID`` and ``ChannelId`` both derived
from our attempt id. Asterisk then names everything about that call through a handful of
identifiers (``shared/ami-transcripts/README.md``, fact 3):

* the Originate's ``Response`` and its async ``OriginateResponse`` carry our ``ActionID``;
* the originated channel's ``;1`` half has ``Uniqueid == ChannelId``, the ``;2`` half
  ``ChannelId + ';2'``;
* every related channel (the trunk leg inside a ``Dial()``, the agent legs a Queue rings)
  carries ``Linkedid == ChannelId``;
* events about two channels (DialBegin/End, AgentCalled/Connect/Complete) put the second one
  in ``Dest*`` headers, and Local-channel events in ``LocalOne*``/``LocalTwo*`` — and the
  Originate's own DialBegin/DialEnd carry *only* ``Dest*`` headers (fact 4);
* our dialplan's UserEvents run on the ``;1`` half, so they carry its Uniqueid/Linkedid, and
  may also carry ``AttemptId`` (ours do; the captured dialplan's do not).

So the router looks at every ``*Uniqueid``/``*Linkedid`` header (bridge ids aside), the
ActionID, and ``AttemptId``, and answers with the attempt id. Pure: a dict lookup per header.
"""

from __future__ import annotations

from ami.framing import AmiMessage

# Header names whose value is a channel's Uniqueid or Linkedid, in the spellings Asterisk
# uses (checked first: a set lookup instead of lowercasing every header of every event).
_ID_HEADERS = frozenset(
    {
        "Uniqueid",
        "Linkedid",
        "DestUniqueid",
        "DestLinkedid",
        "LocalOneUniqueid",
        "LocalOneLinkedid",
        "LocalTwoUniqueid",
        "LocalTwoLinkedid",
        "SourceUniqueid",
        "SourceLinkedid",
        "TransfereeUniqueid",
        "TransfereeLinkedid",
        "TransferTargetUniqueid",
        "TransferTargetLinkedid",
        "OrigTransfererUniqueid",
        "OrigTransfererLinkedid",
        "SecondTransfererUniqueid",
        "SecondTransfererLinkedid",
        "UniqueID",
        "UniqueId",
    }
)
# A header with one of these names is an id of something else that merely ends the same way.
_NOT_CHANNEL_IDS = frozenset({"bridgeuniqueid", "destbridgeuniqueid", "origbridgeuniqueid"})

# UserEvent header our dialplan adds (asterisk-conf/extensions.conf) so a UserEvent routes
# even when it is raised on a channel we did not originate.
ATTEMPT_ID_HEADER = "AttemptId"

# The Local channel's second half: Asterisk appends this to the ChannelId (fact 3).
LOCAL_HALF_TWO_SUFFIX = ";2"


def _is_id_header(name: str) -> bool:
    if name in _ID_HEADERS:
        return True
    low = name.lower()
    return low.endswith(("uniqueid", "linkedid")) and low not in _NOT_CHANNEL_IDS


class EventRouter:
    """Maps AMI messages to the attempt they belong to (see the module docstring)."""

    def __init__(self) -> None:
        self._by_action: dict[str, str] = {}
        self._by_channel: dict[str, str] = {}
        self._keys: dict[str, tuple[str, str]] = {}

    def register(self, attempt_id: str, *, action_id: str, channel_id: str) -> None:
        """Start routing the messages of one originated attempt.

        Raises:
            ValueError: the attempt id is already registered, or its action or channel id
                already belongs to another attempt (two attempts must never share ids).
        """
        if attempt_id in self._keys:
            raise ValueError(f"attempt {attempt_id!r} is already registered")
        if action_id in self._by_action:
            raise ValueError(
                f"ActionID {action_id!r} already belongs to attempt {self._by_action[action_id]!r}"
            )
        if channel_id in self._by_channel:
            raise ValueError(
                f"ChannelId {channel_id!r} already belongs to attempt {self._by_channel[channel_id]!r}"
            )
        self._keys[attempt_id] = (action_id, channel_id)
        self._by_action[action_id] = attempt_id
        self._by_channel[channel_id] = attempt_id
        self._by_channel[channel_id + LOCAL_HALF_TWO_SUFFIX] = attempt_id

    def forget(self, attempt_id: str) -> None:
        """Stop routing an attempt (after its outcome is final); unknown ids are ignored."""
        keys = self._keys.pop(attempt_id, None)
        if keys is None:
            return
        action_id, channel_id = keys
        self._by_action.pop(action_id, None)
        self._by_channel.pop(channel_id, None)
        self._by_channel.pop(channel_id + LOCAL_HALF_TWO_SUFFIX, None)

    def route(self, msg: AmiMessage) -> str | None:
        """The attempt id ``msg`` belongs to, or None when it is not about our calls."""
        by_channel = self._by_channel
        if not by_channel:
            return None
        action_id = msg.action_id
        if action_id is not None:
            found = self._by_action.get(action_id)
            if found is not None:
                return found
        attempt = msg.get(ATTEMPT_ID_HEADER)
        if attempt is not None and attempt in self._keys:
            return attempt
        for name, value in msg.headers:
            if value and value in by_channel and _is_id_header(name):
                return by_channel[value]
        return None

    def channel_id_of(self, attempt_id: str) -> str | None:
        """The ChannelId an attempt was registered with (None when unknown)."""
        keys = self._keys.get(attempt_id)
        return keys[1] if keys else None

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, attempt_id: object) -> bool:
        return attempt_id in self._keys
