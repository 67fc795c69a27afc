"""Lesson 09 (the festival campaign, Double 11 from plan to 复盘): the facts its text and exercises rely on.

The lesson runs the `festival_plan` season with seed 3 without a plan, writes a plan sheet from it, runs
the season again with the plan and with the plan less its enrolment, and reviews the plan. These checks
hold that story with margins, not exact numbers, so an engine change that breaks it (no stock-outs
without a plan, no midnight rush, no refund wave, an enrolment that pays, a target met for another reason
than the review's answer) fails here before the lesson's text and exercises go wrong. The decisions'
grading (reference, partial and wrong plans on the grading seeds) runs in the master's nbval run and in
tests/test_grading_feedback.py; it is not repeated here.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopsim
from shopsim import plans
from shopsim.grading import decisions, reference

SCENARIO, SEED, DAYS = "festival_plan", 3, 52  # 7 before the sliced engine: there the plan now loses 75 units
FIRST_DAY = pd.Timestamp("2026-10-05")
PRESALE, MAIN = 25, 37
TARGET, ENROL_DISCOUNT = 250_000, 0.2
SC = shopsim.load_scenario(SCENARIO)
FESTIVAL_ROTA = list(SC.service.rota)
ORDINARY_ROTA = [1] * 8 + [3] * 10 + [5] * 5 + [2]


def _day(ts: pd.Series) -> pd.Series:
    return (ts.dt.tz_localize(None).dt.normalize() - FIRST_DAY).dt.days


def _lesson_plan(unplanned) -> list[dict]:
    """The lesson's PLAN: stock from sold plus lost demand x 1.25 less stock on hand, the venue at 20 %,
    the main day's budget at 4,000 yuan, the ordinary rota with the festival rota on days 36-37."""
    inv = unplanned["inventory"].assign(sku=lambda t: t["sku"].astype(str))
    demand = inv.groupby("sku")["sold"].sum() + decisions.lost_units(unplanned).round(0)
    on_hand = pd.Series({s.sku: s.initial_stock for s in SC.skus})
    reorder = ((demand * 1.25 - on_hand).clip(lower=0) / 10).round() * 10
    return ([{"day": 14, "lever": "reorder", "sku": sku, "qty": int(reorder[sku])}
             for sku in on_hand.index if reorder[sku] > 0]
            + [{"day": 0, "lever": "enrol_festival", "name": "double11", "discount_share": ENROL_DISCOUNT},
               {"day": MAIN, "lever": "set_ad_budget", "daily_budget": 4000},
               {"day": MAIN + 1, "lever": "set_ad_budget", "daily_budget": 2000},
               {"day": 0, "lever": "set_service", "agents_by_hour": ORDINARY_ROTA},
               {"day": MAIN - 1, "lever": "set_service", "agents_by_hour": FESTIVAL_ROTA},
               {"day": MAIN + 1, "lever": "set_service", "agents_by_hour": ORDINARY_ROTA}])


def _run(plan):
    return shopsim.simulate(SCENARIO, seed=SEED, policy=plans.policy(plans.check(plan, DAYS))).tables


@pytest.fixture(scope="module")
def unplanned():
    return reference.tables(SCENARIO, days=DAYS, seed=SEED)  # the run the hidden checks read


@pytest.fixture(scope="module")
def planned(unplanned):
    return _run(_lesson_plan(unplanned))


@pytest.fixture(scope="module")
def no_enrol(unplanned):
    return _run([s for s in _lesson_plan(unplanned) if s["lever"] != "enrol_festival"])


def _main_day(tables) -> pd.Series:
    daily = tables["daily"]
    return daily.set_index((daily["date"] - FIRST_DAY).dt.days).loc[MAIN]


def test_without_a_plan_the_popular_skus_sell_out_on_the_main_day_and_demand_is_lost(unplanned):
    inv = unplanned["inventory"].assign(sku=lambda t: t["sku"].astype(str))
    first_out = inv[inv["stockout_hours"] > 0].groupby("sku")["date"].min()
    on_main = first_out[first_out == FIRST_DAY + pd.Timedelta(days=MAIN)]
    assert "TEE-CLASSIC" in on_main.index and len(on_main) >= 3, first_out
    assert (first_out >= FIRST_DAY + pd.Timedelta(days=PRESALE)).all(), "nothing sells out in ordinary October"
    lost = decisions.lost_units(unplanned)
    assert lost.sum() > 500 and lost["TEE-CLASSIC"] > 300
    # exercise 3's mistakes (sold alone, lost alone, stock plus lost) are far from the right answer
    sold = inv.loc[inv["sku"] == "TEE-CLASSIC", "sold"].sum()
    assert lost["TEE-CLASSIC"] > 0.05 * sold and abs(4200 - sold) > 0.05 * sold


def test_the_season_rota_is_paid_every_day_and_the_search_budget_runs_out_at_the_main_days_first_hour(unplanned):
    assert unplanned["pnl"]["customer_service"].sum() == pytest.approx(sum(FESTIVAL_ROTA) * 25 * DAYS)
    events = unplanned["events"]
    out = events[(events["kind"] == "ad_budget_out") & (_day(events["ts"]) == MAIN)]
    assert len(out) == 1 and out["ts"].dt.hour.iloc[0] < 2


def test_the_main_day_rushes_at_midnight_with_the_deposit_holders(unplanned):
    orders, sessions = unplanned["orders"], unplanned["sessions"]
    main_orders = orders[_day(orders["ts"]) == MAIN]
    share = (main_orders["ts"].dt.hour < 2).mean()
    assert 0.3 < share < 0.7
    assert abs(share - (main_orders["ts"].dt.hour < 1).mean()) > 0.03  # exercise 1's first-hour mistake differs
    day = sessions[_day(sessions["ts"]) == MAIN]
    by_hour = day.groupby(day["ts"].dt.hour).size()
    assert by_hour.idxmax() == 0 and by_hour.loc[20:23].mean() > by_hour.loc[3:6].mean()
    october = unplanned["daily"]["sessions"].iloc[:PRESALE].mean()
    assert by_hour.loc[0] > october, "the hour 00:00 has more visits than an ordinary day"
    events = unplanned["events"]
    out = events[(events["kind"] == "stockout") & (events["actor"] == "system") & (_day(events["ts"]) == MAIN)]
    # the first within hours of the rush (before noon; in the rush itself on about 4 seeds of 10 only)
    assert len(out) >= 4 and (out["ts"].dt.hour < 12).any(), "several sell out, the first before noon"
    back = day[(day["source"] == "returning") & (day["ts"].dt.hour < 2)]
    later = day[(day["source"] == "returning") & (day["ts"].dt.hour >= 2)]
    assert len(back) > 3 * len(later) / 11
    # the deposit forecast of the plan sheet is about what came back
    presale = sessions[_day(sessions["ts"]).between(PRESALE, MAIN - 1)]
    waiting = ((presale["added_to_cart"] | presale["order_submitted"]) & ~presale["ordered"]).sum()
    assert 0.6 < waiting * SC.festivals[0].deposit_share / len(back) < 1.4


def test_the_refund_wave_follows_the_main_day_and_its_orders_come_back_for_a_changed_mind(unplanned):
    daily = unplanned["daily"].assign(day=lambda t: (t["date"] - FIRST_DAY).dt.days)
    after = daily.loc[daily["day"].between(MAIN + 1, MAIN + 7), "refund_amount"].sum()
    before = daily.loc[daily["day"].between(MAIN - 7, MAIN - 1), "refund_amount"].sum()
    assert after > 1.2 * before
    orders, refunds = unplanned["orders"], unplanned["refunds"]

    def changed_mind(days) -> float:
        paid = orders[_day(orders["ts"]).isin(days)]
        back = refunds[refunds["order_id"].isin(paid["order_id"]) & (refunds["reason"] == "changed_mind")]
        return back["amount"].sum() / paid["paid_amount"].sum()

    assert changed_mind([MAIN]) > 2 * changed_mind(range(PRESALE))


def test_the_target_needs_more_conversion_than_the_unplanned_main_day_had(unplanned):
    main = _main_day(unplanned)
    needed = TARGET / (main["uv"] * main["aov"] * (1 - ENROL_DISCOUNT))
    assert needed > 1.5 * main["conversion_rate"]


def test_the_plan_keeps_the_shelves_full_and_turns_the_seasons_loss_into_a_profit(unplanned, planned):
    assert decisions.lost_units(planned).sum() < 50
    assert planned["pnl"]["net_profit"].sum() > unplanned["pnl"]["net_profit"].sum() + 50_000
    assert planned["pnl"]["customer_service"].sum() < 0.7 * unplanned["pnl"]["customer_service"].sum()


def test_the_enrolment_sells_on_the_day_borrows_from_the_weeks_after_and_costs_profit(planned, no_enrol):
    main_gain = _main_day(planned)["gmv"] - _main_day(no_enrol)["gmv"]
    season_gain = planned["daily"]["gmv"].sum() - no_enrol["daily"]["gmv"].sum()
    profit = planned["pnl"]["net_profit"].sum() - no_enrol["pnl"]["net_profit"].sum()
    assert main_gain > 50_000
    assert season_gain < 0.3 * main_gain, "the slump and the weeks after give most of it back"
    assert profit < -20_000


def test_the_review_the_venues_traffic_carried_the_day_past_the_target(unplanned, planned):
    plan_uv, plan_aov = _main_day(unplanned)["uv"], _main_day(unplanned)["aov"] * (1 - ENROL_DISCOUNT)
    needed = TARGET / (plan_uv * plan_aov)
    actual = _main_day(planned)
    assert actual["gmv"] > TARGET  # the gap is positive
    assert actual["uv"] > 1.5 * plan_uv  # option a: the traffic, far above the plan
    assert actual["conversion_rate"] < needed  # option b is wrong: conversion fell short of the need
    # option c is wrong: 客单价 stayed the closest of the three factors to its plan (above it on most seeds, by
    # about a tenth at most, below it on a few: on this one by about a tenth), far from carrying the day
    assert abs(actual["aov"] / plan_aov - 1) < min(actual["uv"] / plan_uv - 1, 1 - actual["conversion_rate"] / needed)
    ads = planned["daily"]["ad_spend"].iloc[MAIN] - unplanned["daily"]["ad_spend"].iloc[MAIN]
    assert ads < 0.05 * (actual["gmv"] - TARGET)  # option d is wrong: the budget's extra yuan are small
