"""``config/example.toml`` shows every key of the configuration model and no other (issue 16 item 5).

A key counts when the example sets it (``key = value``) or shows it commented out
(``# key = value``) in its section; the example must also load as it is.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from config import AmiServerConfig, DialerConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "example.toml"


def _example_keys(text: str) -> set[str]:
    keys: set[str] = set()
    section = ""
    for line in text.splitlines():
        if m := re.match(r"^\[\[?([a-z_.]+)\]\]?", line):
            section = m[1]
        elif m := re.match(r"^#?\s*([a-z_]+)\s*=", line):
            keys.add(f"{section}.{m[1]}" if section else m[1])
    return keys


def _model_keys() -> set[str]:
    keys = set()
    for f in dataclasses.fields(DialerConfig):
        if f.name == "ami":
            keys |= {f"ami.servers.{s.name}" for s in dataclasses.fields(AmiServerConfig)}
        elif f.name == "home":
            keys.add(f.name)
        else:
            section = f.default_factory()  # type: ignore[misc]
            keys |= {f"{f.name}.{s.name}" for s in dataclasses.fields(section)}
    return keys


def test_the_example_shows_every_key_of_the_model_and_no_other() -> None:
    shown, model = _example_keys(EXAMPLE.read_text()), _model_keys()
    assert "ami.servers.ping_interval_s" in model and "metrics.host" in model
    assert not model - shown, f"config/example.toml lacks {sorted(model - shown)}"
    assert not shown - model, f"config/example.toml shows keys the model lacks: {sorted(shown - model)}"


def test_the_example_loads() -> None:
    cfg = load_config(EXAMPLE, env={"PBX1_AMI_SECRET": "x"})
    assert "pbx1" == cfg.ami.servers[0].name and 9108 == cfg.metrics.port
