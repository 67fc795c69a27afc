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
    cap = capacity_grid(t0, rate)
    a = _to_capacity(arrive, t0, rate, cap)
    head = float(_to_capacity(np.array([max(free_at, t0)]), t0, rate, cap)[0])
    total = np.cumsum(work)
    before = total - work
    finish = total + np.maximum(head, np.maximum.accumulate(a - before))
    return _from_capacity(finish - work, t0, rate, cap), _from_capacity(finish, t0, rate, cap)


def _to_capacity(t: np.ndarray, t0: float, rate: np.ndarray, cap: np.ndarray) -> np.ndarray:
    h = np.clip(((t - t0) // _HOUR).astype(np.int64), 0, len(rate) - 1)
    return cap[h] + np.clip(t - t0 - h * _HOUR, 0.0, _HOUR) * rate[h]


def _from_capacity(v: np.ndarray, t0: float, rate: np.ndarray, cap: np.ndarray) -> np.ndarray:
    h = np.searchsorted(cap, v, side="right") - 1
    inside = (h >= 0) & (h < len(rate))
    hh = np.clip(h, 0, len(rate) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = t0 + hh * _HOUR + (v - cap[hh]) / rate[hh]
    return np.where(inside & (rate[hh] > 0), t, np.nan)


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
        self.counts = np.zeros(5)  # today: inquiries, answered in time, ordered, first replies, their seconds

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
        given its listing quality, units on hand and whether it shows a promotion."""
        c = self.cfg
        low = np.where(stock < c.low_stock_units, c.low_stock_factor, 1.0)
        p = np.stack([self._size, np.full(len(self._size), c.delivery_ask_rate), c.stock_ask_rate * low,
                      c.promotion_ask_rate * on_promotion], axis=1)
        page = np.exp(-c.detail_page_effect * (listing_quality - 0.5))[:, None]
        return np.clip(p * page, 0.0, 1.0)

    def handle_seconds(self, topic: np.ndarray) -> np.ndarray:
        """Slot-seconds an inquiry of each topic takes (less with a prepared answer)."""
        minutes = self._minutes * np.where(self.scripts, 1.0 - self.cfg.script_saving, 1.0)
        return minutes[topic] * 60.0

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
        u = np.empty((5, len(browsing)))
        paid = np.zeros(len(browsing), bool) if bought is None or bought_rng is None else bought[browsing]
        # five uniforms per session, session after session (so drawing several hours at once
        # draws what their hours would one at a time)
        u[:, ~paid] = rng.random((int((~paid).sum()), 5)).T
        u[:, paid] = bought_rng.random((int(paid.sum()), 5)).T if paid.any() else 0.0
        chose = d.cart[browsing] | d.submitted[browsing]
        p = chances[landing[browsing]]
        ask = 1.0 - np.prod(1.0 - p, axis=1)
        asked = u[0] < ask * np.where(chose, 1.0, c.browse_ask_share)
        pos = browsing[asked]
        p, u, chose = p[asked], u[:, asked], chose[asked]
        share = np.cumsum(p, axis=1) / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        topic = np.minimum((u[1][:, None] > share).sum(axis=1), len(SERVICE_TOPICS) - 1)
        arrive = d.ts[pos].astype(float)
        hour0 = start // 3600
        rate = self.slots(hour0 + np.arange(HORIZON_HOURS))
        work = self.handle_seconds(topic)
        begin, finish = fluid_queue(arrive, work, float(start), rate, self.free_at)
        if len(pos):
            last = finish[-1]
            self.free_at = float(last) if np.isfinite(last) else float(start + HORIZON_HOURS * _HOUR)
            hour = (arrive // _HOUR).astype(np.int64) % 24
            self.busy += np.bincount(hour, weights=work, minlength=24)
        first = begin - arrive + c.reply_seconds
        patience = -np.log1p(-u[2]) * c.patience_seconds
        answered = np.isfinite(first) & (first <= patience)
        would_pay = d.ordered[pos]
        lose = would_pay & ~answered & (u[3] < c.late_loss)
        win = ~would_pay & answered & (u[3] < np.where(chose, c.answer_lift, c.browse_lift))
        lost, won = pos[lose], pos[win]
        d.ordered[lost] = d.submitted[lost] = False
        d.ordered[won] = d.submitted[won] = True
        d.cart[won] |= ~chose[win]  # a browser convinced by the answer puts it in the cart
        complaint = ~answered & (u[4] < c.complaint_rate)
        self.complaints += int(complaint.sum())
        return Inquiries(pos, topic.astype(np.int8), first, answered, complaint)

    def note_outcomes(self, inq: Inquiries, order_id: np.ndarray) -> None:
        """Count the slice's inquiries and remember the orders whose question was answered too
        late (their buyers rate service lower); ``order_id`` per session of the slice (-1: none)."""
        late = order_id[inq.pos[~inq.answered]]
        self.late_orders.append(late[late >= 0])
        replied = np.isfinite(inq.first_response)
        self.counts += (len(inq.pos), inq.answered.sum(), (order_id[inq.pos] >= 0).sum(), replied.sum(),
                        inq.first_response[replied].sum())

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
        self.counts[:] = 0.0
        return late, complaints, figures

    def spare_slots(self, day: int) -> np.ndarray:
        """Chat slots left for after-sales work in each hour of ``day`` and the next two days:
        today's hours minus the chats they served; later hours at today's rate of use."""
        hours = day * 24 + np.arange(HORIZON_HOURS)
        slots = self.slots(hours)
        used = np.tile(self.busy / _HOUR, HORIZON_HOURS // 24)
        return np.maximum(slots - used, 0.0)
