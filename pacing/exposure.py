"""The hard bound behind ``worst_hour_cap``: calls that may still be abandoned, counted at worst.

Why a count and not a forecast: the forecast's expected abandons are right on average and
wrong in some states (docs/pacing.md: the small team's worst hour came from states it priced
at 0.001-0.01), so a guard that trusts them bounds the hour only in expectation. Here every
call no ready agent covers for certain - unreserved calls ringing, customers waiting, the
new calls - is *exposed*: assumed to end abandoned. A launch (or a reservation that takes a
ready agent away from a ringing call) goes ahead only if every rolling window that can hold
those abandons stays at or under the cap with all of them in.

**Which windows.** The window ending ``x`` seconds from now holds the newest ``window - x``
seconds of the history plus what happens in between. Abandons in between come only from
calls in flight at the last decision before the window ends (each decision checks its own),
so by induction over decisions every window stays under the cap, given one assumption about
the future: at least ``live_per_s`` answers that are *not* abandoned, per second, in every
stretch of time (``floor(live_per_s * x)`` in any ``x`` seconds). That floor is the one thing
not in the pacer's hands: with none (every call unanswered after an abandon, or a campaign
stopped), the hour that starts just before an abandon would hold it alone. A window ending
after the campaign stops is therefore not covered. Ready agents are assumed to stay ready
for the calls in flight (one who pauses takes the cover away).

**Buckets read on the safe side.** The history comes in buckets
(:meth:`pacing.abandon.AbandonTracker.suffixes`). A window whose old end falls inside a
bucket is credited only the answers of the buckets wholly inside it and charged the abandons
of every bucket it touches; its future answers are counted for its shortest possible
future. So the room is a lower bound for every window, whatever the bucket width.

**The room.** ``k`` exposed calls fit into a window holding ``live`` answers and
``abandoned`` abandons with ``future`` answers still to come while
``abandoned + k <= cap * (live + future + k)`` (each abandon is a live answer too), i.e.
``k <= (cap * (live + future) - abandoned) / (1 - cap)``; where estimated AMD false
positives count (UK), every answer brings ``fp_ratio`` of them to both sides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def exposure_room(suffixes: Iterable[tuple[float, float, float]], window_s: float, cap: float,
                  live_per_s: float, fp_ratio: float = 0.0) -> int:
    """How many exposed calls (each possibly abandoned) every rolling window can still take.

    Args:
        suffixes: ``(seconds covered, live, abandoned)`` of the window's newest parts, newest
            first (:meth:`pacing.abandon.AbandonTracker.suffixes`).
        window_s: the rolling window's length.
        cap: the rate no window may exceed, in ``[0, 1)``.
        live_per_s: a floor on non-abandoned live answers per second from now on.
        fp_ratio: estimated AMD false positives per live answer, where they count.

    Returns:
        The number of calls, never negative (0 when some window has no room, or is over).
    """
    if cap <= 0.0:
        return 0

    def room(live: float, abandoned: float, ahead_s: float) -> float:
        future = math.floor(max(ahead_s, 0.0) * live_per_s + 1e-9)
        spare = cap * (live + future * (1.0 + fp_ratio)) - abandoned - fp_ratio * future
        return spare / ((1.0 - cap) * (1.0 + fp_ratio))

    best = math.inf
    inside = 0.0                       # answers of the buckets wholly inside the window
    everything: tuple[float, float] = (0.0, 0.0)
    for span_s, live, abandoned in suffixes:
        # Windows whose old end falls in this bucket: its abandons, the newer buckets' answers.
        best = min(best, room(inside, abandoned, window_s - span_s))
        if span_s >= window_s:
            break
        inside = live
        everything = (live, abandoned)
    else:
        # Windows reaching past the oldest bucket hold it all; the nearest ends now.
        best = min(best, room(everything[0], everything[1], 0.0))
    return max(math.floor(best + 1e-9), 0)


def ready_to_keep(room: int, ringing: int, waiting: int, ready: int) -> int:
    """Ready agents that must stay free (not reserved to new calls) to cover calls in flight.

    Calls ringing unreserved and customers waiting are exposed unless a ready agent is
    there for them; past ``room`` of them, the rest need one each.
    """
    return min(max(ringing + waiting - room, 0), ready)


def exposed_launch_cap(room: int, ringing: int, waiting: int, free: int) -> int:
    """Most new unreserved calls with ``free`` ready agents left after reservations."""
    return max(room + free - ringing - waiting, 0)
