"""Configuration layering and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, Secret, load_config, require_ami_secrets


def test_defaults_need_no_file_and_no_dsn_means_embedded(tmp_path: Path) -> None:
    cfg = load_config(env={"DIALER_HOME": str(tmp_path)})
    assert cfg.database.dsn is None
    assert cfg.home == tmp_path
    assert cfg.ami.servers == ()


def test_env_overrides_file_and_secrets_are_hidden(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(
        '[database]\ndsn = "postgresql://u:filepw@h/db"\n'
        '[[ami.servers]]\nname = "pbx1"\nhost = "10.1.1.1"\nsecret_env = "S1"\n'
        "[metrics]\nport = 9200\n"
    )
    cfg = load_config(f, env={"DIALER_DSN": "postgresql://u:envpw@h/db", "S1": "topsecret"})
    assert cfg.database.dsn is not None
    assert cfg.database.dsn.reveal() == "postgresql://u:envpw@h/db"
    assert cfg.ami.servers[0].secret.reveal() == "topsecret"
    assert cfg.metrics.port == 9200
    text = repr(cfg)
    assert "envpw" not in text and "topsecret" not in text


def test_cli_overrides_env(tmp_path: Path) -> None:
    cfg = load_config(env={"DIALER_METRICS_PORT": "9300"}, overrides={"metrics.port": 9400})
    assert cfg.metrics.port == 9400


def test_ami_env_creates_a_server() -> None:
    env = {"DIALER_AMI_HOST": "127.0.0.2", "DIALER_AMI_SECRET": "s", "DIALER_AMI_PORT": "5039"}
    cfg = load_config(env=env)
    (server,) = cfg.ami.servers
    assert (server.host, server.port, server.secret) == ("127.0.0.2", 5039, Secret("s"))
    assert str(server.secret) == "***"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[metrics]\nport = 70000\n", "metrics.port"),
        ('[metrics]\nport = "abc"\n', "metrics.port"),
        ('[log]\nformat = "xml"\n', "log.format"),
        ("[nonsense]\nx = 1\n", "nonsense.x"),
        ("[[ami.servers]]\nchannel_limit = 0\n", "ami.servers[0].channel_limit"),
        ("[[ami.servers]]\nbogus = 1\n", "ami.servers[0].bogus"),
        ('[[ami.servers]]\nsecret_env = ""\n', "ami.servers[0].secret_env"),
        ('[[ami.servers]]\nname = "a"\ngroup = "a"\n', "ami.servers[0].group"),
        ('[[ami.servers]]\nname = "a"\ngroup = "east coast"\n', "ami.servers[0].group"),
        ('[contacts]\ndefault_region = "Poland"\n', "contacts.default_region"),
        ("this is not toml", "config"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(f, env={})
    assert err.value.key == key


def test_engine_section_from_file_and_env(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[engine]\nengine_id = "e1"\ndrain_timeout_s = 5\nlease_ttl_s = 30\n')
    cfg = load_config(f, env={"DIALER_ENGINE_ID": "e2"})
    assert (cfg.engine.engine_id, cfg.engine.drain_timeout_s, cfg.engine.lease_ttl_s) == ("e2", 5.0, 30.0)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[engine]\ndrain_timeout_s = -1\n", "engine.drain_timeout_s"),
        ("[engine]\ntick_s = 0\n", "engine.tick_s"),
        ("[engine]\nlease_ttl_s = 1\ntick_s = 2\n", "engine.lease_ttl_s"),
        ("[engine]\nnope = 1\n", "engine.nope"),
        ("[engine]\ndisposition_timeout_s = 3601\n", "engine.disposition_timeout_s"),
        ("[engine]\ngc_young_threshold = 100\n", "engine.gc_young_threshold"),
        ("[engine]\ngc_young_threshold = -1\n", "engine.gc_young_threshold"),
        ('[campaigns]\namd_action = "drop"\n', "campaigns.amd_action"),
        ("[campaigns]\namd_false_positive = 1.5\n", "campaigns.amd_false_positive"),
    ],
)
def test_engine_section_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(f, env={})
    assert key == info.value.key


def test_a_missing_ami_secret_fails_only_where_ami_is_needed(tmp_path: Path) -> None:
    """Loading succeeds without the secret's variable (``dialer db migrate`` needs no AMI);
    ``require_ami_secrets``, called by every command that logs in, names the variable."""
    f = tmp_path / "c.toml"
    f.write_text('[[ami.servers]]\nname = "pbx1"\nsecret_env = "NOPE"\n[[ami.servers]]\nname = "pbx2"\n')
    cfg = load_config(f, env={})
    assert cfg.ami.servers[0].secret_env == "NOPE" and not cfg.ami.servers[0].secret
    with pytest.raises(ConfigError) as err:
        require_ami_secrets(cfg)
    assert err.value.key == "ami.servers[0].secret_env" and "'NOPE' is not set" in str(err.value)
    cfg = load_config(f, env={"NOPE": "s1"})
    with pytest.raises(ConfigError) as err:
        require_ami_secrets(cfg)
    assert err.value.key == "ami.servers[1].secret" and "DIALER_AMI_SECRET_PBX2" in str(err.value)
    require_ami_secrets(load_config(f, env={"NOPE": "s1", "DIALER_AMI_SECRET_PBX2": "s2"}))


@pytest.mark.parametrize(
    ("dsn", "says"),
    [
        ("postgresql://u:pw@127.0.0.1:notaport/db", "port 'notaport' is not a TCP port"),
        ("postgresql://u:pw@[::1/db", "not closed with ']'"),
        ("postgresql://u:pw@h:70000/db", "port '70000' is not a TCP port"),
        ("postgresql://u:pw@::1]:5432/db", "without the '['"),
        ("postgresql://u:pw@[::1]x/db", "only ':port' may follow"),
        ("127.0.0.1:notaport", "must be a URI"),
        ("[::1", "must be a URI"),
        ("host=localhost port=5432", "must be a URI"),
    ],
)
def test_malformed_dsn_is_a_config_error_without_the_password(dsn: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(env={"DIALER_DSN": dsn})
    assert err.value.key == "database.dsn"
    assert says in err.value.reason
    assert "pw" not in str(err.value)


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u:pw@127.0.0.1:5432/db",
        "postgres://h/db",
        "postgresql://u:p@ss@[::1]:5433/db?sslmode=disable",
        "postgresql://u@h1:5432,h2:5433/db",
        "postgresql:///db?host=/run/postgresql",
    ],
)
def test_wellformed_dsns_pass(dsn: str) -> None:
    assert load_config(env={"DIALER_DSN": dsn}).database.dsn is not None


def test_server_groups_are_what_a_campaign_may_name(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(
        '[[ami.servers]]\nname = "pbx1"\ngroup = "east"\n'
        '[[ami.servers]]\nname = "pbx2"\ngroup = "east"\n'
        '[[ami.servers]]\nname = "pbx3"\n'
    )
    cfg = load_config(f, env={})
    assert {
        "pbx1": ("pbx1",), "pbx2": ("pbx2",), "pbx3": ("pbx3",), "east": ("pbx1", "pbx2")
    } == cfg.ami.selectable()  # fmt: skip
