"""Take-over time of several engines on one database (issue 15): SIGKILL the owner, time the move.

``python -m benchmarks.scale --engines 3 --kills 20``: real ``dialer run`` processes on one
PostgreSQL (a throwaway embedded server, or ``--dsn``) and one simulated PBX, one campaign per
engine. Each round waits until every campaign is owned and calls are up, SIGKILLs the owner
of a campaign, measures the time until every campaign is owned again by a live engine, then
starts the killed engine again under its id. Printed: the take-over times (min, median, p90,
max, against the ``--takeover`` setting), attempts left open at the end, and contacts dialled
twice at once (overlapping attempts of one contact), both of which must be 0.

Not measured here yet (issue 15's full benchmark): attempts/s and decision p99 per engine
count, and statements per attempt (unchanged by fencing: the check is inside the attempt
open and close statements; ``tests/dialer/store/test_store_pool.py`` pins their count).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.throwaway import benchmark_database
from dialer.cli import demo
from dialer.model import DialingMode
from tests.engine_process import (
    EngineProcess,
    attempt_rows,
    campaign_owners,
    kill_left,
    make_campaigns,
    start_campaigns,
    start_engine,
    start_multi_pbx,
    wait_for,
)

_MODES = [DialingMode.PREDICTIVE, DialingMode.PROGRESSIVE, DialingMode.PUSH_PREVIEW, DialingMode.PREVIEW]


async def scale(args: argparse.Namespace) -> int:
    modes = _MODES[: max(1, min(args.engines, len(_MODES)))]
    names = [demo.campaign_name(m) for m in modes]
    times: list[float] = []
    async with benchmark_database(args.dsn) as dsn:
        queues = await make_campaigns(dsn, modes, contacts=args.contacts)
        pbx = await start_multi_pbx(queues)
        root = Path(tempfile.mkdtemp(prefix="dialer-scale-"))
        ids = [f"scale-{i}" for i in range(1, args.engines + 1)]
        engines: dict[str, EngineProcess] = {}
        try:
            for engine_id in ids:
                engines[engine_id] = await start_engine(
                    root, dsn, pbx.port, engine_id, takeover_s=args.takeover
                )
            await start_campaigns(dsn, ids, names)
            for kill in range(args.kills):

                async def owned() -> bool:
                    now = await campaign_owners(dsn)
                    return all(now.get(n, (None, 0))[0] in engines for n in names)

                await wait_for(owned, timeout_s=120, every_s=0.1, what="every campaign owned")
                victim = (await campaign_owners(dsn))[names[kill % len(names)]][0] or ""
                engines[victim].kill()
                started = time.monotonic()
                await engines.pop(victim).wait(10)
                await wait_for(owned, timeout_s=120, every_s=0.05, what="every campaign owned again")
                times.append(time.monotonic() - started)
                print(f"kill {kill + 1}: {victim} -> owned again in {times[-1]:.2f} s", flush=True)
                folder = root / f"{victim}-{kill}"
                folder.mkdir()
                engines[victim] = await start_engine(folder, dsn, pbx.port, victim, takeover_s=args.takeover)
            for engine in engines.values():
                engine.terminate()
            for engine in engines.values():
                await engine.wait(90)
        finally:
            await kill_left(*engines.values())
            await pbx.close()
        attempts = [r for n in names for r in await attempt_rows(dsn, n)]
    left_open = sum(r["ended_at"] is None for r in attempts)
    by_contact: dict[int, list] = defaultdict(list)
    for r in attempts:
        by_contact[r["contact_id"]].append(r)
    twice = sum(
        1
        for rows in by_contact.values()
        for a, b in itertools.pairwise(sorted(rows, key=lambda r: r["started_at"]))
        if a["ended_at"] is None or a["ended_at"] > b["started_at"]
    )
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    print(
        f"\n{args.engines} engines, {len(names)} campaigns, takeover_s = {args.takeover}: take-over over"
        f" {len(times)} kills: min {ordered[0]:.2f} s, median {statistics.median(ordered):.2f} s,"
        f" p90 {p90:.2f} s, max {ordered[-1]:.2f} s"
    )
    print(f"attempts {len(attempts)}, left open {left_open}, contacts dialled twice at once {twice}")
    return 0 if left_open == 0 and twice == 0 else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--engines", type=int, default=3, help="engine processes (3)")
    p.add_argument("--kills", type=int, default=20, help="SIGKILLs, one per round (20)")
    p.add_argument("--takeover", type=float, default=10.0, help="engine.takeover_s (10)")
    p.add_argument("--contacts", type=int, default=3000, help="contacts per campaign (3000)")
    p.add_argument("--dsn", help="an existing database (default: a throwaway embedded PostgreSQL)")
    return asyncio.run(scale(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
