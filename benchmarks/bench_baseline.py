"""Baseline end to end: ``baseline`` for its 30 days, every table built; target at most 0.5 s.

What is timed (wall clock, the import of ``shopsim`` excluded, everything else included)::

    sim = shopsim.simulate("baseline", seed=S)       # loads + validates the YAML, builds, runs 30 days
    for name in shopsim.TABLES:
        sim.tables[name]                             # builds each table once

One untimed warm-up run goes first (first-call costs: lazy imports inside pandas, the OS file
cache), then ``--repeat`` (default 7) timed runs, all with the same seed so each does the same
work; the median is the figure judged against the target, the min is printed beside it, and
the runs' CPU seconds (this process's) below it: on a shared machine the wall time also
measures the neighbours.

The breakdown is measured in separate runs of the same steps, done one at a time
(``load_scenario`` / ``Simulation(...)`` / ``run()`` / each table in ``TABLES`` order), so it
shows where the time goes; its medians need not add up exactly to the headline median.
Tables that derive from others (``pnl``, ``daily``) reuse the cached tables they read, so
their share is their own work only, as in the headline run.

Run: ``.venv/bin/python benchmarks/bench_baseline.py [--repeat 7] [--seed 7] [--strict]``
"""

from __future__ import annotations

import gc
import sys

import _common as c

TARGET_SECONDS = 0.5


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--repeat", type=int, default=7, help="timed runs (default 7)")
    p.add_argument("--scenario", default="baseline", help="bundled scenario or YAML path (default baseline)")
    args = p.parse_args(argv)

    import shopsim

    cpu = c.Timings("end to end, CPU seconds")

    def end_to_end() -> int:
        p0 = c.cpu_clock()
        sim = shopsim.simulate(args.scenario, seed=args.seed)
        for name in shopsim.TABLES:
            sim.tables[name]
        cpu.runs.append(c.cpu_clock() - p0)
        return len(sim.tables["sessions"])

    gc.collect()
    runs, sessions = c.repeat(end_to_end, args.repeat)
    del cpu.runs[0]  # the warm-up
    total = c.Timings("end to end", runs)

    steps = {k: c.Timings(k) for k in ("load_scenario", "Simulation()", "run()", "tables (all)")}
    per_table = {name: c.Timings(f"  table {name}") for name in shopsim.TABLES}
    for i in range(args.repeat + 1):
        gc.collect()
        t0 = c.clock()
        sc = shopsim.load_scenario(args.scenario)
        t1 = c.clock()
        sim = shopsim.Simulation(sc, seed=args.seed)
        t2 = c.clock()
        sim.run()
        t3 = c.clock()
        for name in shopsim.TABLES:
            ta = c.clock()
            sim.tables[name]
            if i:
                per_table[name].runs.append(c.clock() - ta)
        t4 = c.clock()
        if i:  # the first pass is a warm-up
            for t, (a, b) in zip(steps.values(), ((t0, t1), (t1, t2), (t2, t3), (t3, t4)), strict=True):
                t.runs.append(b - a)

    print(f"bench_baseline: {args.scenario!r}, {sim.days_run} days, seed {args.seed}, "
          f"{sessions:,} sessions, {len(sim.tables['orders']):,} orders")
    print(c.machine_note())
    print(total.line())
    print(cpu.line())
    print("breakdown (separate runs, medians):")
    for t in steps.values():
        print("  " + t.line())
    for t in per_table.values():
        print("  " + t.line(unit="ms", scale=1000))
    ok = c.verdict("baseline 30 days end to end, median", total.median, TARGET_SECONDS, at_most=True, unit="s")
    print(f"      (min {total.best:.3f} s)")
    return c.finish([ok], args.strict)


if __name__ == "__main__":
    sys.exit(main())
