"""Reference runs for hidden checks: the tables a lesson's exercises are about, computed once.

Hidden checks recompute expected values from a fresh simulation instead of trusting the
trainee's variables (which the trainee may have changed)::

    daily = reference.tables("baseline", days=7, seed=7)["daily"]
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import pandas as pd

import shopsim


@functools.lru_cache(maxsize=8)
def _run(scenario: str, days: int, seed: int) -> shopsim.Simulation:
    return shopsim.simulate(scenario, days=days, seed=seed)


def tables(scenario: str, days: int, seed: int) -> Mapping[str, pd.DataFrame]:
    """The tables of ``scenario`` (a bundled name or YAML path) run for ``days`` days with ``seed``.

    Runs are cached per process, so several checks of one lesson share a run. Each access
    returns fresh copies, so a check cannot disturb another.
    """
    run = _run(scenario, days, seed)
    return {name: frame.copy() for name, frame in run.tables.items()}
