"""Rival shops: their offers' prices, stock and ads, their aggregate sales, their strategies and
their scripted moves.

Rivals' sales are simulated in aggregate from the same choice model as the shop's own
shoppers (see :mod:`shopsim.shoppers`); only the trainee's shop produces one row per session.
What an operator sees of rivals is what a real one sees: each morning's ``market`` row (listed
price, promotion flag, displayed monthly sales, rating, ad presence, in stock) and the
``events`` a rival's move leaves (actor ``competitor``: "Urban Basics cut UB-TEE 49 -> 45 yuan").

Strategies act once a day, at midnight before the ranking (:meth:`Rivals.morning`):

- ``passive``: never reacts.
- ``price_matcher``: meets our price on the SKU each of its offers watches, ``reaction_days``
  after it saw it (a repricing tool that checks us daily).
- ``undercutter``: prices ``undercut`` below our price on the watched SKU, with the same delay.
- ``festival_discounter``: takes ``festival_discount`` off during festivals (the platform's
  pre-sale and main days, and its own ``festival_days``), flagged as a promotion.
- ``ad_aggressor``: each midnight after our ad showed above its own on a keyword, raises that
  bid by ``bid_raise``, up to ``bid_cap`` times its starting bid; it never lowers it again.

A rival's price never goes above its *regular* price (its starting price, or its last
scripted ``rival_price``) and a matcher or undercutter never goes below ``floor_share`` of it.
Strategies draw no random numbers, so a scenario whose rivals are all passive runs exactly as
before they existed. Scripted moves (:mod:`shopsim.timeline`) call the methods below.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shopsim.catalog import Catalog
from shopsim.scenario import Rival, Scenario
from shopsim.shoppers import Groups

#: Festival phases in which a festival_discounter runs its discount.
FESTIVAL_PHASES = ("presale", "main")


def yuan(x: float) -> str:
    """A price as an operator writes it: 49, 45.5, 45.55."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _cents(x: float) -> float:
    return max(round(float(x), 2), 0.01)


def _dimes_down(x: float) -> float:
    return max(math.floor(float(x) * 10 + 1e-6) / 10, 0.01)


class Rivals:
    """The rival offers (catalog offers ``n_own ..``) and what happens to them.

    Arrays are per rival offer (index ``i`` = catalog offer ``n_own + i``). ``regular`` is
    each offer's regular price (yuan per unit), ``rest`` the price it shows outside a flash
    sale, ``listed`` whether it is on the market yet, ``boost`` the multiplier of its visits
    and sales (an affiliate push), ``watches`` the own offer it answers (-1: none).
    """

    def __init__(self, sc: Scenario, cat: Catalog) -> None:
        self.sc, self.cat = sc, cat
        self.first = first = cat.n_own
        offers = [o for _, o in sc.rival_offers]
        m = len(offers)
        self.rival_of = np.array([r for r, rival in enumerate(sc.rivals) for _ in rival.offers], dtype=np.int64)
        self.strategy = [r.strategy for r in sc.rivals for _ in r.offers]
        self.start_stock = cat.stock[first:].copy()
        self.regular = cat.price[first:].copy()
        self.rest = cat.price[first:].copy()
        self.on_promotion = np.zeros(m, dtype=bool)
        self.festival_sale = np.zeros(m, dtype=bool)
        self.ad_presence = np.zeros(m, dtype=bool)
        self.sale_until = np.full(m, np.inf)  # hour a running flash sale ends (inf: no sale)
        self.boost = np.ones(m)
        self._pushes: list[list[float]] = [[] for _ in range(m)]
        self.listed = np.array([not o.hidden for o in offers], dtype=bool)
        self.watches = self._watched(sc, cat)
        self._seen: list[np.ndarray] = []  # our displayed prices, each midnight
        self._hidden_stock = {int(i): int(cat.stock[first + i]) for i in np.flatnonzero(~self.listed)}
        cat.stock[first:][~self.listed] = 0
        self._held: dict[int, tuple[int, np.ndarray, np.ndarray, np.ndarray]] = {}  # until listed
        words = [k.keyword for k in sc.keywords]
        self.start_bids = [{words.index(w): b for w, b in r.ad_bids.items()} for r in sc.rivals]
        self.bids = [dict(b) for b in self.start_bids]
        self.surges: list[list[float]] = [[] for _ in sc.rivals]
        self._started = False

    @staticmethod
    def _watched(sc: Scenario, cat: Catalog) -> np.ndarray:
        """The own offer each rival offer answers: its ``watches``, else the own SKU it shares the
        most searches with (searches x both relevances), else its category's best seller."""
        n_own = cat.n_own
        overlap = np.zeros((cat.n - n_own, n_own))
        for kw in sc.keywords:
            rel = np.zeros(cat.n)
            for code, value in kw.relevance.items():
                rel[cat.index[code]] = value
            overlap += kw.daily_searches * np.outer(rel[n_own:], rel[:n_own])
        sales = np.array([s.monthly_sales for s in sc.skus], dtype=float)
        out = np.full(cat.n - n_own, -1, dtype=np.int64)
        for i, (_, offer) in enumerate(sc.rival_offers):
            same = np.flatnonzero(cat.category[:n_own] == cat.category[n_own + i])
            if offer.watches is not None:
                out[i] = cat.index[offer.watches]
            elif overlap[i].max() > 0:
                out[i] = int(np.argmax(overlap[i]))
            elif len(same):
                out[i] = int(same[np.argmax(sales[same])])
        return out

    # -- the daily strategies ------------------------------------------------------------------
    def morning(self, sim: Any) -> None:
        """Each rival's strategy looks at the market and may move (called at 00:00, before ranking).

        Our prices are noted as shoppers see them this midnight; price matchers and
        undercutters answer what they noted ``reaction_days`` ago.
        """
        if not self._started:
            self._start(sim)
        day = int(sim.env.now // 24)
        self._seen.append(sim.promotions.prices(sim.env.now)[0][: self.first].copy())
        outranked = sim.ads.take_outranked()
        bids_changed = False
        for r, rival in enumerate(self.sc.rivals):
            if rival.strategy in ("price_matcher", "undercutter"):
                self._answer_prices(sim, r, rival, day)
            elif rival.strategy == "festival_discounter":
                self._festival_prices(sim, r, rival, day)
            elif rival.strategy == "ad_aggressor":
                bids_changed |= self._bid_up(sim, r, rival, outranked)
        if bids_changed:
            self.push_bids(sim)

    def _start(self, sim: Any) -> None:
        """First midnight: take hidden offers off search until they are listed."""
        self._started = True
        for i, stock in self._hidden_stock.items():
            o = self.first + i
            self._held[i] = (stock, sim.relevance[:, o].copy(), self.cat.units_history[o].copy(),
                             self.cat.visits_history[o].copy())
            sim.relevance[:, o] = 0.0
        if self._held:
            self.push_bids(sim)

    def _offers_of(self, r: int) -> np.ndarray:
        """Rival ``r``'s listed offers that are not in a flash sale right now (a sale holds its price)."""
        return np.flatnonzero((self.rival_of == r) & self.listed & ~self.in_flash_sale)

    def _answer_prices(self, sim: Any, r: int, rival: Rival, day: int) -> None:
        seen_day = day - rival.reaction_days
        if seen_day < 0:
            return
        ours = self._seen[seen_day]
        for i in self._offers_of(r):
            if self.watches[i] < 0:
                continue
            floor = _cents(self.regular[i] * rival.floor_share)
            if rival.strategy == "price_matcher":
                target = _cents(ours[self.watches[i]])
            else:
                target = _dimes_down(ours[self.watches[i]] * (1.0 - rival.undercut))
            self.reprice(sim, int(i), min(self.regular[i], max(target, floor)))

    def _festival_prices(self, sim: Any, r: int, rival: Rival, day: int) -> None:
        festive = day in rival.festival_days or festival_phase(sim, day) in FESTIVAL_PHASES
        for i in self._offers_of(r):
            target = _cents(round(self.regular[i] * (1.0 - rival.festival_discount), 1)) if festive else self.regular[i]
            started, ended = festive and not self.festival_sale[i], self.festival_sale[i] and not festive
            self.festival_sale[i] = festive
            self.on_promotion[i] = festive
            kind = "festival_sale" if started else "festival_sale_end" if ended else "price_change"
            self.reprice(sim, int(i), target, kind)

    def _bid_up(self, sim: Any, r: int, rival: Rival, outranked: set[tuple[int, int]]) -> bool:
        changed = False
        for k, bid in self.bids[r].items():
            o = self.ad_offer(sim, r, k)
            if o is None or (k, o) not in outranked:
                continue
            new = round(min(self.start_bids[r][k] * rival.bid_cap, bid * (1.0 + rival.bid_raise)), 2)
            if new > bid:
                self.bids[r][k] = new
                changed = True
                sim.records.event(sim.env.now * 3600, "competitor", "ad_bid_up", self.cat.codes[o],
                                  f"{rival.shop} bids harder for '{self.sc.keywords[k].keyword}' "
                                  "(its ad had shown below yours)")
        return changed

    # -- prices and promotions ------------------------------------------------------------------
    @property
    def in_flash_sale(self) -> np.ndarray:
        """Rival offers whose flash sale is running (bool per rival offer)."""
        return np.isfinite(self.sale_until)

    def reprice(self, sim: Any, i: int, price: float, kind: str = "price_change") -> None:
        """Set rival offer ``i``'s resting price; shown at once unless a flash sale holds the price.
        Writes a ``competitor`` event when the shown price moves."""
        o = self.first + i
        self.rest[i] = price
        if self.in_flash_sale[i]:
            return
        old = float(self.cat.price[o])
        if abs(price - old) < 0.005:
            return
        self.cat.price[o] = price
        shop, code = self.cat.shops[o], self.cat.codes[o]
        if kind == "festival_sale":
            detail = f"{shop} put {code} on festival sale: {yuan(old)} -> {yuan(price)} yuan"
        elif kind == "festival_sale_end":
            detail = f"{shop} ended its festival sale on {code}: {yuan(old)} -> {yuan(price)} yuan"
        else:
            detail = price_move(shop, code, old, price)
        sim.records.event(sim.env.now * 3600, "competitor", kind, code, detail)

    def set_regular_price(self, sim: Any, i: int, price: float) -> None:
        """A scripted price change: the rival's new regular price (its strategy's ceiling)."""
        self.regular[i] = price
        self.reprice(sim, i, price)

    def flash_sale(self, i: int, price: float, until: float) -> float:
        """Offer ``i`` sells at ``price`` with a promotion flag until hour ``until``; returns the
        price it showed before."""
        o = self.first + i
        old = float(self.cat.price[o])
        self.cat.price[o] = price
        self.sale_until[i] = until if not self.in_flash_sale[i] else max(self.sale_until[i], until)
        self.on_promotion[i] = True
        return old

    def end_flash_sale(self, i: int, now: float) -> tuple[float, float] | None:
        """End offer ``i``'s flash sale if its time is up: (sale price, price now), else None."""
        if now < self.sale_until[i]:  # still running, or no sale (inf)
            return None
        o = self.first + i
        old = float(self.cat.price[o])
        self.sale_until[i] = np.inf
        self.cat.price[o] = self.rest[i]
        self.on_promotion[i] = self.festival_sale[i]
        return old, float(self.rest[i])

    # -- traffic and ads --------------------------------------------------------------------------
    def affiliate_push(self, i: int, factor: float, on: bool) -> None:
        """Start (``on``) or end an affiliate push: offer ``i``'s visits and sales x ``factor``."""
        if on:
            self._pushes[i].append(factor)
        else:
            self._pushes[i].remove(factor)
        self.boost[i] = float(np.prod(self._pushes[i])) if self._pushes[i] else 1.0

    def ad_surge(self, sim: Any, r: int, factor: float, on: bool) -> None:
        """Start (``on``) or end an ad surge: rival ``r``'s keyword bids x ``factor``."""
        if on:
            self.surges[r].append(factor)
        else:
            self.surges[r].remove(factor)
        self.push_bids(sim)

    def ad_offer(self, sim: Any, r: int, k: int) -> int | None:
        """The listed offer rival ``r`` advertises on keyword ``k`` (its most relevant), or None."""
        offers = self.first + np.flatnonzero((self.rival_of == r) & self.listed)
        if not len(offers):
            return None
        best = int(offers[np.argmax(sim.relevance[k, offers])])
        return best if sim.relevance[k, best] > 0 else None

    def push_bids(self, sim: Any) -> None:
        """Give the auction every rival's current bids (strategy bids x any ad surge)."""
        out: list[list[tuple[float, int]]] = [[] for _ in self.sc.keywords]
        for r in range(len(self.sc.rivals)):
            surge = float(np.prod(self.surges[r])) if self.surges[r] else 1.0
            for k, bid in self.bids[r].items():
                o = self.ad_offer(sim, r, k)
                if o is not None and bid > 0:
                    out[k].append((round(bid * surge, 2), o))
        sim.ads.set_rival_bids(out)

    def sell(self, g: Groups, weight: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw rival listing visits and units sold over ``weight`` hours of traffic (usually a
        day's summed hourly weights); take the units from stock. An affiliate push multiplies
        an offer's visits (and so its sales).

        Returns (visits, units) per rival offer (empty arrays if there are no rivals).
        """
        visits = rng.poisson(g.rival_visits * weight * self.boost)
        with np.errstate(invalid="ignore", divide="ignore"):
            chance = np.where(g.rival_visits > 0, g.rival_units / g.rival_visits, 0.0)
        stock = self.cat.stock[self.first :]
        units = np.minimum(rng.binomial(visits, np.clip(chance, 0.0, 1.0)), stock)
        stock -= units
        return visits, units

    # -- listings and stock -----------------------------------------------------------------------
    def offer(self, code: str) -> int:
        """Catalog offer number of a rival SKU."""
        i = self.cat.index[code]
        if i < self.first:
            raise KeyError(code)
        return i

    def shop_index(self, shop: str) -> int:
        """Index of a rival shop in the scenario's ``rivals``."""
        return [r.shop for r in self.sc.rivals].index(shop)

    def list_offer(self, sim: Any, i: int) -> None:
        """A hidden offer goes on sale: it gets its search relevance, stock and sales history back
        (it shows in search from the next morning's ranking)."""
        stock, relevance, units, visits = self._held.pop(i)
        o = self.first + i
        self.listed[i] = True
        self.cat.listed_day[o] = sim.current_day + 1  # the recommender picks it up with the next morning's search
        self.cat.stock[o] += stock
        sim.relevance[:, o] = relevance
        self.cat.units_history[o] = units
        self.cat.visits_history[o] = visits
        self.push_bids(sim)

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
        """What an operator can see of each listed rival offer right now (arrays per offer)."""
        rivals = slice(self.first, None)
        keep = self.listed
        return {
            "offer": np.arange(self.first, self.cat.n)[keep],
            "price": self.cat.price[rivals][keep],
            "on_promotion": self.on_promotion[keep],
            "displayed_sales": np.rint(self.cat.monthly_sales()[rivals][keep]).astype(np.int64),
            "rating": np.round(self.cat.rating()[rivals][keep], 2),
            "ad_presence": self.ad_presence[keep],
            "in_stock": self.cat.stock[rivals][keep] > 0,
        }


def price_move(shop: str, code: str, old: float, new: float) -> str:
    """An events line for a rival's price change: "Urban Basics cut UB-TEE 49 -> 45 yuan"."""
    return f"{shop} {'cut' if new < old else 'raised'} {code} {yuan(old)} -> {yuan(new)} yuan"


def festival_phase(sim: Any, day: int) -> str | None:
    """The platform festival phase of ``day`` ("presale", "main", "slump") or None, from the
    scenario's ``festivals`` (:class:`shopsim.calendar.FestivalCalendar`)."""
    found = sim.festivals.phase(day)
    return None if found is None else found[1]
