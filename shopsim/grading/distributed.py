"""Capstone evaluation of a whole cohort, optionally on a Dask cluster.

A cohort of N trainees x S seeds is N x S tasks "(policy, scenario, seed, days) -> (status,
profit, reason)" (:func:`policy_task`) plus S x R reference runs (:func:`reference_task`), one
per (scenario, seed, days) and reference policy, shared by every trainee: the references do
not depend on the trainee, so running them once removes R / (R + 1) of the old per-trainee
cost. The scores are then computed here exactly as :func:`shopsim.grading.evaluate_policy`
computes them, so a cohort graded on a cluster gets the same table and score as one graded
trainee by trainee.

Where the trainee's code runs: :func:`policy_task` calls
:func:`shopsim.grading.capstone.run_policy_seed` inside the Dask worker. That function is the
single place to plug a stronger sandbox (a separate process per run under a jail); nothing
here needs to change when it does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shopsim
from shopsim.cluster import Packed, require_children_allowed, run_tasks, unpacked
from shopsim.grading import capstone

if TYPE_CHECKING:
    from distributed import Client


def reference_task(scenario: shopsim.Scenario, seed: int, days: int | None,
                   references: Sequence[str]) -> dict[str, float]:
    """Net profit (yuan) of each reference policy on one seed (one task per (scenario, seed, days))."""
    return capstone.reference_profits(scenario, seed, days, references)


def policy_task(policy: Callable[..., Any] | Packed, scenario: shopsim.Scenario, seed: int, days: int | None,
                timeout: float) -> tuple[str, float, str]:
    """(status, net profit in yuan, reason) of one trainee's policy on one seed, run isolated in the worker."""
    require_children_allowed()
    return capstone.run_policy_seed(unpacked(policy), scenario, seed, days, timeout)


def evaluate_cohort(policies: Mapping[str, Callable[..., Any]], scenario: shopsim.Scenario | str | Path = "baseline",
                    seeds: Sequence[int] = (1, 2, 3), *, days: int | None = None, timeout: float = 60.0,
                    references: Sequence[str] = capstone.REFERENCES, client: Client | None = None,
                    on_done: Callable[[int], None] | None = None) -> dict[str, capstone.Evaluation]:
    """Evaluate every trainee's policy on the same seeds; the reference runs are done once per seed.

    Parameters
    ----------
    policies:
        Trainee (any label) -> policy ``f(view)``. With a ``client`` they are sent with
        cloudpickle (:class:`shopsim.cluster.Packed`): functions of a notebook or script travel
        by value; those of an importable module by reference unless the module is registered
        with ``cloudpickle.register_pickle_by_value`` (do that for trainees' files).
    scenario, seeds, days, timeout, references:
        As for :func:`shopsim.grading.evaluate_policy` (``timeout`` is per seed, in seconds).
    client:
        A ``dask.distributed`` client (:func:`shopsim.cluster.connect`); None runs every task
        here, one after another.
    on_done:
        Called with a running count as each task finishes (a progress bar).

    Returns
    -------
    dict
        Trainee -> :class:`~shopsim.grading.capstone.Evaluation`, in the order of ``policies``.
    """
    if not policies:
        raise ValueError("give at least one policy to evaluate")
    checked = [capstone.check_arguments(p, seeds, timeout) for p in policies.values()]
    seeds = checked[0]
    sc = scenario if isinstance(scenario, shopsim.Scenario) else shopsim.load_scenario(scenario)
    references = tuple(capstone._reference_policies(references))
    names = list(policies)
    ref_calls = [(seed, days, references) for seed in seeds]
    run_calls = [(policies[name], seed, days, timeout) for name in names for seed in seeds]
    done = iter(range(1, len(ref_calls) + len(run_calls) + 1))

    def tick(_: int) -> None:
        if on_done is not None:
            on_done(next(done))

    if client is None:
        reference_rows = []
        for seed, d, refs in ref_calls:
            reference_rows.append(reference_task(sc, seed, d, refs))
            tick(0)
        runs = []
        for policy, seed, d, t in run_calls:
            runs.append(policy_task(policy, sc, seed, d, t))
            tick(0)
    else:
        shared = client.scatter(sc, broadcast=True, hash=False)
        packed = {name: Packed.of(policy) for name, policy in policies.items()}
        run_calls = [(packed[name], seed, days, timeout) for name in names for seed in seeds]
        labels = [f"reference-seed{seed}" for seed in seeds] + [f"policy-{name}-seed{seed}" for name in names
                                                                 for seed in seeds]
        both = run_tasks(client, _task, [("reference", shared, *c) for c in ref_calls]
                         + [("policy", shared, *c) for c in run_calls], tick, labels)
        reference_rows, runs = both[:len(ref_calls)], both[len(ref_calls):]
    n = len(seeds)
    return {name: capstone.score(seeds, reference_rows, runs[i * n:(i + 1) * n]) for i, name in enumerate(names)}


def _task(kind: str, scenario: shopsim.Scenario, *args: Any) -> Any:
    """One cluster task: a reference run or a trainee's run (one submit call for both kinds)."""
    if kind == "reference":
        return reference_task(scenario, *args)
    policy, seed, days, timeout = args
    return policy_task(policy, scenario, seed, days, timeout)
