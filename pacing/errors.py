"""The pacing package's exception hierarchy, rooted in :class:`PacingError`.

Everything here is *our* misuse (a bad parameter, an unknown profile name, a snapshot that
cannot describe a real campaign): the pacing layer never talks to a peer, so there is no
"their fault" family.
"""

from __future__ import annotations


class PacingError(Exception):
    """Root of every error the pacing package raises on purpose."""


class UnknownProfile(PacingError):
    """A compliance profile name that is not one of ``us``, ``uk``, ``zero``."""

    def __init__(self, name: object, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"compliance profile: unknown name {name!r} (known: {', '.join(known)})")


class InvalidParameter(PacingError):
    """A pacing parameter or snapshot field is out of range. ``field`` names it."""

    def __init__(self, field: str, reason: str, value: object = None) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {reason}{shown}")


class TimeWentBackwards(PacingError):
    """An observation is older than the data it would be merged into."""

    def __init__(self, field: str, t_s: float, latest_s: float) -> None:
        self.t_s = t_s
        self.latest_s = latest_s
        super().__init__(f"{field}: time {t_s} is before {latest_s}, which is already forgotten")
