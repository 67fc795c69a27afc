"""The bundled ``baseline`` lands in every range of docs/calibration.md that this engine covers.

Measured on the tables the run produces (never on the model's parameters), over three seeds.
The rows that need an operator's action live beside their mechanism: paid-search click-through
at the top slot, display click-through, cost per click vs bid and the affiliate commission in
``tests/test_ads.py``; the Double 11 main day (GMV and its return wave) in ``tests/test_festivals.py``.
The money rows of the second table owned here: net margin and the ordinary month's refunds.
"""

from __future__ import annotations

import pandas as pd
import pytest
from invariants import local_day

import shopsim

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def month(request) -> dict[str, pd.DataFrame]:
    sim = shopsim.simulate("baseline", seed=request.param)
    assert sim.days_run == 30
    return {name: sim.tables[name] for name in ("sessions", "orders", "order_items", "pnl")}


def test_conversion_rate_every_ordinary_day(month):
    """Conversion rate = buyers / visitors (unique customers) per day: 1.5 % - 3.5 %, every day."""
    s, o = month["sessions"], month["orders"]
    visitors = s.groupby(local_day(s["ts"]))["customer_id"].nunique()
    buyers = o.groupby(local_day(o["ts"]))["customer_id"].nunique().reindex(visitors.index, fill_value=0)
    rate = buyers / visitors
    assert len(rate) == 30
    assert rate.between(0.015, 0.035).all(), f"days outside 1.5-3.5 %: {rate[~rate.between(0.015, 0.035)]}"


def test_bounce_rate(month):
    """One-page sessions / sessions: 35 % - 60 %."""
    s = month["sessions"]
    assert 0.35 <= (s["page_views"] == 1).mean() <= 0.60
    assert 0.35 <= s["bounced"].mean() <= 0.60


def test_add_to_cart_rate(month):
    """Sessions with a cart add / sessions: 5 % - 12 %."""
    assert 0.05 <= month["sessions"]["added_to_cart"].mean() <= 0.12


def test_cart_abandonment(month):
    """1 - paid orders / sessions with a cart add: 60 % - 80 % (buy-now orders skip the cart, so
    the orders counted are those of sessions that carted)."""
    s = month["sessions"]
    carted = s["added_to_cart"].sum()
    assert 0.60 <= 1 - (s["added_to_cart"] & s["ordered"]).sum() / carted <= 0.80


def test_net_margin(month):
    """Net profit after every cost (goods, fees, shipping, packaging, refunds, staff and fixed
    costs, write-offs) / GMV: 4 % - 15 %."""
    p = month["pnl"]
    assert 0.04 <= p["net_profit"].sum() / p["revenue"].sum() <= 0.15


def test_refunds_of_an_ordinary_month(month):
    """Refunded amount / GMV, an ordinary month of men's basics: 8 % - 25 %."""
    p = month["pnl"]
    assert 0.08 <= p["refunds"].sum() / p["revenue"].sum() <= 0.25


def test_hour_of_day(month):
    """Busiest hour within 20:00-22:59; quietest within 02:00-06:59 and at most a quarter of the busiest."""
    by_hour = month["sessions"].groupby(month["sessions"]["ts"].dt.hour).size().reindex(range(24), fill_value=0)
    assert by_hour.idxmax() in (20, 21, 22)
    assert by_hour.idxmin() in (2, 3, 4, 5, 6)
    assert by_hour.min() <= by_hour.max() / 4


def test_mobile_share(month):
    """Share of sessions on a phone: 75 % - 95 %."""
    assert 0.75 <= (month["sessions"]["device"] == "mobile").mean() <= 0.95


def test_gross_margin_at_list_price():
    """(list price - cost) / list price of every own SKU: 40 % - 65 % (scenario data)."""
    sc = shopsim.load_scenario("baseline")
    for sku in sc.skus:
        margin = (sku.price - sku.cost) / sku.price
        assert 0.40 <= margin <= 0.65, f"{sku.sku}: {margin:.1%}"


def test_gross_margin_of_what_sold(month):
    """The margin at list price of the units actually sold lands in the same range."""
    items = month["order_items"]
    revenue = (items["qty"] * items["unit_list_price"]).sum()
    cost = (items["qty"] * items["unit_cost"]).sum()
    assert 0.40 <= (revenue - cost) / revenue <= 0.65
