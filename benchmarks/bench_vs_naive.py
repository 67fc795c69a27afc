"""The engine against the naive one-process-per-visitor SimPy funnel, at equal visitors; target 30x.

Both models simulate the same market: ``naive_funnel.market_from_engine`` runs the real
engine for one day of the scenario and takes its traffic groups (rates, ``bounce``,
``cart``, ``checkout``, sources, keywords, landing SKUs) and customer base; the naive peer
(``naive_funnel.NaiveFunnel``, see its docstring for exactly what it does) then runs one
SimPy process per visitor over that frozen market.

Timed, for the same number of days (so the same expected number of visitors; both counts are
printed), wall clock, construction excluded on both sides:

* engine: ``sim.run(days)`` + ``sim.tables["sessions"]`` on a fresh ``Simulation(scenario, seed)``;
* naive: ``NaiveFunnel(market, seed).run(days).table()`` (the same sessions DataFrame).

Rate = sessions / seconds; ratio = engine rate / naive rate, medians over ``--repeat`` runs
(engine) and ``--naive-repeat`` runs (naive). The engine does much more per slice than the
peer (orders, baskets, stock, reviews, followers, rivals' sales, daily ranking, a market that
moves), so the ratio under-states the gap between models of equal scope.

Judged at both scales, each with its own verdict line: ``baseline`` for its 30 days (about
185 sessions per hour slice) and ``high_traffic`` (``--ht-days``, default 3 days, about 1,250
sessions per slice, the scale of the throughput target). The engine's cost is mostly per hour
slice and the naive peer's is per visitor, so the ratio grows with traffic: at baseline scale
the fixed cost of a slice dominates and the target is not met; at high-traffic scale it is.
A funnel check prints the shares of bounced, carted and ordered sessions of both models, to
show that they simulate the same shoppers.

Run: ``.venv/bin/python benchmarks/bench_vs_naive.py [--days 30] [--ht-days 3] [--no-high-traffic] [--strict]``
"""

from __future__ import annotations

import gc
import sys

import _common as c
import pandas as pd
from naive_funnel import NaiveFunnel, market_from_engine

TARGET_RATIO = 30.0


def _engine_runs(scenario: str, days: int, seed: int, repeat: int) -> tuple[c.Timings, pd.DataFrame]:
    import shopsim

    sc = shopsim.load_scenario(scenario)
    timings = c.Timings(f"engine {scenario}")
    table = pd.DataFrame()
    for i in range(repeat + 1):
        sim = shopsim.Simulation(sc, seed=seed)
        gc.collect()
        t0 = c.clock()
        sim.run(days)
        table = sim.tables["sessions"]
        if i:  # the first run is a warm-up
            timings.runs.append(c.clock() - t0)
    return timings, table


def _naive_runs(scenario: str, days: int, seed: int, repeat: int) -> tuple[c.Timings, pd.DataFrame]:
    market = market_from_engine(scenario, seed)
    timings = c.Timings(f"naive {scenario}")
    table = pd.DataFrame()
    for _ in range(repeat):
        model = NaiveFunnel(market, seed)
        gc.collect()
        t0 = c.clock()
        table = model.run(days).table()
        timings.runs.append(c.clock() - t0)
    return timings, table


def _funnel(table: pd.DataFrame) -> str:
    returning = (table["source"] == "returning").mean()
    return (f"bounced {table['bounced'].mean():6.2%}  carted {table['added_to_cart'].mean():6.2%}  "
            f"ordered {table['ordered'].mean():6.3%}  pc {(table['device'] == 'pc').mean():6.2%}  "
            f"returning {returning:6.2%}  new customers {table['is_new_customer'].mean():6.2%}")


def compare(scenario: str, days: int, seed: int, repeat: int, naive_repeat: int) -> float:
    """Print one comparison; return the ratio of median rates (engine / naive)."""
    eng, et = _engine_runs(scenario, days, seed, repeat)
    nai, nt = _naive_runs(scenario, days, seed, naive_repeat)
    e_rate, n_rate = len(et) / eng.median, len(nt) / nai.median
    print(f"-- {scenario!r}, {days} days, seed {seed}")
    print(f"  engine: {len(et):>10,} sessions  {eng.line()[29:]}  -> {e_rate:>12,.0f} sessions/s "
          f"(best {len(et) / eng.best:,.0f})")
    print(f"  naive:  {len(nt):>10,} sessions  {nai.line()[29:]}  -> {n_rate:>12,.0f} sessions/s "
          f"(best {len(nt) / nai.best:,.0f})")
    print(f"  per session: engine {eng.median / len(et) * 1e6:.2f} us, naive {nai.median / len(nt) * 1e6:.2f} us; "
          f"visitors naive/engine = {len(nt) / len(et):.3f}")
    print(f"  funnel engine: {_funnel(et)}")
    print(f"  funnel naive:  {_funnel(nt)}")
    ratio = e_rate / n_rate
    print(f"  ratio engine/naive: {ratio:.1f}x (best-vs-best {len(et) / eng.best / (len(nt) / nai.best):.1f}x)")
    return ratio


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--days", type=int, default=30, help="days of baseline for both models (default 30)")
    p.add_argument("--repeat", type=int, default=7, help="engine timed runs (default 7)")
    p.add_argument("--naive-repeat", type=int, default=3, help="naive timed runs (default 3)")
    p.add_argument("--ht-days", type=int, default=3, help="days of the high_traffic comparison (default 3)")
    p.add_argument("--no-high-traffic", action="store_true", help="skip the high_traffic comparison")
    args = p.parse_args(argv)

    print("bench_vs_naive: engine (numpy per hour slice) vs naive (one SimPy process per visitor)")
    print(c.machine_note())
    ratio = compare("baseline", args.days, args.seed, args.repeat, args.naive_repeat)
    verdicts = []
    if not args.no_high_traffic:
        ht = compare("high_traffic", args.ht_days, args.seed, args.repeat, args.naive_repeat)
        verdicts.append(c.verdict("engine / naive sessions per second, high_traffic scale, median", ht,
                                  TARGET_RATIO, at_most=False, unit="x", fmt=".1f"))
    verdicts.append(c.verdict("engine / naive sessions per second, baseline scale, median", ratio, TARGET_RATIO,
                              at_most=False, unit="x", fmt=".1f"))
    return c.finish(verdicts, args.strict)


if __name__ == "__main__":
    sys.exit(main())
