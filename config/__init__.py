"""Configuration: schema, layered loading (defaults < file < env < CLI), validation."""

from config.errors import ConfigError
from config.loader import default_home, load_config, require_ami_secrets
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

__all__ = [
    "AmiConfig",
    "AmiServerConfig",
    "ApiConfig",
    "CampaignDefaultsConfig",
    "ConfigError",
    "ContactsConfig",
    "DatabaseConfig",
    "DialerConfig",
    "EngineConfig",
    "LogConfig",
    "MetricsConfig",
    "RemindersConfig",
    "Secret",
    "default_home",
    "load_config",
    "require_ami_secrets",
]
