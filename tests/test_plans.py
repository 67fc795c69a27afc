"""Plans as data (shopsim.plans): checked before they run, carried out through the levers."""

from __future__ import annotations

import pytest

import shopsim
from shopsim import plans

SKUS = ["TEE-CLASSIC", "PANT-CHINO"]


@pytest.mark.parametrize(("plan", "words"), [
    ({"day": 0}, "must be a list of steps"),
    ("set_price", "must be a list of steps"),
    ([{"day": 0, "lever": "set_prize", "sku": "TEE-CLASSIC"}], "'lever' must be one of set_price"),
    ([{"day": 30, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 60}], "whole number from 0 to 29"),
    ([{"day": 1.5, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 60}], "whole number"),
    ([{"day": True, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 60}], "whole number"),
    ([{"day": 0, "lever": "set_price", "sku": "TEE-CLASSIC", "prize": 60}], "has no argument 'prize'"),
    ([{"day": 0, "lever": "set_price", "sku": "TEE-CLASSIC"}], "set_price needs 'price'"),
    ([{"day": 0, "lever": "set_price", "sku": "TEE-CLASSIC", "price": {"a": 1}}], "must be a number, a text"),
    ([{"day": 0, "lever": "set_price", "sku": "TEE-GOLD", "price": 60}], "'TEE-GOLD' is not an own SKU"),
    ([{"day": 0}], "needs 'lever' (with 'day') or 'rule'"),
    (["set_price"], "must be a dict"),
    ([{"rule": "reorder_every"}], "'rule' must be one of reorder_point"),
    ([{"rule": "reorder_point", "sku": "TEE-CLASSIC", "reorder_point": 10}], "'order_qty' must be a whole"),
    ([{"rule": "reorder_point", "sku": "TEE-CLASSIC", "reorder_point": -1, "order_qty": 5}], "'reorder_point'"),
    ([{"rule": "reorder_point", "sku": "TEE-CLASSIC", "reorder_point": 1, "order_qty": 5, "qty": 3}],
     "has no field 'qty'"),
    ([{"rule": "reorder_point", "sku": "TEE-GOLD", "reorder_point": 1, "order_qty": 5}], "not an own SKU"),
    ([{"rule": "reorder_point", "sku": "TEE-CLASSIC", "reorder_point": 1, "order_qty": 5}] * 2,
     "has 2 reorder rules"),
    ([{"day": 0, "lever": "set_ads_active", "active": False}] * (plans.MAX_STEPS + 1), "at most 200 steps"),
])
def test_a_bad_plan_gets_one_error_naming_the_step_and_what_is_allowed(plan, words):
    with pytest.raises(plans.PlanError) as caught:
        plans.check(plan, 30, SKUS)
    assert words in str(caught.value)


def test_steps_run_by_day_keeping_the_written_order_within_a_day_and_canonical_text_is_stable():
    raw = [{"day": 3, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 61},
           {"day": 1, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 62},
           {"day": 3, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 63}]
    checked = plans.check(raw, 30, SKUS)
    assert [(s.day, s.arguments["price"]) for s in checked.steps] == [(1, 62), (3, 61), (3, 63)]
    assert checked.canonical() == plans.check(list(raw), 30).canonical()
    assert checked.canonical() != plans.check(raw[:2], 30).canonical()


def test_a_plan_is_carried_out_through_the_levers_and_its_reorder_rule_keeps_ordering():
    sc = shopsim.load_scenario("baseline")
    plan = plans.check([{"day": 2, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 64.5},
                        {"rule": "reorder_point", "sku": "PANT-CHINO", "reorder_point": 10**6 - 1, "order_qty": 50}],
                       10, [s.sku for s in sc.skus])
    seen = {}

    def watch(view):
        plans.policy(plan)(view)
        seen[view.day] = (view.prices()["TEE-CLASSIC"], view.on_order()["PANT-CHINO"])

    shopsim.simulate(sc, days=4, seed=3, policy=watch)
    assert seen[1][0] == 59.0 and seen[2][0] == 64.5
    assert [seen[d][1] for d in range(4)] == [50, 100, 150, 200], "a rule below its point orders every morning"


def test_a_refused_step_stops_the_run_with_its_reason_or_is_listed():
    plan = plans.check([{"day": 1, "lever": "set_price", "sku": "TEE-CLASSIC", "price": -5}], 5)
    with pytest.raises(plans.PlanError, match=r"day 1: set_price\(sku='TEE-CLASSIC', price=-5\) was refused"):
        shopsim.simulate("baseline", days=3, seed=1, policy=plans.policy(plan))
    refused: list = []
    shopsim.simulate("baseline", days=3, seed=1, policy=plans.policy(plan, refused))
    assert [(d, "price -5" in why) for d, _, why in refused] == [(1, True)]


def test_a_saved_plan_loads_and_bad_files_are_one_error(tmp_path):
    import json

    from shopsim import plans

    good = tmp_path / "plan.json"
    good.write_text(json.dumps([{"day": 1, "lever": "set_price", "sku": "A", "price": 50}]), encoding="utf-8")
    assert plans.load(good) == [{"day": 1, "lever": "set_price", "sku": "A", "price": 50}]
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "dict.json").write_text('{"day": 1}', encoding="utf-8")
    for name, message in (("bad.json", "cannot read a plan"), ("dict.json", "not a list of plan steps"),
                          ("missing.json", "cannot read a plan")):
        with pytest.raises(plans.PlanError, match=message):
            plans.load(tmp_path / name)
