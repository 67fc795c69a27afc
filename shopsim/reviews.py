"""Reviews: ratings and tags that buyers leave some days after delivery, replies, and DSR.

A share of delivered order lines gets a review. The stars depend on the product's quality,
on the price paid against what the category usually costs, on late delivery and on a
return: a buyer who sent the item back for a product reason rates it lower and the tags name
the reason ("runs small", "not as pictured"); an order refunded before it shipped gets no
review. Reviews are drawn when the order is paid and published in the hour they are due; the recent ones sit on the
product page, where an unanswered negative review (1-2 stars, 差评) costs conversion until
the shop replies. A reviewer also rates the shop's description, service and logistics (the
detailed seller ratings, DSR: :mod:`shopsim.health`).
"""

from __future__ import annotations

import heapq
import operator
from collections import deque
from collections.abc import Sequence

import numpy as np

from shopsim.scenario import Reviews as ReviewSettings

NEGATIVE_STARS = 2  # a review of this many stars or fewer is negative (差评)
_POSITIVE_TAGS = ("good quality", "true to size", "comfortable", "good value", "fast delivery",
                  "looks like the photos")
_NEGATIVE_TAGS = ("poor quality", "runs small", "faded after washing", "not as pictured",
                  "thin fabric", "overpriced")
_LATE_TAG = "slow delivery"
#: The tag a returned item's review names, per refund reason (see shopsim.refunds.REASONS).
_REASON_TAGS = (("runs small", "runs large"), ("poor quality",), ("not as pictured",), (), ())
_SECONDS_PER_DAY = 86_400
#: A pending review's fields, in the order of its row (see ReviewBook._file_by_hour).
_COLUMNS = ("ts", "order_id", "offer", "rating", "late", "pick", "overpriced", "reason", "dsr")
_RATING = _COLUMNS.index("rating")
_first = operator.itemgetter(0)


class ReviewBook:
    """Pending and published reviews of the shop's own SKUs.

    Parameters
    ----------
    settings:
        The scenario's ``reviews`` section.
    n_own:
        Number of own SKUs (reviews are indexed by offer number).
    visible:
        Recent reviews a shopper reads on a product page.
    """

    def __init__(self, settings: ReviewSettings, n_own: int, visible: int) -> None:
        self.settings = settings
        self.n_own = n_own
        self._pending: list[dict[str, np.ndarray]] = []  # drawn, not yet filed by hour
        self._by_hour: dict[int, list[tuple]] = {}  # due hour: its reviews (_COLUMNS), in the order drawn
        self._hours: list[int] = []  # heap of the hours in _by_hour
        self._negative: set[int] = set()  # the hours in _by_hour that hold a negative review
        self._negative_hours: list[int] = []  # heap of those hours (and stale ones, dropped when seen)
        self.ts: list[int] = []
        self.order_id: list[int] = []
        self.offer: list[int] = []
        self.rating: list[int] = []
        self.tags: list[str] = []
        self.replied: list[bool] = []
        self.recent = [deque(maxlen=visible) for _ in range(n_own)]
        self.published_dsr: list[list[int]] = []  # DSR stars (3 per review) published since the last take

    def draw(self, rng: np.random.Generator, order_id: np.ndarray, ts: np.ndarray,
             offer: np.ndarray, paid_price: np.ndarray, reference: np.ndarray,
             quality: np.ndarray, late: np.ndarray, refund: np.ndarray | None = None,
             wait: np.ndarray | None = None, dsr: tuple[np.random.Generator, np.ndarray, np.ndarray] | None = None
             ) -> np.ndarray:
        """Decide which paid order lines get a review, when it appears and its stars.

        ``ts`` is seconds since hour 0; ``paid_price`` and ``reference`` are yuan per unit;
        ``refund`` is each line's refund reason code (-1 kept, -2 refunded before shipping);
        ``wait`` is days before the parcel can ship at all (couriers stopped); ``dsr`` is (the
        stream of the DSR ratings, each line's listing quality above its product quality, each
        line's expected service stars): a reviewer also rates the shop's description, service
        and logistics (:mod:`shopsim.health`). Returns the stars each line deserved (the
        expectation its review is drawn around), 1-5.
        """
        cfg = self.settings
        n = len(order_id)
        if n == 0:
            return np.empty(0)
        refund = np.full(n, -1) if refund is None else refund
        writes = (rng.random(n) < cfg.review_share) & (refund != -2)
        delay = rng.exponential(1.0, n) * cfg.delivery_days + rng.exponential(1.0, n) * cfg.review_delay_days
        delay = delay + late * 3.0 + (0.0 if wait is None else wait)
        returned = (refund == 0) | (refund == 1) | (refund == 2)  # for a product reason (no np.isin: slower)
        mean = (cfg.base_rating + cfg.quality_effect * quality
                + cfg.value_effect * np.log(reference / paid_price)
                - cfg.late_delivery_effect * late
                - cfg.returned_effect * returned)
        stars = np.clip(np.rint(mean + rng.normal(0.0, cfg.rating_noise, n)), 1, 5).astype(int)
        pick = rng.random((n, 2))
        keep = np.flatnonzero(writes)
        ratings = self._dsr_ratings(dsr, quality, late, returned, keep)
        self._pending.append({
            "ts": (ts + delay * _SECONDS_PER_DAY).astype(np.int64)[keep], "order_id": order_id[keep],
            "offer": offer[keep], "rating": stars[keep], "late": late[keep],
            "pick": pick[keep], "overpriced": (paid_price > reference * 1.15)[keep], "reason": refund[keep],
            "dsr": ratings,
        })
        return np.clip(mean, 1.0, 5.0)

    def _dsr_ratings(self, dsr: tuple[np.random.Generator, np.ndarray, np.ndarray] | None, quality: np.ndarray,
                     late: np.ndarray, returned: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Description, service and logistics stars (lines ``keep`` x 3) of the reviewers; ``returned``
        marks the lines sent back for a product reason."""
        cfg = self.settings
        if dsr is None:  # no service data: the product's own expectation on every dimension
            rng, gap, service = None, np.zeros(len(quality)), np.full(len(quality), cfg.logistics_rating)
        else:
            rng, gap, service = dsr
        description = (cfg.base_rating + cfg.quality_effect * quality - cfg.description_gap_effect * gap
                       - cfg.returned_effect * returned)
        logistics = cfg.logistics_rating - cfg.late_delivery_effect * late
        mean = np.stack([description, service, logistics], axis=1)[keep]
        noise = rng.normal(0.0, cfg.dsr_noise, mean.shape) if rng is not None else 0.0
        return np.clip(np.rint(mean + noise), 1, 5).astype(np.int8)

    def burst(self, rng: np.random.Generator, offer: int, count: int, now: int, days: float = 2.0) -> None:
        """Schedule ``count`` negative reviews on one SKU over the next ``days`` days."""
        t = now + np.sort(rng.random(count) * days * _SECONDS_PER_DAY).astype(np.int64)
        self._pending.append({
            "ts": t, "order_id": np.full(count, -1), "offer": np.full(count, offer),
            "rating": rng.integers(1, NEGATIVE_STARS + 1, count), "late": np.zeros(count, bool),
            "pick": rng.random((count, 2)), "overpriced": np.zeros(count, bool), "reason": np.full(count, -1),
            "dsr": np.zeros((count, 3), np.int8),
        })
        self._pending[-1]["dsr"][:] = self._pending[-1]["rating"][:, None]  # bad-faith raters: the same low stars

    def _file_by_hour(self) -> None:
        """Sort newly drawn reviews into buckets by the hour they are due (publishing then
        touches only the hours due, however many reviews wait). A review is a tuple of its
        :data:`_COLUMNS`: the few reviews due in a slice are cheaper as Python rows than as arrays."""
        for chunk in self._pending:
            for review in zip(*(chunk[k].tolist() for k in _COLUMNS), strict=True):
                self._file(review[0] // 3600, [review])
        self._pending = []

    def _file(self, hour: int, reviews: list[tuple]) -> None:
        """Add ``reviews`` (rows of :data:`_COLUMNS`) after those already due in ``hour``."""
        bucket = self._by_hour.get(hour)
        if bucket is None:
            bucket = self._by_hour[hour] = []
            heapq.heappush(self._hours, hour)
        bucket += reviews
        if hour not in self._negative and any(r[_RATING] <= NEGATIVE_STARS for r in reviews):
            self._negative.add(hour)
            heapq.heappush(self._negative_hours, hour)

    def first_negative_hour(self, before: int) -> int | None:
        """The first hour (hours since hour 0) before hour ``before`` in which a negative review
        is due to appear, or None: the market must be regrouped after it."""
        if self._pending:
            self._file_by_hour()
        heap = self._negative_hours
        while heap and heap[0] not in self._negative:  # published since it was marked
            heapq.heappop(heap)
        return heap[0] if heap and heap[0] < before else None

    def publish(self, now: int) -> tuple[np.ndarray, np.ndarray]:
        """Publish every pending review due before ``now`` (seconds); return (offers, stars)."""
        if self._pending:
            self._file_by_hour()
        rows: list[tuple] = []
        hours, begun = self._hours, -(-now // 3600)
        while hours and hours[0] < begun:  # hours that begin before now
            hour = heapq.heappop(hours)
            rows += self._by_hour.pop(hour)
            self._negative.discard(hour)
        due = [r for r in rows if r[0] < now]
        if len(due) < len(rows):  # the rest of an hour that is only partly over
            self._file(now // 3600, [r for r in rows if r[0] >= now])
        if not due:
            return np.empty(0, int), np.empty(0, int)
        due.sort(key=_first)  # stable: reviews due in the same second keep the order drawn
        ts, order_id, offers, stars, late, pick, overpriced, reason, dsr = zip(*due, strict=True)
        first = len(self.ts)
        self.published_dsr += dsr
        self.ts += ts
        self.order_id += order_id
        self.offer += offers
        self.rating += stars
        self.tags += map(_tags, stars, late, overpriced, pick, reason)
        self.replied += [False] * len(offers)
        for i, o in enumerate(offers, start=first):
            self.recent[o].append(i)
        return np.array(offers), np.array(stars)

    def take_dsr(self) -> np.ndarray:
        """The DSR stars (reviews x description, service, logistics) published since the last take."""
        taken = np.array(self.published_dsr, dtype=np.int8).reshape(-1, 3)
        self.published_dsr = []
        return taken

    def reply(self, review_id: int) -> None:
        """Mark a published review as answered by the shop."""
        self.replied[review_id] = True

    def negative_on_page(self) -> tuple[np.ndarray, np.ndarray]:
        """Per own SKU: unanswered and answered negative reviews among the recent ones."""
        open_, answered = np.zeros(self.n_own), np.zeros(self.n_own)
        for offer, ids in enumerate(self.recent):
            for rid in ids:
                if self.rating[rid] <= NEGATIVE_STARS:
                    if self.replied[rid]:
                        answered[offer] += 1
                    else:
                        open_[offer] += 1
        return open_, answered


def _tags(stars: int, late: bool, overpriced: bool, pick: Sequence[float], reason: int = -1) -> str:
    """One or two tags that fit the stars, the return's reason first ('runs small' ...), and
    'slow delivery' when it was late."""
    named = _REASON_TAGS[reason] if reason >= 0 else ()
    pool = _TAG_POOLS[(2 if stars >= 4 else 1 if stars == 3 else 0), bool(named)]
    tag = named[int(pick[0] * len(named))] if named else pool[int(pick[0] * len(pool))]
    if stars <= 3 and overpriced:
        second = "overpriced"
    elif pick[1] < 0.4:
        second = pool[int(pick[1] / 0.4 * len(pool))]
    else:
        second = tag
    text = tag if second == tag else f"{tag}; {second}"
    return f"{text}; {_LATE_TAG}" if late else text


def _tag_pool(level: int, named: bool) -> tuple[str, ...]:
    """The tags a review draws from: negative (``level`` 0), mixed (1, three stars) or positive
    (2); without "true to size" and "good quality" beside a returned item's reason (``named``)."""
    pool = (_NEGATIVE_TAGS, _POSITIVE_TAGS[:3] + _NEGATIVE_TAGS[:3], _POSITIVE_TAGS)[level]
    return tuple(t for t in pool if t not in _POSITIVE_TAGS[:2]) if named else pool


_TAG_POOLS = {(level, named): _tag_pool(level, named) for level in range(3) for named in (False, True)}
