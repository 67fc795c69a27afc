"""Shoppers: arrivals by source and device, the funnel, and the choice between offers.

Shoppers are many, so they are drawn as arrays per time slice, not as one process each.
Every day (and whenever the market changes) the traffic is split into *groups* of identical
shoppers: (source, keyword, landing SKU), each with an arrival rate and funnel
probabilities. A slice then draws each group's sessions, gives every session an id, a time,
a device and a customer, and runs the funnel:

1. bounce or browse (the listing's quality, the source, the device);
2. choose: a multinomial logit between the landing offer, the rivals' offers the shopper
   compares it with, and buying nothing. Utility = price against the product's reference
   price, rating, review count and displayed sales (both saturating), listing quality,
   negative reviews on the page, the source's intent, trust of a returning buyer;
3. a shopper who chooses the offer adds it to the cart, or presses buy-now (立即购买) and
   skips the cart; then submits an order or abandons; a submitted order is paid or left
   unpaid (下单未付款).

Rival shops' sales come from the same choice model, in aggregate (no rows per session).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from shopsim import _arrays as arrays
from shopsim.catalog import Catalog
from shopsim.customers import CustomerBase
from shopsim.errors import ShopsimError
from shopsim.scenario import SOURCES, Scenario

SOURCE_CODE = {s: i for i, s in enumerate(SOURCES)}
#: Most sessions one hour may bring (each session is a row; beyond this a run would exhaust memory).
MAX_SESSIONS_PER_HOUR = 2_000_000


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Groups:
    """Today's traffic groups: arrays with one entry per (source, keyword, landing SKU).

    rate: expected sessions per hour at traffic weight 1. bounce: (groups, 2) chance of a
    one-page visit on mobile / PC. cart: (groups, 2) chance a browsing visitor chooses the
    product (adds it to the cart or buys it now), new / returning buyer. checkout: chance a
    chosen product is paid for. favourite: chance a browsing visitor favourites the listing
    (收藏). audience: where a group's shoppers come from (an index of
    :data:`shopsim.ads.ALL_AUDIENCES`, -1 anyone). landing_share: how followers and returning
    buyers spread over the own SKUs. rival_visits, rival_units: rivals' expected listing visits
    and units sold per hour at traffic weight 1. ad_hour_rate: (24, n_ads) the ads' rates by
    hour (bid schedules), or None.
    """

    source: np.ndarray
    keyword: np.ndarray
    offer: np.ndarray
    rate: np.ndarray
    bounce: np.ndarray
    cart: np.ndarray
    checkout: np.ndarray
    favourite: np.ndarray
    audience: np.ndarray
    returning_group: np.ndarray
    feed_group: np.ndarray
    landing_cdf: np.ndarray
    rival_visits: np.ndarray
    rival_units: np.ndarray
    n_organic: int  # groups before this index are organic; the rest are bought channels
    n_ads: int = 0  # the first n_ads bought groups are ads (paid search, display, affiliate); then venue
    crm_group: np.ndarray | None = None  # the CRM group of each own SKU (visitors are injected, rate 0)
    ad_hour_rate: np.ndarray | None = None
    cart_only: np.ndarray | None = None  # flattened (groups, 2): chance of choosing and carting (not buy-now)
    submit: np.ndarray | None = None  # chance a chooser submits an order (paid or not)

    def __post_init__(self) -> None:
        self.bounce_flat, self.cart_flat = self.bounce.ravel(), self.cart.ravel()


@dataclass
class PaidGroups:
    """Groups of the bought channels: arrays of source code, keyword (-1 none), own offer,
    expected sessions per hour at traffic weight 1 and the audience its shoppers come from
    (an index of :data:`shopsim.ads.ALL_AUDIENCES`, -1: anyone)."""

    source: np.ndarray
    keyword: np.ndarray
    offer: np.ndarray
    rate: np.ndarray
    audience: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.audience is None:
            self.audience = np.full(len(self.source), -1, dtype=np.int64)

    @classmethod
    def none(cls) -> PaidGroups:
        """No bought traffic."""
        empty = np.empty(0, dtype=np.int64)
        return cls(empty, empty, empty, np.empty(0))

    @classmethod
    def join(cls, a: PaidGroups, b: PaidGroups) -> PaidGroups:
        """``a``'s groups, then ``b``'s."""
        return cls(*(np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in dataclasses.fields(cls)))


def offer_appeal(sc: Scenario, cat: Catalog, price: np.ndarray,
                 negative_open: np.ndarray, negative_replied: np.ndarray) -> np.ndarray:
    """Utility of each offer to an average shopper before source and landing effects.

    ``price`` is the effective price per offer (yuan per unit); the negative review counts
    are per own SKU.
    """
    sh = sc.shoppers
    review_term = np.minimum(1.0, np.log1p(cat.rating_count) / np.log1p(sh.review_saturation))
    sales_term = np.minimum(1.0, np.log1p(cat.monthly_sales()) / np.log1p(sh.sales_saturation))
    appeal = (
        -sh.price_sensitivity * np.log(price / cat.reference_price)
        + sh.rating_weight * (cat.rating() - 4.5)
        + sh.review_weight * review_term
        + sh.sales_weight * sales_term
        + sh.listing_weight * cat.listing_quality
    )
    penalty = sh.negative_review_penalty * negative_open + sh.replied_review_penalty * negative_replied
    appeal[: cat.n_own] -= penalty
    return appeal


def build_groups(sc: Scenario, cat: Catalog, relevance: np.ndarray, clicks: np.ndarray,
                 appeal: np.ndarray, price: np.ndarray, followers: int, paid: PaidGroups | None = None,
                 venue: PaidGroups | None = None, cart_factor: np.ndarray | None = None,
                 checkout_shift: float = 0.0, feed: np.ndarray | None = None, demand: np.ndarray | None = None,
                 audience_intent: np.ndarray | None = None, ad_hour_rate: np.ndarray | None = None) -> Groups:
    """Split today's traffic into groups and compute their rates and funnel chances.

    ``clicks`` is expected clicks per search (keywords x offers) from :mod:`shopsim.search`;
    ``demand`` scales each keyword's searches (seasons); ``feed`` is expected feed clicks per
    hour per listing (:mod:`shopsim.feed`). ``paid`` adds the bought channels' groups (paid
    search, display, affiliates) after the organic ones, so the organic groups keep their
    numbers; ``venue`` adds promotion venue traffic after those. ``price`` is what a carted
    shopper pays per unit (shipping included); ``cart_factor`` scales own SKUs' cart chances
    (demand pulled forward by a past promotion, couriers stopped); ``checkout_shift`` raises
    the log-odds of paying (return-shipping insurance); ``audience_intent`` adds buying intent
    by audience (utility per :data:`shopsim.ads.ALL_AUDIENCES` entry) to display groups;
    ``ad_hour_rate`` is the ads' rates by hour.
    """
    sh, n_own = sc.shoppers, cat.n_own
    in_stock = cat.stock > 0
    searches = np.array([kw.daily_searches for kw in sc.keywords]) / 24.0
    if demand is not None:
        searches = searches * demand
    feed = np.zeros(cat.n) if feed is None else feed
    k_idx, o_idx = np.nonzero(clicks[:, :n_own] > 0)
    own = np.arange(n_own)
    landing = cat.landing_share()

    exp_appeal = np.exp(appeal) * in_stock
    rival_by_keyword = (relevance[:, n_own:] * exp_appeal[None, n_own:]).sum(axis=1)
    rival_by_category = np.bincount(cat.category[n_own:], weights=exp_appeal[n_own:],
                                    minlength=len(cat.categories))

    n_ads = len(paid.rate) if paid is not None else 0
    paid = PaidGroups.join(paid or PaidGroups.none(), venue or PaidGroups.none())
    crm = PaidGroups(np.full(n_own, SOURCE_CODE["crm"]), np.full(n_own, -1), own, np.zeros(n_own))
    paid = PaidGroups.join(paid, crm)
    n_search = len(k_idx)
    source = np.concatenate([np.full(n_search, SOURCE_CODE["search"]), np.full(n_own, SOURCE_CODE["direct"]),
                             np.full(n_own, SOURCE_CODE["returning"]), np.full(n_own, SOURCE_CODE["feed"]),
                             paid.source])
    keyword = np.concatenate([k_idx, np.full(3 * n_own, -1), paid.keyword])
    offer = np.concatenate([o_idx, own, own, own, paid.offer])
    audience = np.concatenate([np.full(n_search + 3 * n_own, -1), paid.audience])
    rate = np.concatenate([searches[k_idx] * clicks[k_idx, o_idx],
                           followers * sc.traffic.follower_visit_rate / 24.0 * landing,
                           np.zeros(n_own), feed[:n_own], paid.rate])
    alternatives = np.where(keyword >= 0, rival_by_keyword[np.maximum(keyword, 0)],
                            rival_by_category[cat.category[offer]])
    intent = np.array([sh.source_intent[s] for s in SOURCES])[source]
    if audience_intent is not None:
        intent = intent + np.where((source == SOURCE_CODE["display"]) & (audience >= 0),
                                   audience_intent[np.maximum(audience, 0)], 0.0)
    bounce_shift = np.array([sh.source_bounce_shift[s] for s in SOURCES])[source]

    stocked = in_stock[offer]
    base = _logit(sh.bounce_rate) - sh.listing_bounce_effect * (cat.listing_quality[offer] - 0.5) + bounce_shift
    bounce = _sigmoid(np.stack([base, base + sh.pc_bounce_shift], axis=1))
    bounce[~stocked] = sh.sold_out_bounce_rate

    own_u = appeal[offer] + sh.landing_preference + intent
    outside = np.exp(sh.no_purchase_utility)
    cart = np.empty((len(offer), 2))
    for col, bonus in enumerate((0.0, sh.returning_bonus)):
        e = np.exp(own_u + bonus)
        cart[:, col] = e / (e + alternatives * np.exp(intent) + outside)
    cart[~stocked] = 0.0
    if cart_factor is not None:
        cart *= cart_factor[offer][:, None]
    favourite = np.minimum(0.9, sh.favourite_per_cart * cart[:, 0])
    checkout = checkout_chance(sc, price[offer] / cat.reference_price[offer], checkout_shift)

    rival_visits, rival_units = _rival_demand(sc, cat, relevance, clicks, exp_appeal, appeal, price, searches,
                                              feed, rival_by_category)
    n_organic = len(rate) - len(paid.rate)
    return Groups(source.astype(np.int8), keyword.astype(np.int16), offer.astype(np.int16), rate,
                  bounce, cart, checkout, favourite, audience.astype(np.int8), n_search + n_own + own,
                  n_search + 2 * n_own + own, np.cumsum(landing), rival_visits, rival_units, n_organic, n_ads,
                  len(rate) - n_own + own, ad_hour_rate, (cart * (1.0 - sh.buy_now_share)).ravel(),
                  np.minimum(checkout / sh.pay_share, 1.0))


def checkout_chance(sc: Scenario, price_ratio: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """Chance a cart is paid, given the price over the product's reference price (``shift``:
    extra log-odds, e.g. from return-shipping insurance)."""
    sh = sc.shoppers
    return _sigmoid(_logit(sh.checkout_rate) + shift - sh.checkout_price_effect * np.log(price_ratio))


def _rival_demand(sc: Scenario, cat: Catalog, relevance: np.ndarray, clicks: np.ndarray,
                  exp_appeal: np.ndarray, appeal: np.ndarray, price: np.ndarray,
                  searches: np.ndarray, feed: np.ndarray, by_category: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rivals' expected visits and units per hour (traffic weight 1), by the same choice model:
    their search clicks compare offers matching the keyword; their feed clicks compare the
    category (the feed's source intent and bounce shift apply)."""
    sh, n_own = sc.shoppers, cat.n_own
    rivals = slice(n_own, None)
    visits_kr = searches[:, None] * clicks[:, rivals]
    everyone = (relevance * exp_appeal[None, :]).sum(axis=1)[:, None]
    own_e = np.exp(appeal[rivals] + sh.landing_preference)[None, :]
    others = everyone - relevance[:, rivals] * exp_appeal[None, rivals]
    choose = own_e / (own_e + others + np.exp(sh.no_purchase_utility))
    bounce = _sigmoid(_logit(sh.bounce_rate) - sh.listing_bounce_effect * (cat.listing_quality[rivals] - 0.5))
    buy = (1 - bounce) * checkout_chance(sc, price[rivals] / cat.reference_price[rivals])
    units = (visits_kr * choose).sum(axis=0) * buy * (cat.stock[rivals] > 0)
    feed_r = feed[rivals]
    if feed_r.any():
        intent = sh.source_intent["feed"]
        own_feed = np.exp(appeal[rivals] + sh.landing_preference + intent)
        others_cat = (by_category[cat.category[rivals]] - exp_appeal[rivals]) * np.exp(intent)
        choose_feed = own_feed / (own_feed + np.maximum(others_cat, 0.0) + np.exp(sh.no_purchase_utility))
        bounce_feed = _sigmoid(_logit(sh.bounce_rate) + sh.source_bounce_shift["feed"]
                               - sh.listing_bounce_effect * (cat.listing_quality[rivals] - 0.5))
        buy_feed = (1 - bounce_feed) * checkout_chance(sc, price[rivals] / cat.reference_price[rivals])
        units = units + feed_r * choose_feed * buy_feed * (cat.stock[rivals] > 0)
    return visits_kr.sum(axis=0) + feed_r, units


@dataclass
class SessionDraw:
    """One slice's sessions, sorted by time: arrays of equal length."""

    ts: np.ndarray          # seconds since hour 0
    group: np.ndarray       # traffic group per session
    customer: np.ndarray    # customer id
    pc: np.ndarray          # True on a PC, False on a phone
    was_buyer: np.ndarray   # had bought from the shop before this session
    u_bounce: np.ndarray    # the uniform behind the bounce decision
    bounced: np.ndarray
    cart: np.ndarray        # added to the cart (buy-now shoppers skip it)
    submitted: np.ndarray   # submitted an order (paid or not)
    ordered: np.ndarray     # paid
    pages: np.ndarray
    favourited: np.ndarray


def subset(d: SessionDraw, keep: np.ndarray) -> SessionDraw:
    """The sessions of a draw where ``keep`` is True (the rest never happened)."""
    return SessionDraw(*(getattr(d, f.name)[keep] for f in dataclasses.fields(d)))


def poisson_cdf(mean: float) -> np.ndarray:
    """P(X <= k) for k = 0, 1, ... of a Poisson(``mean``) count, up to where it reaches 1 within
    rounding (the last entry is set to 1): ``searchsorted(cdf, u, side="right")`` turns a uniform
    ``u`` in [0, 1) into such a count."""
    k = np.arange(int(mean + 12 * np.sqrt(mean) + 12))
    if mean > 0:
        cdf = np.cumsum(np.exp(k * np.log(mean) - mean - np.cumsum(np.log(np.maximum(k, 1)))))
    else:
        cdf = np.ones(len(k))
    cdf[-1] = 1.0
    return cdf


#: Uniforms each session draws, in one row: [0] the second of its hour it arrives, [1:3] who it
#: is, [3:5] where a returning buyer lands (and whether through the feed), [5:10] bounce, cart,
#: checkout, device and favourite, [10] how many pages it views.
UNIFORMS = 11
_NOBODY = (np.empty(0, np.int64), np.empty(0, np.int64))
_HOURS = np.arange(24)  # hours of a slice (a slice is within a day)
_VISITORS_SECOND = np.arange(48) % 2 == 1  # per hour of a slice: its arrivals (False), then its visitors (True)


class Shoppers:
    """Draws sessions and baskets; holds the arrival, funnel and basket random streams."""

    def __init__(self, sc: Scenario, cat: Catalog, arrivals: np.random.Generator,
                 funnel: np.random.Generator, basket: np.random.Generator) -> None:
        self.sc, self.cat = sc, cat
        self.arrivals, self.funnel, self.basket = arrivals, funnel, basket
        self._extra_pages_cdf = poisson_cdf(max(sc.shoppers.extra_pages - 1.0, 0.0))
        self._extra_units_cdf = poisson_cdf(sc.shoppers.extra_units)
        cats = cat.category[: cat.n_own]
        partners = [np.flatnonzero((cats == cats[o]) & (np.arange(cat.n_own) != o)) for o in range(cat.n_own)]
        #: Per own SKU: how many other SKUs share its category, and which (padded with -1).
        self.partner_count = np.array([len(p) for p in partners], dtype=np.int64)
        self.partners = np.full((cat.n_own, max(1, int(self.partner_count.max(initial=0)))), -1, dtype=np.int64)
        for o, found in enumerate(partners):
            self.partners[o, : len(found)] = found

    def draw(self, g: Groups, weights: np.ndarray, start: int, returning: list[np.ndarray],
             customers: CustomerBase, paid: tuple[np.random.Generator, np.random.Generator] | None = None,
             injected: list[tuple[np.ndarray, np.ndarray] | None] | None = None) -> SessionDraw:
        """Draw one slice's sessions (``len(weights)`` whole hours from second ``start``) and run
        the funnel.

        ``weights[h]`` scales every group's rate in the slice's hour ``h`` (hour x weekday x
        shocks); ``returning[h]`` are the ids of past buyers who come back in that hour. Bought
        channels' groups, and ``injected[h]`` visitors of that hour (customer ids and their
        traffic groups: buyers back for a second look, deposit holders coming back to pay, CRM
        responders), draw from the ``paid`` streams (counts, per-session uniforms), so they leave
        every organic shopper's draws as they were.

        Counts come hour by hour from one stream and each session's uniforms (:data:`UNIFORMS`)
        as one row of another, in a fixed order (hour by hour; in an hour the arrivals by group,
        then the visitors); new customers get their ids in that order too, organic before bought
        in each hour. So a slice of several hours draws exactly what its hours would draw one at
        a time (common random numbers hold however the day is sliced).
        """
        hours = (start // 3600 + np.arange(len(weights))) % 24
        parts = [self._layout(g, 0, self._rates(g, 0, g.n_organic, weights, hours), returning, None,
                              self.arrivals, self.funnel)]
        if paid is not None:
            visitors = [v if v is not None else _NOBODY for v in injected or [None] * len(weights)]
            parts.append(self._layout(g, g.n_organic, self._rates(g, g.n_organic, len(g.rate), weights, hours),
                                      [v[0] for v in visitors], [v[1] for v in visitors], *paid))
        hour, group, ids, u = (np.concatenate(col) for col in zip(*parts, strict=True))
        customer = self._customers(g, hour, group, ids, u, len(parts[0][0]), customers)
        offset = hour * 3600 + (u[:, 0] * 3600).astype(np.int32)  # seconds into the slice
        pc = u[:, 8] >= self.sc.traffic.mobile_share
        was_buyer = customers.was_buyer(customer)
        pair = 2 * group  # row of (groups, 2) tables, flattened: + device or + returning buyer
        bounced = u[:, 5] < g.bounce_flat[pair + pc]
        by_buyer = pair + was_buyer
        chose = ~bounced & (u[:, 6] < g.cart_flat[by_buyer])
        cart = chose & (u[:, 6] < g.cart_only[by_buyer])  # the rest press buy-now
        submitted = chose & (u[:, 7] < g.submit[group])
        ordered = chose & (u[:, 7] < g.checkout[group])
        favourited = ~bounced & (u[:, 9] < g.favourite[group])
        pages = np.ones(len(u), dtype=np.int16)
        stayed = np.flatnonzero(~bounced)
        pages[stayed] = 2 + np.searchsorted(self._extra_pages_cdf, u[stayed, 10], side="right")
        # Everything above is per session; put the sessions in time order now (cheaper than
        # reordering the uniforms). Ties: organic first, then as laid out.
        order = arrays.stable_order(offset, 3600 * len(weights))
        ts = start + offset[order].astype(np.int64)
        return SessionDraw(ts, group[order], customer[order], pc[order], was_buyer[order], u[order, 5],
                           bounced[order], cart[order], submitted[order], ordered[order], pages[order],
                           favourited[order])

    def paid_arrivals(self, g: Groups, weights: np.ndarray, hours: np.ndarray,
                      counts: np.random.Generator) -> np.ndarray:
        """The arrivals (hours x bought groups) the bought part of :meth:`draw` will make in a slice
        of ``hours`` (hours of day, traffic ``weights``) from the stream ``counts``, drawn from a
        copy of it (the stream itself is left where it was)."""
        ahead = type(counts.bit_generator)()
        ahead.state = counts.bit_generator.state
        return np.random.Generator(ahead).poisson(self._rates(g, g.n_organic, len(g.rate), weights, hours))

    @staticmethod
    def _rates(g: Groups, first: int, last: int, weights: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Expected sessions of groups ``first:last`` in each hour of a slice (hours of day
        ``hours``, traffic ``weights``): hours x groups."""
        rates = g.rate[first:last] * weights[:, None]
        if g.ad_hour_rate is not None and first == g.n_organic and g.n_ads:
            rates[:, : g.n_ads] = g.ad_hour_rate[hours] * weights[:, None]
        expected = float(rates.sum(axis=1).max()) if rates.size else 0.0
        if not expected <= MAX_SESSIONS_PER_HOUR:  # also NaN
            raise ShopsimError(f"about {expected:,.0f} sessions would arrive in one hour; the simulator handles "
                               f"at most {MAX_SESSIONS_PER_HOUR:,} an hour: lower the keywords' daily_searches "
                               "or the traffic multipliers (festivals, traffic_shock)")
        return rates

    def _layout(self, g: Groups, first: int, rates: np.ndarray, visitor_ids: list[np.ndarray],
                visitor_groups: list[np.ndarray] | None, counts: np.random.Generator,
                uniforms: np.random.Generator) -> tuple[np.ndarray, ...]:
        """One part's sessions (groups from ``first``, expected sessions ``rates``: hours x
        groups, plus each hour's visitors: their ids and groups, or None for returning buyers,
        who land like followers, some through the feed), hour by hour and in each hour the
        arrivals by group, then the visitors: (hour of the slice, group, visitor id or -1,
        uniforms: sessions x :data:`UNIFORMS`)."""
        n_hours = len(rates)
        arrivals = counts.poisson(rates)
        group = first + np.repeat(np.arange(arrivals.size) % rates.shape[1], arrivals.ravel())  # hour by hour
        per_hour = np.empty((n_hours, 2), dtype=np.int64)  # arrivals, visitors
        arrivals.sum(axis=1, out=per_hour[:, 0])
        per_hour[:, 1] = [len(v) for v in visitor_ids]
        hour = np.repeat(_HOURS[:n_hours], per_hour.sum(axis=1))
        u = uniforms.random((len(hour), UNIFORMS))
        if not per_hour[:, 1].any():  # arrivals only
            return hour, group, np.full(len(hour), -1, dtype=np.int64), u
        visiting = np.repeat(_VISITORS_SECOND[: 2 * n_hours], per_hour.ravel())  # each hour: arrivals, then visitors
        ids = np.full(len(hour), -1, dtype=np.int64)
        ids[visiting] = np.concatenate(visitor_ids)
        groups = np.empty(len(ids), dtype=np.int64)
        groups[~visiting] = group
        if visitor_groups is not None:
            groups[visiting] = np.concatenate(visitor_groups)
        else:
            back = u[visiting]
            landing = np.searchsorted(g.landing_cdf, back[:, 3] * g.landing_cdf[-1])
            via_feed = back[:, 4] < self.sc.customers.feed_share_of_returns
            groups[visiting] = np.where(via_feed, g.feed_group[landing], g.returning_group[landing])
        return hour, groups, ids, u

    def _customers(self, g: Groups, hour: np.ndarray, group: np.ndarray, ids: np.ndarray, u: np.ndarray,
                   n_organic: int, customers: CustomerBase) -> np.ndarray:
        """Customer id per session: the visitors' own; for arrivals, followers for direct visits,
        members of the audience for an audience's ads, else searchers (known to the shop or
        new). New customers are numbered hour by hour, organic sessions before bought ones."""
        arriving = ids < 0
        source, audience = g.source[group[arriving]], g.audience[group[arriving]]
        kind = np.where(audience > 0, 2, np.where(source == SOURCE_CODE["direct"], 1, 0))
        found, new = customers.identify(kind, audience, u[arriving, 1:3])
        customer = ids.copy()
        customer[arriving] = found
        if new.any():
            fresh = np.flatnonzero(arriving)[new]
            part = fresh >= n_organic
            fresh = fresh[arrays.stable_order(2 * hour[fresh] + part, 48)]  # a slice is within a day
            customer[fresh] = customers.new_ids(len(fresh))
        return customer

    def baskets(self, ordering: np.ndarray, main: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Order lines for the paying sessions ``ordering`` whose landing SKU is ``main``.

        Returns (session position, own offer, units, is the landing SKU) per line, in time
        order: the landing
        SKU with 1 + Poisson(extra_units) units, and sometimes a second SKU of the category.
        """
        sh = self.sc.shoppers
        u = self.basket.random((len(main), 3))  # order after order (see draw)
        qty = 1 + np.searchsorted(self._extra_units_cdf, u[:, 0], side="right")
        cross = np.flatnonzero((u[:, 1] < sh.cross_sell_rate) & (self.partner_count[main] > 0))
        if not len(cross):  # one line per order, already in session order
            return ordering, main.astype(np.int64), qty.astype(np.int64), np.ones(len(ordering), dtype=bool)
        count = self.partner_count[main[cross]]
        extra_sess = ordering[cross].astype(np.int64)
        extra_offer = self.partners[main[cross], (u[cross, 2] * count).astype(np.int64)]  # one of the category
        sess = np.concatenate([ordering, extra_sess])
        offer = np.concatenate([main, extra_offer.astype(main.dtype)])
        units = np.concatenate([qty, np.ones(len(extra_sess), dtype=qty.dtype)])
        is_main = np.arange(len(sess)) < len(ordering)
        order = np.argsort(sess, kind="stable")
        return (sess[order], offer[order].astype(np.int64), units[order].astype(np.int64),
                is_main[order])
