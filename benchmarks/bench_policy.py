"""A policy reading tables every morning: ``rule_based`` against ``do_nothing`` on ``baseline``; target at most 1.3x.

``rule_based`` reads ``inventory``, ``reviews``, ``daily`` and ``ads`` each simulated morning
(and acts: reorders, replies, bids); ``do_nothing`` reads nothing. The tables come from the
simulation's cache (``shopsim.tables``), extended by the rows of the day that just closed, so
the policy's cost should be its own logic plus one day's rows, not a rebuild of the run.

Timed: ``shopsim.simulate("baseline", days, seed=S, policy=P)`` (scenario loaded once,
untimed), the two policies alternated ``--repeat`` times (at least 5), at 30 and at 90 days.
Both CPU seconds of this process (judged: the machine is shared, so wall time also measures
the neighbours) and wall time are printed. The ratio rule_based / do_nothing is printed from
the best runs (min) and from the medians; the median ratio at 30 days is judged.

Run: ``.venv/bin/python benchmarks/bench_policy.py [--repeat 5] [--days 30 90] [--strict]``
"""

from __future__ import annotations

import gc
import statistics
import sys

import _common as c

TARGET_RATIO = 1.3


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--repeat", type=int, default=5, help="alternated pairs (default 5)")
    p.add_argument("--days", type=int, nargs="+", default=[30, 90], help="run lengths (default 30 90)")
    args = p.parse_args(argv)

    import shopsim
    from shopsim.policies import do_nothing, rule_based

    sc = shopsim.load_scenario("baseline")
    print("bench_policy: rule_based vs do_nothing on baseline (CPU seconds judged, wall in brackets)")
    print(c.machine_note())
    verdicts = []
    for days in args.days:
        cpu: dict[str, list[float]] = {"do_nothing": [], "rule_based": []}
        wall: dict[str, list[float]] = {"do_nothing": [], "rule_based": []}
        shopsim.simulate(sc, 2, seed=args.seed, policy=rule_based)  # warm-up: imports, first-call costs
        for _ in range(args.repeat):
            for policy in (do_nothing, rule_based):
                gc.collect()
                t0, w0 = c.cpu_clock(), c.clock()
                shopsim.simulate(sc, days, seed=args.seed, policy=policy)
                cpu[policy.__name__].append(c.cpu_clock() - t0)
                wall[policy.__name__].append(c.clock() - w0)
        for name in cpu:
            print(f"  {days} days {name:<11} median {statistics.median(cpu[name]):.3f} s (min {min(cpu[name]):.3f}; "
                  f"wall median {statistics.median(wall[name]):.3f})")
        best = min(cpu["rule_based"]) / min(cpu["do_nothing"])
        median = statistics.median(cpu["rule_based"]) / statistics.median(cpu["do_nothing"])
        wall_ratio = statistics.median(wall["rule_based"]) / statistics.median(wall["do_nothing"])
        print(f"  {days} days: rule_based / do_nothing {median:.2f}x median, {best:.2f}x best-vs-best "
              f"(wall medians {wall_ratio:.2f}x)")
        if days == 30:
            verdicts.append(c.verdict("rule_based / do_nothing, 30 days, median", median, TARGET_RATIO,
                                      at_most=True, unit="x", fmt=".2f"))
    print(c.machine_note())
    return c.finish(verdicts, args.strict)


if __name__ == "__main__":
    sys.exit(main())
