"""Bought traffic: paid search (直通车), display ads (钻展) and affiliates (淘宝客).

- **Paid search.** For every keyword the shop bids on, a generalised second-price auction
  runs among the shop and the rivals' bids: ad rank = bid x quality, where quality is the
  listing's relevance and click appeal. The top ranks win the ad slots above the organic
  results; a click costs the next ad rank down divided by the own quality, plus 0.01 yuan,
  never more than the bid (the last ad pays the reserve price). Clicks stop when the daily
  budget runs out; later searchers that day see no ad.
- **Display.** Impressions per audience: the share won rises as the CPM bid passes the
  market's clearing price; they cost min(bid, clearing) per thousand and get few clicks.
- **Affiliates.** Promoters send visits to a SKU that pays commission; more commission,
  more visits; commission is paid on the orders they bring, nothing else.

The auction runs when the market is regrouped (each morning and after any change); spend is
charged per slice, in time order, so a budget can run out at 15:00.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shopsim.catalog import Catalog
from shopsim.scenario import Scenario
from shopsim.shoppers import SOURCE_CODE, Groups, PaidGroups, SessionDraw

AUDIENCES = ("new_shoppers", "past_visitors", "past_buyers")
CHANNELS = ("paid_search", "display", "affiliate")
_MIN_INCREMENT = 0.01  # yuan above the next ad rank


@dataclass
class Campaign:
    """The shop's bought traffic settings (what the levers set)."""

    bids: dict[int, tuple[float, int]] = field(default_factory=dict)  # keyword -> (bid yuan/click, own offer)
    search_budget: float = 0.0  # yuan per day
    search_active: bool = True
    display: dict[int, tuple[float, float, int]] = field(default_factory=dict)  # audience -> (cpm, budget, offer)
    commission: dict[int, float] = field(default_factory=dict)  # own offer -> commission rate


@dataclass
class Auction:
    """Today's auction result for the shop's groups (arrays aligned with the paid groups)."""

    channel: np.ndarray      # index into CHANNELS
    key: np.ndarray          # keyword (paid search), audience (display) or own offer (affiliate)
    price: np.ndarray        # yuan per click (search), per impression (display), commission rate (affiliate)
    position: np.ndarray     # ad slot (search), NaN otherwise
    impressions: np.ndarray  # expected impressions per hour at traffic weight 1
    bid: np.ndarray


class Ads:
    """The shop's campaigns, the auctions, the budgets and the ad records."""

    def __init__(self, sc: Scenario, cat: Catalog, relevance: np.ndarray) -> None:
        self.sc, self.cat, self.relevance = sc, cat, relevance
        self.campaign = Campaign()
        self.rival_bids = self._rival_bids()
        self.outranked: set[tuple[int, int]] = set()  # (keyword, rival offer): our ad showed above theirs
        self.spent_search = 0.0
        self.spent_display = np.zeros(len(AUDIENCES))
        self.search_exhausted = False
        self.display_exhausted = np.zeros(len(AUDIENCES), dtype=bool)
        self.auction: Auction | None = None

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

    def set_rival_bids(self, bids: list[list[tuple[float, int]]]) -> None:
        """Replace the rivals' bids (per keyword: (bid yuan per click, rival offer)); rivals'
        strategies and scripted ad surges change them while the simulation runs."""
        self.rival_bids = bids

    def take_outranked(self) -> set[tuple[int, int]]:
        """The (keyword, rival offer) pairs whose ad showed below the shop's ad since the last call."""
        seen, self.outranked = self.outranked, set()
        return seen

    def quality(self, k: int, offer: int) -> float:
        """Ad quality of a listing for a keyword: relevance x click appeal of its main image."""
        appeal = np.exp(self.sc.search.listing_click_effect * (self.cat.listing_quality[offer] - 0.5))
        return float(self.relevance[k, offer] * appeal)

    def start_day(self) -> None:
        """Budgets refill at midnight."""
        self.spent_search = 0.0
        self.spent_display[:] = 0.0
        self.search_exhausted = False
        self.display_exhausted[:] = False

    # -- the morning auction / regrouping -----------------------------------------------------
    def groups(self, appeal: np.ndarray, rival_ads: np.ndarray) -> PaidGroups:
        """Run the auctions and return the bought channels' traffic groups.

        ``rival_ads`` (bool per rival offer) is set to whether each rival won an ad slot.
        """
        rows: list[tuple[int, int, int, int, float, float, float, float, float]] = []
        rival_ads[:] = False
        self._search_rows(rows, rival_ads)
        self._display_rows(rows)
        self._affiliate_rows(rows, appeal)
        if not rows:
            self.auction = None
            return PaidGroups.none()
        a = np.array(rows, dtype=float)
        self.auction = Auction(a[:, 0].astype(int), a[:, 1].astype(int), a[:, 4], a[:, 5], a[:, 6], a[:, 7])
        source = np.array([SOURCE_CODE[CHANNELS[c]] for c in self.auction.channel])
        keyword = np.where(self.auction.channel == 0, self.auction.key, -1)
        return PaidGroups(source, keyword, a[:, 2].astype(int), a[:, 8])

    def _search_rows(self, rows: list, rival_ads: np.ndarray) -> None:
        live = self.campaign.search_active and not self.search_exhausted and self.campaign.search_budget > 0
        shade = self._pacing() if live else 1.0
        rows += self._auction(shade if live else None, rival_ads)

    def _auction(self, shade: float | None, rival_ads: np.ndarray | None = None) -> list[tuple]:
        """Every keyword's auction with the shop's bids scaled by ``shade`` (None: the shop is out).

        Returns the shop's winning rows: (channel 0, keyword, offer, 0, cpc, slot, impressions
        per hour, bid, clicks per hour), at traffic weight 1.
        """
        cfg, cat = self.sc.paid_search, self.cat
        rows = []
        for k, kw in enumerate(self.sc.keywords):
            entrants = [(bid * self.quality(k, o), bid, o) for bid, o in self.rival_bids[k] if cat.stock[o] > 0]
            own = self.campaign.bids.get(k)
            if shade is not None and own and cat.stock[own[1]] > 0:
                entrants.append((shade * own[0] * self.quality(k, own[1]), shade * own[0], own[1]))
            entrants.sort(key=lambda e: -e[0])
            if rival_ads is not None and shade is not None and own:
                mine = next((s for s, e in enumerate(entrants[: cfg.ad_slots]) if e[2] < cat.n_own), None)
                if mine is not None:
                    self.outranked.update((k, e[2]) for e in entrants[mine + 1:])
            for slot, (_rank, bid, o) in enumerate(entrants[: cfg.ad_slots], start=1):
                if o >= cat.n_own:
                    if rival_ads is not None:
                        rival_ads[o - cat.n_own] = True
                    continue
                below = entrants[slot][0] if slot < len(entrants) else 0.0
                cpc = min(bid, max(cfg.reserve_price, below / self.quality(k, o) + _MIN_INCREMENT))
                impressions = kw.daily_searches / 24.0
                clicks = impressions * cfg.top_click_rate * slot ** -cfg.click_decay * self.quality(k, o)
                rows.append((0, k, o, 0, round(cpc, 2), slot, impressions, own[0], clicks))
        return rows

    def _pacing(self) -> float:
        """The largest bid scale (1, 0.95, ... 0.05) whose expected day's spend fits the budget.

        Without pacing, or when even full bids fit, the scale is 1: the shop bids what it said.
        """
        if not self.sc.paid_search.pacing:
            return 1.0
        left = self.campaign.search_budget - self.spent_search
        for shade in np.linspace(1.0, 0.05, 20):
            spend = sum(r[4] * r[8] * 24.0 for r in self._auction(float(shade)))
            if spend <= left:
                return float(shade)
        return 0.05

    def _display_rows(self, rows: list) -> None:
        cfg = self.sc.display
        for a, name in enumerate(AUDIENCES):
            if a not in self.campaign.display or self.display_exhausted[a]:
                continue
            cpm, budget, o = self.campaign.display[a]
            aud = cfg.audiences[name]
            if budget <= 0 or cpm <= 0 or self.cat.stock[o] <= 0:
                continue
            share = 1.0 / (1.0 + np.exp(-(cpm / aud.clearing_cpm - 1.0) / cfg.win_spread))
            impressions = aud.reach * cfg.impressions_per_shopper * share / 24.0
            price = min(cpm, aud.clearing_cpm) / 1000.0
            rows.append((1, a, o, 0, price, np.nan, impressions, cpm, impressions * aud.click_rate))

    def _affiliate_rows(self, rows: list, appeal: np.ndarray) -> None:
        cfg = self.sc.affiliates
        own = appeal[: self.cat.n_own]
        for o, rate in self.campaign.commission.items():
            if rate <= 0 or self.cat.stock[o] <= 0:
                continue
            visits = (cfg.base_daily_visits / 24.0 * (rate / cfg.reference_commission) ** cfg.commission_elasticity
                      * np.exp(0.5 * (appeal[o] - np.median(own))))
            rows.append((2, o, o, 0, rate, np.nan, 0.0, rate, visits))

    # -- charging a slice ----------------------------------------------------------------------
    def charge(self, d: SessionDraw, g: Groups, weight: float, start: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
        """Cut the slice's bought sessions at the budgets, in time order.

        Returns (sessions to keep, impressions per paid group this slice, budget events as
        (second, message)).
        """
        keep = np.ones(len(d.ts), dtype=bool)
        a = self.auction
        events: list[tuple[int, str]] = []
        if a is None:
            return keep, np.zeros(0), events
        paid_group = d.group - g.n_organic
        is_paid = (paid_group >= 0) & (paid_group < g.n_ads)
        impressions = rng.poisson(a.impressions * weight).astype(float)
        search = np.flatnonzero(is_paid & (a.channel[np.clip(paid_group, 0, len(a.channel) - 1)] == 0))
        if len(search):
            cost = np.cumsum(a.price[paid_group[search]])
            over = cost > self.campaign.search_budget - self.spent_search + 1e-9
            if over.any():
                cut = d.ts[search[np.argmax(over)]]
                keep[search[over]] = False
                self._cut_impressions(impressions, a.channel == 0, cut - start)
                self.search_exhausted = True
                events.append((int(cut), f"paid search budget of {self.campaign.search_budget:.0f} yuan ran out"))
            self.spent_search += float(a.price[paid_group[search[~over]]].sum())
        for row in np.flatnonzero(a.channel == 1):
            aud = a.key[row]
            left = self.campaign.display[aud][1] - self.spent_display[aud]
            cost = impressions[row] * a.price[row]
            if cost > left:
                fraction = max(left, 0.0) / cost
                impressions[row] = np.floor(impressions[row] * fraction)
                cut = start + int(3600 * fraction)
                keep[is_paid & (paid_group == row) & (d.ts > cut)] = False
                self.display_exhausted[aud] = True
                events.append((int(cut), f"display budget for {AUDIENCES[aud]} ran out"))
            self.spent_display[aud] += impressions[row] * a.price[row]
        return keep, impressions, events

    def rows(self, d: SessionDraw, g: Groups, impressions: np.ndarray, paid_amount: np.ndarray
             ) -> dict[str, np.ndarray] | None:
        """The slice's ``ads`` table rows: one per bought group with impressions or clicks.

        ``paid_amount`` is yuan paid per session (0 when it did not order).
        """
        a = self.auction
        if a is None:
            return None
        paid_group = d.group - g.n_organic
        mine = (paid_group >= 0) & (paid_group < g.n_ads)
        n = len(a.channel)
        clicks = np.bincount(paid_group[mine], minlength=n)
        orders = np.bincount(paid_group[mine], weights=d.ordered[mine], minlength=n)
        revenue = np.bincount(paid_group[mine], weights=paid_amount[mine], minlength=n)
        spend = np.select([a.channel == 0, a.channel == 1], [clicks * a.price, impressions * a.price],
                          default=revenue * a.price)
        show = (impressions > 0) | (clicks > 0)
        if not show.any():
            return None
        keyword = np.where(a.channel == 0, a.key, -1)
        audience = np.where(a.channel == 1, a.key, -1)
        sku = np.asarray(g.offer[g.n_organic: g.n_organic + g.n_ads], dtype=np.int64)
        impressions = np.where(a.channel == 2, clicks, impressions)  # an affiliate visit is its own impression
        return {"channel": a.channel[show], "keyword": keyword[show], "audience": audience[show], "sku": sku[show],
                "bid": a.bid[show], "impressions": impressions[show].astype(np.int64),
                "clicks": clicks[show].astype(np.int64), "spend": np.round(spend[show], 2),
                "avg_position": a.position[show], "orders": orders[show].astype(np.int64),
                "revenue": np.round(revenue[show], 2)}

    @staticmethod
    def _cut_impressions(impressions: np.ndarray, rows: np.ndarray, seconds_in: float) -> None:
        impressions[rows] = np.floor(impressions[rows] * min(max(seconds_in, 0) / 3600.0, 1.0))
