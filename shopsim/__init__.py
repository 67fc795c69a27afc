"""shopsim: a simulated online shop and its market, for training e-commerce operators.

The picture::

    scenario (YAML, validated) --> Simulation (SimPy engine + market + rivals) <-- operator levers
                                        |                                       (trainee / policy)
                                     records --> tables (sessions, orders, daily, pnl ...)
                                        |
                             lessons / console / grading

Quick start::

    import shopsim
    sc = shopsim.load_scenario("baseline")
    sim = shopsim.Simulation(sc, seed=7)
    sim.run(days=7)
    sim.tables["daily"]
    sim.set_price("TEE-CLASSIC", 65)
    sim.run(days=7)
"""

from typing import Any

from shopsim.errors import ActionError, ScenarioError, ShopsimError
from shopsim.scenario import Scenario, bundled, load_scenario
from shopsim.simulation import TABLES, Simulation, simulate

__all__ = [
    "TABLES",
    "datasets",
    "ActionError",
    "Scenario",
    "ScenarioError",
    "ShopsimError",
    "Simulation",
    "bundled",
    "load_scenario",
    "simulate",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``shopsim.datasets`` is imported on first use (it needs pandas, which a run alone does not)."""
    if name == "datasets":
        import importlib

        return importlib.import_module("shopsim.datasets")
    raise AttributeError(f"module 'shopsim' has no attribute {name!r}")
