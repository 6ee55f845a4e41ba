"""Load and validate :class:`~config.model.DialerConfig` from defaults, file, env and CLI.

Theory of operation: every layer is turned into one flat mapping of dotted keys
(``database.dsn``, ``ami.servers``, ``metrics.port``); later layers overwrite earlier ones;
then each section is built and validated once. Errors name the dotted key. Secrets are
wrapped in :class:`~config.secret.Secret` as soon as they are read.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from config.dsn import dsn_problem
from config.errors import ConfigError
from config.model import (
    AmiConfig,
    AmiServerConfig,
    ApiConfig,
    CampaignDefaultsConfig,
    ContactsConfig,
    DatabaseConfig,
    DialerConfig,
    EngineConfig,
    LogConfig,
    MetricsConfig,
    RemindersConfig,
)
from config.secret import Secret

_SECTIONS: dict[str, type] = {
    "database": DatabaseConfig,
    "metrics": MetricsConfig,
    "log": LogConfig,
    "contacts": ContactsConfig,
    "engine": EngineConfig,
    "api": ApiConfig,
    "campaigns": CampaignDefaultsConfig,
    "reminders": RemindersConfig,
}
_SECRET_KEYS = {"database.dsn"}
_LOG_FORMATS = ("auto", "json", "console")
_LOG_LEVELS = ("debug", "info", "warning", "error")

# Environment variables and the dotted key each one sets.
_ENV_KEYS = {
    "DIALER_DSN": "database.dsn",
    "DIALER_EMBEDDED_LINGER_S": "database.embedded_linger_s",
    "DIALER_METRICS_PORT": "metrics.port",
    "DIALER_METRICS_HOST": "metrics.host",
    "DIALER_LOG_FORMAT": "log.format",
    "DIALER_LOG_LEVEL": "log.level",
    "DIALER_DEFAULT_REGION": "contacts.default_region",
    "DIALER_ENGINE_ID": "engine.engine_id",
    "DIALER_API_HOST": "api.host",
    "DIALER_API_PORT": "api.port",
    "DIALER_SMTP_PASSWORD": "reminders.smtp_password",
    "DIALER_SMS_HTTP_AUTH": "reminders.sms_http_auth",
    "DIALER_SMPP_PASSWORD": "reminders.smpp_password",
}
# These set a field of the first AMI server (creating one if the file has none).
_ENV_AMI = {
    "DIALER_AMI_HOST": "host",
    "DIALER_AMI_PORT": "port",
    "DIALER_AMI_USERNAME": "username",
    "DIALER_AMI_SECRET": "secret",
}


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """The per-user state directory: ``DIALER_HOME`` or the platform's user data dir."""
    env = os.environ if env is None else env
    if env.get("DIALER_HOME"):
        return Path(env["DIALER_HOME"]).expanduser()
    return Path(platformdirs.user_data_dir("asterisk-dialer", appauthor=False))


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> DialerConfig:
    """Build the configuration: defaults < file < environment < ``overrides``.

    Args:
        path: a TOML file; ``None`` uses ``DIALER_CONFIG`` if set, else no file.
        env: the environment to read (``os.environ`` when ``None``); tests pass a dict.
        overrides: dotted keys from the command line, e.g. ``{"metrics.port": 9200}``.

    Raises:
        ConfigError: the file is unreadable or not TOML, or a key is unknown or invalid.
    """
    env = os.environ if env is None else env
    if path is None and env.get("DIALER_CONFIG"):
        path = env["DIALER_CONFIG"]
    raw: dict[str, Any] = {}
    if path is not None:
        raw = _read_file(Path(path))

    flat: dict[str, Any] = {}
    servers_raw = _flatten(raw, flat)
    for var, key in _ENV_KEYS.items():
        if env.get(var):
            flat[key] = env[var]
    for key, value in (overrides or {}).items():
        if value is not None and key != "home":
            flat[key] = value

    home = default_home(env)
    if "home" in flat:
        home = Path(str(flat.pop("home"))).expanduser()
    if env.get("DIALER_HOME"):
        home = Path(env["DIALER_HOME"]).expanduser()
    if overrides and overrides.get("home") is not None:
        home = Path(str(overrides["home"])).expanduser()

    sections = {name: _build_section(name, cls, flat) for name, cls in _SECTIONS.items()}
    unknown = sorted(flat)  # every known key was taken by its section
    if unknown:
        raise ConfigError(unknown[0], "unknown key")

    servers = _build_servers(servers_raw, env)
    cfg = DialerConfig(home=home, ami=AmiConfig(servers=servers), **sections)
    _validate(cfg)
    return cfg


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("config", f"file not found: {path}") from None
    except OSError as e:
        raise ConfigError("config", f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("config", f"{path} is not valid TOML: {e}") from None
    except UnicodeDecodeError as e:  # TOML is UTF-8 by definition
        line = e.object.count(b"\n", 0, e.start) + 1
        bad = e.object[e.start : e.start + 1]
        raise ConfigError("config", f"{path} is not UTF-8 text (line {line}: byte {bad!r})") from None


def _flatten(raw: Mapping[str, Any], flat: dict[str, Any]) -> list[Any]:
    servers: list[Any] = []
    for top, value in raw.items():
        if top == "home":
            flat["home"] = value
        elif top == "ami":
            if not isinstance(value, Mapping):
                raise ConfigError("ami", "must be a table")
            for k, v in value.items():
                if k != "servers":
                    raise ConfigError(f"ami.{k}", "unknown key (AMI servers go in [[ami.servers]])")
                if not isinstance(v, list):
                    raise ConfigError("ami.servers", "must be an array of tables ([[ami.servers]])")
                servers = v
        elif isinstance(value, Mapping):
            for k, v in value.items():
                flat[f"{top}.{k}"] = v
        else:
            raise ConfigError(top, "unknown key")
    return servers


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Convert a file/env value to the type of the field's default."""
    if key in _SECRET_KEYS or isinstance(default, Secret):
        if isinstance(value, Secret):
            return value
        if not isinstance(value, str):
            raise ConfigError(key, "must be a string")
        return Secret(value)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(key, f"must be true or false, got {value!r}")
    if isinstance(default, int):
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(key, f"must be a whole number, got {value!r}") from None
    if isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(key, f"must be a number, got {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(key, f"must be a string, got {value!r}")
    return value


def _build_section(name: str, cls: type, flat: dict[str, Any]) -> Any:
    obj = cls()
    changes: dict[str, Any] = {}
    for f in fields(cls):
        key = f"{name}.{f.name}"
        if key in flat:
            changes[f.name] = _coerce(key, flat.pop(key), getattr(obj, f.name) if f.name != "dsn" else "")
    return replace(obj, **changes)


def _build_servers(servers_raw: list[Any], env: Mapping[str, str]) -> tuple[AmiServerConfig, ...]:
    servers: list[AmiServerConfig] = []
    known = {f.name for f in fields(AmiServerConfig)}
    for i, item in enumerate(servers_raw):
        where = f"ami.servers[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(where, "must be a table")
        base = AmiServerConfig(name=str(item.get("name", f"pbx{i + 1}")))
        changes: dict[str, Any] = {}
        for k, v in item.items():
            if k == "secret_env":
                if not isinstance(v, str) or not v:
                    raise ConfigError(f"{where}.secret_env", "must be the name of an environment variable")
                # A missing variable is not an error here: only commands that log in to AMI
                # need the secret, and they call require_ami_secrets (``dialer db migrate``
                # must work on a host that has no AMI secret).
                changes["secret_env"] = v
                if env.get(v):
                    changes["secret"] = Secret(env[v])
                continue
            if k not in known:
                raise ConfigError(f"{where}.{k}", "unknown key")
            changes[k] = _coerce(f"{where}.{k}", v, getattr(base, k))
        server = replace(base, **changes)
        per_server = env.get(f"DIALER_AMI_SECRET_{server.name.upper().replace('-', '_')}")
        if per_server:
            server = replace(server, secret=Secret(per_server))
        servers.append(server)

    env_fields = {field: env[var] for var, field in _ENV_AMI.items() if env.get(var)}
    if env_fields:
        first = servers[0] if servers else AmiServerConfig()
        coerced = {k: _coerce(f"DIALER_AMI_{k.upper()}", v, getattr(first, k)) for k, v in env_fields.items()}
        first = replace(first, **coerced)
        servers = [first, *servers[1:]]
    return tuple(servers)


def require_ami_secrets(cfg: DialerConfig) -> None:
    """Fail unless every AMI server has a secret: the check of the commands that log in to AMI.

    The configuration loads without AMI secrets so that commands that never talk to Asterisk
    (``dialer db migrate``, ``dialer campaign ...``) run where the secret is not provided; a
    command that logs in calls this first, so a forgotten variable is one clear line instead of
    an "Authentication failed" from Asterisk.

    Raises:
        ConfigError: naming the server's ``secret_env`` (or the variables to set when it has none).
    """
    for i, s in enumerate(cfg.ami.servers):
        if s.secret:
            continue
        where = f"ami.servers[{i}]"
        if s.secret_env:
            raise ConfigError(f"{where}.secret_env", f"environment variable {s.secret_env!r} is not set")
        per_server = f"DIALER_AMI_SECRET_{s.name.upper().replace('-', '_')}"
        raise ConfigError(
            f"{where}.secret", f"no AMI secret: set secret_env, DIALER_AMI_SECRET or {per_server}"
        )


_SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def _validate(cfg: DialerConfig) -> None:
    if cfg.log.format not in _LOG_FORMATS:
        raise ConfigError("log.format", f"must be one of {', '.join(_LOG_FORMATS)}, got {cfg.log.format!r}")
    if cfg.log.level.lower() not in _LOG_LEVELS:
        raise ConfigError("log.level", f"must be one of {', '.join(_LOG_LEVELS)}, got {cfg.log.level!r}")
    if not 0 <= cfg.metrics.port < 65536:
        reason = f"must be a TCP port (1-65535; 0: no metrics), got {cfg.metrics.port}"
        raise ConfigError("metrics.port", reason)
    _validate_api(cfg)
    _validate_reminders(cfg)
    if cfg.database.dsn is not None and cfg.database.dsn.reveal():
        problem = dsn_problem(cfg.database.dsn.reveal())
        if problem is not None:
            raise ConfigError("database.dsn", problem)
    if cfg.database.embedded_linger_s < 0:
        raise ConfigError("database.embedded_linger_s", "must be 0 (stop at once) or a number of seconds")
    if cfg.database.pool_min < 1 or cfg.database.pool_max < cfg.database.pool_min:
        raise ConfigError("database.pool_max", "must be >= database.pool_min >= 1")
    region = cfg.contacts.default_region
    if len(region) != 2 or not region.isalpha():
        raise ConfigError("contacts.default_region", f"must be a two-letter region code, got {region!r}")
    for key in ("drain_timeout_s", "tick_s", "lease_ttl_s", "disposition_timeout_s", "callback_grace_s",
                "queue_timeout_s"):
        value = getattr(cfg.engine, key)
        if value < 0 or (key in ("tick_s", "lease_ttl_s", "queue_timeout_s") and value == 0):
            raise ConfigError(f"engine.{key}", f"must be a positive number of seconds, got {value}")
    if not 0 <= cfg.engine.write_linger_s <= 1:
        raise ConfigError("engine.write_linger_s", f"must be 0 to 1 second, got {cfg.engine.write_linger_s}")
    if not 1 <= cfg.engine.takeover_s <= 300:
        raise ConfigError("engine.takeover_s", f"must be 1 to 300 seconds, got {cfg.engine.takeover_s}")
    if cfg.engine.max_campaigns < 0:
        raise ConfigError(
            "engine.max_campaigns", f"must be 0 (a fair share) or more, got {cfg.engine.max_campaigns}"
        )
    if not (cfg.engine.gc_young_threshold == 0 or 700 <= cfg.engine.gc_young_threshold <= 10_000_000):
        raise ConfigError(
            "engine.gc_young_threshold",
            "must be 0 (Python's default) or 700 to 10000000 allocations, "
            f"got {cfg.engine.gc_young_threshold}",
        )
    if cfg.engine.disposition_timeout_s > 3600:
        # dialer.model.ANSWERED_HOLD_S: the store's hold on an answered contact between renewals
        raise ConfigError("engine.disposition_timeout_s", "must be at most 3600 s (the answered hold)")
    if cfg.campaigns.amd_action not in ("hangup", "message", "agent"):
        raise ConfigError(
            "campaigns.amd_action", f"must be hangup, message or agent, got {cfg.campaigns.amd_action!r}"
        )
    if not 0 <= cfg.campaigns.amd_false_positive < 1:
        raise ConfigError("campaigns.amd_false_positive", "must be a share in [0, 1)")
    if cfg.engine.lease_ttl_s <= cfg.engine.tick_s:
        raise ConfigError(
            "engine.lease_ttl_s", "must be longer than engine.tick_s (leases are renewed each tick)"
        )
    names: set[str] = set()
    for i, s in enumerate(cfg.ami.servers):
        where = f"ami.servers[{i}]"
        if s.name in names:
            raise ConfigError(f"{where}.name", f"duplicate server name {s.name!r}")
        names.add(s.name)
        if not 0 < s.port < 65536:
            raise ConfigError(f"{where}.port", f"must be a TCP port (1-65535), got {s.port}")
        if s.channel_limit < 1:
            raise ConfigError(f"{where}.channel_limit", f"must be at least 1, got {s.channel_limit}")
        if not s.username:
            raise ConfigError(f"{where}.username", "must not be empty")
    _validate_groups(cfg)


def _validate_groups(cfg: DialerConfig) -> None:
    """A group name is a name campaigns select servers by: it must not be a server's name too."""
    names = {s.name for s in cfg.ami.servers}
    for i, s in enumerate(cfg.ami.servers):
        if not s.group:
            continue
        if not _SERVER_NAME.fullmatch(s.group):
            raise ConfigError(
                f"ami.servers[{i}].group", f"must be letters, digits, '.', '_' or '-', got {s.group!r}"
            )
        if s.group in names:
            raise ConfigError(
                f"ami.servers[{i}].group",
                f"{s.group!r} is also a server's name; a campaign naming it would be ambiguous",
            )


def _validate_api(cfg: DialerConfig) -> None:
    api = cfg.api
    if not 0 < api.port < 65536:
        raise ConfigError("api.port", f"must be a TCP port (1-65535), got {api.port}")
    if not api.host.strip():
        raise ConfigError("api.host", "must not be empty (127.0.0.1 serves this machine only)")
    if not api.token_ttl_s > 0:
        raise ConfigError("api.token_ttl_s", f"must be a positive number of seconds, got {api.token_ttl_s}")
    for key in ("login_failures_per_user", "login_failures_per_address"):
        if getattr(api, key) < 1:
            raise ConfigError(f"api.{key}", f"must be at least 1, got {getattr(api, key)}")
    if not api.login_window_s > 0:
        raise ConfigError(
            "api.login_window_s", f"must be a positive number of seconds, got {api.login_window_s}"
        )


def _validate_reminders(cfg: DialerConfig) -> None:
    r = cfg.reminders
    choices = {"smtp_tls": ("none", "starttls", "tls"), "sms_gateway": ("none", "http", "smpp")}
    for key, allowed in choices.items():
        if getattr(r, key) not in allowed:
            got = getattr(r, key)
            raise ConfigError(f"reminders.{key}", f"must be one of {', '.join(allowed)}, got {got!r}")
    for key in ("tick_s", "send_timeout_s", "retry_base_s", "retry_cap_s", "status_action_deadline_s"):
        if not getattr(r, key) > 0:
            got = getattr(r, key)
            raise ConfigError(f"reminders.{key}", f"must be a positive number of seconds, got {got}")
    if r.batch < 1:
        raise ConfigError("reminders.batch", f"must be at least 1, got {r.batch}")
    for key in ("smtp_port", "smpp_port"):
        if not 0 < getattr(r, key) < 65536:
            got = getattr(r, key)
            raise ConfigError(f"reminders.{key}", f"must be a TCP port (1-65535), got {got}")
    if r.sms_gateway == "http" and not r.sms_http_url.startswith(("http://", "https://")):
        raise ConfigError("reminders.sms_http_url", "must be an http(s):// URL for sms_gateway = http")
    if r.sms_gateway == "smpp" and not (r.smpp_host and r.smpp_system_id):
        raise ConfigError("reminders.smpp_host", "sms_gateway = smpp needs smpp_host and smpp_system_id")
