"""Capstone evaluation: a trainee's policy against the reference policies over several seeds.

Each run of the trainee's policy happens in a forked child process with a time limit, so a
policy that loops forever, exits the interpreter or crashes costs at most ``timeout``
seconds and never hangs the notebook or the grader. The reference policies are looked up
by name in :mod:`shopsim.policies` (those that exist are used).

Score (0 to 100). For each seed and each reference policy, the trainee earns
``clip(0.5 + (profit - reference_profit) / (2 * max(|reference_profit|, 1 yuan)), 0, 1)``:
0.5 for matching the reference's profit, 1 for doubling it, 0 for losing all of it. The
score is 100 times the mean over seeds and references. A policy that raises, runs too long
or ends the process scores 0, with the reason.
"""

from __future__ import annotations

import html
import multiprocessing
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import shopsim
from shopsim import policies

if TYPE_CHECKING:
    from distributed import Client

REFERENCES: tuple[str, ...] = ("do_nothing", "rule_based")


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate_policy`.

    ``table`` has one row per seed: ``seed``, ``profit`` (the trainee's net profit, yuan),
    one column of net profit per reference policy (yuan) and ``points`` (0 to 1).
    """

    table: pd.DataFrame
    score: float
    status: str
    reason: str
    references: tuple[str, ...]

    def __repr__(self) -> str:
        head = f"capstone score {self.score:.1f} / 100 ({self.status}{': ' + self.reason if self.reason else ''})"
        return head + "\n" + self.table.to_string(index=False, float_format=lambda x: f"{x:,.2f}")

    def _repr_html_(self) -> str:
        head = html.escape(f"capstone score {self.score:.1f} / 100 ({self.status}"
                           f"{': ' + self.reason if self.reason else ''})")
        return f"<p><strong>{head}</strong></p>" + self.table.to_html(index=False, float_format=lambda x: f"{x:,.2f}")


def _child(policy: Callable[..., Any] | None, scenario: Any, days: int | None, seed: int, conn: Any) -> None:
    """Run one simulation in the child process and send back ("ok", profit) or ("error", why)."""
    try:
        sim = shopsim.simulate(scenario, days=days, seed=seed, policy=policy)
        conn.send(("ok", float(sim.tables["pnl"]["net_profit"].sum())))
    except BaseException as exc:  # the trainee's policy: anything it raises is the reason
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _run_isolated(policy: Callable[..., Any] | None, scenario: Any, days: int | None, seed: int,
                  timeout: float) -> tuple[str, float, str]:
    """(status, profit in yuan, reason) of one run in a forked child with a time limit."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(policy, scenario, days, seed, send), daemon=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        proc.start()
    send.close()
    try:
        if not receive.poll(timeout):
            if proc.is_alive():
                return "timeout", np.nan, f"seed {seed}: still running after {timeout:g} s (an endless loop?)"
            proc.join(1)
            return "crashed", np.nan, f"seed {seed}: the policy ended the process (exit code {proc.exitcode})"
        try:
            kind, value = receive.recv()
        except EOFError:
            proc.join(1)
            return "crashed", np.nan, f"seed {seed}: the policy ended the process (exit code {proc.exitcode})"
        if kind == "ok":
            return "ok", float(value), ""
        return "error", np.nan, f"seed {seed}: the policy raised {value}"
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receive.close()


def _reference_policies(names: Iterable[str]) -> dict[str, Callable[..., Any]]:
    found = {n: getattr(policies, n) for n in names if callable(getattr(policies, n, None))}
    if not found:
        raise ValueError(f"none of the reference policies {', '.join(names)} exists in shopsim.policies")
    return found


def _points(profit: float, reference: float) -> float:
    return float(np.clip(0.5 + (profit - reference) / (2 * max(abs(reference), 1.0)), 0.0, 1.0))


def reference_profits(scenario: shopsim.Scenario, seed: int, days: int | None,
                      references: Sequence[str]) -> dict[str, float]:
    """Net profit (yuan) of each reference policy on one seed: the same for every trainee, so run once."""
    return {name: float(shopsim.simulate(scenario, days=days, seed=int(seed), policy=ref)
                        .tables["pnl"]["net_profit"].sum())
            for name, ref in _reference_policies(references).items()}


def run_policy_seed(policy: Callable[..., Any], scenario: shopsim.Scenario, seed: int, days: int | None,
                    timeout: float) -> tuple[str, float, str]:
    """(status, net profit in yuan, reason) of the trainee's policy on one seed, isolated.

    The one place a trainee's code runs; batch and distributed evaluation call it per seed.
    """
    return _run_isolated(policy, scenario, days, int(seed), timeout)


def check_arguments(policy: Callable[..., Any], seeds: Sequence[int], timeout: float) -> list[int]:
    """The seeds as ints; TypeError/ValueError on a policy that is not callable, bad seeds or timeout."""
    if not callable(policy):
        raise TypeError(f"policy must be a function f(view), not {type(policy).__name__}")
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of whole numbers of 0 or more, not {seeds!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return [int(s) for s in seeds]


def score(seeds: Sequence[int], reference_rows: Sequence[dict[str, float]],
          runs: Sequence[tuple[str, float, str]]) -> Evaluation:
    """The :class:`Evaluation` from each seed's reference profits and the trainee's runs, in seed order.

    The first run that is not ``ok`` decides the status; the seeds after it count as not run
    (profit NaN), whether they were run or not, so the result does not depend on how many
    seeds ran at once.
    """
    refs = tuple(reference_rows[0]) if reference_rows else ()
    rows, status, reason = [], "ok", ""
    for i, seed in enumerate(seeds):
        row: dict[str, Any] = {"seed": int(seed), "profit": np.nan, **reference_rows[i]}
        if status == "ok" and i < len(runs):
            status, row["profit"], reason = runs[i]
        rows.append(row)
    table = pd.DataFrame(rows, columns=["seed", "profit", *refs])
    if status == "ok":
        table["points"] = [np.mean([_points(r["profit"], r[n]) for n in refs]) for r in rows]
        total = round(100.0 * float(table["points"].mean()), 2)
    else:
        table["points"] = 0.0
        total = 0.0
    return Evaluation(table, total, status, reason, refs)


def evaluate_policy(policy: Callable[..., Any], scenario: shopsim.Scenario | str | Path = "baseline",
                    seeds: Sequence[int] = (1, 2, 3), *, days: int | None = None, timeout: float = 60.0,
                    references: Sequence[str] = REFERENCES, client: Client | None = None) -> Evaluation:
    """Simulate ``policy`` on ``scenario`` for each seed and score it against the references.

    Parameters
    ----------
    policy:
        The trainee's ``f(view)``, called each simulated morning.
    scenario:
        A scenario, a bundled scenario's name or a YAML path.
    seeds:
        The seeds to run (the same seeds for every policy: common random numbers).
    days:
        Days per run; default the scenario's own length.
    timeout:
        Seconds allowed for one run of the trainee's policy (one seed).
    references:
        Names of reference policies in :mod:`shopsim.policies`; missing ones are skipped.
    client:
        A ``dask.distributed`` client: every seed (the trainee's run and the reference runs)
        becomes a task on its workers; the result equals the run here. None runs here, one
        seed after another. For a whole cohort, :func:`shopsim.grading.distributed.evaluate_cohort`
        also shares the reference runs between trainees.

    Returns
    -------
    Evaluation
        The per-seed profit table (yuan), the score (0 to 100), a status (``ok``, ``error``,
        ``timeout`` or ``crashed``) and the reason when it is not ``ok``.
    """
    seeds = check_arguments(policy, seeds, timeout)
    sc = scenario if isinstance(scenario, shopsim.Scenario) else shopsim.load_scenario(scenario)
    _reference_policies(references)  # fails early when none exists
    if client is not None:
        from shopsim.grading.distributed import evaluate_cohort

        return evaluate_cohort({"policy": policy}, sc, seeds, days=days, timeout=timeout,
                               references=references, client=client)["policy"]
    reference_rows, runs = [], []
    for seed in seeds:
        reference_rows.append(reference_profits(sc, seed, days, references))
        if all(status == "ok" for status, _, _ in runs):
            runs.append(run_policy_seed(policy, sc, seed, days, timeout))
    return score(seeds, reference_rows, runs)
