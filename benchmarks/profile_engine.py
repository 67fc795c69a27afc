"""Where the engine's time goes: cProfile of one run (and its tables), top functions printed.

Not a benchmark (no target; the ``bench_*.py`` loop skips it). Profiles, after one untimed
warm-up run::

    sim = shopsim.Simulation(scenario, seed=S); sim.run(days); then the tables (--tables all|sessions|none)

and prints the top ``--top`` functions by cumulative time and by internal time (tottime),
plus the number of calls. cProfile adds a fixed cost per Python call, so functions called
very often look heavier than they are; use the wall-clock figures of the ``bench_*``
scripts for absolute time and this for where to look.

Run: ``.venv/bin/python benchmarks/profile_engine.py [baseline|high_traffic] [--days N] [--top 25] [--out FILE.prof]``
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys

import _common as c


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("scenario", nargs="?", default="baseline", help="bundled scenario or YAML path")
    p.add_argument("--days", type=int, default=None, help="days to run (default: the scenario's length)")
    p.add_argument("--tables", choices=("all", "sessions", "none"), default="all", help="tables built after the run")
    p.add_argument("--top", type=int, default=25, help="functions listed per ordering (default 25)")
    p.add_argument("--out", help="also write the raw profile here (for snakeviz / pstats)")
    args = p.parse_args(argv)

    import shopsim

    sc = shopsim.load_scenario(args.scenario)
    names = {"all": shopsim.TABLES, "sessions": ("sessions",), "none": ()}[args.tables]

    def work() -> int:
        sim = shopsim.Simulation(sc, seed=args.seed)
        sim.run(args.days)
        for name in names:
            sim.tables[name]
        return sim.records.session_count

    work()  # warm-up
    prof = cProfile.Profile()
    t0 = c.clock()
    prof.enable()
    sessions = work()
    prof.disable()
    wall = c.clock() - t0
    print(f"profile_engine: {args.scenario!r}, days {args.days or sc.days}, tables {args.tables}, "
          f"{sessions:,} sessions, {wall:.2f} s under the profiler")
    print(c.machine_note())
    for order in ("cumulative", "tottime"):
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(order)
        stats.print_stats(args.top)
        text = buf.getvalue()
        print(f"\n==== by {order} ====")
        print(text[text.find("   ncalls"):].rstrip())
    if args.out:
        prof.dump_stats(args.out)
        print(f"\nraw profile written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
