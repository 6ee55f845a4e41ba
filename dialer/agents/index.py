"""The board's agents filed by what the runner's decision asks, kept current as each agent changes.

Theory of operation (issue 18 item 2): the decision runs on every wake-up of the runner, many
times a second; scanning every agent, building a view of each and sorting them on each pass
cost more than the pacing policy itself with 100 agents. :class:`AgentIndex` instead files
each agent under the keys the decision reads -- its state's count, the free agents by idle
time, the agents asking for a record, the talking and wrapping agents (by id, the order the
views had, so the pacing policy's sums are the same to the last bit), and the offer and
wrap-up deadlines -- and re-files an agent whenever one of the fields those keys come from
changes. :class:`~dialer.agents.entry.AgentEntry` calls :meth:`AgentIndex.refile` from its
``__setattr__`` for the fields in :data:`INDEXED_FIELDS`, so no step of the board can change
an agent without the index following: the property tests compare the index with a scan of
the roster after random event sequences.

Each ordered set is a sorted list of unique ``(key, agent id)`` tuples changed with
:mod:`bisect`: a memmove per change, fine for the thousands of agents a campaign has.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ami.agent_events import DeviceState
from dialer.agents.state import AgentState

if TYPE_CHECKING:
    from dialer.agents.entry import AgentEntry

__all__ = ["DEVICE_CANNOT_TAKE", "INDEXED_FIELDS", "AgentIndex", "BoardLoad"]

# Device states in which a ready member's phone cannot take a call we would reserve it for
# (Asterisk's enum ast_device_state): on another call, ringing, on hold, or not registered.
# UNKNOWN is not among them: some channel drivers never report a state.
DEVICE_CANNOT_TAKE = frozenset(
    {
        DeviceState.INUSE,
        DeviceState.BUSY,
        DeviceState.RINGING,
        DeviceState.RINGINUSE,
        DeviceState.ONHOLD,
        DeviceState.UNAVAILABLE,
        DeviceState.INVALID,
    }
)

# The AgentEntry fields the index's keys are made of: setting one re-files the agent.
INDEXED_FIELDS = frozenset(
    {
        "state",
        "since_at",
        "device",
        "record_requested_at",
        "offer_deadline_at",
        "wrap_deadline_at",
        "elsewhere",
    }
)

_Key = tuple[float, str]
_TALKING, _WRAP_UP = AgentState.TALKING, AgentState.WRAP_UP
_Busy = tuple[str, float]


@dataclass(frozen=True, slots=True)
class BoardLoad:
    """What the pacing snapshot needs of the agents at one instant (see :meth:`AgentIndex.load`)."""

    talking_elapsed_s: tuple[float, ...]  # per talking agent, by agent id
    wrapping_elapsed_s: tuple[float, ...]  # per agent in wrap-up, by agent id
    reserved: int  # reserved or offered
    paused: int
    record_requests: int  # ready agents who asked for a record


@dataclass(frozen=True, slots=True)
class _Filing:
    """Where one agent is filed; equal filings mean nothing to move."""

    state: AgentState
    free: _Key | None
    asking: _Key | None
    busy: _Busy | None  # in the talking or the wrapping list, by state
    deadline: _Key | None


def _filing(agent: AgentEntry) -> _Filing:
    state, aid = agent.state, agent.agent_id
    free = asking = busy = deadline = None
    if state is AgentState.READY and not agent.elsewhere:
        if agent.device not in DEVICE_CANNOT_TAKE:
            free = (agent.since_at, aid)
        if agent.record_requested_at is not None:
            asking = (agent.record_requested_at, aid)
    elif state is AgentState.TALKING:
        busy = (aid, agent.since_at)
    elif state is AgentState.WRAP_UP:
        busy = (aid, agent.since_at)
        if agent.wrap_deadline_at is not None:
            deadline = (agent.wrap_deadline_at, aid)
    elif state is AgentState.OFFERED and agent.offer_deadline_at is not None:
        deadline = (agent.offer_deadline_at, aid)
    return _Filing(state, free, asking, busy, deadline)


def _deadline_of(key: _Key) -> float:
    return key[0]


def _remove(items: list, key: object) -> None:
    del items[bisect_left(items, key)]


class AgentIndex:
    """Every agent of one roster filed by state, idleness, record requests and deadlines."""

    def __init__(self) -> None:
        self._filed: dict[str, _Filing] = {}
        self.counts: dict[AgentState, int] = dict.fromkeys(AgentState, 0)
        self.free: list[_Key] = []  # (since_at, id): ready, phone free; longest idle first
        self.asking: list[_Key] = []  # (record_requested_at, id): ready, asked for a record
        self.deadlines: list[_Key] = []  # (offer or wrap-up deadline, id), earliest first
        self._busy: dict[AgentState, list[_Busy]] = {AgentState.TALKING: [], AgentState.WRAP_UP: []}

    def refile(self, agent: AgentEntry) -> None:
        """File ``agent`` again after a change (cheap when nothing the index keys on moved)."""
        new = _filing(agent)
        old = self._filed.get(agent.agent_id)
        if new == old:
            return
        self._filed[agent.agent_id] = new
        if old is not None:
            self.counts[old.state] -= 1
            for items, key in self._lists(old):
                _remove(items, key)
        self.counts[new.state] += 1
        for items, key in self._lists(new):
            insort(items, key)

    def _lists(self, f: _Filing) -> list[tuple[list, object]]:
        out: list[tuple[list, object]] = []
        if f.free is not None:
            out.append((self.free, f.free))
        if f.asking is not None:
            out.append((self.asking, f.asking))
        if f.busy is not None:
            out.append((self._busy[f.state], f.busy))
        if f.deadline is not None:
            out.append((self.deadlines, f.deadline))
        return out

    def due(self, now_s: float) -> list[_Key]:
        """The deadlines reached by ``now_s``, earliest first (ties by agent id)."""
        items = self.deadlines
        if not items or items[0][0] > now_s:
            return []
        return items[: bisect_right(items, now_s, key=_deadline_of)]

    def load(self, now_s: float) -> BoardLoad:
        """Talk and wrap-up elapsed times and the counts the pacing policy reads."""
        c = self.counts
        # ``d if d > 0.0 else 0.0`` is ``max(0.0, d)`` to the bit (NaN too) without a call per agent
        return BoardLoad(
            talking_elapsed_s=tuple([d if (d := now_s - s) > 0.0 else 0.0 for _, s in self._busy[_TALKING]]),
            wrapping_elapsed_s=tuple([d if (d := now_s - s) > 0.0 else 0.0 for _, s in self._busy[_WRAP_UP]]),
            reserved=c[AgentState.RESERVED] + c[AgentState.OFFERED],
            paused=c[AgentState.PAUSED],
            record_requests=len(self.asking),
        )
