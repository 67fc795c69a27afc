"""Promotions: SKU discounts, flash sales (秒杀), store coupons, spend-and-save (满减) and the
free-shipping threshold (包邮), with their price effects and what they do to demand.

- A SKU discount or a flash sale changes the price shoppers see (and so their choice); a
  flash sale also brings venue traffic and stops when its quantity cap is sold.
- Coupons and spend-and-save tiers take money off a basket above a threshold; shoppers just
  below a threshold often add one item to reach it (one more unit, or often another SKU that
  bridges the gap), so order value rises; a gap no single item bridges is left alone.
- Below the free-shipping threshold the buyer pays shipping, which makes carts hesitate; and
  apparel shoppers expect free shipping (包邮), so a listing that charges it loses appeal.
- A standing promotion loses its pull (badge and expected saving) over the days it runs
  (``fatigue_days``): shoppers get used to it.
- Shoppers' reference price follows the prices they see (memory ``reference_memory_days``):
  frequent discounting makes the list price look dear. A discount also pulls demand
  forward: part of its extra sales are taken from the following days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shopsim import _arrays as arrays
from shopsim.catalog import Catalog
from shopsim.scenario import Scenario
from shopsim.shoppers import SOURCE_CODE, PaidGroups


@dataclass
class Window:
    """A promotion's id and active hours [start, end)."""

    promotion_id: str
    start: float
    end: float

    def active(self, now: float) -> bool:
        """Whether it runs at hour ``now``."""
        return self.start <= now < self.end


@dataclass
class Discount(Window):
    """A percentage off one own SKU's list price (a flash sale has a fixed price and a cap)."""

    offer: int
    share_off: float = 0.0
    flash_price: float | None = None
    cap: int | None = None
    sold: int = 0  # units sold at the promotion price
    units_before: float = 0.0  # units a day before it started (for pull-forward)


@dataclass
class BasketDeal(Window):
    """A coupon (one tier, limited quantity) or a spend-and-save ladder (满减, unlimited)."""

    tiers: tuple[tuple[float, float], ...] = ()  # (threshold yuan, amount off yuan), ascending
    quantity: int | None = None
    redeemed: int = 0
    is_coupon: bool = False
    only_source: int | None = None  # a CRM coupon works only in visits from its message (source code)


class Promotions:
    """Every promotion the shop runs, and the pricing of baskets."""

    def __init__(self, sc: Scenario, cat: Catalog) -> None:
        self.sc, self.cat = sc, cat
        self.discounts: list[Discount] = []
        self.deals: list[BasketDeal] = []
        self.free_shipping_threshold = 0.0  # yuan; 0 = every order ships free
        self.enrolled: dict[str, float] = {}  # festival name -> store-wide discount
        self.reference_start = cat.reference_price.copy()
        n = cat.n_own
        self.dip = np.ones(n)  # cart-probability factor after a promotion (pull-forward)
        self.dip_until = np.zeros(n)
        self._count = 0
        self.ids: list[str] = []  # every promotion id, in the order they were created

    def next_id(self, prefix: str) -> str:
        """A new promotion id such as ``DISC-3`` (its code is its place in :attr:`ids`)."""
        self._count += 1
        pid = f"{prefix}-{self._count}"
        self.ids.append(pid)
        return pid

    def code(self, promotion_id: str | None) -> int:
        """The integer code of a promotion id (-1 for none), as stored in the order records."""
        return -1 if promotion_id is None else self.ids.index(promotion_id)

    # -- what shoppers see -------------------------------------------------------------------
    def prices(self, now: float) -> tuple[np.ndarray, list[str | None]]:
        """Effective price per offer now (yuan) and the promotion id behind each own price."""
        price = self.cat.price.copy()
        ids: list[str | None] = [None] * self.cat.n_own
        for d in self.discounts:
            if d.active(now) and (d.cap is None or d.sold < d.cap):
                new = d.flash_price if d.flash_price is not None else self.cat.price[d.offer] * (1 - d.share_off)
                if new < price[d.offer]:
                    price[d.offer], ids[d.offer] = round(new, 2), d.promotion_id
        return price, ids

    def on_promotion(self, now: float) -> np.ndarray:
        """Own SKUs with a visible promotion badge now (discount, flash sale or a basket deal)."""
        flag = np.zeros(self.cat.n_own, dtype=bool)
        _, ids = self.prices(now)
        flag[[i for i, p in enumerate(ids) if p]] = True
        if any(d.active(now) and d.only_source is None for d in self.deals):
            flag[:] = True
        return flag

    def basket_saving(self, now: float, unit_price: np.ndarray) -> np.ndarray:
        """Yuan a one-unit buyer expects to save from today's basket deals, per own offer
        (fading as the deal grows old, see :meth:`freshness`)."""
        best = np.zeros(len(unit_price))
        for deal in self.active_deals(now, public=True):
            for threshold, amount in deal.tiers:
                reach = np.exp(-np.maximum(threshold - unit_price, 0) / unit_price)
                best = np.maximum(best, amount * reach * self.sc.promotions.top_up_rate * self._fresh(deal, now))
        return best

    def _fresh(self, promo: Window, now: Any) -> Any:
        """How much of a promotion's pull is left after it has run (now - start) hours (``now``
        a number or an array of them)."""
        pull = np.exp(-np.maximum(np.asarray(now, dtype=float) - promo.start, 0.0) / 24.0
                      / self.sc.promotions.fatigue_days)
        return float(pull) if pull.ndim == 0 else pull

    def freshness(self, now: float) -> np.ndarray:
        """Per own SKU, the pull left of the freshest promotion badge it shows now (1 = new, 0 = none)."""
        fresh = np.zeros(self.cat.n_own)
        _, ids = self.prices(now)
        for d in self.discounts:
            if ids[d.offer] == d.promotion_id:
                fresh[d.offer] = max(fresh[d.offer], self._fresh(d, now))
        for deal in self.active_deals(now, public=True):
            fresh = np.maximum(fresh, self._fresh(deal, now))
        return fresh

    def shipping_fee(self, gross: np.ndarray) -> np.ndarray:
        """What each order's buyer pays for shipping, yuan (0 at or above the free threshold)."""
        t = self.free_shipping_threshold
        return np.where((t > 0) & (gross < t), self.sc.promotions.buyer_shipping_fee, 0.0)

    def active_deals(self, now: float, public: bool = False) -> list[BasketDeal]:
        """Coupons with quantity left and spend-and-save ladders running now (``public``: only
        those every shopper sees, not coupons sent to a CRM segment)."""
        return [d for d in self.deals if d.active(now) and (d.quantity is None or d.redeemed < d.quantity)
                and not (public and d.only_source is not None)]

    @property
    def any(self) -> bool:
        """Whether any promotion or shipping threshold exists (else orders are priced plainly)."""
        return bool(self.discounts or self.deals or self.free_shipping_threshold > 0 or self.enrolled)

    def venue_groups(self, now: float, festival: tuple | None = None) -> PaidGroups:
        """Venue traffic running now: flash sales' (one group per SKU) and, on the main day of a
        festival the shop enrolled in, the festival venue's (会场, spread by sales)."""
        offers = [d.offer for d in self.discounts if d.flash_price is not None and d.active(now)
                  and (d.cap is None or d.sold < d.cap)]
        rates = [self.sc.promotions.flash_sale_venue_visits] * len(offers)
        if festival is not None and festival[1] == "main" and festival[0].name in self.enrolled:
            offers += list(range(self.cat.n_own))
            rates += list(festival[0].venue_visits * self.cat.landing_share())
        if not offers:
            return PaidGroups.none()
        k = len(offers)
        return PaidGroups(np.full(k, SOURCE_CODE["venue"]), np.full(k, -1), np.array(offers, dtype=np.int64),
                          np.array(rates, dtype=float))

    def flash_limits(self, now: float) -> np.ndarray | None:
        """Units left under each running flash sale's cap, per own SKU (None if none runs)."""
        caps = [(d.offer, d.cap - d.sold) for d in self.discounts if d.cap is not None and d.active(now)]
        if not caps:
            return None
        limit = np.full(self.cat.n_own, np.iinfo(np.int64).max)
        for o, left in caps:
            limit[o] = min(limit[o], max(left, 0))
        return limit

    def counting_down(self, now: float) -> bool:
        """Whether a flash sale's cap or a coupon's quantity is running down now (the offer
        changes the moment it runs out)."""
        return (any(d.cap is not None and d.active(now) for d in self.discounts)
                or any(d.quantity is not None for d in self.active_deals(now)))

    def count_sold(self, now: float, offer: np.ndarray, qty: np.ndarray, eff: np.ndarray) -> list[Discount]:
        """Add units sold at a promotion price to their promotions; return flash sales now sold out."""
        done = []
        for d in self.discounts:
            if d.active(now):
                before = d.sold
                d.sold += int(qty[(offer == d.offer) & (eff[offer] < self.cat.price[offer])].sum())
                if d.cap is not None and before < d.cap <= d.sold:
                    done.append(d)
        return done

    # -- pricing a slice's orders --------------------------------------------------------------
    def top_up(self, rng: np.random.Generator, now: float, sess: np.ndarray, offer: np.ndarray,
               qty: np.ndarray, main: np.ndarray, price: np.ndarray, hour: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Shoppers just below a threshold add one item to reach it; returns the new lines.

        The chance falls with the gap (relative to the basket) and with the deal's age in the
        hour each line's order is placed (``hour``, hours since hour 0; ``now`` if not given). A
        tempted shopper adds another SKU that bridges the gap (``top_up_other_sku``, picked by
        popularity among those priced at least the gap, the nearer the likelier) or one more
        unit of the main SKU if that bridges it; if neither does, nothing is added. Lines are
        (session position, own offer, units, is the landing SKU), in session order.
        """
        cfg = self.sc.promotions
        deals = [(deal, t) for deal in self.active_deals(now, public=True) for t, _ in deal.tiers]
        if self.free_shipping_threshold > 0:
            deals.append((None, self.free_shipping_threshold))
        if not deals or not len(sess):
            return sess, offer, qty, main
        orders, line_order = arrays.unique_inverse(sess)
        placed = np.full(len(orders), float(now))
        if hour is not None:
            placed[line_order] = hour
        fresh_t = np.ones((len(orders), len(deals)))  # the shipping fee saved does not grow stale
        for j, (deal, _) in enumerate(deals):
            if deal is not None:
                fresh_t[:, j] = self._fresh(deal, placed)
        gross = np.bincount(line_order, weights=qty * price[offer])
        thresholds = np.array([t for _, t in deals])
        above = np.where(thresholds[None, :] > gross[:, None], thresholds[None, :], np.inf)
        nearest = above.argmin(axis=1)
        gap = above[np.arange(len(orders)), nearest] - gross
        u = rng.random((len(orders), 3)).T  # order after order (see Shoppers.draw)
        with np.errstate(invalid="ignore"):
            tempted = np.isfinite(gap) & (u[0] < cfg.top_up_rate * fresh_t[np.arange(len(orders)), nearest]
                                          * np.exp(-gap / gross))
        n_own = self.cat.n_own
        own_price, in_stock = price[:n_own], self.cat.stock[:n_own] > 0
        popularity = self.cat.landing_share()
        main_offer = np.zeros(len(orders), dtype=np.int64)
        main_offer[line_order[main]] = offer[main]
        add_sess, add_offer, more = [], [], []
        for i in np.flatnonzero(tempted):
            same = own_price[main_offer[i]] >= gap[i] and in_stock[main_offer[i]]
            others = (own_price >= gap[i]) & in_stock
            others[offer[line_order == i]] = False
            if others.any() and (u[1][i] < cfg.top_up_other_sku or not same):
                w = popularity * others * np.exp(-(own_price - gap[i]) / gap[i])
                add_sess.append(orders[i])
                add_offer.append(min(int(np.searchsorted(np.cumsum(w), u[2][i] * w.sum(), side="right")), n_own - 1))
            elif same:
                more.append(i)
        qty = qty.copy()
        if more:
            qty[main & np.isin(line_order, more)] += 1
        if not add_sess:
            return sess, offer, qty, main
        sess = np.concatenate([sess, np.array(add_sess, dtype=sess.dtype)])
        offer = np.concatenate([offer, np.array(add_offer, dtype=offer.dtype)])
        qty = np.concatenate([qty, np.ones(len(add_sess), dtype=qty.dtype)])
        main = np.concatenate([main, np.zeros(len(add_sess), dtype=bool)])
        order = np.argsort(sess, kind="stable")
        return sess[order], offer[order], qty[order], main[order]

    def price_orders(self, now: float, order_of_line: np.ndarray, n_orders: int, offer: np.ndarray,
                     qty: np.ndarray, flash_ids: list[str | None], eff: np.ndarray,
                     order_source: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Money of a slice's orders (in time order) and lines: list, discounts, paid, ids.

        Coupons are redeemed in time order until their quantity runs out; an order takes the
        best spend-and-save tier and one coupon, both on its subtotal after SKU discounts.
        """
        list_price = self.cat.price[offer]
        line_eff = eff[offer]
        subtotal = np.bincount(order_of_line, weights=qty * line_eff, minlength=n_orders)
        gross = np.round(np.bincount(order_of_line, weights=qty * list_price, minlength=n_orders), 2)
        basket_off = np.zeros(n_orders)
        promo = np.full(n_orders, -1, dtype=np.int32)  # codes into self.ids
        coupon = np.full(n_orders, -1, dtype=np.int32)
        self._mark_discounted(promo, order_of_line, offer, line_eff < list_price, flash_ids)
        for deal in self.active_deals(now):
            self._redeem(deal, subtotal, basket_off, coupon if deal.is_coupon else promo, order_source)
        paid = np.round(subtotal - np.minimum(basket_off, subtotal), 2)
        # each line carries its share of the basket discount, so lines add up to the order exactly
        share = np.where(subtotal > 0, paid / np.where(subtotal > 0, subtotal, 1), 1.0)
        unit_paid = line_eff * share[order_of_line]
        return {"gross": gross, "paid": paid, "discount": np.round(gross - paid, 2), "unit_list": list_price,
                "unit_paid": unit_paid, "promotion_id": promo, "coupon_id": coupon,
                "buyer_shipping": self.shipping_fee(paid)}

    def _mark_discounted(self, promo: np.ndarray, order_of_line: np.ndarray, offer: np.ndarray,
                         discounted: np.ndarray, flash_ids: list[str | None]) -> None:
        """Each order with a line sold below list price carries the promotion behind the last such
        line (its code in ``promo``, per order)."""
        lines = np.flatnonzero(discounted)
        if not len(lines):
            return
        code = np.array([self.code(f) for f in flash_ids], dtype=promo.dtype)[offer[lines]]
        orders, last = np.unique(order_of_line[lines][::-1], return_index=True)  # the last line of each order
        promo[orders] = code[::-1][last]

    def _redeem(self, deal: BasketDeal, subtotal: np.ndarray, basket_off: np.ndarray, held: np.ndarray,
                order_source: np.ndarray | None) -> None:
        """Orders (in time order, ``subtotal`` yuan after SKU discounts) take ``deal``'s best tier
        they reach, if they hold no deal of its kind yet (``held``: coupon or promotion code per
        order, -1 none) and come from its source, until its quantity runs out: adds the yuan off
        to ``basket_off`` and the deal's code to ``held``."""
        off = np.zeros(len(subtotal))
        for threshold, amount in deal.tiers:
            off = np.where(subtotal >= threshold, np.maximum(off, amount), off)
        takes = (off > 0) & (held < 0)
        if deal.only_source is not None:
            takes &= order_source == deal.only_source if order_source is not None else False
        taking = np.flatnonzero(takes)
        if deal.quantity is not None:
            taking = taking[: max(deal.quantity - deal.redeemed, 0)]
        basket_off[taking] += off[taking]
        held[taking] = self.code(deal.promotion_id)
        deal.redeemed += len(taking)

    # -- the day's close: reference prices and pull-forward ---------------------------------------
    def close_day(self, day: int, units_today: np.ndarray, eff_price_today: np.ndarray) -> list[str]:
        """Reference prices follow the day's prices; ended discounts leave a dip. Returns notes."""
        cfg = self.sc.promotions
        n = self.cat.n_own
        ref = self.cat.reference_price
        seen = np.minimum(eff_price_today[:n], self.reference_start[:n])
        ref[:n] += (seen - ref[:n]) / cfg.reference_memory_days
        notes = []
        end_of_day = (day + 1) * 24.0
        for d in self.discounts:
            if d.end <= end_of_day and d.end > end_of_day - 24 and cfg.pull_forward_share > 0:
                days = max((d.end - d.start) / 24.0, 1.0)
                extra = max(d.sold - d.units_before * days, 0.0)
                if extra > 0 and d.units_before > 0:
                    lost_per_day = cfg.pull_forward_share * extra / cfg.pull_forward_days
                    self.dip[d.offer] = max(0.3, 1 - lost_per_day / d.units_before)
                    self.dip_until[d.offer] = end_of_day + cfg.pull_forward_days * 24
                    notes.append(d.promotion_id)
        self.dip[self.dip_until <= end_of_day] = 1.0
        return notes
