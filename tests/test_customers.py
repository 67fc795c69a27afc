"""The customer base: ids, buyers, followers without duplicates, repeat visits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopsim.customers import CustomerBase, Growable
from shopsim.scenario import Customers, Traffic


def base(past_buyers=100, followers=50, market_size=10_000, **traffic) -> CustomerBase:
    return CustomerBase(Customers(past_buyers=past_buyers, followers=followers, market_size=market_size),
                        Traffic(**traffic), np.random.default_rng(0))


def test_the_starting_base():
    cb = base(past_buyers=100, followers=150)
    assert cb.size == 150
    assert cb.followers.size == 150
    assert cb.is_buyer(np.arange(100)).all()
    assert not cb.is_buyer(np.arange(100, 150)).any()
    assert (cb.last_order_day.view[:100] < 0).all() and (cb.last_order_day.view[:100] >= -365).all()


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
    assert cb.orders.view[ids].tolist() == [2, 0, 1]
    assert cb.is_buyer(ids).tolist() == [True, False, True]
    assert cb.last_order_day.view[ids[0]] == 4


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
