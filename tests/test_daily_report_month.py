"""The daily_report_month dataset (lesson 01): the two planted bad days tell the story the lesson
and its exercises are built on.

Lesson 01 asks for the day with the biggest week-over-week GMV drop (2026-03-20, driven by
conversion) and works through 2026-03-10 (driven by visitors). A regenerated dataset (new engine,
new seed) that moves either day fails here with the reason, before the lesson becomes wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shopsim
from shopsim import datasets

SCENARIO = shopsim.load_scenario("daily_report")
UV_DAY = pd.Timestamp("2026-03-10")
CONVERSION_DAY = pd.Timestamp("2026-03-20")


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    return datasets.load("daily_report_month")["daily"].set_index("date")


def _log_change(daily: pd.DataFrame) -> pd.DataFrame:
    """Week-over-week log change of GMV and its factors (they add up: GMV = UV x CR x AOV)."""
    return np.log(daily[["gmv", "uv", "conversion_rate", "aov"]]).diff(7)


def test_the_scenario_is_baseline_plus_two_timeline_events():
    base = shopsim.load_scenario("baseline")
    assert SCENARIO.skus == base.skus and SCENARIO.rivals == base.rivals and SCENARIO.traffic == base.traffic
    assert sorted(e.kind for e in SCENARIO.timeline) == ["review_burst", "traffic_shock"]
    shock = next(e for e in SCENARIO.timeline if e.kind == "traffic_shock")
    assert pd.Timestamp(SCENARIO.start) + pd.Timedelta(days=shock.day) == UV_DAY


def test_the_biggest_week_over_week_drop_is_the_conversion_day(daily):
    change = daily["gmv"] / daily["gmv"].shift(7) - 1
    ranked = change.dropna().sort_values()
    assert ranked.index[0] == CONVERSION_DAY, f"the biggest drop moved to {ranked.index[0]:%Y-%m-%d}"
    assert ranked.iloc[0] < ranked.iloc[1] - 0.1, "the biggest drop no longer stands out from the next one"


def test_the_conversion_day_is_driven_by_conversion_and_the_uv_day_by_visitors(daily):
    logs = _log_change(daily)
    factors = ["uv", "conversion_rate", "aov"]
    assert logs.loc[CONVERSION_DAY, factors].idxmin() == "conversion_rate"
    assert abs(logs.loc[CONVERSION_DAY, "uv"]) < 0.15, "visitors should hold on the conversion day"
    assert logs.loc[UV_DAY, factors].idxmin() == "uv"
    assert logs.loc[UV_DAY, "uv"] < -0.2 and logs.loc[UV_DAY, "gmv"] < -0.15


def test_the_week_after_the_uv_day_looks_like_a_jump(daily):
    """Exercise 6: 2026-03-17 is far up on the week before only because 2026-03-10 was bad."""
    change = daily["gmv"] / daily["gmv"].shift(7) - 1
    echo = UV_DAY + pd.Timedelta(days=7)
    assert change[echo] > 0.3
    assert change[echo] >= change.drop(echo).nlargest(2).iloc[-1], "no longer one of the tallest bars"


@pytest.fixture(scope="module")
def data():
    return datasets.load("daily_report_month")


def test_orders_and_buyers_differ_on_most_days(daily):
    """Lesson 01 tells buyers (people) from orders, and 客单价 (per buyer) from 笔单价 (per order):
    some buyers pay two orders in a day, so the two counts differ on most days, by a visible amount."""
    repeat = daily["orders"] - daily["buyers"]
    assert (repeat >= 0).all()
    assert (repeat > 0).sum() >= 20
    assert repeat.sum() >= 0.015 * daily["orders"].sum()
    per_order = daily["uv"] * daily["conversion_rate"] * daily["avg_order_value"]
    per_buyer = daily["uv"] * daily["conversion_rate"] * daily["aov"]
    assert (per_buyer - daily["gmv"]).abs().max() < 0.01, "with 客单价 the formula is exact"
    assert ((per_order - daily["gmv"]).abs() > 1).sum() >= 20, "with 笔单价 it misses on the days with repeat orders"


def test_a_month_counts_each_visitor_once(data, daily):
    sessions, orders = data["sessions"], data["orders"]
    assert sessions["customer_id"].nunique() < 0.97 * daily["uv"].sum(), "many visitors come on several days"
    assert orders["customer_id"].nunique() < 0.97 * len(orders), "many buyers pay on several days"


def test_the_clearance_discount_refunds_and_ads_are_visible(data, daily):
    (action,) = data.recipe.actions
    sku = dict(action.args)["sku"]
    lines = data["order_items"]
    off = lines["unit_paid_price"] < lines["unit_list_price"]
    assert off[lines["sku"] == sku].all() and not off[lines["sku"] != sku].any()
    assert (lines["sku"] == sku).sum() >= 60, "enough discounted lines to see"
    orders = data["orders"]
    assert (orders["gross_amount"] > orders["paid_amount"]).sum() >= 60
    assert 0.05 < daily["refund_amount"].sum() / daily["gmv"].sum() < 0.3
    assert (daily["ad_spend"] > 0).all()
