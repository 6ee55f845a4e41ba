"""The human seat of ``dialer demo``: a person in the browser beside the simulated agents.

Before the run, the demo adds the agent ``you`` (on a simulated phone, ``Local/you@sim-agents``)
to its campaign and makes two users with passwords drawn for this run only: ``you`` (that
agent) and ``supervisor`` (the wallboard). The console's address and both logins are printed;
when the run ends both users are removed, so a login never outlives its run. The simulated
agents leave ``you`` alone: they act only for their own names.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from dialer.api.passwords import hash_password
from dialer.errors import NotFound, ValidationError
from dialer.store.store import Store
from dialer.store.users import Role

__all__ = ["SEAT_AGENT", "SEAT_SUPERVISOR", "Seat", "close_seat", "open_seat", "seat_lines"]

SEAT_AGENT = "you"
SEAT_SUPERVISOR = "supervisor"
SEAT_INTERFACE = f"Local/{SEAT_AGENT}@sim-agents"  # the simulated PBX answers any member's device


@dataclass(frozen=True, slots=True)
class Seat:
    """The two one-run logins."""

    agent_password: str
    supervisor_password: str


async def open_seat(store: Store, campaign: str) -> Seat:
    """The seat's agent in ``campaign`` and fresh users for it and for the wallboard."""
    with contextlib.suppress(ValidationError):  # made by an earlier run
        await store.create_agent(SEAT_AGENT, SEAT_INTERFACE)
    if SEAT_AGENT not in {a.name for a in await store.campaign_agents(campaign)}:
        await store.assign_agent(campaign, SEAT_AGENT)
    await close_seat(store)  # an earlier run killed before it could remove them
    seat = Seat(secrets.token_urlsafe(9), secrets.token_urlsafe(9))
    await store.create_user(SEAT_AGENT, Role.AGENT, hash_password(seat.agent_password), agent=SEAT_AGENT)
    await store.create_user(SEAT_SUPERVISOR, Role.SUPERVISOR, hash_password(seat.supervisor_password))
    return seat


async def close_seat(store: Store) -> None:
    """Remove the seat's users (their tokens go with them); the agent row stays for the history."""
    for name in (SEAT_AGENT, SEAT_SUPERVISOR):
        with contextlib.suppress(NotFound):
            await store.remove_user(name)


def seat_lines(host: str, port: int, seat: Seat) -> list[str]:
    """What the demo prints for the person at the browser."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return [
        f"console on http://{shown}:{port}/ (logins valid for this run only)",
        f"  agent seat: user {SEAT_AGENT}, password {seat.agent_password}"
        " - log in to your campaigns, press Ready and take calls",
        f"  wallboard:  user {SEAT_SUPERVISOR}, password {seat.supervisor_password}",
    ]
