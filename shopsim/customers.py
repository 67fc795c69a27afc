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
    """An array that grows fourfold when full (amortised O(1) appends; :func:`shopsim._arrays.grown`).

    Room past ``size`` is never read (every append writes its values). Its memory is asked for in
    huge pages: the base's arrays are read and written at random by customer id.
    """

    def __init__(self, dtype: str = "int64", capacity: int = 1024) -> None:
        self._data = np.empty(max(capacity, 16), dtype=dtype)
        self.size = 0

    def _reserve(self, size: int) -> None:
        if size > len(self._data):
            self._data = arrays.grown(self._data, self.size, size, huge_pages=True)

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

    Every customer has a follower flag, the day of their last visit and a buyer slot (-1 until
    their first order). What only buyers have (orders, last order's day, category, stars and
    refund) is kept by slot, in the order they first bought: the daily repeat-visit draw and the
    audiences then read a few hundred thousand buyers, not the millions the shop has seen.

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
        # by customer id
        self.slot = Growable("int32", start * 2)  # buyer slot, -1 = never bought
        self.is_follower = Growable("bool", start * 2)
        self.last_visit_day = Growable("int32", start * 2)
        self.followers = Growable("int64", settings.followers * 2)
        # by buyer slot
        self.buyer = Growable("int64", settings.past_buyers * 2)  # the slot's customer id
        self.orders = Growable("int32", settings.past_buyers * 2)
        self.last_order_day = Growable("int32", settings.past_buyers * 2)
        self.satisfaction = Growable("float32", settings.past_buyers * 2)  # stars the last order deserved, minus 4.5
        self.last_category = Growable("int16", settings.past_buyers * 2)  # category of the last order, -1 unknown
        self.refunded = Growable("bool", settings.past_buyers * 2)  # the last order was refunded
        # the repeat-visit log: (buyer slot, day) once per buyer and day they ordered, by day; whether
        # the entry is its buyer's latest, the buyer's repurchase factor (kept up to date in the latest
        # entry only: the others never bring a visit) and, by slot, where each buyer's latest entry is
        self.log_slot = Growable("int32", settings.past_buyers * 2)
        self.log_day = Growable("int32", settings.past_buyers * 2)
        self.log_latest = Growable("bool", settings.past_buyers * 2)
        self.log_factor = Growable("float64", settings.past_buyers * 2)
        self.latest_entry = Growable("int64", settings.past_buyers * 2)
        self.category_factor = np.ones(1)
        self._new_buyers: list[np.ndarray] = []  # first-time buyers of the part of the day now running
        self._part_size = 0  # customers known when the part of the day now running began
        self._visitors = _RecentVisitors()
        self._audiences = _AudienceSnapshot()
        self.new_ids(start)
        buyers = np.arange(settings.past_buyers)
        days = -rng.integers(1, 366, size=len(buyers)).astype("int32")
        self._add_buyers(buyers)
        self.orders.view[buyers] = 1 + rng.poisson(0.4, size=len(buyers))
        self.last_order_day.view[buyers] = days
        order = np.argsort(days, kind="stable")
        self._log(buyers[order], days[order])
        self.follow(np.arange(settings.followers))
        self._part_size = self.size

    @property
    def size(self) -> int:
        """Customers known to the shop."""
        return self.slot.size

    @property
    def buyers(self) -> int:
        """Customers who have ordered at least once."""
        return self.buyer.size

    def new_ids(self, n: int) -> np.ndarray:
        """Create ``n`` new customers; return their ids."""
        first = self.size
        self.slot.grow(n, -1)
        self.is_follower.grow(n, False)
        self.last_visit_day.grow(n, _NEVER)
        return np.arange(first, first + n, dtype=np.int64)

    def _add_buyers(self, ids: np.ndarray) -> None:
        """Give these first-time buyers (distinct, ascending) the next buyer slots."""
        n = len(ids)
        self.slot.view[ids] = np.arange(self.buyers, self.buyers + n, dtype=np.int32)
        self.buyer.extend(ids)
        self.orders.grow(n)
        self.last_order_day.grow(n, _NEVER)
        self.satisfaction.grow(n, 0)
        self.last_category.grow(n, -1)
        self.refunded.grow(n, False)
        self.latest_entry.grow(n, -1)

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
        festival, the New Year). One uniform per logged (buyer, day) within the window; a buyer
        comes back only through the entry of their latest order."""
        days = self.log_day.view
        if len(days) and days[-1] > day:
            raise ValueError(f"returning_today({day}): buyers are logged up to day {days[-1]}")
        # entries by day, oldest first: the log is sorted by day, so each day's entries are a run
        edges = np.searchsorted(days, np.arange(day - self.window, day + 2, dtype=np.int32))
        slots = self.log_slot.view[edges[0]:]
        # busy * rate * exp(-(days since) / decay) * factor; the first two by day, for each run
        by_age = np.exp(-np.arange(self.window, -1, -1, dtype=np.int32) / self.repeat_decay)
        by_age *= busy * self.repeat_rate
        hazard = np.repeat(by_age, np.diff(edges))
        hazard *= self.log_factor.view[edges[0]:]
        back = rng.random(len(slots)) < hazard
        back &= self.log_latest.view[edges[0]:]
        return self.buyer.view[slots[back]]

    def _factors(self, slots: np.ndarray) -> np.ndarray:
        """These buyers' repurchase hazard relative to an average buyer: the category of the last
        order, how well it served them, and whether it was refunded."""
        s = self.settings
        by_code = np.append(self.category_factor, 1.0)  # code -1 (unknown) -> the last entry, 1.0
        factor = by_code[self.last_category.view[slots].astype(np.intp)]  # (intp: numpy's fast gather)
        factor *= np.exp(s.satisfaction_effect * self.satisfaction.view[slots])
        return np.where(self.refunded.view[slots], factor * s.refund_return_factor, factor)

    def hazard_factor(self, ids: np.ndarray) -> np.ndarray:
        """These customers' (buyers') repurchase hazard relative to an average buyer."""
        return self._factors(self.slot.view[ids])

    def _update_factors(self, slots: np.ndarray) -> None:
        """After a change to these buyers: their factors in their latest log entries."""
        entry = self.latest_entry.view[slots]
        logged = entry >= 0
        self.log_factor.view[entry[logged]] = self._factors(slots[logged])

    def set_categories(self, categories: list[str]) -> None:
        """The catalogue's categories (codes of ``last_category``) and their repurchase factors."""
        by = self.settings.repurchase_by_category
        self.category_factor = np.array([by.get(c, 1.0) for c in categories])
        self._update_factors(np.arange(self.buyers))

    def remember_orders(self, ids: np.ndarray, category: np.ndarray, stars: np.ndarray) -> None:
        """After a day's orders: each buyer's category and the stars the order deserved (1-5)."""
        slots = self.slot.view[ids]
        self.last_category.view[slots] = category
        self.satisfaction.view[slots] = stars - 4.5
        self.refunded.view[slots] = False
        self._update_factors(slots)

    def mark_refunded(self, ids: np.ndarray) -> None:
        """These customers' last order was refunded (they come back less often)."""
        slots = self.slot.view[ids]
        self.refunded.view[slots] = True
        self._update_factors(slots)

    def note_visits(self, ids: np.ndarray, day: int) -> None:
        """These customers visited the shop on ``day``."""
        last = self.last_visit_day.view
        ids = arrays.unique(ids)
        before = last[ids]
        moved = before != day
        if not moved.all():
            ids, before = ids[moved], before[moved]
        self._visitors.moved(before[self.slot.view[ids] < 0], day)
        self._audiences.visited(ids, before)
        last[ids] = day

    def refresh_audiences(self, day: int, visitor_days: int) -> np.ndarray:
        """Recount the audiences ads can target (see :data:`shopsim.ads.ALL_AUDIENCES`); return their sizes.

        past_visitors visited within ``visitor_days`` and never bought; past_buyers bought; the
        new_shoppers audience is the platform's, not the shop's (size 0 here). The counts are
        kept as the base changes; an audience's id list is built, as of this refresh, the first
        time a visitor is drawn from it (:meth:`audience`), which on most days is never."""
        self._audiences = _AudienceSnapshot(day - visitor_days, self.size, self.buyers, self.followers.view)
        return np.array([0, self._visitors.since(day - visitor_days), self.buyers, len(self.followers.view)],
                        dtype=float)

    def audience(self, code: int) -> np.ndarray:
        """The ids (ascending) in audience ``code`` (of :data:`shopsim.ads.ALL_AUDIENCES`) as of
        the last :meth:`refresh_audiences`."""
        return self._audiences.pool(code, self)

    @property
    def audiences(self) -> list[np.ndarray]:
        """Every audience's ids (ascending), by code, as of the last :meth:`refresh_audiences`."""
        return [self.audience(code) for code in range(4)]

    def is_buyer(self, ids: np.ndarray) -> np.ndarray:
        """Whether each customer has bought from the shop before."""
        return self.slot.view[ids] >= 0

    def order_counts(self, ids: np.ndarray) -> np.ndarray:
        """Orders each customer has paid (0 for those who never bought)."""
        return self._by_buyer(self.orders, ids, 0)

    def last_order_days(self, ids: np.ndarray) -> np.ndarray:
        """The day of each customer's last order (a large negative number if they never bought)."""
        return self._by_buyer(self.last_order_day, ids, _NEVER)

    def _by_buyer(self, field: Growable, ids: np.ndarray, never: int) -> np.ndarray:
        """A buyer field's value for each customer (``never`` for those who never bought)."""
        slots = self.slot.view[ids]
        values = np.full(len(slots), never, dtype=field.view.dtype)
        bought = slots >= 0
        values[bought] = field.view[slots[bought]]
        return values

    def was_buyer(self, ids: np.ndarray) -> np.ndarray:
        """Whether each customer had bought from the shop before the part of the day now running
        began (the funnel treats a first-time buyer as a returning buyer from the next part on,
        however the part is sliced: see :meth:`start_part`)."""
        bought = self.slot.view[ids] >= 0
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
        first = ids[self.slot.view[ids] < 0]
        if len(first):
            self._new_buyers.append(first)
            first = arrays.unique(first)
            self._visitors.leave(self.last_visit_day.view[first])
            self._add_buyers(first)
        slots = self.slot.view[ids]
        np.add.at(self.orders.view, slots, 1)
        self.last_order_day.view[slots] = day

    def log_buyers(self, ids: np.ndarray, day: int) -> None:
        """At the close of ``day``: its buyers (ids may repeat) join the log that
        :meth:`returning_today` draws from, once each."""
        slots = self.slot.view[arrays.unique(ids)]
        if (slots < 0).any():
            raise ValueError("log_buyers: only customers whose orders were recorded can be logged")
        self._log(slots, np.full(len(slots), day, dtype=np.int32))

    def _log(self, slots: np.ndarray, days: np.ndarray) -> None:
        """Add log entries (distinct buyers' slots, the days of their orders, not before any logged):
        each becomes its buyer's latest."""
        at = self.log_slot.size
        earlier = self.latest_entry.view[slots]
        self.log_latest.view[earlier[earlier >= 0]] = False
        self.latest_entry.view[slots] = np.arange(at, at + len(slots))
        self.log_slot.extend(slots)
        self.log_day.extend(days)
        self.log_latest.grow(len(slots), True)
        self.log_factor.extend(self._factors(slots))

    def follow(self, ids: np.ndarray) -> int:
        """Make these customers followers; return how many were not following yet."""
        ids = arrays.unique(ids)
        new = ids[~self.is_follower.view[ids]]
        self.is_follower.view[new] = True
        self.followers.extend(new)
        return len(new)


#: The last visit or order day of a customer who never visited or ordered.
_NEVER = -10**6


class _RecentVisitors:
    """How many customers who never bought last visited on each day (days >= 0), kept as visits
    and first orders come in, so the past-visitors audience is counted without a pass over the base."""

    def __init__(self) -> None:
        self.by_day = np.zeros(64, dtype=np.int64)

    def moved(self, before: np.ndarray, day: int) -> None:
        """Non-buyers whose last visit was on the days ``before`` visited again on ``day``."""
        self.leave(before)
        if day >= len(self.by_day):
            self.by_day = np.pad(self.by_day, (0, max(day + 1, 2 * len(self.by_day)) - len(self.by_day)))
        self.by_day[day] += len(before)

    def leave(self, last_visit: np.ndarray) -> None:
        """Non-buyers who last visited on these days leave the count (they bought, or moved)."""
        seen = last_visit[last_visit >= 0]
        if len(seen):
            self.by_day[: seen.max() + 1] -= np.bincount(seen)

    def since(self, day: int) -> int:
        """Non-buyers whose last visit was on ``day`` or later."""
        return int(self.by_day[max(day, 0):].sum())


class _AudienceSnapshot:
    """The ad audiences as of a refresh, their id lists built only when first asked for.

    Since the refresh, customers may have visited (their last visit changed: the days before
    are kept here) and bought for the first time (their slots come after the refresh's buyers).
    """

    def __init__(self, since: int = 0, size: int = 0, buyers: int = 0,
                 followers: np.ndarray | None = None) -> None:
        self.since, self.size, self.buyers = since, size, buyers
        self.followers = np.empty(0, np.int64) if followers is None else followers
        self._visited: list[tuple[np.ndarray, np.ndarray]] = []
        self._pools: dict[int, np.ndarray] = {}

    def visited(self, ids: np.ndarray, before: np.ndarray) -> None:
        """These customers (distinct) visited; their last visit before was on ``before``."""
        known = ids < self.size  # customers who joined since are in no audience of the refresh
        if known.any():
            self._visited.append((ids[known], before[known]))

    def pool(self, code: int, base: CustomerBase) -> np.ndarray:
        """Audience ``code``'s ids, ascending, as of the refresh."""
        if code == 3:
            return self.followers
        found = self._pools.get(code)
        if found is None:
            found = self._pools[code] = self._build(code, base)
        return found

    def _build(self, code: int, base: CustomerBase) -> np.ndarray:
        if code == 2:
            return np.sort(base.buyer.view[: self.buyers])
        if code != 1:
            return np.empty(0, np.int64)
        last_visit = base.last_visit_day.view[: self.size].copy()
        for ids, before in reversed(self._visited):  # back to the days as of the refresh
            last_visit[ids] = before
        slots = base.slot.view[: self.size]
        return np.flatnonzero((last_visit >= self.since) & ((slots < 0) | (slots >= self.buyers)))


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
        base = self.base
        if name == "followers":
            return base.followers.view.copy()
        since = day - base.last_order_day.view  # by buyer slot
        past = self.settings.past_buyer_days
        chosen = since <= past if name == "past_buyers" else (since > past) & (since <= 365)
        return np.sort(base.buyer.view[chosen])

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
