"""The story of lesson 05 (search and listings): the facts its text and exercises rely on.

If an engine change breaks one of these, the lesson's text or its decisions no longer hold:
re-measure and rewrite the lesson, do not loosen the margins to make the test pass.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import shopsim
from shopsim.grading import decisions, reference

LAUNCH, SHORT, NEW = "new_product_launch", "launch_short_supply", "TEE-WAFFLE"
PRACTICE, OTHER = 9, 11  # the lesson's practice seed, and one it never shows
OBJECTIVE = f"sku_contribution:{NEW}"
WORK = [{"day": 0, "lever": "improve_listing", "sku": NEW, "kind": k} for k in ("main_image", "title", "detail_page")]


def price(p, day=0):
    return {"day": day, "lever": "set_price", "sku": NEW, "price": p}


def reorder(qty, day=0):
    return {"day": day, "lever": "reorder", "sku": NEW, "qty": qty}


LAUNCH_REFERENCE = [*WORK, price(57), reorder(5000)]  # the hidden reference of Exercise 5
LAUNCH_SOLUTION = [*WORK, price(60), reorder(4200)]  # the master's answer
SHORT_REFERENCE = [*WORK, price(79)]  # the hidden reference of Exercise 6
BOSS = [price(59), reorder(1000, day=16)]  # the plan the 复盘 reviews


def share(plan, scenario=LAUNCH, ref=LAUNCH_REFERENCE, seeds=(PRACTICE, OTHER)):
    return decisions.evaluate_plan(plan, scenario, seeds, reference=ref, objective=OBJECTIVE)


def test_the_weights_and_curves_the_text_quotes():
    sc = shopsim.load_scenario(LAUNCH)
    s, f = sc.search, sc.feed
    assert (s.relevance_weight, s.velocity_weight, s.conversion_weight, s.rating_weight, s.listing_weight,
            s.sold_out_penalty) == (3, 1, 15, 1, 1.5, 6)
    assert s.top_click_rate == pytest.approx(0.045)
    assert 2 ** -s.click_decay == pytest.approx(0.55, abs=0.01) and 5 ** -s.click_decay == pytest.approx(0.25, abs=0.01)
    assert math.exp(f.freshness_boost) == pytest.approx(4.5, abs=0.1), "four to five times the exposures on day 0"
    assert f.freshness_days * math.log(2) == pytest.approx(10, abs=0.5), "the bonus halves about every ten days"
    tee = next(k for k in sc.skus if k.sku == NEW)
    quality = tee.listing_quality
    for kind in ("main_image", "title", "detail_page"):
        quality += sc.listing_work[kind].gain * (1 - quality)
    assert quality == pytest.approx(0.74, abs=0.01) and quality < tee.quality, "all three work: 0.55 -> about 0.74"
    assert sum(w.cost for w in sc.listing_work.values()) == 2800
    assert (tee.initial_stock, tee.lead_time_days, tee.price) == (600, 10, 89)
    leader = next(o for _, o in sc.rival_offers if o.sku == "NT-HENLEY")
    assert leader.rating == 4.4 and leader.quality < tee.quality, "the text: a plainer product, rated 4.4"
    short = next(k for k in shopsim.load_scenario(SHORT).skus if k.sku == NEW)
    assert short.lead_time_days > sc.days, "in launch_short_supply no reorder arrives in March"


def test_as_is_the_tee_climbs_to_first_on_henley_shirt_and_first_place_brings_more_search_visits():
    t = reference.tables(LAUNCH, days=30, seed=PRACTICE)
    r, s = t["rankings"], t["sessions"]
    henley = r[(r["keyword"] == "henley shirt") & (r["sku"] == NEW)].set_index("date")["organic_position"]
    assert henley.iloc[0] == 2 and (henley == 1).sum() >= 10 and (henley == 2).sum() >= 3
    assert 5 <= henley[henley == 1].index.min().day <= 20, "Exercise 1 has a day to find"
    hero = r[(r["keyword"] == "waffle tee") & (r["sku"] == "TEE-CLASSIC")]["organic_position"]
    assert (hero == 1).all(), "Exercise 1's NaN hint: on 'waffle tee' the hero tee stays above the new one"
    s["date"] = s["ts"].dt.tz_localize(None).dt.normalize()
    visits = s[(s["source"] == "search") & (s["keyword"] == "henley shirt") & (s["landing_sku"] == NEW)]
    per_day = visits.groupby("date").size()
    ratio = per_day[henley[henley == 1].index].mean() / per_day[henley[henley == 2].index].mean()
    assert 1.4 < ratio < 3.0, "Exercise 2: first place brings clearly more, near the click curve's 1.8"
    sim = shopsim.Simulation(LAUNCH, seed=PRACTICE)
    henley_row = [k.keyword for k in sim.scenario.keywords].index("henley shirt")
    demand = pd.Series([sim.seasons.keyword_factor(d)[henley_row] for d in range(30)], index=henley.index)
    assert demand.iloc[-1] / demand.iloc[0] > 1.25, "the text: searched about a third more at the end of March"
    seasonal = demand[henley == 1].mean() / demand[henley == 2].mean()
    assert 1.5 < ratio / seasonal < 2.2, "taken out the spring's rise, the ratio is the click curve's 1.8"


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_on_other_seeds_too_the_tee_passes_north_thread_on_henley_shirt_within_the_month(seed):
    # measured on seeds 1-25: first at the top between day 6 and day 22, and there to stay
    r = reference.tables(LAUNCH, days=30, seed=seed)["rankings"]
    henley = r[(r["keyword"] == "henley shirt") & (r["sku"] == NEW)].set_index("date")["organic_position"]
    top = henley[henley == 1]
    assert henley.iloc[0] == 2 and len(top) >= 5 and 4 <= top.index.min().day <= 26


def test_listing_work_at_79_yuan_pays_for_itself_on_the_practice_seed():
    at_79 = [price(79)]
    without = decisions.run_plan(decisions.plans.check(at_79, 30), LAUNCH, PRACTICE, None)[0]
    with_work = decisions.run_plan(decisions.plans.check(at_79 + WORK, 30), LAUNCH, PRACTICE, None)[0]
    assert with_work[OBJECTIVE] - without[OBJECTIVE] > 2000, "Exercise 4's twin: the work earns back its 2,800 yuan"
    assert with_work[f"sku_units:{NEW}"] > without[f"sku_units:{NEW}"]


def test_the_launch_pays_when_work_price_and_stock_come_together():
    nothing = share([])
    assert (nothing.table["reference"] - nothing.table["nothing"] > 40_000).all(), "gain far above the noise"
    assert share(LAUNCH_SOLUTION).share >= 0.85
    assert share(WORK).share < 0.1, "listing work alone, at 89 yuan, hardly moves the tee"
    assert share([price(69), reorder(1500)]).share < 0.5, "price and stock without the work: well short"
    assert 0.1 < share([*WORK, price(69), reorder(600)]).share < 0.5, "work and price without the stock: sells out"


def test_an_early_flash_sale_costs_the_launch_more_than_it_brings():
    flash = {"day": 1, "lever": "flash_sale", "sku": NEW, "price": 49, "cap": 200, "hours": 24}
    assert share([*LAUNCH_SOLUTION, flash]).share < share(LAUNCH_SOLUTION).share - 0.3


def test_with_600_units_a_price_that_just_clears_them_beats_the_launch_price():
    # graded as Exercise 6 is, on its five grading seeds: per seed the reference gains 1,700-12,000
    # yuan over doing nothing (a few days' sales decide it), so one seed says little
    graded = (101, 102, 103, 104, 105)
    right = share([*WORK, price(80)], SHORT, SHORT_REFERENCE, graded)
    assert right.share >= 0.75, "the master's answer: full marks (two thirds), measured 0.86-1.06"
    gain = right.table["reference"] - right.table["nothing"]
    assert gain.mean() > 6000 and (gain > 2000).all()
    assert share(LAUNCH_SOLUTION, SHORT, SHORT_REFERENCE, graded).share < 0.2, "the stock-rich plan sells out early"
    cheaper = share([*WORK, price(69)], SHORT, SHORT_REFERENCE, graded).share
    assert 0.33 < cheaper < 0.67 and cheaper < right.share - 0.15, "cheaper sells out sooner: partial credit"
    assert share([price(59)], SHORT, SHORT_REFERENCE, graded).share < 0.3, "the all-wrong answer scores 0"


def test_the_boss_plan_sells_out_long_before_its_reorder_and_misses_1500_units():
    sim = shopsim.simulate(LAUNCH, seed=PRACTICE, policy=decisions.plans.policy(decisions.plans.check(BOSS, 30)))
    inv = sim.tables["inventory"]
    tee = inv[inv["sku"] == NEW].reset_index(drop=True)
    first_out = int(np.argmax(tee["stockout_hours"].to_numpy() > 0))
    assert tee["stockout_hours"].sum() >= 4 * 24 and first_out < 26 - 4, "out for days before the reorder (day 26)"
    assert tee["sold"].sum() < 1500 - 300, "the gap of Exercise 7 is clear"
    reviews = sim.tables["reviews"]
    assert (reviews[(reviews["sku"] == NEW)]["rating"] <= 2).mean() < 0.2, "no review crisis (option d is wrong)"
