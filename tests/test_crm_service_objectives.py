"""Objectives of CRM and customer-service decisions: a campaign's own P&L, its orders, the agents' wages."""

from __future__ import annotations

import pytest

import shopsim
from shopsim import plans
from shopsim.grading import decisions

SCENARIO, DAYS, SEED = "baseline", 7, 1
MESSAGE = [{"day": 1, "lever": "send_crm", "segment": "followers", "coupon_amount": 10, "coupon_threshold": 99}]
ROTA = [{"day": 0, "lever": "set_service", "agents_by_hour": [2] * 24}]


@pytest.fixture(scope="module")
def messaged():
    return shopsim.simulate(SCENARIO, days=DAYS, seed=SEED, policy=plans.policy(plans.check(MESSAGE, DAYS))).tables


def test_without_messages_the_campaign_has_no_orders_and_no_profit():
    measured = decisions.run_reference("do_nothing", SCENARIO, SEED, DAYS)
    assert measured["crm_orders"] == 0 and measured["crm_contribution"] == 0


def test_a_campaigns_own_pnl_is_its_orders_margin_less_fees_shipping_refunds_and_the_messages(messaged):
    sc = shopsim.load_scenario(SCENARIO)
    shop = sc.shop
    orders = messaged["orders"]
    crm = orders[orders["source"] == "crm"]
    assert len(crm) > 5 and (crm["discount_amount"] > 0).any()
    lines = messaged["order_items"][messaged["order_items"]["order_id"].isin(crm["order_id"])]
    refunds = messaged["refunds"][messaged["refunds"]["order_id"].isin(crm["order_id"]).fillna(False).astype(bool)]
    by_hand = (crm["paid_amount"].sum() - (lines["qty"] * lines["unit_cost"]).sum()
               - crm["paid_amount"].sum() * (shop.platform_fee_rate + shop.payment_fee_rate)
               - len(crm) * shop.packaging_per_order - (crm["buyer_shipping"] == 0).sum() * shop.shipping_cost_per_order
               - (refunds["amount"] + refunds["return_shipping"] - refunds["goods_cost"] * refunds["restocked"]).sum()
               - messaged["pnl"]["crm_cost"].sum())
    assert decisions.crm_contribution(messaged, sc) == pytest.approx(by_hand, abs=0.05)
    measured = decisions.run_plan(plans.check(MESSAGE, DAYS), SCENARIO, SEED, DAYS)[0]
    assert measured["crm_orders"] == len(crm)
    assert measured["crm_contribution"] == pytest.approx(by_hand, abs=0.05)


def test_the_agents_wages_are_the_rotas_agent_hours_at_the_hourly_wage():
    measured = decisions.run_plan(plans.check(ROTA, DAYS), SCENARIO, SEED, DAYS)[0]
    wage = shopsim.load_scenario(SCENARIO).service.agent_cost_per_hour
    assert measured["customer_service"] == pytest.approx(48 * wage * DAYS)


def test_a_rota_over_the_wage_limit_scores_0_and_the_notes_say_so_and_describe_the_service():
    result = decisions.evaluate_plan(ROTA, SCENARIO, (101,), reference=ROTA, days=DAYS,
                                     at_most={"customer_service": 32 * 25 * DAYS})
    assert result.share == 0 and not result.table["within_limits"].any()
    assert any("customer-service wages (yuan) was" in n and "above the allowed" in n for n in result.notes)
    assert any(n.startswith("Customer service: ") and "answered in time" in n for n in result.notes)


def test_a_campaign_graded_on_its_own_pnl_with_an_orders_floor(messaged):
    result = decisions.evaluate_plan(MESSAGE, SCENARIO, (101,), reference=MESSAGE, days=DAYS,
                                     objective="crm_contribution", at_least={"crm_orders": 1})
    assert result.share == pytest.approx(1.0)
    assert any(n.startswith("CRM messages cost") and "own P&L" in n for n in result.notes)
    short = decisions.evaluate_plan(MESSAGE, SCENARIO, (101,), reference=MESSAGE, days=DAYS,
                                    objective="crm_contribution", at_least={"crm_orders": 10**6})
    assert short.share == 0
    assert any("orders paid in visits CRM messages brought was" in n for n in short.notes)
