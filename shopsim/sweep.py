"""Sweeps: one or more operator policies over many seeds, profit and KPIs per seed, and their spread.

This is how an instructor compares strategies ("does the rule-based operator beat doing
nothing on most seeds, or only on average?") or checks a new scenario's spread before
giving it to a class::

    shopsim sweep baseline --policy shopsim.policies:rule_based --seeds 1-200 --days 30

One task is one (policy, scenario, seed, days): :func:`sweep_row` runs it and returns one row
(:data:`shopsim.reports.PERIOD_COLUMNS`). :func:`sweep` runs all of them, here one after
another or on a Dask cluster (:mod:`shopsim.cluster`), and the results are the same either
way: each task is a pure function of its arguments (same seed, same tables).

A policy is named ``module:function`` (``shopsim.policies:rule_based``) or
``path/to/file.py:function``; a file's source is read here and sent with the task, so remote
workers need shopsim but not the file. Sweeps run instructors' own policies, in the worker
itself; trainees' policies are graded with :func:`shopsim.grading.evaluate_policy`, which
isolates them.
"""

from __future__ import annotations

import importlib
import re
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopsim import reports
from shopsim.cluster import Packed, unpacked
from shopsim.errors import ShopsimError
from shopsim.scenario import Scenario, load_scenario
from shopsim.simulation import simulate

if TYPE_CHECKING:
    from distributed import Client

#: The quantiles of the summary table, as column names.
QUANTILES = {"p05": 0.05, "median": 0.5, "p95": 0.95}
#: The most seeds one sweep may list (a guard against a typo such as ``1-2000000``).
MAX_SEEDS = 100_000


class SweepError(ShopsimError, ValueError):
    """A sweep was asked for something it cannot do (a bad seed list, an unknown policy ...)."""


@dataclass(frozen=True)
class PolicySpec:
    """A policy by name, resolvable in any process: ``module:function`` or ``file.py:function``.

    ``source`` holds a file policy's code (read where the spec was made), so a worker on
    another machine can rebuild it.
    """

    name: str
    function: str
    module: str = ""
    source: str = ""

    def resolve(self) -> Callable[..., Any]:
        """The policy function ``f(view)``."""
        if self.source:
            namespace = types.ModuleType(f"shopsim_sweep_{Path(self.name.rsplit(':', 1)[0]).stem}")
            namespace.__file__ = self.name.rsplit(":", 1)[0]
            exec(compile(self.source, namespace.__file__, "exec"), namespace.__dict__)  # the instructor's file
            found = getattr(namespace, self.function, None)
        else:
            found = getattr(importlib.import_module(self.module), self.function, None)
        if not callable(found):
            raise SweepError(f"policy {self.name}: {self.function!r} is not a function there")
        return found


def parse_policy(text: str) -> PolicySpec:
    """``module:function`` or ``path/to/file.py:function`` as a :class:`PolicySpec`, checked here.

    Raises
    ------
    SweepError
        When the text has no ``:``, the module or file cannot be loaded, or has no such function.
    """
    where, sep, function = text.rpartition(":")
    if not sep or not where or not function.isidentifier():
        raise SweepError(f"policy {text!r}: give module:function (e.g. shopsim.policies:rule_based) "
                         "or path/to/file.py:function")
    if where.endswith(".py"):
        try:
            source = Path(where).read_text(encoding="utf-8")
        except OSError as exc:
            raise SweepError(f"policy {text}: cannot read {where} ({exc.strerror or exc})") from None
        spec = PolicySpec(text, function, source=source)
    else:
        spec = PolicySpec(text, function, module=where)
    try:
        spec.resolve()
    except SweepError:
        raise
    except Exception as exc:  # the module's own import error, whatever it is
        raise SweepError(f"policy {text}: cannot load it ({type(exc).__name__}: {exc})") from None
    return spec


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``1-200``, ``3,5,8`` or a mix (``1-10,20``), in the order given, no repeats.

    Raises
    ------
    SweepError
        On anything else, a range that runs backwards or more than :data:`MAX_SEEDS` seeds.
    """
    seeds: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise SweepError(f"seeds {text!r}: give whole numbers of 0 or more and ranges, e.g. 1-200 or 1-10,20")
        low, high = int(m[1]), int(m[2] if m[2] is not None else m[1])
        if high < low:
            raise SweepError(f"seeds {text!r}: the range {low}-{high} runs backwards; write {high}-{low}")
        if high - low + 1 + len(seeds) > MAX_SEEDS:
            raise SweepError(f"seeds {text!r}: more than {MAX_SEEDS:,} seeds in one sweep")
        seeds.extend(range(low, high + 1))
    return list(dict.fromkeys(seeds))


def sweep_row(policy: PolicySpec | Packed | Callable[..., Any] | None, scenario: Scenario, seed: int,
              days: int | None) -> dict[str, Any]:
    """One task: run ``policy`` on ``scenario`` for ``days`` with ``seed``; its totals and KPIs.

    Returns
    -------
    dict
        ``policy``, ``seed``, ``days`` and :data:`shopsim.reports.PERIOD_COLUMNS` (yuan,
        counts, rates).
    """
    function = policy.resolve() if isinstance(policy, PolicySpec) else unpacked(policy)
    sim = simulate(scenario, days=days, seed=int(seed), policy=function)
    tables = sim.tables
    row = {"policy": _label(policy), "seed": int(seed), "days": int(len(tables["daily"]))}
    row.update(reports.period_totals(tables["daily"], tables["pnl"], tables["ads"], *sim.records.run_people()))
    return row


def _label(policy: PolicySpec | Packed | Callable[..., Any] | None) -> str:
    if policy is None:
        return "none"
    if isinstance(policy, PolicySpec):
        return policy.name
    policy = unpacked(policy)
    return f"{getattr(policy, '__module__', '?')}:{getattr(policy, '__qualname__', repr(policy))}"


@dataclass(frozen=True)
class Sweep:
    """The result of :func:`sweep`.

    ``table``: one row per (policy, seed), columns ``policy``, ``seed``, ``days`` then
    :data:`shopsim.reports.PERIOD_COLUMNS`. ``summary``: long format, one row per (policy,
    KPI) with ``mean``, ``std``, ``min``, ``p05``, ``median``, ``p95``, ``max`` and
    ``ci95`` (half-width of the 95 % interval of the mean, normal approximation).
    """

    table: pd.DataFrame
    summary: pd.DataFrame

    def __repr__(self) -> str:
        return self.summary.to_string(index=False, float_format=lambda x: f"{x:,.4g}")


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """The summary statistics of a sweep table (see :class:`Sweep`)."""
    rows = []
    for policy, group in table.groupby("policy", sort=False):
        for kpi in reports.PERIOD_COLUMNS:
            values = group[kpi].astype(float).dropna()
            n = len(values)
            std = float(values.std(ddof=1)) if n > 1 else np.nan
            row = {"policy": policy, "kpi": kpi, "seeds": n, "mean": float(values.mean()) if n else np.nan,
                   "std": std, "min": float(values.min()) if n else np.nan}
            row.update({name: float(values.quantile(q)) if n else np.nan for name, q in QUANTILES.items()})
            row["max"] = float(values.max()) if n else np.nan
            row["ci95"] = 1.96 * std / np.sqrt(n) if n > 1 else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def sweep(scenario: Scenario | str | Path, policies: Sequence[PolicySpec | Callable[..., Any] | None],
          seeds: Sequence[int], *, days: int | None = None, client: Client | None = None,
          on_done: Callable[[int], None] | None = None) -> Sweep:
    """Run every policy on every seed; one row each, and the summary.

    Parameters
    ----------
    scenario:
        A scenario, a bundled scenario's name or a YAML path.
    policies:
        :class:`PolicySpec` (from :func:`parse_policy`), functions ``f(view)`` or None (no
        operator). With a ``client``, functions are sent with cloudpickle
        (:class:`shopsim.cluster.Packed`).
    seeds:
        Whole numbers of 0 or more; every policy gets the same seeds (common random numbers).
    days:
        Days per run; default the scenario's own length.
    client:
        A ``dask.distributed`` client: the tasks run on its workers. None runs them here, one
        after another.
    on_done:
        Called with the task's index as each task finishes.
    """
    seeds = [int(s) for s in seeds]
    if not seeds or min(seeds) < 0:
        raise SweepError(f"seeds must be a non-empty list of whole numbers of 0 or more, not {seeds!r}")
    if not policies:
        raise SweepError("give at least one policy")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    calls = [(p, seed) for p in policies for seed in seeds]
    if client is None:
        rows = []
        for i, (p, seed) in enumerate(calls):
            rows.append(sweep_row(p, sc, seed, days))
            if on_done is not None:
                on_done(i)
    else:
        from shopsim.cluster import run_tasks

        shared = client.scatter(sc, broadcast=True, hash=False)
        sent = {id(p): p if p is None or isinstance(p, PolicySpec) else Packed.of(p) for p in policies}
        rows = run_tasks(client, sweep_row, [(sent[id(p)], shared, seed, days) for p, seed in calls], on_done)
    table = pd.DataFrame(rows, columns=["policy", "seed", "days", *reports.PERIOD_COLUMNS])
    return Sweep(table, summarise(table))
