"""``--servers`` of a campaign and ``--server`` of an agent (issue 15 item 3) from the CLI:
checked against the configuration's ``[[ami.servers]]`` names and groups, errors as
``error: FIELD: REASON (got VALUE)``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dialer.cli.test_cli import cli_dsn, dialer

__all__ = ["cli_dsn", "dialer"]  # the fixtures, used by name


def test_campaign_servers_and_agent_server(dialer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "dialer.toml"
    config.write_text(
        '[[ami.servers]]\nname = "pbx1"\ngroup = "east"\n[[ami.servers]]\nname = "pbx2"\ngroup = "east"\n'
    )
    monkeypatch.setenv("DIALER_CONFIG", str(config))
    assert 0 == dialer("schedule", "create", "HOURS", "--daily", "--window", "09:00-17:00")[0]
    code, _, err = dialer("campaign", "create", "MULTI", "--schedule", "HOURS", "--servers", "east,pbx2")
    assert 0 == code, err
    assert "servers east, pbx2" in dialer("campaign", "show", "MULTI")[1]
    code, _, err = dialer("campaign", "set", "MULTI", "--servers", "pbx3")
    assert 1 == code
    assert "error: servers: no such AMI server or group (configured: east, pbx1, pbx2) (got 'pbx3')" in err
    assert 0 == dialer("campaign", "set", "MULTI", "--servers", "")[0]
    assert "servers every configured server" in dialer("campaign", "show", "MULTI")[1]

    assert 0 == dialer("agent", "create", "ann", "--interface", "PJSIP/101", "--server", "pbx1")[0]
    code, _, err = dialer("agent", "edit", "ann", "--server", "east")
    assert 1 == code and "error: server: no such AMI server (configured: pbx1, pbx2) (got 'east')" in err
    assert 0 == dialer("agent", "edit", "ann", "--server", "pbx2")[0]
    listing = dialer("agent", "list")[1]
    assert "SERVER" in listing and "PJSIP/101  pbx2" in listing
