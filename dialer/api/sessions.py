"""Agents logged in through the API, kept logged in to their campaigns: :class:`AgentSessions`.

Why a session outlives one request: an agent logs in to *campaigns*, but the engine runs a
campaign only while it is running and its schedule is open, with a new runner (and a new,
empty agent board) each time it starts. The session remembers the login (interface, the
campaigns, whether it is logging out) and :meth:`AgentSessions.sync`, called every engine
tick by the API server, logs the agent in to each runner of those campaigns that started
since, once per runner, as ``engine.autologin_agents`` does for unattended set-ups. A
negotiated logout marks the session, so a campaign starting meanwhile is not joined; the
session ends when every board has let the agent go.

What the agent is doing is never stored here: each runner's :class:`~dialer.agents.board.AgentBoard`
is the only truth, read through the runner's :class:`~dialer.campaign.desk.AgentDesk`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import structlog

from dialer.agents.state import AgentState
from dialer.campaign.engine import Engine
from dialer.campaign.runner import CampaignRunner
from dialer.errors import DialerError, IllegalAgentTransition

log = structlog.get_logger(__name__)

__all__ = ["AgentSession", "AgentSessions"]


@dataclass(slots=True)
class AgentSession:
    agent: str
    interface: str
    campaigns: tuple[str, ...]
    paused: bool = False
    pause_reason: str | None = None
    logging_out: bool = False
    joined: weakref.WeakSet[CampaignRunner] = field(default_factory=weakref.WeakSet)


class AgentSessions:
    """The API's agent logins (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions: dict[str, AgentSession] = {}

    def get(self, agent: str) -> AgentSession | None:
        return self._sessions.get(agent)

    def runners_of(self, agent: str) -> list[CampaignRunner]:
        """The running campaigns ``agent`` is logged in to now (by the API or otherwise)."""
        return [r for r in self._engine.runners() if r.board.state_of(agent) is not AgentState.LOGGED_OUT]

    def waiting_campaigns(self, agent: str) -> list[str]:
        """Campaigns of the agent's login that are not running here now."""
        session = self._sessions.get(agent)
        if session is None or session.logging_out:
            return []
        return [c for c in session.campaigns if self._engine.runner(c) is None]

    async def login(self, session: AgentSession) -> None:
        """Start (or replace) ``session`` and join the runners of its campaigns that run now.

        Raises:
            AgentError: a board refused (another logged-in agent uses the interface).
        """
        old = self._sessions.get(session.agent)
        if old is not None:
            session.joined = old.joined
        self._sessions[session.agent] = session
        for name in session.campaigns:
            runner = self._engine.runner(name)
            if runner is not None:
                await self._join(session, runner, quiet=False)

    def start_logout(self, agent: str) -> None:
        session = self._sessions.get(agent)
        if session is not None:
            session.logging_out = True

    def cancel_logout(self, agent: str) -> None:
        session = self._sessions.get(agent)
        if session is not None:
            session.logging_out = False

    def set_paused(self, agent: str, paused: bool, reason: str | None = None) -> None:
        """Remembered so that a campaign joined later starts in the same pause."""
        session = self._sessions.get(agent)
        if session is not None:
            session.paused, session.pause_reason = paused, reason if paused else None

    async def sync(self) -> None:
        """Join runners started since; end sessions whose logout every board has granted."""
        for session in list(self._sessions.values()):
            if session.logging_out:
                if not self.runners_of(session.agent):
                    self._sessions.pop(session.agent, None)
                    log.info("api_agent_logged_out", agent=session.agent)
                continue
            for name in session.campaigns:
                runner = self._engine.runner(name)
                if runner is not None and runner not in session.joined:
                    await self._join(session, runner, quiet=True)

    async def _join(self, session: AgentSession, runner: CampaignRunner, *, quiet: bool) -> None:
        session.joined.add(runner)
        if runner.board.state_of(session.agent) is not AgentState.LOGGED_OUT:
            return  # already in (autologin, an earlier request): logging in again is a no-op
        try:
            await runner.agents.login(
                session.agent,
                session.interface,
                member_name=session.agent,
                paused=session.paused,
            )
            if session.paused and session.pause_reason:
                await runner.agents.pause(session.agent, reason=session.pause_reason)
        except IllegalAgentTransition:
            return
        except DialerError as err:
            if not quiet:
                raise
            log.warning(
                "api_agent_join_refused", agent=session.agent, campaign=runner.campaign.name, error=str(err)
            )
