"""Inventory: fulfilment in time order with partial fills, reorders and lead times, losses, stockout hours."""

from __future__ import annotations

import numpy as np
import pytest

from shopsim.catalog import Catalog
from shopsim.inventory import ARRIVAL_HOUR, Inventory


@pytest.fixture
def inv(tiny) -> Inventory:
    cat = Catalog(tiny)
    cat.stock[:2] = [5, 10]
    return Inventory(cat)


def test_partial_fills_in_time_order(inv):
    ts = np.array([100, 200, 300, 400, 500])
    offer = np.array([0, 1, 0, 0, 0])
    qty = np.array([2, 3, 2, 2, 1])
    filled, ran_out = inv.fulfil(ts, offer, qty)
    assert filled.tolist() == [2, 3, 2, 1, 0], "the later buyers of A get what is left, then nothing"
    assert ran_out == {0: 400}
    assert inv.catalog.stock[:2].tolist() == [0, 7]
    assert inv.sold.tolist() == [5, 3]
    assert inv.sold_out_since[0] == pytest.approx(400 / 3600)
    assert np.isnan(inv.sold_out_since[1])


def test_exact_sell_out_and_already_sold_out(inv):
    filled, ran_out = inv.fulfil(np.array([10, 20]), np.array([0, 0]), np.array([2, 3]))
    assert filled.tolist() == [2, 3] and ran_out == {0: 20}
    filled, ran_out = inv.fulfil(np.array([30]), np.array([0]), np.array([1]))
    assert filled.tolist() == [0] and ran_out == {}, "no second stockout for a SKU already out"
    assert inv.catalog.stock[0] == 0 and inv.sold[0] == 5


def test_put_back(inv):
    inv.fulfil(np.array([10, 20]), np.array([0, 1]), np.array([5, 4]))
    inv.put_back(np.array([0, 1]), np.array([2, 4]))
    assert inv.catalog.stock[:2].tolist() == [2, 10]
    assert inv.sold.tolist() == [3, 0]
    assert np.isnan(inv.sold_out_since[0]), "a SKU with units back on the shelf is not sold out"


def test_reorders_arrive_after_the_lead_time_at_nine(inv, tiny):
    lead = tiny.skus[0].lead_time_days
    order = inv.place(0, 30, now=24 * 2 + 15.5)
    assert order.due == (2 + lead) * 24 + ARRIVAL_HOUR
    second = inv.place(0, 5, now=0)
    assert inv.on_order().tolist() == [35, 0]
    assert second.reorder_id == order.reorder_id + 1
    inv.receive(order, order.due)
    assert inv.catalog.stock[0] == 35 and inv.received[0] == 30
    assert inv.on_order().tolist() == [5, 0]


def test_a_supply_delay_slips_open_and_new_reorders(inv, tiny):
    lead = tiny.skus[1].lead_time_days
    open_order = inv.place(1, 10, now=0)
    inv.delay(1, days=3, now=24.0)
    assert open_order.due == lead * 24 + ARRIVAL_HOUR + 3 * 24
    during = inv.place(1, 10, now=48.0)
    assert during.due == (2 + lead + 3) * 24 + ARRIVAL_HOUR
    after = inv.place(1, 10, now=24.0 * 5)
    assert after.due == (5 + lead) * 24 + ARRIVAL_HOUR
    other = inv.place(0, 10, now=48.0)
    assert other.due == (2 + tiny.skus[0].lead_time_days) * 24 + ARRIVAL_HOUR, "only the delayed SKU slips"


def test_losses_never_exceed_the_stock(inv):
    assert inv.lose(0, 3, now=5.0) == 3
    assert inv.lose(0, 100, now=6.0) == 2
    assert inv.catalog.stock[0] == 0 and inv.lost[0] == 5
    assert inv.sold_out_since[0] == 6.0


def test_stockout_hours_and_day_counters(inv):
    inv.fulfil(np.array([int(3.5 * 3600)]), np.array([0]), np.array([5]))
    inv.count_stockout(3.0, 4.0)
    inv.count_stockout(4.0, 5.0)
    assert inv.stockout_hours.tolist() == pytest.approx([1.5, 0.0])
    inv.start_day()
    assert inv.on_hand_start.tolist() == [0, 10]
    assert inv.sold.tolist() == [0, 0] and inv.stockout_hours.tolist() == [0.0, 0.0]


def test_holding_cost(inv, tiny):
    rate = 0.001
    assert inv.holding_cost(rate) == pytest.approx((5 * tiny.skus[0].cost + 10 * tiny.skus[1].cost) * rate)
