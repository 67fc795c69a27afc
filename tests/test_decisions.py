"""Decisions graded by simulation (shopsim.grading.decisions, checks.decision and its practice key)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from shopsim.grading import answer_key, checks, decisions

SCENARIO, DAYS, GRADING, PRACTICE = "stockout_crisis", None, (101, 102), (5,)
#: The hero tee has a fortnight of stock and a late supplier: ordering on day 0 pays by far.
REORDER_EARLY = [{"day": 0, "lever": "reorder", "sku": "TEE-CLASSIC", "qty": 3000}]


def test_a_seeds_share_is_its_gain_over_doing_nothing_against_the_references_clipped_and_floored():
    assert decisions.seed_share(1500, 1000, 2000) == pytest.approx(0.5)
    assert decisions.seed_share(5000, 1000, 2000) == decisions.SHARE_RANGE[1]
    assert decisions.seed_share(-9000, 1000, 2000) == decisions.SHARE_RANGE[0]
    # a reference that barely beats doing nothing is floored at 2 % of doing nothing
    assert decisions.seed_share(100_500, 100_000, 100_001) == pytest.approx(0.25)


def test_doing_nothing_scores_zero_and_the_reference_itself_scores_one_on_the_same_seeds():
    nothing = decisions.evaluate_plan([], SCENARIO, GRADING, reference=REORDER_EARLY, days=DAYS)
    assert nothing.table["share"].tolist() == [0.0, 0.0]
    assert (nothing.table["plan"] == nothing.table["nothing"]).all(), "common random numbers"
    same = decisions.evaluate_plan(REORDER_EARLY, SCENARIO, GRADING, reference=REORDER_EARLY, days=DAYS)
    assert (same.table["reference"] > same.table["nothing"]).all()
    assert same.share == pytest.approx(1.0)
    assert "of the reference's gain" in same.notes[0]


def test_a_seed_that_breaks_a_limit_scores_zero_and_the_notes_say_which():
    result = decisions.evaluate_plan(REORDER_EARLY, SCENARIO, GRADING, reference=REORDER_EARLY, days=DAYS,
                                     at_least={"orders": 10**9})
    assert result.share == 0 and not result.table["within_limits"].any()
    assert any("paid orders was" in n and "below the required" in n for n in result.notes)


def test_the_notes_name_what_went_wrong_stockouts_and_ads_against_break_even():
    notes = decisions.what_happened(decisions.shopsim.simulate(SCENARIO, seed=1).tables)
    assert any(n.startswith("TEE-CLASSIC ran out of stock on 2026-") for n in notes)
    assert any("returned" in n and "the break-even ROAS of" in n for n in notes)
    early = decisions.run_plan(decisions.plans.check(REORDER_EARLY, 30), SCENARIO, 1, None)[0]
    assert early["stockout_hours"] < decisions.run_reference("do_nothing", SCENARIO, 1, None)["stockout_hours"]


def test_unknown_objectives_and_a_refused_step_are_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="unknown objective 'profit'; choose from net_profit"):
        decisions.evaluate_plan([], SCENARIO, GRADING, reference=REORDER_EARLY, days=DAYS, objective="profit")
    bad = [{"day": 2, "lever": "reorder", "sku": "TEE-CLASSIC", "qty": 0}]
    with pytest.raises(decisions.plans.PlanError, match="day 2: reorder.*was refused"):
        decisions.evaluate_plan(bad, SCENARIO, GRADING, reference=REORDER_EARLY, days=DAYS)


def _hidden(plan, pass_share=0.5):
    return checks.decision(plan, REORDER_EARLY, name="plan", scenario=SCENARIO, seeds=GRADING, days=DAYS,
                           pass_share=pass_share, practice_seeds=PRACTICE)


def test_the_hidden_check_passes_a_good_plan_and_explains_a_poor_one():
    assert _hidden(REORDER_EARLY).share == pytest.approx(1.0)
    with pytest.raises(checks.CheckFailed) as caught:
        _hidden([])
    assert caught.value.kind == checks.WRONG_VALUE
    message = str(caught.value)
    assert "captured 0% of the reference plan's gain" in message and "on seeds you have not seen" in message
    with pytest.raises(checks.CheckFailed) as caught:
        _hidden({"day": 0})
    assert caught.value.kind == checks.FORMAT and "must be a list of steps" in str(caught.value)
    with pytest.raises(ValueError, match="practises on grading seeds"):
        checks.decision([], REORDER_EARLY, name="plan", scenario=SCENARIO, seeds=(5,), days=DAYS, practice_seeds=(5,))


def test_the_practice_key_holds_the_yardsticks_on_the_practice_seed_only_and_agrees_with_the_hidden_check():
    with checks.recording() as seen:
        _hidden(REORDER_EARLY)
    (call,) = seen
    spec = answer_key.seal(call, "salt")
    text = json.dumps(spec)
    assert list(spec["practice"]) == [5] and "101" not in text and "102" not in text
    assert "3000" not in text, "the reference plan is not in the key"
    answer_key.verify({"plan": REORDER_EARLY}, json.dumps([spec]))
    with pytest.raises(checks.CheckFailed, match="on the practice seed"):
        answer_key.verify({"plan": []}, json.dumps([spec]))
    assert answer_key.expected_values(call) == []


def test_a_share_just_below_the_bar_never_reads_as_the_bar():
    assert decisions.percent_down(0.4996) == "49%" and decisions.percent_down(0.5) == "50%"
    assert decisions.percent_down(-0.301) == "-31%" and decisions.percent_down(1.5) == "150%"


def _result(nothing, reference, plan):
    table = decisions.pd.DataFrame({"seed": range(len(plan)), "plan": plan, "nothing": nothing,
                                    "reference": reference, "within_limits": True})
    table["share"] = [decisions.seed_share(p, n, r) for p, n, r in zip(plan, nothing, reference, strict=True)]
    return decisions.DecisionResult("net_profit", table, float(table["share"].mean()), ())


def test_the_bar_is_never_above_what_the_reference_itself_captures_nor_below_doing_nothing():
    clear = _result([100_000, 100_000], [110_000, 120_000], [105_000, 105_000])
    assert clear.reference_share == pytest.approx(1.0) and clear.bar(0.85) == 0.85
    # a gain under the floor (2 % of 100,000 = 2,000): the reference captures 25 % on the first seed
    weak = _result([100_000, 100_000], [100_500, 110_000], [100_500, 110_000])
    assert weak.reference_share == pytest.approx((0.25 + 1.0) / 2)
    assert weak.bar(0.85) == pytest.approx(0.625) and weak.bar(0.5) == 0.5
    assert weak.share >= weak.bar(0.85), "a plan as good as the reference passes"
    losing = _result([100_000], [90_000], [95_000])
    assert losing.bar(0.5) == 0.0 and losing.bar(0.0) == 0.0


def test_a_check_whose_reference_gains_less_than_the_floor_passes_the_reference_and_says_why_the_bar_moved():
    weak = [{"day": 0, "lever": "reorder", "sku": "TEE-CLASSIC", "qty": 10}]
    seeds = (143,)  # ten more tees gain about 120 yuan there, under the floor of about 380
    result = checks.decision(weak, weak, name="plan", scenario=SCENARIO, seeds=seeds, days=DAYS, pass_share=0.85,
                             practice_seeds=PRACTICE)
    assert 0 < result.reference_share < 0.85 and result.share == pytest.approx(result.reference_share)
    with pytest.raises(checks.CheckFailed, match="asks for what the reference plan itself captures there"):
        checks.decision([], weak, name="plan", scenario=SCENARIO, seeds=seeds, days=DAYS, pass_share=0.85,
                        practice_seeds=PRACTICE)
def _stock_tables(stockout_hours, sold, visits):
    """Two days of one SKU: the inventory and daily tables lost_units reads."""
    dates = pd.to_datetime(["2026-11-10", "2026-11-11"])
    inventory = pd.DataFrame({"date": dates, "sku": pd.Categorical(["TEE", "TEE"]), "sold": sold,
                              "stockout_hours": stockout_hours})
    return {"inventory": inventory, "daily": pd.DataFrame({"date": dates, "sessions": visits})}


def test_lost_units_is_the_in_stock_sales_rate_times_the_hours_sold_out_weighted_by_the_days_visits():
    # day 1: 24 h in stock, 48 sold (2 an hour at weight 1); day 2: three times the visits, out for 12 h
    tables = _stock_tables([0.0, 12.0], [48, 144], [1000, 3000])
    weight = [1000 / 2000, 3000 / 2000]  # visits against the run's mean
    rate = (48 + 144) / (24 * weight[0] + 12 * weight[1])
    assert decisions.lost_units(tables)["TEE"] == pytest.approx(rate * 12 * weight[1])
    assert decisions.lost_units(_stock_tables([0.0, 0.0], [48, 60], [1000, 3000]))["TEE"] == 0
    # sold out the whole run: no rate to read, nothing counted
    assert decisions.lost_units(_stock_tables([24.0, 24.0], [0, 0], [1000, 3000]))["TEE"] == 0


def test_the_penalised_objective_is_net_profit_less_the_stated_yuan_per_lost_unit():
    measured = decisions.Measured({"net_profit": 10_000.0, "lost_units": 120.0})
    assert measured["net_profit_less_lost:30"] == pytest.approx(10_000 - 30 * 120)
    assert measured["net_profit_less_lost:0"] == pytest.approx(10_000)
    assert decisions.label("net_profit_less_lost:30").startswith("net profit less 30 yuan per unit lost")
    with pytest.raises(KeyError):
        measured["gross_profit"]
    for bad in ("net_profit_less_lost:-5", "net_profit_less_lost:lots", "net_profit_less_lost:"):
        with pytest.raises(ValueError, match="yuan per lost unit from 0 to 10,000|unknown objective"):
            decisions.check_objectives(bad, None, None)
    limits = decisions.check_objectives("net_profit", None, {"customer_service": 60_000})
    assert limits == ({}, {"customer_service": 60_000.0})


def test_a_plan_that_stocks_out_pays_the_penalty_in_its_score():
    plain = decisions.run_reference("do_nothing", SCENARIO, 1, None)
    assert plain["lost_units"] > 100, "stockout_crisis: the hero runs out without a reorder"
    assert plain["net_profit_less_lost:30"] == pytest.approx(plain["net_profit"] - 30 * plain["lost_units"])
    early = decisions.run_reference(REORDER_EARLY, SCENARIO, 1, None)
    assert early["lost_units"] < plain["lost_units"] / 2
    result = decisions.evaluate_plan([], SCENARIO, (1,), reference=REORDER_EARLY, objective="net_profit_less_lost:30")
    assert result.share == 0 and "net profit less 30 yuan per unit lost" in result.notes[0]
    assert any("units of demand were lost to stock-outs" in n for n in result.notes)


def test_with_a_run_cache_another_process_reuses_the_runs_and_grades_the_same(tiny, tmp_path, monkeypatch):
    plan = [{"day": 1, "lever": "set_price", "sku": "A", "price": 55}]
    reference = [{"day": 0, "lever": "reorder", "sku": "B", "qty": 100}]
    monkeypatch.setattr(decisions, "_RUNS", {})
    monkeypatch.setenv(decisions.RUN_CACHE_ENV, str(tmp_path / "runs"))
    first = decisions.evaluate_plan(plan, tiny, (3, 4), reference=reference)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 6  # plan, doing nothing and reference, per seed
    monkeypatch.setattr(decisions, "_RUNS", {})  # another process: nothing in memory, the folder kept
    monkeypatch.setattr(decisions.shopsim, "simulate", lambda *a, **k: pytest.fail("ran a kept run again"))
    again = decisions.evaluate_plan(plan, tiny, (3, 4), reference=reference)
    pd.testing.assert_frame_equal(again.table, first.table)
    assert again.notes == first.notes and again.share == first.share and again.refusals == first.refusals
    monkeypatch.delenv(decisions.RUN_CACHE_ENV)
    monkeypatch.setattr(decisions, "_RUNS", {})
    with pytest.raises(pytest.fail.Exception, match="ran a kept run again"):  # without it, runs are per process
        decisions.evaluate_plan(plan, tiny, (3,), reference=reference)
