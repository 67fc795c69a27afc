"""Refunds and returns (退款/退货): which paid order lines come back, why, when, and what it costs.

Under the platform's 7-day no-reason rule (七天无理由) a buyer may send an item back. Each paid
order line is refunded with the chance that at least one of these causes fires; the cause that
fired is the refund's ``reason``:

- ``size``: it does not fit (a chance per category: trousers are harder to size than tees);
- ``quality``: it is worse than expected (a chance times the product's missing quality);
- ``not_as_pictured``: the listing promised more than the product gives (a small base chance,
  plus an effect per unit of ``listing_quality`` above ``quality``);
- ``changed_mind``: impulse buying: a base chance, more the deeper the discount the buyer got,
  and more on a festival's main day (the post-festival return wave);
- ``late_delivery``: the parcel came late.

A change of mind or a late parcel is often refunded before the parcel ships (仅退款, refund
only: the units never left the shelf); every other refund is a return (退货退款): the parcel
comes back some days after delivery, its units go back on the shelf when sellable and are
written off at cost when not. Without return-shipping insurance (运费险) the shop pays the
return courier when the reason is its fault (quality, not as pictured, late).

Each listing keeps a recent refund rate (refunded amount / sales over ``window_days``) in
``Catalog.refund_rate``; search ranking and, later, the recommendation feed read it. Rivals'
listings carry the rate the same causes give them (no discount, no lateness).
"""

from __future__ import annotations

import numpy as np

from shopsim import _arrays as arrays
from shopsim.catalog import Catalog
from shopsim.scenario import Returns

#: Why a line was refunded, in the order of the causes.
REASONS = ("size", "quality", "not_as_pictured", "changed_mind", "late_delivery")
#: refund_only (仅退款, before shipping) or return_refund (退货退款, the parcel comes back).
KINDS = ("refund_only", "return_refund")
#: Reasons that are the shop's fault: without insurance the shop pays the return courier.
SHOP_FAULT = (1, 2, 4)
#: Reasons that are about the product (they lower the buyer's review).
PRODUCT_REASONS = (0, 1, 2)
_HOUR, _DAY = 3600.0, 86_400.0
_NO_REASON_DAYS = 7.0  # a return must be asked for within 7 days of delivery
_PRIOR_DAYS = 10.0  # days of expected sales behind a listing's refund-rate estimate
WARM_UP_DAYS = 21  # days of orders before day 0 whose refunds still arrive


class RefundBook:
    """Pending refunds, the completed ones' bookkeeping and every listing's recent refund rate.

    Parameters
    ----------
    settings:
        The scenario's ``returns`` section.
    catalog:
        The market's listings; ``catalog.refund_rate`` is kept up to date here.
    delivery_days, late_share:
        Average days from shipping to delivery, and the share of parcels that come late.
    late_delay_days:
        The extra days of a late parcel.
    """

    def __init__(self, settings: Returns, catalog: Catalog, delivery_days: float, late_share: float,
                 late_delay_days: float = 3.0) -> None:
        self.cfg, self.catalog = settings, catalog
        self.delivery_days, self.late_share, self.late_delay_days = delivery_days, late_share, late_delay_days
        by_category = settings.fit_rate_by_category
        self.fit = np.array([by_category.get(c, settings.fit_rate) for c in catalog.categories])[catalog.category]
        self.expected = self.expected_rate()
        n, w = catalog.n_own, settings.window_days
        daily_sales = catalog.monthly_sales()[:n] / 30.0 * catalog.price[:n]
        self.sales_history = np.tile(daily_sales[:, None], (1, w))
        self.refund_history = self.sales_history * self.expected[:n, None]
        catalog.refund_rate[:] = self.expected  # one array: search and the feed read it
        self._pending: list[dict[str, np.ndarray]] = []
        self._next_request = 1  # refund requests are numbered as they are drawn

    # -- causes ------------------------------------------------------------------------------
    def _chances(self, offer: np.ndarray, depth: np.ndarray, main_day: bool, late: np.ndarray) -> np.ndarray:
        """Chance of each cause (lines x REASONS) for lines of ``offer`` bought ``depth`` off list."""
        c, cat = self.cfg, self.catalog
        gap = np.maximum(cat.listing_quality[offer] - cat.quality[offer], 0.0)
        impulse = (c.impulse_rate + c.discount_effect * np.clip(depth, 0.0, 1.0)
                   + (c.festival_effect if main_day else 0.0))
        p = np.stack([
            self.fit[offer],
            c.quality_rate * (1.0 - cat.quality[offer]),
            c.description_rate + c.listing_gap_effect * gap,
            impulse,
            c.late_rate * late,
        ], axis=1)
        return np.clip(p, 0.0, 1.0)

    def expected_rate(self) -> np.ndarray:
        """Chance a line of each listing is refunded at list price on an ordinary day (late parcels
        at their usual share)."""
        n = self.catalog.n
        p = self._chances(np.arange(n), np.zeros(n), False, np.full(n, self.late_share))
        return 1.0 - np.prod(1.0 - p, axis=1)

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, rng: np.random.Generator, order_id: np.ndarray, ts: np.ndarray, offer: np.ndarray,
             qty: np.ndarray, unit_paid: np.ndarray, unit_list: np.ndarray, main_day: bool,
             late: np.ndarray, insured: np.ndarray, customer: np.ndarray | None = None,
             wait: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Decide which of a day's paid order lines will be refunded, why, how and when.

        ``ts`` is each line's payment, seconds since hour 0; prices are yuan per unit;
        ``insured`` marks lines of orders with return-shipping insurance; ``customer`` is each
        line's buyer (-1 unknown); ``wait`` is days before the parcel can ship at all (couriers
        stopped for Chinese New Year; every such parcel is also ``late``). Returns (reason code
        per line, -1 when kept; True where the refund is refund-only before shipping).
        """
        n = len(order_id)
        if n == 0:
            return np.empty(0, np.int64), np.empty(0, bool)
        c = self.cfg
        depth = 1.0 - unit_paid / unit_list
        p = self._chances(offer, depth, main_day, late.astype(float))
        u = rng.random((4, n))
        refunded = u[0] < 1.0 - np.prod(1.0 - p, axis=1)
        share = np.cumsum(p, axis=1) / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        reason = np.where(refunded, (u[1][:, None] > share).sum(axis=1), -1).clip(max=len(REASONS) - 1)
        reason[~refunded] = -1
        early = refunded & arrays.among(reason, (3, 4)) & (u[2] < c.cancel_before_shipping)
        ship = ts + rng.exponential(c.ship_hours, n) * _HOUR + (0.0 if wait is None else wait * _DAY)
        delivered = ship + (rng.exponential(self.delivery_days, n) + self.late_delay_days * late) * _DAY
        asked = np.where(early, ts + u[3] * (ship - ts),
                         delivered + np.minimum(rng.exponential(c.request_days, n), _NO_REASON_DAYS) * _DAY)
        done = np.where(early, asked + rng.exponential(2.0, n) * _HOUR,
                        asked + (0.5 + rng.exponential(c.return_transit_days, n)) * _DAY)
        sellable = early | (rng.random(n) < c.restock_share)
        pays_courier = ~early & ~insured & arrays.among(reason, SHOP_FAULT)
        keep = np.flatnonzero(refunded)
        buyer = np.full(n, -1, np.int64) if customer is None else customer
        self._pending.append({
            "order_id": order_id[keep], "customer": buyer[keep], "offer": offer[keep], "qty": qty[keep],
            "requested": asked[keep].astype(np.int64), "completed": done[keep].astype(np.int64),
            "kind": (~early[keep]).astype(np.int8), "reason": reason[keep].astype(np.int8),
            "amount": np.round(qty[keep] * unit_paid[keep], 2), "restocked": sellable[keep],
            "return_shipping": np.where(pays_courier[keep], c.return_shipping_cost, 0.0),
            "request": self._next_request + np.arange(len(keep), dtype=np.int64),
            "decided": np.zeros(len(keep), dtype=bool),
        })
        self._next_request += len(keep)
        return reason, early

    def warm_up(self, rng: np.random.Generator) -> None:
        """Refunds still to come of the orders paid in the weeks before day 0 (no order ids):
        a shop starts with returns on their way, at the rate its listings ordinarily have."""
        cat = self.catalog
        n = cat.n_own
        units = rng.poisson(np.tile(cat.monthly_sales()[:n] / 30.0, WARM_UP_DAYS))
        offer = np.repeat(np.tile(np.arange(n), WARM_UP_DAYS), units)
        day = np.repeat(np.repeat(np.arange(-WARM_UP_DAYS, 0), n), units)
        ts = ((day + rng.random(len(offer))) * _DAY).astype(np.int64)
        price = cat.price[offer]
        late = rng.random(len(offer)) < self.late_share
        self.draw(rng, np.full(len(offer), -1, np.int64), ts, offer, np.ones(len(offer), np.int64), price, price,
                  False, late, np.zeros(len(offer), bool))
        last = self._pending[-1]
        still_open = last["completed"] >= 0  # those completed before day 0 are history
        self._pending[-1] = {k: v[still_open] for k, v in last.items()}
        self._pending[-1]["decided"] = self._pending[-1]["requested"] < 0  # the predecessor decided those

    def _pool(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in self._pending]) for k in self._pending[0]}

    def take_requests(self, until: int) -> dict[str, np.ndarray] | None:
        """Take every pending refund requested before second ``until`` that the shop has not
        decided yet (in request order); hand the approved ones back with :meth:`put_back`."""
        if not self._pending:
            return None
        pool = self._pool()
        due = ~pool["decided"] & (pool["requested"] < until)
        if not due.any():
            return None
        self._pending = [{k: v[~due] for k, v in pool.items()}]
        order = np.argsort(pool["requested"][due], kind="stable")
        return {k: v[due][order] for k, v in pool.items()}

    def put_back(self, requests: dict[str, np.ndarray]) -> None:
        """Return decided refunds (``completed`` set to when the money goes back) to the pending ones."""
        if len(requests["request"]):
            self._pending.append({**requests, "decided": np.ones(len(requests["request"]), dtype=bool)})

    def open_requests(self, now: int) -> int:
        """Refund requests made before second ``now`` and not yet completed (售后 in progress)."""
        if not self._pending:
            return 0
        pool = self._pool()
        return int(((pool["requested"] < now) & (pool["completed"] >= now)).sum())

    def complete(self, until: int) -> dict[str, np.ndarray] | None:
        """Take every pending refund completed before second ``until`` (in completion order)."""
        if not self._pending:
            return None
        pool = self._pool()
        due = pool["completed"] < until
        rest = {k: v[~due] for k, v in pool.items()}
        self._pending = [rest] if len(rest["order_id"]) else []
        if not due.any():
            return None
        order = np.argsort(pool["completed"][due], kind="stable")
        return {k: v[due][order] for k, v in pool.items()}

    # -- the listing's recent refund rate ------------------------------------------------------
    def close_day(self, sales: np.ndarray, refunded: np.ndarray) -> None:
        """Push a day's sales and refunded amounts per own SKU (yuan) and update the rates."""
        n = self.catalog.n_own
        self.sales_history = arrays.push_day(self.sales_history, sales)
        self.refund_history = arrays.push_day(self.refund_history, refunded)
        prior = _PRIOR_DAYS * self.catalog.price[:n]
        self.catalog.refund_rate[:n] = ((self.refund_history.sum(axis=1) + self.expected[:n] * prior)
                                        / (self.sales_history.sum(axis=1) + prior))
