"""``dialer user create|list|remove``: the people who use the HTTP API.

The password is never a command-line argument (it would sit in the shell history and in
``ps``): it comes from ``DIALER_USER_PASSWORD`` or, on a terminal, from a prompt typed twice.
The rules are the API's (:func:`dialer.api.passwords.check_password`).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from dialer.api.passwords import check_password, hash_password
from dialer.cli.store_command import command_group, format_table, parse_enum, run_with_store
from dialer.errors import ValidationError
from dialer.store.store import Store
from dialer.store.users import Role

PASSWORD_ENV = "DIALER_USER_PASSWORD"


def read_password(env: dict[str, str] | None = None) -> str:
    """The new user's password: ``DIALER_USER_PASSWORD``, else a prompt (typed twice).

    Raises:
        ValidationError: field ``password``: no terminal to prompt on, the two differ, or it
            breaks a rule.
    """
    env = dict(os.environ) if env is None else env
    password = env.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise ValidationError("password", f"set {PASSWORD_ENV} or run on a terminal to be asked")
        password = getpass.getpass("password: ")
        if getpass.getpass("password again: ") != password:
            raise ValidationError("password", "the two entries differ")
    check_password(password)
    return password


def cmd_user_create(args: argparse.Namespace) -> int:
    role = parse_enum(Role, args.role, "role")
    hashed = hash_password(read_password())

    async def go(store: Store) -> int:
        user = await store.create_user(args.name, role, hashed, agent=args.agent)
        linked = f", acting as agent {user.agent}" if user.agent else ""
        print(f"created user {user.name} ({user.role}{linked})")
        return 0

    return run_with_store(args, go)


def cmd_user_list(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        users = await store.list_users()
        rows = [(u.name, u.role.value, u.agent, u.created_at.strftime("%Y-%m-%d %H:%M")) for u in users]
        print(format_table(["NAME", "ROLE", "AGENT", "CREATED"], rows))
        return 0

    return run_with_store(args, go)


def cmd_user_remove(args: argparse.Namespace) -> int:
    async def go(store: Store) -> int:
        await store.remove_user(args.name)
        print(f"removed user {args.name} (their tokens are revoked)")
        return 0

    return run_with_store(args, go)


def register(sub: Any) -> None:
    """Add ``dialer user`` to the ``dialer`` sub-command tree."""
    us = command_group(sub, "user", "users of the HTTP API")
    p = us.add_parser(
        "create",
        help="add a user (password from $DIALER_USER_PASSWORD or a prompt)",
        description=f"Add a user of the HTTP API. The password is read from ${PASSWORD_ENV} or asked"
        " for on the terminal, never given as an argument.",
    )
    p.add_argument("name")
    p.add_argument("--role", required=True, help="agent, supervisor or admin")
    p.add_argument("--agent", help="role agent: the agent (dialer agent create) this user acts as")
    p.set_defaults(func=cmd_user_create)
    p = us.add_parser("list", help="list the users")
    p.set_defaults(func=cmd_user_list)
    p = us.add_parser("remove", help="remove a user and revoke their tokens")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_remove)
