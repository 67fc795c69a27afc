"""The steady-state check warns when a scenario's stated sales are not what its market sells."""

import warnings

import pytest

from shopsim.steady_state import SteadyStateWarning, steady_state

SERUM = """extends: baseline
name: serum_launch
skus:
  - {sku: SERUM-30, name: Face serum, category: skincare, cost: 35, price: 129, initial_stock: STOCK,
     monthly_sales: SALES, review_count: 900, rating: 4.7}
keywords:
  - {keyword: face serum, daily_searches: 3000, relevance: {SERUM-30: 1.0}}
"""


def _serum(tmp_path, sales: int, stock: int = 2500):
    path = tmp_path / "serum.yaml"
    path.write_text(SERUM.replace("SALES", str(sales)).replace("STOCK", str(stock)), encoding="utf-8")
    return path


def test_the_baseline_starts_in_its_steady_state():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SteadyStateWarning)
        check = steady_state("baseline")
    assert check.problems == [] and len(check.table) == 12 and "no problems" in repr(check)


def test_overstated_sales_warn_with_the_product_and_both_numbers(tmp_path):
    with pytest.warns(SteadyStateWarning, match="SERUM-30: the scenario says 1,800 sold"):
        check = steady_state(_serum(tmp_path, 1800))
    row = check.table.set_index("sku").loc["SERUM-30"]
    assert row["simulated_30d"] < 900 and len(check.problems) == 1


def test_a_sell_out_is_named_and_honest_numbers_pass(tmp_path):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", SteadyStateWarning)
        steady_state(_serum(tmp_path, 1800, stock=40))
    assert any(str(w.message).startswith("SERUM-30: sells out on 2026-03") for w in seen)
    warnings.simplefilter("ignore", SteadyStateWarning)
    # displayed sales feed demand (social proof, rank), so an honest number is a fixed point: iterate to it
    stated = 1800
    for _ in range(6):
        check = steady_state(_serum(tmp_path, stated))
        if not [p for p in check.problems if p.startswith("SERUM-30")]:
            break
        stated = round(check.table.set_index("sku").loc["SERUM-30", "simulated_30d"])
    else:
        pytest.fail(f"no steady state found for the serum: {check.problems}")
    assert stated < 900
