"""The customer base: ids, buyers, followers without duplicates, repeat visits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsim.customers import CrmDesk, CustomerBase, Growable
from shopsim.scenario import Crm, Customers, Traffic


def base(past_buyers=100, followers=50, market_size=10_000, **traffic) -> CustomerBase:
    return CustomerBase(Customers(past_buyers=past_buyers, followers=followers, market_size=market_size),
                        Traffic(**traffic), np.random.default_rng(0))


def test_the_starting_base():
    cb = base(past_buyers=100, followers=150)
    assert cb.size == 150
    assert cb.followers.size == 150
    assert cb.is_buyer(np.arange(100)).all()
    assert not cb.is_buyer(np.arange(100, 150)).any()
    assert (cb.last_order_days(np.arange(100)) < 0).all() and (cb.last_order_days(np.arange(100)) >= -365).all()
    assert (cb.order_counts(np.arange(100)) >= 1).all() and (cb.order_counts(np.arange(100, 150)) == 0).all()


def test_new_ids_are_consecutive():
    cb = base()
    assert cb.new_ids(3).tolist() == [100, 101, 102]
    assert cb.new_ids(2).tolist() == [103, 104]
    assert cb.size == 105
    assert not cb.is_buyer(np.array([103])).any()


def test_follow_counts_only_new_followers_and_never_duplicates():
    cb = base(followers=10)
    assert cb.follow(np.array([3, 3, 4])) == 0, "already following"
    assert cb.follow(np.array([20, 20, 21, 5])) == 2
    assert cb.follow(np.array([21])) == 0
    followers = cb.followers.view
    assert len(followers) == len(np.unique(followers)) == 12
    assert cb.is_follower.view[[20, 21]].all()


def test_record_orders_counts_each_order():
    cb = base(past_buyers=0, followers=0)
    ids = cb.new_ids(3)
    cb.record_orders(np.array([ids[0], ids[0], ids[2]]), day=4)
    assert cb.order_counts(ids).tolist() == [2, 0, 1]
    assert cb.is_buyer(ids).tolist() == [True, False, True]
    assert cb.last_order_days(ids).tolist()[0::2] == [4, 4]


def test_a_first_time_buyer_counts_as_a_buyer_from_the_next_part_of_the_day():
    cb = base(past_buyers=5, followers=0)
    ids = cb.new_ids(2)
    cb.record_orders(np.array([ids[0], 2]), day=0)
    assert cb.was_buyer(np.array([ids[0], ids[1], 2])).tolist() == [False, False, True], "2 bought before"
    cb.start_part()
    assert cb.was_buyer(np.array([ids[0], ids[1], 2])).tolist() == [True, False, True]


def test_a_buyer_who_orders_twice_in_a_day_is_logged_once():
    cb = base(past_buyers=0, followers=0, repeat_visit_rate=1.0, repeat_decay_days=1e6)
    ids = cb.new_ids(2)
    cb.record_orders(ids[:1], day=0)
    cb.record_orders(ids, day=0)  # later the same day: the first buyer's second order
    cb.log_buyers(np.concatenate([ids[:1], ids]), day=0)
    assert sorted(cb.returning_today(1, np.random.default_rng(5)).tolist()) == ids.tolist()


def test_searchers_are_known_in_proportion_to_the_base():
    cb = base(past_buyers=1000, followers=0, market_size=2000)
    ids, new = cb.identify(np.zeros(4000, int), np.zeros(4000, int), np.random.default_rng(1).random((4000, 2)))
    assert 0.3 < (~new).mean() < 0.6, "about base / market of the searchers are already known"
    assert (ids[~new] < 1000).all() and (ids[new] == -1).all(), "the known are in the base; the caller numbers the new"


def test_the_base_size_is_that_of_the_start_of_the_part_of_the_day():
    cb = base(past_buyers=1000, followers=0, market_size=2000)
    u = np.random.default_rng(3).random((500, 2))
    before = cb.identify(np.zeros(500, int), np.zeros(500, int), u)
    cb.new_ids(600)  # new customers later in the part do not change who the same uniforms pick
    pd.testing.assert_series_equal(pd.Series(cb.identify(np.zeros(500, int), np.zeros(500, int), u)[0]),
                                   pd.Series(before[0]))
    cb.start_part()
    assert (cb.identify(np.zeros(500, int), np.zeros(500, int), u)[1]).mean() < before[1].mean()


def test_follower_visitors_are_followers():
    cb = base(followers=30)
    ids, new = cb.identify(np.ones(200, int), np.zeros(200, int), np.random.default_rng(2).random((200, 2)))
    assert not new.any() and cb.is_follower.view[ids].all()
    lonely = base(past_buyers=0, followers=0)
    assert lonely.identify(np.ones(3, int), np.zeros(3, int), np.random.default_rng(2).random((3, 2)))[1].all()


def test_an_audience_visitor_is_a_member_of_it():
    cb = base(past_buyers=50, followers=0)
    cb.refresh_audiences(0, 30)  # past_buyers (code 2): the 50 who bought
    ids, new = cb.identify(np.full(100, 2), np.full(100, 2), np.random.default_rng(4).random((100, 2)))
    assert not new.any() and (ids < 50).all()


def test_returning_buyers_follow_the_hazard():
    cb = base(past_buyers=0, followers=0, repeat_visit_rate=1.0, repeat_decay_days=1e6)
    ids = cb.new_ids(5)
    for day, buyers in ((0, ids[:3]), (2, ids[:1])):  # a second order: the customer comes back once, not twice
        cb.record_orders(buyers, day=day)
        cb.log_buyers(buyers, day=day)
    back = cb.returning_today(3, np.random.default_rng(3))
    assert sorted(back.tolist()) == ids[:3].tolist()
    never = base(past_buyers=500, followers=0, repeat_visit_rate=0.0)
    assert len(never.returning_today(0, np.random.default_rng(3))) == 0


def test_the_return_chance_decays_with_time():
    cb = base(past_buyers=0, followers=0, repeat_visit_rate=0.5, repeat_decay_days=5)
    ids = cb.new_ids(4000)
    for day, buyers in ((0, ids[:2000]), (20, ids[2000:])):
        cb.record_orders(buyers, day=day)
        cb.log_buyers(buyers, day=day)
    back = cb.returning_today(21, np.random.default_rng(4))
    recent, old = (back >= ids[2000]).sum(), (back < ids[2000]).sum()
    assert recent == pytest.approx(2000 * 0.5 * np.exp(-1 / 5), rel=0.1)
    assert old < recent / 10


def test_growable_grows_past_its_capacity():
    g = Growable("int64", capacity=2)
    g.extend(np.arange(40))
    g.grow(3, fill=7)
    assert g.size == 43
    assert g.view.tolist() == list(range(40)) + [7, 7, 7]


class PlainBase:
    """The customer base kept the plain way, as a check: every field by customer id, every audience
    and every repeat visit worked out from scratch over the whole base."""

    def __init__(self, cb: CustomerBase) -> None:
        everyone = np.arange(cb.size)
        self.orders = cb.order_counts(everyone).astype(np.int64)
        self.last_order = cb.last_order_days(everyone).astype(np.int64)
        self.last_visit = np.full(cb.size, -10**6)
        self.category = np.full(cb.size, -1)
        self.stars = np.full(cb.size, 4.5)
        self.refunded = np.zeros(cb.size, bool)
        self.log = [(int(c), int(d)) for c, d in zip(cb.buyer.view[cb.log_slot.view], cb.log_day.view, strict=True)]
        self.s, self.rate, self.decay, self.window = cb.settings, cb.repeat_rate, cb.repeat_decay, cb.window
        self.pools: list[np.ndarray] = [np.empty(0, np.int64)] * 4

    def new_ids(self, n: int) -> None:
        for name, fill in (("orders", 0), ("last_order", -10**6), ("last_visit", -10**6), ("category", -1),
                           ("stars", 4.5), ("refunded", False)):
            setattr(self, name, np.concatenate([getattr(self, name), np.full(n, fill, getattr(self, name).dtype)]))

    def refresh(self, day: int, visitor_days: int, followers: np.ndarray) -> list[int]:
        buyers = self.orders > 0
        visitors = (self.last_visit >= day - visitor_days) & ~buyers
        self.pools = [np.empty(0, np.int64), np.flatnonzero(visitors), np.flatnonzero(buyers), followers.copy()]
        return [0, int(visitors.sum()), int(buyers.sum()), len(followers)]

    def returning(self, day: int, rng: np.random.Generator, busy: float, category_factor: np.ndarray) -> np.ndarray:
        log = [(c, d) for c, d in self.log if d >= day - self.window]
        who = np.array([c for c, _ in log], dtype=np.int64)
        when = np.array([d for _, d in log], dtype=np.int64)
        factor = np.append(category_factor, 1.0)[self.category[who]]
        factor = factor * np.exp(self.s.satisfaction_effect * (self.stars[who] - 4.5).astype(np.float32))
        factor = np.where(self.refunded[who], factor * self.s.refund_return_factor, factor)
        hazard = np.exp(-(day - when) / self.decay) * (busy * self.rate) * factor
        back = (self.last_order[who] == when) & (rng.random(len(who)) < hazard)
        return who[back]


@given(seed=st.integers(0, 2**32 - 1), visitor_days=st.integers(1, 6), decay=st.sampled_from([1.0, 3.0, 40.0]))
@settings(max_examples=60)
def test_the_base_agrees_with_a_plain_recount_of_everyone(seed, visitor_days, decay):
    """Buyer slots, the past-visitors count kept as visits come in and audiences built only when
    asked for give what a recount of the whole base gives: sizes, audiences as of the morning
    (however many visited or bought since), repeat visitors (same uniforms), CRM segments."""
    rng = np.random.default_rng(seed)
    settings = Customers(past_buyers=int(rng.integers(0, 30)), followers=int(rng.integers(0, 30)), market_size=1000,
                         repurchase_by_category={"tees": 1.5})
    cb = CustomerBase(settings, Traffic(repeat_visit_rate=0.3, repeat_decay_days=decay), np.random.default_rng(seed))
    cb.set_categories(["tees", "shirts"])
    plain = PlainBase(cb)
    crm = CrmDesk(Crm(past_buyer_days=3), cb)
    for day in range(int(rng.integers(1, 9))):
        sizes = cb.refresh_audiences(day, visitor_days)
        assert sizes.tolist() == plain.refresh(day, visitor_days, cb.followers.view)
        busy = float(rng.uniform(0.5, 2))
        draw = int(rng.integers(2**32))
        back = cb.returning_today(day, np.random.default_rng(draw), busy)
        assert back.tolist() == plain.returning(day, np.random.default_rng(draw), busy, cb.category_factor).tolist()
        bought = []
        for _ in range(int(rng.integers(0, 4))):  # parts of the day
            n = int(rng.integers(0, 6))
            cb.new_ids(n)
            plain.new_ids(n)
            visits = rng.integers(0, cb.size, size=int(rng.integers(0, 12))) if cb.size else np.empty(0, np.int64)
            cb.note_visits(visits, day)
            plain.last_visit[visits] = day
            buyers = visits[rng.random(len(visits)) < 0.4]
            cb.record_orders(buyers, day)
            np.add.at(plain.orders, buyers, 1)
            plain.last_order[buyers] = day
            bought.append(buyers)
            for code in rng.permutation(4)[: int(rng.integers(0, 4))]:
                assert cb.audience(int(code)).tolist() == plain.pools[code].tolist(), f"audience {code} on day {day}"
            cb.start_part()
        since = day - plain.last_order
        for name, chosen in (("past_buyers", since <= 3), ("lapsed_buyers", (since > 3) & (since <= 365))):
            assert crm.segment(name, day).tolist() == np.flatnonzero((plain.orders > 0) & chosen).tolist()
        buyers = np.concatenate([np.empty(0, np.int64), *bought])
        cb.log_buyers(buyers, day)
        plain.log += [(int(c), day) for c in np.unique(buyers)]
        category, stars = rng.integers(0, 2, size=len(buyers)), rng.integers(1, 6, size=len(buyers)).astype(float)
        cb.remember_orders(buyers, category, stars)
        plain.category[buyers], plain.stars[buyers], plain.refunded[buyers] = category, stars, False
        everyone_bought = np.flatnonzero(plain.orders > 0)
        refunded = everyone_bought[rng.random(len(everyone_bought)) < 0.2]
        cb.mark_refunded(refunded)
        plain.refunded[refunded] = True
        cb.follow(buyers[: len(buyers) // 2])
        assert cb.order_counts(np.arange(cb.size)).tolist() == plain.orders.tolist()
