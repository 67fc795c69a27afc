"""The shop_diagnosis scenario and dataset (lesson 03): the planted problems show in the tables a
trainee gets, and nothing in the dataset names them.

The checks are directional and read the scripted timeline, so they hold whatever the exact
numbers: a new seed or an engine change that hides a problem fails here, before the lesson's
exercises become unanswerable.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopsim
from shopsim import datasets, reports

SCENARIO = shopsim.load_scenario("shop_diagnosis")
HERO = "TEE-CLASSIC"


def _event(kind: str):
    (event,) = [e for e in SCENARIO.timeline if e.kind == kind]
    return event


def _date(day: int) -> pd.Timestamp:
    return pd.Timestamp(SCENARIO.start) + pd.Timedelta(days=day)


def _local_date(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_localize(None).dt.normalize()


def _main_keyword(sku: str):
    """The keyword that matches ``sku`` (own or rival) best, the busiest of those."""
    return max((k for k in SCENARIO.keywords if sku in k.relevance), key=lambda k: (k.relevance[sku], k.daily_searches))


def _competitor(rival: str) -> tuple[str, str]:
    """Our product that competes with ``rival`` on its main keyword, and that keyword."""
    keyword = _main_keyword(rival)
    own = {s.sku for s in SCENARIO.skus}
    ours = max((s for s in keyword.relevance if s in own), key=keyword.relevance.get)
    return ours, keyword.keyword


def _page(data, sku: str) -> pd.DataFrame:
    """Visits to ``sku``'s page and the share of them that ordered, per day."""
    s = data["sessions"]
    s = s[s["landing_sku"] == sku]
    return s.groupby(_local_date(s["ts"])).agg(visits=("session_id", "size"), ordered=("ordered", "mean"))


@pytest.fixture(scope="module")
def data():
    return datasets.load("shop_diagnosis")


def test_the_scenario_extends_baseline_with_the_three_planted_problems():
    base = shopsim.load_scenario("baseline")
    assert 30 <= SCENARIO.days <= 40 and SCENARIO.description
    assert {e.kind for e in SCENARIO.timeline} == {"stock_loss", "rival_price", "review_burst"}
    assert SCENARIO.days == 30, "lesson 03's exercises give days of April as numbers 1 to 30"
    assert _event("stock_loss").target == HERO
    assert {s.sku for s in SCENARIO.skus} == {s.sku for s in base.skus}
    cut = _event("rival_price")
    (offer,) = [o for _, o in SCENARIO.rival_offers if o.sku == cut.target]
    assert cut.value < offer.price, "the rival's move is a price cut"
    days = sorted(e.day for e in SCENARIO.timeline)
    assert days[0] >= 5 and days[-1] <= SCENARIO.days - 7, "each problem has days before and after it"
    assert min(b - a for a, b in zip(days, days[1:], strict=False)) >= 3, "the problems do not overlap"


def test_the_dataset_has_no_table_that_names_the_problems(data):
    recipe = data.recipe
    assert recipe.scenario == "shop_diagnosis"
    assert "events" not in recipe.tables and "events" not in list(data)
    assert not (datasets.folder() / "shop_diagnosis" / "events.parquet").exists()
    with pytest.raises(KeyError):
        data["events"]
    # nothing else in the shipped tables spells out what happened
    for name in recipe.tables:
        text = data[name].astype(str).to_string()
        for word in ("stock_loss", "price_change", "review_burst", "supply_delay"):
            assert word not in text, f"{name} mentions {word}"


def test_the_hero_stockout_shows_in_inventory_and_in_gmv(data):
    day = _date(_event("stock_loss").day)
    stock = data["inventory"]
    hero = stock[stock["sku"] == HERO].set_index("date")
    assert (hero.loc[: day - pd.Timedelta(days=1), "stockout_hours"] == 0).all(), "in stock before the problem"
    assert hero.loc[day, "stockout_hours"] > 0, "sold out on the day it happens"
    # stays sold out: only the returned units put back each evening (the refunds of the weeks
    # before, a tenth of a day's sales or so) are ever on the shelf, and go within hours
    after_loss = hero.loc[day + pd.Timedelta(days=1):]
    ordinary_day = hero.loc[: day - pd.Timedelta(days=1), "sold"].mean()
    assert (after_loss["on_hand_end"] <= 0.2 * ordinary_day).all(), "stays sold out"
    assert after_loss["stockout_hours"].mean() >= 12, "stays sold out"
    assert hero.loc[day, "lost"] > 0
    others = stock[(stock["sku"] != HERO) & (stock["stockout_hours"] > 0)]
    assert others.empty, "no other product sells out, so the stockout is one clear story"
    gmv = data["daily"].set_index("date")["gmv"]
    before = gmv[day - pd.Timedelta(days=7): day - pd.Timedelta(days=1)].mean()
    after = gmv[day + pd.Timedelta(days=1): day + pd.Timedelta(days=7)].mean()
    assert after < 0.8 * before, "lesson 03 says GMV drops by a quarter to a third and stays there"


def test_the_rival_price_cut_shows_in_market_and_costs_our_product_search_visits_and_rank(data):
    """The cut shows in ``market`` at once; it costs our competing product its search position within
    about a week (the rival's sales build up), and with it the visits search sends. The product's
    other visits (feed, ads, loyal customers) hold, so lesson 03 reads the visits by source."""
    cut = _event("rival_price")
    day = _date(cut.day)
    market = data["market"]
    prices = market[market["sku"] == cut.target].set_index("date")["price"]
    assert (prices[: day - pd.Timedelta(days=1)] > cut.value).all()
    assert (prices[day + pd.Timedelta(days=1):] == cut.value).all()
    assert prices[day: day + pd.Timedelta(days=1)].min() == cut.value, "seen by the next morning at the latest"
    # every other rival keeps its price, so the cut is the one move to find
    others = market[market["sku"] != cut.target].groupby("sku", observed=True)["price"].nunique()
    assert (others == 1).all()
    ours, keyword = _competitor(cut.target)
    s = data["sessions"]
    search = _page({"sessions": s[s["source"] == "search"]}, ours)
    week_before = search.loc[day - pd.Timedelta(days=7): day - pd.Timedelta(days=1)]
    second_week = search.loc[day + pd.Timedelta(days=7): day + pd.Timedelta(days=13)]
    assert second_week["visits"].mean() < 0.8 * week_before["visits"].mean()
    page = _page(data, ours)
    assert page.loc[day + pd.Timedelta(days=7):, "ordered"].mean() > 0.7 * page.loc[:day, "ordered"].mean(), (
        "the visitors who still come buy about as before")
    r = data["rankings"]
    position = r[(r["keyword"] == keyword) & (r["sku"] == ours)].set_index("date")["organic_position"]
    assert position[day + pd.Timedelta(days=7):].mean() > position[: day - pd.Timedelta(days=1)].mean()
    rival_sales = market[market["sku"] == cut.target].set_index("date")["displayed_sales"]
    assert rival_sales.iloc[-1] > rival_sales[day]


def test_the_review_burst_shows_in_reviews_and_in_that_products_conversion(data):
    burst = _event("review_burst")
    day = _date(burst.day)
    reviews = data["reviews"]
    reviews = reviews.assign(date=_local_date(reviews["ts"]))
    negative = reviews[reviews["rating"] <= 2]
    on_target = negative[negative["sku"] == burst.target].groupby("date").size()
    window = on_target[day: day + pd.Timedelta(days=burst.days or 2)]
    assert window.sum() >= burst.value, "every burst review is published within the run"
    assert on_target.get(day, 0) >= 2, "the burst is visible on its first day"
    week_before = on_target[day - pd.Timedelta(days=7): day - pd.Timedelta(days=1)]
    assert (week_before < 2).all(), "before the burst, at most the odd negative review a day"
    per_day = negative.groupby(["date", "sku"], observed=True).size().reset_index(name="n")
    in_burst = (per_day["sku"] == burst.target) & per_day["date"].isin(window.index)
    # returned items draw the odd 1-2 star review (two on a busy product's day can happen), never a burst
    assert (per_day.loc[~in_burst, "n"] < 3).all(), "no other product or day looks like a burst"
    page = _page(data, burst.target)
    before = page.loc[day - pd.Timedelta(days=10): day - pd.Timedelta(days=1), "ordered"].mean()
    after = page.loc[day + pd.Timedelta(days=1): day + pd.Timedelta(days=7), "ordered"].mean()
    assert after < 0.5 * before


def test_the_products_and_keywords_lesson_03_names_fit_the_scenario():
    """The lesson's health checks and exercises name these; the timeline must still match them."""
    assert _main_keyword(HERO).keyword == "cotton t-shirt"
    assert _main_keyword(_event("review_burst").target).keyword == "slim jeans"
    assert _competitor(_event("rival_price").target) == ("PANT-CHINO", "chinos")
    assert _main_keyword("SHIRT-OXFORD").keyword == "oxford shirt"


def test_the_stockout_is_a_write_off_not_a_sell_out(data):
    """Lesson 03 teaches 报损: on the morning of the loss most of the hero's stock is written off
    (``inventory.lost``), far more than it sold, and the P&L books the units at cost."""
    day = _date(_event("stock_loss").day)
    inv = data["inventory"]
    hero = inv[inv["sku"] == HERO].set_index("date")
    assert hero.loc[day, "lost"] >= 0.8 * hero.loc[day, "on_hand_start"]
    assert hero.loc[day, "lost"] >= 10 * hero.loc[day, "sold"]
    assert hero.loc[: day - pd.Timedelta(days=1), "on_hand_end"].min() >= 7 * hero.loc[: day, "sold"].max(), (
        "before the loss the hero had weeks of stock: the stockout is not a missed reorder")
    assert inv.loc[inv["sku"] != HERO, "lost"].sum() == 0
    unit_cost = data["order_items"].query("sku == @HERO")["unit_cost"].iloc[0]
    pnl = data["pnl"].set_index("date")
    assert pnl.loc[day, "write_offs"] >= hero.loc[day, "lost"] * unit_cost


def test_per_product_profit_shows_the_write_off_and_adds_up(data):
    """The profit diagnosis (单品盈亏): after its write-off the hero, the best seller, is the one product
    that lost money in April, by a wide margin; the products' profits add up to the P&L's lines."""
    products = reports.product_pnl(data["order_items"], data["ads"], data["refunds"], data["inventory"])
    products = products.set_index("sku")
    hero = products.loc[HERO]
    assert hero["revenue"] == products["revenue"].max(), "the hero is still the best seller by revenue"
    assert hero["profit"] < -0.05 * hero["revenue"], "the hero lost money in April"
    assert hero["profit"] + hero["write_offs"] > products["profit"].drop(HERO).max() * 0.8, (
        "without the write-off it would have been one of the best earners")
    assert (products["profit"].drop(HERO) > 0).all(), "every other product made money"
    assert products.loc[HERO, "ad_spend"] == products["ad_spend"].max() > 0
    p = data["pnl"].drop(columns="date").sum()
    carried = (p["revenue"] - p["cogs"] - p["ad_spend_search"] - p["ad_spend_display"] - p["affiliate_commission"]
               - p["refunds"] + p["returned_cogs"] - p["write_offs"])
    assert products["profit"].sum() == pytest.approx(carried, abs=1)


def test_the_clearance_discount_shows_list_and_paid_prices(data):
    """The inherited discount: one product sells below its list price all month; the others at list."""
    (action,) = data.recipe.actions
    sku = dict(action.args)["sku"]
    lines = data["order_items"]
    off = lines["unit_paid_price"] < lines["unit_list_price"]
    assert off[lines["sku"] == sku].all() and not off[lines["sku"] != sku].any()
    orders = data["orders"]
    assert data["pnl"]["discounts"].sum() == pytest.approx((orders["gross_amount"] - orders["paid_amount"]).sum())
    assert data["pnl"]["discounts"].sum() > 0


def test_dsr_and_refund_rate_are_there_to_read(data):
    """DSR is a slow average: the month's review burst moves it by hundredths of a star, so lesson 03
    reads reviews per product; refunds run at an apparel shop's usual rate."""
    daily = data["daily"].set_index("date")
    assert daily["dsr"].between(4.5, 5).all()
    assert 0 < daily["dsr"].iloc[0] - daily["dsr"].iloc[-1] < 0.2
    refund_rate = daily["refund_amount"].sum() / daily["gmv"].sum()
    assert 0.05 < refund_rate < 0.3
