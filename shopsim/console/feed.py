"""What the console's feed and morning checklist say, from the shop's tables.

The feed turns rows of the ``events`` table into one line each, in an operator's words; the
checklist answers the questions a real operator asks every morning (seeds/README, "The daily
routine"): did the paid-search budget run out, is anything sold out or about to be, are
there bad reviews (差评) to answer, what did the rivals do, which festival is coming, did
yesterday make money.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import pandas as pd

from shopsim.reviews import NEGATIVE_STARS

_ALERT_KINDS = {"negative_review", "ad_budget_out", "supply_delay", "stock_loss", "flash_sale_sold_out", "shop_marked"}
_RIVAL_ALERTS = {"flash_sale", "festival_sale", "ad_surge", "ad_bid_up", "affiliate_push", "new_listing"}
_OPERATOR = {
    "set_price": "price", "reorder": "reorder", "improve_listing": "listing work", "reply_to_review": "reply",
    "set_keyword_bid": "keyword bid", "set_ad_budget": "search budget", "set_ads_active": "search campaign",
    "set_bid_schedule": "bid schedule", "set_audience_premium": "audience premium",
    "set_display": "display ads", "set_affiliate_commission": "affiliate commission", "discount": "discount",
    "flash_sale": "flash sale", "issue_coupon": "coupon", "spend_and_save": "spend and save (满减)",
    "set_free_shipping_threshold": "free shipping", "enrol_festival": "festival enrolment", "send_crm": "CRM",
    "set_return_insurance": "return insurance",
}


@dataclasses.dataclass(frozen=True)
class FeedItem:
    """One line of the feed: when, who, and what happened in plain words.

    ``tone`` is ``alert`` (needs a look), ``info`` or ``you`` (your own action).
    """

    ts: pd.Timestamp
    when: str
    actor: str
    kind: str
    target: str
    text: str
    tone: str


@dataclasses.dataclass(frozen=True)
class Check:
    """One item of the morning checklist: ``status`` is ``ok``, ``alert`` or ``info``;
    ``where`` names the tab of levers that answers it."""

    topic: str
    question: str
    status: str
    answer: str
    where: str = ""


#: Targets of operator events that are not worth repeating in a sentence (the whole shop, the campaign).
GENERIC_TARGETS = {"shop", "paid_search"}


def _line(actor: str, kind: str, target: str, detail: str, ts: pd.Timestamp) -> tuple[str, str]:
    """(text, tone) of one event."""
    if actor == "operator":
        target = "" if target in GENERIC_TARGETS else f" {target}"
        return f"You: {_OPERATOR.get(kind, kind.replace('_', ' '))}{target}: {detail}", "you"
    if actor == "competitor":
        shop = detail.split(":")[0]
        if kind == "stockout":
            return f"Rival {shop} sold out of {target}", "info"
        if kind == "restock":
            return f"Rival {shop}: {target} back in stock", "info"
        tone = "alert" if kind in _RIVAL_ALERTS or (kind == "price_change" and " cut " in detail) else "info"
        return f"Rival: {detail}", tone
    text = {
        "negative_review": f"New negative review (差评) of {target}: {detail.replace('1 stars', '1 star')}",
        "stockout": f"{target} sold out (断货) at {ts:%H:%M}",
        "ad_budget_out": f"{detail[:1].upper()}{detail[1:]} at {ts:%H:%M}",
        "restock_arrived": f"Restock of {target} arrived: {detail}",
        "listing_live": f"Listing work on {target} is live ({detail})",
        "festival_phase": f"Festival: {detail}",
        "flash_sale_sold_out": f"Flash sale on {target} sold out ({detail})",
        "supply_delay": f"Supplier delay on {target}: {detail}",
        "stock_loss": f"Stock of {target} written off: {detail}",
        "traffic_change": f"Platform: {detail}",
        "shop_marked": f"Platform marked the shop (纠纷率): {detail}; its listings rank lower",
        "shop_mark_lifted": f"Platform lifted the shop's mark: {detail}",
    }.get(kind, f"{kind.replace('_', ' ')} {target}: {detail}".strip())
    tone = "alert" if kind in _ALERT_KINDS or (kind == "stockout") else "info"
    return text, tone


def feed_items(events: pd.DataFrame, limit: int = 80) -> list[FeedItem]:
    """The feed for some rows of the ``events`` table, newest first (at most ``limit``)."""
    items = []
    for row in events.iloc[::-1].head(limit).itertuples(index=False):
        target = "" if pd.isna(row.target) else str(row.target)
        detail = "" if pd.isna(row.detail) else str(row.detail)
        text, tone = _line(str(row.actor), str(row.kind), target, detail, row.ts)
        items.append(FeedItem(row.ts, f"{row.ts:%a %m-%d %H:%M}", str(row.actor), str(row.kind), target, text, tone))
    return items


def _money(x: float) -> str:
    return f"-¥{-x:,.0f}" if x < 0 else f"¥{x:,.0f}"


def check_budget(window: pd.DataFrame, bids: dict, ad_spend: float | None, campaign: dict | None = None,
                 quality: dict | None = None) -> Check:
    """Paid search (直通车): did the budget run out? And what is running (the bids, the budget,
    the quality scores: an inherited campaign shows here from the first morning)."""
    q = ("Paid search (直通车)", "Did the budget run out?")
    running = _running(bids, campaign, quality)
    out = window[window["kind"] == "ad_budget_out"]
    if len(out):
        times = ", ".join(f"{ts:%m-%d %H:%M}" for ts in out["ts"])
        return Check(*q, "alert", f"Yes, at {times}: later searchers saw no ad. Raise the daily budget or "
                     f"lower bids.{running}", "Paid traffic")
    if bids or (ad_spend or 0) > 0:
        spent = "" if ad_spend is None else f" (spent {_money(ad_spend)})"
        return Check(*q, "ok", f"No, it lasted the day{spent}.{running}", "Paid traffic")
    return Check(*q, "info", "No paid search is running.", "Paid traffic")


def _running(bids: dict, campaign: dict | None, quality: dict | None) -> str:
    """' Running: ...' the campaign's keywords with bid and quality score, budget and commissions."""
    if not bids or campaign is None:
        return ""
    words = ", ".join(f"{k} {b:.2f}" + (f" (质量分 {quality[k]})" if quality and k in quality else "")
                      for k, b in sorted(bids.items(), key=lambda kb: -kb[1]))
    state = "" if campaign.get("search_active", True) else " (paused)"
    text = f" Running{state}: {words}; budget {_money(campaign.get('daily_budget', 0.0))} a day."
    commission = campaign.get("affiliate_commission") or {}
    if commission:
        text += " Affiliates: " + ", ".join(f"{sku} {r:.0%}" for sku, r in commission.items()) + "."
    return text


def check_stock(stock: pd.DataFrame) -> Check:
    """Stock: anything sold out, or about to run out before a reorder could arrive?

    ``stock`` is the console's stock chart data (sku, on_hand, on_order, lead_time_days,
    days_of_cover, stockout_hours)."""
    q = ("Stock (库存)", "Anything sold out or running low?")
    rows = list(zip(*(stock[c].tolist() for c in ("sku", "on_hand", "on_order", "lead_time_days", "days_of_cover",
                                                  "stockout_hours")), strict=True))
    out = [(sku, on_hand, hours) for sku, on_hand, _, _, _, hours in rows if on_hand == 0 or hours > 0]
    low = [(sku, cover, lead) for sku, on_hand, on_order, lead, cover, hours in rows
           if on_hand > 0 and hours == 0 and on_order == 0 and cover < lead]
    parts = []
    if out:
        parts.append("sold out: " + ", ".join(
            f"{sku} ({'none left' if on_hand == 0 else f'{hours:g} h yesterday'})" for sku, on_hand, hours in out))
    if low:
        parts.append("running low: " + ", ".join(
            f"{sku} ({cover:.0f} days left, lead time {lead} days)" for sku, cover, lead in low))
    if parts:
        answer = "; ".join(parts)
        return Check(*q, "alert", f"{answer[:1].upper()}{answer[1:]}. Reorder before it costs rank.", "Products")
    return Check(*q, "ok", "Every SKU is in stock with more cover than its lead time (or a reorder on the way).",
                 "Products")


def check_reviews(reviews: pd.DataFrame, window: pd.DataFrame) -> Check:
    """Reviews: new bad reviews (差评) to answer?"""
    q = ("Reviews (评价)", "New bad reviews to answer?")
    waiting = (reviews["rating"].to_numpy() <= NEGATIVE_STARS) & ~reviews["replied"].to_numpy(dtype=bool)
    new = int((window["kind"].to_numpy() == "negative_review").sum())
    if waiting.any():
        by_sku = Counter(str(sku) for sku in reviews["sku"].to_numpy()[waiting])  # in order of appearance
        listed = ", ".join(f"{sku} ({n})" for sku, n in by_sku.items())
        fresh = f"{new} new; " if new else ""
        return Check(*q, "alert", f"{int(waiting.sum())} unanswered ({fresh}{listed}). Answer them: an unanswered "
                     "差评 on the page costs conversion.", "Customers")
    return Check(*q, "ok", "None waiting for an answer.", "Customers")


def check_rivals(window: pd.DataFrame) -> Check:
    """Rivals (竞品): what did they do?"""
    q = ("Rivals (竞品)", "Any rival moves?")
    moves = window[window["actor"] == "competitor"]
    if moves.empty:
        return Check(*q, "ok", "No moves seen.", "Products")
    lines = [_line("competitor", str(r.kind), str(r.target), str(r.detail), r.ts) for r in moves.itertuples()]
    status = "alert" if any(tone == "alert" for _, tone in lines) else "info"
    shown = "; ".join(text.removeprefix("Rival: ") for text, _ in lines[:4])
    more = f" (and {len(lines) - 4} more)" if len(lines) > 4 else ""
    return Check(*q, status, f"{shown}{more}.", "Products")


def check_festivals(festivals: list[dict], today: dt.date, window: pd.DataFrame) -> Check:
    """Activities (活动): which festival is coming, and is the shop enrolled?"""
    q = ("Activities (活动)", "Festival coming? Enrolled?")
    phase = window[window["kind"] == "festival_phase"]
    began = f"{phase['detail'].iloc[-1]}. " if len(phase) else ""
    coming = sorted((f for f in festivals if f["main_day"] >= today), key=lambda f: f["main_day"])
    if not coming:
        return Check(*q, "info" if began else "ok", f"{began}No platform festival coming up.", "Promotions")
    f = coming[0]
    days = (f["main_day"] - today).days
    when = "today" if days == 0 else f"in {days} days" if days > 1 else "tomorrow"
    if f["enrolled"]:
        return Check(*q, "ok", f"{began}Enrolled in {f['name']} (main day {f['main_day']:%m-%d}, {when}).",
                     "Promotions")
    status = "alert" if days <= 30 else "info"
    return Check(*q, status, f"{began}{f['name']} main day {f['main_day']:%m-%d} ({when}); not enrolled "
                 f"(needs at least {f['min_discount']:.0%} off).", "Promotions")


def check_profit(net_profit: float | None) -> Check:
    """Profit (盈亏): did yesterday make money?"""
    q = ("Profit (盈亏)", "Did yesterday make money?")
    if net_profit is None or pd.isna(net_profit):
        return Check(*q, "info", "No day has run yet.", "")
    if net_profit < 0:
        return Check(*q, "alert", f"No: a loss of {_money(-net_profit)}. Look at the P&L (ads, discounts).", "")
    return Check(*q, "ok", f"Yes: {_money(net_profit)} net profit.", "")


def checklist(*, window: pd.DataFrame, reviews: pd.DataFrame, stock: pd.DataFrame, festivals: list[dict],
              bids: dict, today: dt.date, yesterday: Any, campaign: dict | None = None,
              quality: dict | None = None) -> list[Check]:
    """The morning checklist, in the order of an operator's morning.

    ``window`` holds the events since the last run began; ``yesterday`` is the last row of
    the daily report (or None before the first day); ``campaign`` and ``quality`` are the
    running campaign and the quality scores (``OperatorView.campaign()``, ``.quality_scores()``)."""
    ad_spend = None if yesterday is None else float(yesterday["ad_spend"])
    profit = None if yesterday is None else float(yesterday["net_profit"])
    return [check_budget(window, bids, ad_spend, campaign, quality), check_stock(stock), check_reviews(reviews, window),
            check_rivals(window), check_festivals(festivals, today, window), check_profit(profit)]
