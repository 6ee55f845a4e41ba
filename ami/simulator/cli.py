"""``dialer simulate-pbx``: run the simulated PBX as a process.

Example::

    dialer simulate-pbx --port 5038 --username dialer --secret dialer-secret \\
        --agents 10 --queue campaign1 --answer-p 0.4 --seed 7 --verbosity full

Numbers of a transcript class (100, 110, 120, 200, 300, 400, 500, 600: the first three
digits after an optional +, else the last three, as asterisk-conf/extensions-sim.conf
dispatches them) behave as in ``shared/ami-transcripts``; any other number is drawn from the
population options.
The fault options repeat a fault every N seconds, for soak tests of a real engine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any

import numpy as np
import structlog

from ami.simulator.population import PopulationParams
from ami.simulator.server import VERBOSITY, SimAgent, SimulatedPbx

log = structlog.get_logger(__name__)


def register(sub: Any) -> None:
    """Register ``dialer simulate-pbx``."""
    p: argparse.ArgumentParser = sub.add_parser(
        "simulate-pbx",
        help="run a simulated Asterisk PBX speaking AMI (for tests and load runs)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5038, help="AMI port (default 5038)")
    p.add_argument("--username", default="dialer")
    p.add_argument("--secret", default="dialer-secret", help="AMI secret the simulator accepts")
    p.add_argument("--time-scale", type=float, default=1.0, help="real seconds per simulated second")
    p.add_argument(
        "--verbosity",
        choices=VERBOSITY,
        default="minimal",
        help="minimal: a least-privilege dialer user; full: plus Newexten/VarSet noise",
    )
    p.add_argument(
        "--no-local-optimization",
        dest="local_optimization",
        action="store_false",
        help="never optimise a bridged Local pair away (Asterisk does, unless the channel has /n)",
    )
    agents = p.add_argument_group("agents")
    agents.add_argument(
        "--queues",
        default="campaign1,campaign-empty",
        metavar="NAME,...",
        help="the queues of its queues.conf, one per campaign (default campaign1,campaign-empty);"
        " as in Asterisk, no action creates another (the agents' queues are added)",
    )
    agents.add_argument("--queue", default="campaign1", help="queue the --agents join (default campaign1)")
    agents.add_argument("--agents", type=int, default=2, help="static members Local/agentN@sim-agents")
    agents.add_argument(
        "--agent",
        action="append",
        default=[],
        metavar="QUEUE:INTERFACE[:NAME]",
        help="an extra static member, e.g. campaign1:PJSIP/1001:Anna (repeatable)",
    )
    agents.add_argument("--agent-ring", type=float, default=1.0, help="seconds an agent's phone rings")
    agents.add_argument(
        "--agent-talk",
        type=float,
        default=None,
        help="agents hang up after this many seconds (default: the customer hangs up)",
    )
    agents.add_argument("--agent-wrapup", type=float, default=0.0, help="wrap-up seconds after each call")
    pop = p.add_argument_group("population (numbers outside the transcripts' convention)")
    defaults = PopulationParams()
    pop.add_argument("--seed", type=int, default=0)
    pop.add_argument("--answer-p", type=float, default=defaults.answer_p)
    pop.add_argument("--machine-share", type=float, default=defaults.machine_share)
    pop.add_argument("--busy-share", type=float, default=defaults.busy_share)
    pop.add_argument("--congestion-share", type=float, default=defaults.congestion_share)
    pop.add_argument("--unallocated-share", type=float, default=defaults.unallocated_share)
    pop.add_argument("--answer-median", type=float, default=defaults.answer_median_s, help="seconds")
    pop.add_argument("--answer-sigma", type=float, default=defaults.answer_sigma)
    pop.add_argument("--talk-median", type=float, default=defaults.talk_median_s, help="seconds")
    pop.add_argument("--talk-sigma", type=float, default=defaults.talk_sigma)
    faults = p.add_argument_group("fault injection")
    faults.add_argument("--response-delay", type=float, default=0.0, help="delay every action response (s)")
    faults.add_argument(
        "--queue-pause-lag",
        type=float,
        default=0.0,
        help="QueuePause reaches the queue this many seconds late (the wrap-up race)",
    )
    faults.add_argument("--drop-every", type=float, default=None, help="drop all connections every N s")
    faults.add_argument(
        "--restart-every", type=float, default=None, help="restart (Shutdown, reboot) every N s"
    )
    faults.add_argument("--garble-every", type=float, default=None, help="send a garbled message every N s")
    p.set_defaults(func=run)


def build_pbx(args: argparse.Namespace) -> SimulatedPbx:
    """The simulator the arguments describe (raises ValueError naming a bad option)."""
    members = [
        SimAgent(args.queue, f"Local/agent{i}@sim-agents", f"Agent {i}") for i in range(1, args.agents + 1)
    ]
    for spec in args.agent:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ValueError(f"agent: must be QUEUE:INTERFACE[:NAME] (got {spec!r})")
        members.append(SimAgent(parts[0], parts[1], parts[2] if len(parts) == 3 else parts[1]))
    population = PopulationParams(
        answer_p=args.answer_p,
        machine_share=args.machine_share,
        busy_share=args.busy_share,
        congestion_share=args.congestion_share,
        unallocated_share=args.unallocated_share,
        answer_median_s=args.answer_median,
        answer_sigma=args.answer_sigma,
        talk_median_s=args.talk_median,
        talk_sigma=args.talk_sigma,
    )
    pbx = SimulatedPbx(
        username=args.username,
        secret=args.secret,
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        verbosity=args.verbosity,
        population=population,
        rng=np.random.default_rng(args.seed),
        agents=members,
        queues=[*(q.strip() for q in args.queues.split(",") if q.strip()), args.queue],
        agent_ring_s=args.agent_ring,
        agent_talk_s=args.agent_talk,
        agent_wrapup_s=args.agent_wrapup,
        local_optimization=args.local_optimization,
    )
    pbx.response_delay_s = args.response_delay
    pbx.queue_pause_lag_s = args.queue_pause_lag
    return pbx


async def serve(pbx: SimulatedPbx, args: argparse.Namespace) -> None:
    await pbx.start()
    print(f"simulated PBX listening on {pbx.host}:{pbx.port} (user {pbx.username})", flush=True)

    async def every(period: float | None, fault: str) -> None:
        if period is None:
            return
        while True:
            await asyncio.sleep(period)
            log.info("sim_fault_injected", fault=fault)
            if fault == "drop":
                pbx.drop_connections()
            elif fault == "restart":
                await pbx.restart()
            else:
                pbx.send_garbled()

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(every(args.drop_every, "drop"))
            tg.create_task(every(args.restart_every, "restart"))
            tg.create_task(every(args.garble_every, "garble"))
            tg.create_task(asyncio.Event().wait())
    finally:
        await pbx.close()


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; a bad option or a port that cannot be bound is one error line, exit 1."""
    if not 0 <= args.port <= 65535:
        print(f"error: port: must be a TCP port, 0-65535 (got {args.port})", file=sys.stderr)
        return 1
    try:
        pbx = build_pbx(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(pbx, args))
    except OSError as e:  # the port is taken (Asterisk's own AMI is on 5038) or the host is not ours
        reason = f"cannot listen on {args.host}:{args.port}: {os.strerror(e.errno) if e.errno else e}"
        print(f"error: port: {reason} (got {args.port}; pick another --port)", file=sys.stderr)
        return 1
    return 0
