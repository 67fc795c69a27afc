"""The simulation: wires the SimPy environment, the market, the shop and the records.

Time runs in hours from midnight (Asia/Shanghai) of the scenario's first day. One clock
process steps through the day: at 00:00 it opens the day (reviews published, search
ranking updated, rivals' state recorded, the policy called); then it draws slices of whole
hours, several at once while nothing can change the market (see ``_slice_hours``), each as
arrays; at 23:00 it closes the day (stock, costs). Operator actions, reorders, listing work
and scripted timeline events are SimPy events of their own, and a slice ends at the next one.

Randomness: one ``SeedSequence(seed)`` gives every process its own named stream, so the
same scenario, seed and actions give identical tables, and changing one lever leaves the
other streams' draws where they were (common random numbers).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from shopsim import _arrays as arrays
from shopsim import search, timeline
from shopsim._lazy import lazy
from shopsim.ads import AUDIENCES, Ads
from shopsim.aftersales import AfterSales
from shopsim.calendar import Clock, FestivalCalendar
from shopsim.catalog import Catalog
from shopsim.competitors import Rivals
from shopsim.customers import CrmDesk, CustomerBase
from shopsim.errors import ActionError, ShopsimError, shown
from shopsim.feed import feed_clicks
from shopsim.health import ShopHealth
from shopsim.inventory import Inventory, Reorder
from shopsim.operator import Levers, OperatorView
from shopsim.promotions import Promotions
from shopsim.records import Recorder
from shopsim.refunds import RefundBook
from shopsim.reviews import NEGATIVE_STARS, ReviewBook
from shopsim.scenario import Scenario, TimelineEvent, load_scenario
from shopsim.seasons import SeasonCalendar
from shopsim.service import ServiceDesk
from shopsim.shoppers import Groups, Shoppers, build_groups, offer_appeal, subset

if TYPE_CHECKING:
    import pandas as pd

    from shopsim.tables import TableCache
else:
    pd = lazy("pandas")

Policy = Callable[[OperatorView], None]
#: Hours of the day where a slice always ends (the clock draws whole hours, several at once while
#: the market cannot change: see :meth:`Simulation._slice_hours`). Buyers who come back the same
#: day come after the next of these hours; hour 23 is drawn on its own.
SLICE_ENDS = (6, 12, 18, 23, 24)
_NEXT_END = np.array([min(e for e in SLICE_ENDS if e > h) for h in range(24)])
TABLES = ("sessions", "orders", "order_items", "refunds", "ads", "inventory", "reviews", "rankings", "market",
          "events", "costs", "pnl", "daily", "service", "disputes")


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream called ``name`` for ``seed`` (independent of every other name)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)))


class Simulation(Levers):
    """One shop in its market, run step by step.

    Parameters
    ----------
    scenario:
        A :class:`~shopsim.scenario.Scenario`, a bundled scenario name or a YAML path.
    seed:
        The seed of every random stream (required: the same seed gives the same run).
    policy:
        Optional ``f(view)`` called each simulated morning (see :class:`OperatorView`).
    """

    def __init__(self, scenario: Scenario | str | Path, seed: int, policy: Policy | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ActionError(f"seed must be a whole number of 0 or more, not {seed!r}")
        if policy is not None and not callable(policy):
            raise ActionError(f"policy must be a function f(view) called each morning, not {shown(policy)}")
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.scenario, self.seed, self.policy = sc, int(seed), policy
        self._streams: dict[str, np.random.Generator] = {}
        self.clock = Clock(sc.start, sc.traffic.hour_shape, sc.traffic.weekday_shape)
        self.catalog = cat = Catalog(sc)
        self.relevance = search.relevance_matrix(sc, cat)
        self.customers = CustomerBase(sc.customers, sc.traffic, self.rng("customers"))
        self.customers.set_categories(cat.categories)
        self.seasons = SeasonCalendar(sc, self.clock, cat, self.relevance)
        self._season_offer = np.ones(cat.n)
        self.reviews = ReviewBook(sc.reviews, cat.n_own, sc.shoppers.visible_reviews)
        own = slice(0, cat.n_own)
        # stars of the shop's history: the expected logistics rating given its share of late parcels (1-5)
        logistics = max(1.0, sc.reviews.logistics_rating - sc.reviews.late_share * sc.reviews.late_delivery_effect)
        self.health = ShopHealth(sc.shop.dsr_window_days,
                                 (float(np.average(cat.rating()[own], weights=cat.rating_count[own] + 1)),
                                  sc.service.service_rating, logistics),
                                 float(cat.monthly_sales()[own].sum() / 30 * sc.reviews.review_share))
        self.service = ServiceDesk(sc.service, cat.categories, cat.category[:own.stop])
        self.service_yesterday: dict[str, Any] = {}  # yesterday's service figures (OperatorView.service)
        self.aftersales = AfterSales(sc.service, sc.reviews.review_share,
                                     float(cat.monthly_sales()[own].sum() / 30 / (1 + sc.shoppers.extra_units)))
        self.inventory = Inventory(cat)
        self.refunds = RefundBook(sc.returns, cat, sc.reviews.delivery_days, sc.reviews.late_share)
        self.refunds.warm_up(self.rng("refunds"))
        self.return_insurance = False
        self.rivals = Rivals(sc, cat)
        self.ads = Ads(sc, cat, self.relevance, self.rng("ad_market"), self.clock.hour_weights)
        self.promotions = Promotions(sc, cat)
        self.festivals = FestivalCalendar(self.clock, sc.festivals)
        self.crm = CrmDesk(sc.crm, self.customers)
        self._deposit_ids: list[np.ndarray] = []
        self._deposit_offers: list[np.ndarray] = []
        self._deposits_by_hour: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._eff, self._promo_ids = cat.price.copy(), [None] * cat.n_own
        self.shoppers = Shoppers(sc, cat, self.rng("arrivals"), self.rng("funnel"), self.rng("basket"))
        self.records = Recorder(self.clock, cat.codes, [k.keyword for k in sc.keywords], cat.shops)
        self.records.promotion_ids = self.promotions.ids
        self.env = simpy.Environment()
        self.day = 0
        self._version = 0
        self._failure: str | None = None
        self._market_dirty = True
        self._groups: Groups | None = None
        self._clicks = np.zeros_like(self.relevance)
        self._positions = np.zeros(self.relevance.shape, dtype=np.int64)
        self._listing_in_progress: set[tuple[int, str]] = set()
        self._shocks: list[tuple[float, float, float]] = []
        self._day_weights: tuple[tuple[int, int] | None, np.ndarray] = (None, np.empty(0))  # see _hour_weights
        self._returning_by_hour: list[np.ndarray] = []
        self._second_visits: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._mostly_out = np.zeros(cat.n, dtype=bool)  # listings sold out 12 hours or more yesterday
        self._on_sale = cat.stock[: cat.n_own] > 0  # own SKUs in stock when the market was last regrouped
        # units each own SKU sells per unit of traffic weight (a day has 24), from its sales history
        self._sales_pace = cat.monthly_sales()[: cat.n_own] / 30.0 / 24.0
        self._next_order_id = 1
        self._table_cache: TableCache | None = None
        self._reset_counters()
        self._inherit_campaign()
        self.env.process(self._hours())
        for event in sc.timeline:
            self.env.process(self._scripted(event))

    # -- public API ------------------------------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        """This run's random stream ``name`` (created on first use)."""
        if name not in self._streams:
            self._streams[name] = stream(self.seed, name)
        return self._streams[name]

    def run(self, days: int | None = None) -> Simulation:
        """Simulate ``days`` more days (default: the rest of the scenario's length)."""
        if self._failure is not None:
            raise ShopsimError(f"this simulation stopped on day {self.day} because {self._failure}; "
                               "start a new Simulation")
        if days is None:
            days = max(self.scenario.days - self.days_run, 0)
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or not 0 <= days <= 3660:
            raise ActionError(f"days must be a whole number from 0 to 3660, not {days!r}")
        if days:
            try:
                with arrays.small_pages():
                    self.env.run(until=self.env.now + 24 * int(days))
            except BaseException as exc:
                self._failure = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                self._version += 1
        return self

    @property
    def today(self) -> dt.date:
        """The date of the day about to run (or running)."""
        return self.clock.date(int(self.env.now // 24))

    @property
    def current_day(self) -> int:
        """The day the clock is in now (the next day to run, between runs)."""
        return int(self.env.now // 24)

    @property
    def days_run(self) -> int:
        """Whole days simulated so far."""
        return self.records.days_done

    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The shop's tables (docs/data-dictionary.md): built on first access, then extended as
        days close (never rebuilt from all rows; see :mod:`shopsim.tables`)."""
        from shopsim.tables import Tables

        return Tables(self, TABLES)

    @property
    def table_cache(self) -> TableCache:
        """The tables built so far (shared by ``tables``, a policy's view and the console)."""
        if self._table_cache is None:
            from shopsim.tables import TableCache

            self._table_cache = TableCache(self)
        return self._table_cache

    def _state_key(self) -> tuple[int, ...]:
        """Changes whenever anything a table shows may have changed (the tables' cache key)."""
        rec = self.records
        return (self._version, rec.days_done, rec.session_count, len(rec.events), len(self.reviews.ts),
                sum(self.reviews.replied), rec.rankings.rows)

    def truth(self) -> pd.DataFrame:
        """Hidden ground truth per listing, for instructors and grading (never for trainees)."""
        cat, sh = self.catalog, self.scenario.shoppers
        open_, answered = self.reviews.negative_on_page()
        appeal = offer_appeal(self.scenario, cat, cat.price, open_, answered)
        return pd.DataFrame({
            "sku": cat.codes, "shop": cat.shops, "quality": cat.quality,
            "listing_quality": cat.listing_quality, "reference_price": cat.reference_price,
            "appeal": appeal, "price_sensitivity": sh.price_sensitivity,
        })

    def _inherit_campaign(self) -> None:
        """Start the scenario's running campaign (bids, budget, affiliate rates) as the levers would."""
        c, cat = self.scenario.campaign, self.catalog
        words = [k.keyword for k in self.scenario.keywords]
        for word, bid in c.keyword_bids.items():
            k = words.index(word)
            if bid > 0:
                self.ads.campaign.bids[k] = (round(bid, 2), int(np.argmax(self.relevance[k, : cat.n_own])))
        self.ads.campaign.search_budget = c.daily_budget
        for code, rate in c.affiliate_commission.items():
            self.ads.campaign.commission[cat.index[code]] = rate
        if c.keyword_bids or c.affiliate_commission:
            self.records.event(0, "system", "inherited_campaign", "shop",
                               f"paid search on {len(c.keyword_bids)} keywords, {c.daily_budget:.0f} yuan a day; "
                               f"affiliate commission on {len(c.affiliate_commission)} SKUs")

    # -- the clock -------------------------------------------------------------------------
    def _hours(self) -> Iterator[simpy.Event]:
        while True:
            hour = int(self.env.now) % 24
            if hour == 0:
                self._open_day()
            weights = self._hour_weights(hour, int(_NEXT_END[hour]) - hour)
            if self._market_dirty or self._groups is None:
                self._regroup()  # first: how long the slice may be depends on today's auction and stock
            length = self._slice_hours(hour, weights)
            self._slice(hour, weights[:length])
            if hour + length == 24:
                self._close_day()
            yield self.env.timeout(length)

    def _hour_weights(self, hour: int, length: int) -> np.ndarray:
        """Traffic weights of the ``length`` hours of today from hour of day ``hour`` (today's 24
        are worked out once, and again when a traffic shock begins)."""
        key = (self.day, len(self._shocks))
        if self._day_weights[0] != key:
            first = self.env.now - hour  # hour 0 of today
            self._day_weights = (key, np.array([self._traffic_weight(h, first + h) for h in range(24)]))
        return self._day_weights[1][hour: hour + length]

    def _slice_hours(self, hour: int, weights: np.ndarray) -> int:
        """How many hours from ``hour`` to draw in one slice: the hours up to the next moment the
        market may change, so a slice of several hours draws what hour-by-hour slices would.

        A slice ends at the next scheduled event (a restock, a promotion starting or ending, a
        scripted event), after the hour a negative review appears, at the next of
        :data:`SLICE_ENDS`, and after the first hour in which a SKU could run low or an ad budget
        run out (the slice's shoppers all see the stock and the ads as they were at its start, so
        whatever runs low or out may do so only in its last hour: the next slice then sees it, as
        the next hour would), unless those hours surely change nothing (:meth:`_quiet_hours`); it
        is one hour on festival days and while a flash sale's cap or a coupon's quantity runs down.
        Every stream is drawn hour by hour, so however a day is sliced the shoppers' draws are
        the same (common random numbers).
        """
        now = int(self.env.now)
        length = len(weights)  # to the next of SLICE_ENDS
        if length <= 1:
            return 1
        following = self.env.peek()  # the next event of any other process
        if following < now + length:
            length = int(np.ceil(following)) - now
        negative = self.reviews.first_negative_hour(now + length)
        if negative is not None:
            length = min(length, negative + 1 - now)
        promo = self.promotions
        if (length <= 1 or self.festivals.phase(self.day) is not None
                or (promo.any and promo.counting_down(float(now)))):
            return 1
        cumulative, hours = np.cumsum(weights[:length]), hour + np.arange(length)
        safe = min(self._stock_safe_hours(cumulative), self.ads.budget_hours(hours, weights[:length]))
        if safe < length:  # the market may change: unless it surely cannot for longer (see _quiet_hours)
            safe = max(safe, self._quiet_hours(cumulative, hours, weights[:length]))
        return max(safe, 1)

    def _stock_safe_hours(self, weights: np.ndarray) -> int:
        """How many of the coming hours (cumulative traffic ``weights``) one slice may draw: up to
        and including the first hour in which a SKU on sale might come near selling out or
        running low. Before it, each keeps over three times its expected sales at its pace
        (units per unit of traffic weight) on top of the low-stock mark
        (``service.low_stock_units``, at least ten units)."""
        mark = max(10, self.scenario.service.low_stock_units)
        kept = self._stock_keeps(weights, 3.0, np.full(self.catalog.n_own, mark))
        return kept if kept == len(weights) else kept + 1

    def _quiet_hours(self, cumulative: np.ndarray, hours: np.ndarray, weights: np.ndarray) -> int:
        """How many of the coming ``hours`` (hours of day; traffic ``weights``, ``cumulative``) one
        slice may draw because nothing in them can change the market, or 0: every SKU on sale
        keeps over ten times its expected sales plus 20 units, on top of the low-stock mark unless
        it is below it already (shoppers see it low; it can then only sell out), and no ad budget
        can run out: no display is bought and the paid-search clicks the slice will draw (its
        bought arrivals, from a copy of their stream) cost well under the search budget left.
        A slice of these hours draws what they would one at a time."""
        low = self.scenario.service.low_stock_units
        spare = np.where(self.catalog.stock[: self.catalog.n_own] < low, 20, 20 + max(10, low))
        quiet = self._stock_keeps(cumulative, 10.0, spare)
        if not quiet:
            return 0
        clicks = self.shoppers.paid_arrivals(self._groups, weights[:quiet], hours[:quiet], self.rng("paid_traffic"))
        return quiet if self.ads.clicks_fit(hours[:quiet], clicks) else 0

    def _stock_keeps(self, cumulative: np.ndarray, times: float, spare: np.ndarray) -> int:
        """How many of the coming hours (cumulative traffic ``cumulative``) pass before the first in
        which an own SKU on sale may no longer keep over ``times`` its expected sales at its pace
        (units per unit of traffic weight) plus ``spare`` units (per SKU); all of them if none."""
        stock = self.catalog.stock[: self.catalog.n_own]
        pace = np.maximum(self._sales_pace, self._own_units / max(self._weight_today, 1.0))
        need = times * pace[:, None] * cumulative[None, :] + spare[:, None]
        safe = ((stock[:, None] > need) | (stock[:, None] <= 0)).all(axis=0)
        return len(safe) if safe.all() else int(np.argmin(safe))

    def _open_day(self) -> None:
        self.day = day = int(self.env.now // 24)
        self.inventory.start_day()
        self.ads.start_day()
        self.ads.audience_sizes = self.customers.refresh_audiences(day, self.scenario.display.visitor_days)
        self.ads.keyword_demand = self.seasons.keyword_factor(day)
        self._season_offer = self.ads.offer_demand = self.seasons.offer_factor(day)
        self.rivals.morning(self)
        self._rank(day)
        view = self.rivals.market_view()
        self.records.market.append(day=day, **view)
        self._festival_morning(day)
        busy = float(np.mean([self.festivals.traffic_factor(day, h) for h in range(24)]))
        ret = self.customers.returning_today(day, self.rng("returning"), busy * self.seasons.holiday_traffic(day))
        hours = self.rng("returning").choice(24, size=len(ret), p=self.clock.hour_weights / 24)
        self._returning_by_hour = [ret[hours == h] for h in range(24)]
        self._second_visits: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._market_dirty = True
        if self.policy is not None:
            self.policy(OperatorView(self))

    def _rank(self, day: int) -> None:
        scores = search.rank_scores(self.scenario, self.catalog, self.relevance, self._mostly_out)
        scores[:, : self.catalog.n_own] -= self.aftersales.search_penalty()  # disputes lost, a mark
        pos = self._positions = search.positions(scores)
        k, o = np.nonzero(pos)
        self.records.rankings.append(day=day, keyword=k, offer=o, organic_position=pos[k, o])

    def _traffic_weight(self, hour: int, at: float) -> float:
        """Traffic weight of hour of day ``hour`` starting at hour ``at`` (hours since hour 0)."""
        shock = 1.0
        for start, end, factor in self._shocks:
            if start <= at < end:
                shock *= factor
        return (self.clock.traffic_weight(self.day, hour) * shock * self.festivals.traffic_factor(self.day, hour)
                * self.seasons.holiday_traffic(self.day))

    def _festival_morning(self, day: int) -> None:
        """Announce festival phases; on the main day, deposit holders come back in the first hours."""
        found = self.festivals.phase(day)
        self._deposits_by_hour = {}
        if found is None:
            return
        fest, phase = found
        if self.festivals.phase(day - 1) != found:
            what = {"presale": "pre-sale (预售) begins", "main": "main day", "slump": "festival over"}[phase]
            self.records.event(day * 86_400, "platform", "festival_phase", fest.name, f"{fest.name}: {what}")
        if phase == "main" and self._deposit_ids:
            ids, offers = np.concatenate(self._deposit_ids), np.concatenate(self._deposit_offers)
            hour = (self.rng("festival").random(len(ids)) > 0.7).astype(int)  # 70 % pay in the first hour
            self._deposits_by_hour = {h: (ids[hour == h], offers[hour == h]) for h in (0, 1)}
            self._deposit_ids, self._deposit_offers = [], []

    def _injected(self, g: Groups, hour: int, length: int) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Visitors in each hour of the slice that no arrival rate makes: buyers back the same day,
        deposit holders and CRM responders (drawn from the bought channels' stream, so organic
        shoppers' draws stay where they were). Per hour: (ids, traffic groups) or None."""
        now = int(self.env.now)
        out: list[tuple[np.ndarray, np.ndarray] | None] = []
        for k in range(length):
            parts = []
            if hour + k in self._second_visits:  # buyers back for a second look (through their orders page)
                ids, offers = self._second_visits.pop(hour + k)
                parts.append((ids, g.returning_group[offers]))
            if hour + k in self._deposits_by_hour:
                ids, offers = self._deposits_by_hour[hour + k]
                parts.append((ids, g.returning_group[offers]))
            crm = self.crm.responders(now + k)
            if crm is not None:
                parts.append((crm[0], g.crm_group[crm[1]]))
            out.append((np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
                       if parts else None)
        return out

    def _take_deposits(self, d: Any, landing: np.ndarray) -> None:
        """Pre-sale: some shoppers who carted without buying put down a deposit (定金)."""
        found = self.festivals.phase(self.day)
        if found is None or found[1] != "presale":
            return
        waiting = np.flatnonzero((d.cart | d.submitted) & ~d.ordered)
        pay = waiting[self.rng("festival").random(len(waiting)) < found[0].deposit_share]
        self._deposit_ids.append(d.customer[pay])
        self._deposit_offers.append(landing[pay])
        # the platform counts a deposit (付定金) as a sale of the listing in its rankings and feed
        self._own_deposits += np.bincount(landing[pay], minlength=self.catalog.n_own)

    def _slice(self, hour: int, weights: np.ndarray) -> None:
        """Draw and sell ``len(weights)`` whole hours from hour of day ``hour`` (traffic ``weights``)
        under one market."""
        if hour == 0 or hour in SLICE_ENDS:
            self.customers.start_part()
        g = self._groups
        now, length = self.env.now, len(weights)
        start = int(now * 3600)
        for weight in weights.tolist():  # hour by hour: the same sums however the day is sliced
            self._rival_weight += weight
            self._weight_today += weight
        paid = (self.rng("paid_traffic"), self.rng("paid_sessions"))
        draw = self.shoppers.draw(g, weights, start, self._returning_by_hour[hour: hour + length], self.customers,
                                  paid, self._injected(g, hour, length))
        if self.ads.auction is None:
            self._sell(draw, g, start)
        else:
            self._sell_with_ads(draw, g, weights, start)
        self.inventory.count_stockout(now, now + length)
        self.service.on_duty(int(now), length)
        self._publish_reviews(int((now + length) * 3600))

    def _publish_reviews(self, until: int) -> None:
        """Reviews due before second ``until`` appear: ratings move, a negative one lands on the
        page (the market regroups) and in the events at the time it appeared."""
        offers, stars = self.reviews.publish(until)
        if not len(offers):
            return
        self.catalog.add_ratings(offers, stars)
        published = self.reviews.ts[len(self.reviews.ts) - len(offers):]
        for o, r, second in zip(offers.tolist(), stars.tolist(), published, strict=True):
            if r <= NEGATIVE_STARS:
                self.records.event(second, "platform", "negative_review", self.catalog.codes[o],
                                   f"{r} star{'s' if r != 1 else ''}")
                self._market_dirty = True

    def _regroup(self) -> None:
        """Rebuild today's traffic groups after anything in the market changed."""
        sc, cat, promo = self.scenario, self.catalog, self.promotions
        now, n = self.env.now, self.catalog.n_own
        self.settle_rivals()
        self._clicks = search.click_rates(sc, cat, self.relevance, self._positions)
        self._eff, self._promo_ids = promo.prices(now)
        seen = self._eff.copy()
        seen[:n] -= promo.basket_saving(now, self._eff[:n])
        open_, answered = self.reviews.negative_on_page()
        appeal = offer_appeal(sc, cat, seen, open_, answered)
        appeal[:n] += sc.promotions.promotion_salience * promo.on_promotion(now) * promo.freshness(now)
        appeal[:n] -= sc.promotions.free_shipping_expectation * (promo.shipping_fee(self._eff[:n]) > 0)
        found = self.festivals.phase(self.current_day)
        cart_factor = promo.dip.copy()
        if found is not None and found[1] == "main":
            appeal += found[0].main_day_intent
        elif found is not None and found[1] == "presale":
            cart_factor *= found[0].presale_purchase_factor
        if self.seasons.ships_from(self.current_day) is not None:
            cart_factor *= sc.spring_festival.checkout_factor
        pay = self._eff.copy()
        pay[:n] += promo.shipping_fee(self._eff[:n])
        paid = self.ads.groups(appeal, self.rivals.ad_presence)
        venue = promo.venue_groups(now, found)
        on_sale = ((cat.stock > 0) & np.concatenate([np.ones(n, dtype=bool), self.rivals.listed])
                   & (cat.listed_day <= self.current_day))
        self._on_sale = cat.stock[:n] > 0
        feed = feed_clicks(sc, cat, self.current_day, on_sale, self._season_offer)
        intent = np.array([sc.display.audiences[a].intent for a in AUDIENCES] + [0.0])
        hour_rate = self.ads.auction.rate if self.ads.auction is not None else None
        insured = sc.returns.insurance_checkout_effect if self.return_insurance else 0.0
        self._groups = build_groups(sc, cat, self.relevance, self._clicks, appeal, pay,
                                    self.customers.followers.size, paid, venue, cart_factor, insured,
                                    feed=feed, demand=self.ads.keyword_demand, audience_intent=intent,
                                    ad_hour_rate=hour_rate)
        self._market_dirty = False

    def _sell_with_ads(self, d: Any, g: Groups, weights: np.ndarray, start: int) -> None:
        """Charge the bought sessions against their budgets (dropping those the budget did not
        pay for), sell, and write the slice's ads rows (one per hour and bought group)."""
        keep, impressions, budget_events = self.ads.charge(d.ts, d.group, g, weights, start, self.rng("ad_impressions"))
        if not keep.all():
            d = subset(d, keep)
        for second, message in budget_events:
            self.records.event(second, "system", "ad_budget_out", "", message)
            self._market_dirty = True
        paid_amount = self._sell(d, g, start)
        rows = self.ads.rows(d.ts, d.group, d.ordered, g, impressions, paid_amount, start)
        if rows is not None:
            self.records.ads.append(**rows)

    def _sell(self, d: Any, g: Groups, start: int) -> np.ndarray:
        """Fulfil the slice's orders, record sessions, orders, lines, reviews, customers.

        Returns the yuan paid in each session (0 where it did not order)."""
        cat, promo, now = self.catalog, self.promotions, self.env.now
        landing = g.offer[d.group].astype(np.int64)
        inquiries = self._inquiries(d, landing, start, d.group >= g.n_organic)
        sess, offer, qty, main = self.shoppers.baskets(np.flatnonzero(d.ordered), landing[d.ordered])
        if promo.any:
            sess, offer, qty, main = promo.top_up(self.rng("promotions"), now, sess, offer, qty, main, self._eff,
                                                  d.ts[sess] // 3600)
        filled, ran_out = self.inventory.fulfil(d.ts[sess], offer, qty, promo.flash_limits(now) if promo.any else None)
        sold_out = np.zeros(len(d.ts), dtype=bool)
        sold_out[sess[main & (filled == 0)]] = True
        for o, second in ran_out.items():
            sold_out |= (landing == o) & (d.ts > second) & ~d.ordered
            if cat.stock[o] == 0:
                self.records.event(second, "system", "stockout", cat.codes[o], "sold out")
        if sold_out.any():
            self._saw_sold_out(d, sold_out, inquiries.pos)
            back = (filled > 0) & sold_out[sess]
            self.inventory.put_back(offer[back], filled[back])
            filled[back] = 0
        if ((cat.stock[: cat.n_own] > 0) != self._on_sale).any():
            self._market_dirty = True  # the next slices' shoppers see what sold out (or is back)
        keep = filled > 0
        sess, offer, qty = sess[keep], offer[keep], filled[keep]
        paying = np.flatnonzero(d.ordered)
        order_id = np.full(len(d.ts), -1, dtype=np.int64)
        order_id[paying] = self._next_order_id + np.arange(len(paying))
        self._next_order_id += len(paying)
        line_order = order_id[sess]
        position = np.searchsorted(paying, sess)
        money = promo.price_orders(now, position, len(paying), offer, qty, self._promo_ids, self._eff,
                                   g.source[d.group[paying]])
        for flash in promo.count_sold(now, offer, qty, self._eff) if promo.any else ():
            self.records.event(now * 3600, "platform", "flash_sale_sold_out", cat.codes[flash.offer],
                               f"{flash.promotion_id}: all {flash.cap} units sold")
            self._market_dirty = True
        unit_price = money["unit_paid"]
        self.records.sessions.append(
            ts=d.ts, customer_id=d.customer, is_new_customer=~d.was_buyer, device=d.pc.astype(np.int8),
            source=g.source[d.group], keyword=g.keyword[d.group], landing_sku=landing.astype(np.int16),
            bounced=d.bounced, added_to_cart=d.cart, order_submitted=d.submitted, ordered=d.ordered,
            order_id=order_id, page_views=d.pages, favourited=d.favourited)
        first_session = self.records.session_count - len(d.ts) + 1
        self.records.orders.append(
            order_id=order_id[paying], ts=d.ts[paying], customer_id=d.customer[paying],
            session_id=first_session + paying, source=g.source[d.group[paying]],
            items=np.bincount(position, weights=qty, minlength=len(paying)), gross_amount=money["gross"],
            discount_amount=money["discount"], paid_amount=money["paid"], promotion_id=money["promotion_id"],
            coupon_id=money["coupon_id"], buyer_shipping=money["buyer_shipping"], insured=self.return_insurance)
        self._record_inquiries(inquiries, d, landing, first_session, order_id)
        self.records.order_items.append(
            order_id=line_order, sku=offer.astype(np.int16), qty=qty, unit_list_price=money["unit_list"],
            unit_paid_price=unit_price, unit_cost=cat.cost[offer])
        self._own_visits += np.bincount(landing, minlength=cat.n_own)
        self._own_units += np.bincount(offer, weights=qty, minlength=cat.n_own)
        self._own_interest += np.bincount(landing, weights=d.favourited.astype(float) + d.cart, minlength=cat.n_own)
        self.customers.note_visits(d.customer, self.day)
        self._after_orders(d, paying, line_order, d.ts[sess], offer, qty, unit_price, money["unit_list"],
                           d.customer[sess])
        if self.festivals.festivals:
            self._take_deposits(d, landing)
        per_session = np.zeros(len(d.ts))
        per_session[paying] = money["paid"]
        return per_session

    def _inquiries(self, d: Any, landing: np.ndarray, start: int, bought: np.ndarray) -> Any:
        """Shoppers who ask customer service first (询单): queued for the agents on duty; a timely
        answer may win the order, a late one may lose it (:mod:`shopsim.service`)."""
        cat, promo, n = self.catalog, self.promotions, self.catalog.n_own
        on_promotion = promo.on_promotion(self.env.now) if promo.any else np.zeros(n, dtype=bool)
        chances = self.service.ask_chances(cat.listing_quality[:n], cat.stock[:n], on_promotion)
        return self.service.answer(self.rng("service"), d, landing, chances, start, bought,
                                   self.rng("paid_service"))

    def _record_inquiries(self, inq: Any, d: Any, landing: np.ndarray, first_session: int,
                          order_id: np.ndarray) -> None:
        pos = inq.pos
        first = inq.first_response
        self.records.service.append(
            ts=d.ts[pos], customer_id=d.customer[pos], session_id=first_session + pos,
            sku=landing[pos].astype(np.int16), topic=inq.topic,
            first_response_s=np.where(np.isfinite(first), np.rint(first), -1).astype(np.int64),
            answered=inq.answered, ordered=d.ordered[pos], complaint=inq.complaint)
        self.service.note_outcomes(inq, order_id)

    def _saw_sold_out(self, d: Any, who: np.ndarray, asked: np.ndarray) -> None:
        """Shoppers who found their item sold out: no cart, no order, a sold-out bounce chance
        (not for those who ``asked`` customer service first: they had already looked further)."""
        d.cart[who] = False
        d.submitted[who] = False
        d.ordered[who] = False
        leaves = who.copy()
        leaves[asked] = False
        d.bounced[leaves] = d.u_bounce[leaves] < self.scenario.shoppers.sold_out_bounce_rate
        d.pages[who & d.bounced] = 1

    def _after_orders(self, d: Any, paying: np.ndarray, line_order: np.ndarray, line_ts: np.ndarray,
                      offer: np.ndarray, qty: np.ndarray, unit_price: np.ndarray, unit_list: np.ndarray,
                      line_customer: np.ndarray) -> None:
        """Count the slice's orders per customer; keep what the day's close draws from; some
        buyers come back later today for something else (so a buyer may pay two orders)."""
        buyers = d.customer[paying]
        self.customers.record_orders(buyers, self.day)
        self._day_buyers.append(buyers)
        self._day_browsers.append(d.customer[~(d.bounced | d.ordered)])
        self._day_lines.append((line_order, line_ts, offer, qty, unit_price, unit_list,
                                np.full(len(line_order), self.return_insurance), line_customer))
        hour = (d.ts[paying] // 3600) % 24
        u = self.rng("repeat").random((len(paying), 3)).T  # order after order (see Shoppers.draw)
        again = (u[0] < self.scenario.shoppers.second_order_rate) & (hour < 23)
        if not again.any():
            return
        hour = hour[again]
        later = hour + 1 + (u[1][again] * (23 - hour)).astype(np.int64)
        later = np.maximum(later, _NEXT_END[hour])  # after the slice the order was paid in
        who = buyers[again]
        cdf = self._groups.landing_cdf  # np.cumsum(self.catalog.landing_share()): sales change only at the close
        lands = np.minimum(np.searchsorted(cdf, u[2][again] * cdf[-1], side="right"), len(cdf) - 1)
        for h in arrays.unique(later):
            ids, offers = self._second_visits.get(int(h), (who[:0], lands[:0]))
            self._second_visits[int(h)] = (np.concatenate([ids, who[later == h]]),
                                           np.concatenate([offers, lands[later == h]]))

    def settle_rivals(self) -> None:
        """Draw the rivals' sales for the traffic since the last settlement, under the market
        as it was. Called before anything changes the market (a scripted event, a regrouping)
        and at the day's close, so a rival's move at 23:00 affects only its last hour."""
        if self._groups is None or self._rival_weight <= 0:
            return
        visits, units = self.rivals.sell(self._groups, self._rival_weight, self.rng("rivals"))
        self._rival_visits += visits
        self._rival_units += units
        self._rival_weight = 0.0

    def _close_followers_and_reviews(self) -> None:
        """Once a day: who followed the shop, and which of the day's order lines get reviewed."""
        cat, cfg = self.catalog, self.scenario
        rng = self.rng("customers")
        buyers = np.concatenate(self._day_buyers)
        browsers = np.concatenate(self._day_browsers)
        self.customers.log_buyers(buyers, self.day)
        self.customers.follow(np.concatenate([
            buyers[rng.random(len(buyers)) < cfg.customers.follow_after_purchase],
            browsers[rng.random(len(browsers)) < cfg.customers.follow_after_visit]]))
        order_id, ts, offer, qty, price, list_price, insured, who = (
            np.concatenate(parts) for parts in zip(*self._day_lines, strict=True))
        rr = self.rng("reviews")
        late = rr.random(len(order_id)) < cfg.reviews.late_share
        wait = np.zeros(len(order_id))
        restart = self.seasons.ships_from(self.day)
        if restart is not None:  # couriers stopped for New Year: every order ships when they start again
            late[:] = True
            wait[:] = restart - self.day
        found = self.festivals.phase(self.day)
        late_answer = np.isin(order_id, np.concatenate([np.empty(0, np.int64), *self.service.late_orders]))
        svc = self.scenario.service
        dsr = (self.rng("dsr"), np.maximum(cat.listing_quality[offer] - cat.quality[offer], 0.0),
               svc.service_rating - svc.late_answer_effect * late_answer)
        reason, early = self.refunds.draw(self.rng("refunds"), order_id, ts, offer, qty, price, list_price,
                                          found is not None and found[1] == "main", late, insured, who, wait)
        stars = self.reviews.draw(rr, order_id, ts, offer, price, cat.reference_price[offer], cat.quality[offer],
                                  late, np.where(early, -2, reason), wait, dsr)
        self.customers.remember_orders(who, cat.category[offer], stars)
        self._day_sales = np.bincount(offer, weights=qty * price, minlength=cat.n_own)

    def _decide_refunds(self) -> None:
        """Today's refund requests, decided by the refund policy and the agents' spare time; the
        disputes the platform ruled on today are recorded (:mod:`shopsim.aftersales`)."""
        day, after = self.day, self.aftersales
        requests = self.refunds.take_requests((day + 1) * 86_400)
        if requests is not None:
            paid = after.decide(self.rng("aftersales"), requests, day * 86_400.0, self.service.spare_slots(day))
            self.refunds.put_back(paid)

    def _close_service(self, orders_today: int) -> tuple[float, ...]:
        """Book the agents' hours, record the disputes closed today, mark the shop (or lift the
        mark) and move the three DSR scores. Returns (description, service, logistics, dispute
        rate, average hours to approve today's refunds)."""
        day, after = self.day, self.aftersales
        self.records.cost(day, "customer_service", self.service.hours_today * self.scenario.service.agent_cost_per_hour)

        closed, ratings, approval_hours = after.close_day((day + 1) * 86_400, orders_today)
        if closed is not None:
            self.records.disputes.append(request=closed["request"], order_id=closed["order_id"],
                                         sku=closed["sku"].astype(np.int16), amount=closed["amount"],
                                         reason=closed["reason"], opened=closed["opened"], closed=closed["closed"],
                                         outcome=closed["outcome"])
            self._market_dirty = True
        changed = after.update_mark()
        if changed is not None:
            rate, limit = after.dispute_rate(), self.scenario.service.dispute_rate_limit
            kind, what = (("shop_marked", "above") if changed else ("shop_mark_lifted", "back under"))
            self.records.event((day + 1) * 86_400 - 1, "platform", kind, "shop",
                               f"dispute rate {rate:.2%} {what} the limit of {limit:.2%}")
        agent_cost = self.service.hours_today * self.scenario.service.agent_cost_per_hour
        _, complaints, figures = self.service.close_day()
        extra = np.concatenate([ratings, np.ones(complaints)])  # a complaint counts as one star
        scores = self.health.close_day(self.reviews.take_dsr(), extra)
        self.service_yesterday = {**figures, "agent_cost": agent_cost, "dsr_description": round(scores[0], 3),
                                  "dsr_service": round(scores[1], 3), "dsr_logistics": round(scores[2], 3),
                                  "dispute_rate": round(after.dispute_rate(), 5)}
        return (*scores, after.dispute_rate(), approval_hours)

    def _settle_refunds(self) -> None:
        """Refunds completed today: money back, units back on the shelf or written off; the
        refunded buyers come back less often."""
        cat, day = self.catalog, self.day
        done = self.refunds.complete((day + 1) * 86_400)
        refunded = np.zeros(cat.n_own)
        if done is not None:
            offer, qty = done["offer"], done["qty"]
            cost = qty * cat.cost[offer]
            back = done["restocked"]
            self.inventory.restock(offer[back], qty[back])
            if back.any():
                self._market_dirty = True
            if (~back).any():
                self.records.cost(day, "write_offs", float(cost[~back].sum()))
            refunded = np.bincount(offer, weights=done["amount"], minlength=cat.n_own)
            self.records.refunds.append(order_id=done["order_id"], sku=offer.astype(np.int16), qty=qty,
                                        requested=done["requested"], completed=done["completed"], kind=done["kind"],
                                        reason=done["reason"], amount=done["amount"], restocked=back,
                                        return_shipping=done["return_shipping"], goods_cost=cost,
                                        request=done["request"])
            buyers = done["customer"]
            self.customers.mark_refunded(buyers[buyers >= 0])
        self.refunds.close_day(self._day_sales, refunded)

    def _close_day(self) -> None:
        cat, inv = self.catalog, self.inventory
        n = cat.n_own
        self.settle_rivals()
        self._close_followers_and_reviews()
        self._decide_refunds()
        self._settle_refunds()
        if self.promotions.any:
            self.promotions.close_day(self.day, self._own_units, self._eff)
        units = np.concatenate([self._own_units + self._own_deposits, self._rival_units])
        visits = np.concatenate([self._own_visits, self._rival_visits])
        cat.close_day(units, visits, self._own_interest)
        self.records.inventory.append(
            day=self.day, sku=np.arange(n), on_hand_start=inv.on_hand_start, received=inv.received,
            sold=inv.sold, returned=inv.returned, lost=inv.lost, on_hand_end=cat.stock[:n].copy(),
            stockout_hours=inv.stockout_hours.copy(), on_order=inv.on_order())
        self.records.cost(self.day, "holding_cost", inv.holding_cost(self.scenario.shop.holding_cost_rate))
        fixed = self.scenario.shop.fixed_costs
        for item in ("staff", "rent", "software"):
            self.records.cost(self.day, item, getattr(fixed, item))
        self._mostly_out[:n] = inv.stockout_hours >= 12
        self._sales_pace = np.maximum(self._own_units / max(self._weight_today, 1.0), 0.5 * self._sales_pace)
        orders_today = self._next_order_id - self._first_order_today
        desc, service, logistics, dispute_rate, approval_hours = self._close_service(orders_today)
        self.records.close_day(self.day, self.customers.followers.size, (desc, service, logistics), dispute_rate,
                               approval_hours, days_left=max(self.scenario.days - self.day - 1, 0))
        self._reset_counters()

    def _reset_counters(self) -> None:
        n_own, n = self.catalog.n_own, self.catalog.n
        self._first_order_today = self._next_order_id
        self._own_units = np.zeros(n_own)
        self._own_visits = np.zeros(n_own)
        self._own_interest = np.zeros(n_own)
        self._own_deposits = np.zeros(n_own)
        self._rival_units = np.zeros(n - n_own, dtype=np.int64)
        self._rival_visits = np.zeros(n - n_own, dtype=np.int64)
        self._rival_weight = 0.0
        self._weight_today = 0.0
        self._day_buyers: list[np.ndarray] = [np.empty(0, np.int64)]
        self._day_browsers: list[np.ndarray] = [np.empty(0, np.int64)]
        empty = np.empty(0, np.int64)
        self._day_lines: list[tuple[np.ndarray, ...]] = [(empty, empty, empty, empty, np.empty(0), np.empty(0),
                                                          np.empty(0, bool), empty)]

    # -- SimPy processes for things that happen later ------------------------------------
    def _arrival(self, order: Reorder) -> Iterator[simpy.Event]:
        while self.env.now < order.due:
            yield self.env.timeout(order.due - self.env.now)
        self.inventory.receive(order, self.env.now)
        self.records.event(self.env.now * 3600, "system", "restock_arrived",
                           self.catalog.codes[order.offer], f"{order.qty} units")
        self._market_dirty = True

    def _book_at(self, hour: float, item: str, amount: float) -> Iterator[simpy.Event]:
        """Book a cost on the day it falls (hour ``hour``), if the run gets there."""
        yield self.env.timeout(max(hour - self.env.now, 0.0))
        self.records.cost(int(self.env.now // 24), item, amount)
        self._version += 1

    def _market_change_at(self, hour: float) -> Iterator[simpy.Event]:
        yield self.env.timeout(hour - self.env.now)
        self._market_dirty = True
        self._version += 1

    def _listing_live(self, offer: int, kind: str, live_at: float, gain: float) -> Iterator[simpy.Event]:
        yield self.env.timeout(live_at - self.env.now)
        lq = self.catalog.listing_quality
        lq[offer] += gain * (1.0 - lq[offer])
        self._listing_in_progress.discard((offer, kind))
        self.records.event(self.env.now * 3600, "system", "listing_live", self.catalog.codes[offer],
                           f"{kind}: listing quality now {lq[offer]:.2f}")
        self._market_dirty = True

    def _scripted(self, ev: TimelineEvent) -> Iterator[simpy.Event]:
        yield self.env.timeout(ev.day * 24 + ev.hour)
        timeline.apply(self, ev)
        self._market_dirty = True
        self._version += 1


def simulate(scenario: Scenario | str | Path, days: int | None = None, *, seed: int,
             policy: Policy | None = None) -> Simulation:
    """Run a scenario in one call and return the finished :class:`Simulation`.

    ``days`` defaults to the scenario's own length; ``policy`` is called every morning.
    """
    return Simulation(scenario, seed=seed, policy=policy).run(days)
