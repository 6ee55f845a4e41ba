"""Queues and their members in the simulated PBX (app_queue's view of the agents).

Members are added with QueueAdd on any interface (``PJSIP/...``, ``Local/...``) as the
engine does; a member is *free* when it is unpaused, not in a call and not wrapping up.
Member event headers follow ``queue-member-admin.txt`` and ``queue-status-idle.txt``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# app_queue member Status values (AST_DEVICE_*; transcripts: 1 = not in use, 2 = in use).
DEVICE_NOT_INUSE = 1
DEVICE_INUSE = 2


@dataclass(slots=True)
class SimMember:
    queue: str
    interface: str
    member_name: str
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    membership: str = "dynamic"
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    status: int = DEVICE_NOT_INUSE
    in_call: bool = False
    ringing: bool = False
    wrap_until: float = 0.0
    # talk and wrap-up times this simulated agent uses (set from the simulator's options)
    ring_s: float = 1.0
    wrapup_s: float = 0.0

    def headers(self, *, with_ringinuse: bool = True) -> list[tuple[str, str]]:
        h = [
            ("Queue", self.queue),
            ("MemberName", self.member_name),
            ("Interface", self.interface),
            ("StateInterface", self.interface),
            ("Membership", self.membership),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls_taken)),
            ("LastCall", str(self.last_call)),
            ("LastPause", str(self.last_pause)),
            ("LoginTime", str(self.login_time)),
            ("InCall", "1" if self.in_call else "0"),
            ("Status", str(self.status)),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
        ]
        if with_ringinuse:
            h += [("Ringinuse", "0"), ("Wrapuptime", "0")]
        else:
            h += [("Wrapuptime", "0")]
        return h

    def status_entry_headers(self) -> list[tuple[str, str]]:
        """A QueueStatus ``QueueMember`` event body (Name/Location instead of MemberName/Interface)."""
        return [
            ("Queue", self.queue),
            ("Name", self.member_name),
            ("Location", self.interface),
            ("StateInterface", self.interface),
            ("Membership", self.membership),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls_taken)),
            ("LastCall", str(self.last_call)),
            ("LastPause", str(self.last_pause)),
            ("LoginTime", str(self.login_time)),
            ("InCall", "1" if self.in_call else "0"),
            ("Status", str(self.status)),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
            ("Wrapuptime", "0"),
        ]


@dataclass(slots=True)
class SimQueue:
    name: str
    members: dict[str, SimMember] = field(default_factory=dict)
    # callers in arrival order (SimCall objects; typed loosely to keep this module standalone)
    callers: list[object] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0
    talk_time_total: int = 0
    rr_next: int = 0

    def free_member(self, now: float) -> SimMember | None:
        """The next free member, round-robin like ``strategy = rrmemory``."""
        members = list(self.members.values())
        n = len(members)
        for i in range(n):
            m = members[(self.rr_next + i) % n]
            if not m.paused and not m.in_call and not m.ringing and m.wrap_until <= now:
                self.rr_next = (self.rr_next + i + 1) % n
                return m
        return None

    def params_headers(self) -> list[tuple[str, str]]:
        avg_talk = self.talk_time_total // self.completed if self.completed else 0
        return [
            ("Queue", self.name),
            ("Max", "0"),
            ("Strategy", "rrmemory"),
            ("Calls", str(len(self.callers))),
            ("Holdtime", "0"),
            ("TalkTime", str(avg_talk)),
            ("Completed", str(self.completed)),
            ("Abandoned", str(self.abandoned)),
            ("ServiceLevel", "0"),
            ("ServicelevelPerf", "0.0"),
            ("ServicelevelPerf2", "0.0"),
            ("Weight", "0"),
        ]

    def summary_headers(self, now: float) -> list[tuple[str, str]]:
        logged_in = len(self.members)
        available = sum(1 for m in self.members.values() if not m.paused and not m.in_call)
        avg_talk = self.talk_time_total // self.completed if self.completed else 0
        return [
            ("Queue", self.name),
            ("LoggedIn", str(logged_in)),
            ("Available", str(available)),
            ("Callers", str(len(self.callers))),
            ("HoldTime", "0"),
            ("TalkTime", str(avg_talk)),
            ("LongestHoldTime", "0"),
        ]
