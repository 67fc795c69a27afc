"""Capstone for a cohort on Dask: 100 fixture policies x 10 seeds x 30 days on 2 cores; target at most 5 minutes.

What is timed (wall clock): :func:`shopsim.grading.distributed.evaluate_cohort` on a
``LocalCluster`` of 2 single-threaded worker processes pinned to 2 CPUs (``sched_setaffinity``
before the cluster starts; its workers inherit it), cluster start-up included:

- 10 reference tasks (one per seed: ``do_nothing`` and ``rule_based`` on ``baseline``, shared
  by every trainee);
- 100 trainee tasks, each one trainee's 10 seeds in one bubblewrap sandbox (a fresh process
  of it per seed, with its own time limit), exactly as
  :func:`shopsim.grading.evaluate_policy` runs them.

The fixture policies are a family an instructor would see in a class: each sets its own
price level on the first morning, steers paid search at its own bid and budget, and
reorders stock when it runs low (cheap to call, like most trainees' policies).

Per-task cost (seconds of one worker) comes from Dask's task stream, so a cluster's time can
be extrapolated: ``wall ~= start-up + (reference tasks x cost + trainee tasks x cost) / workers``;
a trainee task's cost is also given per seed. The machine may be shared: the load average is
printed before and after, and the CPU seconds the workers and their sandboxes used, which
give the wall time the same work would take with the 2 cores to itself (``CPU / 2``).
Before the cohort, one fixture policy's seeds are run in process and then in one sandbox
(CPU seconds per seed: what the sandbox adds). A second, smaller measurement times a plain
sweep (``shopsim.sweep``) of ``rule_based`` over seeds on the same cluster (runs per second).

Run: ``.venv/bin/python benchmarks/bench_cohort.py [--trainees 100] [--seeds 10] [--days 30] [--strict]``
"""

from __future__ import annotations

import functools
import os
import statistics
import sys

import _common as c

TARGET_SECONDS = 300.0


def fixture_policy(view, price_level: float, bid: float, budget: float) -> None:
    """A trainee-like policy: a price level, paid search at ``bid`` (yuan/click) and ``budget``, restocking."""
    if view.day == 0:
        for sku, price in view.prices().items():
            view.set_price(sku, round(price * price_level, 2))
        for word in sorted(view.keywords(), key=view.keywords().get, reverse=True)[:2]:
            view.set_keyword_bid(word, bid)
        view.set_ad_budget(budget)
    if view.day % 5 == 0:
        stock, on_order = view.stock(), view.on_order()
        for sku in view.skus:
            if stock[sku] + on_order[sku] < 150:
                view.reorder(sku, 300)


def cohort(n: int) -> dict:
    """``n`` fixture policies, ``trainee_001`` ..., each with its own price level, bid and budget."""
    return {f"trainee_{i + 1:03d}": functools.partial(fixture_policy, price_level=0.85 + 0.3 * (i % 10) / 9,
                                                      bid=round(0.5 + 0.25 * (i // 10 % 5), 2),
                                                      budget=200.0 + 100 * (i % 3))
            for i in range(n)}


def _cpu_seconds() -> float:
    """CPU seconds of this process and its ended children (a worker and the sandboxes it started)."""
    import resource

    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def sandbox_cost(policy, seeds: list[int], days: int) -> tuple[float, float]:
    """CPU seconds per seed of ``policy`` simulated in process, and in one sandbox for all ``seeds``.

    CPU time of this process and its sandboxes (not wall time): on a shared machine it is the
    steadier measure of what the sandbox adds to a trainee-seed.
    """
    import shopsim
    from shopsim.grading import capstone

    sc = shopsim.load_scenario("baseline")
    t0 = _cpu_seconds()
    for seed in seeds:
        float(shopsim.simulate(sc, days=days, seed=seed, policy=policy).tables["pnl"]["net_profit"].sum())
    t1 = _cpu_seconds()
    capstone.evaluate_seeds(policy, sc, seeds, days, timeout=120)
    return (t1 - t0) / len(seeds), (_cpu_seconds() - t1) / len(seeds)


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--trainees", type=int, default=100, help="fixture policies (default 100)")
    p.add_argument("--seeds", type=int, default=10, help="seeds per policy (default 10)")
    p.add_argument("--days", type=int, default=30, help="days per run (default 30)")
    p.add_argument("--sweep-seeds", type=int, default=20, help="seeds of the rule_based sweep (default 20)")
    args = p.parse_args(argv)

    from distributed import get_task_stream

    from shopsim import cluster
    from shopsim import sweep as sw
    from shopsim.grading.distributed import evaluate_cohort

    cpus = sorted(os.sched_getaffinity(0))[:2] if hasattr(os, "sched_getaffinity") else []
    if cpus:
        os.sched_setaffinity(0, cpus)
    seeds = list(range(args.seed, args.seed + args.seeds))
    policies = cohort(args.trainees)
    alone, boxed = sandbox_cost(policies[next(iter(policies))], seeds, args.days)
    load_before = os.getloadavg()[0]
    t0 = c.clock()
    with cluster.connect(workers=2) as client:
        started = c.clock() - t0
        cpu_before = sum(client.run(_cpu_seconds).values())
        with get_task_stream(client) as stream:
            results = evaluate_cohort(policies, "baseline", seeds, days=args.days, timeout=120, client=client)
        wall = c.clock() - t0
        cpu = sum(client.run(_cpu_seconds).values()) - cpu_before
        load_after = os.getloadavg()[0]
        t1 = c.clock()
        swept = sw.sweep("baseline", [sw.parse_policy("shopsim.policies:rule_based")],
                         range(1, args.sweep_seeds + 1), days=args.days, client=client)
        sweep_wall = c.clock() - t1
    cost: dict[str, list[float]] = {"reference": [], "policy": []}
    for task in stream.data:
        kind = str(task["key"]).split("-", 1)[0]
        if kind in cost:
            cost[kind].append(sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute"))
    ok = sum(r.status == "ok" for r in results.values())
    runs = args.trainees * len(seeds)
    print(f"bench_cohort: {args.trainees} policies x {args.seeds} seeds x {args.days} days on baseline, "
          f"LocalCluster of 2 workers pinned to CPUs {cpus or 'all'}")
    print(c.machine_note())
    print(f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after the cohort")
    print(f"one trainee-seed, CPU: {alone:.3f} s simulated in process, {boxed:.3f} s with its policy sandboxed "
          f"({len(seeds)} seeds in one sandbox, start-up included): the sandbox adds {boxed / alone - 1:.0%}")
    print(f"cluster start-up {started:.1f} s; {len(stream.data)} tasks ({len(cost['reference'])} reference, "
          f"{len(cost['policy'])} trainee, {runs} trainee-seeds) in {wall:.1f} s; {ok}/{args.trainees} policies ok")
    for kind, spent in cost.items():
        if spent:
            print(f"per {kind} task: mean {statistics.mean(spent):.3f} s, median {statistics.median(spent):.3f} s "
                  f"of one worker (n={len(spent)})")
    if cost["policy"]:
        print(f"per trainee-seed (sandbox start-up shared by its task's seeds): "
              f"{sum(cost['policy']) / runs:.3f} s of one worker")
    busy = sum(map(sum, cost.values()))
    print(f"throughput: {runs / wall:.1f} trainee-seeds/s; worker time {busy:.0f} s over "
          f"{wall - started:.0f} s x 2 workers = {busy / max(2 * (wall - started), 1e-9):.0%} busy")
    print(f"CPU: {cpu:.0f} s used by the workers and their sandboxes ({cpu / max(runs, 1):.3f} s per trainee-seed, "
          f"references included); with the 2 cores to itself: about {started + cpu / 2:.0f} s")
    if cost["policy"] and cost["reference"]:
        for workers in (2, 4, 8, 32):
            est = started + (sum(cost["reference"]) + sum(cost["policy"])) / workers
            print(f"  extrapolated with {workers:>2} workers: {est:6.0f} s")
    print(f"sweep: rule_based x {args.sweep_seeds} seeds x {args.days} days in {sweep_wall:.1f} s "
          f"({args.sweep_seeds / sweep_wall:.2f} runs/s on 2 workers); mean profit "
          f"{swept.table['net_profit'].mean():,.0f} yuan")
    verdict = c.verdict(f"{args.trainees} policies x {args.seeds} seeds x {args.days} days on 2 cores", wall,
                        TARGET_SECONDS, at_most=True, unit="s", fmt=",.1f")
    return c.finish([verdict], args.strict)


if __name__ == "__main__":
    sys.exit(main())
