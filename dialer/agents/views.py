"""What the board hands out about an agent: frozen snapshots for the runner, the pacer and agent UIs.

:meth:`~dialer.agents.board.AgentBoard.view` and
:meth:`~dialer.agents.board.AgentBoard.logout_countdown` build them from the board's mutable
:class:`~dialer.agents.entry.AgentEntry` at one instant; holding one never changes the board.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from ami.agent_events import DeviceState
from dialer.agents.state import AgentState, ReservationKind

__all__ = ["AgentView", "LogoutCountdown"]

@dataclass(frozen=True, slots=True)
class LogoutCountdown:
    """A held (negotiated) logout, for an agent UI's countdown.

    ``deadline_at``/``remaining_s`` bound when the logout completes at the latest; both are
    None while the agent is talking (the call lasts as long as it lasts; wrap-up then adds at
    most the disposition timeout).
    """

    agent_id: str
    requested_at: float
    waiting_for: AgentState
    deadline_at: float | None
    remaining_s: float | None


@dataclass(frozen=True, slots=True)
class AgentView:
    """One agent at one instant: state, time in it, the call it is busy with, held requests."""

    agent_id: str
    interface: str
    state: AgentState
    since_at: float
    in_state_s: float
    kind: ReservationKind | None  # the call the agent is busy with
    contact: Hashable | None
    attempt_id: str | None
    pending_logout: LogoutCountdown | None
    pending_pause: bool
    pause_reason: str | None
    device: DeviceState  # the member's device state as the PBX last reported it
