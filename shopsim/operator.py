"""The operator's levers, validated, and what a policy sees each morning.

Every lever checks its input first and raises one :class:`~shopsim.errors.ActionError` that
says what was wrong and what is allowed; only a valid action changes the simulation, and
every applied action is written to the ``events`` table. The levers are methods of
:class:`~shopsim.simulation.Simulation` (this class is its lever half).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from shopsim.errors import ActionError, shown
from shopsim.promotions import BasketDeal, Discount
from shopsim.scenario import LISTING_WORK, REFUSE_CHOICES, SERVICE_TOPICS

MAX_PRICE = 100_000.0  # yuan per unit
MAX_REORDER = 1_000_000  # units
LISTING_LIVE_HOUR = 8  # new titles and images go live at 08:00
MAX_BID = 99.0  # yuan per click
MAX_BUDGET = 1_000_000.0  # yuan per day
MAX_CPM = 1_000.0  # yuan per 1000 impressions
MIN_COMMISSION, MAX_COMMISSION = 0.05, 0.3  # share of the paid price (Taobao affiliate programme range)
MIN_BID_SHARE, MAX_BID_SHARE = 0.3, 2.5  # 分时折扣: share of the bid in an hour (the platform's range)
MAX_PREMIUM = 3.0  # 人群溢价: at most +300 % on the bid
MAX_AGENTS = 200  # customer-service agents on duty in one hour


# -- validators: every lever argument goes through one of these ---------------------------------
# A lever takes plain Python or numpy scalars of the right kind (a numpy array, a string of
# digits, a Decimal or a bool where a number is meant is refused), checks the range, and
# raises one ActionError saying what was wrong and what is allowed, before changing anything.
def is_number(value: Any, whole: bool = False) -> bool:
    """A plain Python or numpy number (a whole one if ``whole``); never a bool, text or array."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if whole:
        return isinstance(value, (int, np.integer))
    return isinstance(value, (int, float, np.integer, np.floating))


def number(name: str, value: Any, low: float, high: float, unit: str, *, whole: bool = False) -> float:
    """``value`` checked to be a finite number (whole if ``whole``) from ``low`` to ``high`` ``unit``.

    Returns it as a Python ``int`` (whole) or ``float``.
    """
    kind = "whole number" if whole else "number"
    if not is_number(value, whole):
        hint = " (no decimals)" if whole and is_number(value) else ""
        raise ActionError(f"{name} must be a {kind} of {unit}{hint}, not {shown(value)}")
    try:
        as_float = float(value)
    except OverflowError:  # an integer too large for a float
        raise ActionError(f"{name} is out of range; allowed {_show(low)} to {_show(high)} {unit}") from None
    if not math.isfinite(as_float):
        raise ActionError(f"{name} must be a finite {kind} of {unit}, not {shown(value)}")
    if not low <= value <= high:
        raise ActionError(f"{name} {shown(value)} is out of range; allowed {_show(low)} to {_show(high)} {unit}")
    return int(value) if whole else as_float


def choice(name: str, value: Any, allowed: Sequence[str], what: str = "") -> str:
    """``value`` checked to be one of ``allowed`` (text; ``what`` names the kind in the message)."""
    if not isinstance(value, str) or value not in allowed:
        listed = ", ".join(shown(a, 30)[1:-1] for a in allowed[:30]) or "none"
        raise ActionError(f"unknown {what or name} {shown(value)}; choose one of {listed}")
    return str(value)


def flag(name: str, value: Any) -> bool:
    """``value`` checked to be True or False (Python or numpy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ActionError(f"{name} must be True or False, not {shown(value)}")
    return bool(value)


def calendar_day(name: str, value: Any, first: dt.date, last: dt.date) -> dt.date:
    """``value`` checked to be a calendar day (a ``datetime.date``, not a date-time, or
    ``"YYYY-MM-DD"``) from ``first`` to ``last``."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip()) if len(value.strip()) == 10 else value
        except ValueError:
            raise ActionError(f"{name} {shown(value)} is not a real calendar day; write YYYY-MM-DD") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ActionError(f"{name} must be a date (YYYY-MM-DD), not {shown(value)}")
    if not first <= value <= last:
        raise ActionError(f"{name} {value} is out of range; allowed {first} to {last}")
    return value


def sku_index(sim: Any, sku: Any) -> int:
    """The catalogue index of one of the shop's own SKUs (its code, as text)."""
    codes = sim.catalog.codes[: sim.catalog.n_own]
    if not isinstance(sku, str) or sku not in codes:
        raise ActionError(f"unknown SKU {shown(sku)}; the shop's SKUs are: {', '.join(codes)}")
    return sim.catalog.index[str(sku)]


def keyword_index(sim: Any, keyword: Any) -> int:
    """The index of one of the scenario's keywords."""
    words = [k.keyword for k in sim.scenario.keywords]
    return words.index(choice("keyword", keyword, words))


def _tiers(value: Any, most: int = 5) -> list[tuple[float, float]]:
    """A list of 1 to ``most`` ``(threshold, amount)`` pairs of numbers, yuan."""
    example = "e.g. [(199, 20), (299, 40)]"
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        raise ActionError(f"tiers must be a list of (threshold, amount) pairs in yuan, {example}; not {shown(value)}")
    if not 1 <= len(value) <= most:
        raise ActionError(f"give 1 to {most} tiers, not {len(value)}")
    return [(number("threshold", t, 1, MAX_PRICE, "yuan"), number("amount", a, 1, MAX_PRICE, "yuan"))
            for t, a in value]


def _show(x: float) -> str:
    """A limit as an operator reads it: 100,000 rather than 1e+05."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


class Levers:
    """The trainee's levers on the shop (mixed into ``Simulation``)."""

    def set_price(self, sku: str, price: float) -> None:
        """Set the list price of an own SKU, yuan per unit (0.01 to 100,000)."""
        o = sku_index(self, sku)
        price = number("price", price, 0.01, MAX_PRICE, "yuan per unit")
        old = float(self.catalog.price[o])
        self.catalog.price[o] = round(price, 2)
        self._changed("set_price", sku, f"{old:.2f} -> {price:.2f} yuan")

    def reorder(self, sku: str, qty: int) -> int:
        """Order ``qty`` units (1 to 1,000,000) of an own SKU; they arrive after its lead time.

        Returns the reorder's id.
        """
        o = sku_index(self, sku)
        qty = number("qty", qty, 1, MAX_REORDER, "units", whole=True)
        order = self.inventory.place(o, qty, self.env.now)
        self.env.process(self._arrival(order))
        due = self.clock.date(int(order.due // 24))
        self._changed("reorder", sku, f"{qty} units, due {due:%Y-%m-%d} 09:00", market=False)
        return order.reorder_id

    def improve_listing(self, sku: str, kind: str) -> None:
        """Order listing work on an own SKU: ``title``, ``main_image`` or ``detail_page``.

        The work costs money now (booked as listing_cost) and raises the listing's quality
        when it goes live some days later (see the scenario's ``listing_work``).
        """
        o = sku_index(self, sku)
        kind = choice("kind", kind, LISTING_WORK, "listing work")
        if (o, kind) in self._listing_in_progress:
            raise ActionError(f"{kind} work on {sku} is already under way; wait until it goes live")
        work = self.scenario.listing_work[kind]
        self._listing_in_progress.add((o, kind))
        self.records.cost(self.current_day, "listing_cost", work.cost)
        live_day = self.current_day + work.days
        self.env.process(self._listing_live(o, kind, live_day * 24.0 + LISTING_LIVE_HOUR, work.gain))
        self._changed("improve_listing", sku, f"{kind}: {work.cost:.0f} yuan, live on "
                      f"{self.clock.date(live_day):%Y-%m-%d} {LISTING_LIVE_HOUR:02d}:00", market=False)

    def reply_to_review(self, review_id: int) -> None:
        """Answer a published review of the shop (an answered negative review hurts less)."""
        book = self.reviews
        if not is_number(review_id, whole=True):
            raise ActionError(f"review_id must be a whole number from the reviews table, not {shown(review_id)}")
        review_id = int(review_id)
        if not 1 <= review_id <= len(book.ts):
            raise ActionError(f"no published review has id {review_id}; ids run from 1 to {len(book.ts)}"
                              if book.ts else "there are no published reviews yet")
        if book.replied[review_id - 1]:
            raise ActionError(f"review {review_id} has already been answered")
        book.reply(review_id - 1)
        stars = book.rating[review_id - 1]
        self._changed("reply_to_review", self.catalog.codes[book.offer[review_id - 1]],
                      f"review {review_id} ({stars} stars)")

    def set_keyword_bid(self, keyword: str, bid: float, sku: str | None = None) -> None:
        """Bid on a keyword in paid search (直通车), yuan per click (0 stops bidding, at most 99).

        ``sku`` is the listing the ad shows (default: the shop's most relevant SKU for the
        keyword). Ads run only while the daily budget (:meth:`set_ad_budget`) lasts.
        """
        k = keyword_index(self, keyword)
        bid = number("bid", bid, 0, MAX_BID, "yuan per click")
        own = self.relevance[k, : self.catalog.n_own]
        o = int(np.argmax(own)) if sku is None else sku_index(self, sku)
        if own[o] <= 0:
            matching = [c for c, r in zip(self.catalog.codes, own, strict=False) if r > 0]
            raise ActionError(f"{sku} does not match the keyword {keyword!r}; SKUs that do: {', '.join(matching)}")
        campaign = self.ads.campaign
        if bid == 0:
            campaign.bids.pop(k, None)
        else:
            campaign.bids[k] = (round(bid, 2), o)
        self._changed("set_keyword_bid", keyword, f"{bid:.2f} yuan per click on {self.catalog.codes[o]}")

    def set_ad_budget(self, daily_budget: float) -> None:
        """Set the paid-search daily budget, yuan (0 to 1,000,000); it refills at midnight."""
        budget = number("daily_budget", daily_budget, 0, MAX_BUDGET, "yuan per day")
        self.ads.campaign.search_budget = round(budget, 2)
        self.ads.search_exhausted = self.ads.spent_search >= budget
        self._changed("set_ad_budget", "paid_search", f"{budget:.2f} yuan per day")

    def set_ads_active(self, active: bool) -> None:
        """Switch the paid-search campaign on (True) or off (False) without losing its bids."""
        active = flag("active", active)
        self.ads.campaign.search_active = active
        self._changed("set_ads_active", "paid_search", "on" if active else "off")

    def set_bid_schedule(self, keyword: str, shares_by_hour: Any) -> None:
        """Hourly bid schedule (分时折扣) of a keyword: 24 shares of the bid, hours 00-23, each 0
        (no ads that hour) or 0.3 to 2.5 (the platform's range); all 1 removes the schedule."""
        k = keyword_index(self, keyword)
        if not isinstance(shares_by_hour, (list, tuple, np.ndarray)) or np.ndim(shares_by_hour) != 1:
            raise ActionError("shares_by_hour must be a list of 24 shares of the bid (hours 00-23), "
                              f"not {shown(shares_by_hour)}")
        values = list(shares_by_hour)
        if len(values) != 24:
            raise ActionError(f"shares_by_hour needs 24 values (hours 00-23), not {len(values)}")
        shares = np.array([number(f"shares_by_hour[{h}]", v, 0, MAX_BID_SHARE, "of the bid")
                           for h, v in enumerate(values)])
        low = [h for h, v in enumerate(shares) if 0 < v < MIN_BID_SHARE]
        if low:
            raise ActionError(f"shares_by_hour[{low[0]}] {shares[low[0]]:g} is too small; give 0 (no ads that hour) "
                              f"or {MIN_BID_SHARE} to {MAX_BID_SHARE} of the bid")
        schedule = self.ads.campaign.schedule
        if (shares == 1).all():
            schedule.pop(k, None)
        else:
            schedule[k] = shares
        self._changed("set_bid_schedule", keyword, " ".join(f"{v:.0%}" for v in shares))

    def set_audience_premium(self, audience: str, share: float) -> None:
        """Audience premium (人群溢价) on every paid-search bid for searchers who are the shop's
        ``past_visitors``, ``past_buyers`` or ``followers``: a share added to the bid (0 removes it,
        at most 3 = +300 %)."""
        from shopsim.ads import ALL_AUDIENCES, PREMIUM_AUDIENCES

        audience = choice("audience", audience, PREMIUM_AUDIENCES)
        share = number("share", share, 0, MAX_PREMIUM, "added to the bid")
        a = ALL_AUDIENCES.index(audience)
        if share == 0:
            self.ads.campaign.premiums.pop(a, None)
        else:
            self.ads.campaign.premiums[a] = share
        self._changed("set_audience_premium", audience, f"+{share:.0%} on paid-search bids")

    def set_display(self, audience: str, cpm_bid: float, daily_budget: float, sku: str | None = None) -> None:
        """Buy display ads (钻展) for an audience: CPM bid (yuan per 1000 impressions, 0 stops)
        and daily budget (yuan). ``sku`` is the product the banner leads to (default: the best seller)."""
        from shopsim.ads import AUDIENCES

        audience = choice("audience", audience, AUDIENCES)
        cpm = number("cpm_bid", cpm_bid, 0, MAX_CPM, "yuan per 1000 impressions")
        budget = number("daily_budget", daily_budget, 0, MAX_BUDGET, "yuan per day")
        n = self.catalog.n_own
        o = int(np.argmax(self.catalog.monthly_sales()[:n])) if sku is None else sku_index(self, sku)
        a = AUDIENCES.index(audience)
        if cpm == 0 or budget == 0:
            self.ads.campaign.display.pop(a, None)
        else:
            self.ads.campaign.display[a] = (round(cpm, 2), round(budget, 2), o)
            self.ads.display_exhausted[a] = self.ads.spent_display[a] >= budget
        self._changed("set_display", audience,
                      f"CPM {cpm:.2f} yuan, {budget:.2f} yuan per day, {self.catalog.codes[o]}")

    def set_affiliate_commission(self, sku: str, rate: float) -> None:
        """Offer affiliates (淘宝客) a commission on an SKU's sales: a share of the paid price
        (0 stops, otherwise 0.05 to 0.3, the platform programme's range)."""
        o = sku_index(self, sku)
        rate = number("rate", rate, 0, MAX_COMMISSION, "of the paid price")
        if 0 < rate < MIN_COMMISSION:
            raise ActionError(f"rate {rate!r} is too small; give 0 (stop) or {MIN_COMMISSION} to {MAX_COMMISSION} "
                              "of the paid price")
        if rate == 0:
            self.ads.campaign.commission.pop(o, None)
        else:
            self.ads.campaign.commission[o] = rate
        self._changed("set_affiliate_commission", sku, f"{rate:.0%} of the paid price")

    def discount(self, sku: str, share_off: float, days: int, start_day: int | None = None) -> str:
        """Take ``share_off`` (0.01 to 0.9) off an SKU's list price for ``days`` days (1 to 90),
        from today or from ``start_day``. Returns the promotion id (on orders as promotion_id)."""
        o = sku_index(self, sku)
        share = number("share_off", share_off, 0.01, 0.9, "of the list price")
        start, end = self._window(days, start_day)
        pid = self.promotions.next_id("DISC")
        units = float(self.catalog.velocity(7)[o])
        self.promotions.discounts.append(Discount(pid, start, end, o, share_off=share, units_before=units))
        self._promotion_changes(start, end)
        self._changed("discount", sku, f"{pid}: {share:.0%} off from {self._when(start)} to {self._when(end)}",
                      market=start <= self.env.now)
        return pid

    def flash_sale(self, sku: str, price: float, cap: int, hours: int, start_hour: int | None = None) -> str:
        """A flash sale (秒杀): ``cap`` units (1 to 100,000) at ``price`` (below the list price) for
        ``hours`` hours (1 to 72), starting now or at ``start_hour`` (0-23) of the next day.
        The platform charges its slot fee (promotion_cost) and sends venue traffic."""
        o = sku_index(self, sku)
        list_price = float(self.catalog.price[o])
        price = number("price", price, 0.01, MAX_PRICE, "yuan per unit")
        if price >= list_price:
            raise ActionError(f"a flash-sale price must be below the list price of {sku} ({list_price:.2f} yuan)")
        cap = number("cap", cap, 1, 100_000, "units", whole=True)
        hours = number("hours", hours, 1, 72, "hours", whole=True)
        if start_hour is None:
            start = self.env.now
        else:
            start_hour = number("start_hour", start_hour, 0, 23, "o'clock", whole=True)
            start = (self.current_day + 1) * 24.0 + start_hour
        pid = self.promotions.next_id("FLASH")
        units = float(self.catalog.velocity(7)[o])
        self.promotions.discounts.append(Discount(pid, start, start + hours, o, flash_price=round(price, 2), cap=cap,
                                                  units_before=units))
        self.env.process(self._book_at(start, "promotion_cost", self.scenario.promotions.flash_sale_fee))
        self._promotion_changes(start, start + hours)
        self._changed("flash_sale", sku, f"{pid}: {cap} units at {price:.2f} yuan, {self._when(start)} for "
                      f"{hours} h", market=start <= self.env.now)
        return pid

    def issue_coupon(self, amount: float, threshold: float, quantity: int, days: int) -> str:
        """A store coupon: ``amount`` yuan off orders of at least ``threshold`` yuan, for the first
        ``quantity`` orders (1 to 1,000,000) over the next ``days`` days. Returns its coupon id."""
        threshold = number("threshold", threshold, 1, MAX_PRICE, "yuan")
        amount = number("amount", amount, 1, MAX_PRICE, "yuan")
        if amount >= threshold:
            raise ActionError(f"a coupon of {amount:g} yuan must be smaller than its threshold ({threshold:g} yuan)")
        quantity = number("quantity", quantity, 1, 1_000_000, "coupons", whole=True)
        start, end = self._window(days, None)
        pid = self.promotions.next_id("CPN")
        self.promotions.deals.append(BasketDeal(pid, start, end, ((threshold, amount),), quantity, is_coupon=True))
        self._promotion_changes(start, end)
        self._changed("issue_coupon", "shop", f"{pid}: {amount:g} off {threshold:g}, {quantity} coupons, {days} days")
        return pid

    def spend_and_save(self, tiers: list[tuple[float, float]], days: int) -> str:
        """满减: money off orders by tier, e.g. ``[(199, 20), (299, 40)]`` (threshold, amount off, yuan;
        thresholds rising, each amount below its threshold), for ``days`` days."""
        pairs = _tiers(tiers)
        for t, a in pairs:
            if a >= t:
                raise ActionError(f"tier {t:g}: the amount off ({a:g}) must be below its threshold")
        thresholds, amounts = [t for t, _ in pairs], [a for _, a in pairs]
        if thresholds != sorted(set(thresholds)) or amounts != sorted(set(amounts)):
            raise ActionError("tiers need rising thresholds and rising amounts, e.g. [(199, 20), (299, 40)]")
        start, end = self._window(days, None)
        pid = self.promotions.next_id("SAVE")
        self.promotions.deals.append(BasketDeal(pid, start, end, tuple(pairs)))
        self._promotion_changes(start, end)
        ladder = ", ".join(f"{a:g} off {t:g}" for t, a in pairs)
        self._changed("spend_and_save", "shop", f"{pid}: {ladder} for {days} days")
        return pid

    def enrol_festival(self, name: str, discount_share: float) -> str:
        """Join a festival's venue (大促报名): every SKU ``discount_share`` off on the main day (the
        platform demands at least the festival's ``min_discount``; pre-sale shoppers wait for that
        price or put down a deposit); pays the enrolment fee now; brings venue traffic on the
        main day. Returns the promotion id."""
        names = [f.name for f in self.scenario.festivals]
        if not names:
            raise ActionError(f"unknown festival {shown(name)}; this scenario has no festival")
        fest = self.scenario.festivals[names.index(choice("name", name, names, "festival"))]
        main = self.clock.day_of(fest.main_day)
        if main < self.current_day:
            raise ActionError(f"{name} is over (its main day was {fest.main_day})")
        if name in self.promotions.enrolled:
            raise ActionError(f"the shop is already enrolled in {name}")
        share = number("discount_share", discount_share, fest.min_discount, 0.9, "of the list price")
        start, end = main * 24.0, (main + 1) * 24.0
        pid = f"FEST-{name}"
        self.promotions.ids.append(pid)
        for o in range(self.catalog.n_own):
            units = float(self.catalog.velocity(7)[o])
            self.promotions.discounts.append(Discount(pid, start, end, o, share_off=share, units_before=units))
        self.promotions.enrolled[name] = share
        self.records.cost(self.current_day, "promotion_cost", fest.enrolment_fee)
        self._promotion_changes(start, end)
        self._changed("enrol_festival", name, f"{share:.0%} off store-wide from {self._when(start)}; fee "
                      f"{fest.enrolment_fee:.0f} yuan", market=start <= self.env.now)
        return pid

    def send_crm(self, segment: str, coupon_amount: float = 0, coupon_threshold: float = 0,
                 coupon_days: int = 7) -> int:
        """Message a customer segment (``past_buyers``, ``lapsed_buyers``, ``followers``), optionally
        with a coupon (``coupon_amount`` yuan off ``coupon_threshold``, valid ``coupon_days``, only
        in visits from the message). Costs ``crm.cost_per_message`` per member (crm_cost).
        Returns the number of messages sent."""
        from shopsim.customers import SEGMENTS
        from shopsim.shoppers import SOURCE_CODE

        segment = choice("segment", segment, SEGMENTS)
        amount = number("coupon_amount", coupon_amount, 0, MAX_PRICE, "yuan (0 = no coupon)")
        threshold = number("coupon_threshold", coupon_threshold, 0, MAX_PRICE, "yuan")
        start, end = self._window(coupon_days, None, "coupon_days")
        coupon = amount > 0
        if coupon and amount < 1:
            raise ActionError(f"coupon_amount {amount:g} is too small; give 0 (no coupon) or 1 to "
                              f"{_show(MAX_PRICE)} yuan")
        if not coupon and threshold:
            raise ActionError("coupon_threshold needs a coupon: give a coupon_amount too, or leave the "
                              "threshold at 0")
        if threshold and amount >= threshold:
            raise ActionError(f"a coupon of {amount:g} yuan must be smaller than its threshold "
                              f"({threshold:g} yuan)")
        sent, responded = self.crm.send(segment, self.current_day, int(self.env.now), coupon, self.rng("crm"),
                                        np.cumsum(self.catalog.landing_share()), self.clock.hour_weights)
        self.records.cost(self.current_day, "crm_cost", sent * self.scenario.crm.cost_per_message)
        detail = f"{sent} messages"
        if coupon:
            pid = self.promotions.next_id("CRM")
            self.promotions.deals.append(BasketDeal(pid, start, end, ((threshold, amount),), None, is_coupon=True,
                                                    only_source=SOURCE_CODE["crm"]))
            detail += f" with coupon {pid}: {amount:g} off {threshold:g}"
        self._changed("send_crm", segment, detail, market=False)
        return sent

    def set_free_shipping_threshold(self, threshold: float) -> None:
        """Orders below ``threshold`` yuan pay shipping (0 = every order ships free, 包邮)."""
        threshold = number("threshold", threshold, 0, MAX_PRICE, "yuan")
        self.promotions.free_shipping_threshold = threshold
        self._changed("set_free_shipping_threshold", "shop",
                      f"free shipping from {threshold:g} yuan" if threshold else "free shipping on every order")

    def set_return_insurance(self, on: bool) -> None:
        """Offer return-shipping insurance (运费险) on every order (True) or stop (False).

        While on, each paid order costs the premium (``returns.insurance_premium``, booked as
        return_insurance), shoppers pay a little more readily, and the insurer pays every
        return's courier; while off, the shop pays the courier of returns that are its fault.
        """
        self.return_insurance = flag("on", on)
        premium = self.scenario.returns.insurance_premium
        self._changed("set_return_insurance", "shop", f"on, {premium:.2f} yuan per order" if on else "off")

    def set_service(self, agents_by_hour: Any) -> None:
        """Customer-service rota (客服排班): whole agents on duty in each hour 00-23 (24 values, each
        0 to 200), from the next hour on. Every agent-hour on duty costs
        ``service.agent_cost_per_hour`` (booked as customer_service)."""
        if not isinstance(agents_by_hour, (list, tuple, np.ndarray)) or np.ndim(agents_by_hour) != 1:
            raise ActionError("agents_by_hour must be a list of 24 whole numbers of agents (hours 00-23), "
                              f"not {shown(agents_by_hour)}")
        values = list(agents_by_hour)
        if len(values) != 24:
            raise ActionError(f"agents_by_hour needs 24 values (hours 00-23), not {len(values)}")
        rota = [number(f"agents_by_hour[{h}]", v, 0, MAX_AGENTS, "agents", whole=True) for h, v in enumerate(values)]
        self.service.rota[:] = rota
        cost = sum(rota) * self.scenario.service.agent_cost_per_hour
        self._changed("set_service", "customer_service",
                      f"{sum(rota)} agent-hours a day ({cost:.0f} yuan): " + " ".join(str(a) for a in rota),
                      market=False)

    def set_service_script(self, topic: str, on: bool) -> None:
        """Prepared answers (快捷短语) for one inquiry topic (``size``, ``delivery``, ``stock``,
        ``promotion``) on (True) or off (False): agents answer that topic faster."""
        topic = choice("topic", topic, SERVICE_TOPICS, "inquiry topic")
        on = flag("on", on)
        self.service.scripts[SERVICE_TOPICS.index(topic)] = on
        saving = self.scenario.service.script_saving
        self._changed("set_service_script", topic, f"prepared answers on: {saving:.0%} less handling time" if on
                      else "prepared answers off", market=False)

    def set_refund_policy(self, auto_approve_under: float, refuse: str = "none") -> None:
        """How refund requests are decided: those under ``auto_approve_under`` yuan (0 to 100,000)
        are approved at once; agents review the rest and refuse ``refuse``: ``none``,
        ``buyer_reason`` (size and change-of-mind returns) or ``all``. A refused buyer may open a
        dispute the platform rules on."""
        under = number("auto_approve_under", auto_approve_under, 0, MAX_PRICE, "yuan")
        refuse = choice("refuse", refuse, REFUSE_CHOICES, "refusal rule")
        self.aftersales.auto_approve_under = under
        self.aftersales.refuse = REFUSE_CHOICES.index(refuse)
        self._changed("set_refund_policy", "after_sales", f"approve under {under:g} yuan at once; review the rest, "
                      f"refuse {refuse}", market=False)

    def _window(self, days: int, start_day: int | None, name: str = "days") -> tuple[float, float]:
        days = number(name, days, 1, 90, "days", whole=True)
        if start_day is None:
            start = self.env.now
        else:
            start_day = number("start_day", start_day, self.current_day, self.current_day + 365,
                               "(a day number)", whole=True)
            start = start_day * 24.0
        return start, (int(start // 24) + days) * 24.0

    def _when(self, hour: float) -> str:
        return f"{self.clock.date(int(hour // 24)):%Y-%m-%d} {int(hour % 24):02d}:00"

    def _promotion_changes(self, *hours: float) -> None:
        """Regroup the market when a promotion starts and ends."""
        for h in hours:
            if h > self.env.now:
                self.env.process(self._market_change_at(h))

    # -- helpers shared by the levers ----------------------------------------------------
    def _changed(self, kind: str, target: str, detail: str, market: bool = True) -> None:
        self.records.event(self.env.now * 3600, "operator", kind, target, detail)
        if market:
            self._market_dirty = True
        self._version += 1


class OperatorView:
    """What a policy sees each morning: the tables up to yesterday and the levers.

    A policy is a function ``f(view)`` called every simulated morning at 00:00. It reads
    ``view.tables`` (the same tables a trainee sees, never hidden truth or future rows) and
    acts through the levers (``view.set_price(...)`` etc.).
    """

    LEVERS = ("set_price", "reorder", "improve_listing", "reply_to_review", "set_keyword_bid", "set_ad_budget",
              "set_ads_active", "set_bid_schedule", "set_audience_premium", "set_display", "set_affiliate_commission",
              "discount", "flash_sale", "issue_coupon", "spend_and_save", "set_free_shipping_threshold",
              "enrol_festival", "send_crm", "set_return_insurance", "set_service", "set_service_script",
              "set_refund_policy")

    def __init__(self, sim: Any) -> None:
        self._sim = sim

    @property
    def date(self) -> dt.date:
        """Today's date."""
        return self._sim.today

    @property
    def day(self) -> int:
        """Today's day number (0 = the first day)."""
        return self._sim.day

    @property
    def tables(self) -> Any:
        """The shop's tables up to now (see docs/data-dictionary.md)."""
        return self._sim.tables

    @property
    def skus(self) -> list[str]:
        """The shop's SKU codes."""
        return self._sim.catalog.codes[: self._sim.catalog.n_own]

    def stock(self) -> dict[str, int]:
        """Units on hand now, per own SKU."""
        cat = self._sim.catalog
        return {c: int(s) for c, s in zip(self.skus, cat.stock[: cat.n_own], strict=True)}

    def on_order(self) -> dict[str, int]:
        """Units ordered and not yet arrived, per own SKU."""
        return dict(zip(self.skus, (int(x) for x in self._sim.inventory.on_order()), strict=True))

    def lead_times(self) -> dict[str, int]:
        """Supplier lead time per own SKU, days (what an operator knows of their suppliers)."""
        return dict(zip(self.skus, (int(x) for x in self._sim.catalog.lead_time), strict=True))

    def keywords(self) -> dict[str, float]:
        """The niche's keywords and their ordinary daily searches (what the platform's keyword tool shows)."""
        return {k.keyword: k.daily_searches for k in self._sim.scenario.keywords}

    def keyword_bids(self) -> dict[str, float]:
        """The shop's current paid-search bid per keyword, yuan per click."""
        words = list(self.keywords())
        return {words[k]: bid for k, (bid, _) in self._sim.ads.campaign.bids.items()}

    def quality_scores(self) -> dict[str, int]:
        """The shop's paid-search quality score (质量分, 1-10) per keyword, as the platform shows it."""
        return dict(zip(self.keywords(), (int(q) for q in self._sim.ads.quality_scores()), strict=True))

    def campaign(self) -> dict[str, Any]:
        """The running bought traffic: paid-search bids (yuan per click), daily budget (yuan), on/off,
        bid schedules, audience premiums, display buys and affiliate commissions."""
        from shopsim.ads import ALL_AUDIENCES, AUDIENCES

        sim = self._sim
        c, words, codes = sim.ads.campaign, list(self.keywords()), sim.catalog.codes
        return {
            "keyword_bids": self.keyword_bids(),
            "ad_skus": {words[k]: codes[o] for k, (_, o) in c.bids.items()},
            "daily_budget": c.search_budget,
            "search_active": c.search_active,
            "bid_schedules": {words[k]: [float(v) for v in s] for k, s in c.schedule.items()},
            "audience_premiums": {ALL_AUDIENCES[a]: p for a, p in c.premiums.items()},
            "display": {AUDIENCES[a]: {"cpm_bid": cpm, "daily_budget": b, "sku": codes[o]}
                        for a, (cpm, b, o) in c.display.items()},
            "affiliate_commission": {codes[o]: r for o, r in c.commission.items()},
        }

    def festivals(self) -> list[dict]:
        """Upcoming and past festivals: name, main_day, min_discount, enrolled."""
        sim = self._sim
        return [{"name": f.name, "main_day": f.main_day, "min_discount": f.min_discount,
                 "enrolled": f.name in sim.promotions.enrolled} for f in sim.scenario.festivals]

    def prices(self) -> dict[str, float]:
        """Current list price per own SKU, yuan."""
        cat = self._sim.catalog
        return {c: float(p) for c, p in zip(self.skus, cat.price[: cat.n_own], strict=True)}

    def service(self) -> dict[str, Any]:
        """Customer service: the rota (agents per hour 00-23), prepared answers per topic, the refund
        policy, open refund requests and disputes, and yesterday's service figures (inquiries,
        inquiry_conversion_rate, answered_share, first_response_s, complaints, agent_cost, the
        three DSR scores, dispute_rate; empty before the first day)."""
        sim = self._sim
        now = int(sim.env.now * 3600)
        return {
            "rota": [int(a) for a in sim.service.rota],
            "scripts": {t: bool(on) for t, on in zip(SERVICE_TOPICS, sim.service.scripts, strict=True)},
            "auto_approve_under": float(sim.aftersales.auto_approve_under),
            "refuse": REFUSE_CHOICES[sim.aftersales.refuse],
            "open_refunds": sim.refunds.open_requests(now),
            "open_disputes": sim.aftersales.open_disputes(now),
            "yesterday": dict(sim.service_yesterday),
        }

    def __getattr__(self, name: str) -> Any:
        if name in OperatorView.LEVERS:
            return getattr(self._sim, name)
        raise AttributeError(f"a policy has no {name!r}; it can read date, day, tables, skus, stock(), "
                             "on_order(), lead_times(), prices(), keywords(), keyword_bids(), quality_scores(), "
                             "campaign(), festivals(), service() "
                             f"and use {', '.join(self.LEVERS)}")


