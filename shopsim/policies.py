"""Reference operator policies: functions called each simulated morning with an OperatorView.

A policy is any callable ``f(view)``; see :class:`shopsim.operator.OperatorView` for what it
can read and do. These are the yardsticks a trainee's capstone policy is compared with.
"""

from __future__ import annotations

import math

from shopsim.operator import OperatorView
from shopsim.reviews import NEGATIVE_STARS

#: Days of sales the rule-based operator looks back at to estimate demand.
LOOKBACK_DAYS = 7
#: Extra days of cover it keeps on top of the supplier's lead time.
SAFETY_DAYS = 7
#: Days of sales one reorder covers.
ORDER_COVER_DAYS = 21


def do_nothing(view: OperatorView) -> None:
    """Leave the shop exactly as it is: no price changes, no reorders, no replies."""
    return None


def rule_based(view: OperatorView) -> None:
    """A sensible operator's morning: keep stock and answer negative reviews.

    Stock: a SKU is reordered when stock on hand plus on order covers fewer days than its
    lead time plus a week, at the last week's sales rate; the order covers three weeks.
    Reviews: every unanswered 1-2 star review gets a reply.
    """
    _keep_stock(view)
    _answer_negative_reviews(view)


def _keep_stock(view: OperatorView) -> None:
    inventory = view.tables["inventory"]
    if inventory.empty:
        return
    recent = inventory[inventory["date"] > inventory["date"].max() - _days(LOOKBACK_DAYS)]
    per_day = recent.groupby("sku", observed=True)["sold"].mean()
    stock, on_order, lead = view.stock(), view.on_order(), view.lead_times()
    for sku in view.skus:
        rate = float(per_day.get(sku, 0.0))
        if rate <= 0:
            continue
        if stock[sku] + on_order[sku] < rate * (lead[sku] + SAFETY_DAYS):
            view.reorder(sku, int(math.ceil(rate * ORDER_COVER_DAYS / 10.0) * 10))


def _answer_negative_reviews(view: OperatorView) -> None:
    reviews = view.tables["reviews"]
    waiting = reviews[(reviews["rating"] <= NEGATIVE_STARS) & ~reviews["replied"]]
    for review_id in waiting["review_id"]:
        view.reply_to_review(int(review_id))


def _days(n: int):
    import pandas as pd

    return pd.Timedelta(days=n)
