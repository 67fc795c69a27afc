"""The table cache (shopsim.tables): tables extended as days close equal tables built from all rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import shopsim
from shopsim import policies, reports
from shopsim.records import DSR_DIMENSIONS, Buffer


# -- the oracle: daily and pnl computed from every row (the formulas before the day book) ----------
def _pnl_from_rows(orders: pd.DataFrame, order_items: pd.DataFrame, costs: pd.DataFrame, ads: pd.DataFrame,
        shop, dates: pd.DatetimeIndex, refunds: pd.DataFrame, insurance_premium: float) -> pd.DataFrame:
    """Profit and loss per day: every yuan from orders, refunds, ads and booked costs.

    Each line is booked on the day it falls: sales on the day paid, refunds (and the cost of
    the goods that came back, ``returned_cogs``, a credit) on the day refunded, fixed costs
    every day. revenue is what buyers paid after discounts; contribution = revenue +
    returned_cogs - every variable cost; net_profit = contribution - staff, rent, software.
    """
    out = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    day = reports.local_date(orders["ts"])
    by_day = orders.groupby(day)
    out["gross_sales"] = by_day["gross_amount"].agg(math.fsum)
    out["discounts"] = by_day["discount_amount"].agg(math.fsum)
    out["revenue"] = by_day["paid_amount"].agg(math.fsum)  # exact sums, as the day book adds
    lines = order_items.merge(orders[["order_id", "ts"]], on="order_id", how="left")
    out["cogs"] = (lines["qty"] * lines["unit_cost"]).groupby(reports.local_date(lines["ts"])).agg(math.fsum)
    spend = ads.groupby([reports.local_date(ads["ts"]), "channel"], observed=True)["spend"].agg(math.fsum).unstack()
    for channel, column in (("paid_search", "ad_spend_search"), ("display", "ad_spend_display"),
                            ("affiliate", "affiliate_commission")):
        out[column] = spend.get(channel, 0.0)
    out["affiliate_service_fee"] = out["affiliate_commission"].fillna(0.0) * shop.affiliate_service_fee_rate
    out["platform_fee"] = out["revenue"] * shop.platform_fee_rate
    out["payment_fee"] = out["revenue"] * shop.payment_fee_rate
    shop_pays = (orders["buyer_shipping"] == 0).groupby(day).sum()
    out["shipping"] = shop_pays * shop.shipping_cost_per_order
    out["packaging"] = by_day.size() * shop.packaging_per_order
    refunded = refunds.groupby(reports.local_date(refunds["completed_ts"]))
    out["refunds"] = refunded["amount"].agg(math.fsum)
    out["returned_cogs"] = refunded["goods_cost"].sum()
    out["return_shipping"] = refunded["return_shipping"].agg(math.fsum)
    out["return_insurance"] = orders["insured"].groupby(day).sum() * insurance_premium
    booked = costs.pivot_table(index="date", columns="item", values="amount", aggfunc="sum")
    for column in ("promotion_cost", "crm_cost", "holding_cost", "listing_cost", "write_offs", *reports.FIXED_COSTS):
        out[column] = booked.get(column, 0.0)
    out = out.fillna(0.0).round(2)
    out = out[["gross_sales", "discounts", "revenue", "returned_cogs", *reports.VARIABLE_COSTS, *reports.FIXED_COSTS]]
    out.insert(len(out.columns) - len(reports.FIXED_COSTS), "contribution",
               (out["revenue"] + out["returned_cogs"] - out[list(reports.VARIABLE_COSTS)].sum(axis=1)).round(2))
    out["net_profit"] = (out["contribution"] - out[list(reports.FIXED_COSTS)].sum(axis=1)).round(2)
    return out.reset_index()


def _daily_from_rows(sessions: pd.DataFrame, orders: pd.DataFrame, order_items: pd.DataFrame,
                 pnl_table: pd.DataFrame, ads: pd.DataFrame, dates: pd.DatetimeIndex,
                 shop_days: pd.DataFrame, service: pd.DataFrame) -> pd.DataFrame:
    """The daily report (日报): one row per day of traffic, funnel, sales, refunds, customers, profit
    and customer service.

    ``shop_days`` holds the shop's end-of-day ``followers``, ``dsr`` (stars), its three DSR
    dimensions, ``dispute_rate`` and ``refund_approval_hours``, by date; ``service`` is the
    inquiries table. Refunds are those completed that day (from ``pnl_table``).
    """
    index = pd.DatetimeIndex(dates, name="date")
    s_day = reports.local_date(sessions["ts"])
    s = sessions.groupby(s_day)
    out = pd.DataFrame(index=index)
    out["pv"] = s["page_views"].sum()
    out["uv"] = s["customer_id"].nunique()
    out["sessions"] = s.size()
    o_day = reports.local_date(orders["ts"])
    o = orders.groupby(o_day)
    out["submitted_orders"] = s["order_submitted"].sum()
    out["orders"] = o.size()
    out["buyers"] = o["customer_id"].nunique()
    submitters = sessions.loc[sessions["order_submitted"], "customer_id"].groupby(s_day[sessions["order_submitted"]])
    units = order_items.groupby("order_id")["qty"].sum()
    out["units"] = orders["order_id"].map(units).groupby(o_day).sum()
    out["gmv"] = o["paid_amount"].sum().round(2)
    out = out.fillna(0)
    for c in ("pv", "uv", "sessions", "submitted_orders", "orders", "buyers", "units"):
        out[c] = out[c].astype(np.int64)
    bounced = s["bounced"].sum().reindex(index, fill_value=0)
    carted = s["added_to_cart"].sum().reindex(index, fill_value=0)
    carted_paid = (sessions["added_to_cart"] & sessions["ordered"]).groupby(s_day).sum().reindex(index, fill_value=0)
    out["favourites"] = s["favourited"].sum().reindex(index, fill_value=0).astype(np.int64)
    out["conversion_rate"] = reports.conversion_rate(out["buyers"], out["uv"])
    out["order_conversion_rate"] = reports.conversion_rate(submitters.nunique().reindex(index, fill_value=0), out["uv"])
    out["aov"] = reports.aov(out["gmv"], out["buyers"])
    out["avg_order_value"] = reports.avg_order_value(out["gmv"], out["orders"])
    out["bounce_rate"] = reports.bounce_rate(bounced, out["sessions"])
    out["add_to_cart_rate"] = reports.add_to_cart_rate(carted, out["sessions"])
    out["cart_abandonment_rate"] = reports.cart_abandonment_rate(carted_paid, carted)
    p = pnl_table.set_index("date").reindex(index)
    out["refund_amount"] = p["refunds"]
    out["refund_rate"] = reports.refund_rate(p["refunds"], out["gmv"])
    out["net_gmv"] = (out["gmv"] - p["refunds"]).round(2)
    out["ad_spend"] = p[["ad_spend_search", "ad_spend_display", "affiliate_commission"]].sum(axis=1)
    ad_revenue = ads.groupby(reports.local_date(ads["ts"]))["revenue"].sum().reindex(index, fill_value=0.0)
    out["roas"] = reports.roas(ad_revenue, out["ad_spend"])
    is_new = orders["session_id"].map(sessions.set_index("session_id")["is_new_customer"]).astype(bool)
    new = orders.loc[is_new, "customer_id"].groupby(o_day[is_new]).nunique()
    out["new_customers"] = new.reindex(index, fill_value=0).astype(np.int64)
    out["returning_customers"] = out["buyers"] - out["new_customers"]
    out["followers"] = shop_days["followers"]
    out["dsr"] = shop_days["dsr"]
    for column in DSR_DIMENSIONS:
        out[column] = shop_days[column]
    out["gross_profit"] = (p["revenue"] - p["cogs"]).round(2)
    out["contribution"] = p["contribution"]
    out["net_profit"] = p["net_profit"]
    by_day = service.groupby(reports.local_date(service["ts"]))
    out["inquiries"] = by_day.size().reindex(index, fill_value=0).astype(np.int64)
    ordered = by_day["ordered"].sum().reindex(index, fill_value=0)
    out["inquiry_conversion_rate"] = reports.inquiry_conversion_rate(ordered, out["inquiries"])
    out["first_response_s"] = by_day["first_response_s"].mean().reindex(index).astype(float).round(1)
    out["complaints"] = by_day["complaint"].sum().reindex(index, fill_value=0).astype(np.int64)
    out["dispute_rate"] = shop_days["dispute_rate"]
    out["refund_approval_hours"] = shop_days["refund_approval_hours"]
    return out.reset_index()


def _from_rows(sim: shopsim.Simulation) -> tuple[pd.DataFrame, pd.DataFrame]:
    t, rec = sim.tables, sim.records
    dates = sim.clock.dates(np.arange(rec.days_done))
    pnl = _pnl_from_rows(t["orders"], t["order_items"], t["costs"], t["ads"], sim.scenario.shop, dates, t["refunds"],
                         sim.scenario.returns.insurance_premium)
    shop_days = pd.DataFrame({"followers": rec.days.column("followers").astype(np.int64),
                              **{c: rec.days.column(c) for c in ("dsr", *DSR_DIMENSIONS, "dispute_rate",
                                                                  "refund_approval_hours")}}, index=dates)
    daily = _daily_from_rows(t["sessions"], t["orders"], t["order_items"], pnl, t["ads"], dates, shop_days,
                             t["service"])
    return pnl, daily


@pytest.fixture(scope="module")
def festival_run():
    """A run with a festival (pre-sale deposits, the main day), paid traffic, refunds, and a policy
    reading tables every morning (so the cache is extended 40 times)."""
    return shopsim.simulate("festival_double11", 40, seed=3, policy=policies.rule_based)


def test_daily_and_pnl_from_the_day_book_equal_those_from_every_row(festival_run):
    pnl, daily = _from_rows(festival_run)
    pd.testing.assert_frame_equal(festival_run.tables["pnl"], pnl, check_exact=True)
    # ROAS is ad revenue (a float sum of unrounded line amounts) over spend: the day book adds the
    # revenue slice by slice, the rebuild all at once, so its last bit may differ; everything else is exact
    book = festival_run.tables["daily"]
    pd.testing.assert_frame_equal(book.drop(columns="roas"), daily.drop(columns="roas"), check_exact=True)
    pd.testing.assert_series_equal(book["roas"], daily["roas"], check_exact=False, rtol=1e-12)
    assert festival_run.tables["pnl"]["refunds"].sum() > 0 and festival_run.tables["daily"]["roas"].notna().any()


def _reply_to_two(view):
    reviews = view.tables["reviews"]
    for review_id in reviews.loc[(reviews["rating"] <= 2) & ~reviews["replied"], "review_id"].head(2):
        view.reply_to_review(int(review_id))


@pytest.mark.parametrize("scenario", ["baseline", "review_crisis"])
def test_tables_read_every_morning_equal_tables_read_once(scenario):
    """The cache extended day by day (a policy reads every table each morning) gives the same
    frames as one build at the end; replies to old reviews show in the extended reviews table."""
    def reader(view):
        for name in shopsim.TABLES:
            view.tables[name]
        _reply_to_two(view)

    peeking = shopsim.simulate(scenario, 12, seed=4, policy=reader)
    fresh = shopsim.simulate(scenario, 12, seed=4, policy=_reply_to_two)
    assert peeking.tables["reviews"]["replied"].any()
    for name in shopsim.TABLES:
        pd.testing.assert_frame_equal(peeking.tables[name], fresh.tables[name], check_exact=True, obj=name)


def test_a_table_read_is_a_copy_the_cache_keeps_its_own():
    sim = shopsim.Simulation("baseline", seed=1).run(2)
    daily = sim.tables["daily"]
    daily["gmv"] = 0.0
    daily.loc[0, "uv"] = -1
    assert (sim.tables["daily"]["gmv"] > 0).all() and (sim.tables["daily"]["uv"] > 0).all()


def test_a_table_registered_the_usual_way_is_extended_not_rebuilt():
    """A new recorder buffer with a ``<name>_table(rows)`` method gets the same treatment: each
    read builds only the rows recorded since the last."""
    sim = shopsim.Simulation("baseline", seed=1)
    rec = sim.records
    rec.visits = Buffer(dtypes={"day": np.int32, "n": np.int64})
    asked = []

    def visits_table(rows=slice(None)):
        asked.append((rows.start, rows.stop))
        return pd.DataFrame({"day": rec.visits.column("day", rows), "n": rec.visits.column("n", rows)})

    rec.visits_table = visits_table
    for day in range(3):
        sim.run(1)
        rec.visits.append(day=day, n=np.arange(day + 1))
        frame = sim.table_cache.get("visits")
        assert frame["day"].tolist() == [d for d in range(day + 1) for _ in range(d + 1)]
    assert asked == [(0, 1), (1, 3), (3, 6)]
    sim.table_cache.get("visits")
    assert len(asked) == 3, "nothing new: nothing built"


def test_buffer_reads_rows_by_absolute_number_and_releases_them():
    b = Buffer(dtypes={"x": np.int32})
    for part in ([1, 2, 3], [4], [5, 6]):
        b.append(x=np.array(part))
    assert b.column("x", slice(2, 5)).tolist() == [3, 4, 5]
    assert b.column("x").dtype == np.int32
    b.release()
    b.append(x=np.array([7, 8]))
    assert b.rows == 8 and b.first == 6
    assert b.column("x").tolist() == [7, 8] and b.column("x", slice(7, 8)).tolist() == [8]


def test_a_buffer_expecting_rows_makes_room_once_and_keeps_what_it_holds():
    b = Buffer(dtypes={"x": np.int32}, keep=())
    b.append(x=np.arange(10))
    b.expect(5_000)
    room = b._grown["x"]
    assert len(room) >= 5_010
    for part in range(50):
        b.append(x=np.full(100, part))
    assert b._grown["x"] is room, "5,000 rows went into the room made for them: no growth, no copy"
    assert b.column("x")[:12].tolist() == [*range(10), 0, 0] and b.rows == 5_010
    b.expect(5_001)  # a little more than the room left: the room at least doubles
    assert len(b._grown["x"]) >= 2 * len(room) and b.column("x")[-1] == 49
    chunked = Buffer("y")
    chunked.expect(100)  # nothing to make room in
    assert chunked.rows == 0


def test_a_day_close_makes_room_for_the_rest_of_the_run_at_its_pace():
    sim = shopsim.Simulation("baseline", seed=2).run(1)
    sessions = sim.records.sessions
    assert sessions._capacity >= sessions.rows * 30, "29 more days and a quarter"
    rooms = [sessions._grown["ts"]]
    for _ in range(29):
        sim.run(1)
        if sessions._grown["ts"] is not rooms[-1]:
            rooms.append(sessions._grown["ts"])
    assert len(rooms) <= 2, "at most one more step (doubling) when the pace picks up; fourfold growth took 3"


def test_a_declared_buffer_casts_broadcasts_grows_and_keeps_released_keys():
    b = Buffer(dtypes={"x": np.int16, "day": np.int32}, keep=("x",))
    for day in range(40):  # past several doublings of its arrays
        b.append(x=np.arange(day, day + 3, dtype=np.int64), day=day)
    assert b.rows == 120 and b.column("x").dtype == np.int16 and b.column("day").dtype == np.int32
    assert b.column("day", slice(3, 7)).tolist() == [1, 1, 1, 2]
    assert b.column("x", slice(118, 500)).tolist() == [40, 41]
    assert b.column("x", slice(50, 40)).tolist() == []
    b.release()
    b.append(x=[7, 8], day=np.float64(40.0))
    assert b.column("day").tolist() == [40, 40] and b.column("day", slice(0, 121)).tolist() == [40]
    assert b.whole_column("x")[-5:].tolist() == [39, 40, 41, 7, 8]
