"""Products and offers: every listing in the market, the shop's own SKUs first, then rivals'.

All per-listing state lives here as numpy arrays indexed by offer number (own SKUs are
``0 .. n_own-1``): list price, stock, quality, listing quality, ratings and the daily sales
history that makes the displayed monthly sales (月销) and the ranking's sales velocity.
"""

from __future__ import annotations

import numpy as np

from shopsim import _arrays as arrays
from shopsim.scenario import Scenario

#: Days of history kept per listing (enough for monthly sales and the ranking's look-back).
HISTORY_DAYS = 60
_PRIOR_CLICKS = 200.0  # pseudo-visits behind the conversion estimate of a new listing
_PRIOR_CONVERSION = 0.02
_PRIOR_INTEREST_PER_UNIT = 4.0  # favourites and carts per unit sold, before the shop's own history


class Catalog:
    """The market's listings as arrays.

    Attributes
    ----------
    codes: SKU code per offer. shops: shop name per offer. n_own: own SKUs (first offers).
    price: list price, yuan per unit. cost: unit cost of own SKUs, yuan per unit.
    stock: units on hand. quality, listing_quality: 0-1.
    rating_sum, rating_count: stars summed over reviews, and the review count.
    reference_price: the price shoppers consider fair for each offer, yuan per unit.
    listed_day: the simulated day each listing went live (negative: before the start).
    interest_history: favourites plus cart adds (收藏加购) per own listing and day.
    refund_rate: each listing's recent refund rate (refunded amount / sales over the last
    ``returns.window_days``; rivals: what the causes of returns give them), kept by
    :mod:`shopsim.refunds`; search ranking subtracts it and the feed's recommender penalises it.
    """

    def __init__(self, sc: Scenario) -> None:
        own, rivals = sc.skus, [o for _, o in sc.rival_offers]
        self.n_own = len(own)
        self.codes: list[str] = [s.sku for s in own] + [o.sku for o in rivals]
        self.names: list[str] = [s.name for s in own] + [o.name for o in rivals]
        self.shops: list[str] = [sc.shop.name] * len(own) + [shop for shop, _ in sc.rival_offers]
        self.index = {code: i for i, code in enumerate(self.codes)}
        categories = sorted({s.category for s in own} | {o.category for o in rivals})
        self.categories = categories
        self.category = np.array([categories.index(s.category) for s in (*own, *rivals)])
        items = (*own, *rivals)
        self.price = np.array([s.price for s in items], dtype=float)
        self.cost = np.array([s.cost for s in own], dtype=float)
        self.lead_time = np.array([s.lead_time_days for s in own], dtype=int)
        self.stock = np.array([s.initial_stock for s in own] + [o.stock for o in rivals], dtype=np.int64)
        self.quality = np.array([s.quality for s in items], dtype=float)
        self.listing_quality = np.array([s.listing_quality for s in items], dtype=float)
        counts = np.array([s.review_count for s in items], dtype=float)
        self.rating_count = counts
        self.rating_sum = counts * np.array([s.rating for s in items])
        self._start_rating = np.array([s.rating for s in items])
        monthly = np.array([s.monthly_sales for s in items], dtype=float)
        self.units_history = np.tile((monthly / 30.0)[:, None], (1, HISTORY_DAYS))
        self.visits_history = self.units_history / _PRIOR_CONVERSION
        self.reference_price = np.array([s.price if s.reference_price is None else s.reference_price
                                         for s in items], dtype=float)
        self.listed_day = -np.array([s.age_days for s in items], dtype=float)
        self.interest_history = self.units_history[: self.n_own] * _PRIOR_INTEREST_PER_UNIT
        self.refund_rate = np.zeros(self.n)

    @property
    def n(self) -> int:
        """Number of listings in the market (own and rival)."""
        return len(self.codes)

    def own(self, code: str) -> int:
        """Offer number of an own SKU (KeyError if the code is not the shop's)."""
        i = self.index[code]
        if i >= self.n_own:
            raise KeyError(code)
        return i

    def rating(self) -> np.ndarray:
        """Average displayed rating per offer, stars (the start rating while no reviews)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            r = self.rating_sum / self.rating_count
        return np.where(self.rating_count > 0, r, self._start_rating)

    def monthly_sales(self) -> np.ndarray:
        """Displayed sales per offer: units sold in the last 30 days (月销)."""
        return self.units_history[:, -30:].sum(axis=1)

    def landing_share(self) -> np.ndarray:
        """How shoppers who come to the shop itself (followers, returning buyers, venues, CRM)
        spread over the own SKUs: by displayed monthly sales, plus one so a new SKU gets some."""
        sales = self.monthly_sales()[: self.n_own] + 1.0
        return sales / sales.sum()

    def velocity(self, days: int) -> np.ndarray:
        """Average units sold per day over the last ``days`` days, per offer."""
        return self.units_history[:, -days:].mean(axis=1)

    def conversion(self, days: int) -> np.ndarray:
        """Orders per visit over the last ``days`` days, shrunk towards 2 % for thin data."""
        units = self.units_history[:, -days:].sum(axis=1)
        visits = self.visits_history[:, -days:].sum(axis=1)
        return (units + _PRIOR_CONVERSION * _PRIOR_CLICKS) / (visits + _PRIOR_CLICKS)

    def interest_rate(self, days: int) -> np.ndarray:
        """收藏加购 rate per offer over the last ``days`` days: favourites and cart adds per visit.

        Measured for own listings; a rival's is estimated from its units sold (the platform sees
        it, the shop does not)."""
        units = self.units_history[:, -days:].sum(axis=1)
        interest = units * _PRIOR_INTEREST_PER_UNIT
        interest[: self.n_own] = self.interest_history[:, -days:].sum(axis=1)
        visits = self.visits_history[:, -days:].sum(axis=1)
        prior = _PRIOR_CONVERSION * _PRIOR_INTEREST_PER_UNIT
        return (interest + prior * _PRIOR_CLICKS) / (visits + _PRIOR_CLICKS)

    def close_day(self, units: np.ndarray, visits: np.ndarray, interest: np.ndarray | None = None) -> None:
        """Push one day's units sold and listing visits per offer (and favourites + cart adds per
        own listing) into the history."""
        self.units_history = arrays.push_day(self.units_history, units)
        self.visits_history = arrays.push_day(self.visits_history, visits)
        self.interest_history = arrays.push_day(self.interest_history, units[: self.n_own] * _PRIOR_INTEREST_PER_UNIT
                                                if interest is None else interest)

    def add_ratings(self, offers: np.ndarray, stars: np.ndarray) -> None:
        """Add published reviews' stars to their offers' ratings."""
        np.add.at(self.rating_sum, offers, stars)
        self.rating_count += np.bincount(offers, minlength=self.n)  # whole numbers: as adding 1 at a time
