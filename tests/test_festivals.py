"""Festivals: pre-sale dip and deposits, a front-loaded main day, the slump, enrolment; Double 11 calibration."""

import pandas as pd
import pytest
from invariants import check_invariants

import shopsim

MAIN = pd.Timestamp("2026-11-11")


@pytest.fixture(scope="module")
def runs():
    out = {}
    for enrol in (False, True):
        sim = shopsim.Simulation("festival_double11", seed=2)
        if enrol:
            sim.enrol_festival("double11", 0.2)
        out[enrol] = sim.run()
    return out


def daily(sim):
    return sim.tables["daily"].set_index("date")


@pytest.mark.parametrize("enrol", [False, True])
def test_double11_main_day_gmv_is_at_least_eight_ordinary_days(runs, enrol):
    d = daily(runs[enrol])
    ordinary = d.loc[:"2026-10-29", "gmv"].mean()
    assert d.loc[MAIN, "gmv"] >= 8 * ordinary


def test_presale_browses_more_and_buys_less(runs):
    d = daily(runs[False])
    ordinary, presale = d.loc[:"2026-10-29"], d.loc["2026-10-30":"2026-11-10"]
    assert presale["uv"].mean() > ordinary["uv"].mean()
    assert presale["conversion_rate"].mean() < ordinary["conversion_rate"].mean()


def test_deposit_holders_pay_in_the_first_hours_of_the_main_day(runs):
    s = runs[False].tables["sessions"]
    day = s[s["ts"].dt.normalize().dt.tz_localize(None) == MAIN]
    early = day[(day["ts"].dt.hour < 2) & (day["source"] == "returning")]
    late = day[(day["ts"].dt.hour >= 2) & (day["source"] == "returning")]
    assert len(early) > 5 * max(len(late), 1) / 11, "returning visits crowd into 00:00-02:00"
    assert early["ordered"].mean() > day["ordered"].mean()


def test_main_day_traffic_is_front_loaded_and_peaks_again_in_the_evening(runs):
    s = runs[False].tables["sessions"]
    day = s[s["ts"].dt.normalize().dt.tz_localize(None) == MAIN]
    by_hour = day.groupby(day["ts"].dt.hour).size()
    assert by_hour.idxmax() == 0
    assert by_hour.loc[20:23].mean() > by_hour.loc[10:15].mean() > by_hour.loc[3:5].mean()


def test_the_post_festival_slump(runs):
    d = daily(runs[False])
    assert d.loc["2026-11-12":"2026-11-14", "uv"].mean() < d.loc[:"2026-10-29", "uv"].mean()


def test_enrolment_brings_venue_traffic_on_the_main_day_at_the_festival_price_and_costs_its_fee(runs):
    enrolled, plain = runs[True], runs[False]
    s = enrolled.tables["sessions"]
    venue = s[s["source"] == "venue"]
    assert len(venue) > 0 and (venue["ts"].dt.normalize().dt.tz_localize(None) == MAIN).all()
    items = enrolled.tables["order_items"].merge(enrolled.tables["orders"][["order_id", "ts", "promotion_id"]],
                                                 on="order_id")
    on_day = items["ts"].dt.normalize().dt.tz_localize(None) == MAIN
    assert (items.loc[on_day, "promotion_id"].fillna("") == "FEST-double11").mean() > 0.95
    assert (items.loc[~on_day, "promotion_id"].fillna("") != "FEST-double11").all()
    fee = enrolled.scenario.festivals[0].enrolment_fee
    assert enrolled.tables["pnl"]["promotion_cost"].sum() == pytest.approx(fee)
    assert daily(enrolled).loc[MAIN, "gmv"] > daily(plain).loc[MAIN, "gmv"]
    phases = enrolled.tables["events"].query("kind == 'festival_phase'")["detail"].tolist()
    assert phases == ["double11: pre-sale (预售) begins", "double11: main day", "double11: festival over"]
    check_invariants(enrolled)


@pytest.mark.parametrize("call, message", [
    (lambda s: s.enrol_festival("618", 0.2), "unknown festival"),
    (lambda s: s.enrol_festival("double11", 0.05), "out of range; allowed 0.15"),
    (lambda s: (s.enrol_festival("double11", 0.2), s.enrol_festival("double11", 0.3)), "already enrolled"),
])
def test_bad_enrolment_is_an_action_error(call, message):
    sim = shopsim.Simulation("festival_double11", seed=1)
    with pytest.raises(shopsim.ActionError, match=message):
        call(sim)


def test_enrolling_after_the_festival_is_refused():
    sim = shopsim.Simulation("festival_double11", seed=1).run(40)
    with pytest.raises(shopsim.ActionError, match="is over"):
        sim.enrol_festival("double11", 0.2)
