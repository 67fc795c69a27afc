"""Loyal customers: the repurchase hazard by category and satisfaction, refunds, CRM to lapsed buyers."""

from __future__ import annotations

import numpy as np

import shopsim
from shopsim.customers import CustomerBase


def base(**customers) -> CustomerBase:
    sc = shopsim.load_scenario("baseline", [f"customers.{k}={v}" for k, v in customers.items()])
    b = CustomerBase(sc.customers, sc.traffic, np.random.default_rng(1))
    b.set_categories(["shirts", "tees", "trousers"])
    return b


def test_a_well_served_buyer_comes_back_more_than_a_badly_served_one():
    b = base()
    ids = np.arange(4)
    b.remember_orders(ids, np.array([1, 1, 1, 1]), np.array([5.0, 4.5, 3.0, 1.5]))
    factor = b.hazard_factor(ids)
    assert factor[0] > factor[1] == 1.0 > factor[2] > factor[3]


def test_a_refunded_buyer_is_less_likely_to_return():
    b = base()
    ids = np.arange(2)
    b.remember_orders(ids, np.array([1, 1]), np.array([4.5, 4.5]))
    b.mark_refunded(ids[:1])
    factor = b.hazard_factor(ids)
    assert factor[0] == factor[1] * b.settings.refund_return_factor


def test_repurchase_hazard_by_category():
    b = base(**{"repurchase_by_category": "{tees: 1.5, shirts: 0.7}"})
    ids = np.arange(3)
    b.remember_orders(ids, np.array([0, 1, 2]), np.full(3, 4.5))
    assert list(b.hazard_factor(ids)) == [0.7, 1.5, 1.0]


def test_basics_buyers_come_back_more_often_when_their_category_says_so():
    counts = []
    for factor in (1.0, 3.0):
        sc = shopsim.load_scenario("baseline", [f"customers.repurchase_by_category={{tees: {factor}}}"])
        sim = shopsim.simulate(sc, 20, seed=2)
        s = sim.tables["sessions"]
        counts.append(int((s["source"] == "returning").sum()))
    assert counts[1] > counts[0]


def test_past_buyers_come_back_through_the_orders_page_and_the_feed(baseline_run):
    s = baseline_run.tables["sessions"]
    back = s[~s["is_new_customer"]]
    assert {"returning", "feed", "direct"} <= set(back["source"].unique())


def test_crm_to_lapsed_buyers_reaches_a_measurable_share():
    sim = shopsim.Simulation("baseline", seed=3)
    lapsed = sim.crm.segment("lapsed_buyers", 0)
    sent = sim.send_crm("lapsed_buyers")
    sim.run(4)
    assert sent == len(lapsed) > 5000
    s = sim.tables["sessions"]
    crm = s[s["source"] == "crm"]
    assert crm["customer_id"].isin(lapsed).all()
    reached = crm["customer_id"].nunique() / len(lapsed)
    assert 0.005 < reached < 0.05, f"{reached:.2%} of the lapsed buyers visited"
    assert crm["ordered"].sum() > 0
