"""``dialer agent create``: an agent, its queue-member interface and the campaigns it works."""

from __future__ import annotations

import argparse
from typing import Any

from dialer.cli.store_command import command_group, run_with_store
from dialer.store.store import Store


def cmd_agent_create(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        agent = await store.create_agent(args.name, args.interface)
        for camp in args.campaign or []:
            await store.assign_agent(camp, agent.name)
        print(f"created agent {agent.name} ({agent.interface or 'no interface'})")
        return 0

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer agent`` to the ``dialer`` sub-command tree."""
    ag = command_group(sub, "agent", "agents")
    p = ag.add_parser("create", help="create an agent")
    p.add_argument("name")
    p.add_argument("--interface", default="", help="Asterisk member interface, e.g. PJSIP/1001")
    p.add_argument("--campaign", action="append", help="assign to this campaign (repeatable)")
    p.set_defaults(func=cmd_agent_create)
