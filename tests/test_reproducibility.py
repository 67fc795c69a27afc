"""Reproducibility: same scenario + seed + actions gives the same tables; step mode equals one call;
changing one lever leaves the other random streams where they were; no global random state."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from invariants import assert_same_tables, local_day, without_second_visits

import shopsim

#: Session columns decided only by the arrivals stream and by funnel draws whose chances do not
#: depend on prices (who comes, when, from where, on which device, whether they bounce).
PRICE_FREE_COLUMNS = ["ts", "customer_id", "device", "source", "keyword", "landing_sku", "bounced",
                      "page_views"]


def _acting(sim: shopsim.Simulation) -> shopsim.Simulation:
    """A fixed script of actions between steps."""
    sim.run(2)
    sim.set_price("A", 66)
    sim.reorder("B", 40)
    sim.run(1)
    reviews = sim.tables["reviews"]
    for rid in reviews.loc[reviews["rating"] <= 2, "review_id"]:
        sim.reply_to_review(int(rid))
    sim.improve_listing("A", "main_image")
    sim.run(3)
    return sim


@pytest.fixture(scope="module")
def busy(make_tiny):
    return make_tiny(traffic=2, skus={"B": {"initial_stock": 60, "lead_time_days": 2}}, timeline=[
        {"day": 1, "hour": 5, "kind": "review_burst", "target": "A", "value": 3, "days": 1},
        {"day": 2, "hour": 14, "kind": "rival_price", "target": "R", "value": 55},
    ])


def test_same_seed_and_actions_give_identical_tables(busy):
    a = _acting(shopsim.Simulation(busy, seed=9))
    b = _acting(shopsim.Simulation(busy, seed=9))
    assert len(a.tables["sessions"]) > 1000 and len(a.tables["reviews"]) > 0
    assert_same_tables(a, b)


def test_same_seed_for_a_bundled_scenario():
    assert_same_tables(shopsim.simulate("baseline", 3, seed=5), shopsim.simulate("baseline", 3, seed=5))


@pytest.mark.parametrize("seeds", [(1, 2), (0, 2**40)])
def test_different_seeds_give_different_sessions(tiny, seeds):
    a, b = (shopsim.simulate(tiny, 2, seed=s).tables["sessions"] for s in seeds)
    assert len(a) > 100 and len(b) > 100
    head = min(len(a), len(b), 200)
    assert not a["ts"].iloc[:head].reset_index(drop=True).equals(b["ts"].iloc[:head].reset_index(drop=True))
    assert len(a) != len(b) or not a.equals(b)


def test_step_mode_equals_one_call_and_simulate(busy):
    steps = shopsim.Simulation(busy, seed=3)
    for _ in range(5):
        steps.run(1)
    one = shopsim.Simulation(busy, seed=3).run(5)
    assert_same_tables(steps, one)
    assert_same_tables(steps, shopsim.simulate(busy, 5, seed=3))
    # reading the tables mid-run changes nothing either
    peeking = shopsim.Simulation(busy, seed=3)
    for _ in range(5):
        peeking.run(1)
        for name in shopsim.TABLES:
            peeking.tables[name]
    assert_same_tables(steps, peeking)


def test_run_without_days_runs_the_scenario_length(tiny):
    sim = shopsim.Simulation(tiny, seed=1).run()
    assert sim.days_run == tiny.days
    assert_same_tables(sim, shopsim.simulate(tiny, seed=1))


def test_run_without_days_after_steps_runs_the_rest(tiny):
    sim = shopsim.Simulation(tiny, seed=1)
    sim.run(2)
    sim.run()
    assert sim.days_run == tiny.days
    sim.run()
    assert sim.days_run == tiny.days, "run() at the end simulates nothing more"


def test_a_policy_sees_the_same_world_as_step_mode(make_tiny):
    """Setting a price from a policy on the morning of day 2 equals setting it between run() calls."""
    sc = make_tiny(traffic=2)

    def policy(view):
        if view.day == 2:
            view.set_price("B", 70)

    by_policy = shopsim.simulate(sc, 4, seed=6, policy=policy)
    stepped = shopsim.Simulation(sc, seed=6)
    stepped.run(2)
    stepped.set_price("B", 70)
    stepped.run(2)
    assert_same_tables(by_policy, stepped, names=("sessions", "orders", "order_items", "inventory", "pnl", "daily"))


# -- common random numbers ----------------------------------------------------------------------
def _day0(sim) -> pd.DataFrame:
    s = without_second_visits(sim.tables["sessions"])
    return s[local_day(s["ts"]) == pd.Timestamp(sim.scenario.start)].reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_price_change_leaves_day_zero_arrivals_and_bounces_unchanged(make_tiny, seed):
    """Prices do not enter the day's traffic rates or bounce chances, so on the first day (before
    the ranking can react to sales) the same shoppers arrive at the same seconds on the same
    listings and bounce alike; only what they buy differs."""
    sc = make_tiny(traffic=2)
    base = shopsim.Simulation(sc, seed=seed).run(1)
    dear = shopsim.Simulation(sc, seed=seed)
    dear.set_price("A", 75)
    dear.run(1)
    a, b = _day0(base), _day0(dear)
    assert len(a) > 500
    pd.testing.assert_frame_equal(a[PRICE_FREE_COLUMNS], b[PRICE_FREE_COLUMNS], check_exact=True)
    on_a = a["landing_sku"] == "A"
    assert b.loc[on_a, "added_to_cart"].sum() < a.loc[on_a, "added_to_cart"].sum(), "the price change did nothing"
    # the common uniforms make the dearer shop's carts a subset of the cheaper one's on A (but for
    # shoppers who asked customer service: a timely answer in one run's queue may win a cart)
    askers = set(base.tables["service"]["customer_id"]) | set(dear.tables["service"]["customer_id"])
    asked = a["customer_id"].isin(askers)
    on_a &= ~asked
    assert not (b.loc[on_a, "added_to_cart"] & ~a.loc[on_a, "added_to_cart"]).any()


def test_a_price_change_on_one_sku_leaves_the_other_skus_carts_on_day_zero(make_tiny):
    """A shopper compares the product they landed on with the rivals' offers (the shop's other SKUs are
    not alternatives), so A's price does not move the funnel of new shoppers who landed on B."""
    sc = make_tiny(traffic=2)
    base = shopsim.Simulation(sc, seed=4).run(1)
    dear = shopsim.Simulation(sc, seed=4)
    dear.set_price("A", 75)
    dear.run(1)
    a, b = _day0(base), _day0(dear)
    searched_b = (a["landing_sku"] == "B") & (a["source"] == "search") & a["is_new_customer"] & b["is_new_customer"]
    assert searched_b.sum() > 100
    pd.testing.assert_series_equal(a.loc[searched_b, "added_to_cart"], b.loc[searched_b, "added_to_cart"])


def test_a_price_change_leaves_a_scripted_review_burst_unchanged(make_tiny):
    sc = make_tiny(traffic=2, timeline=[{"day": 1, "hour": 9, "kind": "review_burst", "target": "B", "value": 6,
                                         "days": 1}])
    runs = []
    for price in (60, 75):
        sim = shopsim.Simulation(sc, seed=3)
        sim.set_price("A", price)
        sim.run(4)
        r = sim.tables["reviews"]
        runs.append(r.loc[r["order_id"].isna(), ["ts", "sku", "rating"]].reset_index(drop=True))
    assert len(runs[0]) == 6
    pd.testing.assert_frame_equal(runs[0], runs[1])


# -- no global randomness ------------------------------------------------------------------------------
def test_global_seeds_change_nothing(tiny):
    np.random.seed(1)  # noqa: NPY002 (the legacy global state is what we check)
    random.seed(1)
    a = shopsim.simulate(tiny, 2, seed=8)
    np.random.seed(2)  # noqa: NPY002 (the legacy global state is what we check)
    random.seed(2)
    b = shopsim.simulate(tiny, 2, seed=8)
    assert_same_tables(a, b)


def test_the_global_random_state_is_not_used(tiny):
    np.random.seed(123)  # noqa: NPY002 (the legacy global state is what we check)
    random.seed(123)
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    sim = shopsim.Simulation(tiny, seed=8)
    sim.run(2)
    sim.set_price("A", 70)
    sim.run(1)
    for name in shopsim.TABLES:
        sim.tables[name]
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and (after[1] == np_state[1]).all() and after[2:] == np_state[2:]
    assert random.getstate() == py_state


def test_streams_are_named_and_independent():
    from shopsim.simulation import stream

    assert stream(7, "arrivals").random() == stream(7, "arrivals").random()
    assert stream(7, "arrivals").random() != stream(7, "funnel").random()
    assert stream(7, "arrivals").random() != stream(8, "arrivals").random()


# -- slices of several hours ---------------------------------------------------------------------
def _hour_by_hour(monkeypatch) -> None:
    monkeypatch.setattr(shopsim.Simulation, "_slice_hours", lambda self, hour, weights: 1)


@pytest.mark.parametrize(("scenario", "days", "seed"), [("baseline", 8, 3), ("stockout_crisis", 16, 3),
                                                        ("paid_traffic", 6, 1)])
def test_drawing_several_hours_at_once_gives_the_hour_by_hour_run(monkeypatch, scenario, days, seed):
    """The clock draws several hours in one slice while nothing can change the market; every
    stream is drawn hour by hour and slices end where the market may change (a scheduled event,
    a negative review, stock running low, a budget running out), so the tables are those of a
    clock that draws one hour at a time."""
    lengths = []
    slice_ = shopsim.Simulation._slice
    monkeypatch.setattr(shopsim.Simulation, "_slice", lambda self, hour, weights: (lengths.append(len(weights)),
                                                                                    slice_(self, hour, weights))[1])
    sliced = shopsim.simulate(scenario, days, seed=seed)
    assert len(lengths) < 24 * days / 2 and max(lengths) == 6, "most hours are drawn several at a time"
    _hour_by_hour(monkeypatch)
    hourly = shopsim.simulate(scenario, days, seed=seed)
    assert_same_tables(sliced, hourly, names=("sessions", "orders", "order_items", "refunds", "ads", "inventory",
                                              "service", "pnl", "daily"))


def test_stepping_with_actions_gives_the_hour_by_hour_run(busy, monkeypatch):
    """Actions between steps and scripted events split the slices; the run is still the one a
    clock drawing one hour at a time gives."""
    sliced = _acting(shopsim.Simulation(busy, seed=5))
    _hour_by_hour(monkeypatch)
    hourly = _acting(shopsim.Simulation(busy, seed=5))
    assert_same_tables(sliced, hourly)


def test_budgets_set_in_the_morning_end_the_slices_they_run_out_in(monkeypatch):
    """Display budgets that run out at night (bought each morning by a policy, so the auction that
    knows them is built at the start of the slice) and a paced search campaign: the sliced run is
    the hour-by-hour run, budget events included."""
    from shopsim import plans

    levers = [{"day": 0, "lever": "set_display", "audience": "new_shoppers", "cpm_bid": 15, "daily_budget": 500},
              {"day": 0, "lever": "set_display", "audience": "past_visitors", "cpm_bid": 25, "daily_budget": 500},
              {"day": 0, "lever": "set_audience_premium", "audience": "past_buyers", "share": 0.5},
              {"day": 2, "lever": "set_ad_budget", "daily_budget": 900}]

    def run() -> shopsim.Simulation:
        return shopsim.simulate("paid_traffic", days=4, seed=4, policy=plans.policy(plans.check(levers, 4)))

    sliced = run()
    assert (sliced.tables["events"]["kind"] == "ad_budget_out").sum() >= 4
    _hour_by_hour(monkeypatch)
    assert_same_tables(sliced, run(), names=("sessions", "orders", "ads", "events", "pnl", "daily"))


def _small_budget_shop(view) -> None:
    """Paid search on the two biggest keywords on a small budget that paces the bids (the cohort
    benchmark's kind of trainee), prices 10 % down."""
    if view.day == 0:
        for sku, price in view.prices().items():
            view.set_price(sku, round(price * 0.9, 2))
        for word in sorted(view.keywords(), key=view.keywords().get, reverse=True)[:2]:
            view.set_keyword_bid(word, 0.75)
        view.set_ad_budget(200.0)


def test_hours_whose_clicks_cannot_spend_the_budget_are_drawn_together(monkeypatch):
    """While the search budget might run out the clock used to draw one hour at a time; it now
    looks at the clicks the coming hours will bring (from a copy of their stream) and draws the
    hours they cannot exhaust the budget in at once. Fewer slices, the hour-by-hour run."""
    lengths = []
    slice_ = shopsim.Simulation._slice
    monkeypatch.setattr(shopsim.Simulation, "_slice", lambda self, hour, weights: (lengths.append(len(weights)),
                                                                                    slice_(self, hour, weights))[1])
    looking = shopsim.simulate("baseline", 6, seed=2, policy=_small_budget_shop)
    looked = len(lengths)
    lengths.clear()
    monkeypatch.setattr(shopsim.Simulation, "_quiet_hours", lambda self, cumulative, hours, weights: 0)
    shopsim.simulate("baseline", 6, seed=2, policy=_small_budget_shop)
    assert looked < 0.9 * len(lengths), f"{looked} slices, {len(lengths)} without looking at the clicks"
    assert (looking.tables["pnl"]["ad_spend_search"] > 0.8 * 200).all(), "the budget binds: paced to most of it"
    _hour_by_hour(monkeypatch)
    assert_same_tables(looking, shopsim.simulate("baseline", 6, seed=2, policy=_small_budget_shop))
