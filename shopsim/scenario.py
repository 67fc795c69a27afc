"""Scenarios: the schema of a shop and its market, loading YAML, validation, presets.

A scenario is data. It is loaded from YAML (a bundled preset name or a file path), may
``extends:`` another scenario and override only what differs, is validated against the
schema below (unknown keys and out-of-range values are reported with their field path, all
at once), and becomes an immutable :class:`Scenario`. Variants are made with
:func:`with_overrides` (``--set path=value`` on the command line) or
``dataclasses.replace``, never by mutating a shared object.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shopsim import calendar
from shopsim import scenario_files as files
from shopsim.errors import ScenarioError, shown
from shopsim.schema import LAST_DATE, field_path, parse, reference, spec

#: Where shoppers come from. Organic ``search`` (per keyword), ``direct`` visits of shop
#: followers, ``returning`` past buyers coming back through their orders page, and the
#: channels the operator buys or earns: ``paid_search``, ``display``, ``affiliate``,
#: ``crm`` messages and festival ``venue`` traffic; ``feed`` is the platform's recommendation
#: feed (手淘首页 / 猜你喜欢), which shows each listing as much as the recommender rewards it.
SOURCES = ("search", "direct", "returning", "paid_search", "display", "affiliate", "crm", "venue", "feed")
DEVICES = ("mobile", "pc")
#: How a rival reacts to the market (see :mod:`shopsim.competitors`).
RIVAL_STRATEGIES = ("passive", "price_matcher", "undercutter", "festival_discounter", "ad_aggressor")
EVENT_KINDS = (
    "rival_price", "rival_stockout", "rival_restock", "supply_delay", "review_burst",
    "traffic_shock", "stock_loss", "rival_flash_sale", "rival_new_listing", "rival_affiliate_push",
    "rival_ad_surge",
)
LISTING_WORK = ("title", "main_image", "detail_page")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FixedCosts:
    """What the shop costs to run each day whatever it sells (booked every simulated day)."""

    staff: float = spec(3400.0, min=0, max=1e7, unit="yuan per day",
                        doc="Wages and social insurance of the salaried team (operators, an ad specialist, designer, "
                            "packers): the default is 12 people at about 8,500 yuan a month each; customer-service "
                            "agents are paid by the hour on the rota (service)")
    rent: float = spec(1100.0, min=0, max=1e7, unit="yuan per day",
                       doc="Office and warehouse rent (the default: a small office and about 500 m2 of storage)")
    software: float = spec(200.0, min=0, max=1e6, unit="yuan per day",
                           doc="ERP, data tools (生意参谋), design software, phones and utilities")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Shop:
    """The trainee's shop: money rules of the platform and the shop's fixed costs."""

    name: str = spec("My Apparel Shop", doc="Shop name shown in reports")
    platform_fee_rate: float = spec(0.05, min=0, max=0.3, unit="share of paid revenue",
                                    doc="Platform commission (技术服务费) taken on every paid order")
    shipping_cost_per_order: float = spec(6.0, min=0, max=100, unit="yuan per order",
                                          doc="Courier cost the shop pays per order (apparel ships free, 包邮)")
    holding_cost_rate: float = spec(0.0008, min=0, max=0.05, unit="share of unit cost per day",
                                    doc="Cost of keeping one unit in the warehouse for a day")
    dsr_window_days: int = spec(90, min=7, max=365, unit="days",
                                doc="Reviews averaged into the shop's detailed seller rating (DSR)")
    payment_fee_rate: float = spec(0.006, min=0, max=0.1, unit="share of paid revenue",
                                   doc="Payment processing fee (支付宝 fee) on every paid order")
    packaging_per_order: float = spec(2.0, min=0, max=100, unit="yuan per order",
                                      doc="Mailer bag, tissue, tag and card of one parcel")
    affiliate_service_fee_rate: float = spec(0.1, min=0, max=1, unit="share of the affiliate commission",
                                             doc="The affiliate platform's own service fee (淘宝客技术服务费) on "
                                                 "every commission paid")
    fixed_costs: FixedCosts = spec(FixedCosts(), doc="Staff, rent and software, per day")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ListingWork:
    """One kind of listing work (title, main image, detail page): what it costs and gives."""

    cost: float = spec(doc="What the work costs when ordered", unit="yuan", min=0, max=1e6)
    days: int = spec(doc="Days until the new version goes live", unit="days", min=1, max=60)
    gain: float = spec(doc="Share of the gap to a perfect listing (quality 1) the work closes",
                       min=0, max=1)


_DEFAULT_LISTING_WORK = {
    "title": {"cost": 300.0, "days": 2, "gain": 0.10},
    "main_image": {"cost": 1500.0, "days": 5, "gain": 0.25},
    "detail_page": {"cost": 1000.0, "days": 4, "gain": 0.15},
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sku:
    """One of the shop's own products (a listing with one SKU)."""

    sku: str = spec(doc="SKU code, unique across the shop and its rivals (letters, digits, - _ .)")
    name: str = spec(doc="Product title as an operator would call it")
    category: str = spec(doc="Category; shoppers who arrive without a keyword compare offers within it")
    cost: float = spec(doc="Landed unit cost (cost of goods)", unit="yuan per unit", min=0.01, max=1e5)
    price: float = spec(doc="List price at the start", unit="yuan per unit", min=0.01, max=1e5)
    reference_price: float | None = spec(None, min=0.01, max=1e5, unit="yuan per unit",
                                         doc="Price shoppers consider fair for this product (default: the starting price)")
    initial_stock: int = spec(doc="Units on hand on the first morning", unit="units", min=0, max=10**8)
    lead_time_days: int = spec(7, doc="Days from a reorder to its arrival", unit="days", min=1, max=90)
    quality: float = spec(0.7, doc="How good the product is; drives ratings after delivery", min=0, max=1)
    listing_quality: float = spec(0.6, min=0, max=1,
                                  doc="Title, main images and detail page (0 poor, 1 perfect); raises clicks, lowers bounce")
    monthly_sales: int = spec(0, min=0, max=10**8, unit="units",
                              doc="Sales shown on the listing at the start (月销, last 30 days)")
    review_count: int = spec(0, min=0, max=10**8, doc="Reviews the listing has at the start")
    rating: float = spec(4.7, min=1, max=5, unit="stars", doc="Average rating at the start")
    age_days: int = spec(365, min=0, max=10**5, unit="days",
                         doc="Days the listing has been live at the start (a new listing gets the feed's freshness boost)")
    season: str | None = spec(None, doc="Name of its demand curve in `seasons` (default: the curve named like its "
                                         "category, else flat all year)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Keyword:
    """A search keyword shoppers type, its volume and which listings it matches."""

    keyword: str = spec(doc="The search term")
    daily_searches: float = spec(doc="Searches per ordinary day that reach this niche's results",
                                 unit="searches per day", min=0, max=1e8)
    relevance: Mapping[str, float] = spec(min=0, max=1,
                                          doc="How well each listing (own or rival SKU) matches the keyword; unlisted SKUs do not show")
    season: str | None = spec(None, doc="Name of its search-volume curve in `seasons` (default: the curve of its "
                                        "most relevant own SKU)")
    advertisers: int | None = spec(None, min=0, max=500, unit="advertisers",
                                   doc="Other advertisers bidding on it besides the named rivals (default: "
                                       "paid_search.field_advertisers)")
    median_bid: float | None = spec(None, min=0.01, max=100, unit="yuan per click",
                                    doc="Median bid of those advertisers (default: paid_search.field_median_bid)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Traffic:
    """How shoppers arrive: time shapes, devices and shop-level visit rates."""

    hour_shape: tuple[float, ...] = spec(list(calendar.DEFAULT_HOUR_SHAPE), length=24, min=0, max=100,
                                         doc="Relative traffic for each hour 00-23 (Asia/Shanghai)")
    weekday_shape: tuple[float, ...] = spec(list(calendar.DEFAULT_WEEKDAY_SHAPE), length=7, min=0, max=100,
                                            doc="Relative traffic Monday to Sunday")
    mobile_share: float = spec(0.93, min=0, max=1, doc="Share of sessions on a phone (the rest on a PC)")
    follower_visit_rate: float = spec(0.018, min=0, max=1, unit="visits per follower per day",
                                      doc="How often a shop follower visits the shop directly")
    repeat_visit_rate: float = spec(0.025, min=0, max=1, unit="visits per buyer per day",
                                    doc="Daily chance a buyer comes back right after a purchase (我的淘宝), decaying with time")
    repeat_decay_days: float = spec(120.0, min=1, max=3650, unit="days",
                                    doc="Days for a buyer's return chance to fall by a factor e")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Shoppers:
    """How a shopper behaves on a product page: bounce, choice between offers, cart, checkout."""

    bounce_rate: float = spec(0.45, min=0.01, max=0.99,
                              doc="Chance a search visitor leaves after one page, on a listing of quality 0.5")
    listing_bounce_effect: float = spec(1.2, min=0, max=10, unit="log-odds per unit listing quality",
                                        doc="How much a better listing lowers the bounce chance")
    pc_bounce_shift: float = spec(-0.2, min=-5, max=5, unit="log-odds",
                                  doc="Change in bounce log-odds on a PC (bigger screen, more browsing)")
    sold_out_bounce_rate: float = spec(0.85, min=0, max=1, doc="Chance a visitor who finds the item sold out leaves at once")
    extra_pages: float = spec(2.5, min=0, max=50, unit="pages",
                              doc="Average further pages a visitor who does not bounce looks at")
    price_sensitivity: float = spec(3.0, min=0, max=20, unit="utility per log of price ratio",
                                    doc="How strongly a shopper reacts to a price above or below the product's reference price")
    rating_weight: float = spec(1.5, min=0, max=20, unit="utility per star",
                                doc="How much a shopper values a higher average rating")
    review_weight: float = spec(0.8, min=0, max=20, unit="utility",
                                doc="Value of a long review history, reached at the saturation count")
    review_saturation: int = spec(1000, min=1, max=10**7, unit="reviews",
                                  doc="Review count beyond which more reviews add nothing")
    sales_weight: float = spec(0.8, min=0, max=20, unit="utility",
                               doc="Value of a high displayed monthly sales count (social proof), reached at saturation")
    sales_saturation: int = spec(3000, min=1, max=10**8, unit="units per month",
                                 doc="Monthly sales beyond which the count adds nothing")
    listing_weight: float = spec(1.0, min=0, max=20, unit="utility per unit listing quality",
                                 doc="How much good images and a detail page persuade")
    negative_review_penalty: float = spec(0.35, min=0, max=10, unit="utility per review",
                                          doc="Lost appeal per unanswered negative review (1-2 stars) among the recent reviews on the page")
    replied_review_penalty: float = spec(0.08, min=0, max=10, unit="utility per review",
                                         doc="Lost appeal per negative review that the shop has answered")
    visible_reviews: int = spec(20, min=1, max=1000, unit="reviews", doc="Recent reviews a shopper reads on the page")
    landing_preference: float = spec(1.5, min=0, max=20, unit="utility",
                                     doc="Head start of the product the shopper is looking at over the rivals they compare")
    no_purchase_utility: float = spec(5.74, min=-20, max=30, unit="utility",
                                      doc="Appeal of buying nothing today (higher means fewer carts)")
    returning_bonus: float = spec(0.9, min=0, max=20, unit="utility",
                                  doc="Extra trust of a customer who has bought from the shop before")
    source_intent: Mapping[str, float] = spec(
        {"search": 0.0, "direct": 0.3, "returning": 0.4, "paid_search": 0.0, "display": -1.2,
         "affiliate": 0.2, "crm": 0.3, "venue": 0.1, "feed": -0.3},
        keys=SOURCES, min=-20, max=20, unit="utility", doc="Buying intent of each traffic source")
    source_bounce_shift: Mapping[str, float] = spec(
        {"search": 0.0, "direct": -0.3, "returning": -0.5, "paid_search": 0.1, "display": 0.7,
         "affiliate": 0.0, "crm": -0.2, "venue": 0.2, "feed": 0.3},
        keys=SOURCES, min=-10, max=10, unit="log-odds", doc="Change in bounce log-odds by traffic source")
    checkout_rate: float = spec(0.31, min=0.01, max=0.99,
                                doc="Chance a cart is paid for at the reference price (the rest are abandoned)")
    checkout_price_effect: float = spec(1.0, min=0, max=20, unit="log-odds per log of price ratio",
                                        doc="How much a price above the reference makes a carted shopper hesitate")
    extra_units: float = spec(0.15, min=0, max=10, unit="units", doc="Average extra units of the same SKU in an order")
    cross_sell_rate: float = spec(0.08, min=0, max=1,
                                  doc="Chance an order also takes another SKU of the same category")
    buy_now_share: float = spec(0.15, min=0, max=1,
                                doc="Share of shoppers who choose a product and press buy-now (立即购买) instead of "
                                    "adding it to the cart; they go straight to the order page")
    pay_share: float = spec(0.88, min=0.05, max=1,
                            doc="Share of submitted orders that are paid (the rest stay unpaid, 下单未付款)")
    second_order_rate: float = spec(0.1, min=0, max=1,
                                    doc="Chance a buyer comes back later the same day (through their orders page) to "
                                        "look for something else, so one buyer may pay two orders")
    favourite_per_cart: float = spec(0.6, min=0, max=10,
                                     doc="Chance a browsing visitor favourites the listing (收藏), as a multiple of "
                                         "their add-to-cart chance (capped at 0.9)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Feed:
    """The recommendation feed (手淘首页 / 猜你喜欢): exposures the platform shares out by its recommender.

    Each listing's share of the niche's daily feed exposures is a softmax of its recommender
    score: log click-through (its main image), recent conversion, interest (收藏加购: favourites
    and carts per visit), log sales velocity, a freshness boost for a new listing, and a
    penalty for a high refund rate. Clicks = exposures x the listing's click-through.
    """

    daily_exposures: float = spec(45_000.0, min=0, max=1e10, unit="exposures per day",
                                  doc="Feed exposures of this niche's listings (own and rival) on an ordinary day")
    click_rate: float = spec(0.05, min=0, max=1, unit="clicks per exposure",
                             doc="Click-through of a feed card with listing quality 0.5")
    ctr_weight: float = spec(1.0, min=0, max=20, doc="Recommender score per log of click-through")
    conversion_weight: float = spec(20.0, min=0, max=1000, doc="Recommender score per unit of conversion (last week)")
    interest_weight: float = spec(4.0, min=0, max=1000,
                                  doc="Recommender score per unit of 收藏加购 rate (favourites and carts per visit, last week)")
    sales_weight: float = spec(0.5, min=0, max=20, doc="Recommender score per log of units sold per day (last week)")
    freshness_boost: float = spec(1.5, min=0, max=20, doc="Extra score of a brand-new listing (the platform's trial traffic)")
    freshness_days: float = spec(14.0, min=1, max=365, unit="days", doc="Days for the freshness boost to fall by a factor e")
    refund_weight: float = spec(4.0, min=0, max=100, doc="Score lost per unit of refund rate (refunded / sold)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Search:
    """The platform's organic search: how listings are ranked and how position turns into clicks."""

    top_click_rate: float = spec(0.045, min=0, max=1, unit="clicks per search",
                                 doc="Share of searchers who click the first result (for a relevant listing of quality 0.5)")
    click_decay: float = spec(0.85, min=0, max=5, doc="Click share falls as position^-decay")
    listing_click_effect: float = spec(1.0, min=0, max=10, unit="log clicks per unit listing quality",
                                       doc="How much a better main image and title raise clicks at a position")
    sold_out_click_share: float = spec(0.2, min=0, max=1,
                                       doc="Clicks a sold-out listing keeps (the platform hides it from most shoppers)")
    relevance_weight: float = spec(3.0, min=0, max=100, doc="Rank score per unit relevance")
    velocity_weight: float = spec(1.0, min=0, max=100, doc="Rank score per log of units sold per day (last week)")
    conversion_weight: float = spec(15.0, min=0, max=1000, doc="Rank score per unit of conversion rate (last week)")
    rating_weight: float = spec(1.0, min=0, max=100, doc="Rank score per star of rating")
    listing_weight: float = spec(1.5, min=0, max=100, doc="Rank score per unit listing quality")
    sold_out_penalty: float = spec(6.0, min=0, max=1000, doc="Rank score lost while a listing is sold out")
    velocity_days: int = spec(7, min=1, max=60, unit="days", doc="Days of sales the ranking looks back at")
    refund_rate_weight: float = spec(2.0, min=0, max=1000,
                                     doc="Rank score lost per unit of the listing's recent refund rate (refunded "
                                         "amount / sales, last 30 days)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reviews:
    """Ratings and reviews: who writes them, when, and what drives the stars."""

    review_share: float = spec(0.3, min=0, max=1, doc="Share of delivered order lines that get a review")
    delivery_days: float = spec(2.5, min=0, max=30, unit="days", doc="Average days from payment to delivery")
    review_delay_days: float = spec(3.0, min=0, max=60, unit="days", doc="Average days from delivery to the review")
    base_rating: float = spec(3.3, min=1, max=5, unit="stars", doc="Expected stars of a product of quality 0")
    quality_effect: float = spec(2.0, min=0, max=4, unit="stars per unit quality",
                                 doc="Extra expected stars from a perfect product")
    value_effect: float = spec(1.5, min=0, max=10, unit="stars per log of price ratio",
                               doc="Stars gained when the paid price is below the product's reference price (lost above)")
    late_share: float = spec(0.04, min=0, max=1, doc="Share of orders delivered later than promised")
    late_delivery_effect: float = spec(1.8, min=0, max=4, unit="stars", doc="Stars lost when delivery is late")
    rating_noise: float = spec(0.7, min=0, max=5, unit="stars", doc="Spread of one buyer's rating around the expectation")
    returned_effect: float = spec(0.8, min=0, max=4, unit="stars",
                                  doc="Stars lost when the buyer sent the item back for a product reason (fit, "
                                      "quality, not as pictured); the review's tags name the reason")
    dsr_noise: float = spec(0.45, min=0, max=5, unit="stars",
                            doc="Spread of one buyer's detailed seller ratings (DSR) around their expectation")
    description_gap_effect: float = spec(2.0, min=0, max=10, unit="stars per unit of listing_quality above quality",
                                         doc="Description stars (描述相符) lost when the listing looks better than "
                                             "the product")
    logistics_rating: float = spec(4.85, min=1, max=5, unit="stars",
                                   doc="Expected logistics stars (物流服务) of a parcel delivered on time")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Customers:
    """The shop's customer base at the start and how shoppers join it."""

    market_size: int = spec(3_000_000, min=1000, max=10**10, unit="shoppers",
                            doc="Shoppers in this niche on the platform; sets how often a searcher is already known")
    past_buyers: int = spec(6000, min=0, max=10**7, unit="customers", doc="Customers who bought in the past year")
    followers: int = spec(9000, min=0, max=10**7, unit="customers", doc="Shop followers at the start (粉丝)")
    follow_after_purchase: float = spec(0.25, min=0, max=1, doc="Chance a buyer follows the shop")
    follow_after_visit: float = spec(0.01, min=0, max=1, doc="Chance a non-bouncing visitor follows the shop")
    repurchase_by_category: Mapping[str, float] = spec(
        {}, min=0, max=20, doc="Repurchase hazard multiplier by the category of a buyer's last order (basics are "
                               "bought again sooner); categories not named use 1")
    satisfaction_effect: float = spec(0.6, min=0, max=10, unit="log hazard per star",
                                      doc="How much a buyer's experience of the last order (the stars it deserved: "
                                          "quality, price paid, late delivery) raises or lowers the repurchase hazard, "
                                          "around 4.5 stars")
    refund_return_factor: float = spec(0.4, min=0, max=1,
                                       doc="Repurchase hazard of a buyer whose last order was refunded, relative to one "
                                           "whose order was kept")
    feed_share_of_returns: float = spec(0.35, min=0, max=1,
                                        doc="Share of past buyers' return visits that come through the recommendation "
                                            "feed (the rest through their orders page)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Campaign:
    """Bought traffic already running when the scenario starts (an inherited campaign), as the levers would set it."""

    keyword_bids: Mapping[str, float] = spec({}, min=0, max=99, unit="yuan per click",
                                             doc="Paid-search bid per keyword (each ad shows the shop's most relevant SKU)")
    daily_budget: float = spec(0.0, min=0, max=1e6, unit="yuan per day", doc="Paid-search daily budget")
    affiliate_commission: Mapping[str, float] = spec({}, min=0.05, max=0.3, unit="share of the paid price",
                                                     doc="Affiliate commission per own SKU")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpringFestival:
    """Chinese New Year (春节): demand dips, couriers stop, orders placed then ship after the holiday.

    The dates (2026-2028) are in :data:`shopsim.calendar.SPRING_FESTIVAL`.
    """

    traffic: float = spec(0.65, min=0, max=2, doc="Traffic multiplier in the holiday week (New Year's Eve and 6 days after)")
    days_before: int = spec(3, min=0, max=30, unit="days", doc="Days before New Year's Eve that traffic already falls (half as much)")
    logistics_stop_before: int = spec(3, min=0, max=30, unit="days",
                                      doc="Couriers stop this many days before New Year's Day")
    logistics_stop_after: int = spec(6, min=0, max=30, unit="days", doc="... and start again this many days after it")
    checkout_factor: float = spec(0.75, min=0, max=1,
                                  doc="Cart chance while couriers stop (shoppers see 'ships after the holiday'), relative to normal")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaidSearch:
    """The keyword auction (直通车): the field of advertisers, ad slots, their click curve and prices.

    Ad rank = bid x quality score (1-10). Each click costs the next ad rank below divided by the
    own quality score, plus 0.01 yuan, never more than the bid. Besides the named rivals every
    keyword has a field of other advertisers: ``field_advertisers`` of them (a keyword may set
    its own ``advertisers``), bids log-normal around ``field_median_bid`` (or the keyword's
    ``median_bid``) with sigma ``field_bid_spread``, moving by ``field_daily_jitter`` a day,
    quality scores uniform over ``field_quality``; drawn from the ``ad_market`` stream.
    """

    ad_slots: int = spec(8, min=1, max=30, doc="Ad slots on the results pages (top slot first)")
    top_click_rate: float = spec(0.035, min=0, max=1, unit="clicks per search",
                                 doc="Share of searchers who click the top ad (relevant listing of quality 0.5)")
    click_decay: float = spec(0.9, min=0, max=5, doc="Ad click share falls as slot^-decay")
    reserve_price: float = spec(0.3, min=0.01, max=100, unit="yuan per click",
                                doc="Lowest price a click can cost (paid by the last ad in the auction)")
    pacing: bool = spec(True, doc="Spread a small budget over the day (匀速投放): the platform lowers the shop's bids "
                                  "until the expected day's spend fits the budget")
    field_advertisers: int = spec(8, min=0, max=500, unit="advertisers",
                                  doc="Other advertisers per keyword besides the named rivals (a keyword may override it)")
    field_median_bid: float = spec(1.2, min=0.01, max=100, unit="yuan per click",
                                   doc="Median bid of those advertisers (a keyword may override it)")
    field_bid_spread: float = spec(0.45, min=0, max=5,
                                   doc="Spread of their bids: log-normal sigma around the median")
    field_quality: tuple[float, ...] = spec([4.0, 9.0], length=2, min=1, max=10,
                                            doc="Range of their quality scores (uniform between the two values)")
    field_daily_jitter: float = spec(0.1, min=0, max=2,
                                     doc="Day-to-day change of each advertiser's bid (log-normal sigma)")
    quality_memory_days: float = spec(14.0, min=1, max=365, unit="days",
                                      doc="Days of the ad's own click history the quality score weighs (older days fade by e)")
    audience_search_affinity: float = spec(5.0, min=0, max=1000,
                                           doc="How much more often a member of the shop's audiences (past visitors, "
                                               "past buyers, followers) searches the niche's keywords than an average "
                                               "shopper of the market; sets the searchers an audience premium reaches")
    quality_prior_clicks: float = spec(200.0, min=1, max=1e6, unit="clicks",
                                       doc="Clicks' worth of the platform's starting estimate of an ad's click-through")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DisplayAudience:
    """One audience display ads (钻展) can buy."""

    reach: int = spec(doc="new_shoppers: shoppers who see display placements each day; past_visitors and past_buyers: "
                          "the most of the shop's own such customers the platform can find (their real number is "
                          "counted from the customer base)", unit="shoppers", min=0, max=10**9)
    clearing_cpm: float = spec(doc="What other advertisers pay per thousand impressions", unit="yuan per 1000 impressions",
                               min=0.01, max=10000)
    click_rate: float = spec(doc="Share of impressions that are clicked", min=0, max=1)
    intent: float = spec(0.0, min=-20, max=20, unit="utility",
                         doc="Buying intent of its clicks, added to the display source's (someone who has seen the "
                             "shop before knows what they clicked)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Display:
    """Display ads (钻展): impressions bought per audience at a CPM bid against a clearing price."""

    impressions_per_shopper: float = spec(2.0, min=0, max=100, unit="impressions per shopper per day",
                                          doc="Display placements an audience member sees a day")
    visitor_days: int = spec(30, min=1, max=365, unit="days",
                             doc="past_visitors: customers who visited the shop within this many days and never bought")
    win_spread: float = spec(0.25, min=0.01, max=10,
                             doc="How sharply the share of impressions won rises as the bid passes the clearing price (relative)")
    audiences: Mapping[str, DisplayAudience] = spec(
        {"new_shoppers": DisplayAudience(reach=400_000, clearing_cpm=12.0, click_rate=0.003),
         "past_visitors": DisplayAudience(reach=400_000, clearing_cpm=20.0, click_rate=0.006, intent=1.2),
         "past_buyers": DisplayAudience(reach=400_000, clearing_cpm=25.0, click_rate=0.008, intent=1.0)},
        keys=("new_shoppers", "past_visitors", "past_buyers"), doc="The audiences and their market prices")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Affiliates:
    """Affiliates (淘宝客): promoters who send traffic for a commission on sales."""

    base_daily_visits: float = spec(120.0, min=0, max=1e7, unit="visits per day",
                                    doc="Affiliate visits a day to an average listing at the reference commission")
    reference_commission: float = spec(0.15, min=0.01, max=1, doc="Commission rate affiliates see as normal")
    commission_elasticity: float = spec(1.5, min=0, max=10,
                                        doc="How strongly affiliate traffic grows with the commission (visits ∝ rate^elasticity)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PromotionSettings:
    """How shoppers respond to promotions, and what the platform charges for them."""

    promotion_salience: float = spec(0.1, min=0, max=10, unit="utility",
                                     doc="Extra appeal of a listing showing a promotion badge")
    top_up_rate: float = spec(0.35, min=0, max=1,
                              doc="Chance a shopper just below a spend threshold adds units to reach it (less the further away)")
    buyer_shipping_fee: float = spec(8.0, min=0, max=100, unit="yuan per order",
                                     doc="Shipping a buyer pays on an order below the free-shipping threshold")
    reference_memory_days: float = spec(30.0, min=1, max=3650, unit="days",
                                        doc="How fast shoppers' reference price follows the prices they see")
    pull_forward_share: float = spec(0.3, min=0, max=1,
                                     doc="Share of a discount's extra sales taken from the days after it")
    pull_forward_days: int = spec(14, min=1, max=365, unit="days", doc="Days over which that demand is missing")
    flash_sale_fee: float = spec(300.0, min=0, max=1e6, unit="yuan", doc="Platform fee for a flash-sale slot (秒杀)")
    flash_sale_venue_visits: float = spec(250.0, min=0, max=1e7, unit="visits per hour",
                                          doc="Venue traffic a flash sale brings while it runs")
    free_shipping_expectation: float = spec(0.7, min=0, max=10, unit="utility",
                                            doc="Appeal a listing loses when a one-item order would pay shipping: "
                                                "apparel shoppers expect free shipping (包邮) and rivals give it")
    fatigue_days: float = spec(10.0, min=0.5, max=3650, unit="days",
                               doc="Days for a standing promotion's pull (badge and expected saving) to fall by a "
                                   "factor e: shoppers get used to it")
    top_up_other_sku: float = spec(0.6, min=0, max=1,
                                   doc="Chance a shopper topping up to a threshold adds another SKU rather than one "
                                       "more unit of the same")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Returns:
    """Refunds and returns (退款/退货) under the 7-day no-reason rule (七天无理由), by cause.

    Each paid order line is refunded with the chance that at least one cause fires; the cause
    that fired names the reason (see :mod:`shopsim.refunds`).
    """

    fit_rate: float = spec(0.06, min=0, max=1, doc="Chance a line comes back because it does not fit, for a "
                                                  "category not in fit_rate_by_category")
    fit_rate_by_category: Mapping[str, float] = spec(
        {"tees": 0.05, "shirts": 0.07, "trousers": 0.11}, min=0, max=1,
        doc="Chance a line comes back because of size or fit, per category (trousers are the hardest to size)")
    quality_rate: float = spec(0.08, min=0, max=1, unit="per unit of missing quality",
                               doc="Chance of a 'poor quality' return, times (1 - the product's quality)")
    description_rate: float = spec(0.01, min=0, max=1,
                                   doc="Chance of a 'not as pictured' return when the listing is honest")
    listing_gap_effect: float = spec(0.5, min=0, max=10, unit="chance per unit of listing_quality above quality",
                                     doc="Extra 'not as pictured' chance when the listing looks better than the product")
    impulse_rate: float = spec(0.03, min=0, max=1, doc="Chance a buyer changes their mind on an ordinary order")
    discount_effect: float = spec(0.3, min=0, max=10, unit="chance per unit of discount",
                                  doc="Extra change-of-mind chance per share off the list price (deep discounts buy "
                                      "on impulse)")
    festival_effect: float = spec(0.13, min=0, max=1,
                                  doc="Extra change-of-mind chance of an order paid on a festival's main day (the "
                                      "post-festival return wave)")
    late_rate: float = spec(0.25, min=0, max=1, doc="Chance a late delivery is refunded")
    cancel_before_shipping: float = spec(0.4, min=0, max=1,
                                         doc="Share of change-of-mind and late refunds asked before the parcel "
                                             "ships: refund only (仅退款), nothing comes back")
    ship_hours: float = spec(20.0, min=1, max=240, unit="hours", doc="Average hours from payment to shipping")
    request_days: float = spec(2.0, min=0.1, max=7, unit="days",
                               doc="Average days from delivery to a return request (never after 7 days)")
    return_transit_days: float = spec(3.0, min=0.1, max=30, unit="days",
                                      doc="Average days from a return request until the parcel is back and refunded")
    restock_share: float = spec(0.88, min=0, max=1,
                                doc="Share of returned units fit to sell again (the rest are written off at cost)")
    return_shipping_cost: float = spec(12.0, min=0, max=200, unit="yuan per return",
                                       doc="Courier cost of a return; without return insurance the shop pays it when "
                                           "the reason is its fault (quality, not as pictured, late)")
    insurance_premium: float = spec(0.9, min=0, max=100, unit="yuan per order",
                                    doc="Return-shipping insurance (运费险) premium per paid order while the shop "
                                        "offers it; the insurer then pays every return's shipping")
    insurance_checkout_effect: float = spec(0.15, min=0, max=5, unit="log-odds",
                                            doc="How much insured orders raise the chance a cart is paid")
    window_days: int = spec(30, min=1, max=60, unit="days",
                            doc="Days of sales behind a listing's recent refund rate (search and ratings use it)")


#: What a pre-purchase inquiry (询单) is about: size and fit, delivery time, stock, a promotion's rules.
SERVICE_TOPICS = ("size", "delivery", "stock", "promotion")
#: Which reviewed refund requests the shop's agents refuse (``set_refund_policy``): none, those whose
#: reason is the buyer's (size, changed mind: the 7-day no-reason rule still covers them), or all.
REFUSE_CHOICES = ("none", "buyer_reason", "all")
#: The rota a new operator inherits: three agents on the day shift (09:00-17:59), one until 22:59,
#: nobody at night (agents per hour 00-23).
PREDECESSOR_ROTA = (0,) * 9 + (3,) * 9 + (1,) * 5 + (0,)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Service:
    """Customer service (客服): pre-purchase inquiries (询单), the agents' rota and after-sales (售后).

    A shopper who browses a listing may ask a question first; the chance grows with the topic
    (size and fit by category, delivery, stock when few units are left, a promotion's rules
    while one runs) and falls with a better detail page. Inquiries queue for the agents on duty;
    an answer before the shopper gives up may win the order, a late one may lose it. Refund
    requests are approved automatically under an amount or reviewed by the same agents in their
    spare time; refused or slow ones can become disputes (纠纷) the platform rules on.
    See :mod:`shopsim.service` and :mod:`shopsim.aftersales`.
    """

    rota: tuple[int, ...] = spec(list(PREDECESSOR_ROTA), length=24, min=0, max=500, unit="agents",
                                 doc="Agents on duty each hour 00-23 at the start (set_service changes it); the "
                                     "default is the predecessor's day shift, thin in the evening peak")
    agent_cost_per_hour: float = spec(25.0, min=0, max=1e4, unit="yuan per agent-hour",
                                      doc="Wage of one customer-service agent for one hour on duty (booked as "
                                          "customer_service)")
    chats_per_agent: int = spec(3, min=1, max=20, unit="chats", doc="Chats one agent keeps open at once")
    size_ask_rate: float = spec(0.36, min=0, max=1,
                                doc="Chance a shopper who chose a product asks about size and fit first, for a "
                                    "category not in size_ask_by_category")
    size_ask_by_category: Mapping[str, float] = spec(
        {"tees": 0.3, "shirts": 0.36, "trousers": 0.48}, min=0, max=1,
        doc="Chance a shopper who chose a product asks about size and fit, per category (trousers the most)")
    delivery_ask_rate: float = spec(0.06, min=0, max=1, doc="Chance a shopper who chose a product asks when it "
                                                             "will arrive")
    stock_ask_rate: float = spec(0.03, min=0, max=1, doc="Chance a shopper who chose a product asks whether it is "
                                                          "in stock (in their size)")
    low_stock_units: int = spec(30, min=0, max=10**6, unit="units",
                                doc="With fewer units than this on hand, shoppers ask about stock low_stock_factor "
                                    "times as often")
    low_stock_factor: float = spec(3.0, min=1, max=20, doc="How much more often shoppers ask about a listing that "
                                                            "is running out")
    promotion_ask_rate: float = spec(0.08, min=0, max=1,
                                     doc="Chance a shopper who chose a product asks how a running promotion works "
                                         "(only while the listing or the shop shows one)")
    detail_page_effect: float = spec(1.5, min=0, max=10, unit="log per unit listing quality",
                                     doc="How much a better detail page answers questions before they are asked "
                                         "(ask chances x exp(-effect x (listing_quality - 0.5)))")
    browse_ask_share: float = spec(0.05, min=0, max=1,
                                   doc="A browsing shopper who has not chosen the product asks at this share of "
                                       "a chooser's chance")
    handle_minutes: Mapping[str, float] = spec(
        {"size": 7.0, "delivery": 3.0, "stock": 2.0, "promotion": 8.0}, keys=SERVICE_TOPICS, min=0.1, max=120,
        unit="minutes of one chat slot", doc="Agent time an inquiry takes, by topic")
    script_saving: float = spec(0.6, min=0, max=0.95,
                                doc="Share of a topic's handling time a prepared answer (快捷短语, "
                                    "set_service_script) saves")
    reply_seconds: float = spec(15.0, min=0, max=3600, unit="seconds",
                                doc="Seconds a free agent takes to send the first reply")
    patience_seconds: float = spec(90.0, min=1, max=86_400, unit="seconds",
                                   doc="Average seconds a shopper waits for the first reply before giving up")
    answer_lift: float = spec(0.35, min=0, max=1,
                              doc="Chance a timely answer turns a chooser who would not have paid into a buyer")
    browse_lift: float = spec(0.12, min=0, max=1,
                              doc="Chance a timely answer turns a browsing asker into a buyer")
    late_loss: float = spec(0.5, min=0, max=1,
                            doc="Chance a shopper who would have paid leaves when the answer comes too late")
    complaint_rate: float = spec(0.05, min=0, max=1,
                                 doc="Chance a shopper whose question was not answered in time complains "
                                     "(counts as a one-star service rating)")
    review_minutes: float = spec(8.0, min=0.1, max=600, unit="minutes",
                                 doc="Agent time to review one refund request (agents review in time left over "
                                     "from chats)")
    auto_approve_under: float = spec(50.0, min=0, max=1e5, unit="yuan",
                                     doc="Refund requests below this amount are approved at once without review "
                                         "(set_refund_policy changes it)")
    refuse: str = spec("none", choices=REFUSE_CHOICES,
                       doc="Which reviewed refund requests the agents refuse: none, buyer_reason (size, changed "
                           "mind) or all (set_refund_policy changes it)")
    auto_approve_hours: float = spec(48.0, min=1, max=720, unit="hours",
                                     doc="The platform approves a request the shop has not answered in this long")
    slow_refund_hours: float = spec(24.0, min=1, max=720, unit="hours",
                                    doc="An approval later than this after the request is slow")
    slow_dispute_rate: float = spec(0.08, min=0, max=1,
                                    doc="Chance a buyer whose refund is slow asks the platform to step in (a dispute)")
    escalate_rate: float = spec(0.6, min=0, max=1, doc="Chance a buyer whose refund is refused opens a dispute")
    ruling_days: float = spec(3.0, min=0.1, max=60, unit="days", doc="Average days the platform takes to rule")
    fault_win_rate: float = spec(0.95, min=0, max=1,
                                 doc="Chance the buyer wins a dispute over a refund the shop caused (quality, not "
                                     "as pictured, late)")
    no_reason_win_rate: float = spec(0.8, min=0, max=1,
                                     doc="Chance the buyer wins a dispute over a no-reason return (size, changed "
                                         "mind: the 7-day rule)")
    dispute_window_days: int = spec(30, min=1, max=365, unit="days",
                                    doc="Days of disputes behind the shop's dispute rate and its search penalty")
    dispute_rate_limit: float = spec(0.002, min=0, max=1, unit="disputes per order",
                                     doc="Above this dispute rate (disputes / orders, last dispute_window_days) "
                                         "the platform marks the shop")
    lost_dispute_penalty: float = spec(0.2, min=0, max=100, unit="rank score",
                                       doc="Search rank score the shop's listings lose per dispute lost in the "
                                           "window")
    mark_penalty: float = spec(1.5, min=0, max=100, unit="rank score",
                               doc="Search rank score the shop's listings lose while the shop is marked")
    service_rating: float = spec(4.9, min=1, max=5, unit="stars",
                                 doc="Expected service stars (服务态度) of an order whose service went well")
    late_answer_effect: float = spec(1.2, min=0, max=4, unit="stars",
                                     doc="Service stars lost when the buyer's question was answered too late")
    slow_refund_effect: float = spec(1.0, min=0, max=4, unit="stars",
                                     doc="Service stars lost when a refund was approved slowly")
    refused_effect: float = spec(2.5, min=0, max=4, unit="stars",
                                 doc="Service stars lost when a refund was refused")
    dispute_effect: float = spec(3.0, min=0, max=4, unit="stars",
                                 doc="Service stars lost when the buyer had to open a dispute")


#: Double 11's main day: traffic piles up in the first hour after midnight, then builds to the evening.
FESTIVAL_HOUR_SHAPE = (6.0, 3.0, 1.2, 0.5, 0.3, 0.3, 0.4, 0.6, 0.8, 0.9, 1.0, 1.0,
                       1.1, 1.0, 0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.6, 1.9, 2.0, 1.8)  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class Festival:
    """A platform sales festival (大促) such as Double 11 or 618: pre-sale, main day, slump."""

    name: str = spec(doc="Festival name, e.g. double11 or 618 (used by enrol_festival)")
    main_day: dt.date | None = spec(None, doc="The main day (e.g. 2026-11-11); a platform festival named double11, "
                                              "618, 38 or 99 may leave it out: the next one from the start is used")
    presale_days: int = spec(12, min=0, max=60, unit="days", doc="Pre-sale (预售) days before the main day")
    presale_traffic: float = spec(1.4, min=0, max=50, doc="Traffic multiplier during the pre-sale (shoppers browse and cart)")
    presale_purchase_factor: float = spec(0.55, min=0, max=1,
                                          doc="Cart chance during the pre-sale relative to normal (shoppers wait for the day)")
    deposit_share: float = spec(0.35, min=0, max=1,
                                doc="Share of pre-sale shoppers who cart without buying that put down a deposit (定金) and come back on the day")
    main_day_traffic: float = spec(7.0, min=0, max=100, doc="Traffic multiplier of the main day")
    main_day_hour_shape: tuple[float, ...] = spec(list(FESTIVAL_HOUR_SHAPE), length=24, min=0, max=100,
                                                  doc="Relative traffic by hour on the main day")
    main_day_intent: float = spec(0.8, min=-10, max=10, unit="utility", doc="Extra buying intent on the main day")
    slump_days: int = spec(7, min=0, max=60, unit="days", doc="Days of post-festival slump")
    slump_traffic: float = spec(0.7, min=0, max=1, doc="Traffic multiplier on the first slump day (recovering linearly)")
    min_discount: float = spec(0.15, min=0, max=0.9, doc="Smallest store-wide discount the platform accepts for enrolment")
    enrolment_fee: float = spec(2000.0, min=0, max=1e7, unit="yuan", doc="Platform fee to join the festival venue")
    venue_visits: float = spec(100.0, min=0, max=1e8, unit="visits per hour",
                               doc="Festival venue (会场) traffic an enrolled shop gets per hour on the main day (at weight 1)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Crm:
    """CRM messages (短信/旺旺 to customers): who responds and what a message costs."""

    cost_per_message: float = spec(0.05, min=0, max=100, unit="yuan per message", doc="What one message costs")
    response_rate: Mapping[str, float] = spec(
        {"past_buyers": 0.03, "lapsed_buyers": 0.012, "followers": 0.015},
        keys=("past_buyers", "lapsed_buyers", "followers"), min=0, max=1,
        doc="Share of a segment that visits the shop after a message")
    coupon_boost: float = spec(0.6, min=0, max=20, doc="Relative extra response when the message carries a coupon")
    response_hours: int = spec(48, min=1, max=720, unit="hours", doc="Hours over which responders visit")
    past_buyer_days: int = spec(90, min=1, max=3650, unit="days",
                                doc="A buyer is 'past' within this many days of the last order, 'lapsed' after, up to a year")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RivalOffer:
    """One rival listing an operator can see: price, rating, sales, stock."""

    sku: str = spec(doc="Rival SKU code, unique across the market")
    name: str = spec(doc="Rival product title")
    category: str = spec(doc="Category it competes in")
    price: float = spec(doc="List price", unit="yuan per unit", min=0.01, max=1e5)
    reference_price: float | None = spec(None, min=0.01, max=1e5, unit="yuan per unit",
                                         doc="Price shoppers consider fair for this product (default: the starting price)")
    stock: int = spec(100_000, min=0, max=10**9, unit="units", doc="Units on hand at the start")
    listing_quality: float = spec(0.6, min=0, max=1, doc="Quality of the rival's title and images")
    quality: float = spec(0.7, min=0, max=1, doc="How good the product is; drives its ratings")
    monthly_sales: int = spec(0, min=0, max=10**8, unit="units", doc="Displayed monthly sales at the start")
    review_count: int = spec(0, min=0, max=10**8, doc="Reviews at the start")
    rating: float = spec(4.7, min=1, max=5, unit="stars", doc="Average rating at the start")
    watches: str | None = spec(None, doc="Own SKU a price_matcher or undercutter answers with this offer "
                                         "(default: the own SKU it shares the most searches with, else its category's best seller)")
    hidden: bool = spec(False, doc="Not listed at the start: a rival_new_listing event lists it; until then it has "
                                   "no search position, no sales and no market rows")
    age_days: int = spec(365, min=0, max=10**5, unit="days", doc="Days the listing has been live at the start")
    season: str | None = spec(None, doc="Name of its demand curve in `seasons` (default: its category's, else flat)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rival:
    """A rival shop, the offers it lists and how it reacts (see :mod:`shopsim.competitors`)."""

    shop: str = spec(doc="Rival shop name")
    strategy: str = spec("passive", choices=RIVAL_STRATEGIES,
                         doc="How the rival reacts, once a day at midnight: passive never does; price_matcher meets "
                             "our price on the SKU each offer watches; undercutter prices `undercut` below it; "
                             "festival_discounter takes `festival_discount` off during festivals; ad_aggressor bids "
                             "up when our ad shows above its own. Prices never go above the rival's regular price "
                             "(its starting or last scripted price) nor below its floor")
    ad_bids: Mapping[str, float] = spec({}, min=0, max=100, unit="yuan per click",
                                        doc="The rival's paid-search bid per keyword (it advertises its most relevant offer)")
    reaction_days: int = spec(1, min=0, max=60, unit="days",
                              doc="price_matcher, undercutter: days from seeing our price to answering it "
                                  "(0 answers a price set before midnight that same midnight)")
    undercut: float = spec(0.05, min=0, max=0.9, doc="undercutter: share below our price it sets its own (rounded down to 0.1 yuan)")
    floor_share: float = spec(0.8, min=0.1, max=1,
                              doc="price_matcher, undercutter: lowest price it goes to, as a share of its regular price")
    festival_discount: float = spec(0.15, min=0, max=0.9,
                                    doc="festival_discounter: share off its regular price on festival days (a promotion)")
    festival_days: tuple[int, ...] = spec([], min=0, max=3660, unit="days",
                                          doc="festival_discounter: its own sale days (0 = the first day), besides the "
                                              "pre-sale and main day of the platform's festivals")
    bid_raise: float = spec(0.2, min=0, max=5,
                            doc="ad_aggressor: share it adds to a keyword bid each midnight after our ad showed above its own")
    bid_cap: float = spec(2.0, min=1, max=20, doc="ad_aggressor: highest bid, as a multiple of its starting bid")
    offers: tuple[RivalOffer, ...] = spec(min_items=1, doc="The rival's listings")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimelineEvent:
    """A scripted thing that happens on a given day (a rival move, a supply problem, a shock)."""

    day: int = spec(doc="Day it happens, 0 = the first day", unit="days", min=0, max=3660)
    hour: int = spec(9, min=0, max=23, doc="Hour of the day it happens (Asia/Shanghai)")
    kind: str = spec(choices=EVENT_KINDS, doc="What happens (see the event table below)")
    target: str | None = spec(None, doc="SKU it applies to (own or rival, by kind)")
    value: float | None = spec(None, min=0, max=1e8, doc="Size of the event (a price, a factor, a count, by kind)")
    days: int | None = spec(None, min=1, max=3660, unit="days", doc="How long it lasts (by kind)")
    hours: int | None = spec(None, min=1, max=240, unit="hours", doc="How long it lasts, for kinds timed in hours")
    note: str | None = spec(None, doc="Free text for the instructor; never shown to trainees")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scenario:
    """A shop, its market and a calendar of events: everything one simulation starts from."""

    name: str = spec(doc="Short name (bundled presets are looked up by it)")
    description: str = spec("", doc="One sentence on what the scenario teaches")
    lesson: str = spec("", doc="The lesson(s) it serves")
    start: dt.date = spec(dt.date(2026, 3, 2), doc="First simulated day")
    days: int = spec(30, min=1, max=3660, unit="days", doc="Length of a run when none is given")
    shop: Shop = spec(Shop(), doc="The shop's money rules")
    listing_work: Mapping[str, ListingWork] = spec(
        {k: ListingWork(**v) for k, v in _DEFAULT_LISTING_WORK.items()}, keys=LISTING_WORK,
        doc="Listing work an operator can order: title, main_image, detail_page")
    skus: tuple[Sku, ...] = spec(min_items=1, doc="The shop's products")
    keywords: tuple[Keyword, ...] = spec(min_items=1, doc="Search keywords of the niche")
    traffic: Traffic = spec(Traffic(), doc="Arrival shapes and rates")
    shoppers: Shoppers = spec(Shoppers(), doc="Shopper behaviour")
    search: Search = spec(Search(), doc="Organic ranking and click curve")
    reviews: Reviews = spec(Reviews(), doc="Ratings and reviews")
    paid_search: PaidSearch = spec(PaidSearch(), doc="The keyword ad auction")
    display: Display = spec(Display(), doc="Display ad audiences")
    affiliates: Affiliates = spec(Affiliates(), doc="The affiliate market")
    promotions: PromotionSettings = spec(PromotionSettings(), doc="Shoppers' response to promotions")
    returns: Returns = spec(Returns(), doc="Refunds and returns by cause")
    service: Service = spec(Service(), doc="Customer service: inquiries, agents, after-sales and disputes")
    festivals: tuple[Festival, ...] = spec([], doc="Platform sales festivals in (or near) the run")
    crm: Crm = spec(Crm(), doc="CRM messages to customer segments")
    customers: Customers = spec(Customers(), doc="The customer base")
    rivals: tuple[Rival, ...] = spec([], doc="Rival shops")
    timeline: tuple[TimelineEvent, ...] = spec([], doc="Scripted events")
    campaign: Campaign = spec(Campaign(), doc="Bought traffic running from the first day (an inherited campaign)")
    seasons: Mapping[str, tuple[float, ...]] = spec(
        {}, min=0, max=20, length=12, doc="Named demand curves: 12 monthly multipliers (January first; days between month "
                               "middles are interpolated). SKUs, rival offers and keywords name theirs with `season`")
    feed: Feed = spec(Feed(), doc="The recommendation feed")
    spring_festival: SpringFestival = spec(SpringFestival(), doc="Chinese New Year")

    def sku(self, code: str) -> Sku:
        """The own SKU with this code (KeyError if there is none)."""
        for item in self.skus:
            if item.sku == code:
                return item
        raise KeyError(code)

    @property
    def rival_offers(self) -> tuple[tuple[str, RivalOffer], ...]:
        """Every rival offer as ``(shop, offer)`` pairs, in scenario order."""
        return tuple((r.shop, o) for r in self.rivals for o in r.offers)


#: Fields required of each timeline event kind, with what they mean for that kind.
EVENT_FIELDS: dict[str, dict[str, str]] = {
    "rival_price": {"target": "rival SKU", "value": "new list price (yuan)"},
    "rival_stockout": {"target": "rival SKU", "days": "days until the rival restocks"},
    "rival_restock": {"target": "rival SKU", "value": "units that arrive"},
    "supply_delay": {"target": "own SKU", "days": "extra days every open and new reorder takes"},
    "review_burst": {"target": "own SKU", "value": "negative reviews that appear (1-2 stars), spread evenly at "
                     "random over `days` (default 2) or `hours`"},
    "traffic_shock": {"value": "traffic multiplier (0.5 halves, 2 doubles)", "days": "days it lasts"},
    "stock_loss": {"target": "own SKU", "value": "units lost (damaged in the warehouse)"},
    "rival_flash_sale": {"target": "rival SKU", "value": "flash-sale price (yuan), shown with a promotion flag",
                         "hours": "hours until its price returns"},
    "rival_new_listing": {"target": "rival SKU of an offer hidden at the start (`hidden: true`)"},
    "rival_affiliate_push": {"target": "rival SKU", "value": "multiplier of its listing visits and sales (2 doubles)",
                             "days": "days it lasts"},
    "rival_ad_surge": {"target": "rival shop", "value": "multiplier of all the shop's keyword bids (2 doubles)",
                       "days": "days it lasts"},
}


def _items(data: Any, key: str) -> list[Mapping[str, Any]]:
    """The mappings of a list in raw data (anything else counts as an empty item)."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return [i if isinstance(i, Mapping) else {} for i in value] if isinstance(value, (list, tuple)) else []


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def _reference_problems(data: Any) -> list[str]:
    """Names that must match: SKU codes, keywords, shops and the timeline's targets.

    Read from the raw data, so these problems are reported together with the field problems
    (a scenario with a bad price and an unknown SKU shows both at once).
    """
    if not isinstance(data, Mapping):
        return []
    problems: list[str] = []
    skus, rivals = _items(data, "skus"), _items(data, "rivals")
    own = [_text(s, "sku") for s in skus]
    offers = [(i, j, o) for i, r in enumerate(rivals) for j, o in enumerate(_items(r, "offers"))]
    rival = [_text(o, "sku") for _, _, o in offers]
    paths = [f"skus[{i}].sku" for i in range(len(own))] + [f"rivals[{i}].offers[{j}].sku" for i, j, _ in offers]
    seen: set[str] = set()
    for where, code in zip(paths, own + rival, strict=True):
        if code is None:
            continue
        if not _ID.match(code):
            problems.append(f"{where}: {shown(code)} is not a SKU code; use letters, digits, - _ .")
        if code in seen:
            problems.append(f"{where}: SKU {shown(code)} appears twice; SKU codes must be unique")
        seen.add(code)
    for i, s in enumerate(skus):
        price, cost = s.get("price"), s.get("cost")
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (price, cost)) and 0 < price <= cost:
            problems.append(f"skus[{i}].price: {price:g} is not above the cost {cost:g}; "
                            "a list price must leave a margin")
    keywords = _items(data, "keywords")
    words = [_text(k, "keyword") for k in keywords]
    for i, k in enumerate(keywords):
        if words[i] is not None and words.count(words[i]) > 1:
            problems.append(f"keywords[{i}].keyword: {shown(words[i])} appears twice")
        relevance = k.get("relevance")
        if not isinstance(relevance, Mapping):
            continue
        for code in relevance:
            if isinstance(code, str) and code not in seen:
                problems.append(f"{field_path(f'keywords[{i}].relevance', code)}: unknown SKU; known: {_known(seen)}")
        if own and not any(code in own for code in relevance):
            problems.append(f"keywords[{i}].relevance: matches none of the shop's own SKUs")
    relevant = {c for k in keywords if isinstance(k.get("relevance"), Mapping) for c in k["relevance"]}
    for i, code in enumerate(own):
        if code is not None and keywords and code not in relevant:
            problems.append(f"skus[{i}]: {code} matches no keyword, so search never shows it; "
                            "add it to a keyword's relevance")
    shop = data.get("shop")
    shop_name = (_text(shop, "name") if isinstance(shop, Mapping) else None) or Shop().name
    shops = [_text(r, "shop") for r in rivals]
    for i, r in enumerate(rivals):
        bids = r.get("ad_bids")
        for word in bids if isinstance(bids, Mapping) else ():
            if isinstance(word, str) and word not in words:
                problems.append(f"{field_path(f'rivals[{i}].ad_bids', word)}: unknown keyword; known: {_known(words)}")
        if shops[i] is not None and (shops.count(shops[i]) > 1 or shops[i] == shop_name):
            problems.append(f"rivals[{i}].shop: {shown(shops[i])} is not a unique shop name")
    for i, j, o in offers:
        watches = _text(o, "watches")
        if watches is not None and watches not in own:
            problems.append(f"rivals[{i}].offers[{j}].watches: {shown(watches)} is not an own SKU; "
                            f"known: {_known(own)}")
    pools = {"own": own, "rival": rival, "rival shop": shops}
    days = data.get("days", Scenario.__dataclass_fields__["days"].default)
    for i, ev in enumerate(_items(data, "timeline")):
        day = ev.get("day")
        if _whole(days) and _whole(day) and 0 <= days <= day:
            problems.append(f"timeline[{i}].day: day {day} is after the run's last day ({days - 1}; days: {days}); "
                            "an event outside the run never happens: lengthen `days` or move the event")
        kind, target = _text(ev, "kind"), _text(ev, "target")
        what = EVENT_FIELDS.get(kind or "", {}).get("target")
        if what is None or target is None:
            continue
        pool = pools["rival shop" if what.startswith("rival shop") else "rival" if what.startswith("rival") else "own"]
        if target not in pool:
            article = "an" if what.startswith("own") else "a"
            problems.append(f"timeline[{i}].target: {shown(target)} is not {article} {what}; known: {_known(pool)}")
    return problems


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _known(names: Iterable[str | None]) -> str:
    """A short list of known names for a message."""
    found = sorted({n for n in names if n is not None})
    text = ", ".join(shown(n, 30)[1:-1] for n in found[:20]) + (f" and {len(found) - 20} more" if len(found) > 20 else "")
    return text or "none"


def _cross_check(sc: Scenario) -> list[str]:
    """Consistency of a scenario whose fields and names are each valid: margins, shapes, the
    dates of the run, its events and festivals, and what the rivals' strategies need."""
    problems: list[str] = []
    if sum(sc.traffic.hour_shape) <= 0 or sum(sc.traffic.weekday_shape) <= 0:
        problems.append("traffic: hour_shape and weekday_shape need at least one positive value")
    for i, ev in enumerate(sc.timeline):
        problems += _check_event(i, ev)
    return problems + _check_dates(sc) + _check_rival_moves(sc) + _check_calendar(sc)


def _check_dates(sc: Scenario) -> list[str]:
    """The run stays within the supported dates; each festival touches the run."""
    problems: list[str] = []
    last = sc.start + dt.timedelta(days=sc.days - 1)
    if last > LAST_DATE:
        problems.append(f"days: a run of {sc.days} days from {sc.start} ends on {last}, after the last supported "
                        f"day {LAST_DATE}; start earlier or run fewer days")
    run = f"{sc.start} to {min(last, LAST_DATE)}"
    names = [f.name for f in sc.festivals]
    for i, f in enumerate(sc.festivals):
        if names.count(f.name) > 1:
            problems.append(f"festivals[{i}].name: {shown(f.name)} appears twice; enrol_festival finds a festival "
                            "by its name")
        if sum(f.main_day_hour_shape) <= 0:
            problems.append(f"festivals[{i}].main_day_hour_shape: needs at least one positive value")
        if f.main_day is None:  # the platform's next one (_date_festivals), or unknown (_check_calendar)
            continue
        main = (f.main_day - sc.start).days
        if main + f.slump_days < 0 or main - f.presale_days > sc.days - 1:
            problems.append(f"festivals[{i}].main_day: {f.name} ({f.main_day}, with its pre-sale and slump) "
                            f"falls outside the run ({run}); move it into the run, lengthen `days`, or remove it")
    return problems


def _check_calendar(sc: Scenario) -> list[str]:
    """Seasons named exist, platform festivals without a date are known, the campaign names real things."""
    problems: list[str] = []
    own = [s.sku for s in sc.skus]
    named = [(f"skus[{i}].season", s.season) for i, s in enumerate(sc.skus)]
    named += [(f"keywords[{i}].season", k.season) for i, k in enumerate(sc.keywords)]
    named += [(f"rivals[{i}].offers[{j}].season", o.season) for i, r in enumerate(sc.rivals)
              for j, o in enumerate(r.offers)]
    for where, name in named:
        if name is not None and name not in sc.seasons:
            problems.append(f"{where}: no season {name!r}; seasons: {', '.join(sc.seasons) or 'none defined'}")
    for i, f in enumerate(sc.festivals):
        if f.main_day is None and f.name not in calendar.PLATFORM_FESTIVALS:
            problems.append(f"festivals[{i}].main_day: is required for {f.name!r}; only "
                            f"{', '.join(calendar.PLATFORM_FESTIVALS)} have a date in the platform calendar")
    words = [k.keyword for k in sc.keywords]
    for word in sc.campaign.keyword_bids:
        if word not in words:
            problems.append(f"campaign.keyword_bids.{word}: unknown keyword; known: {', '.join(words)}")
    for code in sc.campaign.affiliate_commission:
        if code not in own:
            problems.append(f"campaign.affiliate_commission.{code}: not an own SKU; known: {', '.join(own)}")
    return problems


#: Timeline kinds whose value is a price or a multiplier, so it must be above 0.
_POSITIVE_VALUE = ("rival_price", "rival_flash_sale", "rival_affiliate_push", "rival_ad_surge")


def _check_event(i: int, ev: TimelineEvent) -> list[str]:
    path = f"timeline[{i}]"
    needs = EVENT_FIELDS[ev.kind]
    problems = [f"{path}.{field}: is required for kind {ev.kind} ({what})"
                for field, what in needs.items() if getattr(ev, field) is None]
    if ev.kind == "review_burst" and ev.days is not None and ev.hours is not None:
        problems.append(f"{path}.hours: a review_burst lasts `days` or `hours`, not both")
    if ev.kind in _POSITIVE_VALUE and ev.value is not None and ev.value <= 0:
        problems.append(f"{path}.value: {'a price' if 'price' in needs['value'] else 'a multiplier'} must be above 0")
    return problems


def _check_rival_moves(sc: Scenario) -> list[str]:
    """Strategies have what they need; hidden offers are listed once, and nothing happens to them before."""
    problems: list[str] = []
    listed_at: dict[str, tuple[int, int]] = {}
    for i, ev in enumerate(sc.timeline):
        if ev.kind == "rival_new_listing" and ev.target is not None:
            if ev.target in listed_at:
                problems.append(f"timeline[{i}].target: {ev.target} is already listed by an earlier rival_new_listing")
            listed_at.setdefault(ev.target, (ev.day, ev.hour))
    for i, r in enumerate(sc.rivals):
        if r.strategy == "ad_aggressor" and not any(b > 0 for b in r.ad_bids.values()):
            problems.append(f"rivals[{i}].strategy: an ad_aggressor raises its ad_bids, but {r.shop} bids on no keyword")
        for j, o in enumerate(r.offers):
            if o.hidden and o.sku not in listed_at:
                problems.append(f"rivals[{i}].offers[{j}].hidden: {o.sku} is hidden but no rival_new_listing "
                                "event in the timeline lists it")
    hidden = {o.sku for _, o in sc.rival_offers if o.hidden}
    bidding = {r.shop for r in sc.rivals if any(b > 0 for b in r.ad_bids.values())}
    for i, ev in enumerate(sc.timeline):
        if ev.kind == "rival_new_listing":
            if ev.target is not None and ev.target not in hidden:
                problems.append(f"timeline[{i}].target: {shown(ev.target)} is listed from the start; only an offer "
                                "with hidden: true can be newly listed")
        elif ev.kind.startswith("rival_") and ev.target in listed_at and (ev.day, ev.hour) <= listed_at[ev.target]:
            day, hour = listed_at[ev.target]
            problems.append(f"timeline[{i}].day: {ev.target} is listed only on day {day} at {hour}:00; "
                            "its rival events must come later")
        if ev.kind == "rival_ad_surge" and ev.target is not None and ev.target not in bidding and any(
                r.shop == ev.target for r in sc.rivals):
            problems.append(f"timeline[{i}].target: {ev.target} bids on no keyword (ad_bids), so it has no ads to surge")
    return problems


def from_dict(data: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Validate plain data (no ``extends``) and build a :class:`Scenario`.

    Raises
    ------
    ScenarioError
        Listing every problem found (fields, cross-references and dates in one pass), each
        with its field path.
    """
    scenario, problems = _validate(data)
    if problems:
        raise ScenarioError(problems, source)
    return scenario


def _validate(data: Any) -> tuple[Scenario | None, list[str]]:
    scenario, problems = parse(Scenario, _with_festival_presets(data))
    problems += _reference_problems(data)
    if scenario is not None:
        problems += _cross_check(scenario)  # a festival given a date must touch the run
        scenario = _date_festivals(scenario)  # one left to the platform's calendar need not
    return scenario, problems


def _with_festival_presets(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Platform festivals named in the calendar (618, 38, 99, double11) take its settings for keys
    the scenario leaves out."""
    festivals = data.get("festivals") if isinstance(data, Mapping) else None
    if not isinstance(festivals, list):
        return data
    filled = [({**calendar.PLATFORM_FESTIVALS[f["name"]], **f}
               if isinstance(f, Mapping) and isinstance(f.get("name"), str)
               and f["name"] in calendar.PLATFORM_FESTIVALS else f)
              for f in festivals]
    return {**data, "festivals": filled}


def _date_festivals(sc: Scenario) -> Scenario:
    """Give each platform festival without a main day its next date on or after the start
    (another festival without one is left for :func:`_check_calendar` to report)."""
    if all(f.main_day is not None or f.name not in calendar.PLATFORM_FESTIVALS for f in sc.festivals):
        return sc
    dated = tuple(f if f.main_day is not None or f.name not in calendar.PLATFORM_FESTIVALS else
                  dataclasses.replace(f, main_day=calendar.next_platform_day(f.name, sc.start))
                  for f in sc.festivals)
    return dataclasses.replace(sc, festivals=dated)


def bundled() -> dict[str, str]:
    """Bundled scenario names and their one-line descriptions."""
    out = {}
    for name in files.presets():
        raw = files.read(files.preset_dir() / f"{name}.yaml", name)
        out[name] = str(raw.get("description", ""))
    return out


def load_scenario(name_or_path: str | Path, overrides: Iterable[str] = (),
                  root: str | Path | None = None) -> Scenario:
    """Load a bundled scenario by name, or a YAML file by path.

    Parameters
    ----------
    name_or_path:
        ``"baseline"`` (see :func:`bundled`) or a path to a ``.yaml``/``.yml`` file.
    overrides:
        ``"path.to.field=VALUE"`` strings applied after ``extends`` and before validation:
        ``skus.TEE-01.price=79`` (list items by id or index), ``days=10``; VALUE is read as
        YAML (``[1, 2]``, ``2026-06-01``), falling back to text.
    root:
        The folder ``extends:`` paths must stay in (default: the folder of the file loaded).

    Raises
    ------
    ScenarioError
        Every problem, each reported against the file (or ``--set`` override) it is in, with
        that file's own list indices.
    """
    layered, source = files.resolve(name_or_path, root)
    files.apply_overrides(layered, overrides, source)
    scenario, problems = _validate(layered.data)
    if problems:
        located = [layered.locate(p, source) for p in problems]
        raise ScenarioError([p for _, p in located], source, [s for s, _ in located])
    return scenario


def with_overrides(scenario_name: str | Path, overrides: Iterable[str]) -> Scenario:
    """Alias of :func:`load_scenario` with overrides, for readability at call sites."""
    return load_scenario(scenario_name, overrides)


merge = files.merge


def reference_markdown() -> str:
    """The full scenario reference (every key, type, default, range, unit and meaning)."""
    events = ["### Timeline event kinds", "", "| kind | needs | meaning of the fields |", "| --- | --- | --- |"]
    for kind, needs in EVENT_FIELDS.items():
        events.append(f"| `{kind}` | {', '.join(needs)} | "
                      + "; ".join(f"`{k}`: {v}" for k, v in needs.items()) + " |")
    return reference(Scenario) + "\n\n" + "\n".join(events) + "\n"
