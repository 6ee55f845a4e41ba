"""Where a long compliance proof keeps itself between processes: ``--home DIR``, ``--resume``.

The full proof (issue 11: a million calls over 30 simulated days) takes longer than one
session on the shared machine, so its state lives in a directory and a later process carries
on from the last *completed* simulated day. What a day needs is all in the database or a
function of the day's number: the engine is restarted every simulated day (a new runner and
a new :class:`~benchmarks.engine.virtual_pbx.VirtualPbx`, whose random draws are seeded by
``seed * 1000 + day``), and the runner restores the campaign's memory (abandon windows,
learned pacing statistics) from the attempts table at its start. So the state is:

* the embedded PostgreSQL in ``DIR/pgdata`` (one server; each profile tag has its own
  database, ``proof_<tag>``, so ``--only us`` and ``--only uk`` can run in two processes on
  one home);
* ``DIR/proof-<tag>.json``: the run's options, the number of completed days, the calls, the
  numbers listed mid-run, what the simulated side raised, one line per day (calls, real and
  CPU seconds).

A process killed in the middle of a day leaves that day half-dialled: its contacts' statuses,
leases and attempt rows cannot be taken back one by one. So after every completed day (and
after the set-up) the live database is copied whole, ``CREATE DATABASE proof_<tag>_dayNNN
TEMPLATE proof_<tag> STRATEGY FILE_COPY`` (a file copy: seconds), and the state file says
whether the live database is still that copy (``clean``). ``--resume`` of a run that was not
clean drops the live database and makes it again from the last day's copy, then dials the
next day from its 05:00 UTC restart. Only the newest copy is kept; ``--report`` reads it, so
the audit of the completed days can be printed while the run goes on (it never touches the
live database, which the next copy needs to itself). To stop a run at the end of the day it
is dialling, create ``DIR/stop-<tag>``; ``--wall-limit`` does the same after a time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

STATE_VERSION = 1


class ProofHomeError(Exception):
    """The home cannot be used as asked (no run to resume, a run already there, a bad file)."""


@dataclass(slots=True)
class DayLine:
    """What one simulated day did (the state file's log; printed by ``--report``)."""

    day: int  # 0-based
    date: str
    calls: int  # total after the day
    seconds: float  # real seconds the day took
    cpu_s: float  # this process's CPU seconds for the day


@dataclass(slots=True)
class ProofState:
    """The state file of one run (module docstring)."""

    options: dict[str, Any]
    days_done: int = 0
    calls: int = 0
    seconds: float = 0.0
    dnc_listed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    clean: bool = False  # the live database is the copy taken after ``days_done`` days
    days: list[DayLine] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **dataclasses.asdict(self)}, indent=1)

    @classmethod
    def from_json(cls, text: str, where: Path) -> ProofState:
        try:
            raw = json.loads(text)
            if raw.pop("version", None) != STATE_VERSION:
                raise ValueError(f"not a version {STATE_VERSION} state file")
            raw["days"] = [DayLine(**d) for d in raw.get("days", [])]
            return cls(**raw)
        except (ValueError, TypeError) as e:
            raise ProofHomeError(f"{where}: cannot read the proof's state: {e}") from None


class ProofHome:
    """One run's directory, state file and databases (module docstring).

    Args:
        path: the home directory.
        tag: ``us``, ``uk`` or ``both`` (which campaigns the run dials).
        server: a PostgreSQL server's URI to keep the databases on instead of the home's
            embedded one (the tests' server).
        prefix: the databases' names start with it and the tag.
    """

    def __init__(self, path: Path, tag: str, *, server: str | None = None, prefix: str = "proof") -> None:
        self.path = path
        self.tag = tag
        self.state_path = path / f"proof-{tag}.json"
        self.prefix = f"{prefix}_{tag}"
        self.live = self.prefix
        self._maintenance = server

    @property
    def stop_path(self) -> Path:
        """A file whose presence asks the running process to stop after the day it is dialling."""
        return self.path / f"stop-{self.tag}"

    def stop_asked(self) -> bool:
        """Whether :attr:`stop_path` exists (taken away, so that ``--resume`` runs on)."""
        try:
            self.stop_path.unlink()
        except FileNotFoundError:
            return False
        return True

    def snapshot_name(self, days_done: int) -> str:
        return f"{self.prefix}_day{days_done:03d}"

    # ------------------------------------------------------------------ state file

    def exists(self) -> bool:
        return self.state_path.exists()

    def load(self) -> ProofState:
        try:
            text = self.state_path.read_text()
        except FileNotFoundError:
            raise ProofHomeError(
                f"{self.state_path}: no proof run to resume here (start one without --resume)"
            ) from None
        return ProofState.from_json(text, self.state_path)

    def save(self, state: ProofState) -> None:
        """Write the state file whole or not at all (a temporary file renamed over it)."""
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(state.to_json())
        os.replace(tmp, self.state_path)

    # ------------------------------------------------------------------ databases

    def server(self) -> str:
        """Start (or find running) the home's embedded PostgreSQL; its maintenance URI."""
        if self._maintenance is None:
            from dialer.store.database import embedded_server_uri

            self._maintenance = embedded_server_uri(self.path)
        return self._maintenance

    def dsn(self, database: str) -> str:
        """The server's URI with ``database`` in place of the one it names."""
        parts = urlsplit(self.server())
        return urlunsplit(parts._replace(path=f"/{database}"))

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.server())
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    async def create_live(self) -> str:
        """A new, empty live database (any left by an earlier run of this tag dropped); its DSN."""
        await self._admin(f"DROP DATABASE IF EXISTS {self.live} WITH (FORCE)", f"CREATE DATABASE {self.live}")
        return self.dsn(self.live)

    async def snapshot(self, days_done: int) -> None:
        """Copy the live database as the state after ``days_done`` days.

        Nothing may be connected to the live database (the caller closed its pool). The older
        copy stays until the state file names this one (:meth:`drop_snapshot`).
        """
        name = self.snapshot_name(days_done)
        await self._admin(
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
            f"CREATE DATABASE {name} TEMPLATE {self.live} STRATEGY FILE_COPY",
        )

    async def drop_snapshot(self, days_done: int) -> None:
        if days_done >= 0:
            await self._admin(f"DROP DATABASE IF EXISTS {self.snapshot_name(days_done)} WITH (FORCE)")

    async def restore(self, days_done: int) -> None:
        """Make the live database again from the copy taken after ``days_done`` days."""
        await self._admin(
            f"DROP DATABASE IF EXISTS {self.live} WITH (FORCE)",
            f"CREATE DATABASE {self.live} TEMPLATE {self.snapshot_name(days_done)} STRATEGY FILE_COPY",
        )


def options_to_json(opts: object) -> dict[str, Any]:
    """A proof's options as JSON values (datetimes as ISO text, enums by value)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(opts):  # type: ignore[arg-type]
        value = getattr(opts, f.name)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        out[f.name] = value
    return out
