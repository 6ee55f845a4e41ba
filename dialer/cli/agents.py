"""``dialer agent create|list|edit|remove``: agents, their queue-member interface and the
campaigns they work (the store's rules, shared with ``/api/v1/agents``)."""

from __future__ import annotations

import argparse
from typing import Any

from dialer.cli.store_command import command_group, format_table, run_with_store
from dialer.errors import ValidationError
from dialer.store.store import Store


def cmd_agent_create(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        agent = await store.create_agent(args.name, args.interface, server=args.server)
        for camp in args.campaign or []:
            await store.assign_agent(camp, agent.name)
        print(f"created agent {agent.name} ({agent.interface or 'no interface'})")
        return 0

    return run_with_store(args, go)


def cmd_agent_list(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        rows = [
            [
                a.name,
                a.interface or "-",
                a.server or "any",
                "yes" if a.active else "no",
                ", ".join(await store.agent_campaigns(a.name)),
            ]
            for a in await store.list_agents()
        ]
        print(format_table(["NAME", "INTERFACE", "SERVER", "ACTIVE", "CAMPAIGNS"], rows))
        return 0

    return run_with_store(args, go)


def cmd_agent_edit(args: argparse.Namespace) -> int:
    unchanged = args.interface is None and args.active is None and args.server is None
    if unchanged and args.campaign is None and not args.no_campaigns:
        raise ValidationError(
            "options", "name at least one of --interface, --server, --active/--inactive, --campaign"
        )
    campaigns = [] if args.no_campaigns else args.campaign

    async def go(store: Store) -> int:
        changed = []
        if not unchanged:
            await store.update_agent(
                args.name, interface=args.interface, active=args.active, server=args.server
            )
            changed += [k for k in ("interface", "server", "active") if getattr(args, k) is not None]
        if campaigns is not None:
            await store.set_agent_campaigns(args.name, campaigns)
            changed.append("campaigns")
        print(f"agent {args.name} changed: {', '.join(changed)}")
        return 0

    return run_with_store(args, go)


def cmd_agent_remove(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.remove_agent(args.name)
        print(f"removed agent {args.name}")
        return 0

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer agent`` to the ``dialer`` sub-command tree."""
    ag = command_group(sub, "agent", "agents")
    p = ag.add_parser("create", help="create an agent")
    p.add_argument("name")
    p.add_argument("--interface", default="", help="Asterisk member interface, e.g. PJSIP/1001")
    p.add_argument("--server", default="", help="[[ami.servers]] name of its phone's server (default: any)")
    p.add_argument("--campaign", action="append", help="assign to this campaign (repeatable)")
    p.set_defaults(func=cmd_agent_create)
    ag.add_parser("list", help="list agents with their campaigns").set_defaults(func=cmd_agent_list)
    p = ag.add_parser("edit", help="change an agent's interface, active flag or campaigns")
    p.add_argument("name")
    p.add_argument("--interface", help="Asterisk member interface ('' = given at login)")
    p.add_argument("--server", help="[[ami.servers]] name its phone is registered on ('' = any)")
    p.add_argument(
        "--active",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="--inactive (or --no-active): the agent cannot log in; its history stays",
    )
    p.add_argument("--inactive", dest="active", action="store_false", default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--campaign",
        action="append",
        help="the campaigns it works on, replacing the current ones (repeatable)",
    )
    p.add_argument("--no-campaigns", action="store_true", help="assign it to no campaign")
    p.set_defaults(func=cmd_agent_edit)
    p = ag.add_parser("remove", help="remove an agent that never took a call and has no user")
    p.add_argument("name")
    p.set_defaults(func=cmd_agent_remove)
