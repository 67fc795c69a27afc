"""After-sales (售后): how the shop decides refund requests, and the disputes (纠纷) that follow.

Every refund request (from :mod:`shopsim.refunds`) is decided by the shop's refund policy:
below ``auto_approve_under`` yuan it is approved at once; otherwise an agent reviews it in the
time the chats leave over (:meth:`shopsim.service.ServiceDesk.spare_slots`), first come first
served, and the platform approves it anyway once ``auto_approve_hours`` pass unanswered. A
review approves, or refuses as the policy says (``buyer_reason``: size and change-of-mind
returns; ``all``). An approval shifts the refund later by the time it took.

A refused buyer may open a dispute (平台介入); so may one whose approval was slow. The platform
rules some days later, for the buyer most of the time (almost always when the shop caused the
refund; usually even for a no-reason return inside the 7 days). A buyer who wins gets the
refund after the ruling; a shop that wins keeps the money. Disputes weigh on the shop: each one
lost costs its listings search rank score for ``dispute_window_days``, and a dispute rate
(disputes / orders over that window) above the platform's limit marks the shop (a bigger
penalty while it lasts). Buyers rate the service of their refund too (service DSR).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from shopsim import _arrays as arrays
from shopsim.scenario import REFUSE_CHOICES, Service
from shopsim.service import fluid_queue

#: How a dispute ended: the platform ruled for the buyer (the shop lost) or for the shop.
OUTCOMES = ("buyer_won", "shop_won")
#: Refund reasons (shopsim.refunds.REASONS codes) that are the buyer's: size, changed mind.
BUYER_REASONS = (0, 3)
_HOUR, _DAY = 3600.0, 86_400.0


class AfterSales:
    """The refund policy, the review queue, open disputes and the shop's dispute record.

    Parameters
    ----------
    settings:
        The scenario's ``service`` section (its policy is the starting one).
    rating_share:
        Share of buyers who rate the service of their refund (the reviews' share).
    orders_per_day:
        The shop's orders per day before the start (its history: orders and no disputes).
    """

    def __init__(self, settings: Service, rating_share: float, orders_per_day: float) -> None:
        self.cfg = settings
        self.rating_share = rating_share
        self.auto_approve_under = settings.auto_approve_under
        self.refuse = REFUSE_CHOICES.index(settings.refuse)
        self.free_at = 0.0  # second the review queue clears its backlog
        self._disputes: list[dict[str, np.ndarray]] = []  # opened, not yet recorded as closed
        window = settings.dispute_window_days
        self.opened = deque([0] * window, maxlen=window)
        self.lost = deque([0] * window, maxlen=window)
        self.orders = deque([orders_per_day] * window, maxlen=window)
        self.marked = False
        self._ratings: list[np.ndarray] = []
        self._approval_hours: list[np.ndarray] = []
        self._opened_today = 0

    # -- deciding requests ---------------------------------------------------------------
    def decide(self, rng: np.random.Generator, req: dict[str, np.ndarray], t0: float,
               spare: np.ndarray) -> dict[str, np.ndarray]:
        """Decide refund requests (in request order) and return those that will be paid, with
        ``completed`` moved to when the money goes back.

        ``t0`` is the first second of the day whose close decides them (hour-aligned) and
        ``spare`` the agents' chat slots left over in each hour from ``t0``.
        """
        c = self.cfg
        n = len(req["request"])
        u = rng.random((5, n))
        asked = req["requested"].astype(float)
        auto = req["amount"] < self.auto_approve_under
        reviewed = np.flatnonzero(~auto)
        decided_at = asked.copy()
        if len(reviewed):
            work = np.full(len(reviewed), c.review_minutes * 60.0)
            _, finish = fluid_queue(asked[reviewed], work, t0, spare, self.free_at)
            last = finish[-1]
            self.free_at = float(last) if np.isfinite(last) else t0 + len(spare) * _HOUR
            decided_at[reviewed] = finish
        limit = asked + c.auto_approve_hours * _HOUR
        timed_out = ~auto & ~(decided_at <= limit)  # also NaN: never reviewed in time
        decided_at = np.where(timed_out, limit, decided_at)
        buyer_reason = arrays.among(req["reason"], BUYER_REASONS)
        refused = ~auto & ~timed_out & ((self.refuse == 2) | ((self.refuse == 1) & buyer_reason))
        delay = decided_at - asked
        slow = ~refused & (delay > c.slow_refund_hours * _HOUR)
        slow_dispute = slow & (u[0] < c.slow_dispute_rate)
        escalated = refused & (u[0] < c.escalate_rate)
        dispute = slow_dispute | escalated
        opened = np.where(escalated, decided_at + u[1] * 12 * _HOUR, asked + c.slow_refund_hours * _HOUR)
        closed = opened + (0.5 + rng.exponential(c.ruling_days, n)) * _DAY
        win_rate = np.where(buyer_reason, c.no_reason_win_rate, c.fault_win_rate)
        buyer_won = slow_dispute | (escalated & (u[2] < win_rate))
        transit = req["completed"] - asked
        completed = np.where(escalated, closed + transit,
                             asked + np.minimum(delay, np.where(slow_dispute, closed - asked, np.inf)) + transit)
        self._keep_disputes(req, dispute, opened, closed, buyer_won)
        self._rate(u[3], u[4], slow, refused, dispute)
        self._approval_hours.append(delay[~refused] / _HOUR)
        paid = ~refused | buyer_won
        out = {k: v[paid] for k, v in req.items()}
        out["completed"] = np.ceil(completed[paid]).astype(np.int64)
        return out

    def _keep_disputes(self, req: dict[str, np.ndarray], dispute: np.ndarray, opened: np.ndarray,
                       closed: np.ndarray, buyer_won: np.ndarray) -> None:
        if not dispute.any():
            return
        self._opened_today += int(dispute.sum())
        self._disputes.append({
            "request": req["request"][dispute], "order_id": req["order_id"][dispute],
            "sku": req["offer"][dispute], "amount": req["amount"][dispute], "reason": req["reason"][dispute],
            "opened": opened[dispute].astype(np.int64), "closed": closed[dispute].astype(np.int64),
            "outcome": np.where(buyer_won[dispute], 0, 1).astype(np.int8),
        })

    def _rate(self, u_who: np.ndarray, u_stars: np.ndarray, slow: np.ndarray, refused: np.ndarray,
              dispute: np.ndarray) -> None:
        """Service stars of the buyers who rate their refund."""
        c = self.cfg
        mean = (c.service_rating - c.slow_refund_effect * slow - c.refused_effect * refused
                - c.dispute_effect * dispute)
        who = u_who < self.rating_share
        stars = np.clip(np.rint(mean + (u_stars - 0.5)), 1, 5)
        self._ratings.append(stars[who])

    # -- the day's close ------------------------------------------------------------------
    def close_day(self, until: int, orders_today: int) -> tuple[dict[str, np.ndarray] | None, np.ndarray, float]:
        """Disputes closed before second ``until`` (to record), today's refund service ratings,
        and today's average approval time, hours (NaN: none approved). Moves the dispute window."""
        closed = None
        if self._disputes:
            pool = {k: np.concatenate([p[k] for p in self._disputes]) for k in self._disputes[0]}
            due = pool["closed"] < until
            self._disputes = [{k: v[~due] for k, v in pool.items()}] if (~due).any() else []
            if due.any():
                order = np.argsort(pool["closed"][due], kind="stable")
                closed = {k: v[due][order] for k, v in pool.items()}
        self.opened.append(self._opened_today)
        self.lost.append(0 if closed is None else int((closed["outcome"] == 0).sum()))
        self.orders.append(orders_today)
        ratings = np.concatenate(self._ratings) if self._ratings else np.empty(0)
        hours = np.concatenate(self._approval_hours) if self._approval_hours else np.empty(0)
        self._ratings, self._approval_hours, self._opened_today = [], [], 0
        return closed, ratings, float(hours.mean()) if len(hours) else float("nan")

    def dispute_rate(self) -> float:
        """Disputes opened / orders paid over the window (0 with no orders)."""
        orders = sum(self.orders)
        return sum(self.opened) / orders if orders else 0.0

    def update_mark(self) -> bool | None:
        """Mark the shop when its dispute rate is above the limit, lift the mark when it is not;
        return the new state when it changed (else None)."""
        above = self.dispute_rate() > self.cfg.dispute_rate_limit
        if above == self.marked:
            return None
        self.marked = above
        return above

    def search_penalty(self) -> float:
        """Rank score every own listing loses now: lost disputes in the window, and the mark."""
        return self.cfg.lost_dispute_penalty * sum(self.lost) + (self.cfg.mark_penalty if self.marked else 0.0)

    def open_disputes(self, now: int) -> int:
        """Disputes opened before second ``now`` and not yet ruled on."""
        return int(sum(((p["opened"] < now) & (p["closed"] >= now)).sum() for p in self._disputes))
