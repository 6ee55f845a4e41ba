"""Simulated channels and the header blocks Asterisk 22 attaches to channel events.

Every channel event (Newchannel, Newstate, Hangup, QueueCallerJoin, UserEvent, ...) carries
the same block of channel headers, and Dial*/Agent* events repeat it with a ``Dest`` prefix
for the called channel. The header names and their order are copied from the captures in
``shared/ami-transcripts/`` (e.g. ``originate-answer-agent.txt``), so a client that parses
real Asterisk parses the simulator the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

# ChannelState codes and descriptions (Asterisk include/asterisk/channelstate.h; the
# transcripts show 0 Down, 4 Ring, 5 Ringing, 6 Up, 7 Busy).
STATE_DOWN = 0
STATE_RING = 4
STATE_RINGING = 5
STATE_UP = 6
STATE_BUSY = 7
STATE_DESC = {0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}

# Q.850 cause texts exactly as Asterisk prints them in Hangup's Cause-txt (transcripts).
CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
    38: "Network out of order",
}

UNKNOWN = "<unknown>"

Headers = list[tuple[str, str]]


@dataclass(slots=True)
class SimChannel:
    """One simulated channel; mutable because a live channel changes state and dialplan place."""

    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    state: int = STATE_DOWN
    priority: int = 1
    cid_num: str = UNKNOWN
    cid_name: str = UNKNOWN
    conn_num: str = UNKNOWN
    conn_name: str = UNKNOWN
    application: str = ""
    application_data: str = ""
    bridge_id: str = ""
    created_at: float = 0.0
    up: bool = True

    def headers(self, prefix: str = "") -> Headers:
        """The channel block (``prefix="Dest"`` for the called side of Dial*/Agent* events)."""
        p = prefix
        return [
            (f"{p}Channel", self.name),
            (f"{p}ChannelState", str(self.state)),
            (f"{p}ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            (f"{p}CallerIDNum", self.cid_num),
            (f"{p}CallerIDName", self.cid_name),
            (f"{p}ConnectedLineNum", self.conn_num),
            (f"{p}ConnectedLineName", self.conn_name),
            (f"{p}Language", "en"),
            (f"{p}AccountCode", ""),
            (f"{p}Context", self.context),
            (f"{p}Exten", self.exten),
            (f"{p}Priority", str(self.priority)),
            (f"{p}Uniqueid", self.uniqueid),
            (f"{p}Linkedid", self.linkedid),
        ]

    def local_headers(self, which: str) -> Headers:
        """The ``LocalOne*``/``LocalTwo*`` block of a LocalBridge event."""
        return [(f"Local{which}{k}", v) for k, v in self.headers()]

    @property
    def device(self) -> str:
        """Device name for DeviceStateChange: the channel name without its ``-0000000a;1`` tail."""
        base = self.name.split(";", 1)[0]
        head, _, tail = base.rpartition("-")
        return head if head and len(tail) == 8 else base
