"""Which agent takes which due callback, before any fresh record.

Theory of operation: a *personal* callback ("my record", shared/seeds/004; Genesys "private
callback", seeds/003) goes only to the agent who set it; a *campaign* callback goes to any agent
of the campaign. :func:`route_callbacks` looks at the due callbacks and the board and decides,
without changing anything:

* personal, its agent free -> :class:`AssignCallback` to that agent;
* personal, its agent logged in and busy with a call -> wait (the agent frees up within one
  call and wrap-up);
* personal, its agent away (logged out, paused, logging out, phone unregistered) -> wait until
  ``due_at + grace_s``, then :class:`ConvertToCampaignCallback` (and, as a campaign callback,
  it may be assigned in the same pass);
* campaign -> the longest-idle free agent not already given one, earliest due first.

The free agents left over are returned in order for fresh records: callbacks come first. The
runner reserves each assigned agent (:meth:`~dialer.agents.board.AgentBoard.reserve` with the
callback kind — the call is dialled progressively, with the agent held), or offers the record
in a preview campaign; :func:`dispatch` does the reservations for the progressive case.

Pure: no clock; ``now_s`` is passed in.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from dialer.agents.board import AgentBoard
from dialer.agents.state import AgentEffect, ReservationKind
from dialer.errors import ValidationError

# The default grace before a personal callback whose agent is away goes to the whole
# campaign. Our judgement (issue 5 says "a configurable grace"): long enough to cover a break.
DEFAULT_GRACE_S = 15 * 60.0


@dataclass(frozen=True, slots=True)
class DueCallback:
    """A callback whose time has come. ``agent_id`` set = personal, None = campaign."""

    contact: Hashable
    due_at: float
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class AssignCallback:
    agent_id: str
    contact: Hashable
    kind: ReservationKind  # PERSONAL_CALLBACK or CAMPAIGN_CALLBACK


@dataclass(frozen=True, slots=True)
class ConvertToCampaignCallback:
    """Write to the store: the personal callback of ``agent_id`` is now any agent's."""

    contact: Hashable
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class WaitForAgent:
    contact: Hashable
    agent_id: str
    until_at: float | None  # when it converts (None: the agent is busy, it just waits)


@dataclass(frozen=True, slots=True)
class CallbackPlan:
    assignments: tuple[AssignCallback, ...]
    conversions: tuple[ConvertToCampaignCallback, ...]
    waiting: tuple[WaitForAgent, ...]
    unassigned: tuple[DueCallback, ...]  # campaign callbacks with no free agent this pass
    free_for_fresh: tuple[str, ...]  # free agents left for fresh records, longest-idle first


def route_callbacks(
    due: Sequence[DueCallback], board: AgentBoard, now_s: float, *, grace_s: float = DEFAULT_GRACE_S
) -> CallbackPlan:
    """Decide the due callbacks' agents (see the module docstring).

    Raises:
        ValidationError: ``grace_s`` is negative.
    """
    if grace_s < 0:
        raise ValidationError("grace_s", "must not be negative", grace_s)
    free = board.free_agents()  # ready and the phone free, longest-idle first
    taken: set[str] = set()
    assignments: list[AssignCallback] = []
    conversions: list[ConvertToCampaignCallback] = []
    waiting: list[WaitForAgent] = []
    campaign: list[DueCallback] = []
    ordered = sorted(due, key=lambda c: c.due_at)
    for cb in ordered:
        if cb.agent_id is None:
            campaign.append(cb)
            continue
        state = board.state_of(cb.agent_id)
        if cb.agent_id in free and cb.agent_id not in taken:
            taken.add(cb.agent_id)
            assignments.append(AssignCallback(cb.agent_id, cb.contact, ReservationKind.PERSONAL_CALLBACK))
        elif not board.is_away(cb.agent_id):
            waiting.append(WaitForAgent(cb.contact, cb.agent_id, None))
        elif now_s >= cb.due_at + grace_s:
            conversions.append(
                ConvertToCampaignCallback(cb.contact, cb.agent_id, f"agent {state.value} past the grace")
            )
            campaign.append(DueCallback(cb.contact, cb.due_at, None))
        else:
            waiting.append(WaitForAgent(cb.contact, cb.agent_id, cb.due_at + grace_s))
    campaign.sort(key=lambda c: c.due_at)
    spare = [a for a in free if a not in taken]
    unassigned: list[DueCallback] = []
    for cb in campaign:
        if not spare:
            unassigned.append(cb)
            continue
        agent_id = spare.pop(0)
        taken.add(agent_id)
        assignments.append(AssignCallback(agent_id, cb.contact, ReservationKind.CAMPAIGN_CALLBACK))
    return CallbackPlan(
        tuple(assignments),
        tuple(conversions),
        tuple(waiting),
        tuple(unassigned),
        tuple(a for a in free if a not in taken),
    )


def dispatch(plan: CallbackPlan, board: AgentBoard, at_s: float) -> list[AgentEffect]:
    """Reserve every assigned agent for its callback: ``PlaceCall`` effects, progressive style."""
    effects: list[AgentEffect] = []
    for a in plan.assignments:
        effects += board.reserve(a.agent_id, a.contact, at_s, a.kind)
    return effects
