"""The ``dialer`` command line.

Each command group registers itself on the argparse tree; a command's handler takes the
parsed arguments and returns the process exit code. Errors the user can fix (bad input,
bad configuration) print one line naming the field and the reason and exit non-zero.

The groups live one noun per module beside this one (the store's: ``db``, ``schedule``,
``status``, ``campaign``, ``agent``, ``dnc``, ``contacts``, ``compliance``, ``callbacks``; the
engine's: ``demo``, ``run``; ``asterisk check``) and in :mod:`ami.commands` (``ami replay``,
``simulate-pbx``); this module only wires them.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from ami import commands as ami_commands
from config import ConfigError
from dialer.cli import (
    agents,
    asterisk,
    attempts,
    callbacks,
    campaigns,
    compliance,
    contacts,
    database,
    dnc,
    engine,
    reminders,
    reports,
    schedules,
    statuses,
    users,
)
from dialer.cli.args import CliParser
from dialer.errors import DialerError

# In the order `dialer --help` lists them.
_COMMAND_GROUPS = (
    database, schedules, statuses, campaigns, agents, dnc, contacts, attempts, reports, compliance, users,
    reminders, callbacks, engine, asterisk,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="dialer", description="Outbound dialer engine for Asterisk")
    parser.add_argument("--config", help="TOML configuration file (default: $DIALER_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for group in _COMMAND_GROUPS:
        group.register(sub)
    ami_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as e:
        print(f"error: configuration: {e}", file=sys.stderr)
        return 2
    except DialerError as e:  # ValidationError prints as "FIELD: REASON (got VALUE)"
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug, not the user's input: one line, the traceback on request
        if os.environ.get("DIALER_TRACEBACK"):
            traceback.print_exc()
        print(f"error: internal: {type(e).__name__}: {e} (a bug: please report it;"
              " DIALER_TRACEBACK=1 shows where)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
