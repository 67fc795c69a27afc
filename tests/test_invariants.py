"""Invariants hold on every kind of run: the baseline month, stockouts, reorders, scripted events.

The checks themselves live in ``tests/invariants.py`` so any test can run them on its own run;
the last tests here make sure the checks can fail (a corrupted table is caught).
"""

from __future__ import annotations

import types

import pytest
from invariants import NO_RETURNS, check_invariants, tables_of

import shopsim

BUSY_TIMELINE = [
    {"day": 1, "hour": 10, "kind": "rival_price", "target": "R", "value": 50},
    {"day": 1, "hour": 0, "kind": "traffic_shock", "value": 1.8, "days": 2},
    {"day": 1, "hour": 9, "kind": "stock_loss", "target": "A", "value": 10},
    {"day": 2, "hour": 12, "kind": "review_burst", "target": "A", "value": 5, "days": 1},
    {"day": 3, "hour": 0, "kind": "rival_stockout", "target": "R", "days": 2},
    {"day": 3, "hour": 6, "kind": "supply_delay", "target": "A", "days": 1},
    {"day": 6, "hour": 15, "kind": "rival_restock", "target": "R", "value": 500},
]


@pytest.fixture(scope="module")
def stockout_run(make_tiny):
    """Little stock and a lot of traffic: both SKUs sell out mid-slice in the first days."""
    sc = make_tiny(traffic=3, skus={"A": {"initial_stock": 25}, "B": {"initial_stock": 8}}, returns=NO_RETURNS)
    return shopsim.simulate(sc, 4, seed=11)


@pytest.fixture(scope="module")
def busy_run(make_tiny):
    """Step mode with reorders, listing work, price changes, replies and every timeline event kind."""
    sc = make_tiny(traffic=3, skus={"A": {"initial_stock": 60, "lead_time_days": 2},
                                    "B": {"initial_stock": 30, "lead_time_days": 1}},
                   timeline=BUSY_TIMELINE, days=9)
    sim = shopsim.Simulation(sc, seed=5)
    sim.run(1)
    sim.reorder("A", 80)
    sim.reorder("B", 20)
    sim.improve_listing("B", "title")
    sim.run(2)
    sim.set_price("A", 55)
    sim.reorder("B", 30)
    sim.run(2)
    reviews = sim.tables["reviews"]
    for rid in reviews.loc[reviews["rating"] <= 2, "review_id"]:
        sim.reply_to_review(int(rid))
    sim.reorder("A", 100)
    sim.run(4)
    return sim


def test_baseline_month(baseline_run):
    check_invariants(baseline_run)


def test_stockout_run(stockout_run):
    check_invariants(stockout_run)
    inv = stockout_run.tables["inventory"]
    # not vacuous: both SKUs really ran out, mid-day, and shoppers met the sold-out page
    assert set(inv.loc[inv["on_hand_end"] == 0, "sku"].astype(str)) == {"A", "B"}
    assert ((inv["stockout_hours"] > 0) & (inv["stockout_hours"] < 24)).any()
    events = stockout_run.tables["events"]
    assert set(events.loc[events["kind"] == "stockout", "target"]) == {"A", "B"}


def test_stockout_sells_exactly_the_stock(stockout_run):
    items = stockout_run.tables["order_items"]
    sold = items.groupby(items["sku"].astype(str))["qty"].sum()
    assert sold["A"] == 25
    assert sold["B"] == 8


def test_no_session_orders_a_sold_out_sku(stockout_run):
    t = tables_of(stockout_run)
    inv, sessions, events = t["inventory"], t["sessions"], t["events"]
    for sku in ("A", "B"):
        out_at = events.loc[(events["kind"] == "stockout") & (events["target"] == sku), "ts"].min()
        later = sessions[(sessions["landing_sku"] == sku) & (sessions["ts"] > out_at)]
        assert len(later) > 0
        assert not later["ordered"].any(), f"{sku}: orders after it sold out at {out_at}"
        assert not later["added_to_cart"].any()
    assert inv["on_hand_end"].min() == 0


def test_busy_run_with_reorders_and_every_event_kind(busy_run):
    check_invariants(busy_run)
    inv = busy_run.tables["inventory"]
    assert inv["received"].sum() > 0, "no reorder arrived: the run does not test arrivals"
    assert inv["lost"].sum() > 0
    kinds = set(busy_run.tables["events"]["kind"])
    assert {"reorder", "restock_arrived", "set_price", "improve_listing", "listing_live", "price_change",
            "stock_loss", "supply_delay", "traffic_change", "restock"} <= kinds


def test_policy_run(make_tiny):
    """A policy acting every morning (the capstone's way) keeps the books straight too."""
    def policy(view):
        stock = view.stock()
        for sku in view.skus:
            if stock[sku] < 40 and view.on_order()[sku] == 0:
                view.reorder(sku, 60)
        if view.day == 2:
            view.set_price("B", 70)

    sc = make_tiny(traffic=2, skus={"A": {"initial_stock": 50, "lead_time_days": 1},
                                    "B": {"initial_stock": 20, "lead_time_days": 2}})
    sim = shopsim.simulate(sc, 6, seed=2, policy=policy)
    check_invariants(sim)
    assert sim.tables["inventory"]["received"].sum() > 0


# -- the checks can fail ---------------------------------------------------------------------
def _corrupt(sim, name, change):
    tables = tables_of(sim)
    tables[name] = change(tables[name].copy())
    return types.SimpleNamespace(tables=tables, scenario=sim.scenario, days_run=sim.days_run)


def _bump(frame, column, row=0, by=1):
    frame.loc[frame.index[row], column] += by
    return frame


@pytest.mark.parametrize("name, change, message", [
    ("inventory", lambda f: _bump(f, "on_hand_end"), "on_hand_end != start"),
    ("inventory", lambda f: _bump(f, "sold", by=-1), "inventory.sold != order_items"),
    ("orders", lambda f: _bump(f, "paid_amount", by=0.05), "pnl.revenue"),
    ("order_items", lambda f: _bump(f, "unit_cost", by=1.0), "cogs"),
    ("pnl", lambda f: _bump(f, "shipping", by=1.0), "contribution"),
    ("pnl", lambda f: _bump(f, "staff", by=1.0), "net_profit"),
    ("sessions", lambda f: f.assign(ts=f["ts"].dt.tz_convert("UTC")), "Asia/Shanghai"),
    ("sessions", lambda f: f.assign(device=f["device"].astype(str)), "not categorical"),
    ("sessions", lambda f: f.drop(columns="keyword"), "required columns missing"),
    ("sessions", lambda f: f.assign(bounced=f["bounced"] | f["ordered"]), "bounced session added to cart"),
    ("orders", lambda f: _bump(f, "session_id"), "order's session"),
])
def test_invariant_checks_catch_corruption(stockout_run, name, change, message):
    fake = _corrupt(stockout_run, name, change)
    with pytest.raises(AssertionError, match=message):
        check_invariants(fake)
