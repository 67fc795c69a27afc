"""Rivals: each strategy reacts as designed, scripted moves show in ``market`` and ``events`` the way
an operator would see them, a rival's price cut takes our share, and no sequence of our price
changes breaks the books whatever the rival does."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invariants import assert_same_tables, check_invariants

import shopsim
from shopsim import scenario as scenario_mod
from shopsim.errors import ScenarioError
from shopsim.scenario import RIVAL_STRATEGIES

SEEDS = (0, 1, 2)
START = pd.Timestamp("2026-03-02")
NEW_TEE = {"sku": "R2", "name": "Rival waffle tee", "category": "tees", "price": 55, "hidden": True}


def tiny_market(strategy: str = "passive", traffic: float = 4.0, rival: dict | None = None, offers: list | None = None,
         relevance: dict | None = None, **top) -> shopsim.Scenario:
    """The tiny market (plenty of own stock) with its one rival playing ``strategy`` (and no other
    advertisers: the ad wars here are between the shop and this rival)."""
    data = copy.deepcopy(TINY)
    data["paid_search"] = {"field_advertisers": 0}
    for kw in data["keywords"]:
        kw["daily_searches"] *= traffic
        kw["relevance"].update((relevance or {}).get(kw["keyword"], {}))
    for item in data["skus"]:
        item["initial_stock"] = 100_000
    data["rivals"][0].update(strategy=strategy, **(rival or {}))
    data["rivals"][0]["offers"] += copy.deepcopy(offers or [])
    data.update(copy.deepcopy(top))
    return scenario_mod.from_dict(data, "tiny with a rival")


def market(sim, sku: str = "R") -> pd.DataFrame:
    m = sim.tables["market"]
    return m[m["sku"] == sku].set_index("date")


def moves(sim, kind: str | None = None) -> pd.DataFrame:
    ev = sim.tables["events"]
    ev = ev[ev["actor"] == "competitor"]
    return ev if kind is None else ev[ev["kind"] == kind]


def stepped(sc, seed: int, steps) -> shopsim.Simulation:
    """Run ``sc`` in steps: ``steps`` is a list of (days to run, {own SKU: new price} before them)."""
    sim = shopsim.Simulation(sc, seed=seed)
    for days, prices in steps:
        for sku, price in prices.items():
            sim.set_price(sku, price)
        sim.run(days)
    return sim


def units(sim, offer: int, days) -> float:
    """Units an offer (own or rival, by catalog number) sold on ``days`` (day numbers of a finished run)."""
    history = sim.catalog.units_history[offer, -sim.days_run:]
    return float(history[list(days)].sum())


# -- strategies ------------------------------------------------------------------------------------------
def test_a_passive_rival_never_moves():
    sim = stepped(tiny_market(), 0, [(2, {}), (3, {"A": 45}), (2, {"A": 75, "B": 60})])
    assert (market(sim)["price"] == 65).all()
    assert moves(sim).empty


@pytest.mark.parametrize("reaction_days", [0, 1, 3])
def test_a_price_matcher_meets_our_price_after_its_delay_down_to_its_floor(reaction_days):
    sc = tiny_market("price_matcher", rival={"reaction_days": reaction_days, "floor_share": 0.8})
    sim = stepped(sc, 1, [(2, {}), (3, {"A": 50}), (3, {"A": 70})])
    ours = [60, 60, 50, 50, 50, 70, 70, 70]  # A's price each morning (R watches A: they share 'tee')
    expected = [65.0 if d < reaction_days else min(65.0, max(ours[d - reaction_days], 52.0)) for d in range(8)]
    assert market(sim)["price"].tolist() == expected
    assert not market(sim)["on_promotion"].any(), "a matched price is a list price, not a promotion"
    first = moves(sim).iloc[0]
    assert first["detail"] == "Rival cut R 65 -> 60 yuan" and first["target"] == "R"
    assert first["ts"] == (START + pd.Timedelta(days=reaction_days)).tz_localize("Asia/Shanghai")


def test_an_undercutter_prices_its_share_below_ours_with_a_floor_and_a_ceiling():
    sc = tiny_market("undercutter", rival={"undercut": 0.1, "floor_share": 0.8, "reaction_days": 1})
    sim = stepped(sc, 1, [(2, {}), (3, {"A": 50}), (3, {"A": 80})])
    # 60 -> 54; 50 -> 45 is below the floor 52; 80 -> 72 is above its regular 65
    assert market(sim)["price"].tolist() == [65, 54, 54, 52, 52, 52, 65, 65]
    assert moves(sim, "price_change")["detail"].tolist() == [
        "Rival cut R 65 -> 54 yuan", "Rival cut R 54 -> 52 yuan", "Rival raised R 52 -> 65 yuan"]


def test_a_price_matcher_sees_our_discounts_as_shoppers_do():
    sim = shopsim.Simulation(tiny_market("price_matcher", rival={"floor_share": 0.7}), seed=0)
    sim.run(1)
    sim.discount("A", 0.2, days=2)  # 60 -> 48 on days 1 and 2
    sim.run(4)
    assert market(sim)["price"].tolist() == [65, 60, 48, 48, 60]


def test_an_offer_answers_the_sku_it_watches():
    data = copy.deepcopy(TINY)
    data["rivals"][0].update(strategy="price_matcher", reaction_days=0)
    data["rivals"][0]["offers"][0]["watches"] = "B"
    sc = scenario_mod.from_dict(data, "watches B")
    sim = stepped(sc, 0, [(1, {}), (2, {"A": 40}), (2, {"B": 62})])
    assert market(sim)["price"].tolist() == [65, 65, 65, 62, 62], "R follows B, whatever A does"


def test_the_watched_sku_defaults_to_the_one_sharing_most_searches(tiny):
    from shopsim.catalog import Catalog
    from shopsim.competitors import Rivals

    cat = Catalog(tiny)
    assert Rivals(tiny, cat).watches.tolist() == [cat.index["A"]]  # 'tee': A 1.0 x R 1.0 beats B


def test_a_festival_discounter_discounts_on_its_festival_days_only():
    sc = tiny_market("festival_discounter", rival={"festival_days": [2, 3], "festival_discount": 0.2})
    sim = shopsim.simulate(sc, 6, seed=0)
    m = market(sim)
    assert m["price"].tolist() == [65, 65, 52, 52, 65, 65]
    assert m["on_promotion"].tolist() == [False, False, True, True, False, False]
    assert moves(sim)["kind"].tolist() == ["festival_sale", "festival_sale_end"]


def test_a_festival_discounter_without_festivals_stays_passive():
    sim = shopsim.simulate(tiny_market("festival_discounter"), 5, seed=0)
    assert (market(sim)["price"] == 65).all() and moves(sim).empty


def test_a_festival_discounter_follows_the_platform_festival_calendar():
    festival = {"name": "double11", "main_day": "2026-03-06", "presale_days": 2, "slump_days": 2}
    sim = shopsim.simulate(tiny_market("festival_discounter", festivals=[festival]), 9, seed=0)
    phases = [sim.festivals.phase(d) for d in range(9)]
    festive = [p is not None and p[1] in ("presale", "main") for p in phases]
    assert any(festive) and not all(festive)
    assert market(sim)["on_promotion"].tolist() == festive
    assert (market(sim)["price"] < 65).tolist() == festive


def _ad_war(strategy: str, seed: int, days: int = 7, our_bid: float = 2.0) -> shopsim.Simulation:
    sc = tiny_market(strategy, traffic=2, rival={"ad_bids": {"tee": 1.0}, "bid_raise": 0.2, "bid_cap": 2.0})
    sim = shopsim.Simulation(sc, seed=seed)
    if our_bid:
        sim.set_keyword_bid("tee", our_bid, "A")
        sim.set_ad_budget(5000)
    return sim.run(days)


def test_an_ad_aggressor_bids_up_while_our_ad_outranks_it_up_to_its_cap():
    sim = _ad_war("ad_aggressor", seed=1)
    assert sim.ads.rival_bids[0] == [(2.0, sim.catalog.index["R"])], "1.0 x 1.2^4 passes the cap of 2.0"
    raised = moves(sim, "ad_bid_up")
    assert len(raised) == 4 and (raised["target"] == "R").all() and "'tee'" in raised["detail"].iloc[0]
    assert market(sim)["ad_presence"].iloc[1:].all()


def test_an_ad_aggressor_left_alone_keeps_its_bid():
    sim = _ad_war("ad_aggressor", seed=1, our_bid=0)
    assert sim.ads.rival_bids[0] == [(1.0, sim.catalog.index["R"])]
    assert moves(sim).empty


@pytest.mark.parametrize("seed", SEEDS)
def test_an_ad_aggressor_makes_our_top_slot_dearer_then_takes_it(seed):
    calm, war = _ad_war("passive", seed), _ad_war("ad_aggressor", seed)
    by_day = []
    for sim in (calm, war):
        ads = sim.tables["ads"].query("channel == 'paid_search'")
        day = (ads["ts"].dt.tz_localize(None) - START).dt.days
        by_day.append(ads.groupby(day).agg(spend=("spend", "sum"), clicks=("clicks", "sum"),
                                           position=("avg_position", "mean")))
    calm_day, war_day = by_day
    cpc = war_day["spend"] / war_day["clicks"]
    assert (calm_day["position"] == 1).all() and (war_day["position"].iloc[:4] == 1).all()
    assert cpc.iloc[3] > 1.5 * cpc.iloc[0], f"our cost per click in the top slot, day by day: {cpc.round(2).tolist()}"
    assert (war_day["position"].iloc[-2:] == 2).all(), "the aggressor ends above our ad"
    assert war_day["clicks"].iloc[-2:].sum() < calm_day["clicks"].iloc[-2:].sum()


# -- a rival's price cut takes our share -----------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_a_rival_price_cut_takes_our_share_of_the_competing_sku(seed):
    cut = [{"day": 3, "hour": 0, "kind": "rival_price", "target": "R", "value": 49}]
    calm = shopsim.simulate(tiny_market(), 10, seed=seed)
    war = shopsim.simulate(tiny_market(timeline=cut), 10, seed=seed)
    a, r = calm.catalog.index["A"], calm.catalog.index["R"]
    before, after = range(0, 3), range(3, 10)

    def share(sim, days):
        return units(sim, a, days) / (units(sim, a, days) + units(sim, r, days))

    assert units(war, a, before) == units(calm, a, before), "nothing changes before the cut"
    assert share(war, after) < share(calm, after) - 0.05, (
        f"A's share of A + R after the cut: {share(war, after):.2f}, without it {share(calm, after):.2f}")
    assert units(war, a, after) < units(calm, a, after)
    assert market(war).loc["2026-03-05", "price"] == 49
    assert moves(war)["detail"].tolist() == ["Rival cut R 65 -> 49 yuan"]


def test_an_undercutter_answering_our_cut_keeps_the_buyers_a_passive_rival_loses_to_us():
    """Summed over six seeds: in a two-listing market one rank flip moves a seed's units by a
    fifth, so three seeds are too few to see a 10 % effect reliably."""
    rival, ours = {}, {}
    for strategy in ("passive", "undercutter"):
        rival[strategy] = ours[strategy] = 0.0
        for seed in range(6):
            sc = tiny_market(strategy, rival={"undercut": 0.05, "floor_share": 0.7})
            sim = stepped(sc, seed, [(2, {}), (8, {"A": 50})])
            rival[strategy] += units(sim, sim.catalog.index["R"], range(4, 10))
            ours[strategy] += units(sim, sim.catalog.index["A"], range(4, 10))
    assert rival["undercutter"] > 1.2 * rival["passive"], rival
    assert ours["undercutter"] < ours["passive"], ours


# -- scripted moves ---------------------------------------------------------------------------------------
def test_a_flash_sale_shows_with_a_promotion_flag_then_the_price_returns():
    sale = [{"day": 1, "hour": 20, "kind": "rival_flash_sale", "target": "R", "value": 45, "hours": 14}]
    sim = shopsim.simulate(tiny_market(timeline=sale), 4, seed=0)
    m = market(sim)
    assert m["price"].tolist() == [65, 65, 45, 65] and m["on_promotion"].tolist() == [False, False, True, False]
    ev = moves(sim)
    assert ev["kind"].tolist() == ["flash_sale", "flash_sale_end"]
    assert ev["ts"].dt.strftime("%d %H:%M").tolist() == ["03 20:00", "04 10:00"]
    assert ev["detail"].iloc[0] == "Rival flash sale on R: 65 -> 45 yuan for 14 h"


@pytest.mark.parametrize("seed", SEEDS)
def test_a_flash_sale_sells_more_for_the_rival_while_it_runs(seed):
    sale = [{"day": 2, "hour": 0, "kind": "rival_flash_sale", "target": "R", "value": 45, "hours": 48}]
    calm = shopsim.simulate(tiny_market(), 5, seed=seed)
    war = shopsim.simulate(tiny_market(timeline=sale), 5, seed=seed)
    r = calm.catalog.index["R"]
    assert units(war, r, (2, 3)) > 1.2 * units(calm, r, (2, 3))


def test_a_strategy_waits_for_a_flash_sale_to_end():
    sale = [{"day": 1, "hour": 12, "kind": "rival_flash_sale", "target": "R", "value": 40, "hours": 48}]
    sc = tiny_market("price_matcher", rival={"reaction_days": 0}, timeline=sale)
    sim = stepped(sc, 0, [(2, {}), (3, {"A": 55})])
    assert market(sim)["price"].tolist() == [60, 60, 40, 40, 55]


def test_a_scripted_price_becomes_a_strategy_rivals_regular_price():
    raise_ = [{"day": 2, "hour": 9, "kind": "rival_price", "target": "R", "value": 58}]
    sc = tiny_market("price_matcher", rival={"reaction_days": 0}, timeline=raise_)
    sim = stepped(sc, 0, [(5, {"A": 62})])
    assert market(sim)["price"].tolist() == [62, 62, 62, 58, 58], "the matcher never goes above its regular price"


def _launch(seed: int, listed: bool = True) -> shopsim.Simulation:
    if not listed:
        return shopsim.simulate(tiny_market(), 6, seed=seed)
    launch = [{"day": 3, "hour": 9, "kind": "rival_new_listing", "target": "R2"}]
    sc = tiny_market(offers=[NEW_TEE], relevance={"tee": {"R2": 1.0}}, timeline=launch)
    return shopsim.simulate(sc, 6, seed=seed)


def test_a_new_listing_is_invisible_until_it_is_listed():
    sim = _launch(2)
    m = market(sim, "R2")
    assert list(m.index) == list(pd.date_range("2026-03-06", periods=2)), "first shown the morning after"
    assert (m["displayed_sales"].iloc[0] == 0) and m["in_stock"].all() and (m["price"] == 55).all()
    ranked = sim.tables["rankings"].query("sku == 'R2'")
    assert ranked["date"].min() == pd.Timestamp("2026-03-06")
    assert units(sim, sim.catalog.index["R2"], range(0, 3)) == 0
    assert units(sim, sim.catalog.index["R2"], range(3, 6)) > 0
    ev = moves(sim)
    assert ev["kind"].tolist() == ["new_listing"] and ev["ts"].iloc[0].strftime("%d %H") == "05 09"
    assert ev["detail"].iloc[0] == "Rival listed R2 (Rival waffle tee) at 55 yuan"
    check_invariants(sim)


def test_until_listed_a_hidden_offer_changes_nothing_for_our_shoppers():
    hidden, absent = _launch(4), _launch(4, listed=False)
    before = pd.Timestamp("2026-03-05 09:00", tz="Asia/Shanghai")
    a, b = (s.tables["sessions"].astype({"landing_sku": str}) for s in (hidden, absent))
    pd.testing.assert_frame_equal(a[a["ts"] < before], b[b["ts"] < before])
    assert not a[a["ts"] >= before].reset_index(drop=True).equals(b[b["ts"] >= before].reset_index(drop=True))


@pytest.mark.parametrize("seed", SEEDS)
def test_an_affiliate_push_lifts_the_rivals_sales_and_its_displayed_sales(seed):
    push = [{"day": 2, "hour": 0, "kind": "rival_affiliate_push", "target": "R", "value": 3, "days": 2}]
    calm = shopsim.simulate(tiny_market(), 6, seed=seed)
    war = shopsim.simulate(tiny_market(timeline=push), 6, seed=seed)
    r = calm.catalog.index["R"]
    assert units(war, r, (2, 3)) > 2 * units(calm, r, (2, 3))
    during = units(war, r, (2, 3)) / units(calm, r, (2, 3))
    assert units(war, r, (4, 5)) / units(calm, r, (4, 5)) < during, "after the push only its rank gain is left"
    assert (war.rivals.boost == 1).all()
    assert market(war)["displayed_sales"].iloc[-1] > market(calm)["displayed_sales"].iloc[-1]
    assert moves(war)["kind"].tolist() == ["affiliate_push"]


def test_an_ad_surge_puts_the_rivals_ad_above_ours_for_its_days():
    surge = [{"day": 2, "hour": 0, "kind": "rival_ad_surge", "target": "Rival", "value": 3, "days": 2}]
    sc = tiny_market(traffic=2, rival={"ad_bids": {"tee": 1.0}}, timeline=surge)
    sim = shopsim.Simulation(sc, seed=3)
    sim.set_keyword_bid("tee", 2.0, "A")
    sim.set_ad_budget(5000)
    sim.run(6)
    ads = sim.tables["ads"].query("channel == 'paid_search'")
    position = ads.groupby(ads["ts"].dt.day)["avg_position"].mean()
    assert position.loc[[2, 3, 6, 7]].tolist() == [1, 1, 1, 1] and position.loc[[4, 5]].tolist() == [2, 2]
    ev = moves(sim)
    assert ev["kind"].tolist() == ["ad_surge"] and ev["target"].iloc[0] == "Rival"
    assert sim.ads.rival_bids[0] == [(1.0, sim.catalog.index["R"])], "bids return after the surge"


def test_every_rival_move_in_one_run_keeps_the_books_and_is_reproducible():
    timeline = [
        {"day": 1, "hour": 10, "kind": "rival_price", "target": "R", "value": 58},
        {"day": 1, "hour": 20, "kind": "rival_flash_sale", "target": "R", "value": 45, "hours": 30},
        {"day": 2, "hour": 9, "kind": "rival_new_listing", "target": "R2"},
        {"day": 3, "hour": 0, "kind": "rival_affiliate_push", "target": "R2", "value": 2, "days": 2},
        {"day": 3, "hour": 12, "kind": "rival_ad_surge", "target": "Rival", "value": 2, "days": 1},
        {"day": 4, "hour": 6, "kind": "rival_stockout", "target": "R", "days": 1},
        {"day": 6, "hour": 15, "kind": "rival_restock", "target": "R2", "value": 50},
    ]
    sc = tiny_market("undercutter", offers=[NEW_TEE], relevance={"tee": {"R2": 0.9}}, timeline=timeline, days=7,
              rival={"ad_bids": {"tee": 0.8, "nice tee": 0.5}})
    runs = [stepped(sc, 5, [(2, {}), (3, {"A": 52}), (3, {"B": 70})]) for _ in range(2)]
    check_invariants(runs[0])
    assert_same_tables(*runs)
    kinds = set(moves(runs[0])["kind"])
    assert {"price_change", "flash_sale", "flash_sale_end", "new_listing", "affiliate_push", "ad_surge",
            "stockout", "restock"} <= kinds


# -- the schema -------------------------------------------------------------------------------------------
def _problems(change) -> list[str]:
    data = copy.deepcopy(TINY)
    change(data)
    with pytest.raises(ScenarioError) as info:
        scenario_mod.from_dict(data, "bad rivals")
    return info.value.problems


def _rival(**fields):
    return lambda d: d["rivals"][0].update(fields)


def _offer(**fields):
    return lambda d: d["rivals"][0]["offers"][0].update(fields)


def _timeline(*events, hidden=False):
    def change(d):
        if hidden:
            d["rivals"][0]["offers"].append(dict(NEW_TEE))
        d["timeline"] = list(events)
    return change


@pytest.mark.parametrize("change, path, words", [
    (_rival(strategy="copycat"), "rivals[0].strategy", ("choose one of", "undercutter")),
    (_rival(strategy="ad_aggressor"), "rivals[0].strategy", ("ad_bids",)),
    (_rival(undercut=1.5), "rivals[0].undercut", ("out of range",)),
    (_rival(floor_share=0), "rivals[0].floor_share", ()),
    (_rival(reaction_days=-1), "rivals[0].reaction_days", ()),
    (_rival(festival_days=[-2]), "rivals[0].festival_days[0]", ("out of range",)),
    (_offer(watches="R"), "rivals[0].offers[0].watches", ("'R'", "own SKU")),
    (_timeline(hidden=True), "rivals[0].offers[1].hidden", ("R2", "rival_new_listing")),
    (_timeline({"day": 1, "kind": "rival_new_listing", "target": "R"}), "timeline[0].target",
     ("listed from the start",)),
    (_timeline({"day": 3, "kind": "rival_new_listing", "target": "R2"},
               {"day": 2, "kind": "rival_price", "target": "R2", "value": 50}, hidden=True),
     "timeline[1].day", ("listed only on day 3",)),
    (_timeline({"day": 1, "kind": "rival_flash_sale", "target": "R", "value": 40}), "timeline[0].hours",
     ("required",)),
    (_timeline({"day": 1, "kind": "rival_flash_sale", "target": "R", "value": 0, "hours": 3}), "timeline[0].value",
     ("above 0",)),
    (_timeline({"day": 1, "kind": "rival_ad_surge", "target": "R", "value": 2, "days": 1}), "timeline[0].target",
     ("'R'", "rival shop", "Rival")),
    (_timeline({"day": 1, "kind": "rival_ad_surge", "target": "Rival", "value": 2, "days": 1}), "timeline[0].target",
     ("bids on no keyword",)),
    (_timeline({"day": 1, "kind": "rival_affiliate_push", "target": "A", "value": 2, "days": 1}),
     "timeline[0].target", ("'A'", "rival SKU")),
])
def test_bad_rival_settings_are_reported_with_their_path(change, path, words):
    problems = _problems(change)
    hits = [p for p in problems if p.startswith(path + ":") and all(w in p for w in words)]
    assert hits, f"no problem at {path!r} mentioning {words}; got:\n" + "\n".join(problems)


# -- random operators against every strategy --------------------------------------------------------------
ACTIONS = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["A", "B"]),
                             st.floats(0.3, 1.8, allow_nan=False), st.booleans()), max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strategy=st.sampled_from(RIVAL_STRATEGIES), actions=ACTIONS, reaction=st.integers(0, 3),
       undercut=st.floats(0, 0.9), floor=st.floats(0.1, 1.0), bid=st.sampled_from([0.0, 0.5, 3.0]))
def test_random_price_changes_against_every_strategy_keep_the_books(strategy, actions, reaction, undercut,
                                                                    floor, bid):
    sc = tiny_market(strategy, traffic=1, days=6,
              rival={"reaction_days": reaction, "undercut": undercut, "floor_share": floor,
                     "festival_days": [1, 2, 4], "ad_bids": {"tee": 0.8}},
              timeline=[{"day": 2, "hour": 7, "kind": "rival_flash_sale", "target": "R", "value": 30, "hours": 20}])
    sim = shopsim.Simulation(sc, seed=3)
    if bid:
        sim.set_keyword_bid("tee", bid)
        sim.set_ad_budget(300)
    for days, sku, factor, discount in actions:
        price = round(sc.sku(sku).price * factor, 2)
        if discount:
            sim.discount(sku, min(max(round(1 - factor, 2), 0.01), 0.9), days=2)
        else:
            sim.set_price(sku, price)
        sim.run(days)
    sim.run(max(sc.days - sim.days_run, 0))
    check_invariants(sim)
    prices = sim.tables["market"]["price"]
    assert (prices > 0).all() and (prices <= 65).all(), "a rival never prices above its regular price"
    assert np.isfinite(sim.tables["daily"]["gmv"]).all()


# -- the bundled scenarios built on these moves -----------------------------------------------------------
def test_price_war_rivals_answer_our_cut_on_the_hero_tee():
    sim = shopsim.Simulation("price_war", seed=7)
    sim.run(5)
    sim.set_price("TEE-CLASSIC", 52)
    sim.run(4)
    m = sim.tables["market"].pivot(index="date", columns="sku", values="price")
    assert m["UB-TEE"].tolist()[:2] == [59, 53.1] and m.loc["2026-03-08", "UB-TEE"] == 46.8, "8 % below, a day later"
    assert m.loc["2026-03-03", "NT-TEE"] == 69 and m.loc["2026-03-04", "NT-TEE"] == 59, "matched two days later"
    assert m.loc["2026-03-09", "NT-TEE"] == 52
    assert (m["DW-TEE"] == 55).all(), "Daily Wear Co is passive"


def test_stockout_crisis_sells_the_hero_out_and_its_rank_falls_without_an_operator():
    sim = shopsim.simulate("stockout_crisis", 20, seed=7)
    inv = sim.tables["inventory"].query("sku == 'TEE-CLASSIC'")
    out = inv.loc[inv["stockout_hours"] >= 12, "date"]  # a few returned units trickle back each evening
    assert len(out) and out.min() < pd.Timestamp("2026-03-20"), "the hero sells out in the third week"
    rank = sim.tables["rankings"].query("sku == 'TEE-CLASSIC' and keyword == 'cotton t-shirt'")
    assert rank["organic_position"].iloc[0] == 1 and rank["organic_position"].iloc[-1] > 1
    delayed = sim.tables["events"].query("kind == 'supply_delay'")
    assert len(delayed) == 1 and delayed["target"].iloc[0] == "TEE-CLASSIC"


def test_review_crisis_plants_a_burst_on_the_hero_and_a_quiet_quality_problem():
    sim = shopsim.simulate("review_crisis", 20, seed=7)
    bad = sim.tables["events"].query("kind == 'negative_review' and target == 'TEE-CLASSIC'")
    assert len(bad) >= 15
    reviews = sim.tables["reviews"]
    by_sku = reviews.groupby(reviews["sku"].astype(str))["rating"]
    mean, count = by_sku.mean(), by_sku.size()
    judged = mean[count >= 10].drop(["TEE-OVERSIZE", "TEE-CLASSIC"])  # enough reviews to tell a problem from noise
    assert mean["TEE-OVERSIZE"] < 4.0 < judged.min()


def test_new_product_launch_starts_from_nothing_and_a_look_alike_appears_on_day_ten():
    sim = shopsim.Simulation("new_product_launch", seed=7)
    sim.set_keyword_bid("henley shirt", 1.5, "TEE-WAFFLE")
    sim.set_ad_budget(500)
    sim.run(12)
    sc = sim.scenario
    assert sc.sku("TEE-WAFFLE").monthly_sales == 0 and sc.sku("TEE-WAFFLE").review_count == 0
    rank = sim.tables["rankings"].query("sku == 'TEE-WAFFLE' and keyword == 'henley shirt'")
    assert rank["organic_position"].iloc[0] > 1, "a new listing starts below the established one"
    look_alike = sim.tables["market"].query("sku == 'DW-WAFFLE'")
    assert look_alike["date"].min() == pd.Timestamp("2026-03-13")
    assert len(moves(sim, "ad_bid_up").query("detail.str.contains('henley')")) >= 1, "North Thread bids up"
