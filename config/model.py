"""The configuration schema: one frozen dataclass per section, defaults in code.

Layering (lowest first): defaults here < TOML file < ``DIALER_*`` environment < command
line. :func:`config.loader.load_config` builds these once at start-up and validates them,
so the rest of the engine never re-reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.secret import Secret

# Asterisk's manager.conf default port (Asterisk docs, manager.conf.sample).
DEFAULT_AMI_PORT = 5038
# Prometheus port used by the examples; an operator picks their own.
DEFAULT_METRICS_PORT = 9108
# The HTTP API's port in the examples; an operator picks their own.
DEFAULT_API_PORT = 8080


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """Where the store lives. ``dsn=None`` means: start the embedded PostgreSQL.

    ``embedded_linger_s``: a ``dialer`` command that starts the embedded server leaves it up
    until nothing used it for this long, so the next commands only connect (0: stop it at
    once, as the last user exits).
    """

    dsn: Secret | None = None
    pool_min: int = 1
    pool_max: int = 10
    embedded_linger_s: float = 300.0


@dataclass(frozen=True, slots=True)
class AmiServerConfig:
    """One Asterisk server the engine originates calls through."""

    name: str = "default"
    host: str = "127.0.0.1"
    port: int = DEFAULT_AMI_PORT
    username: str = "dialer"
    secret: Secret = field(default_factory=lambda: Secret(""))
    # The environment variable the secret comes from (``secret_env``); kept so that a command
    # that talks to AMI can say which variable is missing (only those commands need it).
    secret_env: str = ""
    # Most calls this engine may have up on the server at once (trunk/licence limit).
    channel_limit: int = 100
    # A server group a campaign may name instead of its servers one by one (issue 15): "" none.
    group: str = ""
    ping_interval_s: float = 20.0
    connect_timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class AmiConfig:
    servers: tuple[AmiServerConfig, ...] = ()

    def selectable(self) -> dict[str, tuple[str, ...]]:
        """What a campaign's ``servers`` may name: each server, and each group -> its servers."""
        out: dict[str, tuple[str, ...]] = {s.name: (s.name,) for s in self.servers}
        for s in self.servers:
            if s.group:
                out[s.group] = (*out.get(s.group, ()), s.name)
        return out


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """The Prometheus endpoint; ``port = 0`` serves none (as ``enabled = false``; demo: --metrics-port 0)."""

    port: int = DEFAULT_METRICS_PORT
    host: str = "127.0.0.1"
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """The HTTP API (issue 9), served by the engine process.

    ``token_ttl_s``: how long a login's bearer token lives; 12 h covers a shift (our default).
    Failed logins are limited to ``login_failures_per_user`` per user name and
    ``login_failures_per_address`` per client address within ``login_window_s``.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_API_PORT
    enabled: bool = True
    token_ttl_s: float = 12 * 3600.0
    login_failures_per_user: int = 5
    login_failures_per_address: int = 20
    login_window_s: float = 300.0


@dataclass(frozen=True, slots=True)
class LogConfig:
    """``format``: ``json`` for production, ``console`` for a terminal, ``auto`` picks by tty."""

    format: str = "auto"
    level: str = "info"


@dataclass(frozen=True, slots=True)
class ContactsConfig:
    # Region used to parse numbers written without a country code (ISO 3166 alpha-2).
    default_region: str = "PL"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How the ``dialer run`` daemon behaves.

    ``engine_id`` names this engine on its leases and attempts: a restarted engine with the
    same id reconciles the attempts its predecessor left open, so it must be stable across
    restarts (empty means the host name). ``drain_timeout_s`` bounds how long SIGTERM waits
    for calls in progress before leases are released anyway.
    """

    engine_id: str = ""
    drain_timeout_s: float = 60.0
    tick_s: float = 1.0
    lease_ttl_s: float = 120.0
    # How long an agent may leave a connected contact without a disposition (then the
    # campaign default is applied); 120 s is the wrap-up limit the seeds' products default to.
    disposition_timeout_s: float = 120.0
    # How long a due personal callback waits for its absent agent before any agent may take it.
    callback_grace_s: float = 900.0
    # Log in every agent assigned to a campaign, on its stored interface, when the campaign's
    # runner starts: for unattended set-ups (auto-answer phones, the simulated PBX) until
    # agents log in through the API themselves.
    autologin_agents: bool = False
    # Dial campaigns flagged demo (generated numbers, simulated people). Only `dialer demo` and
    # test rigs against the simulated PBX set it; `dialer run` on a real trunk never should.
    dial_demo_campaigns: bool = False
    # The connect limit handed to the dialplan (DESIGN.md: 2 s). Only a time-scaled simulator
    # needs another value: `dialer demo` sets 2 / time_scale, so that it stays 2 real seconds,
    # the limit the pacing policy plans with.
    queue_timeout_s: float = 2.0
    # Several engines on one database (issue 15): a campaign whose owner sent no heartbeat for
    # this long is taken over by another engine (heartbeats every quarter of it), so a killed
    # engine's campaigns run again within about 1.25 times this.
    takeover_s: float = 10.0
    # A close that finds no batch of closes to join waits this long for others to join it
    # (issue 18: one read and one write for the batch instead of for each close); 0: never.
    write_linger_s: float = 0.05
    # The most campaigns this engine runs at once (0: its fair share, campaigns / live engines).
    max_campaigns: int = 0
    # The garbage collector's young threshold (issue 18, dialer/gc_tuning.py): Python's 700
    # made the engine stop for full collections of 45-89 ms at 500 attempts/s; 0: Python's.
    gc_young_threshold: int = 20_000


@dataclass(frozen=True, slots=True)
class CampaignDefaultsConfig:
    """Defaults ``dialer campaign create`` gives a new campaign for what its options leave out.

    Answering-machine detection (issue 17 item 5): off unless asked for; ``amd_action`` is
    ``hangup``, ``message`` (play ``amd_message``, a sound name) or ``agent``;
    ``amd_false_positive`` is the operator's estimate of people AMD takes for machines (the
    UK profile counts them as abandons and needs one to allow AMD that hangs up).
    """

    amd: bool = False
    amd_action: str = "hangup"
    amd_message: str = ""
    amd_false_positive: float = 0.0


@dataclass(frozen=True, slots=True)
class RemindersConfig:
    """The reminder service (issue 14): its loop and its channels.

    ``enabled`` runs the service inside ``dialer run``. E-mail goes over SMTP
    (``smtp_tls``: ``none``, ``starttls`` or ``tls``); SMS through ``sms_gateway``: ``none``,
    ``http`` (a provider's REST API: ``sms_http_url``, ``sms_http_method``, the header
    ``sms_http_auth_header`` carrying the secret ``sms_http_auth``, the Jinja2 body
    ``sms_http_body`` and the reply's id field ``sms_http_id_field``) or ``smpp``. Secrets
    (``smtp_password``, ``sms_http_auth``, ``smpp_password``) come from the environment
    (DIALER_SMTP_PASSWORD, DIALER_SMS_HTTP_AUTH, DIALER_SMPP_PASSWORD) and are never logged.
    """

    enabled: bool = True
    tick_s: float = 15.0
    batch: int = 50
    send_timeout_s: float = 20.0
    retry_base_s: float = 60.0
    retry_cap_s: float = 1800.0
    status_action_deadline_s: float = 3600.0
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_username: str = ""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    email_from: str = ""
    sms_gateway: str = "none"
    sms_sender: str = ""
    sms_http_url: str = ""
    sms_http_method: str = "POST"
    sms_http_auth_header: str = "Authorization"
    sms_http_auth: Secret = field(default_factory=lambda: Secret(""))
    sms_http_body: str = '{"to": {{ to|tojson }}, "from": {{ sender|tojson }}, "text": {{ text|tojson }}}'
    sms_http_content_type: str = "application/json"
    sms_http_id_field: str = "id"
    smpp_host: str = ""
    smpp_port: int = 2775
    smpp_system_id: str = ""
    smpp_password: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True, slots=True)
class DialerConfig:
    """The whole engine configuration.

    ``home`` is the per-user directory for the embedded database and other state
    (``DIALER_HOME`` overrides it).
    """

    home: Path
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    ami: AmiConfig = field(default_factory=AmiConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    log: LogConfig = field(default_factory=LogConfig)
    contacts: ContactsConfig = field(default_factory=ContactsConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    campaigns: CampaignDefaultsConfig = field(default_factory=CampaignDefaultsConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
