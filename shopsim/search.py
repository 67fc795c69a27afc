"""Organic search: the daily ranking of listings per keyword and the click curve by position.

Rank is earned: the score adds the listing's relevance to the keyword, its recent sales
velocity, its conversion rate, its rating and its listing quality, and takes a penalty while
it is sold out and for a high recent refund rate. Position decides the click share
(position^-decay). Sales raise rank and rank raises traffic: the hero-product snowball, and
its reverse after a stockout.
"""

from __future__ import annotations

import numpy as np

from shopsim.catalog import Catalog
from shopsim.scenario import Scenario


def relevance_matrix(sc: Scenario, catalog: Catalog) -> np.ndarray:
    """Relevance (0-1) of every listing to every keyword, shape (keywords, listings)."""
    rel = np.zeros((len(sc.keywords), catalog.n))
    for k, kw in enumerate(sc.keywords):
        for code, value in kw.relevance.items():
            rel[k, catalog.index[code]] = value
    return rel


def rank_scores(sc: Scenario, catalog: Catalog, relevance: np.ndarray,
                mostly_out: np.ndarray | None = None) -> np.ndarray:
    """Ranking score of each listing for each keyword; ``-inf`` where it does not show.

    A listing counts as sold out when it has no stock, or (``mostly_out``, per listing) when it
    was sold out most of yesterday: a few returned units on the shelf do not fool the platform.
    """
    cfg = sc.search
    sold_out = catalog.stock <= 0
    if mostly_out is not None:
        sold_out = sold_out | mostly_out
    listing_score = (
        cfg.velocity_weight * np.log1p(catalog.velocity(cfg.velocity_days))
        + cfg.conversion_weight * catalog.conversion(cfg.velocity_days)
        + cfg.rating_weight * catalog.rating()
        + cfg.listing_weight * catalog.listing_quality
        - cfg.sold_out_penalty * sold_out
        - cfg.refund_rate_weight * catalog.refund_rate
    )
    scores = cfg.relevance_weight * relevance + listing_score[None, :]
    return np.where(relevance > 0, scores, -np.inf)


def positions(scores: np.ndarray) -> np.ndarray:
    """Organic position (1 = top) per keyword and listing; 0 where the listing does not show.

    Ties are broken by listing order, so the ranking is deterministic.
    """
    order = np.argsort(-scores, axis=1, kind="stable")
    pos = np.empty_like(order)
    rows = np.arange(scores.shape[0])[:, None]
    pos[rows, order] = np.arange(1, scores.shape[1] + 1)[None, :]
    return np.where(np.isfinite(scores), pos, 0)


def click_rates(sc: Scenario, catalog: Catalog, relevance: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Expected clicks per search on each listing, shape (keywords, listings).

    top_click_rate x position^-decay, scaled by the listing's click appeal (its main image
    and title) and its relevance; a sold-out listing keeps only a small share.
    """
    cfg = sc.search
    shown = pos > 0
    curve = np.where(shown, cfg.top_click_rate * np.maximum(pos, 1).astype(float) ** -cfg.click_decay, 0.0)
    appeal = np.exp(cfg.listing_click_effect * (catalog.listing_quality - 0.5))
    stock_factor = np.where(catalog.stock > 0, 1.0, cfg.sold_out_click_share)
    return curve * relevance * (appeal * stock_factor)[None, :]
