"""Reference operator policies: functions called each simulated morning with an OperatorView.

A policy is any callable ``f(view)``; see :class:`shopsim.operator.OperatorView` for what it
can read and do. These are the yardsticks a trainee's capstone policy is compared with.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from shopsim.operator import OperatorView
from shopsim.reports import sales_per_day
from shopsim.reviews import NEGATIVE_STARS

if TYPE_CHECKING:
    import pandas as pd

#: Days of sales the rule-based operator looks back at to estimate demand.
LOOKBACK_DAYS = 7
#: Extra days of cover it keeps on top of the supplier's lead time.
SAFETY_DAYS = 7
#: Days of sales one reorder covers.
ORDER_COVER_DAYS = 21
#: Paid search: return on ad spend the rule-based operator steers each keyword towards.
TARGET_ROAS = 4.0
#: Paid search: first bid, step of each daily adjustment, and the highest bid, yuan per click.
START_BID, BID_STEP, TOP_BID = 0.8, 0.15, 3.0
#: Paid search: keywords advertised (the biggest ones) and the budget as a share of daily GMV.
AD_KEYWORDS, AD_BUDGET_SHARE = 3, 0.05
#: Festivals: enrol this many days before the main day, at the platform's minimum discount.
ENROL_DAYS_BEFORE = 20
#: Customer service: minutes an agent spends on a chat, chats open at once, the share of the
#: agents' time the rota plans to fill (shoppers wait little, so queues must stay short), and the fewest
#: inquiries an hour worth an agent.
CHAT_MINUTES, CHATS_PER_AGENT, TARGET_LOAD, MIN_INQUIRIES = 6.0, 3, 0.3, 2.0


def do_nothing(view: OperatorView) -> None:
    """Leave the shop exactly as it is: no price changes, no reorders, no replies."""
    return None


def rule_based(view: OperatorView) -> None:
    """A sensible operator's morning: keep stock, answer bad reviews, steer ads, join festivals.

    Stock: a SKU is reordered when stock on hand plus on order covers fewer days than its
    lead time plus a week, at the last week's sales rate; the order covers three weeks.
    Reviews: every unanswered 1-2 star review gets a reply.
    Paid search: bids on the biggest keywords with a budget of 5 % of daily GMV; each
    morning a keyword's bid rises 15 % if its last three days' ROAS beat 1.2 x the target
    (4) and falls 15 % if it missed the target.
    Festivals: enrols 20 days ahead at the platform's minimum discount.
    Customer service: each week, staffs every hour of the day by the last week's inquiries in it
    (agents enough to keep them under a third busy, none below two inquiries an hour), so the evening
    peak gets its agents; on the first morning, before there is data, the evening (19:00-23:59)
    gets the day shift's strength.
    """
    _keep_stock(view)
    _answer_negative_reviews(view)
    _steer_ads(view)
    _join_festivals(view)
    _staff_service(view)


def _keep_stock(view: OperatorView) -> None:
    per_day = sales_per_day(view.tables["inventory"], LOOKBACK_DAYS)
    if not per_day:
        return
    stock, on_order, lead = view.stock(), view.on_order(), view.lead_times()
    for sku in view.skus:
        rate = per_day.get(sku, 0.0)
        if rate <= 0:
            continue
        if stock[sku] + on_order[sku] < rate * (lead[sku] + SAFETY_DAYS):
            view.reorder(sku, int(math.ceil(rate * ORDER_COVER_DAYS / 10.0) * 10))


def _answer_negative_reviews(view: OperatorView) -> None:
    reviews = view.tables["reviews"]
    waiting = (reviews["rating"].to_numpy() <= NEGATIVE_STARS) & ~reviews["replied"].to_numpy()
    for review_id in reviews["review_id"].to_numpy()[waiting]:
        view.reply_to_review(int(review_id))


def _steer_ads(view: OperatorView) -> None:
    if view.day == 0:
        for word in sorted(view.keywords(), key=view.keywords().get, reverse=True)[:AD_KEYWORDS]:
            view.set_keyword_bid(word, START_BID)
    if view.day % LOOKBACK_DAYS == 0:
        daily = view.tables["daily"]
        gmv = float(daily["gmv"].tail(LOOKBACK_DAYS).mean()) if len(daily) else 0.0
        view.set_ad_budget(max(100.0, round(AD_BUDGET_SHARE * gmv)))
    recent = _last_days_of_search_ads(view.tables["ads"], 3)
    for word, bid in view.keyword_bids().items():
        spend, revenue = recent.get(word, (0.0, 0.0))
        if spend <= 0:
            continue
        roas = revenue / spend
        if roas > 1.2 * TARGET_ROAS:
            view.set_keyword_bid(word, min(TOP_BID, round(bid * (1 + BID_STEP), 2)))
        elif roas < TARGET_ROAS:
            view.set_keyword_bid(word, max(0.1, round(bid * (1 - BID_STEP), 2)))


def _last_days_of_search_ads(ads: pd.DataFrame, days: int) -> dict[str, tuple[float, float]]:
    """Paid-search spend and ad revenue (yuan) per keyword over the last ``days`` days of the ads table."""
    if ads.empty:
        return {}
    when = ads["ts"].astype("int64").to_numpy()
    channel, keyword = ads["channel"], ads["keyword"]
    recent = (channel.cat.codes.to_numpy() == channel.cat.categories.get_loc("paid_search")) & (
        when >= when.max() - days * 86_400 * 10**9)
    code = keyword.cat.codes.to_numpy()[recent]
    spend, revenue = ads["spend"].to_numpy()[recent], ads["revenue"].to_numpy()[recent]
    return {word: (math.fsum(spend[code == k]), math.fsum(revenue[code == k]))
            for k, word in enumerate(keyword.cat.categories) if (code == k).any()}


def _join_festivals(view: OperatorView) -> None:
    for fest in view.festivals():
        days_to_go = (fest["main_day"] - view.date).days
        if not fest["enrolled"] and 0 <= days_to_go <= ENROL_DAYS_BEFORE:
            view.enrol_festival(fest["name"], fest["min_discount"])


def _staff_service(view: OperatorView) -> None:
    if view.day % LOOKBACK_DAYS:
        return
    service = view.tables["service"]
    rota = view.service()["rota"]
    if service.empty:
        day_shift = max(rota)
        view.set_service([max(a, day_shift) if h >= 19 else a for h, a in enumerate(rota)])
        return
    recent = service[service["ts"] > service["ts"].max() - _days(LOOKBACK_DAYS)]
    days = max(1, recent["ts"].dt.normalize().nunique())
    per_hour = recent.groupby(recent["ts"].dt.hour).size().reindex(range(24), fill_value=0) / days
    agents = [0 if n < MIN_INQUIRIES else math.ceil(n * CHAT_MINUTES / (60 * CHATS_PER_AGENT * TARGET_LOAD))
              for n in per_hour]
    view.set_service(agents)


def _days(n: int):
    import pandas as pd

    return pd.Timedelta(days=n)
