"""Lesson 04 (products, prices and stock): the facts its text and exercises rely on.

The checks are directional, with margins, so they hold whatever the exact numbers; an engine
change that breaks the lesson's story (the hero no longer sells out, a price rise no longer
costs units, the summer reorder point no longer matters) fails here first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shopsim
from shopsim import plans
from shopsim.grading import decisions, reference

HERO = "TEE-CLASSIC"
CRISIS, SUMMER = "stockout_crisis", "summer_stock"
GRADING, PRACTICE = (11, 12, 13), 1
#: The lesson's reference plans (in its hidden checks) and the plans a trainee typically writes.
CRISIS_REFERENCE = [{"day": 0, "lever": "reorder", "sku": HERO, "qty": 2500}]
SUMMER_REFERENCE = [{"rule": "reorder_point", "sku": HERO, "reorder_point": 1400, "order_qty": 2500}]
#: A reorder point built on March's demand (about 107 a day x 7 days + safety stock).
SPRING_RULE = [{"rule": "reorder_point", "sku": HERO, "reorder_point": 800, "order_qty": 1500}]
GOAL = 60_000


@pytest.fixture(scope="module")
def crisis():
    return reference.tables(CRISIS, days=30, seed=PRACTICE)


def _hero(tables) -> pd.DataFrame:
    inv = tables["inventory"]
    return inv[inv["sku"] == HERO].sort_values("date").reset_index(drop=True)


def test_the_crisis_scenario_delays_the_heros_supplier_early_in_the_month():
    sc = shopsim.load_scenario(CRISIS)
    (delay,) = [e for e in sc.timeline if e.kind == "supply_delay"]
    hero = next(s for s in sc.skus if s.sku == HERO)
    assert delay.target == HERO and delay.day <= 2 and delay.days >= 7
    assert hero.lead_time_days + delay.days >= 14, "an order on day 0 cannot arrive before the shelf is empty"


def test_doing_nothing_the_hero_sells_out_in_the_second_week_and_stays_out(crisis):
    hero = _hero(crisis)
    first_out = int(hero.index[hero["stockout_hours"] > 0][0])
    assert 6 <= first_out <= 12
    assert (hero["stockout_hours"].iloc[:7] == 0).all(), "the first week is true demand (Exercise 3)"
    assert hero["stockout_hours"].sum() / 24 >= 14
    assert 80 <= hero["sold"].iloc[:7].mean() <= 140  # "about a hundred units a day"


def test_the_review_month_falls_well_short_of_the_goal_and_the_stockout_is_the_only_planted_cause(crisis):
    pnl, daily = crisis["pnl"], crisis["daily"]
    assert pnl["net_profit"].sum() < GOAL - 15_000
    # the wrong options of the review: refunds as usual, ads within budget, rivals' prices unchanged
    assert 0.08 <= daily["refund_amount"].sum() / daily["gmv"].sum() <= 0.18
    budget = shopsim.load_scenario(CRISIS).campaign.daily_budget
    assert pnl["ad_spend_search"].max() <= budget * 1.01
    assert (crisis["market"].groupby("sku", observed=True)["price"].nunique() == 1).all()


def test_the_hero_is_the_traffic_product_with_the_thinnest_margin_per_unit():
    sc = shopsim.load_scenario(CRISIS)
    rate = sc.shop.platform_fee_rate + sc.shop.payment_fee_rate
    margin = {s.sku: s.price * (1 - rate) - s.cost for s in sc.skus}
    assert min(margin, key=margin.get) == HERO
    assert margin["PANT-CHINO"] >= 2.5 * margin[HERO]  # "three times as much per unit"


def _hero_units(price: float) -> int:
    plan = [{"day": 0, "lever": "set_price", "sku": HERO, "price": price}]
    run = shopsim.simulate("baseline", days=14, seed=1, policy=plans.policy(plans.check(plan, 14)))
    items = run.tables["order_items"]
    return int(items.loc[items["sku"] == HERO, "qty"].sum())


def test_the_heros_own_price_elasticity_is_about_minus_three_both_ways():
    base, cut, rise = _hero_units(59), _hero_units(53), _hero_units(65)
    assert cut > base * 1.15 > base > rise
    for price, units in ((53, cut), (65, rise)):
        assert -6 <= (units / base - 1) / (price / 59 - 1) <= -1.5


def test_tees_and_linen_head_into_their_season_and_holding_costs_less_than_a_clearance():
    sc = shopsim.load_scenario("year_round")
    tees, summer, winter = (np.array(sc.seasons[k]) for k in ("tees", "summer", "winter"))
    assert tees[5] / tees[2] >= 1.5  # June against March
    assert tees[6] > tees[3] and summer[6] > summer[3] > summer[2]  # rising from April to July
    assert winter[3] < winter[2]
    denim = next(s for s in shopsim.load_scenario(CRISIS).skus if s.sku == "SHIRT-DENIM")
    holding_for_two_months = sc.shop.holding_cost_rate * denim.cost * 60  # "a few yuan a unit"
    assert holding_for_two_months < 5 < 20 < 0.2 * denim.price  # against a 20 % discount of 20-30 yuan


def test_the_crisis_decision_rewards_ordering_at_once_and_not_doing_nothing():
    ref = decisions.evaluate_plan(CRISIS_REFERENCE, CRISIS, GRADING, reference=CRISIS_REFERENCE)
    assert (ref.table["reference"] - ref.table["nothing"] > 10_000).all()
    nothing = decisions.evaluate_plan([], CRISIS, GRADING, reference=CRISIS_REFERENCE)
    assert nothing.share == 0
    late = [{"day": 6, "lever": "reorder", "sku": HERO, "qty": 2500}]
    assert 0 < decisions.evaluate_plan(late, CRISIS, GRADING, reference=CRISIS_REFERENCE).share < 0.8


def test_the_summer_decision_needs_the_coming_seasons_demand():
    ref = decisions.evaluate_plan(SUMMER_REFERENCE, SUMMER, GRADING, reference=SUMMER_REFERENCE)
    assert (ref.table["reference"] - ref.table["nothing"] > 15_000).all()
    spring = decisions.evaluate_plan(SPRING_RULE, SUMMER, GRADING, reference=SUMMER_REFERENCE)
    assert 0.2 <= spring.share < 0.8, spring.table
    silly = [{"day": 0, "lever": "set_price", "sku": HERO, "price": 49}]
    assert decisions.evaluate_plan(silly, SUMMER, GRADING, reference=SUMMER_REFERENCE).share < 0.2
