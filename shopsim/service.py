"""Customer service (客服): pre-purchase inquiries (询单), the agents' rota and the chat queue.

A shopper who browses a listing may ask a question before paying. The chance follows causes an
operator can name: the topic (size and fit, by category; delivery; stock, more when few units
are left; a promotion's rules, only while one runs), a detail page good enough to answer
questions before they are asked, and whether the shopper has already chosen the product.

Inquiries queue for the agents on duty (the rota, whole agents per hour of the day, each
keeping a few chats open). The queue is first come, first served on the pool's capacity, which
changes by the hour (no agent at night: the night's questions wait for the morning shift), so
the first-response time (首响时间) comes from staffing against the hour's queue. A shopper waits
for the first reply for a patience of their own: answered in time, a doubt is settled and the
inquiry may win an order the shopper would not otherwise have paid; answered too late or never,
a shopper who would have paid may leave, and some complain. A prepared answer (快捷短语) for a
topic shortens its handling time, so the same agents clear the queue faster.

Everything here works on arrays: one call per hour slice, vectorised over its sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from shopsim.scenario import SERVICE_TOPICS, Service

_HOUR = 3600.0
HORIZON_HOURS = 48  # a question unanswered this long after its hour counts as never answered
SIZE, DELIVERY, STOCK, PROMOTION = range(len(SERVICE_TOPICS))


def capacity_grid(t0: float, rate: np.ndarray) -> np.ndarray:
    """Cumulative capacity (slot-seconds) at each hour boundary from second ``t0``, for the pool's
    ``rate`` (chat slots on duty) in each of the following hours."""
    return np.concatenate([[0.0], np.cumsum(rate * _HOUR)])


def fluid_queue(arrive: np.ndarray, work: np.ndarray, t0: float, rate: np.ndarray,
                free_at: float) -> tuple[np.ndarray, np.ndarray]:
    """First come, first served on a pool whose capacity changes by the hour.

    ``arrive`` (seconds, sorted) are the jobs' arrivals, ``work`` the slot-seconds each needs;
    ``rate[h]`` is the pool's slots in hour ``h`` after ``t0`` (hour-aligned); ``free_at`` is the
    second the pool clears the work already queued. The pool serves one job at a time at its whole
    capacity (a fluid approximation of several agents with several chats each), so a job starts
    at once when the pool is free and waits behind the backlog otherwise; in hours with nobody on
    duty the clock of capacity stands still. Returns (start, finish) seconds per job, NaN when
    that falls beyond the grid's hours.
    """
    return _queue(arrive, work, t0, _grid(rate), free_at)


class _Grid(NamedTuple):
    """A pool's capacity by the hour: ``rate`` (slots in each hour), ``cap``
    (:func:`capacity_grid`) and, to turn capacity back into seconds, tables indexed by
    ``k = searchsorted(cap, v, side="right")`` for a capacity value ``v`` (in hour ``k - 1``):
    the hour's first second after ``t0`` (``offset``), its capacity then (``base``), its slots
    (``per``, 1 where the hour is off the grid or unstaffed) and whether it is neither (``ok``)."""

    rate: np.ndarray
    cap: np.ndarray
    offset: np.ndarray
    base: np.ndarray
    per: np.ndarray
    ok: np.ndarray


def _grid(rate: np.ndarray) -> _Grid:
    """The :class:`_Grid` of a pool with ``rate`` slots in each hour."""
    cap = capacity_grid(0.0, rate)
    h = np.arange(-1, len(cap))  # the hour of each k, -1 and len(rate) off the grid
    hh = np.minimum(np.maximum(h, 0), len(rate) - 1)
    ok = (h >= 0) & (h < len(rate)) & (rate[hh] > 0)
    return _Grid(rate, cap, hh * _HOUR, cap[hh], np.where(ok, rate[hh], 1.0), ok)


def _queue(arrive: np.ndarray, work: np.ndarray, t0: float, grid: _Grid,
           free_at: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fluid_queue` on the capacity ``grid`` of the pool (:func:`_grid`)."""
    a = _to_capacity(arrive, t0, grid.rate, grid.cap)
    head = float(_to_capacity(np.array([max(free_at, t0)]), t0, grid.rate, grid.cap)[0])
    total = np.cumsum(work)
    before = total - work
    finish = total + np.maximum(head, np.maximum.accumulate(a - before))
    # start and finish converted back to seconds in one call (elementwise: the same numbers)
    both = _from_capacity(np.concatenate([finish - work, finish]), t0, grid)
    return both[: len(finish)], both[len(finish):]


def _to_capacity(t: np.ndarray, t0: float, rate: np.ndarray, cap: np.ndarray) -> np.ndarray:
    # np.minimum/np.maximum rather than np.clip: the same numbers, without np.clip's overhead
    x = t - t0
    h = np.minimum(np.maximum((x // _HOUR).astype(np.int64), 0), len(rate) - 1)
    return cap[h] + np.minimum(np.maximum(x - h * _HOUR, 0.0), _HOUR) * rate[h]


def _from_capacity(v: np.ndarray, t0: float, grid: _Grid) -> np.ndarray:
    """The second each capacity value ``v`` is reached: ``t0`` + its hour's offset + the rest of
    ``v`` at that hour's rate (NaN off the grid, or in an hour nobody is on duty)."""
    k = np.searchsorted(grid.cap, v, side="right")
    t = t0 + grid.offset[k] + (v - grid.base[k]) / grid.per[k]
    return np.where(grid.ok[k], t, np.nan)


@dataclass
class Inquiries:
    """One slice's inquiries: positions of the asking sessions in the slice's draw, and per
    inquiry its topic code, first response (seconds, NaN: never), whether the answer came before
    the shopper gave up, and whether they complained."""

    pos: np.ndarray
    topic: np.ndarray
    first_response: np.ndarray
    answered: np.ndarray
    complaint: np.ndarray


class _Uniforms:
    """Five uniforms per browsing session, session after session (so drawing several hours at
    once draws what their hours would one at a time): from ``rng``, and from ``bought_rng`` for
    the sessions of bought channels (``paid``). The two streams' draws stay apart: ``first`` is
    the first uniform of every session in session order, :meth:`rows` the five of a few."""

    def __init__(self, rng: np.random.Generator, bought_rng: np.random.Generator | None,
                 paid: np.ndarray | None, n: int) -> None:
        self.paid = paid if paid is not None and paid.any() else None
        if self.paid is None:
            self.own = rng.random((n, 5))
            self.first = self.own[:, 0]
            return
        n_paid = int(np.count_nonzero(paid))
        self.own = rng.random((n - n_paid, 5))
        self.bought = bought_rng.random((n_paid, 5))
        self.first = np.empty(n)
        self.first[~paid] = self.own[:, 0]
        self.first[paid] = self.bought[:, 0]

    def rows(self, pick: np.ndarray) -> np.ndarray:
        """The five uniforms (rows) of the sessions where ``pick`` (a mask over the sessions)."""
        if self.paid is None:
            return self.own[pick]
        paid = self.paid[pick]
        out = np.empty((len(paid), 5))
        out[~paid] = self.own[pick[~self.paid]]
        out[paid] = self.bought[pick[self.paid]]
        return out


class ServiceDesk:
    """The agents on duty, prepared answers and the chat queue.

    Parameters
    ----------
    settings:
        The scenario's ``service`` section.
    categories, category:
        The market's category names and each own listing's category (an index of them).
    """

    def __init__(self, settings: Service, categories: list[str], category: np.ndarray) -> None:
        self.cfg = settings
        by_category = np.array([settings.size_ask_by_category.get(k, settings.size_ask_rate) for k in categories])
        self._size = by_category[category]  # chance a chooser asks about size, per own listing
        self._minutes = np.array([settings.handle_minutes[t] for t in SERVICE_TOPICS])
        self.rota = np.array(settings.rota, dtype=np.int64)
        self.scripts = np.zeros(len(SERVICE_TOPICS), dtype=bool)
        self.free_at = 0.0  # second the chat pool clears its backlog
        self.busy = np.zeros(24)  # slot-seconds of chats started in each hour of today
        self.late_orders: list[np.ndarray] = []  # today's orders whose question was answered too late
        self.complaints = 0  # today's service complaints
        self.hours_today = 0  # agent-hours on duty so far today
        self.counts = [0.0] * 5  # today: inquiries, answered in time, ordered, first replies, their seconds
        # kept between slices while their inputs stay the same (see ask_chances, handle_seconds,
        # _per_listing and _capacity)
        self._chances_key: tuple[bytes, ...] = ()
        self._chances = np.empty((0, len(SERVICE_TOPICS)))
        self._seconds_key = b""
        self._seconds = np.empty(0)
        self._listing_of: np.ndarray | None = None
        self._listing = (np.empty(0), np.empty((0, len(SERVICE_TOPICS))))
        self._grid_rota = b""  # the rota (bytes) of _grids
        self._grids: dict[int, _Grid] = {}  # by hour of the day

    # -- levers --------------------------------------------------------------------------
    def slots(self, hours: np.ndarray) -> np.ndarray:
        """Chat slots on duty in each of ``hours`` (hours since hour 0: the rota repeats daily)."""
        return (self.rota[np.asarray(hours) % 24] * self.cfg.chats_per_agent).astype(float)

    def on_duty(self, hour: int, hours: int) -> None:
        """Count the agent-hours on the rota in ``hours`` whole hours from ``hour`` (hours since
        hour 0) as worked today."""
        self.hours_today += int(self.rota[(hour + np.arange(hours)) % 24].sum())

    def agent_hours(self) -> int:
        """Agent-hours on the rota in one day."""
        return int(self.rota.sum())

    # -- who asks ------------------------------------------------------------------------
    def ask_chances(self, listing_quality: np.ndarray, stock: np.ndarray, on_promotion: np.ndarray) -> np.ndarray:
        """Chance a shopper who chose each own listing asks about each topic (listings x topics),
        given its listing quality, units on hand and whether it shows a promotion. The array is
        read-only: it is kept, and handed out again, while these inputs stay the same."""
        c = self.cfg
        below = np.asarray(stock) < c.low_stock_units
        key = (np.asarray(listing_quality).tobytes(), below.tobytes(), np.asarray(on_promotion).tobytes())
        if key != self._chances_key:
            low = np.where(below, c.low_stock_factor, 1.0)
            p = np.stack([self._size, np.full(len(self._size), c.delivery_ask_rate), c.stock_ask_rate * low,
                          c.promotion_ask_rate * on_promotion], axis=1)
            page = np.exp(-c.detail_page_effect * (listing_quality - 0.5))[:, None]
            chances = np.clip(p * page, 0.0, 1.0)
            chances.flags.writeable = False
            self._chances_key, self._chances = key, chances
        return self._chances

    def handle_seconds(self, topic: np.ndarray) -> np.ndarray:
        """Slot-seconds an inquiry of each topic takes (less with a prepared answer)."""
        scripts = self.scripts.tobytes()
        if scripts != self._seconds_key:  # per topic, kept while the prepared answers stay the same
            minutes = self._minutes * np.where(self.scripts, 1.0 - self.cfg.script_saving, 1.0)
            self._seconds_key, self._seconds = scripts, minutes * 60.0
        return self._seconds[topic]

    def _per_listing(self, chances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per listing (row of ``chances``): the chance to ask at all and the topics' cumulative
        shares; kept with the read-only array :meth:`ask_chances` hands out."""
        if chances is self._listing_of:
            return self._listing
        ask = 1.0 - np.prod(1.0 - chances, axis=1)
        share = np.cumsum(chances, axis=1) / np.maximum(chances.sum(axis=1, keepdims=True), 1e-12)
        if not chances.flags.writeable:
            self._listing_of, self._listing = chances, (ask, share)
        return ask, share

    # -- one slice -----------------------------------------------------------------------
    def answer(self, rng: np.random.Generator, d: object, landing: np.ndarray, chances: np.ndarray,
               start: int, bought: np.ndarray | None = None, bought_rng: np.random.Generator | None = None
               ) -> Inquiries:
        """Draw the slice's inquiries, queue them for the agents and settle their outcomes.

        ``d`` is the slice's :class:`~shopsim.shoppers.SessionDraw` (its ``cart``, ``submitted``
        and ``ordered`` flags change where an answer wins or loses the order); ``landing`` each
        session's own listing; ``chances`` from :meth:`ask_chances`; ``start`` the slice's
        first second; ``bought`` marks the sessions of bought channels, whose draws come from
        ``bought_rng`` (so buying traffic leaves the organic shoppers' draws where they were).
        """
        c = self.cfg
        browsing = np.flatnonzero(~d.bounced)
        paid = None if bought is None or bought_rng is None else bought[browsing]
        u = _Uniforms(rng, bought_rng, paid, len(browsing))
        # the chance to ask and the topics' cumulative shares are per listing: computed on the
        # listings, then looked up per session (row by row, the same numbers as per session)
        ask, share = self._per_listing(chances)
        chose = (d.cart | d.submitted)[browsing]
        asked = u.first < ask[landing[browsing]] * np.where(chose, 1.0, c.browse_ask_share)
        pos = browsing[asked]
        u, chose = u.rows(asked), chose[asked]
        topic = np.minimum((u[:, 1][:, None] > share[landing[pos]]).sum(axis=1), len(SERVICE_TOPICS) - 1)
        arrive = d.ts[pos].astype(float)
        work = self.handle_seconds(topic)
        begin, finish = _queue(arrive, work, float(start), self._capacity(start // 3600), self.free_at)
        if len(pos):
            last = finish[-1]
            self.free_at = float(last) if np.isfinite(last) else float(start + HORIZON_HOURS * _HOUR)
            hour = (arrive // _HOUR).astype(np.int64) % 24
            self.busy += np.bincount(hour, weights=work, minlength=24)
        first = begin - arrive + c.reply_seconds
        patience = -np.log1p(-u[:, 2]) * c.patience_seconds
        answered = np.isfinite(first) & (first <= patience)
        would_pay = d.ordered[pos]
        lose = would_pay & ~answered & (u[:, 3] < c.late_loss)
        win = ~would_pay & answered & (u[:, 3] < np.where(chose, c.answer_lift, c.browse_lift))
        lost, won = pos[lose], pos[win]
        d.ordered[lost] = d.submitted[lost] = False
        d.ordered[won] = d.submitted[won] = True
        d.cart[won] |= ~chose[win]  # a browser convinced by the answer puts it in the cart
        complaint = ~answered & (u[:, 4] < c.complaint_rate)
        self.complaints += int(np.count_nonzero(complaint))
        return Inquiries(pos, topic.astype(np.int8), first, answered, complaint)

    def _capacity(self, hour0: int) -> _Grid:
        """The pool's capacity (:func:`_grid`) over the :data:`HORIZON_HOURS` hours from hour
        ``hour0``; kept per hour of the day while the rota stays the same."""
        rota = self.rota.tobytes()
        if rota != self._grid_rota:
            self._grid_rota, self._grids = rota, {}
        grid = self._grids.get(hour0 % 24)
        if grid is None:
            grid = self._grids[hour0 % 24] = _grid(self.slots(hour0 + np.arange(HORIZON_HOURS)))
        return grid

    def note_outcomes(self, inq: Inquiries, order_id: np.ndarray) -> None:
        """Count the slice's inquiries and remember the orders whose question was answered too
        late (their buyers rate service lower); ``order_id`` per session of the slice (-1: none)."""
        late = order_id[inq.pos[~inq.answered]]
        self.late_orders.append(late[late >= 0])
        replied = np.isfinite(inq.first_response)
        today = (len(inq.pos), np.count_nonzero(inq.answered), np.count_nonzero(order_id[inq.pos] >= 0),
                 np.count_nonzero(replied), float(inq.first_response[replied].sum()))
        self.counts = [total + n for total, n in zip(self.counts, today, strict=True)]

    def close_day(self) -> tuple[np.ndarray, int, dict[str, float | int | None]]:
        """Today's late-answered orders, complaints and figures (inquiries, inquiry_conversion_rate,
        answered_share, first_response_s: None when undefined; complaints); start a new day."""
        late = np.concatenate(self.late_orders) if self.late_orders else np.empty(0, np.int64)
        asked, answered, ordered, replies, seconds = self.counts
        figures = {"inquiries": int(asked), "inquiry_conversion_rate": float(ordered / asked) if asked else None,
                   "answered_share": float(answered / asked) if asked else None,
                   "first_response_s": round(float(seconds / replies), 1) if replies else None,
                   "complaints": self.complaints}
        complaints = self.complaints
        self.late_orders, self.complaints, self.hours_today = [], 0, 0
        self.busy[:] = 0.0
        self.counts = [0.0] * 5
        return late, complaints, figures

    def spare_slots(self, day: int) -> np.ndarray:
        """Chat slots left for after-sales work in each hour of ``day`` and the next two days:
        today's hours minus the chats they served; later hours at today's rate of use."""
        hours = day * 24 + np.arange(HORIZON_HOURS)
        slots = self.slots(hours)
        used = np.tile(self.busy / _HOUR, HORIZON_HOURS // 24)
        return np.maximum(slots - used, 0.0)
