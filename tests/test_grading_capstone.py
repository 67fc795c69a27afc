"""Capstone evaluation: profit per seed against the reference policies; failing policies score 0."""

import os

import pytest

from shopsim.grading import capstone, evaluate_policy

DAYS, SEEDS = 4, (1, 2)


def cut_prices(view):
    """A small policy of our own: 10 % off every SKU on the first morning."""
    if view.day == 0:
        for sku, price in view.prices().items():
            view.set_price(sku, round(price * 0.9, 2))


@pytest.fixture(scope="module")
def do_nothing_result(tiny_module):
    from shopsim.policies import do_nothing

    return evaluate_policy(do_nothing, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])


@pytest.fixture(scope="module")
def tiny_module():
    from conftest import TINY

    from shopsim import scenario

    return scenario.from_dict(TINY, "tiny")


def test_matching_the_reference_scores_50(do_nothing_result):
    result = do_nothing_result
    assert result.status == "ok" and result.reason == "" and result.score == 50.0
    assert list(result.table.columns) == ["seed", "profit", "do_nothing", "points"]
    assert list(result.table["seed"]) == list(SEEDS)
    assert (result.table["profit"] == result.table["do_nothing"]).all()
    assert "capstone score 50.0 / 100" in repr(result) and "<table" in result._repr_html_()


def test_a_different_policy_gets_its_own_profit_and_a_score_between_0_and_100(tiny_module, do_nothing_result):
    result = evaluate_policy(cut_prices, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])
    assert result.status == "ok"
    assert (result.table["do_nothing"] == do_nothing_result.table["do_nothing"]).all()
    assert (result.table["profit"] != result.table["do_nothing"]).all()
    assert 0 <= result.score <= 100 and result.score != 50.0


def test_references_that_do_not_exist_yet_are_skipped(tiny_module):
    result = evaluate_policy(cut_prices, tiny_module, [3], days=2, references=["do_nothing", "no_such_policy"])
    assert result.references == ("do_nothing",)
    with pytest.raises(ValueError, match="none of the reference policies"):
        evaluate_policy(cut_prices, tiny_module, [3], days=2, references=["no_such_policy"])


def test_the_default_references_are_those_in_shopsim_policies(tiny_module):
    from shopsim import policies

    result = evaluate_policy(cut_prices, tiny_module, [3], days=2)
    assert result.references == tuple(n for n in capstone.REFERENCES if hasattr(policies, n))
    assert "do_nothing" in result.references


def _raises(view):
    raise KeyError("TEE-CLASSIC")


def _hangs(view):
    while True:
        pass


def _exits(view):
    os._exit(4)


@pytest.mark.parametrize("policy, status, reason", [
    (_raises, "error", "seed 1, day 0: the policy raised KeyError: 'TEE-CLASSIC'"),
    (_hangs, "timeout", "seed 1, day 0: still running after 5 s"),
    (_exits, "crashed", "seed 1, day 0: the policy ended the process (exit code 4)"),
])
def test_a_failing_policy_scores_zero_with_the_reason(tiny_module, policy, status, reason):
    result = evaluate_policy(policy, tiny_module, SEEDS, days=DAYS, timeout=5, references=["do_nothing"])
    assert (result.status, result.score) == (status, 0.0)
    assert reason in result.reason
    assert result.table["points"].eq(0).all() and result.table["profit"].isna().all()
    assert result.table["do_nothing"].notna().all()


@pytest.mark.parametrize("kwargs, error", [
    ({"policy": 42}, TypeError), ({"seeds": []}, ValueError), ({"seeds": [-1]}, ValueError),
    ({"seeds": [True]}, ValueError), ({"timeout": 0}, ValueError),
])
def test_bad_arguments_are_refused(tiny_module, kwargs, error):
    args = {"policy": cut_prices, "scenario": tiny_module, "seeds": [1], **kwargs}
    with pytest.raises(error):
        evaluate_policy(**args)


def test_points_per_seed():
    assert capstone._points(100.0, 100.0) == 0.5
    assert capstone._points(200.0, 100.0) == 1.0
    assert capstone._points(0.0, 100.0) == 0.0
    assert capstone._points(-50.0, -100.0) == 0.75
