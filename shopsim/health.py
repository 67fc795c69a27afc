"""Shop health: the three detailed seller ratings (DSR) the platform publishes.

Buyers who review an order also rate the shop on three dimensions, each with its own causes:

- 描述相符 ``description``: the product against its listing: its quality, a listing that looks
  better than the product, and a return for a product reason (fit, quality, not as pictured);
- 服务态度 ``service``: how the shop served them: a question answered too late, and after-sales
  (a slow approval, a refusal, a dispute); a service complaint counts as a one-star rating;
- 物流服务 ``logistics``: whether the parcel came on time.

Each is a rolling average over the shop's ``dsr_window_days``, seeded with the shop's history,
in which yesterday's score weighs as a few ratings (so a quiet spell keeps the score).
"""

from __future__ import annotations

from collections import deque
from operator import itemgetter

import numpy as np

#: The three published dimensions, in order.
DIMENSIONS = ("description", "service", "logistics")
_PRIOR_RATINGS = 10.0  # weight of yesterday's score when the window holds few ratings
_STARS, _COUNT = itemgetter(0), itemgetter(1)  # of a day in the window: (stars summed, ratings)


class RollingScore:
    """A rolling average of ratings over ``window_days``, seeded with ``per_day`` ratings a day
    averaging ``stars`` before day 0."""

    def __init__(self, window_days: int, stars: float, per_day: float) -> None:
        self.days = deque([(stars * per_day, per_day)] * window_days, maxlen=window_days)
        self.score = stars

    def close_day(self, stars: np.ndarray) -> float:
        """Add a day's ratings (stars) to the window; return the score."""
        self.days.append((float(np.sum(stars)), float(len(stars))))
        total = sum(map(_STARS, self.days))  # day by day, as a generator over the days would add them
        count = sum(map(_COUNT, self.days))
        self.score = (total + _PRIOR_RATINGS * self.score) / (count + _PRIOR_RATINGS)
        return self.score


class ShopHealth:
    """The shop's three DSR scores.

    Parameters
    ----------
    window_days:
        Days of ratings averaged (the scenario's ``shop.dsr_window_days``).
    start:
        Each dimension's score at the start, stars (the shop's history).
    per_day:
        Ratings per day before the start.
    """

    def __init__(self, window_days: int, start: tuple[float, float, float], per_day: float) -> None:
        self.scores = [RollingScore(window_days, s, per_day) for s in start]

    def close_day(self, published: np.ndarray, service_extra: np.ndarray) -> tuple[float, float, float]:
        """Add a day's ratings: ``published`` (reviews x 3 dimensions) and ``service_extra`` (the
        after-sales ratings and complaints, stars); return the three scores."""
        published = published.reshape(-1, len(DIMENSIONS))
        desc, service, logistics = (published[:, i] for i in range(len(DIMENSIONS)))
        return (self.scores[0].close_day(desc),
                self.scores[1].close_day(np.concatenate([service, service_extra])),
                self.scores[2].close_day(logistics))
