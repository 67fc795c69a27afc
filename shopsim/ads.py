"""Bought traffic: paid search (直通车), display ads (钻展) and affiliates (淘宝客).

- **Paid search.** Every keyword has a field of advertisers: the named rivals (their
  ``ad_bids``) and a crowd of other shops generated from the scenario's per-keyword
  distribution (how many, median bid, spread, quality-score range), whose bids move a little
  every day. Ad rank = bid x quality score (质量分, 1-10); the top ``ad_slots`` ranks show. A click
  costs the next rank down divided by the own quality score, plus 0.01 yuan, never more than
  the bid (the last ad pays the reserve price). A higher bid climbs past more of the crowd, so
  there is always more traffic to buy at a higher price, up to the top slot.
- **Quality score.** 1-10 per keyword, from the ad's own click-through history (clicks over
  the clicks an average ad gets at the same slots, fading over ``quality_memory_days``) and
  the keyword's relevance (the platform's starting estimate). A good main image earns
  clicks, clicks earn quality, quality lowers the price of a click.
- **Bid schedule (分时折扣)** scales a keyword's bid by hour; **audience premiums (人群溢价)** raise
  the bids for searchers who are the shop's past visitors, past buyers or followers, and those
  searchers are drawn from the customer base.
- **Display.** Impressions per audience: the share won rises as the CPM bid passes the
  market's clearing price; they cost min(bid, clearing) per thousand. ``past_visitors`` and
  ``past_buyers`` reach the shop's real past visitors and buyers, who arrive as themselves.
- **Affiliates.** Promoters send visits to a SKU that pays commission; more commission,
  more visits; commission is paid on the orders they bring, nothing else.

The auction runs when the market is regrouped (each morning and after any change), for every
hour's bids; spend is charged per slice, in time order, so a budget can run out at 15:00.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from shopsim import _arrays as arrays
from shopsim.catalog import Catalog
from shopsim.scenario import Scenario
from shopsim.shoppers import SOURCE_CODE, Groups, PaidGroups

#: Display audiences (钻展).
AUDIENCES = ("new_shoppers", "past_visitors", "past_buyers")
#: Audiences a paid-search premium (人群溢价) can raise the bids for.
PREMIUM_AUDIENCES = ("past_visitors", "past_buyers", "followers")
#: Every audience code used in traffic groups and the ads table (display first).
ALL_AUDIENCES = (*AUDIENCES, "followers")
CHANNELS = ("paid_search", "display", "affiliate")
_MIN_INCREMENT = 0.01  # yuan above the next ad rank
_MIN_SHADE = 0.05  # budget pacing lowers bids to no less than 5 % of what the shop bid
_QS_SLOPE = 1.6  # quality score = 10 x (1 - exp(-slope x click-through index))
#: What an auction row (:meth:`Ads.groups`) gives by hour: 24 values, or one for every hour.
_HOURLY = ("price", "position", "impressions", "rate")
_ALL_DAY = np.ones(24)  # the bid share of every hour without a bid schedule (read-only)
_ALL_DAY.flags.writeable = False
_BISECTION = (5, 5)  # budget pacing: 10 halvings of the bid scale, the spends of 5 at a time in one call


def quality_score(ctr_index: np.ndarray | float) -> np.ndarray:
    """Quality score 1-10 from a click-through index (1 = an average relevant ad)."""
    raw = 10.0 * (1.0 - np.exp(-_QS_SLOPE * np.asarray(ctr_index, dtype=float)))
    return np.clip(np.rint(raw), 1, 10)


@dataclass
class Campaign:
    """The shop's bought traffic settings (what the levers set)."""

    bids: dict[int, tuple[float, int]] = field(default_factory=dict)  # keyword -> (bid yuan/click, own offer)
    search_budget: float = 0.0  # yuan per day
    search_active: bool = True
    display: dict[int, tuple[float, float, int]] = field(default_factory=dict)  # audience -> (cpm, budget, offer)
    commission: dict[int, float] = field(default_factory=dict)  # own offer -> commission rate
    schedule: dict[int, np.ndarray] = field(default_factory=dict)  # keyword -> 24 bid shares by hour
    premiums: dict[int, float] = field(default_factory=dict)  # ALL_AUDIENCES code -> share added to bids


@dataclass
class Auction:
    """Today's auction result for the shop's bought groups; per-hour arrays are (24, groups)."""

    channel: np.ndarray      # index into CHANNELS
    key: np.ndarray          # keyword (paid search), audience (display) or own offer (affiliate)
    audience: np.ndarray     # ALL_AUDIENCES code of the group's shoppers, -1 anyone
    bid: np.ndarray
    quality_score: np.ndarray  # paid search: 1-10; NaN otherwise
    price: np.ndarray        # (24, n) yuan per click (search), per impression (display), commission (affiliate)
    position: np.ndarray     # (24, n) ad slot (search), NaN otherwise
    impressions: np.ndarray  # (24, n) expected impressions per hour at traffic weight 1
    rate: np.ndarray         # (24, n) expected sessions per hour at traffic weight 1

    def __post_init__(self) -> None:
        #: Which groups are paid search, display, affiliates; the display groups' indices.
        self.search, self.display, self.affiliate = (self.channel == c for c in range(len(CHANNELS)))
        self.display_rows = np.flatnonzero(self.display).tolist()
        keywords = self.key[self.search]
        #: No keyword has two paid-search groups (no audience premium splits one).
        self.one_group_per_keyword = len(arrays.unique(keywords)) == len(keywords)
        #: Per group, its keyword or -1; (24, n) the spend per hour at traffic weight 1 it is expected to make.
        self.keyword = np.where(self.search, self.key, -1)
        self.hourly_spend = self.price * np.where(self.display, self.impressions, self.rate)


class _Plan(NamedTuple):
    """One paid-search group the shop bids for today (see :meth:`Ads._search_plans`)."""

    keyword: int
    offer: int
    audience: int            # ALL_AUDIENCES code of an audience with a premium, -1 ordinary searchers
    bid: float               # yuan per click, as the shop set it
    bid_here: float          # with the audience's premium
    schedule: np.ndarray     # 24 hourly bid shares
    flat: bool               # every hour's share is the same
    ranks: np.ndarray        # the other advertisers' ad ranks, sorted
    qs: float                # the shop's quality score on the keyword
    appeal: float            # the listing's click appeal on the keyword
    searches: float          # searches per hour at traffic weight 1


def _won(cfg: Any, ranks: np.ndarray, count: np.ndarray, bids: np.ndarray, qs: np.ndarray, appeal: np.ndarray,
         searches: np.ndarray, decay: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What paid-search bids win, several at once: (price yuan per click, slot, shown, clicks per
    hour at traffic weight 1) per bid; price and clicks 0 and slot NaN where no slot is won.

    ``ranks`` (bids x competitors, sorted, padded with inf; or one row for all) are the other ads'
    ranks and ``count`` how many there are; ``qs`` the shop's quality scores, ``appeal`` its
    listings' click appeal, ``searches`` per hour; ``decay[s]`` is ``s ** -click_decay``. A bid
    ranks bid x quality score; it pays the next rank down over its quality score plus 0.01 yuan
    (at least the reserve price, never more than the bid), rounded to the fen. Every argument
    but ``ranks`` (whose last axis is the competitors) broadcasts against ``bids``, elementwise:
    several bids of each plan at once (shades x plans) give what one call per shade gives.
    """
    if not ranks.shape[-1]:  # nobody else bids: one rank that outranks nobody
        ranks = np.full((*ranks.shape[:-1], 1), np.inf)
    rank = bids * qs
    above = (ranks < rank[..., None]).sum(axis=-1)  # the competitors it outranks
    slot = count - above + 1
    shown = (bids > 0) & (slot <= cfg.ad_slots)
    next_down = np.take_along_axis(ranks, np.maximum(above - 1, 0)[..., None], axis=-1)[..., 0]
    below = np.where(above >= 1, next_down, 0.0)  # the next rank down
    lifted = below / qs + _MIN_INCREMENT
    floor = np.where(lifted > cfg.reserve_price, lifted, cfg.reserve_price)
    price = np.where(floor < bids, floor, bids)
    rounded = np.round(price, 2)
    # The reserve price, and the increment where nobody ranks below, are rounded as Python
    # numbers (correctly rounded decimals), the rest by numpy (as this model always has).
    pick = np.flatnonzero(shown & (floor < bids) & ((above < 1) | ~(lifted > cfg.reserve_price)))
    if len(pick):
        out, picked = rounded.reshape(-1), price.reshape(-1)[pick]
        for value in set(picked.tolist()):  # a few prices: the reserve, the increment
            out[pick[picked == value]] = round(value, 2)
    clicks = searches * cfg.top_click_rate * decay[np.where(shown, slot, 0)] * appeal
    return (np.where(shown, rounded, 0.0), np.where(shown, slot, np.nan), shown,
            np.where(shown, clicks, 0.0))


def _halvings(low: float, high: float, depth: int) -> list[tuple[float, float]]:
    """Every interval ``depth`` halvings of (``low``, ``high``) can pass through, level by level
    (the same floats as the halvings make)."""
    level, intervals = [(low, high)], []
    for _ in range(depth):
        intervals += level
        level = [half for lo, hi in level for half in ((lo, _middle((lo, hi))), (_middle((lo, hi)), hi))]
    return intervals


def _middle(interval: tuple[float, float]) -> float:
    """The middle of an interval, as a halving works it out."""
    return (interval[0] + interval[1]) / 2


class _FlatPlans:
    """The plans of :meth:`Ads._search_plans` with one bid all day, as arrays for :func:`_won`."""

    def __init__(self, all_plans: list[_Plan], cfg: Any, decay: np.ndarray) -> None:
        self.cfg, self.decay = cfg, decay
        self.index = [i for i, p in enumerate(all_plans) if p.flat]  # where they are in ``all_plans``
        plans = [all_plans[i] for i in self.index]
        self.bid_here = np.array([p.bid_here for p in plans], dtype=float)
        self.share = np.array([p.schedule[0] for p in plans], dtype=float)
        self.qs = np.array([p.qs for p in plans], dtype=float)
        self.appeal = np.array([p.appeal for p in plans], dtype=float)
        self.searches = np.array([p.searches for p in plans], dtype=float)
        self.count = np.array([len(p.ranks) for p in plans], dtype=np.int64)
        self.ranks = np.full((len(plans), max([1, *self.count.tolist()])), np.inf)  # padded: outranks nobody
        for i, p in enumerate(plans):
            self.ranks[i, : len(p.ranks)] = p.ranks

    def won(self, shade: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:func:`_won` for every plan, its bid scaled by ``shade``."""
        bids = self.bid_here * (shade * self.share)
        return _won(self.cfg, self.ranks, self.count, bids, self.qs, self.appeal, self.searches, self.decay)

    def spend(self, shades: list[float]) -> np.ndarray:
        """Price x clicks per hour at traffic weight 1 (yuan) of every plan (columns) with its bid
        scaled by each of ``shades`` (rows): :meth:`won` at several shades in one :func:`_won`
        call (elementwise, so the same numbers as one call per shade)."""
        bids = self.bid_here * (np.array(shades)[:, None] * self.share)
        price, _, _, clicks = _won(self.cfg, self.ranks[None], self.count, bids, self.qs, self.appeal, self.searches,
                                   self.decay)
        return price * clicks


class Ads:
    """The shop's campaigns, the auctions, the budgets and the ad records.

    Parameters
    ----------
    sc, cat, relevance:
        The scenario, the catalogue and the keywords x listings relevance.
    rng:
        The ``ad_market`` stream: draws the field of other advertisers and their daily bids.
    hour_weights:
        Relative traffic by hour (mean 1), for the budget pacing's expected spend.
    """

    def __init__(self, sc: Scenario, cat: Catalog, relevance: np.ndarray, rng: np.random.Generator,
                 hour_weights: np.ndarray) -> None:
        self.sc, self.cat, self.relevance, self.rng = sc, cat, relevance, rng
        self.hour_weights = np.asarray(hour_weights, dtype=float)
        self.campaign = Campaign()
        self.rival_bids = self._rival_bids()
        self.outranked: set[tuple[int, int]] = set()  # (keyword, rival offer): our ad showed above theirs
        self.spent_search = 0.0
        self.spent_display = np.zeros(len(AUDIENCES))
        self.search_exhausted = False
        self.display_exhausted = np.zeros(len(AUDIENCES), dtype=bool)
        self.auction: Auction | None = None
        self._search_lookup: tuple[Groups | None, np.ndarray] = (None, np.zeros(0, dtype=bool))
        self.audience_sizes = np.zeros(len(ALL_AUDIENCES))  # customers in each audience (set each morning)
        self.keyword_demand = np.ones(len(sc.keywords))  # today's seasonal search multiplier per keyword
        self.offer_demand = np.ones(cat.n)  # today's seasonal demand multiplier per listing (affiliates' shoppers)
        self._field_bids, self._field_qs = self._draw_field()
        self._field_today = [b.copy() for b in self._field_bids]
        n_kw = len(sc.keywords)
        self.history_clicks = np.zeros(n_kw)    # the shop's ad clicks per keyword (fading)
        self.history_expected = np.zeros(n_kw)  # clicks an average relevant ad would have had at those slots
        self._today: tuple[list, np.ndarray] = ([], np.empty(0))  # the auction's competitors and scores, per regroup
        self._rival_scores: dict[tuple[int, int], tuple[tuple[float, float], float]] = {}  # see _rival_quality
        self._competing: dict[int, tuple[list, list, tuple]] = {}  # see _competitors
        #: slot ** -click_decay for slots 1.. (index 0 unused)
        decay = sc.paid_search.click_decay
        self._decay = np.array([0.0] + [s ** -decay for s in range(1, sc.paid_search.ad_slots + 1)])

    @property
    def active(self) -> bool:
        """Whether any channel is bought at all."""
        c = self.campaign
        return bool(c.bids or c.display or c.commission)

    def _rival_bids(self) -> list[list[tuple[float, int]]]:
        """Per keyword: (bid, offer) of every rival that bids on it."""
        out: list[list[tuple[float, int]]] = [[] for _ in self.sc.keywords]
        words = [k.keyword for k in self.sc.keywords]
        first = 0
        for rival in self.sc.rivals:
            offers = np.arange(first + self.cat.n_own, first + self.cat.n_own + len(rival.offers))
            first += len(rival.offers)
            for word, bid in rival.ad_bids.items():
                k = words.index(word)
                best = offers[np.argmax(self.relevance[k, offers])]
                if self.relevance[k, best] > 0 and bid > 0:
                    out[k].append((bid, int(best)))
        return out

    def _draw_field(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The other advertisers of every keyword: base bids (yuan per click) and quality scores."""
        cfg = self.sc.paid_search
        bids, qs = [], []
        for kw in self.sc.keywords:
            n = cfg.field_advertisers if kw.advertisers is None else kw.advertisers
            median = cfg.field_median_bid if kw.median_bid is None else kw.median_bid
            u = self.rng.standard_normal(n)
            bids.append(np.round(median * np.exp(cfg.field_bid_spread * u), 2))
            low, high = cfg.field_quality
            qs.append(np.rint(low + (high - low) * self.rng.random(n)))
        return bids, qs

    def set_rival_bids(self, bids: list[list[tuple[float, int]]]) -> None:
        """Replace the rivals' bids (per keyword: (bid yuan per click, rival offer)); rivals'
        strategies and scripted ad surges change them while the simulation runs."""
        self.rival_bids = bids

    def take_outranked(self) -> set[tuple[int, int]]:
        """The (keyword, rival offer) pairs whose ad showed below the shop's ad since the last call."""
        seen, self.outranked = self.outranked, set()
        return seen

    def click_appeal(self, k: int, offer: int) -> float:
        """How well a listing's ad draws clicks on a keyword: relevance x click appeal of its main image."""
        appeal = np.exp(self.sc.search.listing_click_effect * (self.cat.listing_quality[offer] - 0.5))
        return float(self.relevance[k, offer] * appeal)

    def quality_scores(self) -> np.ndarray:
        """The shop's quality score (1-10) on every keyword, for the listing it advertises (or would:
        its most relevant SKU): its click-through history, starting from the keyword's relevance."""
        prior = self.sc.paid_search.quality_prior_clicks
        offers = self._ad_offers()
        relevance = self.relevance[np.arange(len(offers)), offers]
        index = (self.history_clicks + prior * relevance) / (self.history_expected + prior)
        return quality_score(index)

    def _ad_offers(self) -> np.ndarray:
        own = np.argmax(self.relevance[:, : self.cat.n_own], axis=1)
        for k, (_, o) in self.campaign.bids.items():
            own[k] = o
        return own

    def start_day(self) -> None:
        """Budgets refill at midnight; the other advertisers' bids move; the click history fades."""
        self.spent_search = 0.0
        self.spent_display[:] = 0.0
        self.search_exhausted = False
        self.display_exhausted[:] = False
        jitter = self.sc.paid_search.field_daily_jitter
        self._field_today = [np.round(b * np.exp(jitter * self.rng.standard_normal(len(b))), 2)
                             for b in self._field_bids]
        fade = np.exp(-1.0 / self.sc.paid_search.quality_memory_days)
        self.history_clicks *= fade
        self.history_expected *= fade

    # -- the morning auction / regrouping -----------------------------------------------------
    def groups(self, appeal: np.ndarray, rival_ads: np.ndarray) -> PaidGroups:
        """Run the auctions and return the bought channels' traffic groups.

        ``rival_ads`` (bool per rival offer) is set to whether each rival won an ad slot.
        """
        rows: list[dict] = []
        rival_ads[:] = False
        live = self.campaign.search_active and not self.search_exhausted and self.campaign.search_budget > 0
        self._today = [self._competitors(k) for k in range(len(self.sc.keywords))], self.quality_scores()
        if live and self.campaign.bids:
            rows += self._paced_rows()
        self._presence(rival_ads, live)
        self._display_rows(rows)
        self._affiliate_rows(rows, appeal)
        if not rows:
            self.auction = None
            return PaidGroups.none()
        col = {name: np.array([r[name] for r in rows]) for name in rows[0] if name not in _HOURLY}
        for name in _HOURLY:  # rows x 24 hours, from each row's 24 values or one for every hour
            col[name] = by_hour = np.empty((len(rows), 24))
            for i, r in enumerate(rows):
                by_hour[i] = r[name]
        self.auction = Auction(col["channel"].astype(int), col["key"].astype(int), col["audience"].astype(int),
                               col["bid"].astype(float), col["qs"].astype(float), col["price"].T, col["position"].T,
                               col["impressions"].T, col["rate"].T)
        source = np.array([SOURCE_CODE[CHANNELS[c]] for c in self.auction.channel])
        return PaidGroups(source, self.auction.keyword, col["offer"].astype(int), self.auction.rate.mean(axis=0),
                          self.auction.audience)

    def _competitors(self, k: int) -> tuple[np.ndarray, np.ndarray, list[tuple[int, float, int]]]:
        """Keyword ``k``'s other ad ranks today (bid x quality score), sorted, which rival offer
        each belongs to (-1: an advertiser outside the named rivals), and the named rivals' entries
        as (position, rank, offer). Worked out again only when the field's bids (each morning) or a
        rival's rank (bid, stock, listing) changed."""
        cat = self.cat
        rival = [(bid * self._rival_quality(k, o), o) for bid, o in self.rival_bids[k] if cat.stock[o] > 0]
        known = self._competing.get(k)
        if known is not None and known[0] is self._field_today and known[1] == rival:
            return known[2]
        ranks = np.concatenate([self._field_today[k] * self._field_qs[k], [r for r, _ in rival]])
        owner = np.concatenate([np.full(len(self._field_qs[k]), -1), [o for _, o in rival]]).astype(int)
        order = np.argsort(ranks, kind="stable")
        ranks, owner = ranks[order], owner[order]
        named = np.flatnonzero(owner >= 0)
        found = (ranks, owner, list(zip(named.tolist(), ranks[named].tolist(), owner[named].tolist(), strict=True)))
        self._competing[k] = (self._field_today, rival, found)
        return found

    def _rival_quality(self, k: int, o: int) -> float:
        """A rival listing's quality score on keyword ``k`` (from its relevance and main image;
        remembered until either changes)."""
        inputs = (self.relevance[k, o], self.cat.listing_quality[o])
        known = self._rival_scores.get((k, o))
        if known is None or known[0] != inputs:
            known = self._rival_scores[(k, o)] = (inputs, float(quality_score(self.click_appeal(k, o))))
        return known[1]

    def _slot(self, ranks: np.ndarray, own_rank: float) -> int:
        """The slot an ad of rank ``own_rank`` wins (1 = top); ties go to the other advertiser."""
        return int(len(ranks) - np.searchsorted(ranks, own_rank, side="left")) + 1

    def _search_plans(self) -> list[_Plan]:
        """The shop's paid-search groups: per keyword, its ordinary searchers and, for each audience
        with a premium, that audience's searchers."""
        cfg, cat = self.sc.paid_search, self.cat
        competitors, qs_all = self._today
        affinity = cfg.audience_search_affinity / self.sc.customers.market_size
        shares = {a: min(0.5, self.audience_sizes[a] * affinity) for a, p in self.campaign.premiums.items() if p > 0}
        plans = []
        for k, (bid, o) in sorted(self.campaign.bids.items()):
            if cat.stock[o] <= 0:
                continue
            ranks = competitors[k][0]
            qs, appeal = float(qs_all[k]), self.click_appeal(k, o)
            schedule = self.campaign.schedule.get(k, _ALL_DAY)
            searches = self.sc.keywords[k].daily_searches / 24.0 * self.keyword_demand[k]
            variants = [(-1, 1.0 - sum(shares.values()), 0.0)]
            variants += [(a, share, self.campaign.premiums[a]) for a, share in shares.items()]
            flat = schedule is _ALL_DAY or bool((schedule == schedule[0]).all())
            plans += [_Plan(k, o, audience, bid, bid * (1 + premium), schedule, flat, ranks, qs, appeal,
                            searches * share) for audience, share, premium in variants]
        return plans

    def _search_rows(self, shade: float, plans: list[_Plan], flat: _FlatPlans) -> list[dict]:
        """The paid-search groups of ``plans`` (:meth:`_search_plans`; ``flat`` those of them with
        one bid all day) with every bid scaled by ``shade``: slot, price and clicks, per hour (24
        values) or one for the whole day (a flat plan)."""
        won = dict(zip(flat.index, zip(*flat.won(shade), strict=True), strict=True)) if flat.index else {}
        rows = []
        for i, plan in enumerate(plans):
            if i in won:
                price, slot, shown, clicks = won[i]
                shown = plan.searches if shown else 0.0
            else:
                price, slot, shown, clicks = self._plan_hours(plan, shade)
            rows.append({"price": price, "position": slot, "impressions": shown, "rate": clicks, "channel": 0,
                         "key": plan.keyword, "offer": plan.offer, "audience": plan.audience, "bid": plan.bid,
                         "qs": plan.qs})
        return rows

    def _search_spend(self, shades: list[float], plans: list[_Plan], flat: _FlatPlans) -> list[float]:
        """The day's expected paid-search spend (yuan, at hourly traffic weights 1) of ``plans``
        with every bid scaled by each of ``shades``: what :meth:`_search_rows` would charge, summed."""
        if len(flat.index) == len(plans):  # one bid all day: the same yuan in every hour
            per_hour = flat.spend(shades)[:, :, None]
        else:
            per_hour = np.empty((len(shades), len(plans), 24))  # yuan per hour of each plan at traffic weight 1
            if flat.index:
                per_hour[:, flat.index] = flat.spend(shades)[:, :, None]
            for i, plan in enumerate(plans):
                if not plan.flat:
                    for s, shade in enumerate(shades):
                        price, _, _, clicks = self._plan_hours(plan, shade)
                        per_hour[s, i] = price * clicks
        if not plans:
            return [0.0] * len(shades)
        # each shade's plans' day spends added plan by plan (cumsum adds in order), as the rows add up
        return np.cumsum((per_hour * self.hour_weights).sum(axis=2), axis=1)[:, -1].tolist()

    def _plan_hours(self, plan: _Plan, shade: float) -> tuple:
        """What one plan of :meth:`_search_plans` with a bid schedule wins with its bids scaled by
        ``shade``: 24 hourly (price yuan per click, slot, impressions, clicks) arrays (slot NaN and
        the rest 0 in hours without a slot)."""
        bids = plan.bid_here * (shade * plan.schedule)
        unique, hour_bid = arrays.unique_inverse(bids)
        cfg = self.sc.paid_search
        price, slot, shown, clicks = _won(cfg, plan.ranks[None, :], np.array([len(plan.ranks)]), unique,
                                          np.full(len(unique), plan.qs), plan.appeal, plan.searches, self._decay)
        impressions = np.where(shown, plan.searches, 0.0)
        return price[hour_bid], slot[hour_bid], impressions[hour_bid], clicks[hour_bid]

    def _presence(self, rival_ads: np.ndarray, live: bool) -> None:
        """Which rivals' ads show (with the shop's plain bids, if it is bidding), and which of them
        the shop's ad outranks."""
        cfg, cat = self.sc.paid_search, self.cat
        competitors, qs_all = self._today
        for k in range(len(self.sc.keywords)):
            ranks, _, rivals = competitors[k]
            if not rivals:
                continue
            own = self.campaign.bids.get(k) if live else None
            own_rank = own[0] * float(qs_all[k]) if own and cat.stock[own[1]] > 0 else None
            shows = own_rank is not None and self._slot(ranks, own_rank) <= cfg.ad_slots  # the shop's ad shows
            for position, rank, o in rivals:
                below = own_rank is not None and rank < own_rank  # moves down one below the shop's ad
                if shows and below:
                    self.outranked.add((k, o))
                if len(ranks) - position + below <= cfg.ad_slots:  # its slot
                    rival_ads[o - cat.n_own] = True

    def _paced_rows(self) -> list[dict]:
        """The paid-search groups at the largest bid scale (0.05 to 1) whose expected day's spend
        fits the budget (匀速投放). Without pacing, or when full bids fit, the scale is 1: the shop
        bids what it said."""
        left = self.campaign.search_budget - self.spent_search
        plans = self._search_plans()
        flat = _FlatPlans(plans, self.sc.paid_search, self._decay)
        if not self.sc.paid_search.pacing:
            return self._search_rows(1.0, plans, flat)
        # the spends at full bids, at the least scale and at the middle of every interval the first
        # halvings can reach, in one call; then the halvings themselves, and so on
        intervals = _halvings(_MIN_SHADE, 1.0, _BISECTION[0])
        full, least, *middle = self._search_spend([1.0, _MIN_SHADE, *(_middle(i) for i in intervals)], plans, flat)
        if full <= left:
            return self._search_rows(1.0, plans, flat)
        if least > left:
            return self._search_rows(_MIN_SHADE, plans, flat)  # the platform shades no further: the budget will run out
        low, high = _MIN_SHADE, 1.0
        for i, depth in enumerate(_BISECTION):  # bisect: low always fits, high never does
            if i:
                intervals = _halvings(low, high, depth)
                middle = self._search_spend([_middle(i) for i in intervals], plans, flat)
            fits = {interval: spend <= left for interval, spend in zip(intervals, middle, strict=True)}
            for _ in range(depth):
                mid = (low + high) / 2
                if fits[(low, high)]:
                    low = mid
                else:
                    high = mid
        return self._search_rows(low, plans, flat)

    def _display_rows(self, rows: list) -> None:
        cfg = self.sc.display
        for a, name in enumerate(AUDIENCES):
            if a not in self.campaign.display or self.display_exhausted[a]:
                continue
            cpm, budget, o = self.campaign.display[a]
            aud = cfg.audiences[name]
            if budget <= 0 or cpm <= 0 or self.cat.stock[o] <= 0:
                continue
            reach = aud.reach if a == 0 else min(aud.reach, self.audience_sizes[a])
            share = 1.0 / (1.0 + np.exp(-(cpm / aud.clearing_cpm - 1.0) / cfg.win_spread))
            impressions = reach * cfg.impressions_per_shopper * share / 24.0
            rows.append({"channel": 1, "key": a, "offer": o, "audience": a, "bid": cpm, "qs": np.nan,
                         "price": min(cpm, aud.clearing_cpm) / 1000.0, "position": np.nan,
                         "impressions": impressions, "rate": impressions * aud.click_rate})

    def _affiliate_rows(self, rows: list, appeal: np.ndarray) -> None:
        cfg = self.sc.affiliates
        typical = np.median(appeal[: self.cat.n_own]) if self.campaign.commission else 0.0
        for o, rate in self.campaign.commission.items():
            if rate <= 0 or self.cat.stock[o] <= 0:
                continue
            visits = (cfg.base_daily_visits / 24.0 * (rate / cfg.reference_commission) ** cfg.commission_elasticity
                      * np.exp(0.5 * (appeal[o] - typical)) * self.offer_demand[o])
            rows.append({"channel": 2, "key": o, "offer": o, "audience": -1, "bid": rate, "qs": np.nan,
                         "price": rate, "position": np.nan, "impressions": 0.0, "rate": visits})

    # -- charging a slice ----------------------------------------------------------------------
    def charge(self, ts: np.ndarray, group: np.ndarray, g: Groups, weights: np.ndarray, start: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
        """Cut a slice's bought sessions (second ``ts``, traffic ``group``, in time order) at the
        budgets.

        The slice is ``len(weights)`` whole hours from second ``start``, ``weights`` their traffic
        weights. Once a budget runs out, its channel buys nothing more in the slice. Returns
        (sessions to keep, impressions per hour of the slice and paid group, budget events as
        (second, message)).
        """
        keep = np.ones(len(ts), dtype=bool)
        a = self.auction
        events: list[tuple[int, str]] = []
        if a is None:
            return keep, np.zeros((len(weights), 0)), events
        hours = (start // 3600 + np.arange(len(weights))) % 24
        price = a.price[hours]
        paid_group = group - g.n_organic
        impressions = rng.poisson(a.impressions[hours] * weights[:, None]).astype(float)
        search = np.flatnonzero(self._search_groups(g)[group])
        if len(search):
            self._charge_search(search, ts, paid_group, price, impressions, keep, events, start)
        for row in a.display_rows:
            cut = self._charge_display(row, impressions, price, start)
            if cut is not None:
                is_paid = (paid_group >= 0) & (paid_group < g.n_ads)
                keep[is_paid & (paid_group == row) & (ts > cut)] = False
                events.append((cut, f"display budget for {AUDIENCES[a.key[row]]} ran out"))
        return keep, impressions, events

    # The budgets are charged hour by hour (the same sums in the same order however the day is
    # sliced, so a budget runs out at the same session in a slice of six hours as in six slices).
    def _charge_search(self, search: np.ndarray, ts: np.ndarray, paid_group: np.ndarray, price: np.ndarray,
                       impressions: np.ndarray, keep: np.ndarray, events: list[tuple[int, str]], start: int) -> None:
        """Charge the paid-search sessions ``search`` (positions in the slice, in time order) click
        by click; from the click the budget cannot pay, drop them and cut the impressions."""
        hour = (ts[search] - start) // 3600
        bounds = np.searchsorted(hour, np.arange(len(price) + 1))
        cost = price[hour, paid_group[search]]  # each click's price, in time order
        if self._search_budget_spares(float(cost.sum())):
            # the whole slice's clicks fit with room to spare (far beyond rounding): no hour can run
            # out, so each hour only adds its clicks' sum, as the hour-by-hour check below would
            for h in range(len(price)):
                if bounds[h] < bounds[h + 1]:
                    self.spent_search += float(cost[bounds[h]: bounds[h + 1]].sum())
            return
        for h in range(len(price)):
            part = search[bounds[h]: bounds[h + 1]]
            if not len(part):
                continue
            cost = np.cumsum(price[h, paid_group[part]])
            over = cost > self.campaign.search_budget - self.spent_search + 1e-9
            exhausted = bool(over.any())
            if exhausted:
                cut = ts[part[np.argmax(over)]]
                keep[part[over]] = False
                keep[search[bounds[h + 1]:]] = False
                self._cut_impressions(impressions, self.auction.channel == 0, cut - start)
                self.search_exhausted = True
                events.append((int(cut), f"paid search budget of {self.campaign.search_budget:.0f} yuan ran out"))
            self.spent_search += float(price[h, paid_group[part[~over]]].sum())
            if exhausted:
                return

    def _charge_display(self, row: int, impressions: np.ndarray, price: np.ndarray, start: int) -> int | None:
        """Charge display group ``row``'s impressions hour by hour; where its audience's budget runs
        out, keep the impressions it paid for and none after. Returns the second it ran out, or None."""
        aud = self.auction.key[row]
        for h in range(len(price)):
            left = self.campaign.display[aud][1] - self.spent_display[aud]
            cost = impressions[h, row] * price[h, row]
            if cost > left:
                fraction = max(left, 0.0) / cost
                impressions[h, row] = np.floor(impressions[h, row] * fraction)
                impressions[h + 1:, row] = 0.0
                self.spent_display[aud] += impressions[h, row] * price[h, row]
                self.display_exhausted[aud] = True
                return start + 3600 * h + int(3600 * fraction)
            self.spent_display[aud] += cost
        return None

    def budget_hours(self, hours: np.ndarray, weights: np.ndarray) -> int:
        """How many of the coming ``hours`` (hours of day, traffic ``weights``) one slice may draw:
        up to and including the first hour in which a budget might run out; before it, each
        budget left keeps over three times the spend expected until then. So a budget runs out
        in a slice's last hour, and the market is regrouped in the hour after, however the day is
        sliced."""
        a = self.auction
        if a is None:
            return len(hours)
        spent = np.cumsum(a.hourly_spend[hours] * weights[:, None], axis=0)
        ok = 3.0 * spent[:, a.search].sum(axis=1) < self.campaign.search_budget - self.spent_search
        for row in a.display_rows:
            aud = a.key[row]
            ok &= 3.0 * spent[:, row] < self.campaign.display[aud][1] - self.spent_display[aud]
        return len(hours) if ok.all() else int(np.argmin(ok)) + 1

    def clicks_fit(self, hours: np.ndarray, arrivals: np.ndarray) -> bool:
        """Whether a slice's bought ``arrivals`` (hours x bought groups, the ads first) leave every
        budget far from running out: no display is bought, and the paid-search clicks among them
        cost (at each hour of day ``hours``' prices) well under the search budget left (by a
        margin far beyond rounding, so no hour's charge can reach it)."""
        a = self.auction
        if a is None or not a.search.any():
            return a is None or not a.display_rows
        if a.display_rows:
            return False
        return self._search_budget_spares(float((arrivals[:, : len(a.channel)] * a.price[hours])[:, a.search].sum()))

    def _search_budget_spares(self, cost: float) -> bool:
        """Whether ``cost`` yuan of clicks leave today's search budget room to spare (by a margin
        far beyond rounding, so however they are charged, click by click, none finds it spent)."""
        budget = self.campaign.search_budget
        return cost + 1e-6 * (1.0 + abs(budget)) < budget - self.spent_search

    def _search_groups(self, g: Groups) -> np.ndarray:
        """Per traffic group of ``g``: whether it is a paid-search group of today's auction (kept
        until the market is regrouped)."""
        if self._search_lookup[0] is not g:
            table = np.zeros(len(g.rate), dtype=bool)
            table[g.n_organic: g.n_organic + g.n_ads] = self.auction.channel == 0
            self._search_lookup = (g, table)
        return self._search_lookup[1]

    def rows(self, ts: np.ndarray, group: np.ndarray, ordered: np.ndarray, g: Groups, impressions: np.ndarray,
             paid_amount: np.ndarray, start: int) -> dict[str, np.ndarray] | None:
        """A slice's ``ads`` table rows: one per hour and bought group with impressions or clicks;
        feeds the paid-search click history behind the quality scores.

        ``ts``, ``group``, ``ordered`` and ``paid_amount`` (yuan, 0 when it did not order) are per
        session of the slice from second ``start``; ``impressions`` per hour and paid group.
        """
        a = self.auction
        if a is None:
            return None
        n_hours, n = impressions.shape
        hours = (start // 3600 + np.arange(n_hours)) % 24
        position = a.position[hours]
        paid_group = group - g.n_organic
        mine = (paid_group >= 0) & (paid_group < g.n_ads)
        cell = ((ts[mine] - start) // 3600) * n + paid_group[mine]
        clicks = np.bincount(cell, minlength=n_hours * n).reshape(n_hours, n)
        self._learn(clicks, impressions, position)
        show = (impressions > 0) | (clicks > 0)
        if not show.any():
            return None
        hour, row = np.nonzero(show)
        # the rest only on the cells shown (elementwise: the numbers working on every cell gives)
        at = hour * n + row  # flat index of each cell shown
        orders = np.bincount(cell, weights=ordered[mine], minlength=n_hours * n)[at]
        revenue = np.bincount(cell, weights=paid_amount[mine], minlength=n_hours * n)[at]
        clicks, shown, price = clicks[hour, row], impressions[hour, row], a.price[hours[hour], row]
        spend = np.where(a.search[row], clicks * price, np.where(a.display[row], shown * price, revenue * price))
        sku = np.asarray(g.offer[g.n_organic: g.n_organic + g.n_ads], dtype=np.int64)
        shown = np.where(a.affiliate[row], clicks, shown)  # an affiliate visit is its own impression
        return {"ts": start + 3600 * hour.astype(np.int64), "channel": a.channel[row], "keyword": a.keyword[row],
                "audience": a.audience[row], "sku": sku[row], "bid": a.bid[row],
                "quality_score": a.quality_score[row], "impressions": shown.astype(np.int64),
                "clicks": clicks.astype(np.int64), "spend": np.round(spend, 2),
                "avg_position": position[hour, row], "orders": orders.astype(np.int64),
                "revenue": np.round(revenue, 2)}

    def _learn(self, clicks: np.ndarray, impressions: np.ndarray, position: np.ndarray) -> None:
        """Add the slice's paid-search clicks, and the clicks an average relevant ad would have had
        at the same slots, to the click history."""
        a, cfg = self.auction, self.sc.paid_search
        search = np.nonzero(a.search & (impressions > 0))  # (hours, groups) of the cells with impressions
        if not len(search[0]):
            return
        expected = impressions[search] * cfg.top_click_rate * position[search] ** -cfg.click_decay
        keys = a.key[search[1]]
        if a.one_group_per_keyword and len(impressions) == 1:  # plain adds (np.add.at, for repeated keys, is slower)
            self.history_clicks[keys] += clicks[search]
            self.history_expected[keys] += expected
        else:
            np.add.at(self.history_clicks, keys, clicks[search])
            np.add.at(self.history_expected, keys, expected)

    @staticmethod
    def _cut_impressions(impressions: np.ndarray, rows: np.ndarray, seconds_in: float) -> None:
        """Keep the impressions of groups ``rows`` shown before ``seconds_in`` into the slice
        (``impressions``: hours x groups)."""
        h = int(max(seconds_in, 0) // 3600)
        if h < len(impressions):
            impressions[h, rows] = np.floor(impressions[h, rows] * min(max(seconds_in - 3600 * h, 0) / 3600.0, 1.0))
            impressions[h + 1:, rows] = 0.0
