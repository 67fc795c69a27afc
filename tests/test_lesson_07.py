"""Lesson 07 (promotions from plan to 复盘): the facts its text and exercises rely on.

The lesson runs the baseline month with seed 7 twice, with and without a promotion in days 10-16,
and reads the difference. These checks hold the story with margins, not exact numbers, so an
engine change that breaks it (the twins no longer identical before the week, no pull-forward, a
store-wide discount that pays, a reference plan that no longer beats doing nothing) fails here
before the lesson's exercises become unanswerable or wrong.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopsim
from shopsim import plans
from shopsim.grading import decisions

SEED, DAYS, START = 7, 30, 10
GRADING = (117, 122, 124)
FIRST_DAY = pd.Timestamp("2026-03-02")
HERO = "TEE-CLASSIC"
SKUS = [s.sku for s in shopsim.load_scenario("baseline").skus]
HERO_PLAN = [{"day": START, "lever": "discount", "sku": HERO, "share_off": 0.2, "days": 7}]
STORE_PLAN = [{"day": START, "lever": "discount", "sku": s, "share_off": 0.2, "days": 7} for s in SKUS]
# the hidden references of the two decisions (the master's hidden cells hold the same plans)
PROFIT_REFERENCE = [{"day": START, "lever": "spend_and_save", "tiers": [[199, 20], [299, 40]], "days": 7}]
PUSH_REFERENCE = [{"day": START, "lever": "spend_and_save", "tiers": [[99, 10], [199, 30], [299, 50]], "days": 7}]
FLOOR = 40_000


def _run(plan):
    return shopsim.simulate("baseline", seed=SEED, policy=plans.policy(plans.check(plan, DAYS))).tables


@pytest.fixture(scope="module")
def control():
    return _run([])


@pytest.fixture(scope="module")
def hero_sale():
    return _run(HERO_PLAN)


def _hero_units(tables) -> pd.Series:
    inv = tables["inventory"]
    units = inv[inv["sku"] == HERO].set_index("date")["sold"]
    return units.set_axis((units.index - FIRST_DAY).days)


def _week_orders(tables) -> pd.DataFrame:
    orders = tables["orders"]
    day = (orders["ts"].dt.tz_localize(None).dt.normalize() - FIRST_DAY).dt.days
    return orders[day.between(START, START + 6)]


def _week_refund_rates(tables) -> tuple[float, float]:
    """Refunded yuan / paid yuan of the promotion week's orders: the hero's lines, and all of them."""
    week = _week_orders(tables)
    lines = tables["order_items"][tables["order_items"]["order_id"].isin(week["order_id"])]
    refunds = tables["refunds"][tables["refunds"]["order_id"].isin(week["order_id"])]
    hero = lines["sku"] == HERO
    hero_rate = (refunds.loc[refunds["sku"] == HERO, "amount"].sum()
                 / (lines["qty"] * lines["unit_paid_price"])[hero].sum())
    return hero_rate, refunds["amount"].sum() / week["paid_amount"].sum()


def test_the_control_is_the_cached_reference_run_the_hidden_checks_use(control):
    from shopsim.grading import reference

    same = reference.tables("baseline", days=DAYS, seed=SEED)
    pd.testing.assert_frame_equal(same["daily"], control["daily"])


def test_the_twins_are_identical_before_the_week_and_part_during_it(control, hero_sale):
    before = slice(0, START)
    pd.testing.assert_frame_equal(control["daily"].iloc[before], hero_sale["daily"].iloc[before])
    week = slice(START, START + 7)
    assert hero_sale["daily"]["gmv"].iloc[week].sum() > 1.1 * control["daily"]["gmv"].iloc[week].sum()


def test_the_hero_push_doubles_the_week_as_forecast_then_borrows_from_the_weeks_after(control, hero_sale):
    ours, theirs = _hero_units(hero_sale), _hero_units(control)
    last_week = theirs.loc[START - 7:START - 1].sum()
    week = slice(START, START + 6)
    after = slice(START + 7, DAYS - 1)
    # option a of the review is wrong: the week reached (about) the forecast of twice the week before
    assert ours.loc[week].sum() >= 0.9 * 2 * last_week
    assert ours.loc[week].sum() >= 1.7 * theirs.loc[week].sum()
    # pull-forward: clearly fewer hero units after the week than in the twin
    assert ours.loc[after].sum() <= 0.9 * theirs.loc[after].sum()


def test_the_hero_push_misses_its_forecast_and_the_weeks_after_explain_most_of_the_gap(control, hero_sale):
    last_week = _hero_units(control).loc[START - 7:START - 1].sum()
    forecast = 2 * last_week * (0.8 * 59 - 22) - last_week * (59 - 22)
    result = hero_sale["pnl"]["net_profit"].sum() - control["pnl"]["net_profit"].sum()
    gap = result - forecast
    assert gap < -0.3 * forecast, (result, forecast)
    # option b: the weeks after the promotion (the hero's units borrowed from them, the week's refunds paid back
    # in them) lose most of the gap. On the sliced engine, seeds 1-8: the weeks after lost 59 % to 70 % of the
    # gap on seeds 1, 3 and 7 (seed 7: 18,900 of 27,000 yuan); the borrowed hero units alone, at full margin, only
    # 21 % to 38 % of it (seed 4: 111 %, a small gap), so the test measures the weeks after, not the units alone
    days = (hero_sale["pnl"]["date"] - FIRST_DAY).dt.days
    after = (hero_sale["pnl"]["net_profit"] - control["pnl"]["net_profit"])[days >= START + 7].sum()
    assert -after >= 0.5 * -gap, (after, gap)
    # option d is wrong: the ads ran the same
    ads = hero_sale["daily"]["ad_spend"].sum(), control["daily"]["ad_spend"].sum()
    assert abs(ads[0] - ads[1]) <= 0.1 * ads[1]


def test_the_discounted_tees_of_the_week_come_back_more_often(control, hero_sale):
    # the hero's lines of the week, promotion against control, measured on seeds 1-4, 7 and 101 with and
    # without customer service: x1.29 to x1.88 (seed 7: x1.88, x1.48); the week's orders as a whole
    # x0.97 to x1.23, so the lesson says they "move less" and grades the hero's lines. On the sliced
    # engine, seeds 1-8: the hero's lines x1.37 to x2.04 (seed 7: x1.37)
    promo_hero, promo_all = _week_refund_rates(hero_sale)
    control_hero, _ = _week_refund_rates(control)
    assert promo_hero > 1.2 * control_hero
    # exercise 3 tells the hero's rate from the whole week's (its check's tolerance is 0.3 %)
    assert abs(promo_hero / promo_all - 1) > 0.006


def test_the_promotion_week_brings_more_chats_a_little_fewer_per_order(control, hero_sale):
    # measured on seeds 1-4, 7 and 101: inquiries in the week x1.29 to x1.44, per order x0.84 to x0.98;
    # on the sliced engine, seeds 1-8: x1.31 to x1.44, per order x0.84 to x0.93 (seed 7: x1.41, x0.88)
    week = slice(START, START + 7)
    c, p = (t["daily"].iloc[week][["orders", "inquiries"]].sum() for t in (control, hero_sale))
    assert p["inquiries"] > 1.2 * c["inquiries"]
    assert p["inquiries"] / p["orders"] < c["inquiries"] / c["orders"]


def test_the_baskets_mostly_sit_below_the_199_threshold(control):
    paid = control["orders"]["paid_amount"]
    assert 0.03 < (paid >= 199).mean() < 0.4
    assert paid.median() < 150


def test_twenty_percent_off_everything_buys_gmv_and_loses_profit():
    """Pooled over seeds 1-8 (the practice months), as one month's GMV gain is noisy.

    Measured on the sliced engine, seeds 1-8: GMV -8,300 to +61,800 yuan (+20,900 on average; seed 7 +7,100,
    seeds 1 and 8 about nothing or less), net profit -2,500 to -35,200 yuan (-22,800 on average; seed 7 -29,500).
    The lesson's month must still show both signs, as Exercise 4 has the trainee measure it there.
    """
    gains = []
    for seed in range(1, 9):
        store, nothing = (decisions.run_reference(p, "baseline", seed, None) for p in (STORE_PLAN, "do_nothing"))
        gains.append((store["gmv"] - nothing["gmv"], store["net_profit"] - nothing["net_profit"]))
        if seed == SEED:
            assert gains[-1][0] > 0 and gains[-1][1] < -6000, gains[-1]
    gmv, profit = (sum(g[i] for g in gains) / len(gains) for i in (0, 1))
    assert gmv > 10_000
    assert profit < -6000


def test_the_decisions_references_beat_doing_nothing_on_every_grading_month_within_the_floor():
    """The grading months are months on which both references clearly beat doing nothing.

    The reference's gain over doing nothing is the denominator of a plan's share, so a grading month
    on which it is near zero turns any plan's result there into noise. Measured on the sliced engine,
    seeds 101-125, 126, 128 and 130: the profit reference (20 off 199, 40 off 299) earned -19,400 to
    +18,100 yuan over doing nothing (median +6,800; six months of 28 below zero); the push reference
    added -7,500 to +61,600 yuan of GMV (median +34,700). Seeds 117, 122 and 124 gave both at least
    +13,000 yuan of profit and +36,000 of GMV (the old grading months 101, 103 and 104 no longer did:
    on 101 both references lost to doing nothing, on 104 doing nothing made under 38,000 yuan).
    """
    for seed in (SEED, *GRADING):
        nothing = decisions.run_reference("do_nothing", "baseline", seed, None)
        assert 38_000 < nothing["net_profit"] < 70_000  # "about 40,000 to 65,000 yuan", the floor about the weakest
        if seed == SEED:
            continue
        profit = decisions.run_reference(PROFIT_REFERENCE, "baseline", seed, None)
        assert profit["net_profit"] > nothing["net_profit"] + 5000, seed
        push = decisions.run_reference(PUSH_REFERENCE, "baseline", seed, None)
        assert push["gmv"] > nothing["gmv"] + 20_000 and push["net_profit"] >= FLOOR + 10_000, seed


def _store(share_off: float) -> list[dict]:
    return [{"day": START, "lever": "discount", "sku": s, "share_off": share_off, "days": 7} for s in SKUS]


# What answers of each kind score on the grading months: (plan, lowest share, share it stays under),
# or the exact share when the two are equal; a check's points are its pass_shares 0.1, 0.5 and 0.85.
# Shares measured on seeds 117, 122 and 124 (the sliced engine): the hero at 20 % off -0.77; a
# 20-off-199 coupon for only 100 orders 0.40; 10 % off everything as the GMV push 0.27 (it breaks the
# floor on one month of the three); half off everything breaks the floor on every month.
PROFIT_ANSWERS = {
    "reference, as the lesson writes it": ([{"day": START, "lever": "spend_and_save",
                                             "tiers": [(199, 20), (299, 40)], "days": 7}], 1.0, 1.0),
    "the hero at 20 % off": (HERO_PLAN, -1.0, 0.1),
    "a coupon for only 100 orders": ([{"day": START, "lever": "issue_coupon", "amount": 20, "threshold": 199,
                                       "quantity": 100, "days": 7}], 0.1, 0.85),
}
PUSH_ANSWERS = {
    "reference, as the lesson writes it": ([{"day": START, "lever": "spend_and_save",
                                             "tiers": [(99, 10), (199, 30), (299, 50)], "days": 7}], 1.0, 1.0),
    "half off everything": (_store(0.5), 0.0, 0.0),
    "10 % off everything": (_store(0.1), 0.1, 0.85),
}


@pytest.mark.parametrize("answer", PROFIT_ANSWERS)
def test_the_profit_decision_scores_a_wrong_plan_0_a_half_right_one_partly_and_the_reference_fully(answer):
    plan, low, high = PROFIT_ANSWERS[answer]
    share = decisions.evaluate_plan(plan, "baseline", GRADING, reference=PROFIT_REFERENCE).share
    assert low <= share < high if low < high else share == pytest.approx(low), share


@pytest.mark.parametrize("answer", PUSH_ANSWERS)
def test_the_push_decision_scores_a_wrong_plan_0_a_half_right_one_partly_and_the_reference_fully(answer):
    plan, low, high = PUSH_ANSWERS[answer]
    share = decisions.evaluate_plan(plan, "baseline", GRADING, reference=PUSH_REFERENCE, objective="gmv",
                                    at_least={"net_profit": FLOOR}).share
    assert low <= share < high if low < high else share == pytest.approx(low), share
