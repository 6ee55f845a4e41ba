"""The cyclic garbage collector's young threshold for an engine process (issue 18).

Why. CPython frees almost every object by reference counting the moment it is no longer used;
its cyclic collector is only for objects that refer to each other in a cycle. By default it
runs a young collection after every 700 net container allocations, a middle one after 10 of
those, and a full one after 10 middle ones (when the long-lived objects grew by a quarter). A
full collection walks every object the process holds: the imported libraries', the
configuration's, every call's. At 500 attempts/s the engine allocates fast enough for over a
hundred young collections and about one full collection a second: ``benchmarks.engine_throughput``
counted 5-8 full collections in a 6 s step, each stopping the event loop for 45-89 ms, which was
most of the loop lag that failed the 500/s step (p99 65-93 ms against a 50 ms budget).

What. The engine raises the young threshold (``engine.gc_young_threshold``, 20,000 by default;
the older generations keep Python's 10 and 10). Short-lived objects (each AMI message's
headers, each decision's view, each query's records) are then freed by reference counting
before a collection looks at them, so collections become rare: 1-3 young and no full
collection in the same step, and the loop lag p99 of the 500/s step fell under the budget
(docs/performance.md, "Garbage collection"). A cycle still gets collected, only later: at most
a young threshold's worth of container objects waits for it.

Not done: ``gc.freeze()`` after start-up (measured: no gain beyond the threshold here) and
turning the collector off (cycles from exceptions and their tracebacks would never be freed).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PYTHON_DEFAULT", "young_threshold"]

PYTHON_DEFAULT = 700  # CPython's own young threshold, what 0 in the configuration means


@contextmanager
def young_threshold(young: int) -> Iterator[None]:
    """Run the body with the collector's young threshold at ``young`` (0: Python's default).

    The thresholds before are restored on the way out, so a test that runs the daemon in its
    own process leaves the collector as it found it.
    """
    before = gc.get_threshold()
    gc.set_threshold(young or PYTHON_DEFAULT, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
