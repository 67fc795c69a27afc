"""Capstone evaluation of a whole cohort, optionally on a Dask cluster.

A cohort of N trainees x S seeds is graded as S reference tasks (:func:`reference_task`),
one per (scenario, seed, days) for all the reference policies, shared by every trainee (the
references do not depend on the trainee, so running them once removes R / (R + 1) of the
per-trainee cost), and trainee tasks (:func:`policy_task`): one per trainee, running all its
seeds in one sandbox, or a few per trainee when there are fewer trainees than worker slots
(:func:`seed_groups`). The scores are then computed here exactly as
:func:`shopsim.grading.evaluate_policy` computes them (:func:`capstone.score`), so a cohort
graded on a cluster gets the same table and score as one graded trainee by trainee.

Where the trainee's code runs: :func:`policy_task` calls
:func:`shopsim.grading.capstone.evaluate_seeds` inside the Dask worker, which starts the
policy's bubblewrap sandbox (:mod:`~shopsim.grading.sandbox`) on that machine once for the
task's seeds (each seed in a fresh process of it, with its own time limit), while the
simulations stay in the worker. The policy travels as the payload the sandbox receives
(:func:`capstone.policy_payload`: source text or the function pickled by value), made on
the client, so a worker never imports a trainee's module. Every worker needs ``bwrap``
(or the evaluation must be started with ``unsafe=True``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shopsim
from shopsim.cluster import run_tasks
from shopsim.grading import capstone, sandbox

if TYPE_CHECKING:
    from distributed import Client


def reference_task(scenario: shopsim.Scenario, seed: int, days: int | None,
                   references: Sequence[str]) -> dict[str, float]:
    """Net profit (yuan) of each reference policy on one seed (one task per (scenario, seed, days))."""
    return capstone.reference_profits(scenario, seed, days, references)


def policy_task(payload: tuple[str, Any], scenario: shopsim.Scenario, seeds: Sequence[int], days: int | None,
                timeout: float, limits: sandbox.Limits | None, unsafe: bool) -> list[capstone.SeedRun]:
    """One trainee's policy on some seeds, in one sandbox on the machine this task runs on.

    The runs stop at the first seed the policy fails (:func:`capstone.evaluate_seeds`).
    """
    return capstone.evaluate_seeds(payload, scenario, seeds, days, timeout=timeout, limits=limits, unsafe=unsafe)


def seed_groups(seeds: Sequence[int], trainees: int, slots: int) -> list[list[int]]:
    """The seeds of one trainee, split so that the cohort's tasks fill ``slots`` workers twice over.

    A sandbox's start-up is paid once per group, so a large cohort gets one group per trainee
    (its seeds in order); a single trainee on a cluster gets up to one group per seed.
    """
    parts = max(1, min(len(seeds), math.ceil(2 * slots / max(trainees, 1))))
    bounds = [i * len(seeds) // parts for i in range(parts + 1)]
    return [list(seeds[a:b]) for a, b in itertools.pairwise(bounds)]


def evaluate_cohort(policies: Mapping[str, Callable[..., Any] | str],
                    scenario: shopsim.Scenario | str | Path = "baseline", seeds: Sequence[int] = (1, 2, 3), *,
                    days: int | None = None, timeout: float = 60.0, references: Sequence[str] = capstone.REFERENCES,
                    limits: sandbox.Limits | None = None, unsafe: bool = False, client: Client | None = None,
                    on_done: Callable[[int], None] | None = None) -> dict[str, capstone.Evaluation]:
    """Evaluate every trainee's policy on the same seeds; the reference runs are done once per seed.

    Parameters
    ----------
    policies:
        Trainee (any label) -> policy ``f(view)`` or source text defining ``policy(view)``.
        Each is turned into the sandbox's payload here (:func:`capstone.policy_payload`):
        functions of a trainee's file travel by value, so workers need not import it.
    scenario, seeds, days, timeout, references, limits, unsafe:
        As for :func:`shopsim.grading.evaluate_policy` (``timeout`` is per seed, in seconds).
    client:
        A ``dask.distributed`` client (:func:`shopsim.cluster.connect`); None runs every task
        here, one after another.
    on_done:
        Called with a running count as each task finishes (a progress bar): one per seed's
        reference runs and one per group of a trainee's seeds (:func:`seed_groups`).

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
    payloads = {name: capstone.policy_payload(policy) for name, policy in policies.items()}
    ref_calls = [(seed, days, references) for seed in seeds]
    groups = seed_groups(seeds, len(names), sum(client.nthreads().values()) if client is not None else 0)
    run_calls = [(payloads[name], group, days, timeout, limits, unsafe) for name in names for group in groups]
    done = iter(range(1, len(ref_calls) + len(run_calls) + 1))

    def tick(_: int) -> None:
        if on_done is not None:
            on_done(next(done))

    if client is None:
        reference_rows = []
        for call in ref_calls:
            reference_rows.append(reference_task(sc, *call))
            tick(0)
        runs = []
        for call in run_calls:
            runs.append(policy_task(call[0], sc, *call[1:]))
            tick(0)
    else:
        shared = client.scatter(sc, broadcast=True, hash=False)
        labels = [f"reference-seed{seed}" for seed in seeds] + [
            f"policy-{name}-seeds{group[0]}-{group[-1]}" for name in names for group in groups]
        both = run_tasks(client, _task, [("reference", shared, *c) for c in ref_calls]
                         + [("policy", shared, *c) for c in run_calls], tick, labels)
        reference_rows, runs = both[:len(ref_calls)], both[len(ref_calls):]
    n = len(groups)  # a group stops at its failed seed; score reads no run after the first failure
    return {name: capstone.score(seeds, reference_rows, [run for part in runs[i * n:(i + 1) * n] for run in part])
            for i, name in enumerate(names)}


def _task(kind: str, scenario: shopsim.Scenario, *args: Any) -> Any:
    """One cluster task: a reference run or a trainee's run (one submit call for both kinds)."""
    if kind == "reference":
        return reference_task(scenario, *args)
    return policy_task(args[0], scenario, *args[1:])
