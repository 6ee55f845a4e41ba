"""The programmatic agent interface of one campaign: :class:`AgentDesk` (what the HTTP API exposes).

The desk holds no state of its own. Each request is applied to the campaign's pure
:class:`~dialer.agents.board.AgentBoard` at the runner's current time; the effects the board
returns (queue membership, calls to place, dispositions to write) are handed to ``perform``
(the runner's :class:`~dialer.campaign.agent_effects.AgentEffects`) and awaited before the
request returns, and ``wake`` asks the runner for a decision when the request may free an
agent or ask for a record.

Only a login and a logout wait for the PBX's answer to their queue action (``settle``: the
member is there, or gone, when they return). A pause, a ready and the rest return once the
board changed, their queue action sent after the member's earlier ones: the board is what the
runner dials by, and waiting for the PBX put its round trip, and its queue of originates on
the same AMI connection, into every click (``benchmarks/api.py``: most of an action's time,
p99 ~0.7 s at 100 attempts/s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from dialer.agents.board import AgentBoard
from dialer.agents.state import AgentEffect, AgentState
from dialer.agents.views import AgentView, LogoutCountdown
from dialer.campaign.hopper import Hopper
from dialer.campaign.settings import Disposition
from dialer.clock import Clock
from dialer.model import LeasedContact

__all__ = ["AgentDesk"]


class AgentDesk:
    """The programmatic agent interface of one campaign (what the HTTP API exposes).

    Every method applies the request to the :class:`AgentBoard` at the runner's current time
    and performs the effects (queue membership, calls, dispositions) before returning.

    Args:
        board: the campaign's agent board.
        hopper: the campaign's hopper (where an offered record is held).
        clock: the runner's clock.
        perform: performs the board's effects (on the PBX, the store, the dialler).
        settle: like ``perform``, returning once the PBX answered (login, logout; default: ``perform``).
        resolve_agent: learns the store id of an agent name before the agent logs in.
        wake: asks the runner to decide now.
        home: tells the PBX which server the agent's phone is on (its record's ``server``),
            given the agent name and the interface it logs in on.

    Raises (every method):
        UnknownAgent, IllegalAgentTransition, AgentError: the request does not fit the
            agent's state (for example accepting with no record offered).
    """

    def __init__(
        self,
        *,
        board: AgentBoard,
        hopper: Hopper,
        clock: Clock,
        perform: Callable[[Iterable[AgentEffect]], Awaitable[None]],
        resolve_agent: Callable[[str], Awaitable[None]],
        wake: Callable[[], None],
        settle: Callable[[Iterable[AgentEffect]], Awaitable[None]] | None = None,
        home: Callable[[str, str], None] = lambda agent, interface: None,
    ) -> None:
        self.board = board
        self._home = home
        self._hopper = hopper
        self._clock = clock
        self._perform = perform
        self._settle = settle or perform
        self._resolve_agent = resolve_agent
        self._wake = wake

    async def login(
        self, agent: str, interface: str, *, member_name: str | None = None, paused: bool = False
    ) -> None:
        """Log ``agent`` (the store's agent name) in on ``interface`` (e.g. ``PJSIP/1001``)."""
        await self._resolve_agent(agent)
        self._home(agent, interface)
        now = self._clock.now()
        await self._settle(self.board.login(agent, interface, now, member_name=member_name, paused=paused))
        self._wake()

    async def logout(self, agent: str) -> LogoutCountdown | None:
        """Log out now, or hold the logout until the reserved call is delivered or fails.

        Returns:
            The pending logout (with its remaining time) when it is held, else None.
        """
        await self._settle(self.board.logout(agent, self._clock.now()))
        return (
            self.board.logout_countdown(agent, self._clock.now())
            if self.board.state_of(agent) is not AgentState.LOGGED_OUT
            else None
        )

    def cancel_logout(self, agent: str) -> bool:
        """Withdraw a held logout; False if none was pending."""
        return self.board.cancel_logout(agent)

    def logout_countdown(self, agent: str) -> LogoutCountdown | None:
        """The agent's pending logout and its remaining time, or None."""
        return self.board.logout_countdown(agent, self._clock.now())

    async def pause(self, agent: str, *, reason: str | None = None) -> None:
        """Pause a ready agent now; a busy one when its call (and wrap-up) is over."""
        await self._perform(self.board.pause(agent, self._clock.now(), reason=reason))

    async def unpause(self, agent: str) -> None:
        """Make a paused agent ready; for a busy agent, cancel a held pause."""
        await self._perform(self.board.unpause(agent, self._clock.now()))
        self._wake()

    async def request_record(self, agent: str) -> None:
        """Preview: ask for a record; it is offered on the runner's next decision."""
        await self._perform(self.board.request_record(agent, self._clock.now()))
        self._wake()

    def offered(self, agent: str) -> LeasedContact | None:
        """The record on the agent's screen (preview modes), or None."""
        view = self.board.view(agent, self._clock.now())
        if view.state is not AgentState.OFFERED or not isinstance(view.contact, int):
            return None
        return self._hopper.held(view.contact)

    async def accept(self, agent: str) -> None:
        """Accept the offered record: the call is placed with the agent reserved."""
        await self._perform(self.board.accept(agent, self._clock.now()))

    async def skip(self, agent: str) -> None:
        """Skip the offered record: it goes back to the store undialled."""
        await self._perform(self.board.skip(agent, self._clock.now()))
        self._wake()

    async def set_disposition(self, agent: str, disposition: Disposition) -> None:
        """End the agent's wrap-up with ``disposition`` (written to the store in order)."""
        await self._perform(self.board.set_disposition(agent, self._clock.now(), disposition))
        self._wake()

    def view(self, agent: str) -> AgentView:
        """What the agent's screen shows now."""
        return self.board.view(agent, self._clock.now())

    def views(self) -> list[AgentView]:
        """Every agent's view, now."""
        return self.board.views(self._clock.now())
