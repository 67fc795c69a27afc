"""Seasons, Chinese New Year and the platform's festivals in the calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import shopsim
from shopsim import calendar
from shopsim.errors import ScenarioError


def units_by_sku(sim: shopsim.Simulation) -> dict[str, int]:
    items = sim.tables["order_items"]
    return items.groupby("sku", observed=True)["qty"].sum().to_dict()


def test_seasons_move_category_units():
    """The same shop and seeds in January and in July: linen and tees sell in summer, flannel and
    joggers in winter. Units are added up over two seeds: the linen and flannel shirts sell about
    a hundred a month, so one seed's month swings by a tenth either way."""
    runs = {month: [units_by_sku(shopsim.simulate(shopsim.load_scenario("baseline", [f"start=2026-{month:02d}-01"]),
                                                  seed=seed)) for seed in (1, 2)] for month in (1, 7)}
    jan, jul = ({sku: sum(r[sku] for r in runs[month]) for sku in runs[month][0]} for month in (1, 7))
    for sku in ("SHIRT-LINEN", "TEE-CLASSIC", "TEE-OVERSIZE"):
        assert jul[sku] > 1.5 * jan[sku], (sku, jan[sku], jul[sku])
    for sku in ("SHIRT-FLANNEL", "PANT-JOGGER"):
        assert jan[sku] > 1.5 * jul[sku], (sku, jan[sku], jul[sku])
    assert 0.6 < jul["SHIRT-OXFORD"] / jan["SHIRT-OXFORD"] < 1.6, "an all-year shirt stays about level"


def test_season_curves_interpolate_between_month_middles():
    curve = tuple(float(m) for m in range(1, 13))
    assert calendar.season_factor(curve, dt.date(2026, 1, 16)) == pytest.approx(1.0, abs=0.1)
    assert calendar.season_factor(curve, dt.date(2026, 7, 1)) == pytest.approx(6.5, abs=0.05)
    assert 1.0 < calendar.season_factor(curve, dt.date(2026, 1, 1)) < 12.0  # between December and January


def test_unknown_season_names_are_scenario_errors():
    with pytest.raises(ScenarioError, match=r"skus\[0\].season: no season 'monsoon'"):
        shopsim.load_scenario("baseline", ["skus.TEE-CLASSIC.season=monsoon"])


def test_spring_festival_dates_2026_to_2028():
    expected = {2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26)}
    assert expected == calendar.SPRING_FESTIVAL


@pytest.fixture(scope="module")
def new_year() -> shopsim.Simulation:
    """A run over 春节 2027 (6 February)."""
    return shopsim.simulate(shopsim.load_scenario("baseline", ["start=2027-01-10", "days=40"]), seed=4)


def test_new_year_traffic_dips_and_orders_in_the_stop_ship_late(new_year):
    sim = new_year
    daily = sim.tables["daily"].set_index("date")
    eve = dt.date(2027, 2, 5)
    holiday = daily.loc[str(eve): str(eve + dt.timedelta(days=6))]
    before = daily.loc[str(eve - dt.timedelta(days=24)): str(eve - dt.timedelta(days=5))]
    assert holiday["uv"].mean() < 0.8 * before["uv"].mean()
    assert holiday["conversion_rate"].mean() < before["conversion_rate"].mean()
    stop = sim.seasons.ships_from(sim.clock.day_of(eve))
    assert stop == sim.clock.day_of(dt.date(2027, 2, 13)), "couriers run again 7 days after New Year's Day"
    reviews, orders = sim.tables["reviews"], sim.tables["orders"]
    placed = reviews.merge(orders[["order_id", "ts"]], on="order_id", suffixes=("", "_order"))
    in_stop = placed["ts_order"].dt.date.between(dt.date(2027, 2, 3), dt.date(2027, 2, 12))
    assert in_stop.any()
    assert (placed.loc[in_stop, "ts"].dt.date >= dt.date(2027, 2, 13)).all(), "no review before the parcel ships"
    assert placed.loc[in_stop, "rating"].mean() < placed.loc[~in_stop, "rating"].mean()


def test_platform_festivals_can_be_named_without_a_date():
    sc = shopsim.load_scenario("baseline", ['festivals=[{name: "618"}, {name: "38"}, {name: "99"}]'])
    by_name = {f.name: f for f in sc.festivals}
    assert by_name["618"].main_day == dt.date(2026, 6, 18)
    assert by_name["38"].main_day == dt.date(2026, 3, 8), "the next one on or after the start (2026-03-02)"
    late = shopsim.load_scenario("baseline", ["start=2026-04-01", 'festivals=[{name: "38"}]'])
    assert late.festivals[0].main_day == dt.date(2027, 3, 8)
    assert by_name["99"].main_day == dt.date(2026, 9, 9)
    assert by_name["618"].main_day_traffic < sc.festivals[0].main_day_traffic + 1e-9
    assert by_name["38"].main_day_traffic < by_name["618"].main_day_traffic


def test_a_festival_outside_the_calendar_needs_its_date():
    with pytest.raises(ScenarioError, match=r"festivals\[0\].main_day: is required for 'payday'"):
        shopsim.load_scenario("baseline", ["festivals=[{name: payday}]"])


def test_the_year_round_scenario_runs_a_year_with_its_festivals():
    sc = shopsim.load_scenario("year_round")
    assert sc.days == 365 and sc.start == dt.date(2026, 1, 1)
    assert [f.name for f in sc.festivals] == ["38", "618", "99", "double11"]
    assert all(f.main_day.year == 2026 for f in sc.festivals)
    sim = shopsim.Simulation(sc, seed=1).run(3)
    assert np.isfinite(sim.tables["daily"]["gmv"]).all()
