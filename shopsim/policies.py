"""Reference operator policies: functions called each simulated morning with an OperatorView.

A policy is any callable ``f(view)``; see :class:`shopsim.operator.OperatorView` for what it
can read and do. These are the yardsticks a trainee's capstone policy is compared with.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopsim.operator import OperatorView
from shopsim.reports import sales_per_day
from shopsim.reviews import NEGATIVE_STARS

#: Customer service: minutes an agent spends on a chat, chats open at once, the share of the
#: agents' time the rota plans to fill (shoppers wait little, so queues must stay short), and the fewest
#: inquiries an hour worth an agent.
CHAT_MINUTES, CHATS_PER_AGENT, TARGET_LOAD, MIN_INQUIRIES = 6.0, 3, 0.3, 2.0
#: Where the tuned operator's settings are kept, with how they were found (``scripts/tune_policy.py``).
TUNED_FILE = Path(__file__).with_name("tuned_policy.json")


@dataclass(frozen=True)
class Rules:
    """The settings of the rule-based operator: numbers an operator would talk about.

    Attributes
    ----------
    lookback_days:
        Days of sales looked back at to estimate demand (and the cadence of weekly work), days.
    safety_days:
        Extra days of cover kept on top of the supplier's lead time, days.
    order_cover_days:
        Days of sales one reorder covers, days.
    target_roas:
        Paid search: return on ad spend (ad revenue / spend) each keyword is steered towards.
    start_bid, bid_step, top_bid:
        Paid search: first bid on the keywords it advertises (yuan per click), the share a bid
        moves each morning, and the highest bid (yuan per click).
    ad_keywords, ad_budget_share:
        Paid search: how many of the biggest keywords get the first bid, and the daily budget as
        a share of the last week's daily GMV (at least 100 yuan).
    enrol_days_before:
        Festivals: enrol this many days before the main day, at the platform's minimum discount
        (-1: never enrol).
    clear_cover_days, clear_share:
        Slow stock (滞销): a SKU whose stock would last more than ``clear_cover_days`` days at the
        last week's pace gets ``clear_share`` off its price for a week (0: never clear).
    rival_cut, sales_drop, answer_share:
        Answering a rival: when a rival cut a price by at least ``rival_cut`` (a share) within
        the last week, every own SKU whose last three days sold under ``sales_drop`` of its weekly
        pace gets ``answer_share`` off for a week (0: never answer).
    """

    lookback_days: int = 7
    safety_days: int = 7
    order_cover_days: int = 21
    target_roas: float = 4.0
    start_bid: float = 0.8
    bid_step: float = 0.15
    top_bid: float = 3.0
    ad_keywords: int = 3
    ad_budget_share: float = 0.05
    enrol_days_before: int = 20
    clear_cover_days: float = 90.0
    clear_share: float = 0.1
    rival_cut: float = 0.1
    sales_drop: float = 0.7
    answer_share: float = 0.1


#: The rule-based operator's settings.
RULES = Rules()


def do_nothing(view: OperatorView) -> None:
    """Leave the shop exactly as it is: no price changes, no reorders, no replies."""
    return None


def rule_based(view: OperatorView) -> None:
    """A sensible operator's morning: keep stock, answer bad reviews, steer ads, join festivals.

    Stock: a SKU is reordered when stock on hand plus on order covers fewer days than its
    lead time plus a week, at the last week's sales rate; the order covers three weeks.
    Slow stock: a SKU with more than 90 days of stock at the last week's pace gets 10 % off for
    a week (looked at once a week).
    Rivals: when a rival cut a price by 10 % or more in the last week, each own SKU whose last
    three days sold under 70 % of its weekly pace gets 10 % off for a week.
    Reviews: every unanswered 1-2 star review gets a reply.
    Paid search: bids on the biggest keywords with a budget of 5 % of daily GMV; each
    morning a keyword's bid rises 15 % if its last three days' ROAS beat 1.2 x the target
    (4) and falls 15 % if it missed the target.
    Festivals: enrols 20 days ahead at the platform's minimum discount.
    Customer service: each week, staffs every hour of the day by the last week's inquiries in it
    (agents enough to keep them under a third busy, none below two inquiries an hour), so the evening
    peak gets its agents; on the first morning, before there is data, the evening (19:00-23:59)
    gets the day shift's strength.
    The settings are :data:`RULES` (:class:`Rules`).
    """
    operate(view, RULES)


def tuned(view: OperatorView) -> None:
    """The rule-based operator with settings tuned by a small search (the stronger reference).

    Same rules as :func:`rule_based`; the settings are read from ``shopsim/tuned_policy.json``,
    which also records how they were found (seeds, scenarios, candidates tried). They were
    tuned on seeds that no lesson grades on.
    """
    operate(view, tuned_rules())


@functools.cache
def tuned_rules() -> Rules:
    """The tuned operator's :class:`Rules`, from :data:`TUNED_FILE`."""
    data = json.loads(TUNED_FILE.read_text(encoding="utf-8"))
    return Rules(**data["rules"])


def operate(view: OperatorView, rules: Rules) -> None:
    """One morning of the rule-based operator with ``rules`` (:class:`Rules`)."""
    per_day = sales_per_day(view.tables["inventory"], rules.lookback_days)
    _keep_stock(view, rules, per_day)
    _clear_slow_stock(view, rules, per_day)
    _answer_rivals(view, rules, per_day)
    _answer_negative_reviews(view)
    _steer_ads(view, rules)
    _join_festivals(view, rules)
    _staff_service(view, rules)


def _keep_stock(view: OperatorView, rules: Rules, per_day: dict[str, float]) -> None:
    if not per_day:
        return
    stock, on_order, lead = view.stock(), view.on_order(), view.lead_times()
    for sku in view.skus:
        rate = per_day.get(sku, 0.0)
        if rate <= 0:
            continue
        if stock[sku] + on_order[sku] < rate * (lead[sku] + rules.safety_days):
            view.reorder(sku, int(math.ceil(rate * rules.order_cover_days / 10.0) * 10))


def _clear_slow_stock(view: OperatorView, rules: Rules, per_day: dict[str, float]) -> None:
    """Once a week, a week's discount on each SKU with more than ``clear_cover_days`` of stock."""
    if rules.clear_share <= 0 or not per_day or view.day % rules.lookback_days:
        return
    stock = view.stock()
    for sku in view.skus:
        if stock[sku] > rules.clear_cover_days * max(per_day.get(sku, 0.0), 0.1):
            view.discount(sku, rules.clear_share, days=rules.lookback_days)


def _answer_rivals(view: OperatorView, rules: Rules, per_day: dict[str, float]) -> None:
    """After a rival's price cut, a week's discount on the own SKUs whose sales fell (at most one a week).

    The market table is read only on mornings when some product's last three days fell below
    ``sales_drop`` of its weekly pace (most mornings none did).
    """
    if rules.answer_share <= 0 or not per_day:
        return
    recent, stock = sales_per_day(view.tables["inventory"], 3), view.stock()
    fallen = [sku for sku in view.skus if per_day.get(sku, 0.0) > 0 and stock[sku] > 0
              and recent.get(sku, 0.0) < rules.sales_drop * per_day[sku]]
    if not fallen or not _rival_cut(view.tables["market"], rules):
        return
    waiting = _discounted_this_week(view.tables["events"], view.date, rules.lookback_days)
    for sku in fallen:
        if sku not in waiting:
            view.discount(sku, rules.answer_share, days=rules.lookback_days)


def _rival_cut(market: pd.DataFrame, rules: Rules) -> bool:
    """Whether a rival's list price fell by at least ``rival_cut`` over the last week of the market table."""
    if market.empty:
        return False
    dates = market["date"].to_numpy()
    last = dates.max()
    then_date = max(last - np.timedelta64(rules.lookback_days, "D"), dates.min())
    codes, prices = market["sku"].cat.codes.to_numpy(), market["price"].to_numpy()
    size = len(market["sku"].cat.categories)
    now, then = np.full(size, np.nan), np.full(size, np.nan)
    now[codes[dates == last]] = prices[dates == last]
    then[codes[dates == then_date]] = prices[dates == then_date]
    with np.errstate(invalid="ignore"):
        return bool(np.any(now <= then * (1.0 - rules.rival_cut)))


def _discounted_this_week(events: pd.DataFrame, today: Any, days: int) -> set[str]:
    """Own SKUs given a discount by the operator in the last ``days`` days (from the events table)."""
    if events.empty:
        return set()
    since = pd.Timestamp(today, tz="Asia/Shanghai") - pd.Timedelta(days=days)
    mine = events[(events["kind"] == "discount") & (events["ts"] >= since)]
    return set(mine["target"].astype(str))


def _answer_negative_reviews(view: OperatorView) -> None:
    reviews = view.tables["reviews"]
    waiting = (reviews["rating"].to_numpy() <= NEGATIVE_STARS) & ~reviews["replied"].to_numpy()
    for review_id in reviews["review_id"].to_numpy()[waiting]:
        view.reply_to_review(int(review_id))


def _steer_ads(view: OperatorView, rules: Rules) -> None:
    if view.day == 0:
        for word in sorted(view.keywords(), key=view.keywords().get, reverse=True)[:rules.ad_keywords]:
            view.set_keyword_bid(word, rules.start_bid)
    if view.day % rules.lookback_days == 0:
        daily = view.tables["daily"]
        gmv = float(daily["gmv"].tail(rules.lookback_days).mean()) if len(daily) else 0.0
        view.set_ad_budget(max(100.0, round(rules.ad_budget_share * gmv)))
    recent = _last_days_of_search_ads(view.tables["ads"], 3)
    for word, bid in view.keyword_bids().items():
        spend, revenue = recent.get(word, (0.0, 0.0))
        if spend <= 0:
            continue
        roas = revenue / spend
        if roas > 1.2 * rules.target_roas:
            view.set_keyword_bid(word, min(rules.top_bid, round(bid * (1 + rules.bid_step), 2)))
        elif roas < rules.target_roas:
            view.set_keyword_bid(word, max(0.1, round(bid * (1 - rules.bid_step), 2)))


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


def _join_festivals(view: OperatorView, rules: Rules) -> None:
    for fest in view.festivals():
        days_to_go = (fest["main_day"] - view.date).days
        if not fest["enrolled"] and 0 <= days_to_go <= rules.enrol_days_before:
            view.enrol_festival(fest["name"], fest["min_discount"])


def _staff_service(view: OperatorView, rules: Rules) -> None:
    if view.day % rules.lookback_days:
        return
    service = view.tables["service"]
    rota = view.service()["rota"]
    if service.empty:
        day_shift = max(rota)
        view.set_service([max(a, day_shift) if h >= 19 else a for h, a in enumerate(rota)])
        return
    recent = service[service["ts"] > service["ts"].max() - _days(rules.lookback_days)]
    days = max(1, recent["ts"].dt.normalize().nunique())
    per_hour = recent.groupby(recent["ts"].dt.hour).size().reindex(range(24), fill_value=0) / days
    agents = [0 if n < MIN_INQUIRIES else math.ceil(n * CHAT_MINUTES / (60 * CHATS_PER_AGENT * TARGET_LOAD))
              for n in per_hour]
    view.set_service(agents)


def _days(n: int) -> pd.Timedelta:
    return pd.Timedelta(days=n)
