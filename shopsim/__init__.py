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

from shopsim import datasets
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
