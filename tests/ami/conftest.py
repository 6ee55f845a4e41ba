"""Fixtures for the AMI I/O tests: a simulated PBX on an ephemeral port, on the test's loop.

The simulator runs 100 times faster than real time (``time_scale=0.01``) so the 15 s ring
timeout of a no-answer call takes 150 ms; every test still goes through real TCP sockets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ami.simulator.server import SimAgent, SimulatedPbx

TIME_SCALE = 0.01

# campaign1's static members as in the captures' queues.conf
TRANSCRIPT_AGENTS = (
    SimAgent("campaign1", "Local/agent1@sim-agents", "Agent One"),
    SimAgent("campaign1", "Local/agent2@sim-agents", "Agent Two"),
)


@pytest.fixture
async def pbx() -> AsyncIterator[SimulatedPbx]:
    sim = SimulatedPbx(time_scale=TIME_SCALE, agents=TRANSCRIPT_AGENTS, auth_fail_delay_s=0.05)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()
