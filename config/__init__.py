"""Configuration: schema, layered loading (defaults < file < env < CLI), validation."""

from config.errors import ConfigError
from config.loader import default_home, load_config
from config.model import (
    AmiConfig,
    AmiServerConfig,
    ApiConfig,
    ContactsConfig,
    DatabaseConfig,
    DialerConfig,
    EngineConfig,
    LogConfig,
    MetricsConfig,
)
from config.secret import Secret

__all__ = [
    "AmiConfig",
    "AmiServerConfig",
    "ApiConfig",
    "ConfigError",
    "ContactsConfig",
    "DatabaseConfig",
    "DialerConfig",
    "EngineConfig",
    "LogConfig",
    "MetricsConfig",
    "Secret",
    "default_home",
    "load_config",
]
