"""The shop's customer base: persistent ids, orders per customer, followers, repeat visits.

Every visitor gets a customer id the first time the shop sees them; a searcher may already be
known (the chance is the base's size over the niche's market size). A buyer may follow the
shop and comes back later through their orders page or the recommendation feed with a chance
(the repeat-purchase hazard) that decays with the days since their last order, is higher for
categories bought again sooner (``repurchase_by_category``), rises with how well the last order
served them (the stars it deserved) and falls if it was refunded. ``is_new_customer`` means
"has never bought from the shop".

The base also keeps the audiences ads can target: past visitors (visited lately, never
bought), past buyers and followers.
"""

from __future__ import annotations

import numpy as np

from shopsim import _arrays as arrays
from shopsim.scenario import Crm as CrmSettings
from shopsim.scenario import Customers as CustomerSettings
from shopsim.scenario import Traffic

#: Customer segments a CRM message can go to.
SEGMENTS = ("past_buyers", "lapsed_buyers", "followers")


class Growable:
    """An int64 array that grows fourfold when full (amortised O(1) appends).

    Room past ``size`` is never read (every append writes its values), so it is left
    unwritten: the memory behind it is not used until it is filled, and growing fourfold
    instead of doubling copies the values held a third as often for no extra memory used.
    """

    def __init__(self, dtype: str = "int64", capacity: int = 1024) -> None:
        self._data = np.empty(max(capacity, 16), dtype=dtype)
        self.size = 0

    def _reserve(self, size: int) -> None:
        if size > len(self._data):
            bigger = np.empty(max(size, 4 * len(self._data)), dtype=self._data.dtype)
            bigger[: self.size] = self._data[: self.size]
            self._data = bigger

    def extend(self, values: np.ndarray) -> None:
        """Append values at the end."""
        n = len(values)
        self._reserve(self.size + n)
        self._data[self.size : self.size + n] = values
        self.size += n

    def grow(self, n: int, fill: int = 0) -> None:
        """Append ``n`` copies of ``fill``."""
        self._reserve(self.size + n)
        self._data[self.size : self.size + n] = fill
        self.size += n

    @property
    def view(self) -> np.ndarray:
        """The filled part (a view: writes go to the array)."""
        return self._data[: self.size]


class CustomerBase:
    """Everyone the shop has seen, with their orders and whether they follow the shop.

    Parameters
    ----------
    settings, traffic:
        The scenario's customer and traffic sections.
    rng:
        The ``customers`` random stream (used for the starting base only).
    """

    def __init__(self, settings: CustomerSettings, traffic: Traffic, rng: np.random.Generator) -> None:
        self.settings = settings
        self.repeat_rate = traffic.repeat_visit_rate
        self.repeat_decay = traffic.repeat_decay_days
        self.window = int(min(3650, max(30, np.ceil(self.repeat_decay * 6))))
        start = max(settings.past_buyers, settings.followers)
        self.orders = Growable("int32", start * 2)
        self.last_order_day = Growable("int32", start * 2)
        self.is_follower = Growable("bool", start * 2)
        self.followers = Growable("int64", settings.followers * 2)
        self.log_customer = Growable("int64", settings.past_buyers * 2)
        self.log_day = Growable("int32", settings.past_buyers * 2)
        self.last_visit_day = Growable("int32", start * 2)
        self.satisfaction = Growable("float32", start * 2)  # stars the last order deserved, minus 4.5
        self.last_category = Growable("int16", start * 2)  # category of the last order, -1 unknown
        self.refunded = Growable("bool", start * 2)  # the last order was refunded (set by a refund model)
        self.category_factor = np.ones(1)
        self._new_buyers: list[np.ndarray] = []  # first-time buyers of the part of the day now running
        self._part_size = 0  # customers known when the part of the day now running began
        # the ad audiences as of the last refresh: members' flags by customer id (past visitors,
        # past buyers), the followers then, and the id lists built from them when first needed
        self._audience_flags: list[np.ndarray] = [np.zeros(0, bool)] * 3
        self._audience_followers = np.empty(0, np.int64)
        self._audience_pools: dict[int, np.ndarray] = {}
        self.orders.grow(start)
        self.last_order_day.grow(start, -10**6)
        self.is_follower.grow(start, False)
        self.last_visit_day.grow(start, -10**6)
        self.satisfaction.grow(start, 0)
        self.last_category.grow(start, -1)
        self.refunded.grow(start, False)
        buyers = np.arange(settings.past_buyers)
        days = -rng.integers(1, 366, size=len(buyers)).astype("int32")
        self.orders.view[buyers] = 1 + rng.poisson(0.4, size=len(buyers))
        self.last_order_day.view[buyers] = days
        order = np.argsort(days, kind="stable")
        self.log_customer.extend(buyers[order])
        self.log_day.extend(days[order])
        self.follow(np.arange(settings.followers))
        self._part_size = self.size

    @property
    def size(self) -> int:
        """Customers known to the shop."""
        return self.orders.size

    def new_ids(self, n: int) -> np.ndarray:
        """Create ``n`` new customers; return their ids."""
        first = self.size
        self.orders.grow(n)
        self.last_order_day.grow(n, -10**6)
        self.is_follower.grow(n, False)
        self.last_visit_day.grow(n, -10**6)
        self.satisfaction.grow(n, 0)
        self.last_category.grow(n, -1)
        self.refunded.grow(n, False)
        return np.arange(first, first + n, dtype=np.int64)

    def identify(self, kind: np.ndarray, audience: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Who each arriving visitor is, from two uniforms each (``u``: visitors x 2).

        ``kind`` is 0 for a searcher (known to the shop with chance base / market, else new),
        1 for a follower visiting directly (new if the shop has no followers yet) and 2 for a
        member of ``audience`` (an ad audience's code; new if it is empty). The base's size is
        taken as it was when the part of the day began (:meth:`start_part`), so however the part
        is sliced the same uniforms pick the same people. Returns (ids, is new); the new ones
        get their ids from :meth:`new_ids`, in an order the caller chooses (id -1 here).
        """
        ids = np.full(len(kind), -1, dtype=np.int64)
        size = self._part_size
        search = kind == 0
        first, second = u[:, 0], u[:, 1]
        known = search & (first < min(1.0, size / self.settings.market_size))
        ids[known] = (second[known] * size).astype(np.int64)
        new = search & ~known
        direct = kind == 1
        if self.followers.size:
            ids[direct] = self.followers.view[(first[direct] * self.followers.size).astype(np.int64)]
        else:
            new |= direct
        targeted = kind == 2
        for code in arrays.unique(audience[targeted]) if targeted.any() else ():
            who = targeted & (audience == code)
            pool = self.audience(int(code))
            if len(pool):
                ids[who] = pool[(first[who] * len(pool)).astype(np.int64)]
            else:
                new |= who
        return ids, new

    def returning_today(self, day: int, rng: np.random.Generator, busy: float = 1.0) -> np.ndarray:
        """Past buyers who come back today through their orders page or the feed (one id per
        visit); ``busy`` scales the hazard on days the whole platform is busier or quieter (a
        festival, the New Year)."""
        days = self.log_day.view
        lo = np.searchsorted(days, day - self.window)
        cust = self.log_customer.view[lo:]
        when = days[lo:]
        latest = self.last_order_day.view[cust] == when
        # busy * rate * exp(-(days since) / decay) * factor, multiplied in place in that order
        hazard = np.exp(-(day - when) / self.repeat_decay)
        hazard *= busy * self.repeat_rate
        hazard *= self.hazard_factor(cust)
        latest &= rng.random(len(cust)) < hazard
        return cust[latest]

    def hazard_factor(self, ids: np.ndarray) -> np.ndarray:
        """Each customer's repurchase hazard relative to an average buyer: the category of the last
        order, how well it served them, and whether it was refunded."""
        s = self.settings
        by_code = np.append(self.category_factor, 1.0)  # code -1 (unknown) -> the last entry, 1.0
        factor = by_code[self.last_category.view[ids].astype(np.intp)]  # (intp: numpy's fast gather)
        factor *= np.exp(s.satisfaction_effect * self.satisfaction.view[ids])
        return np.where(self.refunded.view[ids], factor * s.refund_return_factor, factor)

    def set_categories(self, categories: list[str]) -> None:
        """The catalogue's categories (codes of ``last_category``) and their repurchase factors."""
        by = self.settings.repurchase_by_category
        self.category_factor = np.array([by.get(c, 1.0) for c in categories])

    def remember_orders(self, ids: np.ndarray, category: np.ndarray, stars: np.ndarray) -> None:
        """After a day's orders: each buyer's category and the stars the order deserved (1-5)."""
        self.last_category.view[ids] = category
        self.satisfaction.view[ids] = stars - 4.5
        self.refunded.view[ids] = False

    def mark_refunded(self, ids: np.ndarray) -> None:
        """These customers' last order was refunded (they come back less often)."""
        self.refunded.view[ids] = True

    def note_visits(self, ids: np.ndarray, day: int) -> None:
        """These customers visited the shop on ``day``."""
        self.last_visit_day.view[ids] = day

    def refresh_audiences(self, day: int, visitor_days: int) -> np.ndarray:
        """Recount the audiences ads can target (see :data:`shopsim.ads.ALL_AUDIENCES`); return their sizes.

        past_visitors visited within ``visitor_days`` and never bought; past_buyers bought; the
        new_shoppers audience is the platform's, not the shop's (size 0 here). Only the members'
        flags are kept: an audience's id list is built the first time a visitor is drawn from it
        (:meth:`audience`), which on most days is never."""
        buyers = self.orders.view > 0
        visitors = self.last_visit_day.view >= day - visitor_days
        visitors &= ~buyers
        # followers are only ever appended to, so a view of today's list stays today's list
        self._audience_flags = [np.zeros(0, bool), visitors, buyers]
        self._audience_followers = self.followers.view
        self._audience_pools = {}
        return np.array([0, np.count_nonzero(visitors), np.count_nonzero(buyers), len(self._audience_followers)],
                        dtype=float)

    def audience(self, code: int) -> np.ndarray:
        """The ids (ascending) in audience ``code`` (of :data:`shopsim.ads.ALL_AUDIENCES`) as of
        the last :meth:`refresh_audiences`."""
        if code == 3:
            return self._audience_followers
        pool = self._audience_pools.get(code)
        if pool is None:
            pool = self._audience_pools[code] = np.flatnonzero(self._audience_flags[code])
        return pool

    @property
    def audiences(self) -> list[np.ndarray]:
        """Every audience's ids (ascending), by code, as of the last :meth:`refresh_audiences`."""
        return [self.audience(code) for code in range(4)]

    def is_buyer(self, ids: np.ndarray) -> np.ndarray:
        """Whether each customer has bought from the shop before."""
        return self.orders.view[ids] > 0

    def was_buyer(self, ids: np.ndarray) -> np.ndarray:
        """Whether each customer had bought from the shop before the part of the day now running
        began (the funnel treats a first-time buyer as a returning buyer from the next part on,
        however the part is sliced: see :meth:`start_part`)."""
        bought = self.orders.view[ids] > 0
        if self._new_buyers:
            at = np.flatnonzero(bought)  # only buyers can be this part's first-time buyers
            if len(at):
                # ~np.isin(ids[at], fresh), by binary search in the sorted first-time buyers
                fresh = arrays.unique(np.concatenate(self._new_buyers))
                candidates = ids[at]
                found = fresh[np.minimum(np.searchsorted(fresh, candidates), len(fresh) - 1)]
                bought[at] = found != candidates
        return bought

    def start_part(self) -> None:
        """A new part of the day begins: this part's first-time buyers now count as buyers, and
        the base's size is noted for :meth:`identify`."""
        self._new_buyers = []
        self._part_size = self.size

    def record_orders(self, ids: np.ndarray, day: int) -> None:
        """Count one order for each id (ids may repeat) on ``day``."""
        first = ids[self.orders.view[ids] == 0]
        if len(first):
            self._new_buyers.append(first)
        np.add.at(self.orders.view, ids, 1)
        self.last_order_day.view[ids] = day

    def log_buyers(self, ids: np.ndarray, day: int) -> None:
        """At the close of ``day``: its buyers (ids may repeat) join the log that
        :meth:`returning_today` draws from, once each."""
        unique = arrays.unique(ids)
        self.log_customer.extend(unique)
        self.log_day.grow(len(unique), day)

    def follow(self, ids: np.ndarray) -> int:
        """Make these customers followers; return how many were not following yet."""
        ids = arrays.unique(ids)
        new = ids[~self.is_follower.view[ids]]
        self.is_follower.view[new] = True
        self.followers.extend(new)
        return len(new)


class CrmDesk:
    """Messages to customer segments and the visits they bring (拉新 促活 留存: keep buyers coming back).

    A message goes to every member of a segment: ``past_buyers`` (ordered within
    ``past_buyer_days``), ``lapsed_buyers`` (longer ago, within a year) or ``followers``. A share
    responds (more with a coupon) and visits over the next ``response_hours``.
    """

    def __init__(self, settings: CrmSettings, base: CustomerBase) -> None:
        self.settings, self.base = settings, base
        self._schedule: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def segment(self, name: str, day: int) -> np.ndarray:
        """Customer ids in a segment on ``day``."""
        if name == "followers":
            return self.base.followers.view.copy()
        last = self.base.last_order_day.view
        since = day - last
        buyers = self.base.orders.view > 0
        past = self.settings.past_buyer_days
        if name == "past_buyers":
            return np.flatnonzero(buyers & (since <= past))
        return np.flatnonzero(buyers & (since > past) & (since <= 365))

    def send(self, name: str, day: int, hour: int, coupon: bool, rng: np.random.Generator,
             landing_cdf: np.ndarray, hour_weights: np.ndarray) -> tuple[int, int]:
        """Message a segment; schedule the responders' visits. Returns (messages, responders)."""
        ids = self.segment(name, day)
        rate = self.settings.response_rate[name] * (1 + self.settings.coupon_boost * coupon)
        who = ids[rng.random(len(ids)) < min(rate, 1.0)]
        span = self.settings.response_hours
        hours = hour + np.arange(span)
        weights = hour_weights[hours % 24] * np.exp(-np.arange(span) / (span / 2))
        when = hours[np.searchsorted(np.cumsum(weights), rng.random(len(who)) * weights.sum())]
        offers = np.searchsorted(landing_cdf, rng.random(len(who)) * landing_cdf[-1])
        for h in arrays.unique(when):
            self._schedule.setdefault(int(h), []).append((who[when == h], offers[when == h]))
        return len(ids), len(who)

    def responders(self, hour: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Responders visiting in absolute hour ``hour`` (ids, own offers), or None."""
        parts = self._schedule.pop(hour, None)
        if not parts:
            return None
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
