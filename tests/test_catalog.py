"""Products and offers: own SKUs first then rivals, ratings, displayed sales, velocity, conversion."""

from __future__ import annotations

import numpy as np
import pytest

from shopsim.catalog import HISTORY_DAYS, Catalog


@pytest.fixture
def cat(tiny) -> Catalog:
    return Catalog(tiny)


def test_own_skus_first_then_rivals(cat, tiny):
    assert cat.n_own == 2 and cat.n == 3
    assert cat.codes == ["A", "B", "R"]
    assert cat.shops == [tiny.shop.name, tiny.shop.name, "Rival"]
    assert cat.index == {"A": 0, "B": 1, "R": 2}
    assert cat.price.tolist() == [60.0, 80.0, 65.0]
    assert cat.cost.tolist() == [20.0, 30.0]
    assert cat.stock.tolist() == [400, 200, 100_000]
    assert cat.reference_price.tolist() == cat.price.tolist(), "the reference price defaults to the start price"
    assert cat.own("B") == 1
    with pytest.raises(KeyError):
        cat.own("R")


def test_arrays_are_not_shared_between_catalogs(tiny):
    a, b = Catalog(tiny), Catalog(tiny)
    a.price[0] = 1.0
    a.stock[0] = 0
    assert b.price[0] == 60.0 and b.stock[0] == 400
    assert tiny.skus[0].price == 60.0


def test_ratings_start_from_the_scenario_and_average_in_new_reviews(cat):
    assert cat.rating().tolist() == pytest.approx([4.7, 4.6, 4.7])
    cat.add_ratings(np.array([0, 0]), np.array([1, 1]))
    assert cat.rating()[0] == pytest.approx((4.7 * 100 + 2) / 102)
    assert cat.rating_count[0] == 102
    assert cat.rating()[1:] == pytest.approx([4.6, 4.7])


def test_a_listing_without_reviews_shows_its_start_rating(tiny_dict):
    from shopsim import scenario

    tiny_dict["skus"][1]["review_count"] = 0
    cat = Catalog(scenario.from_dict(tiny_dict))
    assert cat.rating()[1] == pytest.approx(4.6)
    cat.add_ratings(np.array([1]), np.array([3]))
    assert cat.rating()[1] == pytest.approx(3.0)


def test_displayed_sales_and_velocity_roll_with_the_days(cat):
    assert cat.monthly_sales() == pytest.approx([300, 100, 200])
    assert cat.velocity(7) == pytest.approx([10, 10 / 3, 20 / 3])
    for _ in range(7):
        cat.close_day(np.array([20.0, 0.0, 5.0]), np.array([1000.0, 100.0, 200.0]))
    assert cat.velocity(7) == pytest.approx([20, 0, 5])
    assert cat.monthly_sales()[0] == pytest.approx(23 * 10 + 7 * 20)
    for _ in range(30):
        cat.close_day(np.zeros(3), np.zeros(3))
    assert cat.monthly_sales() == pytest.approx([0, 0, 0])
    assert cat.units_history.shape == (3, HISTORY_DAYS)


def test_conversion_is_shrunk_towards_two_percent(cat):
    assert cat.conversion(7) == pytest.approx([0.02, 0.02, 0.02]), "the start history converts at the prior"
    for _ in range(7):
        cat.close_day(np.array([50.0, 0.0, 0.0]), np.array([1000.0, 0.0, 10.0]))
    conv = cat.conversion(7)
    assert 0.02 < conv[0] < 0.05
    assert conv[1] == pytest.approx(0.02), "no visits: the prior alone"
    assert conv[2] < 0.02, "a few visits without sales pull it down a little"
