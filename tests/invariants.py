"""The fault invariants (issue 19), checked after every fault test and by the soak benchmark.

Whatever was injected (drops, restarts, garbage, slow responses, a database outage, a kill),
once things settle:

1. **no open attempt without a live channel**: an attempt row still open (``ended_at`` NULL,
   handed over or not) names a call the PBX still has (a channel whose Uniqueid or Linkedid
   is the attempt's ``dlr-<id>`` tag);
2. **no lease held by a call that does not exist**: a leased contact is leased for a live
   call of its own, for an agent's pending disposition (its latest attempt answered, no
   status yet), or by an engine that is running now (its hopper);
3. **agent state on the PBX equals the engine's**: for every agent on an engine's board, the
   queue member exists exactly when the board wants it and is paused exactly when the board
   wants it paused (a talking agent too: paused, so that its call's end races no queue call);
4. (AMI level) every call an AMI client follows is up on the PBX.

Each check returns the violations as readable strings (empty: the invariant holds);
:func:`assert_settled` polls until they are gone or a deadline passes, because a correct
engine converges (a Hangup in flight, a QueuePause echo) and a broken one does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import asyncpg

from ami.client import AmiClient
from ami.simulator.server import SimulatedPbx
from dialer.agents.board import AgentBoard
from dialer.agents.membership import _desired_member

TAG = "dlr-"


def live_tags(sim: SimulatedPbx) -> set[str]:
    """Every ``dlr-<id>`` tag a channel on the simulated PBX carries (Uniqueid or Linkedid)."""
    tags = set()
    for ch in sim.channels.values():
        for value in (ch.uniqueid.split(";")[0], ch.linkedid):
            if value.startswith(TAG):
                tags.add(value)
    return tags


def followed_without_channel(sim: SimulatedPbx, clients: Iterable[AmiClient]) -> list[str]:
    """Invariant 4: calls an AMI client follows that the PBX no longer has."""
    live = live_tags(sim)
    return [
        f"{c.name}: attempt {a} followed with no channel on the PBX"
        for c in clients
        for a in c._machines
        if f"{TAG}{a}" not in live
    ]


async def store_violations(dsn: str, sim: SimulatedPbx, *, running: Iterable[str] = ()) -> list[str]:
    """Invariants 1 and 2 over the whole database (``running``: engine ids running now)."""
    live = live_tags(sim)
    conn = await asyncpg.connect(dsn)
    try:
        open_rows = await conn.fetch(
            "SELECT id, contact_id, engine_id, handed_over_at FROM attempts WHERE ended_at IS NULL"
        )
        leased = await conn.fetch(
            """SELECT c.id, c.lease_owner,
                      (SELECT a.outcome = 'answered' AND a.status_id IS NULL FROM attempts a
                        WHERE a.contact_id = c.id ORDER BY a.id DESC LIMIT 1) AS awaiting
               FROM contacts c WHERE c.lease_owner IS NOT NULL"""
        )
    finally:
        await conn.close()
    found = [
        f"attempt {r['id']} (engine {r['engine_id']}, handed over {r['handed_over_at'] is not None})"
        " is open with no live channel"
        for r in open_rows
        if f"{TAG}{r['id']}" not in live
    ]
    live_contacts = {r["contact_id"] for r in open_rows if f"{TAG}{r['id']}" in live}
    running_ids = set(running)
    found += [
        f"contact {r['id']} leased by {r['lease_owner']} for no live call"
        for r in leased
        if r["id"] not in live_contacts and not r["awaiting"] and r["lease_owner"] not in running_ids
    ]
    return found


def agent_violations(sim: SimulatedPbx, board: AgentBoard, queue: str) -> list[str]:
    """Invariant 3: the PBX's queue members as the board wants them."""
    members = sim.queues[queue].members if queue in sim.queues else {}
    found = []
    for agent in board._roster.agents.values():
        want_member, want_paused, _ = _desired_member(agent)
        member = members.get(agent.interface)
        if want_member != (member is not None):
            found.append(f"agent {agent.agent_id} ({agent.state.value}): member on PBX {member is not None}")
        elif member is not None and member.paused != want_paused:
            found.append(f"agent {agent.agent_id} ({agent.state.value}): paused on PBX {member.paused}")
    return found


async def assert_settled(
    check: Callable[[], Awaitable[list[str]]], *, timeout_s: float = 10.0, every_s: float = 0.2
) -> None:
    """Poll ``check`` until it finds no violation; fail with the last ones after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = await check()
        if not found:
            return
        if loop.time() > deadline:
            raise AssertionError(f"invariants violated after {timeout_s} s: {found}")
        await asyncio.sleep(every_s)


def all_checks(
    sim: SimulatedPbx,
    *,
    dsn: str | None = None,
    running: Iterable[str] = (),
    clients: Iterable[AmiClient] = (),
    boards: Iterable[tuple[AgentBoard, str]] = (),
) -> Callable[[], Awaitable[list[str]]]:
    """One callable for :func:`assert_settled` running every check that applies."""
    running, clients, boards = list(running), list(clients), list(boards)

    async def check() -> list[str]:
        found = followed_without_channel(sim, clients)
        if dsn is not None:
            found += await store_violations(dsn, sim, running=running)
        for board, queue in boards:
            found += agent_violations(sim, board, queue)
        return found

    return check
