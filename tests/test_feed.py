"""The recommendation feed (手淘首页 / 猜你喜欢) and favourites (收藏): what the recommender rewards."""

from __future__ import annotations

import numpy as np
import pytest
from invariants import check_invariants

import shopsim
from shopsim import feed

SKU = "SHIRT-OXFORD"


def feed_sessions(sim: shopsim.Simulation, sku: str, first_day: int = 0) -> int:
    s = sim.tables["sessions"]
    day = (s["ts"].dt.tz_localize(None).dt.normalize() - np.datetime64(sim.scenario.start)).dt.days
    return int(((s["source"] == "feed") & (s["landing_sku"] == sku) & (day >= first_day)).sum())


@pytest.mark.parametrize("seed", [1, 2])
def test_the_feed_rewards_a_better_main_image(seed):
    """Same seed, same world: new main images for the oxford shirt bring it more feed visits once live."""
    plain = shopsim.Simulation("baseline", seed=seed).run(14)
    better = shopsim.Simulation("baseline", seed=seed)
    better.improve_listing(SKU, "main_image")
    better.run(14)
    live = better.scenario.listing_work["main_image"].days + 1
    assert feed_sessions(better, SKU, live) > 1.15 * feed_sessions(plain, SKU, live)


def test_the_recommender_shows_a_better_listing_more_and_clicks_it_more():
    sim = shopsim.Simulation("baseline", seed=1)
    cat, o = sim.catalog, sim.catalog.index[SKU]
    on_sale = np.ones(cat.n, dtype=bool)
    before = feed.feed_clicks(sim.scenario, cat, 0, on_sale, np.ones(cat.n))[o]
    ctr_before = feed.click_through(sim.scenario, cat)[o]
    cat.listing_quality[o] = 0.95
    after = feed.feed_clicks(sim.scenario, cat, 0, on_sale, np.ones(cat.n))[o]
    assert feed.click_through(sim.scenario, cat)[o] > ctr_before
    more_clicks = feed.click_through(sim.scenario, cat)[o] / ctr_before
    assert after / before > more_clicks, "more exposures, not only more clicks"


def test_a_new_listing_gets_the_freshness_boost():
    old = shopsim.simulate("baseline", 7, seed=3)
    new = shopsim.simulate(shopsim.load_scenario("baseline", [f"skus.{SKU}.age_days=0"]), 7, seed=3)
    assert feed_sessions(new, SKU) > 1.3 * feed_sessions(old, SKU)


def test_a_high_refund_rate_costs_feed_traffic():
    """The recommender reads the listing's recent refund rate, the one array the refunds keep."""
    plain = shopsim.Simulation("baseline", seed=4)
    refunded = shopsim.Simulation("baseline", seed=4)
    rate = refunded.catalog.refund_rate
    assert ((rate > 0.03) & (rate < 0.4)).all(), "each listing starts at the rate its causes of returns give it"
    o = refunded.catalog.index[SKU]
    refunded.refunds.refund_history[o] = refunded.refunds.sales_history[o] * 0.45  # a bad month of returns
    refunded.refunds.close_day(refunded.refunds.sales_history[:, -1], refunded.refunds.refund_history[:, -1])
    assert rate[o] > 0.3 and refunded.catalog.refund_rate is rate
    plain.run(5)
    refunded.run(5)
    assert feed_sessions(refunded, SKU) < 0.6 * feed_sessions(plain, SKU)


def test_favourites_are_browsing_sessions_and_the_daily_report_counts_them(baseline_run):
    s, daily = baseline_run.tables["sessions"], baseline_run.tables["daily"]
    assert s["favourited"].any()
    assert not (s["favourited"] & s["bounced"]).any(), "a one-page visit cannot favourite"
    assert daily["favourites"].sum() == s["favourited"].sum()
    share = s["favourited"].mean()
    assert 0.01 < share < s["added_to_cart"].mean() * 1.5


def test_favourites_and_carts_feed_the_recommender():
    sim = shopsim.Simulation("baseline", seed=2)
    o = sim.catalog.index[SKU]
    base = feed.scores(sim.scenario, sim.catalog, 0)[o]
    sim.catalog.interest_history[o] *= 3
    assert feed.scores(sim.scenario, sim.catalog, 0)[o] > base


def test_rivals_sell_from_the_feed_too_and_the_run_stays_consistent():
    sim = shopsim.simulate("baseline", 3, seed=6)
    check_invariants(sim)
    assert (sim.tables["sessions"]["source"] == "feed").mean() > 0.1
    assert sim._groups.rival_visits.sum() > 0
