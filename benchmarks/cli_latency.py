"""What one ``dialer`` store command costs, with and without a lingering embedded server.

Run ``python -m benchmarks.cli_latency`` (``--runs N``). In a fresh temporary home it times
``dialer campaign list`` as a user runs it (a new process each time):

* **stop each time**: ``DIALER_EMBEDDED_LINGER_S=0``, every command starts the embedded
  PostgreSQL and, as its last user, stops it on exit (what every command did before issue 16);
* **lingering**: the default; the first command starts the server and a lingerer
  (:mod:`dialer.store.linger`) keeps it up, so the next ones only connect.

Each command's process reports how long importing the CLI took; the rest of its wall time
(the command itself, the interpreter's start and exit, stopping the server when it is the
last user) is the column that the lingering server changes. Medians over ``--runs``
commands; the first (initdb) is not counted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

# One command as ``dialer`` runs it, printing its import time on stderr.
_COMMAND = """
import sys, time
t0 = time.perf_counter()
from dialer.cli.main import main
print(time.perf_counter() - t0, file=sys.stderr)
sys.exit(main(["campaign", "list"]))
"""


def _timed(env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, import seconds) of one command in a new process."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _COMMAND],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wall = time.perf_counter() - t0
    return wall, float(done.stderr.decode().split()[0])


def _stop_lingerers(home: Path) -> None:
    import psutil

    for p in psutil.process_iter(["cmdline"]):
        if (
            p.info["cmdline"]
            and "dialer.store.linger" in p.info["cmdline"]
            and str(home) in p.info["cmdline"]
        ):
            p.terminate()
            psutil.wait_procs([p], timeout=30)


def measure(runs: int) -> dict[str, tuple[float, float]]:
    """Per variant: (median wall seconds, median seconds besides importing)."""
    root = Path(tempfile.mkdtemp(prefix="dialer-cli-latency-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env["DIALER_HOME"] = str(root / "home")
    try:
        results: dict[str, tuple[float, float]] = {}
        for name, variant in (
            ("stop each time", {**env, "DIALER_EMBEDDED_LINGER_S": "0"}),
            ("lingering", env),
        ):
            _timed(variant)  # initdb, or starting the server and its lingerer
            times = [_timed(variant) for _ in range(runs)]
            results[name] = (
                statistics.median(w for w, _ in times),
                statistics.median(w - i for w, i in times),
            )
        return results
    finally:
        _stop_lingerers(root / "home")
        shutil.rmtree(root, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="commands per variant (5)")
    args = parser.parse_args(argv)
    print(f"{'variant':<16} {'wall s':>7} {'besides import s':>17}")
    for name, (wall, rest) in measure(args.runs).items():
        print(f"{name:<16} {wall:>7.2f} {rest:>17.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
