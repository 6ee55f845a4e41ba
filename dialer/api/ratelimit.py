"""Failed-login limits per user name and per client address: :class:`LoginLimiter`.

Pure: times come in as numbers. The counts live in this process's memory, which is enough
for the one engine process that serves the API; engines sharing a database each count their
own (a deployment with several would move this to the database). A success clears the user
name's failures, not the address's: one good password must not reset a guesser's budget of
other names from the same address.
"""

from __future__ import annotations

from collections import deque

__all__ = ["LoginLimiter"]


class LoginLimiter:
    """At most ``per_user`` failed logins per name and ``per_address`` per address in ``window_s``.

    Args:
        per_user, per_address: failures allowed within the window.
        window_s: the sliding window.
        max_keys: names and addresses remembered at most (oldest dropped first), so a flood of
            made-up names cannot grow memory without bound.
    """

    def __init__(self, *, per_user: int, per_address: int, window_s: float, max_keys: int = 100_000) -> None:
        self._limits = {"user": per_user, "address": per_address}
        self._window_s = window_s
        self._max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def retry_after_s(self, user: str, address: str, now_s: float) -> float:
        """0 when a login may be tried now, else the seconds until one may."""
        wait = 0.0
        for key in (("user", user), ("address", address)):
            times = self._recent(key, now_s)
            if times is not None and len(times) >= self._limits[key[0]]:
                wait = max(wait, times[0] + self._window_s - now_s)
        return wait

    def failed(self, user: str, address: str, now_s: float) -> None:
        for key in (("user", user), ("address", address)):
            times = self._failures.pop(key, None) or deque()
            times.append(now_s)
            self._failures[key] = times  # re-inserted: dicts keep insertion order, oldest first
        while len(self._failures) > self._max_keys:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, user: str) -> None:
        self._failures.pop(("user", user), None)

    def _recent(self, key: tuple[str, str], now_s: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] + self._window_s <= now_s:  # the same sum as the wait: no rounding gap
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
