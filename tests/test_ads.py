"""Paid search, display and affiliates: the auction's economics, budgets, and the ads table's money."""

import pandas as pd
import pytest
from conftest import NO_CAMPAIGN
from invariants import assert_rejected_and_untouched, check_invariants, without_second_visits

import shopsim

KEYWORD = "cotton t-shirt"  # rivals bid 1.1 (North Thread) and 0.9 (Urban Basics) on it in baseline


def plain_shop(scenario: str = "baseline") -> shopsim.Scenario:
    """The scenario without its inherited campaign: only what a test buys is bought."""
    return shopsim.load_scenario(scenario, list(NO_CAMPAIGN))


def bought(seed=5, days=5, bids=None, budget=5000.0, setup=None, scenario="baseline"):
    sim = shopsim.Simulation(plain_shop(scenario), seed=seed)
    for word, bid in (bids or {KEYWORD: 2.0}).items():
        sim.set_keyword_bid(word, bid)
    sim.set_ad_budget(budget)
    if setup:
        setup(sim)
    return sim.run(days)


def search_rows(sim, keyword=KEYWORD):
    ads = sim.tables["ads"]
    return ads[(ads["channel"] == "paid_search") & (ads["keyword"] == keyword)]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_higher_bid_wins_a_better_slot_and_pays_more_per_click(seed):
    low, high = bought(seed, bids={KEYWORD: 0.7}), bought(seed, bids={KEYWORD: 2.0})
    lo, hi = search_rows(low), search_rows(high)
    assert hi["avg_position"].mean() < lo["avg_position"].mean()
    assert hi["spend"].sum() / hi["clicks"].sum() > lo["spend"].sum() / lo["clicks"].sum()
    assert hi["clicks"].sum() > lo["clicks"].sum()


def test_every_click_costs_at_most_the_bid_and_at_least_the_reserve():
    sim = bought(bids={KEYWORD: 1.0, "chinos": 2.5, "joggers": 0.5})
    ads = sim.tables["ads"].query("channel == 'paid_search' and clicks > 0")
    cpc = ads["spend"] / ads["clicks"]
    assert (cpc <= ads["bid"] + 1e-9).all()
    assert (cpc >= sim.scenario.paid_search.reserve_price - 1e-9).all()


def test_second_price_a_much_higher_bid_pays_the_same_once_on_top():
    a, b = search_rows(bought(bids={KEYWORD: 3.0})), search_rows(bought(bids={KEYWORD: 9.0}))
    assert (a["avg_position"] == 1).all() and (b["avg_position"] == 1).all()
    assert a["spend"].sum() / a["clicks"].sum() == pytest.approx(b["spend"].sum() / b["clicks"].sum())


def test_doubling_a_binding_budget_buys_fewer_than_twice_the_clicks_at_a_higher_marginal_cost():
    bids = {KEYWORD: 2.0, "chinos": 2.0}
    small, large = bought(bids=bids, budget=600.0, days=7), bought(bids=bids, budget=1200.0, days=7)
    s, lg = small.tables["ads"], large.tables["ads"]
    assert s["spend"].sum() / 7 > 0.5 * 600, "the small budget must actually bind"
    assert s["clicks"].sum() < lg["clicks"].sum() < 2 * s["clicks"].sum()
    marginal = (lg["spend"].sum() - s["spend"].sum()) / (lg["clicks"].sum() - s["clicks"].sum())
    assert marginal > s["spend"].sum() / s["clicks"].sum()


def test_the_budget_runs_out_mid_day_without_pacing_and_spend_stays_within_one_click():
    sc = shopsim.load_scenario("baseline", ["paid_search.pacing=false"])
    sim = shopsim.Simulation(sc, seed=3)
    sim.set_keyword_bid(KEYWORD, 2.0)
    sim.set_ad_budget(200.0)
    sim.run(4)
    ads = sim.tables["ads"].query("channel == 'paid_search'")
    by_day = ads.groupby(ads["ts"].dt.date)
    largest_click = (ads["spend"] / ads["clicks"]).max()
    assert (by_day["spend"].sum() <= 200.0 + largest_click + 1e-6).all()
    events = sim.tables["events"].query("kind == 'ad_budget_out'")
    assert len(events) == 4, "one budget-out event a day"
    assert (events["ts"].dt.hour < 23).all(), "the budget must run out before the day ends"
    last_click = ads.groupby(ads["ts"].dt.date)["ts"].max()
    assert (last_click.dt.hour.values <= events["ts"].dt.hour.values).all(), "no ad clicks after it ran out"


def test_paid_sessions_orders_and_revenue_match_the_ads_table():
    sim = bought(bids={KEYWORD: 2.0, "slim jeans": 2.0})
    s, o, ads = sim.tables["sessions"], sim.tables["orders"], sim.tables["ads"]
    paid = s[s["source"] == "paid_search"]
    assert len(paid) == ads.query("channel == 'paid_search'")["clicks"].sum()
    paid_orders = o[o["source"] == "paid_search"]
    assert len(paid_orders) == ads.query("channel == 'paid_search'")["orders"].sum()
    assert paid_orders["paid_amount"].sum() == pytest.approx(ads.query("channel == 'paid_search'")["revenue"].sum())
    check_invariants(sim)


def test_top_slot_click_through_lands_in_the_calibration_range():
    ads = search_rows(bought(bids={KEYWORD: 3.0}, days=7))
    top = ads[ads["avg_position"] == 1]
    ctr = top["clicks"].sum() / top["impressions"].sum()
    assert 0.01 <= ctr <= 0.08


def test_display_click_through_in_range_and_spend_is_cpm():
    def display(sim):
        sim.set_display("new_shoppers", 15.0, 300.0)

    sim = bought(bids={}, budget=0.0, setup=display, days=4)
    ads = sim.tables["ads"].query("channel == 'display'")
    ctr = ads["clicks"].sum() / ads["impressions"].sum()
    assert 0.0005 <= ctr <= 0.01
    clearing = sim.scenario.display.audiences["new_shoppers"].clearing_cpm
    cpm_paid = min(15.0, clearing)
    assert ads["spend"].sum() == pytest.approx(ads["impressions"].sum() * cpm_paid / 1000, rel=1e-3, abs=0.05)
    assert (ads.groupby(ads["ts"].dt.date)["spend"].sum() <= 300.0 + 1e-6).all()
    assert (sim.tables["sessions"]["source"] == "display").sum() == ads["clicks"].sum()


def test_affiliate_commission_stays_in_the_calibration_range_of_the_paid_price():
    def commission(sim):
        sim.set_affiliate_commission("TEE-CLASSIC", 0.05)
        sim.set_affiliate_commission("PANT-CHINO", 0.3)

    ads = bought(bids={}, budget=0.0, setup=commission, days=4).tables["ads"].query("channel == 'affiliate'")
    paid = ads[ads["revenue"] > 0]
    share = paid["spend"] / paid["revenue"]
    assert len(paid) and ((share >= 0.05 - 1e-3) & (share <= 0.30 + 1e-3)).all()


def test_affiliates_more_commission_more_visits_and_commission_only_on_sales():
    def commission(rate):
        return lambda sim: sim.set_affiliate_commission("TEE-CLASSIC", rate)

    low = bought(bids={}, budget=0.0, setup=commission(0.1), days=5)
    high = bought(bids={}, budget=0.0, setup=commission(0.25), days=5)
    visits = [(s.tables["sessions"]["source"] == "affiliate").sum() for s in (low, high)]
    assert visits[0] < visits[1]
    ads = high.tables["ads"].query("channel == 'affiliate'")
    assert ads["spend"].sum() == pytest.approx(0.25 * ads["revenue"].sum(), abs=0.05 * len(ads))
    pnl = high.tables["pnl"]
    assert pnl["affiliate_commission"].sum() == pytest.approx(ads["spend"].sum(), abs=0.01 * len(pnl))
    check_invariants(high)


def test_buying_ads_leaves_every_organic_shopper_unchanged_on_day_one():
    plain = shopsim.Simulation(plain_shop(), seed=9).run(1)
    ads = bought(seed=9, days=1, bids={KEYWORD: 2.0})
    a = without_second_visits(plain.tables["sessions"])
    b = without_second_visits(ads.tables["sessions"])
    b = b[b["source"] != "paid_search"].reset_index(drop=True)
    cols = ["ts", "device", "source", "keyword", "landing_sku", "bounced", "page_views"]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols])


def test_rivals_bids_show_as_ad_presence_in_the_market():
    sim = shopsim.simulate("baseline", 2, seed=1)
    market = sim.tables["market"]
    today = market[market["date"] == market["date"].max()].set_index("sku")
    assert today.loc["NT-TEE", "ad_presence"] and today.loc["UB-TEE", "ad_presence"]
    assert not today.loc["NT-LINEN", "ad_presence"] or "linen shirt" in str(sim.scenario.rivals[1].ad_bids)


@pytest.mark.parametrize("call, message", [
    (lambda s: s.set_keyword_bid("no such word", 1.0), "unknown keyword"),
    (lambda s: s.set_keyword_bid(KEYWORD, -1), "out of range"),
    (lambda s: s.set_keyword_bid(KEYWORD, 1.0, "PANT-SLIM"), "does not match the keyword"),
    (lambda s: s.set_ad_budget(-5), "out of range"),
    (lambda s: s.set_ads_active("yes"), "True or False"),
    (lambda s: s.set_display("everyone", 10, 100), "unknown audience"),
    (lambda s: s.set_display("past_buyers", 10, float("nan")), "finite"),
    (lambda s: s.set_affiliate_commission("TEE-CLASSIC", 0.31), "out of range"),
    (lambda s: s.set_affiliate_commission("TEE-CLASSIC", 0.04), "too small"),
])
def test_bad_ad_levers_are_action_errors_and_change_nothing(call, message):
    assert_rejected_and_untouched(call, message)


def test_pacing_several_bid_scales_at_once_gives_each_scale_alone():
    """Budget pacing works out the spend at several bid scales in one broadcast call: the same
    floats as one call per scale, and the bisection ends where one halving at a time ends."""
    from shopsim import ads

    sim = shopsim.Simulation("baseline", seed=2)
    sim.set_ad_budget(150)
    sim.run(1)
    a = sim.ads
    a.spent_search, a.search_exhausted = 0.0, False
    plans = a._search_plans()
    flat = ads._FlatPlans(plans, sim.scenario.paid_search, a._decay)
    shades = [1.0, ads._MIN_SHADE, *(ads._middle(i) for i in ads._halvings(ads._MIN_SHADE, 1.0, 4))]
    together = a._search_spend(shades, plans, flat)
    for shade, spend in zip(shades, together, strict=True):
        price, _, _, clicks = flat.won(shade)
        total = 0.0
        for day in ((price * clicks)[:, None] * a.hour_weights).sum(axis=1).tolist():  # plan by plan
            total += day
        assert spend == total == a._search_spend([shade], plans, flat)[0]
    left = a.campaign.search_budget
    assert together[0] > left >= together[1], "the budget binds: the scale is bisected"
    low, high = ads._MIN_SHADE, 1.0
    for _ in range(sum(ads._BISECTION)):  # one halving at a time
        mid = (low + high) / 2
        low, high = (mid, high) if a._search_spend([mid], plans, flat)[0] <= left else (low, mid)
    assert low > ads._MIN_SHADE
    paced, alone = a._paced_rows(), a._search_rows(low, plans, flat)
    assert [(r["price"], r["rate"]) for r in paced] == [(r["price"], r["rate"]) for r in alone]
