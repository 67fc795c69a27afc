"""Rival shops: their offers' prices and stock, their aggregate sales, and scripted moves.

Rivals' sales are simulated in aggregate from the same choice model as the shop's own
shoppers (see :mod:`shopsim.shoppers`); only the trainee's shop produces one row per session.
What an operator sees of rivals is what a real one sees each morning: the listed price,
promotion flags, displayed monthly sales, rating, ad presence and whether it is in stock.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shopsim.catalog import Catalog
from shopsim.scenario import Scenario
from shopsim.shoppers import Groups


class Rivals:
    """The rival offers (catalog offers ``n_own ..``) and what happens to them."""

    def __init__(self, sc: Scenario, cat: Catalog) -> None:
        self.cat = cat
        self.first = cat.n_own
        self.strategy = [r.strategy for r in sc.rivals for _ in r.offers]
        self.start_stock = cat.stock[self.first :].copy()
        self.on_promotion = np.zeros(cat.n - self.first, dtype=bool)
        self.ad_presence = np.zeros(cat.n - self.first, dtype=bool)

    def morning(self, sim: Any) -> None:
        """Each rival's strategy looks at the market and may move (called at 00:00, before ranking).

        Every rival is ``passive`` for now: it never reacts.
        """
        return None

    def sell(self, g: Groups, weight: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw rival listing visits and units sold over ``weight`` hours of traffic (usually a
        day's summed hourly weights); take the units from stock.

        Returns (visits, units) per rival offer (empty arrays if there are no rivals).
        """
        visits = rng.poisson(g.rival_visits * weight)
        with np.errstate(invalid="ignore", divide="ignore"):
            chance = np.where(g.rival_visits > 0, g.rival_units / g.rival_visits, 0.0)
        stock = self.cat.stock[self.first :]
        units = np.minimum(rng.binomial(visits, np.clip(chance, 0.0, 1.0)), stock)
        stock -= units
        return visits, units

    def offer(self, code: str) -> int:
        """Catalog offer number of a rival SKU."""
        i = self.cat.index[code]
        if i < self.first:
            raise KeyError(code)
        return i

    def set_price(self, offer: int, price: float) -> float:
        """Change a rival's list price; return the old price."""
        old = float(self.cat.price[offer])
        self.cat.price[offer] = price
        return old

    def sell_out(self, offer: int) -> int:
        """The rival runs out of stock; return the units it had."""
        had = int(self.cat.stock[offer])
        self.cat.stock[offer] = 0
        return had

    def restock(self, offer: int, units: int | None = None) -> int:
        """Units arrive at the rival (its starting stock if not given); return the units."""
        qty = int(self.start_stock[offer - self.first] if units is None else units)
        self.cat.stock[offer] += qty
        return qty

    def market_view(self) -> dict[str, np.ndarray]:
        """What an operator can see of each rival offer right now (arrays per offer)."""
        rivals = slice(self.first, None)
        return {
            "offer": np.arange(self.first, self.cat.n),
            "price": self.cat.price[rivals].copy(),
            "on_promotion": self.on_promotion.copy(),
            "displayed_sales": np.rint(self.cat.monthly_sales()[rivals]).astype(np.int64),
            "rating": np.round(self.cat.rating()[rivals], 2),
            "ad_presence": self.ad_presence.copy(),
            "in_stock": self.cat.stock[rivals] > 0,
        }
