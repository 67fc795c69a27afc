"""Tuning the rule-based operator: a small search for the settings of :func:`shopsim.policies.tuned`.

The search is coordinate ascent: starting from :data:`shopsim.policies.RULES`, it tries each
candidate value of one setting at a time (:data:`CANDIDATES`), keeps a value when it raises
the mean net profit over the tuning scenarios and seeds, and goes round the settings
:data:`ROUNDS` times. The tuning seeds (:data:`SEEDS`) are kept apart from the seeds any
lesson grades on, so the tuned reference is not fitted to the grading months.

Run ``python -m shopsim.tuning [--jobs 2]`` to search again; it writes
``shopsim/tuned_policy.json`` (the settings, and how they were found: scenarios, seeds, every
candidate tried with its mean profit).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

import shopsim
from shopsim import policies

#: Scenarios the settings are tuned on: an ordinary month, the capstone's month, a price war.
SCENARIOS: tuple[str, ...] = ("baseline", "capstone_april", "price_war")
#: Tuning seeds: no lesson practises or grades on these.
SEEDS: tuple[int, ...] = (9001, 9002)
#: Candidate values per setting (the current value is always kept as a candidate).
CANDIDATES: dict[str, tuple[Any, ...]] = {
    "target_roas": (3.0, 5.0),
    "ad_budget_share": (0.08,),
    "answer_share": (0.0, 0.15),
    "clear_share": (0.0,),
    "safety_days": (10,),
    "enrol_days_before": (-1,),
}
#: Rounds over all settings.
ROUNDS = 1

log = logging.getLogger(__name__)


def profit(rules: policies.Rules, scenario: str, seed: int) -> float:
    """Net profit (yuan) of the rule-based operator with ``rules`` over the scenario's run."""
    sim = shopsim.simulate(scenario, seed=seed, policy=lambda view: policies.operate(view, rules))
    return float(sim.tables["pnl"]["net_profit"].sum())


def _job(args: tuple[dict[str, Any], str, int]) -> float:
    settings, scenario, seed = args
    return profit(policies.Rules(**settings), scenario, seed)


def mean_profit(rules: policies.Rules, pool: ProcessPoolExecutor, scenarios: Sequence[str] = SCENARIOS,
                seeds: Sequence[int] = SEEDS) -> float:
    """Mean net profit (yuan) over every scenario and seed."""
    settings = dataclasses.asdict(rules)
    return float(np.mean(list(pool.map(_job, [(settings, sc, s) for sc in scenarios for s in seeds]))))


def search(jobs: int = 2) -> dict[str, Any]:
    """Coordinate ascent over :data:`CANDIDATES`; returns what ``tuned_policy.json`` holds."""
    best = policies.RULES
    tried: list[dict[str, Any]] = []
    with ProcessPoolExecutor(jobs) as pool:
        best_profit = mean_profit(best, pool)
        tried.append({"change": {}, "mean_profit": round(best_profit, 2)})
        for _ in range(ROUNDS):
            for name, values in CANDIDATES.items():
                for value in values:
                    if value == getattr(best, name):
                        continue
                    candidate = dataclasses.replace(best, **{name: value})
                    got = mean_profit(candidate, pool)
                    tried.append({"change": {name: value}, "mean_profit": round(got, 2)})
                    log.info("%s=%s: %.0f yuan (best so far %.0f)", name, value, got, best_profit)
                    if got > best_profit:
                        best, best_profit = candidate, got
    return {"rules": dataclasses.asdict(best),
            "how": {"method": "coordinate ascent from shopsim.policies.RULES, one setting at a time, "
                              f"{ROUNDS} round(s); a value is kept when it raises the mean net profit",
                    "scenarios": list(SCENARIOS), "seeds": list(SEEDS), "days": "each scenario's own",
                    "mean_profit": round(best_profit, 2), "tried": tried,
                    "command": "python -m shopsim.tuning"}}


def main(argv: list[str] | None = None) -> int:
    """Search and write ``shopsim/tuned_policy.json``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2, help="simulations at a time (default 2)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = search(args.jobs)
    policies.TUNED_FILE.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s", policies.TUNED_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
