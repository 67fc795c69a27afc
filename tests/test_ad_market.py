"""The ad market of issue 10: a field of advertisers per keyword, quality scores, bid schedules,
audience premiums, real display audiences and the inherited campaign (same-seed twins)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import NO_CAMPAIGN
from invariants import assert_rejected_and_untouched, check_invariants

import shopsim

KEYWORD = "cotton t-shirt"


def fresh(seed: int) -> shopsim.Simulation:
    """The baseline shop without its inherited campaign."""
    return shopsim.Simulation(shopsim.load_scenario("baseline", list(NO_CAMPAIGN)), seed=seed)


def bid_run(bid: float, seed: int = 1, days: int = 4) -> pd.DataFrame:
    sim = fresh(seed)
    sim.set_keyword_bid(KEYWORD, bid)
    sim.set_ad_budget(100_000)
    sim.run(days)
    return sim.tables["ads"].query("channel == 'paid_search'")


@pytest.mark.parametrize("seed", [1, 2])
def test_a_higher_bid_buys_more_clicks_at_a_rising_marginal_cost_up_to_the_top_slot(seed):
    bids = (0.75, 1.1, 1.3, 6.0, 12.0)
    runs = [bid_run(b, seed) for b in bids]
    clicks = np.array([r["clicks"].sum() for r in runs])
    spend = np.array([r["spend"].sum() for r in runs])
    assert (np.diff(clicks[:4]) > 0).all(), f"clicks by bid {dict(zip(bids, clicks, strict=True))}"
    marginal = np.diff(spend[:4]) / np.diff(clicks[:4])
    assert (marginal > spend[:3] / clicks[:3]).all(), "each extra click costs more than the average before"
    assert (runs[-1]["avg_position"] == 1).all() and (runs[-2]["avg_position"] == 1).all()
    assert runs[0]["avg_position"].mean() > 3
    assert clicks[-1] == clicks[-2], "above the top slot a higher bid buys nothing more"
    assert spend[-1] == pytest.approx(spend[-2]), "... and costs nothing more (second price)"


def test_the_field_of_advertisers_is_drawn_from_the_scenario_distribution():
    crowded = shopsim.load_scenario("baseline", [*NO_CAMPAIGN, f"keywords.{KEYWORD}.advertisers=25",
                                                               f"keywords.{KEYWORD}.median_bid=2.5"])
    sims = [fresh(3), shopsim.Simulation(crowded, seed=3)]
    for sim in sims:
        sim.set_keyword_bid(KEYWORD, 3.0)
        sim.set_ad_budget(100_000)
        sim.run(3)
    quiet, busy = (s.tables["ads"].query("channel == 'paid_search'") for s in sims)
    assert len(busy) and busy["avg_position"].mean() > quiet["avg_position"].mean() + 1
    assert busy["spend"].sum() / busy["clicks"].sum() > quiet["spend"].sum() / quiet["clicks"].sum()
    assert len(sims[1].ads._field_bids[0]) == 25
    assert np.median(sims[1].ads._field_bids[0]) == pytest.approx(2.5, rel=0.35)


def test_quality_scores_are_1_to_10_shown_to_the_operator_and_in_the_ads_table():
    sim = shopsim.Simulation("baseline", seed=2)
    seen = {}
    sim.policy = lambda view: seen.update(view.quality_scores())
    sim.run(3)
    assert set(seen) == {k.keyword for k in sim.scenario.keywords}
    assert all(isinstance(q, int) and 1 <= q <= 10 for q in seen.values())
    ads = sim.tables["ads"]
    search = ads[ads["channel"] == "paid_search"]
    assert search["quality_score"].notna().all() and search["quality_score"].between(1, 10).all()
    assert ads.loc[ads["channel"] != "paid_search", "quality_score"].isna().all()
    weak = seen["mens casual wear"]  # the hero tee is only 0.6 relevant to it
    assert weak < seen[KEYWORD]


def test_a_better_main_image_raises_the_quality_score_and_lowers_the_price_of_a_click():
    plain, better = fresh(5), fresh(5)
    for sim in (plain, better):
        sim.set_keyword_bid("oxford shirt", 1.6)
        sim.set_ad_budget(100_000)
    better.improve_listing("SHIRT-OXFORD", "main_image")
    better.improve_listing("SHIRT-OXFORD", "title")
    plain.run(25)
    better.run(25)
    k = [w.keyword for w in plain.scenario.keywords].index("oxford shirt")
    assert better.ads.quality_scores()[k] > plain.ads.quality_scores()[k]
    last = [s.tables["ads"].query("channel == 'paid_search'").tail(24 * 5) for s in (plain, better)]
    cpc = [a["spend"].sum() / a["clicks"].sum() for a in last]
    rank = [a["avg_position"].mean() for a in last]
    assert cpc[1] < cpc[0] or rank[1] < rank[0]


def test_a_bid_schedule_moves_clicks_between_hours():
    sim = fresh(4)
    sim.set_keyword_bid(KEYWORD, 0.9)
    sim.set_ad_budget(100_000)
    shares = [0.0] * 8 + [1.0] * 12 + [2.5] * 3 + [1.0]
    sim.set_bid_schedule(KEYWORD, shares)
    sim.run(3)
    ads = sim.tables["ads"].query("channel == 'paid_search'")
    hour = ads["ts"].dt.hour
    assert ads.loc[hour < 8, "clicks"].sum() == 0, "no ads while the schedule says 0"
    assert ads.loc[hour.between(20, 22), "avg_position"].mean() < ads.loc[hour.between(9, 19), "avg_position"].mean()
    assert sim.tables["events"].query("kind == 'set_bid_schedule'").shape[0] == 1


@pytest.mark.parametrize("schedule", [None, [0.5] * 12 + [1.5] * 12])
def test_alone_on_a_keyword_the_ad_takes_the_top_slot_at_the_reserve_price(schedule):
    """No other advertiser (no field, no rival bidding on "denim shirt"): slot 1, reserve price,
    with or without a bid schedule and with the budget pacing the bids down."""
    sc = shopsim.load_scenario("baseline", [*NO_CAMPAIGN, "paid_search.field_advertisers=0"])
    sim = shopsim.Simulation(sc, seed=3)
    sim.set_keyword_bid("denim shirt", 2.0)
    sim.set_ad_budget(30)  # well under a day's clicks at full bids: pacing shades them
    if schedule is not None:
        sim.set_bid_schedule("denim shirt", schedule)
    sim.run(2)
    ads = sim.tables["ads"].query("channel == 'paid_search' and clicks > 0")
    assert len(ads) and (ads["avg_position"] == 1).all()
    cpc = ads["spend"].sum() / ads["clicks"].sum()
    assert cpc == pytest.approx(sc.paid_search.reserve_price, abs=0.006)


def test_an_audience_premium_buys_more_clicks_from_the_shops_own_customers():
    plain, premium = fresh(6), fresh(6)
    for sim in (plain, premium):
        sim.set_keyword_bid(KEYWORD, 1.0)
        sim.set_ad_budget(100_000)
    premium.set_audience_premium("past_buyers", 2.0)
    plain.run(5)
    premium.run(5)
    ads = premium.tables["ads"].query("channel == 'paid_search'")
    targeted = ads[ads["audience"] == "past_buyers"]
    assert targeted["clicks"].sum() > 0
    assert targeted["avg_position"].mean() < ads[ads["audience"].isna()]["avg_position"].mean()

    def known_paid(sim):
        s = sim.tables["sessions"]
        return int(((s["source"] == "paid_search") & ~s["is_new_customer"]).sum())

    assert known_paid(premium) > 1.5 * known_paid(plain)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_display_retargeting_converts_at_least_twice_as_well_as_prospecting(seed):
    """Past visitors and past buyers are picked from the customer base and convert as such."""
    sim = fresh(seed)
    for audience in ("new_shoppers", "past_visitors", "past_buyers"):
        sim.set_display(audience, 30.0, 1500.0)
    sim.run(14)
    s = sim.tables["sessions"]
    ads = sim.tables["ads"].query("channel == 'display'")
    by = ads.groupby("audience", observed=True)[["clicks", "orders"]].sum()
    rate = by["orders"] / by["clicks"]
    retargeted = (by.loc["past_visitors", "orders"] + by.loc["past_buyers", "orders"]) / (
        by.loc["past_visitors", "clicks"] + by.loc["past_buyers", "clicks"])
    assert by.loc["new_shoppers", "clicks"] > 200 and by.loc["past_buyers", "clicks"] > 50
    assert retargeted >= 2 * rate["new_shoppers"], rate.to_dict()
    display = s[s["source"] == "display"]
    assert (display["customer_id"] < sim.customers.size).all()
    check_invariants(sim)


def test_past_buyer_display_reaches_only_past_buyers():
    sim = fresh(2)
    sim.set_display("past_buyers", 30.0, 2000.0)
    sim.run(3)
    s = sim.tables["sessions"]
    assert (~s.loc[s["source"] == "display", "is_new_customer"]).all()


def test_the_inherited_campaign_is_running_and_visible():
    sim = shopsim.Simulation("baseline", seed=1)
    seen = {}
    sim.policy = lambda view: seen.update(view.campaign())
    sim.run(1)
    c = sim.scenario.campaign
    assert seen["keyword_bids"] == dict(c.keyword_bids)
    assert seen["daily_budget"] == c.daily_budget and seen["search_active"]
    assert seen["affiliate_commission"] == dict(c.affiliate_commission)
    assert sim.tables["events"].query("kind == 'inherited_campaign'").shape[0] == 1
    assert sim.tables["ads"]["spend"].sum() > 0


def test_switching_the_inherited_campaign_off_lowers_gmv_within_a_month():
    def switch_off(view):
        if view.day == 0:
            view.set_ads_active(False)
            for sku in view.campaign()["affiliate_commission"]:
                view.set_affiliate_commission(sku, 0)

    for seed in (1, 2):
        on = shopsim.simulate("baseline", seed=seed)
        off = shopsim.simulate("baseline", seed=seed, policy=switch_off)
        assert off.tables["ads"]["spend"].sum() == 0
        assert off.tables["daily"]["gmv"].sum() < 0.93 * on.tables["daily"]["gmv"].sum()


def test_a_deliberately_overbid_campaign_loses_money():
    sim = fresh(3)
    for k in sim.scenario.keywords:
        sim.set_keyword_bid(k.keyword, 9.0)
    sim.set_ad_budget(100_000)
    sim.run(7)
    ads, o, items = (sim.tables[n] for n in ("ads", "orders", "order_items"))
    paid = o[o["source"] == "paid_search"]
    lines = items[items["order_id"].isin(paid["order_id"])]
    fee = sim.scenario.shop.platform_fee_rate
    margin = (paid["paid_amount"].sum() * (1 - fee) - (lines["qty"] * lines["unit_cost"]).sum()
              - len(paid) * sim.scenario.shop.shipping_cost_per_order)
    assert margin < ads.query("channel == 'paid_search'")["spend"].sum()


@pytest.mark.parametrize("call, message", [
    (lambda s: s.set_bid_schedule("no such word", [1] * 24), "unknown keyword"),
    (lambda s: s.set_bid_schedule(KEYWORD, [1] * 23), "24 values"),
    (lambda s: s.set_bid_schedule(KEYWORD, [1] * 23 + [3]), "out of range"),
    (lambda s: s.set_bid_schedule(KEYWORD, [1] * 23 + [0.1]), "too small"),
    (lambda s: s.set_bid_schedule(KEYWORD, 5), "list of 24"),
    (lambda s: s.set_bid_schedule(KEYWORD, [1] * 23 + [float("nan")]), "finite"),
    (lambda s: s.set_audience_premium("everyone", 0.3), "unknown audience"),
    (lambda s: s.set_audience_premium("new_shoppers", 0.3), "unknown audience"),
    (lambda s: s.set_audience_premium("past_buyers", -0.1), "out of range"),
    (lambda s: s.set_audience_premium("followers", 3.5), "out of range"),
])
def test_bad_market_levers_are_action_errors_and_change_nothing(call, message):
    assert_rejected_and_untouched(call, message)
