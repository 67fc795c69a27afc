"""One product's own P&L (单品盈亏, decisions.sku_pnl) and decisions graded on one SKU's objective."""

from __future__ import annotations

import pytest

import shopsim
from shopsim import plans
from shopsim.grading import checks, decisions

SCENARIO, SKU, DAYS = "new_product_launch", "TEE-WAFFLE", 12
LISTING = [{"day": 0, "lever": "improve_listing", "sku": SKU, "kind": kind}
           for kind in ("main_image", "title", "detail_page")]
PUSH = [*LISTING, {"day": 0, "lever": "set_price", "sku": SKU, "price": 69}]


def test_the_products_contributions_add_up_to_the_shops_contribution_less_the_costs_of_no_product():
    sc = shopsim.load_scenario(SCENARIO)
    plan = [*PUSH, {"day": 1, "lever": "flash_sale", "sku": SKU, "price": 49, "cap": 50, "hours": 6},
            {"day": 0, "lever": "set_affiliate_commission", "sku": SKU, "rate": 0.1},
            {"day": 0, "lever": "set_return_insurance", "on": True}]
    # seed 10: in 12 days this push leaves the tee's contribution near zero, -1,245 to +2,812 yuan on seeds
    # 1-10 of the sliced engine (positive on 5, 7, 8, 9 and 10), so the last check needs a month where it paid
    tables = shopsim.simulate(sc, days=DAYS, seed=10, policy=plans.policy(plans.check(plan, DAYS))).tables
    per_sku = decisions.sku_pnl(tables, sc)
    assert per_sku["sku"].tolist() == decisions.own_skus(sc)
    pnl, refunds = tables["pnl"], tables["refunds"]
    written_off = float((refunds["goods_cost"] * ~refunds["restocked"].astype(bool)).sum())
    no_product = (pnl["holding_cost"].sum() + pnl["crm_cost"].sum()
                  + pnl["promotion_cost"].sum() - sc.promotions.flash_sale_fee  # the flash sale's slot is the tee's
                  + pnl["write_offs"].sum() - written_off)  # units lost in the warehouse
    assert per_sku["contribution"].sum() - no_product == pytest.approx(pnl["contribution"].sum(), abs=1.0)
    assert per_sku["gmv"].sum() == pytest.approx(pnl["revenue"].sum(), abs=1.0)
    assert per_sku["units"].sum() == tables["order_items"]["qty"].sum()
    tee = per_sku.set_index("sku").loc[SKU]
    assert 0 < tee["contribution"] < tee["gmv"]


def test_listing_work_and_ads_are_charged_to_the_product_they_were_ordered_for():
    sc = shopsim.load_scenario(SCENARIO)
    runs = {name: decisions.sku_pnl(shopsim.simulate(sc, days=1, seed=2, policy=plans.policy(
        plans.check(plan, 1))).tables, sc).set_index("sku") for name, plan in (("none", []), ("work", LISTING))}
    cost = sum(w.cost for w in sc.listing_work.values())
    # on day 0 nothing is live yet, so the same seed sells the same: the only change is the work's bill
    assert runs["none"].loc[SKU, "contribution"] - runs["work"].loc[SKU, "contribution"] == pytest.approx(cost)
    others = runs["none"].drop(index=SKU)
    assert (runs["work"].drop(index=SKU)["contribution"] == others["contribution"]).all()


def test_a_decision_graded_on_one_products_contribution_scores_nothing_0_and_the_reference_1():
    objective, month = f"sku_contribution:{SKU}", 30  # within 12 days the push may not have paid yet
    nothing = decisions.evaluate_plan([], SCENARIO, (11,), reference=PUSH, days=month, objective=objective)
    assert nothing.share == 0.0
    same = decisions.evaluate_plan(PUSH, SCENARIO, (11,), reference=PUSH, days=month, objective=objective)
    assert same.share == pytest.approx(1.0)
    assert same.table["reference"].iloc[0] > same.table["nothing"].iloc[0], "the push pays for the tee"
    assert f"contribution of {SKU}" in same.notes[0]


def test_a_units_target_of_one_product_is_a_limit_and_breaking_it_scores_0():
    result = decisions.evaluate_plan(PUSH, SCENARIO, (11,), reference=PUSH, days=DAYS,
                                     objective=f"sku_contribution:{SKU}", at_least={f"sku_units:{SKU}": 10**6})
    assert result.share == 0.0
    assert any(f"units of {SKU} sold was" in n and "below the required 1,000,000" in n for n in result.notes)


@pytest.mark.parametrize(("objective", "message"), [
    ("sku_margin:TEE-WAFFLE", "unknown objective 'sku_margin:TEE-WAFFLE'"),
    ("sku_contribution:", "unknown objective 'sku_contribution:'"),
    ("sku_contribution:NT-HENLEY", "names no own SKU of new_product_launch"),
])
def test_a_products_objective_must_name_a_kind_and_an_own_sku(objective, message):
    with pytest.raises(ValueError, match=message):
        decisions.evaluate_plan([], SCENARIO, (11,), reference=PUSH, days=DAYS, objective=objective)


def test_the_practice_key_of_a_products_decision_holds_its_yardsticks():
    from shopsim.grading import answer_key

    price = [{"day": 0, "lever": "set_price", "sku": SKU, "price": 69}]  # pays for the tee over a month
    with checks.recording() as seen:
        checks.decision(price, price, name="launch", scenario=SCENARIO, seeds=(11,), days=None,
                        objective=f"sku_contribution:{SKU}", practice_seeds=(12,))
    spec = answer_key.seal(seen[0], "salt")
    assert spec["objective"] == f"sku_contribution:{SKU}" and list(spec["practice"]) == [12]
    answer_key.verify({"launch": price}, [spec])
    with pytest.raises(checks.CheckFailed, match="on the practice seed"):
        answer_key.verify({"launch": []}, [spec])
