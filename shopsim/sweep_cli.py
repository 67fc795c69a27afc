"""The ``sweep`` subcommand of ``shopsim``: policies x seeds on a Dask cluster, a table and its spread.

::

    shopsim sweep SCENARIO [--policy module:function ...] [--seeds 1-200] [--days N]
                  [--scheduler tcp://host:8786 | --workers N] [--out FILE.csv|.parquet] [--no-progress]

Prints one row per (policy, seed) with profit and KPIs, then the summary statistics per
policy; ``--out`` writes the per-seed table to FILE and the summary next to it
(``FILE-summary.csv``). Bad input is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from shopsim import sweep as sw
from shopsim.cli import whole_in_range
from shopsim.errors import ShopsimError

#: Columns of the per-seed table printed on screen (the file has them all).
SHOWN = ("policy", "seed", "net_profit", "gmv", "orders", "uv", "conversion_rate", "aov", "ad_spend", "roas")
#: KPIs of the summary printed on screen (the file has them all).
SHOWN_KPIS = ("net_profit", "gmv", "orders", "conversion_rate", "aov", "roas")


def _seeds(text: str) -> list[int]:
    try:
        return sw.parse_seeds(text)
    except sw.SweepError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def summary_path(out: Path) -> Path:
    """Where the summary goes beside the per-seed table ``out``: ``name-summary.ext``."""
    return out.with_name(f"{out.stem}-summary{out.suffix}")


def _write(frame: pd.DataFrame, path: Path) -> None:
    try:
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    except OSError as exc:
        raise ShopsimError(f"cannot write {path}: {exc.strerror or exc}") from None


def _text(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda x: f"{x:,.4g}" if abs(x) < 1 else f"{x:,.2f}")


def _sweep(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from shopsim.cluster import connect
    from shopsim.scenario import load_scenario

    if args.out is not None and Path(args.out).suffix not in (".csv", ".parquet"):
        raise ShopsimError(f"--out {args.out}: give a .csv or .parquet file name")
    sc = load_scenario(args.scenario)
    specs = [sw.parse_policy(p) for p in (args.policy or ["shopsim.policies:do_nothing"])]
    tasks = len(specs) * len(args.seeds)
    start = time.perf_counter()
    with connect(args.scheduler, args.workers) as client, \
            tqdm(total=tasks, unit="run", desc=f"sweeping {sc.name}", file=sys.stderr, disable=args.no_progress,
                 leave=False) as bar:
        workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        result = sw.sweep(sc, specs, args.seeds, days=args.days, client=client, on_done=lambda _: bar.update(1))
    elapsed = time.perf_counter() - start
    print(f"scenario {sc.name}, {len(args.seeds)} seeds x {len(specs)} polic{'y' if len(specs) == 1 else 'ies'}, "
          f"{int(result.table['days'].iloc[0])} days each\n")
    print(_text(result.table[list(SHOWN)]))
    print("\nSummary over seeds (yuan, counts, rates; ci95 = half-width of the 95 % interval of the mean)")
    print(_text(result.summary[result.summary["kpi"].isin(SHOWN_KPIS)]))
    where = args.scheduler or "a LocalCluster on this machine"
    print(f"\n{tasks} runs on {workers} worker{'s' if workers != 1 else ''} ({where}) in {elapsed:.1f} s")
    if args.out is not None:
        out = Path(args.out)
        _write(result.table, out)
        _write(result.summary, summary_path(out))
        print(f"per-seed table: {out}; summary: {summary_path(out)}")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``sweep`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser("sweep", help="run policies over many seeds (on Dask); profit and KPIs per seed")
    p.add_argument("scenario", help="bundled scenario name or path to a YAML file")
    p.add_argument("--policy", action="append", metavar="MODULE:FUNCTION",
                   help="policy to run, module:function or file.py:function (repeatable; "
                        "default shopsim.policies:do_nothing)")
    p.add_argument("--seeds", type=_seeds, default=sw.parse_seeds("1-20"),
                   help="seeds, e.g. 1-200 or 1-10,20 (default 1-20)")
    p.add_argument("--days", type=whole_in_range(1, 3660, "days"), help="days per run (default: the scenario's)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, tcp://host:port (default: a LocalCluster, one worker per core)")
    p.add_argument("--workers", type=whole_in_range(1, 1024, "workers"),
                   help="LocalCluster worker processes (default: one per core; ignored with --scheduler)")
    p.add_argument("--out", metavar="FILE", help="write the per-seed table (.csv or .parquet) and FILE-summary")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_sweep)

