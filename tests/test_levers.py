"""The operator's levers: each applies and is logged; each bad value is one clear ActionError that
leaves the simulation exactly as it was (checked against a twin that never got the bad call)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from invariants import assert_same_tables, check_invariants, fingerprint, local_day

import shopsim
from shopsim import ActionError

BURST = [{"day": 0, "hour": 1, "kind": "review_burst", "target": "A", "value": 4, "days": 1}]


@pytest.fixture
def world(make_tiny):
    """A tiny shop after two days, with published (negative) reviews to answer."""
    sc = make_tiny(traffic=2, timeline=BURST, skus={"A": {"lead_time_days": 3}})
    sim = shopsim.Simulation(sc, seed=4)
    sim.run(2)
    return sim


@pytest.fixture
def twins(make_tiny):
    """Two identical simulations (same scenario, seed and past) after two days."""
    sc = make_tiny(traffic=2, timeline=BURST)
    pair = []
    for _ in range(2):
        sim = shopsim.Simulation(sc, seed=4)
        sim.run(2)
        sim.reply_to_review(1)
        sim.improve_listing("B", "title")
        pair.append(sim)
    return pair


def operator_events(sim) -> pd.DataFrame:
    ev = sim.tables["events"]
    return ev[ev["actor"] == "operator"].reset_index(drop=True)


# -- each lever applies and is logged -------------------------------------------------------------
def test_set_price_applies_and_is_logged(world):
    world.set_price("A", 64.999)
    ev = operator_events(world)
    assert len(ev) == 1
    row = ev.iloc[0]
    assert (row["kind"], row["target"]) == ("set_price", "A")
    assert "60.00" in row["detail"] and "65.00" in row["detail"]
    assert row["ts"] == pd.Timestamp("2026-03-04", tz="Asia/Shanghai")
    world.run(2)
    items = world.tables["order_items"]
    orders = world.tables["orders"]
    lines = items.merge(orders[["order_id", "ts"]], on="order_id")
    after = lines[(lines["sku"] == "A") & (lines["ts"] >= row["ts"])]
    before = lines[(lines["sku"] == "A") & (lines["ts"] < row["ts"])]
    assert len(after) and set(after["unit_list_price"]) == {65.0}, "the price is rounded to the fen and used"
    assert set(before["unit_list_price"]) == {60.0}, "the change must not reach back in time"


def test_numpy_numbers_are_accepted(world):
    world.set_price("A", np.float64(61.5))
    world.reorder("B", np.int64(5))
    world.reply_to_review(np.int64(2))
    assert list(operator_events(world)["kind"]) == ["set_price", "reorder", "reply_to_review"]


def test_reorder_arrives_after_the_lead_time(world):
    reorder_id = world.reorder("A", 120)  # lead time 3 days, ordered on the morning of day 2
    assert isinstance(reorder_id, int)
    ev = operator_events(world).iloc[0]
    assert (ev["kind"], ev["target"]) == ("reorder", "A")
    assert "120 units" in ev["detail"] and "2026-03-07 09:00" in ev["detail"]
    world.run(4)
    inv = world.tables["inventory"]
    a = inv[inv["sku"] == "A"].set_index("date")
    assert a.loc["2026-03-04":"2026-03-06", "received"].sum() == 0
    assert list(a.loc["2026-03-04":"2026-03-06", "on_order"]) == [120, 120, 120]
    assert a.loc["2026-03-07", "received"] == 120
    assert a.loc["2026-03-07", "on_order"] == 0
    arrived = world.tables["events"].query("kind == 'restock_arrived'")
    assert list(arrived["ts"]) == [pd.Timestamp("2026-03-07 09:00", tz="Asia/Shanghai")]
    assert list(arrived["actor"]) == ["system"]
    check_invariants(world)


def test_improve_listing_costs_now_and_raises_quality_after_its_days(world):
    work = world.scenario.listing_work["main_image"]
    before = world.truth().set_index("sku").loc["A", "listing_quality"]
    world.improve_listing("A", "main_image")
    ev = operator_events(world).iloc[0]
    assert (ev["kind"], ev["target"]) == ("improve_listing", "A") and "main_image" in ev["detail"]
    world.run(work.days - 1)
    assert world.truth().set_index("sku").loc["A", "listing_quality"] == before, "live too early"
    world.run(2)
    after = world.truth().set_index("sku").loc["A", "listing_quality"]
    assert after == pytest.approx(before + work.gain * (1 - before))
    live = world.tables["events"].query("kind == 'listing_live'")
    assert list(live["target"]) == ["A"]
    assert live["ts"].iloc[0] == ev["ts"] + pd.Timedelta(days=work.days, hours=8)  # goes live at 08:00
    assert world.tables["pnl"]["listing_cost"].sum() == pytest.approx(work.cost)
    check_invariants(world)  # the cost is in net_profit like every other line


def test_improve_listing_before_the_first_day_books_day_zero(tiny):
    sim = shopsim.Simulation(tiny, seed=1)
    sim.improve_listing("A", "title")
    sim.run(1)
    assert sim.tables["pnl"]["listing_cost"].tolist() == [tiny.listing_work["title"].cost]


def test_improve_listing_books_its_cost_on_the_day_it_is_ordered(world):
    world.improve_listing("A", "title")
    world.run(1)
    ordered = local_day(operator_events(world)["ts"]).iloc[0]
    pnl = world.tables["pnl"].set_index("date")
    assert pnl.loc[ordered, "listing_cost"] == world.scenario.listing_work["title"].cost


def test_the_same_work_may_be_ordered_again_once_live(world):
    world.improve_listing("A", "title")
    world.run(world.scenario.listing_work["title"].days + 1)
    world.improve_listing("A", "title")
    assert list(operator_events(world)["kind"]) == ["improve_listing", "improve_listing"]


def test_reply_to_review(world):
    reviews = world.tables["reviews"]
    negative = reviews.loc[reviews["rating"] <= 2, "review_id"]
    assert len(negative) >= 2
    world.reply_to_review(int(negative.iloc[0]))
    after = world.tables["reviews"].set_index("review_id")
    assert after.loc[negative.iloc[0], "replied"]
    assert after["replied"].sum() == 1
    ev = operator_events(world).iloc[0]
    assert (ev["kind"], ev["target"]) == ("reply_to_review", "A")
    assert f"review {negative.iloc[0]}" in ev["detail"]


# -- bad values: one clear error, nothing changed ------------------------------------------------------
BAD_CALLS = [
    ("set_price", ("Z", 50), r"unknown SKU 'Z'.*A, B"),
    ("set_price", ("R", 50), r"unknown SKU 'R'"),  # a rival's listing is not the shop's to price
    ("set_price", (None, 50), r"unknown SKU None"),
    ("set_price", ("A", -1), r"out of range; allowed 0.01 to 100,000 yuan"),
    ("set_price", ("A", 0), r"out of range; allowed 0.01"),
    ("set_price", ("A", 0.001), r"out of range; allowed 0.01"),
    ("set_price", ("A", 100_001), r"out of range; allowed 0.01 to 100,000"),
    ("set_price", ("A", math.nan), r"price must be a finite number of yuan per unit, not nan"),
    ("set_price", ("A", math.inf), r"must be a finite number"),
    ("set_price", ("A", -math.inf), r"must be a finite number"),
    ("set_price", ("A", True), r"must be a number"),
    ("set_price", ("A", "60"), r"must be a number"),
    ("set_price", ("A", None), r"must be a number"),
    ("set_price", ("A", [60]), r"must be a number"),
    ("reorder", ("Z", 10), r"unknown SKU 'Z'"),
    ("reorder", ("A", 0), r"qty 0 is out of range; allowed 1 to"),
    ("reorder", ("A", -5), r"out of range; allowed 1 to"),
    ("reorder", ("A", 2.5), r"qty must be a whole number of units"),
    ("reorder", ("A", 10.0), r"whole number"),
    ("reorder", ("A", True), r"whole number"),
    ("reorder", ("A", "10"), r"whole number"),
    ("reorder", ("A", math.nan), r"whole number"),
    ("reorder", ("A", 1_000_001), r"out of range; allowed 1 to 1,000,000 units"),
    ("improve_listing", ("Z", "title"), r"unknown SKU"),
    ("improve_listing", ("A", "logo"), r"unknown listing work 'logo'; choose one of title, main_image, detail_page"),
    ("improve_listing", ("A", None), r"unknown listing work None"),
    ("improve_listing", ("B", "title"), r"title work on B is already under way"),  # ordered by the twins fixture
    ("reply_to_review", (0,), r"no published review has id 0; ids run from 1 to \d+"),
    ("reply_to_review", (-1,), r"no published review has id -1"),
    ("reply_to_review", (10_000,), r"no published review has id 10000"),
    ("reply_to_review", ("1",), r"review_id must be a whole number"),
    ("reply_to_review", (1.0,), r"review_id must be a whole number"),
    ("reply_to_review", (True,), r"review_id must be a whole number"),
    ("reply_to_review", (1,), r"review 1 has already been answered"),  # answered by the twins fixture
    ("run", (-1,), r"days must be a whole number from 0 to 3660"),
    ("run", (1.5,), r"days must be a whole number"),
    ("run", (3661,), r"days must be a whole number from 0 to 3660"),
]


@pytest.mark.parametrize("lever, args, message", BAD_CALLS, ids=[f"{c[0]}{c[1]!r}" for c in BAD_CALLS])
def test_bad_value_is_an_action_error_and_changes_nothing(twins, lever, args, message):
    sim, twin = twins
    before = fingerprint(sim)
    with pytest.raises(ActionError, match=message):
        getattr(sim, lever)(*args)
    assert fingerprint(sim) == before
    assert_same_tables(sim, twin)
    sim.run(2)
    twin.run(2)
    assert_same_tables(sim, twin)


@pytest.mark.parametrize("lever, args", [("set_price", ("A", 10**400)), ("reorder", ("A", 10**400))])
def test_huge_integers_are_an_action_error(twins, lever, args):
    sim, twin = twins
    with pytest.raises(ActionError, match="out of range"):
        getattr(sim, lever)(*args)


def test_no_published_reviews_yet(tiny):
    sim = shopsim.Simulation(tiny, seed=1)
    with pytest.raises(ActionError, match="there are no published reviews yet"):
        sim.reply_to_review(1)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "7", None])
def test_bad_seed(tiny, seed):
    with pytest.raises(ActionError, match="seed must be a whole number of 0 or more"):
        shopsim.Simulation(tiny, seed=seed)


def test_run_zero_days_changes_nothing(twins):
    sim, twin = twins
    sim.run(0)
    assert fingerprint(sim) == fingerprint(twin)
    assert_same_tables(sim, twin)


# -- levers through a policy -------------------------------------------------------------------------
def test_a_policy_acts_through_the_levers_and_sees_no_more(make_tiny):
    seen = []

    def policy(view):
        seen.append((view.day, str(view.date), len(view.tables["daily"]), view.prices()["A"]))
        if view.day == 1:
            view.set_price("A", 66)
            view.reorder("B", 10)
        with pytest.raises(AttributeError, match="a policy has no 'catalog'"):
            view.catalog  # noqa: B018
        with pytest.raises(AttributeError, match="a policy has no 'truth'"):
            view.truth  # noqa: B018

    sim = shopsim.simulate(make_tiny(), 3, seed=2, policy=policy)
    assert seen == [(0, "2026-03-02", 0, 60.0), (1, "2026-03-03", 1, 60.0), (2, "2026-03-04", 2, 66.0)]
    ev = operator_events(sim)
    assert list(ev["kind"]) == ["set_price", "reorder"]
    assert (ev["ts"] == pd.Timestamp("2026-03-03", tz="Asia/Shanghai")).all()


def test_a_bad_lever_call_in_a_policy_raises_action_error(make_tiny):
    def policy(view):
        if view.day == 2:
            view.set_price("A", -1)

    with pytest.raises(ActionError, match="out of range"):
        shopsim.simulate(make_tiny(), 4, seed=2, policy=policy)


def test_a_simulation_whose_policy_failed_is_not_silently_dead(make_tiny):
    calls = []

    def policy(view):
        calls.append(view.day)
        if len(calls) == 3:
            raise ActionError("the policy made a mistake")

    sim = shopsim.Simulation(make_tiny(), seed=2, policy=policy)
    with pytest.raises(ActionError):
        sim.run(4)
    done = sim.days_run
    try:
        sim.run(2)
    except shopsim.ShopsimError:
        return  # refusing loudly is fine
    assert sim.days_run > done, "run() returned without simulating and without an error"
