"""Inventory: stock per own SKU, reorders with lead times, stockouts and holding cost.

Stock is consumed in the order shoppers pay within a time slice, so when it runs out
mid-slice the later shoppers find the item sold out. A reorder arrives after the SKU's lead
time (plus any supply delay in force) at 09:00 and is paid for as cost of goods when sold.
Refunded units that are fit to sell come back on the shelf (``returned``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopsim.catalog import Catalog

ARRIVAL_HOUR = 9


@dataclass
class Reorder:
    """A purchase order on its way: ``qty`` units of own offer ``offer``, due at hour ``due``."""

    reorder_id: int
    offer: int
    qty: int
    due: float


class Inventory:
    """Own stock (held in ``catalog.stock``), open reorders and the day's stock movements."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        n = catalog.n_own
        self.open: list[Reorder] = []
        self.supply_delay_until = np.zeros(n)  # hour until which new reorders are delayed
        self.supply_delay_days = np.zeros(n)
        self.sold_out_since = np.where(catalog.stock[:n] <= 0, 0.0, np.nan)  # hour
        self._next_id = 1
        self.start_day()

    def start_day(self) -> None:
        """Reset the day's counters (call at midnight)."""
        n = self.catalog.n_own
        self.on_hand_start = self.catalog.stock[:n].copy()
        self.received = np.zeros(n, dtype=np.int64)
        self.sold = np.zeros(n, dtype=np.int64)
        self.lost = np.zeros(n, dtype=np.int64)
        self.returned = np.zeros(n, dtype=np.int64)
        self.stockout_hours = np.zeros(n)

    def on_order(self) -> np.ndarray:
        """Units ordered and not yet arrived, per own SKU."""
        out = np.zeros(self.catalog.n_own, dtype=np.int64)
        for r in self.open:
            out[r.offer] += r.qty
        return out

    def place(self, offer: int, qty: int, now: float) -> Reorder:
        """Open a reorder; it is due after the lead time (and any delay) at 09:00."""
        days = int(self.catalog.lead_time[offer])
        if now < self.supply_delay_until[offer]:
            days += int(self.supply_delay_days[offer])
        due_day = int(now // 24) + days
        order = Reorder(self._next_id, offer, int(qty), due_day * 24.0 + ARRIVAL_HOUR)
        self._next_id += 1
        self.open.append(order)
        return order

    def delay(self, offer: int, days: int, now: float) -> None:
        """Supply problem: open reorders of ``offer`` slip by ``days``; new ones take longer."""
        for r in self.open:
            if r.offer == offer:
                r.due += days * 24.0
        self.supply_delay_until[offer] = now + days * 24.0
        self.supply_delay_days[offer] = days

    def receive(self, order: Reorder, now: float) -> None:
        """Put an arrived reorder on the shelf."""
        self.open.remove(order)
        self.sold_out_since[order.offer] = np.nan
        self.catalog.stock[order.offer] += order.qty
        self.received[order.offer] += order.qty

    def lose(self, offer: int, qty: int, now: float) -> int:
        """Write off up to ``qty`` units (damage); return the units actually lost."""
        qty = int(min(qty, self.catalog.stock[offer]))
        self.catalog.stock[offer] -= qty
        self.lost[offer] += qty
        if self.catalog.stock[offer] == 0 and np.isnan(self.sold_out_since[offer]):
            self.sold_out_since[offer] = now
        return qty

    def fulfil(self, ts: np.ndarray, offer: np.ndarray, qty: np.ndarray, limit: np.ndarray | None = None
               ) -> tuple[np.ndarray, dict[int, int]]:
        """Take stock for order lines in time order; when a SKU runs out, later lines get less.

        Parameters
        ----------
        ts: seconds since hour 0 of each line (sorted). offer: own offer per line.
        qty: units wanted per line. limit: units that may be sold per own SKU (a flash sale's
        cap left), if less than the stock.

        Returns
        -------
        filled:
            Units each line got (0 when the SKU was already sold out).
        ran_out:
            For each SKU whose stock (or limit) reached zero in these lines, the second it did.
        """
        n_own = self.catalog.n_own
        stock = self.catalog.stock
        filled = qty.copy()
        ran_out: dict[int, int] = {}
        need = np.bincount(offer, weights=qty, minlength=n_own)
        available = stock[:n_own] if limit is None else np.minimum(stock[:n_own], limit)
        for o in np.flatnonzero(need >= available):
            left = int(available[o])
            for line in np.flatnonzero(offer == o):
                take = min(int(qty[line]), left)
                filled[line] = take
                left -= take
                if left == 0 and take > 0:
                    ran_out[int(o)] = int(ts[line])
        taken = np.bincount(offer, weights=filled, minlength=n_own).astype(np.int64)
        stock[:n_own] -= taken
        self.sold += taken
        for o, second in ran_out.items():
            if stock[o] == 0 and np.isnan(self.sold_out_since[o]):
                self.sold_out_since[o] = second / 3600.0
        return filled, ran_out

    def put_back(self, offer: np.ndarray, qty: np.ndarray) -> None:
        """Return units taken for lines whose order fell through (the main item sold out)."""
        n_own = self.catalog.n_own
        back = np.bincount(offer, weights=qty, minlength=n_own).astype(np.int64)
        self.catalog.stock[:n_own] += back
        self.sold -= back
        self.sold_out_since[(back > 0) & (self.catalog.stock[:n_own] > 0)] = np.nan

    def restock(self, offer: np.ndarray, qty: np.ndarray) -> None:
        """Put refunded units that are fit to sell back on the shelf."""
        n_own = self.catalog.n_own
        back = np.bincount(offer, weights=qty, minlength=n_own).astype(np.int64)
        self.catalog.stock[:n_own] += back
        self.returned += back
        self.sold_out_since[(back > 0) & (self.catalog.stock[:n_own] > 0)] = np.nan

    def count_stockout(self, start: float, end: float) -> None:
        """Add the sold-out part of the slice [start, end) hours to each SKU's stockout hours."""
        since = self.sold_out_since
        out = ~np.isnan(since)
        self.stockout_hours[out] += end - np.maximum(since[out], start)

    def holding_cost(self, rate: float) -> float:
        """Cost of the stock on hand at the end of the day, yuan (rate: per unit cost per day)."""
        n = self.catalog.n_own
        return float((self.catalog.stock[:n] * self.catalog.cost).sum() * rate)
