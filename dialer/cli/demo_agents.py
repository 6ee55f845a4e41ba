"""The demo's simulated agents: people who log in through the runner's agent interface.

They use :class:`~dialer.campaign.desk.AgentDesk`, the interface the HTTP API exposes, so the
demo exercises the real agent path: they read an offered record for a while before accepting
it (preview modes), talk until the simulated customer hangs up, wrap up, and set a
disposition drawn from :data:`AGENT_DISPOSITIONS`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import numpy as np
import structlog

from dialer.agents.state import AgentState
from dialer.errors import DialerError

log = structlog.get_logger(__name__)

# What the simulated agents decide after a call (status name, share): the seeds' typical sales
# outcomes; "Oddzwonić" books a personal callback for the next day.
AGENT_DISPOSITIONS = (("Nie zainteresowany", 0.6), ("Sprzedane", 0.25), ("Oddzwonić", 0.15))
# Simulated seconds an agent spends in wrap-up before setting the disposition.
AGENT_WRAP_S = 10.0
# Simulated seconds an agent reads an offered record (preview, push-preview) before accepting:
# 40 s, two real seconds at the default time scale, so the preview modes visibly differ from
# progressive (issue 16: accepting at once made them look the same).
AGENT_REVIEW_S = 40.0


class SimulatedAgents:
    """Agents who log in through the runner's agent interface and behave like people.

    They accept every record offered (preview modes ask for one whenever they are free),
    talk until the simulated customer hangs up, spend ``wrap_s`` real seconds in wrap-up and
    set one of :data:`AGENT_DISPOSITIONS` (drawn from ``rng``). Their time in each state is
    integrated for the summary's talk share.

    Args:
        desk: the campaign runner's :class:`~dialer.campaign.desk.AgentDesk`.
        agents: (name, interface) pairs; names are store agent names.
        rng: the disposition draw (NEP 19: injected, seeded).
        wrap_s: real seconds of wrap-up.
        review_s: real seconds an offered record is read before it is accepted.
        request_records: preview: ask for a record whenever ready.
    """

    def __init__(
        self,
        desk: Any,
        agents: list[tuple[str, str]],
        *,
        rng: np.random.Generator,
        wrap_s: float,
        review_s: float = 0.0,
        request_records: bool = False,
        poll_s: float = 0.02,
    ) -> None:
        self._desk = desk
        self._agents = agents
        self._names = {name for name, _ in agents}
        self._rng = rng
        self._wrap_s = wrap_s
        self._review_s = review_s
        self._offered_at: dict[str, float] = {}
        self._request = request_records
        self._poll_s = poll_s
        self._wrap_started: dict[str, float] = {}
        self._requested: set[str] = set()
        self.dispositions: dict[str, int] = {}
        self.state_s: dict[str, float] = {}
        self.logged_in_s = 0.0
        self.talking_s = 0.0

    async def login_all(self) -> None:
        for name, interface in self._agents:
            await self._desk.login(name, interface, member_name=name)

    @property
    def talk_share(self) -> float:
        return self.talking_s / self.logged_in_s if self.logged_in_s else 0.0

    def _disposition(self) -> Any:
        from dialer.campaign.settings import Disposition

        names = [n for n, _ in AGENT_DISPOSITIONS]
        shares = np.array([p for _, p in AGENT_DISPOSITIONS])
        status = names[int(self._rng.choice(len(names), p=shares / shares.sum()))]
        self.dispositions[status] = self.dispositions.get(status, 0) + 1
        if status == "Oddzwonić":
            return Disposition(status, callback_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        return Disposition(status)

    async def run(self) -> None:
        """Act until cancelled."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self._poll_s)
            now = loop.time()
            elapsed, last = now - last, now
            for view in self._desk.views():
                if view.agent_id not in self._names:
                    continue  # a person logged in through the API acts for themselves
                state = view.state
                self.state_s[state.value] = self.state_s.get(state.value, 0.0) + elapsed
                if state is not AgentState.LOGGED_OUT:
                    self.logged_in_s += elapsed
                if state is AgentState.TALKING:
                    self.talking_s += elapsed
                try:
                    await self._act(view.agent_id, state, now)
                except DialerError as err:  # the state moved under us (a call ended, a timeout)
                    log.debug("demo_agent_action_refused", agent=view.agent_id, error=str(err))

    async def _act(self, agent: str, state: AgentState, now: float) -> None:
        if state is not AgentState.WRAP_UP:
            self._wrap_started.pop(agent, None)
        if state is not AgentState.READY:
            self._requested.discard(agent)
        if state is not AgentState.OFFERED:
            self._offered_at.pop(agent, None)
        if state is AgentState.WRAP_UP:
            started = self._wrap_started.setdefault(agent, now)
            if now - started >= self._wrap_s:
                self._wrap_started.pop(agent, None)
                await self._desk.set_disposition(agent, self._disposition())
        elif state is AgentState.OFFERED:
            if now - self._offered_at.setdefault(agent, now) >= self._review_s:
                self._offered_at.pop(agent, None)
                await self._desk.accept(agent)
        elif state is AgentState.READY and self._request and agent not in self._requested:
            self._requested.add(agent)
            await self._desk.request_record(agent)
