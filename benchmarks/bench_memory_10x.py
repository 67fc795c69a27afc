"""Memory at scale: ``high_traffic`` x10 for a year with every table streamed to Parquet; target <= 8 GB peak RSS.

The load is ten times ``high_traffic`` (about 110 million sessions a year): every keyword's
daily searches, the recommendation feed's exposures, the customer base (past buyers,
followers, market size), the opening stock and the inherited paid-search budget are
multiplied by ``--scale`` (default 10) with ``dataclasses.replace`` on the loaded scenario.

Measured in a fresh child process (so the figure is this run's alone): ``Simulation(...)``,
a :class:`shopsim.export.TableFiles` on a temporary folder (Parquet, every table of
``shopsim.TABLES``), ``sim.run(days)``, ``files.finish()``. Peak memory is the kernel's
high-water mark of the resident set (``VmHWM``, the whole process, imports included); the
growth over the RSS before the run, per session, is printed beside it. Wall time and
sessions per second are printed for context (one run: a year at this scale takes minutes;
the machine is shared, so they are measured under whatever load it had, printed with it).
The daily report and P&L come from the day book; the session-level tables are written in
chunks of ``shopsim.export.CHUNK_ROWS`` rows as the days close and let go.

Run: ``.venv/bin/python benchmarks/bench_memory_10x.py [--days 365] [--scale 10] [--strict]``
"""

from __future__ import annotations

import dataclasses
import gc
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as c

TARGET_GIB = 8.0


def scaled(scale: float):
    """``high_traffic`` with its traffic, customers, stock and ad budget times ``scale``."""
    import shopsim

    sc = shopsim.load_scenario("high_traffic")
    r = dataclasses.replace
    return r(sc,
             keywords=tuple(r(k, daily_searches=k.daily_searches * scale) for k in sc.keywords),
             feed=r(sc.feed, daily_exposures=sc.feed.daily_exposures * scale),
             customers=r(sc.customers, past_buyers=int(sc.customers.past_buyers * scale),
                         followers=int(sc.customers.followers * scale),
                         market_size=int(sc.customers.market_size * scale)),
             skus=tuple(r(s, initial_stock=int(s.initial_stock * scale)) for s in sc.skus),
             campaign=r(sc.campaign, daily_budget=sc.campaign.daily_budget * scale))


def child(days: int, seed: int, scale: float) -> dict:
    import shopsim
    from shopsim.export import TableFiles

    sc = scaled(scale)
    gc.collect()
    before = c.status_kib("VmRSS")
    with tempfile.TemporaryDirectory() as folder:
        t0 = c.clock()
        sim = shopsim.Simulation(sc, seed=seed)
        files = TableFiles(sim, Path(folder), "parquet")
        sim.run(days)
        files.finish()
        seconds = c.clock() - t0
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
    return {"sessions": sim.records.session_count, "seconds": seconds, "rss_before_kib": before,
            "peak_kib": c.status_kib("VmHWM"), "bytes_written": size,
            "customers": sim.customers.size}


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--days", type=int, default=365, help="days to simulate (default 365)")
    p.add_argument("--scale", type=float, default=10.0, help="traffic multiple of high_traffic (default 10)")
    p.add_argument("--child", action="store_true", help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.days, args.seed, args.scale)))
        return 0
    print(c.machine_note())
    cmd = [sys.executable, __file__, "--child", "--days", str(args.days), "--seed", str(args.seed),
           "--scale", str(args.scale)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    n, peak = r["sessions"], r["peak_kib"] * 1024
    print(f"bench_memory_10x: high_traffic x{args.scale:g}, {args.days} days, seed {args.seed}: {n:,} sessions "
          f"({n / args.days:,.0f} a day), {r['customers']:,} customers, {r['bytes_written'] / 2**30:.2f} GiB of "
          "Parquet written")
    print(f"  wall {r['seconds']:,.0f} s ({n / r['seconds']:,.0f} sessions/s, under the load above)")
    print(f"  peak RSS {peak / 2**30:.2f} GiB (VmHWM, whole process); growth over the {r['rss_before_kib'] / 2**20:.2f}"
          f" GiB before the run: {(peak - r['rss_before_kib'] * 1024) / n:.1f} B/session")
    print(f"      (load avg when it finished: {c.machine_note().split('load avg ')[1]})")
    ok = [c.verdict("peak RSS, 10x high_traffic year, every table to Parquet", peak / 2**30, TARGET_GIB,
                    at_most=True, unit="GiB", fmt=",.2f")]
    return c.finish(ok, args.strict)


if __name__ == "__main__":
    sys.exit(main())
