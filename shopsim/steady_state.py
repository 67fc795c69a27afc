"""Does a scenario start where its own numbers say it is? A check for instructors writing scenarios.

A scenario states each product's recent sales (``monthly_sales``, the 月销 shown on the
listing) and its stock. The market model then decides what the product really sells. When
the two disagree, the first weeks of the scenario drift (a product said to sell 1,800 a month
sells 900) and nothing tells the instructor. :func:`steady_state` runs the scenario, compares
every own product's simulated sales per 30 days with its stated ``monthly_sales``, notes the
day a product sells out, and warns (:class:`SteadyStateWarning`) about each mismatch::

    from shopsim.steady_state import steady_state
    check = steady_state("my_scenario.yaml", seeds=(1, 2, 3))
    check.table          # sku, monthly_sales, simulated_30d, ratio, sold_out
    check.problems       # one sentence per mismatch (also issued as warnings)
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shopsim.scenario import Scenario, load_scenario
from shopsim.simulation import simulate

#: The longest run the check makes (days); a month is what ``monthly_sales`` describes.
MAX_DAYS = 35


class SteadyStateWarning(UserWarning):
    """A product's simulated sales do not match the sales its scenario states."""


def _allowed(stated: float, tolerance: float) -> float:
    """Allowed gap (units per 30 days): the tolerance, and never less than three Poisson standard deviations."""
    return max(tolerance * stated, 3 * stated ** 0.5)


@dataclass(frozen=True)
class SteadyState:
    """The comparison per own product, and a sentence per product that is off by more than ``tolerance``.

    ``table`` columns: ``sku``; ``monthly_sales`` (stated, units per 30 days);
    ``simulated_30d`` (simulated, units per 30 days); ``ratio`` (simulated / stated);
    ``sold_out`` (the first day with stockout hours in any run, or empty).
    """

    scenario: str
    days: int
    seeds: tuple[int, ...]
    tolerance: float
    table: pd.DataFrame

    @property
    def problems(self) -> list[str]:
        """One sentence per product whose simulated sales are off, and per product that sells out."""
        out = []
        for r in self.table.itertuples():
            if r.monthly_sales > 0 and abs(r.simulated_30d - r.monthly_sales) > _allowed(r.monthly_sales,
                                                                                        self.tolerance):
                out.append(f"{r.sku}: the scenario says {r.monthly_sales:,} sold in the last 30 days, but the model "
                           f"sells about {r.simulated_30d:,.0f} per 30 days ({r.ratio:.0%} of it); adjust "
                           "monthly_sales, or the demand behind it (keyword searches, price, listing quality)")
            if r.sold_out:
                out.append(f"{r.sku}: sells out on {r.sold_out} (stock {r.initial_stock:,}); if that is not the "
                           "point of the scenario, start with more stock")
        return out

    def __repr__(self) -> str:
        head = (f"steady state of {self.scenario} ({self.days} days, seeds {', '.join(map(str, self.seeds))}, "
                f"tolerance "
                f"{self.tolerance:.0%}): {len(self.problems) or 'no'} problem{'s' if len(self.problems) != 1 else ''}")
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in self.problems)
        head = html.escape(repr(self).splitlines()[0])
        return f"<p><strong>{head}</strong></p>" + (f"<ul>{items}</ul>" if items else "")


def steady_state(scenario: Scenario | str | Path, *, seeds: tuple[int, ...] = (1, 2, 3), days: int | None = None,
                 tolerance: float = 0.3) -> SteadyState:
    """Run ``scenario`` and compare each own product's sales with its stated ``monthly_sales``.

    Parameters
    ----------
    scenario:
        A scenario, a bundled scenario's name or a YAML file.
    seeds:
        Seeds of the runs; sales are averaged over them (a single month of a slow seller is
        noisy, and rank feeds on sales). The same seeds give the same result.
    days:
        Days to simulate (default: the scenario's length, at most :data:`MAX_DAYS`).
    tolerance:
        Allowed relative difference (0.3: simulated sales within 30 % of the stated ones); for
        slow sellers the allowance is at least three standard deviations of a Poisson count
        (3 x sqrt(monthly_sales)), so chance alone does not raise a warning.

    Each problem is also issued as a :class:`SteadyStateWarning`.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    days = min(days or sc.days, MAX_DAYS)
    inventory = pd.concat([simulate(sc, days=days, seed=seed).tables["inventory"] for seed in seeds])
    rows = []
    for product in sc.skus:
        own = inventory[inventory["sku"] == product.sku]
        per_30 = float(own["sold"].sum()) * 30 / days / len(seeds)
        out = own.loc[own["stockout_hours"] > 0, "date"]
        rows.append({"sku": product.sku, "monthly_sales": product.monthly_sales, "simulated_30d": round(per_30, 1),
                     "ratio": per_30 / product.monthly_sales if product.monthly_sales else float("nan"),
                     "initial_stock": product.initial_stock,
                     "sold_out": "" if out.empty else pd.Timestamp(out.min()).strftime("%Y-%m-%d")})
    result = SteadyState(sc.name, days, tuple(seeds), tolerance, pd.DataFrame(rows))
    for problem in result.problems:
        warnings.warn(problem, SteadyStateWarning, stacklevel=2)
    return result
