"""KPI definitions, the P&L and the daily report (reports), and the columnar records (records)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from invariants import local_day

import shopsim
from shopsim import reports
from shopsim.records import BOOKED_COSTS, DAY_AMOUNTS, DAY_COUNTS, Buffer, categorical, nullable_int
from shopsim.scenario import Shop


# -- KPI functions -------------------------------------------------------------------------------
@pytest.mark.parametrize("kpi, num, den, expected", [
    (reports.conversion_rate, 3, 150, 0.02),
    (reports.aov, 1000.0, 8, 125.0),
    (reports.avg_order_value, 1000.0, 10, 100.0),
    (reports.refund_rate, 150.0, 1000.0, 0.15),
    (reports.bounce_rate, 45, 100, 0.45),
    (reports.add_to_cart_rate, 8, 100, 0.08),
    (reports.roas, 300.0, 100.0, 3.0),
])
def test_kpi_values(kpi, num, den, expected):
    assert float(kpi(num, den)) == pytest.approx(expected)


@pytest.mark.parametrize("kpi", [reports.conversion_rate, reports.aov, reports.avg_order_value, reports.bounce_rate,
                                 reports.add_to_cart_rate, reports.roas, reports.cart_abandonment_rate])
def test_kpis_are_nan_on_a_zero_denominator(kpi):
    assert np.isnan(kpi(0, 0))
    assert np.isnan(kpi(5, 0))
    out = kpi(np.array([1, 0, 2]), np.array([4, 0, 0]))
    assert not np.isnan(out[0]) and np.isnan(out[1:]).all()


def test_cart_abandonment_is_one_minus_orders_over_carts():
    assert float(reports.cart_abandonment_rate(30, 100)) == pytest.approx(0.7)
    assert float(reports.cart_abandonment_rate(0, 10)) == 1.0


def test_kpis_work_on_series():
    out = reports.conversion_rate(pd.Series([1, 2]), pd.Series([50, 0]))
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1])


def test_local_date_is_the_shanghai_calendar_day():
    ts = pd.Series(pd.to_datetime(["2026-03-02 23:59:59", "2026-03-03 00:00:00"]).tz_localize("Asia/Shanghai"))
    assert list(reports.local_date(ts)) == [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-03")]


# -- the P&L ---------------------------------------------------------------------------------------
def _day_book(**columns):
    """A three-day day book: every aggregate 0 unless given."""
    dates = pd.date_range("2026-03-02", periods=3)
    book = {c: np.zeros(3) for c in (*DAY_COUNTS, *DAY_AMOUNTS, *BOOKED_COSTS)}
    book.update({c: np.asarray(v, dtype=float) for c, v in columns.items()})
    book["date"] = dates
    return book


def test_pnl_traces_every_yuan():
    # day 1: two orders (one insured, the shop ships both), paid search and an affiliate commission;
    # day 2: one order whose buyer paid the shipping, listing work; day 3: a refund, a write-off, staff
    book = _day_book(gross_sales=[150, 30, 0], discounts=[10, 0, 0], revenue=[140, 30, 0], cogs=[50, 12, 0],
                     orders=[2, 1, 0], shop_shipped=[2, 0, 0], insured=[1, 0, 0], ad_spend_search=[20, 0, 0],
                     affiliate_commission=[10, 0, 0], holding_cost=[1.5, 0, 0], listing_cost=[0, 300, 0],
                     refunds=[0, 0, 50], returned_cogs=[0, 0, 20], return_shipping=[0, 0, 12],
                     write_offs=[0, 0, 20], staff=[0, 0, 100])
    shop = Shop(platform_fee_rate=0.05, shipping_cost_per_order=6.0, payment_fee_rate=0.01, packaging_per_order=2.0,
                affiliate_service_fee_rate=0.1)
    p = reports.pnl(book, shop, insurance_premium=0.9).set_index("date")
    assert list(p.index) == list(book["date"])
    assert p["gross_sales"].tolist() == [150.0, 30.0, 0.0]
    assert p["discounts"].tolist() == [10.0, 0.0, 0.0]
    assert p["revenue"].tolist() == [140.0, 30.0, 0.0]
    assert p["cogs"].tolist() == [50.0, 12.0, 0.0]
    assert p["platform_fee"].tolist() == [7.0, 1.5, 0.0]
    assert p["shipping"].tolist() == [12.0, 0.0, 0.0]
    assert p["ad_spend_search"].tolist() == [20.0, 0.0, 0.0]
    assert p["holding_cost"].tolist() == [1.5, 0.0, 0.0]
    assert p["listing_cost"].tolist() == [0.0, 300.0, 0.0]
    assert p["payment_fee"].tolist() == [1.4, 0.3, 0.0]
    assert p["packaging"].tolist() == [4.0, 2.0, 0.0]
    assert p["affiliate_commission"].tolist() == [10.0, 0.0, 0.0]
    assert p["affiliate_service_fee"].tolist() == [1.0, 0.0, 0.0]
    assert p["return_insurance"].tolist() == [0.9, 0.0, 0.0]
    assert p["refunds"].tolist() == [0.0, 0.0, 50.0], "a refund is booked on the day it is completed"
    assert p["returned_cogs"].tolist() == [0.0, 0.0, 20.0]
    assert p["return_shipping"].tolist() == [0.0, 0.0, 12.0]
    assert p["write_offs"].tolist() == [0.0, 0.0, 20.0]
    first = 140 - 50 - 7 - 1.4 - 12 - 4 - 20 - 10 - 1 - 0.9 - 1.5
    assert p["contribution"].tolist() == pytest.approx([first, 30 - 12 - 1.5 - 0.3 - 2 - 300, 20 - 50 - 12 - 20])
    assert p["net_profit"].tolist() == pytest.approx([first, 30 - 12 - 1.5 - 0.3 - 2 - 300, 20 - 50 - 12 - 20 - 100])
    assert set(reports.COST_LINES) <= set(p.columns)


# -- the daily report on a real run ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def short_run():
    return shopsim.simulate("baseline", 3, seed=2)


def test_daily_report_uses_the_kpi_definitions(short_run):
    t = {name: short_run.tables[name] for name in ("sessions", "orders", "order_items", "pnl", "daily")}
    s, o, d = t["sessions"], t["orders"], t["daily"].set_index("date")
    sd, od = s.groupby(local_day(s["ts"])), o.groupby(local_day(o["ts"]))
    assert (d["pv"] == sd["page_views"].sum()).all()
    assert (d["uv"] == sd["customer_id"].nunique()).all()
    assert (d["buyers"] == od["customer_id"].nunique()).all()
    assert d["conversion_rate"].to_numpy() == pytest.approx((d["buyers"] / d["uv"]).to_numpy())
    assert d["aov"].to_numpy() == pytest.approx((od["paid_amount"].sum() / od["customer_id"].nunique()).to_numpy())
    assert d["avg_order_value"].to_numpy() == pytest.approx((od["paid_amount"].sum() / od.size()).to_numpy())
    assert (d["submitted_orders"] == sd["order_submitted"].sum()).all()
    assert d["bounce_rate"].to_numpy() == pytest.approx(sd["bounced"].mean().to_numpy())
    assert d["add_to_cart_rate"].to_numpy() == pytest.approx(sd["added_to_cart"].mean().to_numpy())
    carted_paid = (s["added_to_cart"] & s["ordered"]).groupby(local_day(s["ts"])).sum()
    assert d["cart_abandonment_rate"].to_numpy() == pytest.approx(
        (1 - carted_paid / sd["added_to_cart"].sum()).to_numpy())
    units = t["order_items"].groupby("order_id")["qty"].sum()
    assert (d["units"] == o["order_id"].map(units).groupby(local_day(o["ts"])).sum()).all()
    first = o.merge(s[["session_id", "is_new_customer"]], on="session_id")
    new = first[first["is_new_customer"]].groupby(local_day(first["ts"]))["customer_id"].nunique()
    assert (d["new_customers"] == new.reindex(d.index, fill_value=0)).all()
    assert (d["new_customers"] + d["returning_customers"] == d["buyers"]).all()
    pnl = t["pnl"].set_index("date")
    assert d["gross_profit"].to_numpy() == pytest.approx((pnl["revenue"] - pnl["cogs"]).to_numpy(), abs=0.011)


def test_summary_quotes_the_totals(short_run):
    t = short_run.tables
    text = reports.summary(t["daily"], t["pnl"], *short_run.records.run_people())
    revenue = short_run.tables["pnl"]["revenue"].sum()
    assert f"{revenue:,.0f}" in text
    assert f"days {short_run.days_run}" in text
    assert "net profit" in text


# -- records -------------------------------------------------------------------------------------------
def test_buffer_appends_chunks_and_broadcasts_scalars():
    b = Buffer("day", "x")
    b.append(day=0, x=np.array([1, 2, 3]))
    b.append(day=1, x=np.array([4]))
    assert b.rows == 4
    assert b.column("day").tolist() == [0, 0, 0, 1]
    assert b.column("x").tolist() == [1, 2, 3, 4]
    assert b.column("x").tolist() == [1, 2, 3, 4], "reading twice gives the same column"
    b.append(day=2, x=np.array([], dtype=int))
    assert b.rows == 4 and b.column("day").tolist() == [0, 0, 0, 1]


def test_categorical_and_nullable_int():
    c = categorical(np.array([1, 0, -1]), ["A", "B"])
    assert list(c.categories) == ["A", "B"]
    assert c[0] == "B" and c[1] == "A" and pd.isna(c[2])
    n = nullable_int(np.array([5, -1, 7]), np.array([False, True, False]))
    assert str(n.dtype) == "Int64"
    assert n[0] == 5 and pd.isna(n[1]) and n[2] == 7


def test_a_periods_uv_counts_each_visitor_once(short_run):
    t = short_run.tables
    uv = reports.unique_visitors(t["sessions"])
    assert uv == t["sessions"]["customer_id"].nunique() < t["daily"]["uv"].sum()
    assert reports.paying_buyers(t["orders"]) == t["orders"]["customer_id"].nunique()
    buyers = reports.paying_buyers(t["orders"])
    assert short_run.records.run_people() == (uv, buyers), "the day book's run counts equal the tables'"
    assert f"UV {uv:,} " in reports.summary(t["daily"], t["pnl"], uv, buyers)
    row = reports.period_totals(t["daily"], t["pnl"], t["ads"], uv, buyers)
    assert row["uv"] == uv and row["aov"] == pytest.approx(t["pnl"]["revenue"].sum() / row["buyers"])


def test_product_pnl_adds_up_to_the_pnl_lines_a_product_carries(short_run):
    t = short_run.tables
    products = reports.product_pnl(t["order_items"], t["ads"], t["refunds"], t["inventory"])
    assert list(products.columns) == list(reports.PRODUCT_PNL_COLUMNS)
    p = t["pnl"].drop(columns="date").sum()
    carried = (p["revenue"] - p["cogs"] - p["ad_spend_search"] - p["ad_spend_display"] - p["affiliate_commission"]
               - p["refunds"] + p["returned_cogs"] - p["write_offs"])
    assert products["profit"].sum() == pytest.approx(carried, abs=0.05 * len(products))
    assert products["units"].sum() == t["order_items"]["qty"].sum()
