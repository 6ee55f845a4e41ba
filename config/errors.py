"""Errors raised while loading configuration."""


class ConfigError(Exception):
    """A configuration value is missing or wrong.

    The message always names the key (``section.key``) and, where it is not a secret,
    the offending value, so an operator can fix the file without reading code.
    """

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason
