"""Shop health: the three DSR dimensions, each a rolling average with its own causes."""

import numpy as np
import pytest

from shopsim.health import RollingScore, ShopHealth
from shopsim.reviews import ReviewBook
from shopsim.scenario import Reviews


def test_dsr_is_a_rolling_average_seeded_with_the_history():
    b = RollingScore(window_days=3, stars=4.0, per_day=2.0)
    assert b.close_day(np.array([])) == pytest.approx(4.0)
    # the window now holds (8, 2), (0, 0), (2, 2); yesterday's 4.0 weighs as 10 reviews
    assert b.close_day(np.array([1, 1])) == pytest.approx((8 + 2 + 10 * 4.0) / (4 + 10))
    before = (8 + 2 + 10 * 4.0) / (4 + 10)
    assert b.close_day(np.array([5])) == pytest.approx((2 + 5 + 10 * before) / (3 + 10)), \
        "the start history has aged out"


def test_dsr_keeps_its_score_when_the_window_empties():
    """A quiet spell empties the 90-day window: the DSR stays where it was (not NaN), and one
    late review moves it only a little (not to that review's stars)."""
    b = RollingScore(window_days=3, stars=4.6, per_day=1.0)
    for _ in range(5):
        dsr = b.close_day(np.array([]))
    assert dsr == pytest.approx(4.6)
    after_one = b.close_day(np.array([5]))
    assert 4.6 < after_one < 4.7


def test_each_dimension_moves_with_its_own_ratings():
    h = ShopHealth(window_days=3, start=(4.8, 4.8, 4.8), per_day=2.0)
    published = np.array([[5, 5, 1], [5, 5, 1]])
    desc, service, logistics = h.close_day(published, np.array([1.0, 1.0]))
    assert desc > 4.8, "five-star descriptions raise description"
    assert logistics < 4.8 and service < 4.8, "late parcels and complaints pull their own dimensions down"
    assert logistics < service, "two one-star parcels weigh more than two complaints among two good ratings"


def _dsr_of(**line) -> np.ndarray:
    """Mean DSR stars (description, service, logistics) of 4000 reviewed lines alike."""
    n = 4000
    b = ReviewBook(Reviews(review_share=1.0), n_own=1, visible=20)
    args = dict(order_id=np.arange(n), ts=np.zeros(n, np.int64), offer=np.zeros(n, np.int64),
                paid_price=np.full(n, 60.0), reference=np.full(n, 60.0), quality=np.full(n, line.get("quality", 0.8)),
                late=np.full(n, line.get("late", False)), refund=np.full(n, line.get("refund", -1)))
    dsr = (np.random.default_rng(1), np.full(n, line.get("gap", 0.0)), np.full(n, line.get("service", 4.9)))
    b.draw(np.random.default_rng(0), **args, dsr=dsr)
    b.publish(10**9)
    return b.take_dsr().mean(axis=0)


def test_dsr_dimensions_follow_their_causes():
    plain = _dsr_of()
    assert _dsr_of(gap=0.3)[0] < plain[0] - 0.3, "a listing better than the product costs description"
    assert _dsr_of(refund=2)[0] < plain[0] - 0.3, "a 'not as pictured' return costs description"
    assert _dsr_of(late=True)[2] < plain[2] - 1.0, "a late parcel costs logistics"
    assert _dsr_of(service=3.7)[1] < plain[1] - 0.8, "a late answer costs service"
    late = _dsr_of(late=True)
    assert abs(late[0] - plain[0]) < 0.1 and abs(late[1] - plain[1]) < 0.1, "lateness touches logistics only"
