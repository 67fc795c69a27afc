"""Organic search: relevance, rank scores, positions with deterministic ties, the click curve."""

from __future__ import annotations

import numpy as np
import pytest

from shopsim import search
from shopsim.catalog import Catalog


def test_positions_rank_by_score():
    scores = np.array([[1.0, 3.0, 2.0, -np.inf],
                       [5.0, -np.inf, -np.inf, 0.5]])
    assert search.positions(scores).tolist() == [[3, 1, 2, 0], [1, 0, 0, 2]]


def test_ties_are_broken_by_listing_order():
    scores = np.array([[2.0, 2.0, 3.0, 2.0]])
    assert search.positions(scores).tolist() == [[2, 3, 1, 4]]
    assert search.positions(scores).tolist() == search.positions(scores.copy()).tolist()


def test_positions_are_one_to_n_of_the_shown_listings():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 9))
    scores[rng.random((5, 9)) < 0.3] = -np.inf
    pos = search.positions(scores)
    for row, s in zip(pos, scores, strict=True):
        shown = np.isfinite(s)
        assert sorted(row[shown]) == list(range(1, shown.sum() + 1))
        assert (row[~shown] == 0).all()


@pytest.fixture
def market(tiny):
    cat = Catalog(tiny)
    return tiny, cat, search.relevance_matrix(tiny, cat)


def test_relevance_matrix(market):
    sc, cat, rel = market
    assert rel.shape == (2, 3)
    assert cat.codes == ["A", "B", "R"]
    assert rel.tolist() == [[1.0, 0.8, 1.0], [0.0, 1.0, 0.5]]


def test_rank_scores(market):
    sc, cat, rel = market
    scores = search.rank_scores(sc, cat, rel)
    assert scores[1, 0] == -np.inf, "A does not match 'nice tee'"
    assert np.isfinite(scores[0]).all()
    assert scores[0, 0] > scores[0, 1], "A is more relevant and sells more than B"
    cat.stock[0] = 0
    sold_out = search.rank_scores(sc, cat, rel)
    assert scores[0, 0] - sold_out[0, 0] == pytest.approx(sc.search.sold_out_penalty)
    assert (sold_out[:, 1:] == scores[:, 1:]).all()
    cat.listing_quality[1] += 0.2
    assert search.rank_scores(sc, cat, rel)[0, 1] == pytest.approx(scores[0, 1] + 0.2 * sc.search.listing_weight)


def test_click_rates_fall_with_position(market):
    sc, cat, _ = market
    rel = np.ones((1, 3))
    cat.listing_quality[:] = 0.5
    same = search.click_rates(sc, cat, rel, np.array([[1, 2, 3]]))[0]
    assert same[0] > same[1] > same[2] > 0
    assert same[0] == pytest.approx(sc.search.top_click_rate)
    assert same[1] / same[0] == pytest.approx(2 ** -sc.search.click_decay)


def test_click_rates_zero_when_not_shown_and_small_when_sold_out(market):
    sc, cat, rel = market
    pos = search.positions(search.rank_scores(sc, cat, rel))
    clicks = search.click_rates(sc, cat, rel, pos)
    assert clicks[1, 0] == 0.0
    cat.stock[0] = 0
    sold_out = search.click_rates(sc, cat, rel, pos)
    assert sold_out[0, 0] == pytest.approx(clicks[0, 0] * sc.search.sold_out_click_share)


def test_better_listing_earns_more_clicks_at_the_same_position(market):
    sc, cat, rel = market
    pos = np.array([[1, 2, 3], [0, 1, 2]])
    before = search.click_rates(sc, cat, rel, pos)
    cat.listing_quality[1] = 0.9
    after = search.click_rates(sc, cat, rel, pos)
    assert (after[:, 1] > before[:, 1]).all()
    assert (after[:, [0, 2]] == before[:, [0, 2]]).all()
