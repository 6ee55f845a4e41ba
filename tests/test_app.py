"""The composition root and ``dialer run``: wiring, metrics, drain, configuration errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from config import ConfigError, load_config
from dialer.app import App, build_app, engine_id_of, runner_settings
from dialer.cli.main import main
from tests.dialer.observability.test_metrics_http import http_get
from tests.engine_process import (
    SECRET,
    attempt_rows,
    contact_rows,
    make_campaign,
    start_pbx,
    wait_for,
    write_config,
)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """``main`` configures structlog on the captured stderr, which pytest closes afterwards."""
    yield
    structlog.reset_defaults()

@pytest.fixture
def dsn(make_database: Callable[[], str]) -> str:
    return make_database()


def config_for(tmp_path: Path, dsn: str, ami_port: int, **extra: str):  # type: ignore[no-untyped-def]
    path = write_config(tmp_path / "dialer.toml", ami_port=ami_port, engine_id="app-test")
    env = {"DIALER_DSN": dsn, "TEST_AMI_SECRET": SECRET, "DIALER_HOME": str(tmp_path / "home"), **extra}
    return load_config(path, env=env)


def test_run_without_ami_servers_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("DIALER_AMI_HOST", "DIALER_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    f = tmp_path / "c.toml"
    f.write_text('[database]\ndsn = "postgresql://u:pw@127.0.0.1:1/x"\n')
    assert 2 == main(["run", "--config", str(f)])
    err = capsys.readouterr().err
    assert "error: configuration: ami.servers:" in err
    assert "pw" not in err
    f.write_text("[engine]\ndrain_timeout_s = -3\n")
    assert 2 == main(["--config", str(f), "run"])
    assert "engine.drain_timeout_s: must be a positive number" in capsys.readouterr().err


def test_engine_id_and_runner_settings_come_from_the_engine_section(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[engine]\nengine_id = "e7"\nlease_ttl_s = 9\ntick_s = 0.5\ndisposition_timeout_s = 4\n')
    cfg = load_config(f, env={})
    s = runner_settings(cfg)
    assert "e7" == engine_id_of(cfg)
    assert (9.0, 0.5, 4.0) == (s.lease_ttl_s, s.tick_s, s.disposition_timeout_s)
    assert s.lease_renew_s < s.lease_ttl_s
    assert socket.gethostname() == engine_id_of(load_config(env={}))


async def test_wrong_ami_secret_and_taken_metrics_port_name_their_keys(dsn: str, tmp_path: Path) -> None:
    pbx = await start_pbx("demo-predictive")
    try:
        cfg = config_for(tmp_path, dsn, pbx.port, TEST_AMI_SECRET="wrong")
        app = await build_app(cfg, configure_logs=False)
        try:
            with pytest.raises(ConfigError) as info:
                await app.start()
            assert "ami.servers" == info.value.key
        finally:
            await app.close()
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            cfg = config_for(tmp_path, dsn, pbx.port, DIALER_METRICS_PORT=str(port))
            app = await build_app(cfg, configure_logs=False, serve_metrics=True)
            try:
                with pytest.raises(ConfigError) as info:
                    await app.start()
                assert "metrics.port" == info.value.key
            finally:
                await app.close()
    finally:
        await pbx.close()


async def test_app_dials_serves_metrics_and_drain_leaves_nothing_behind(dsn: str, tmp_path: Path) -> None:
    queue = await make_campaign(dsn, contacts=300)
    pbx = await start_pbx(queue)
    cfg = config_for(tmp_path, dsn, pbx.port, DIALER_METRICS_PORT="1")
    app: App = await build_app(cfg, configure_logs=False, serve_metrics=True)
    assert app.metrics_server is not None
    app.metrics_server.port = 0  # any free port: several test runs may share the machine
    run: asyncio.Task[None] | None = None
    try:
        await app.start()
        run = asyncio.create_task(app.run())

        async def calling() -> bool:
            r = app.engine.runner("DEMO")
            return r is not None and r.stats().attempts >= 10 and r.hopper.depth > 0

        await wait_for(calling, timeout_s=30, what="the campaign calling with a stocked hopper")
        status, body = await http_get(app.metrics_server.port, "/metrics")
        text = body.decode()
        assert 200 == status
        assert 'dialer_attempts_total{campaign="DEMO"' in text
        assert 'dialer_ami_connected{server="sim"} 1.0' in text
        assert 'dialer_hopper_depth{campaign="DEMO"}' in text
        assert "+48" not in text  # no phone number in any label
        await app.drain(timeout_s=10)
        await asyncio.wait_for(run, 10)
    finally:
        if run is not None and not run.done():
            app.engine.stop()
            await asyncio.gather(run, return_exceptions=True)
        await app.close()
        await pbx.close()
    # drained: nothing open, no lease kept except for answered calls awaiting a disposition
    attempts = await attempt_rows(dsn, "DEMO")
    assert [] == [r["id"] for r in attempts if r["ended_at"] is None]
    last = {r["contact_id"]: r["outcome"] for r in attempts}
    leased = [c["id"] for c in await contact_rows(dsn, "DEMO") if c["lease_owner"] is not None]
    assert [] == [cid for cid in leased if last.get(cid) != "answered"]
