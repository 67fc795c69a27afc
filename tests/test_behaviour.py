"""Directional economics: change one thing, keep the seed, and the shop moves the way a real one would.

Each test compares runs with the same seed (common random numbers) and one lever or setting
changed, over enough days and traffic, for several seeds, so noise cannot flip the sign.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from invariants import NO_RETURNS, local_day, without_second_visits

import shopsim
from shopsim.catalog import Catalog
from shopsim.shoppers import checkout_chance, offer_appeal

SEEDS = (0, 1, 2)
PLENTY = {"A": {"initial_stock": 100_000}, "B": {"initial_stock": 100_000}}


def day_index(sim, ts: pd.Series) -> pd.Series:
    return (local_day(ts) - pd.Timestamp(sim.scenario.start)).dt.days


def units_sold(sim, sku: str, days=None) -> int:
    items = sim.tables["order_items"].merge(sim.tables["orders"][["order_id", "ts"]], on="order_id")
    keep = items["sku"] == sku
    if days is not None:
        keep &= day_index(sim, items["ts"]).isin(list(days))
    return int(items.loc[keep, "qty"].sum())


def sessions_on(sim, sku: str, days=None, source=None) -> pd.DataFrame:
    s = sim.tables["sessions"]
    keep = s["landing_sku"] == sku
    if days is not None:
        keep &= day_index(sim, s["ts"]).isin(list(days))
    if source is not None:
        keep &= s["source"] == source
    return s[keep]


def conversion(sim, sku: str, days) -> float:
    """Share of the sessions landing on ``sku`` that ordered."""
    return float(sessions_on(sim, sku, days)["ordered"].mean())


# -- price ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_plenty(make_tiny):
    return make_tiny(traffic=4, skus=PLENTY)


@pytest.mark.parametrize("sku", ["A", "B"])
@pytest.mark.parametrize("seed", SEEDS)
def test_higher_price_sells_fewer_units(tiny_plenty, sku, seed):
    base = tiny_plenty.sku(sku).price
    sold = []
    for factor in (0.85, 1.0, 1.2):
        sim = shopsim.Simulation(tiny_plenty, seed=seed)
        sim.set_price(sku, round(base * factor, 2))
        sim.run(7)
        sold.append(units_sold(sim, sku))
    assert sold[0] > sold[1] > sold[2], f"units at 85 %, 100 %, 120 % of the price: {sold}"


@pytest.mark.parametrize("sku", ["TEE-CLASSIC", "PANT-CHINO"])
def test_higher_price_sells_fewer_units_in_the_baseline(sku):
    for seed in (1, 2):
        cheap = shopsim.simulate("baseline", 7, seed=seed)
        dear = shopsim.Simulation("baseline", seed=seed)
        dear.set_price(sku, round(dear.scenario.sku(sku).price * 1.2, 2))
        dear.run(7)
        assert units_sold(dear, sku) < units_sold(cheap, sku)


def test_the_choice_model_prefers_cheaper_offers(tiny):
    cat = Catalog(tiny)
    none = np.zeros(cat.n_own)
    prices = [cat.price * f for f in (0.8, 1.0, 1.25)]
    appeal = [offer_appeal(tiny, cat, p, none, none) for p in prices]
    assert (appeal[0] > appeal[1]).all() and (appeal[1] > appeal[2]).all()
    ratios = np.array([0.8, 1.0, 1.25])
    assert np.all(np.diff(checkout_chance(tiny, ratios)) < 0), "a dearer cart is paid less often"
    assert checkout_chance(tiny, np.array([1.0]))[0] == pytest.approx(tiny.shoppers.checkout_rate)


def test_negative_reviews_on_the_page_cost_appeal_and_replies_win_most_back(tiny):
    cat = Catalog(tiny)
    zero, three = np.zeros(cat.n_own), np.array([3.0, 0.0])
    clean = offer_appeal(tiny, cat, cat.price, zero, zero)
    open_ = offer_appeal(tiny, cat, cat.price, three, zero)
    answered = offer_appeal(tiny, cat, cat.price, zero, three)
    assert open_[0] < answered[0] < clean[0]
    assert open_[1:] == pytest.approx(clean[1:]), "reviews of A must not touch B or the rival"


# -- listings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_better_listing_quality_brings_more_search_visits_and_fewer_bounces(make_tiny, seed):
    plain = shopsim.simulate(make_tiny(traffic=2, skus=PLENTY), 6, seed=seed)
    better = {**PLENTY, "A": {**PLENTY["A"], "listing_quality": 0.9}}
    polished = shopsim.simulate(make_tiny(traffic=2, skus=better), 6, seed=seed)
    a, b = sessions_on(plain, "A", source="search"), sessions_on(polished, "A", source="search")
    assert len(b) > 1.1 * len(a), "a better main image and title earn more clicks"
    assert b["bounced"].mean() < a["bounced"].mean()
    assert units_sold(polished, "A") > units_sold(plain, "A")


def test_improve_listing_raises_visits_once_live(make_tiny):
    """Nothing changes before the work goes live (common random numbers); after it, the listing
    earns more search visits (pooled over the seeds: one tiny shop's five days vary by a few per cent)."""
    sc = make_tiny(traffic=2, skus=PLENTY)
    work = sc.listing_work["main_image"]
    before = range(work.days)  # it goes live at 08:00 on day work.days
    after = range(work.days + 1, work.days + 6)
    visits_after = np.zeros(2)
    for seed in SEEDS:
        plain = shopsim.simulate(sc, work.days + 6, seed=seed)
        improved = shopsim.Simulation(sc, seed=seed)
        improved.improve_listing("A", "main_image")
        improved.run(work.days + 6)
        assert len(sessions_on(improved, "A", before, "search")) == len(sessions_on(plain, "A", before, "search")), (
            f"seed {seed}: nothing may change before the work goes live")
        visits_after += [len(sessions_on(sim, "A", after, "search")) for sim in (improved, plain)]
    assert visits_after[0] > 1.05 * visits_after[1]


# -- stockouts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_a_stockout_costs_rank_and_sales_and_both_recover_after_restock(make_tiny, seed):
    """Stock of A is written off on the morning of day 3; a reorder placed then arrives on day 6 at 09:00."""
    skus = {"A": {"initial_stock": 100_000, "lead_time_days": 3}, "B": {"initial_stock": 100_000}}
    loss = [{"day": 3, "hour": 0, "kind": "stock_loss", "target": "A", "value": 10**7}]
    runs = {}
    for name, timeline in (("steady", []), ("stockout", loss)):
        sim = shopsim.Simulation(make_tiny(traffic=4, skus=skus, timeline=timeline, returns=NO_RETURNS), seed=seed)
        sim.run(3)
        sim.reorder("A", 5000)
        sim.run(11)
        runs[name] = sim

    def rank(sim, days):
        r = sim.tables["rankings"]
        r = r[(r["sku"] == "A") & (r["keyword"] == "tee")]
        return r.loc[day_index(sim, r["date"].dt.tz_localize("Asia/Shanghai")).isin(list(days)), "organic_position"]

    steady, out = runs["steady"], runs["stockout"]
    before, during, after = range(0, 3), range(3, 6), range(8, 14)
    inv = out.tables["inventory"].query("sku == 'A'").reset_index(drop=True)
    assert (inv.loc[3:5, "on_hand_end"] == 0).all() and inv.loc[6, "received"] == 5000
    assert (rank(out, before).to_numpy() == rank(steady, before).to_numpy()).all()
    assert rank(out, during).min() > rank(steady, during).max(), "a sold-out listing must fall in the ranking"
    assert units_sold(out, "A", during) == 0 < units_sold(steady, "A", during)
    assert rank(out, after).mean() < rank(out, during).mean(), "the rank recovers once stock is back"
    assert units_sold(out, "A", after) > 0.25 * units_sold(steady, "A", after), "sales recover once stock is back"
    assert units_sold(out, "A", after) < units_sold(steady, "A", after), "lost rank costs sales for a while"


# -- reviews -------------------------------------------------------------------------------------------
def _reply_to_every_negative_review(view):
    reviews = view.tables["reviews"]
    for rid in reviews.loc[(reviews["rating"] <= 2) & ~reviews["replied"], "review_id"]:
        view.reply_to_review(int(rid))


@pytest.mark.parametrize("seed", SEEDS)
def test_replying_to_negative_reviews_recovers_conversion(make_tiny, seed):
    burst = [{"day": 1, "hour": 9, "kind": "review_burst", "target": "A", "value": 8, "days": 1}]
    sc = make_tiny(traffic=4, skus=PLENTY, timeline=burst)
    silent = shopsim.simulate(sc, 9, seed=seed)
    replying = shopsim.simulate(sc, 9, seed=seed, policy=_reply_to_every_negative_review)
    before, after = range(0, 2), range(2, 9)
    assert conversion(silent, "A", before) == conversion(replying, "A", before)
    hit, healed, normal = conversion(silent, "A", after), conversion(replying, "A", after), conversion(silent, "A",
                                                                                                        before)
    assert hit < 0.5 * normal, "a burst of unanswered negative reviews must hurt conversion"
    assert healed > 2 * hit, "answering them must win conversion back"
    assert healed < normal, "answered negative reviews still cost a little"
    assert replying.tables["reviews"]["replied"].sum() >= 8


# -- customers -----------------------------------------------------------------------------------------
def test_returning_customers_convert_better_than_new_ones(baseline_run):
    s = baseline_run.tables["sessions"]
    by_kind = s.groupby("is_new_customer")["ordered"].mean()
    assert by_kind[False] > 1.5 * by_kind[True]
    search = s[s["source"] == "search"].groupby("is_new_customer")["ordered"].agg(["mean", "size"])
    assert search.loc[False, "size"] > 100
    assert search.loc[False, "mean"] > search.loc[True, "mean"], "known buyers convert better from search too"


@pytest.mark.parametrize("seed", SEEDS)
def test_returning_customers_follow_the_returning_bonus(make_tiny, seed):
    """Raising the trust bonus of past buyers raises their carts and leaves new visitors' alone (day 0,
    where the same shoppers arrive in both runs; new visitors who asked customer service share the
    agents' queue with the past buyers, so their answers may differ)."""
    sc = make_tiny(traffic=2, skus=PLENTY, customers={"past_buyers": 3000, "followers": 3000, "market_size": 20000})
    trusting = dataclasses.replace(sc, shoppers=dataclasses.replace(sc.shoppers, returning_bonus=2.5))
    runs = [shopsim.simulate(x, 1, seed=seed) for x in (sc, trusting)]
    plain, more = (_day0(r) for r in runs)
    assert list(plain["customer_id"]) == list(more["customer_id"])
    asked = set().union(*(r.tables["service"]["customer_id"] for r in runs))
    known = ~plain["is_new_customer"] & ~more["is_new_customer"]
    new = plain["is_new_customer"] & more["is_new_customer"] & ~plain["customer_id"].isin(asked)
    assert known.sum() > 50
    assert more.loc[known, "added_to_cart"].sum() > plain.loc[known, "added_to_cart"].sum()
    assert (more.loc[new, "added_to_cart"] == plain.loc[new, "added_to_cart"]).all()


def _day0(sim) -> pd.DataFrame:
    s = without_second_visits(sim.tables["sessions"])
    return s[day_index(sim, s["ts"]) == 0].reset_index(drop=True)


# -- competitors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sku", ["A", "B"])
def test_a_rival_price_cut_lowers_our_sales(make_tiny, sku):
    cut = [{"day": 2, "hour": 0, "kind": "rival_price", "target": "R", "value": 45}]
    before, after = range(0, 2), range(2, 12)
    calm_units, war_units = 0, 0
    for seed in SEEDS:
        calm = shopsim.simulate(make_tiny(traffic=4, skus=PLENTY), 12, seed=seed)
        war = shopsim.simulate(make_tiny(traffic=4, skus=PLENTY, timeline=cut), 12, seed=seed)
        assert units_sold(war, sku, before) == units_sold(calm, sku, before)
        calm_units += units_sold(calm, sku, after)
        war_units += units_sold(war, sku, after)
        market = war.tables["market"].set_index("date")
        assert market.loc["2026-03-04", "price"] == 45
        assert market["displayed_sales"].iloc[-1] > calm.tables["market"]["displayed_sales"].iloc[-1], (
            "the rival's displayed sales must grow with its cut")
    assert war_units < 0.9 * calm_units, f"units of {sku} after the cut: {war_units} vs {calm_units} without it"


def test_a_late_rival_stockout_only_costs_the_rival_the_rest_of_the_day(make_tiny):
    late_out = [{"day": 1, "hour": 23, "kind": "rival_stockout", "target": "R", "days": 5}]
    sold_day1 = []
    for timeline in ([], late_out):
        sim = shopsim.simulate(make_tiny(traffic=20, skus=PLENTY, timeline=timeline), 3, seed=1)
        shown = sim.tables["market"].set_index("date")["displayed_sales"]
        sold_day1.append(shown.loc["2026-03-04"] - shown.loc["2026-03-03"])  # day 1's sales enter on day 2
    normal, cut_short = sold_day1
    assert normal > 50
    assert cut_short > 0.7 * normal, f"the rival sold {cut_short} on day 1 instead of about {normal}"
