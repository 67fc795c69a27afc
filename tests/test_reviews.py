"""Reviews: drawn at payment, published in time order when due, negative ones on the page, replies, DSR."""

from __future__ import annotations

import numpy as np
import pytest

from shopsim.reviews import NEGATIVE_STARS, ReviewBook, _tags
from shopsim.scenario import Reviews

DAY = 86_400


def book(visible=3, **settings) -> ReviewBook:
    return ReviewBook(Reviews(**settings), n_own=2, visible=visible)


def add(b: ReviewBook, ts: list[int], offer: list[int], stars: list[int]) -> None:
    """Queue reviews with known times and stars (bypassing the random draw)."""
    n = len(ts)
    b._pending.append({"ts": np.array(ts, dtype=np.int64), "order_id": np.arange(1, n + 1),
                       "offer": np.array(offer), "rating": np.array(stars), "late": np.zeros(n, bool),
                       "pick": np.full((n, 2), 0.5), "overpriced": np.zeros(n, bool), "reason": np.full(n, -1),
                       "dsr": np.repeat(np.array(stars, dtype=np.int8)[:, None], 3, axis=1)})


def test_publish_only_what_is_due_in_time_order():
    b = book()
    add(b, [50, 10, 300, 20], [0, 1, 0, 0], [5, 1, 4, 2])
    offers, stars = b.publish(100)
    assert b.ts == [10, 20, 50]
    assert offers.tolist() == [1, 0, 0] and stars.tolist() == [1, 2, 5]
    assert b.order_id == [2, 4, 1]
    assert b.replied == [False, False, False]
    offers, stars = b.publish(1000)
    assert offers.tolist() == [0] and b.ts == [10, 20, 50, 300]
    assert b.publish(2000)[0].tolist() == []


def test_negative_reviews_on_the_page_and_replies():
    b = book(visible=3)
    add(b, [1, 2, 3], [0, 0, 1], [1, NEGATIVE_STARS, NEGATIVE_STARS + 1])
    b.publish(10)
    open_, answered = b.negative_on_page()
    assert open_.tolist() == [2, 0] and answered.tolist() == [0, 0]
    b.reply(0)
    open_, answered = b.negative_on_page()
    assert open_.tolist() == [1, 0] and answered.tolist() == [1, 0]


def test_old_reviews_fall_off_the_page():
    b = book(visible=3)
    add(b, [1, 2, 3, 4, 5], [0] * 5, [1, 1, 5, 5, 5])
    b.publish(10)
    assert b.negative_on_page()[0].tolist() == [0, 0], "only the three newest reviews are on the page"


def test_draw_keeps_the_review_share_and_delays_publication():
    b = book(review_share=0.3, delivery_days=2.0, review_delay_days=3.0)
    n = 4000
    rng = np.random.default_rng(0)
    b.draw(rng, np.arange(1, n + 1), np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, 60.0),
           np.full(n, 60.0), np.full(n, 0.8), np.zeros(n, bool))
    assert b.publish(0)[0].size == 0, "nothing is published at the moment of payment"
    offers, stars = b.publish(10**9)
    assert 0.27 * n < len(offers) < 0.33 * n
    assert 3.5 * DAY < np.mean(b.ts) < 6.5 * DAY
    assert set(stars.tolist()) <= {1, 2, 3, 4, 5}


def _mean_stars(quality=0.8, paid=60.0, late=False, seed=0) -> float:
    b = book(review_share=1.0)
    n = 3000
    b.draw(np.random.default_rng(seed), np.arange(n), np.zeros(n, np.int64), np.zeros(n, np.int64),
           np.full(n, paid), np.full(n, 60.0), np.full(n, quality), np.full(n, late))
    return float(b.publish(10**9)[1].mean())


def test_stars_follow_quality_value_and_delivery():
    normal = _mean_stars()
    assert _mean_stars(quality=0.3) < normal
    assert _mean_stars(paid=90.0) < normal, "paying above the reference price disappoints"
    assert _mean_stars(paid=45.0) > normal
    assert _mean_stars(late=True) < normal - 1


def test_a_burst_is_negative_and_spread_over_its_days():
    b = book(visible=20)
    b.burst(np.random.default_rng(1), offer=1, count=8, now=DAY, days=2.0)
    offers, stars = b.publish(10 * DAY)
    assert offers.tolist() == [1] * 8
    assert (stars <= NEGATIVE_STARS).all()
    assert min(b.ts) >= DAY and max(b.ts) < 3 * DAY
    assert b.order_id == [-1] * 8
    assert b.negative_on_page()[0].tolist() == [0, 8]


def test_a_returned_item_is_rated_lower_and_tagged_with_the_reason():
    keep = np.array([0.0, 0.9])
    assert _tags(2, False, False, keep, reason=0) in ("runs small", "runs large")
    assert _tags(2, False, False, keep, reason=2).startswith("not as pictured")
    assert "true to size" not in _tags(3, False, False, np.array([0.0, 0.05]), reason=0)
    b, rng = book(), np.random.default_rng(0)
    n = 4000
    args = (np.arange(n), np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, 60.0), np.full(n, 60.0),
            np.full(n, 0.7), np.zeros(n, bool))
    b.draw(rng, *args)
    b.draw(rng, *args, refund=np.full(n, 0))
    b.draw(rng, *args, refund=np.full(n, -2))
    kept, returned, cancelled = b._pending
    assert returned["rating"].mean() < kept["rating"].mean() - 0.5
    assert len(cancelled["ts"]) == 0, "an order refunded before shipping is never reviewed"


def test_tags_fit_the_stars():
    keep = np.array([0.0, 0.9])
    assert _tags(5, False, False, keep) == "good quality"
    assert _tags(1, False, False, keep) == "poor quality"
    assert _tags(1, True, False, keep).endswith("slow delivery")
    assert "overpriced" in _tags(2, False, True, keep)
    two = _tags(4, False, False, np.array([0.0, 0.39]))
    assert two.count(";") <= 1 and len(set(two.split("; "))) == len(two.split("; "))


def test_a_timeline_burst_can_last_hours_not_days_and_not_both(tmp_path):
    import pandas as pd

    import shopsim
    from shopsim.errors import ScenarioError

    event = "{day: 1, hour: 2, kind: review_burst, target: PANT-SLIM, value: 12, %s}"
    path = tmp_path / "burst.yaml"
    path.write_text("extends: baseline\nname: burst\ntimeline:\n  - " + event % "hours: 3" + "\n", encoding="utf-8")
    reviews = shopsim.simulate(shopsim.load_scenario(path, root=tmp_path), days=3, seed=2).tables["reviews"]
    ts = reviews.loc[(reviews["sku"] == "PANT-SLIM") & (reviews["rating"] <= NEGATIVE_STARS), "ts"]
    start = pd.Timestamp("2026-03-03 02:00", tz=ts.dt.tz)
    burst = ts[(ts >= start) & (ts < start + pd.Timedelta(hours=3))]
    assert len(burst) >= 12, "all twelve land within the three hours"
    path.write_text("extends: baseline\nname: burst\ntimeline:\n  - " + event % "hours: 3, days: 1" + "\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"timeline\[0\].hours: a review_burst lasts `days` or `hours`, not both"):
        shopsim.load_scenario(path, root=tmp_path)
