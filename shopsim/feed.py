"""The recommendation feed (手淘首页 / 猜你喜欢): traffic the platform's recommender hands out.

Every day the platform shares the niche's feed exposures among the listings by a score of
what its recommender rewards:

- click-through of the feed card (the main image and title: listing quality),
- recent conversion (orders per visit, last week),
- interest, 收藏加购: favourites and cart adds per visit (last week),
- sales velocity (units per day, last week),
- freshness: a new listing gets trial traffic that fades over its first weeks,
- refund rate: a listing whose buyers send it back is shown less.

A listing's share is the softmax of the scores over the listings on sale; its clicks are its
exposures times its click-through. A better main image therefore wins twice: more exposures
and more clicks per exposure.
"""

from __future__ import annotations

import numpy as np

from shopsim.catalog import Catalog
from shopsim.scenario import Scenario


def click_through(sc: Scenario, cat: Catalog) -> np.ndarray:
    """Feed click-through per listing: clicks per exposure, from its listing quality."""
    return sc.feed.click_rate * np.exp(sc.search.listing_click_effect * (cat.listing_quality - 0.5))


def scores(sc: Scenario, cat: Catalog, day: int) -> np.ndarray:
    """The recommender's score of every listing on ``day`` (higher is shown more)."""
    cfg, days = sc.feed, sc.search.velocity_days
    age = day - cat.listed_day
    return (cfg.ctr_weight * np.log(click_through(sc, cat))
            + cfg.conversion_weight * cat.conversion(days)
            + cfg.interest_weight * cat.interest_rate(days)
            + cfg.sales_weight * np.log1p(cat.velocity(days))
            + cfg.freshness_boost * np.exp(-np.maximum(age, 0) / cfg.freshness_days)
            - cfg.refund_weight * cat.refund_rate)


def feed_clicks(sc: Scenario, cat: Catalog, day: int, on_sale: np.ndarray, season: np.ndarray) -> np.ndarray:
    """Expected feed clicks per hour (at traffic weight 1) on every listing.

    ``on_sale`` marks listings the feed may show (listed and in stock); ``season`` is each
    listing's demand multiplier today.
    """
    score = scores(sc, cat, day)
    if not on_sale.any():
        return np.zeros(cat.n)
    weight = np.where(on_sale, np.exp(score - score[on_sale].max()), 0.0)
    share = weight / weight.sum()
    return sc.feed.daily_exposures / 24.0 * share * season * click_through(sc, cat)
