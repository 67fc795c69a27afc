"""The engine against its peers at equal visitors: two naive per-visitor SimPy funnels and a bare numpy funnel.

Targets (issue 15): at ``baseline`` scale (30 days, about 132,000 visitors, about 184
sessions per hour slice) the engine is at least 20x the second naive peer and within 3x of
the bare vectorised numpy funnel; at ``high_traffic`` scale at least 30x both naive peers
(the architecture's 30x). The peers:

* **naive 1** (``naive_funnel.py``): the project's per-visitor model over the engine's own
  traffic groups (one SimPy process per visitor, five timed funnel steps, a numpy
  ``Generator`` call per decision, the same sessions table);
* **naive 2** (``simple_peer.py``): an independent plain funnel, one SimPy process per
  visitor, Python's ``random``, three fixed steps, the engine's visitors per hour and step
  chances (the harder yardstick: it does the least a per-visitor model can);
* **bare numpy** (:func:`bare_funnel` below): the engine's slice with everything but the
  draws taken away: per hour, Poisson counts per traffic group (the engine's groups and hour
  weights), five uniforms and a Poisson page count per session (the same draws the engine
  makes per session), the bounce / cart / pay decisions, the time sort, and the arrays
  appended; at the end one sessions DataFrame.

Timed, construction excluded, in CPU seconds of the benchmark's process (``time.process_time``:
the machine is shared by several jobs, and wall time there measures the neighbours; wall
time is printed beside it): engine ``sim.run(days)`` + ``sim.tables["sessions"]``
on a fresh ``Simulation``; each peer's run plus its table. The four are run in turn,
alternated, ``--repeat`` times (at least 5); rates are sessions per second; each ratio is
printed from the best runs (min times) and from the medians, and the median ratio is judged.
The engine does far more than any peer per slice (orders, baskets, stock, ads, reviews,
refunds, rivals, ranking, a market that moves), so every ratio under-states the gap between
models of equal scope. The machine is shared: figures are measured under the load printed.
(``naive_funnel.market_from_engine`` and a probe run fix the peers' markets first, untimed.)

Run: ``.venv/bin/python benchmarks/bench_vs_naive.py [--days 30] [--ht-days 7] [--repeat 5] [--strict]``
"""

from __future__ import annotations

import gc
import statistics
import sys
from collections.abc import Callable

import _common as c
import numpy as np
import pandas as pd
from naive_funnel import NaiveFunnel, market_from_engine
from simple_peer import SimplePeer, funnel_of

TARGET_NAIVE_2 = 20.0   # baseline scale, the second peer
TARGET_BARE = 3.0       # baseline scale, at most this many times the bare numpy funnel
TARGET_HIGH = 30.0      # high_traffic scale, both naive peers


def bare_funnel(scenario: str, days: int, seed: int) -> pd.DataFrame:
    """The draws of the engine's slices and nothing else (see module doc)."""
    import shopsim

    sim = shopsim.Simulation(scenario, seed=seed)
    sim.run(1)
    g, clock, sc = sim._groups, sim.clock, sim.scenario
    rng = np.random.default_rng(seed)
    extra = max(sc.shoppers.extra_pages - 1.0, 0.0)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("ts", "group", "pc", "bounced", "cart", "ordered", "pages")}
    for hour in range(days * 24):
        counts = rng.poisson(g.rate * clock.traffic_weight(hour // 24, hour % 24))
        group = np.repeat(np.arange(len(counts)), counts)
        n = len(group)
        offset = (rng.random(n) * 3600).astype(np.int16)
        order = np.argsort(offset, kind="stable")
        group, ts = group[order], hour * 3600 + offset[order].astype(np.int64)
        u = rng.random((5, n))
        pages = rng.poisson(extra, n).astype(np.int16) + 2
        pc = u[3] >= sc.traffic.mobile_share
        bounced = u[0] < g.bounce[group, pc.view(np.int8)]
        chose = ~bounced & (u[1] < g.cart[group, 0])
        ordered = chose & (u[2] < g.checkout[group])
        pages[bounced] = 1
        for k, v in zip(parts, (ts, group, pc, bounced, chose, ordered, pages), strict=True):
            parts[k].append(v)
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    return pd.DataFrame({
        "session_id": np.arange(1, len(cols["ts"]) + 1), "ts": clock.timestamps(cols["ts"]),
        "device": pd.Categorical.from_codes(cols["pc"].astype(np.int8), categories=["mobile", "pc"]),
        "landing_group": cols["group"], "bounced": cols["bounced"], "added_to_cart": cols["cart"],
        "ordered": cols["ordered"], "page_views": cols["pages"]}, copy=False)


def compare(scenario: str, days: int, seed: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Print one alternated comparison; return, per peer, the engine's (best, median) ratio."""
    import shopsim

    sc = shopsim.load_scenario(scenario)
    market = market_from_engine(scenario, seed)
    probe = shopsim.simulate(sc, days, seed=seed).tables["sessions"]
    funnel = funnel_of(probe, days)

    def engine() -> pd.DataFrame:
        sim = shopsim.Simulation(sc, seed=seed)
        gc.collect()
        sim.run(days)
        return sim.tables["sessions"]

    runners: dict[str, Callable[[], pd.DataFrame]] = {
        "engine": engine,
        "naive 1": lambda: NaiveFunnel(market, seed).run(days).table(),
        "naive 2": lambda: SimplePeer(funnel, seed).run(days).table(),
        "bare numpy": lambda: bare_funnel(scenario, days, seed),
    }
    times: dict[str, list[float]] = {k: [] for k in runners}
    walls: dict[str, list[float]] = {k: [] for k in runners}
    sizes: dict[str, int] = {}
    for k, run in runners.items():  # warm-up
        sizes[k] = len(run())
    for _ in range(repeat):
        for k, run in runners.items():
            gc.collect()
            t0, w0 = c.cpu_clock(), c.clock()
            sizes[k] = len(run())
            times[k].append(c.cpu_clock() - t0)
            walls[k].append(c.clock() - w0)
    print(f"-- {scenario!r}, {days} days, seed {seed}, {repeat} alternated rounds (CPU seconds of this process; "
          "wall in brackets)")
    rate = {k: (sizes[k] / min(t), sizes[k] / statistics.median(t)) for k, t in times.items()}
    for k, t in times.items():
        print(f"  {k:<11} {sizes[k]:>10,} sessions  median {statistics.median(t):8.3f} s (min {min(t):.3f}; wall "
              f"median {statistics.median(walls[k]):.3f}) -> {rate[k][1]:>11,.0f} sessions/s (best {rate[k][0]:,.0f})")
    print(f"  per hour slice: {sizes['engine'] / (days * 24):,.0f} sessions; engine "
          f"{statistics.median(times['engine']) / (days * 24) * 1e3:.2f} ms a slice")
    out = {}
    for k in ("naive 1", "naive 2", "bare numpy"):
        best, median = rate["engine"][0] / rate[k][0], rate["engine"][1] / rate[k][1]
        out[k] = (best, median)
        print(f"  engine / {k:<10}: {median:6.2f}x median, {best:6.2f}x best-vs-best")
    return out


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--days", type=int, default=30, help="days of baseline (default 30)")
    p.add_argument("--ht-days", type=int, default=7, help="days of high_traffic (default 7; the peers' cost is per "
                                                          "visitor, so the ratio is the year's)")
    p.add_argument("--repeat", type=int, default=5, help="alternated rounds (default 5, at least 5 to judge)")
    p.add_argument("--no-high-traffic", action="store_true", help="skip the high_traffic comparison")
    args = p.parse_args(argv)
    print("bench_vs_naive: engine (numpy per hour slice) vs two per-visitor SimPy funnels and a bare numpy funnel")
    print(c.machine_note())
    base = compare("baseline", args.days, args.seed, args.repeat)
    verdicts = [
        c.verdict("engine / naive 2, baseline scale, median", base["naive 2"][1], TARGET_NAIVE_2, at_most=False,
                  unit="x", fmt=".1f"),
        c.verdict("bare numpy / engine time, baseline scale, median", 1 / base["bare numpy"][1], TARGET_BARE,
                  at_most=True, unit="x", fmt=".1f"),
    ]
    print(f"      (engine / naive 1 at baseline scale: {base['naive 1'][1]:.1f}x median)")
    if not args.no_high_traffic:
        ht = compare("high_traffic", args.ht_days, args.seed, args.repeat)
        verdicts += [c.verdict(f"engine / {k}, high_traffic scale, median", ht[k][1], TARGET_HIGH, at_most=False,
                               unit="x", fmt=".1f") for k in ("naive 1", "naive 2")]
    print(c.machine_note())
    return c.finish(verdicts, args.strict)


if __name__ == "__main__":
    sys.exit(main())
