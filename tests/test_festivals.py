"""Festivals: pre-sale dip and deposits, a front-loaded main day, the slump, enrolment; Double 11 calibration."""

import numpy as np
import pandas as pd
import pytest
from invariants import check_invariants

import shopsim
from shopsim.scenario import PREDECESSOR_ROTA

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


def _main_day_ratio(sim):
    d = daily(sim)
    return d.loc[MAIN, "gmv"] / d.loc[:"2026-10-29", "gmv"].mean()


def test_double11_main_day_gmv_is_at_least_eight_ordinary_days(runs):
    """The scenario as bundled, with its customer service staffed for the season. Enrolled: on the
    seed of the other tests. Not enrolled (the shop only rides the festival's traffic while rivals
    discount): on average over seeds 1-3, because whether an own listing holds first place on
    the day moves one run's ratio by a point either way."""
    assert _main_day_ratio(runs[True]) >= 8
    plain = [_main_day_ratio(shopsim.Simulation("festival_double11", seed=seed).run()) for seed in (1, 2, 3)]
    assert np.mean(plain) >= 8, f"ratios {np.round(plain, 2)}"
    assert min(plain) >= 7


def test_the_baseline_day_shift_cannot_answer_the_midnight_rush(runs):
    """On the predecessor's rota (nobody at night) the main day's first hours go unanswered and
    shoppers who are not answered leave: the main day sells clearly less than with the season's rota."""
    sim = shopsim.Simulation("festival_double11", seed=2)
    sim.set_service(list(PREDECESSOR_ROTA))
    sim.run()
    service = sim.tables["service"]
    midnight = service[(service["ts"].dt.tz_localize(None).dt.normalize() == MAIN) & (service["ts"].dt.hour < 2)]
    assert len(midnight) > 100 and midnight["answered"].mean() < 0.1
    assert _main_day_ratio(sim) < _main_day_ratio(runs[False]) - 1


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


@pytest.fixture(scope="module", params=(1, 2, 3))
def wave(request):
    """Double 11 without any operator action, run three weeks past the scenario so the main
    day's refunds are all in."""
    sim = shopsim.Simulation("festival_double11", seed=request.param).run()
    sim.run(21)
    orders, refunds = sim.tables["orders"], sim.tables["refunds"]
    paid = orders["ts"].dt.tz_localize(None).dt.normalize()
    tied = refunds[refunds["order_id"].notna()].merge(
        orders[["order_id", "ts"]].astype({"order_id": "Int64"}), on="order_id")
    return orders.assign(day=paid), tied.assign(day=tied["ts"].dt.tz_localize(None).dt.normalize())


def _cohort_rate(wave, days):
    orders, refunds = wave
    refunded = refunds.loc[refunds["day"].isin(days), "amount"].sum()
    return refunded / orders.loc[orders["day"].isin(days), "paid_amount"].sum()


def test_double11_main_day_orders_come_back_more(wave):
    """Refunds of main-day orders / their GMV: at least 1.3x an ordinary month's (the October
    days before the pre-sale, same run); most are asked for within 10 days."""
    ordinary = _cohort_rate(wave, pd.date_range("2026-10-05", "2026-10-29"))
    main = _cohort_rate(wave, [MAIN])
    assert main >= 1.3 * ordinary
    refunds = wave[1]
    on_main = refunds[refunds["day"] == MAIN]
    assert ((on_main["requested_ts"] - on_main["ts"]) <= pd.Timedelta(days=10)).mean() > 0.5
