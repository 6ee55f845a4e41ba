"""``deploy/`` (issue 15 item 4): the compose trial's files parse and agree with each other and
with docs/deployment.md, and its engine configuration loads with the real loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from config import load_config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return compose


def test_the_compose_file_has_the_services_the_guide_names_and_the_files_it_mounts() -> None:
    services = _compose()["services"]
    guide = (ROOT / "docs" / "deployment.md").read_text()
    named = set(re.findall(r"compose\.yaml (?:exec|kill -s SIGKILL) ([a-z0-9-]+)", guide))
    assert {"engine-1", "engine-2"} <= named
    expected = {"postgres", "pbx-1", "pbx-2", "engine-1", "engine-2", "engine-3", "prometheus", "grafana"}
    assert named | expected <= set(services)
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (DEPLOY / source).resolve().is_file(), f"{name} mounts {source}, which does not exist"
    for n in (1, 2, 3):  # the merge key gives every engine the shared command, and each its own id
        engine = services[f"engine-{n}"]
        assert engine["command"][:2] == ["dialer", "run"]
        assert f"engine-{n}" == engine["environment"]["DIALER_ENGINE_ID"]
        assert {"postgres", "pbx-1", "pbx-2"} <= set(engine["depends_on"])
    [job] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())["scrape_configs"]
    assert ["engine-1:9108", "engine-2:9108", "engine-3:9108"] == job["static_configs"][0]["targets"]


def test_the_engine_configuration_loads_as_compose_runs_it() -> None:
    env = {k: str(v) for k, v in _compose()["services"]["engine-2"]["environment"].items()}
    cfg = load_config(DEPLOY / "engine.toml", env=env)
    services = set(_compose()["services"])
    assert ["pbx-1", "pbx-2"] == [s.host for s in cfg.ami.servers] and {"pbx-1", "pbx-2"} <= services
    assert {"trial-secret"} == {s.secret.reveal() for s in cfg.ami.servers}  # from the environment
    assert "engine-2" == cfg.engine.engine_id and 10 == cfg.engine.takeover_s
    assert cfg.database.dsn is not None and "@postgres:5432/" in cfg.database.dsn.reveal()
    assert ("0.0.0.0", 9108) == (cfg.metrics.host, cfg.metrics.port)
