"""Command-line usage errors in the house format, and the option types that need a range.

argparse reports a bad value as a usage block and exits 2; the README promises every error a
user can cause as one line, ``error: FIELD: REASON (got VALUE)``, and exit 1 (issue 16 item 3).
:class:`CliParser` is the ``dialer`` parser class (sub-parsers inherit it): its
:meth:`~CliParser.error` turns argparse's messages into that line. An option type raises
``argparse.ArgumentTypeError("REASON (got VALUE)")``; the option's name becomes FIELD.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import NoReturn

# What the user did wrong, for argparse's built-in ``type=`` converters.
_TYPE_REASONS = {"int": "must be a whole number", "float": "must be a number"}

_INVALID_VALUE = re.compile(r"argument (?P<opt>[^:]+): invalid (?P<type>\w+) value: (?P<value>.*)$")
_INVALID_CHOICE = re.compile(
    r"argument (?P<opt>[^:]+): invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)$"
)
_ARGUMENT = re.compile(r"argument (?P<opt>[^:]+): (?P<reason>.*)$")
_REQUIRED = re.compile(r"the following arguments are required: (?P<names>.*)$")
_UNRECOGNISED = re.compile(r"unrecognized arguments: (?P<args>.*)$")


def field_name(option: str) -> str:
    """``--ring-timeout`` (or ``-r/--ring-timeout``, or ``NAME``) as the error's FIELD."""
    return option.split("/")[-1].lstrip("-").lower()


def usage_message(message: str) -> str:
    """argparse's error message as ``FIELD: REASON (got VALUE)``."""
    if m := _INVALID_VALUE.match(message):
        reason = _TYPE_REASONS.get(m["type"], f"must be a valid {m['type']}")
        return f"{field_name(m['opt'])}: {reason} (got {m['value']})"
    if m := _INVALID_CHOICE.match(message):
        choices = m["choices"].replace("'", "")
        return f"{field_name(m['opt'])}: must be one of: {choices} (got {m['value']})"
    if m := _ARGUMENT.match(message):
        reason = m["reason"]
        if reason.startswith("expected ") and "argument" in reason:
            reason = "needs a value"
        return f"{field_name(m['opt'])}: {reason}"
    if m := _REQUIRED.match(message):
        names = [field_name(n) for n in m["names"].split(", ")]
        return f"{names[0]}: is required" + (f" (so are: {', '.join(names[1:])})" if names[1:] else "")
    if m := _UNRECOGNISED.match(message):
        return f"arguments: not recognised (got {m['args']!r})"
    return f"arguments: {message}"


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one ``error: FIELD: REASON`` line and exit 1."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {usage_message(message)}", file=sys.stderr)
        print(f"({self.prog} --help lists the options)", file=sys.stderr)
        raise SystemExit(1)


def port(*, allow_zero: bool = False) -> Callable[[str], int]:
    """A TCP port option (1-65535; 0 too when ``allow_zero``: "do not serve")."""
    low = 0 if allow_zero else 1

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a TCP port number (got {text!r})") from None
        if not low <= value <= 65535:
            raise argparse.ArgumentTypeError(f"must be a TCP port, {low}-65535 (got {value})")
        return value

    return parse


def whole_number(*, minimum: int = 0) -> Callable[[str], int]:
    """A whole-number option of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum} (got {value})")
        return value

    return parse


def positive_number(text: str) -> float:
    """A number above 0 (durations, time scales)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number (got {text!r})") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0 (got {text!r})")
    return value
