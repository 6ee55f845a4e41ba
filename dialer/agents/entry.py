"""The board's mutable record of one agent: state, the call it holds, held requests, the PBX's member.

:class:`AgentEntry` is what :class:`~dialer.agents.roster.Roster` keeps per agent and what the
steps of :mod:`~dialer.agents.roster`, :mod:`~dialer.agents.membership` and
:mod:`~dialer.agents.pbx_feed` read and write. Nothing outside ``dialer.agents`` sees it: the
board hands out frozen :class:`~dialer.agents.views.AgentView` snapshots instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

from ami.agent_events import DeviceState, MemberChange
from dialer.agents.index import INDEXED_FIELDS, AgentIndex
from dialer.agents.state import AgentState, ReservationKind

__all__ = ["AgentEntry", "HeldCall", "MemberEcho"]


@dataclass(slots=True)
class HeldCall:
    """The one call an agent is busy with (reserved, offered, talking or in wrap-up)."""

    kind: ReservationKind
    contact: Hashable | None
    attempt_id: str | None
    started_at: float
    # The PBX says a call is over twice, in either order: AgentComplete (the queue) and the
    # attempt's Ended (our outcome machine). What was seen tells, when the wrap-up ends early,
    # which of the two is still to come (:meth:`Roster.end_wrap_up`).
    ended: bool = False  # the attempt's Ended
    completed: bool = False  # the queue's AgentComplete


@dataclass(slots=True)
class MemberEcho:
    """A member event our own queue action will cause, expected so it can be ignored."""

    change: MemberChange
    paused: bool | None  # for PAUSE echoes
    at_s: float


@dataclass(slots=True)
class AgentEntry:
    """One agent of the board; its ``state`` is assigned only by :meth:`Roster.step`.

    ``index``: the roster's :class:`~dialer.agents.index.AgentIndex`, told of every change to
    a field it files agents by (:data:`~dialer.agents.index.INDEXED_FIELDS`) by
    :meth:`__setattr__`, so that no step can leave the index behind.
    """

    agent_id: str
    interface: str
    member_name: str | None
    state: AgentState = AgentState.LOGGED_OUT
    since_at: float = 0.0
    free_since_at: float = 0.0  # when the agent last became ready
    call: HeldCall | None = None
    offer_deadline_at: float | None = None
    wrap_deadline_at: float | None = None
    logout_requested_at: float | None = None
    logout_reason: str | None = None
    member_gone: bool = False  # the PBX removed the member: no QueueRemove at logout
    pending_pause: str | None = None  # the reason of a held pause
    pause_reason: str | None = None
    record_requested_at: float | None = None
    # The other campaigns of this engine where the agent is busy now (reserved, offered,
    # talking, wrap-up): a ready agent busy elsewhere is not free here, and its member here is
    # paused, so that two campaigns never hand one person two calls (dialer.campaign.presence).
    elsewhere: frozenset[str] = frozenset()
    # The wrap-up of the last call ended before the queue's AgentComplete for it came: that
    # AgentComplete, when it comes to an idle agent, is the old call's, not news.
    complete_due: bool = False
    # What we believe the PBX has for this member.
    member: bool = False
    member_paused: bool = False
    member_reason: str | None = None
    device: DeviceState = DeviceState.UNKNOWN  # the member's device, from the last member event
    echoes: deque[MemberEcho] = field(default_factory=deque)
    index: AgentIndex | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in INDEXED_FIELDS:
            try:
                index = self.index
            except AttributeError:  # still in __init__: filed once the roster hands it the index
                return
            if index is not None:
                index.refile(self)
