"""The ``dialer`` command line.

Each command group registers itself on the argparse tree; a command's handler takes the
parsed arguments and returns the process exit code. Errors the user can fix (bad input,
bad configuration) print one line naming the field and the reason and exit non-zero.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ami import commands as ami_commands
from config import ConfigError
from dialer.cli import commands as store_commands
from dialer.errors import DialerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dialer", description="Outbound dialer engine for Asterisk")
    parser.add_argument("--config", help="TOML configuration file (default: $DIALER_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    store_commands.register(sub)
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


if __name__ == "__main__":
    sys.exit(main())
