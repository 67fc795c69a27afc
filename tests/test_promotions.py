"""Promotions: discounts, flash sales, coupons, spend-and-save, free shipping; their economics and money."""

import pytest
from invariants import assert_rejected_and_untouched, check_invariants

import shopsim

HERO = "TEE-CLASSIC"


def run(setup=None, days=14, seed=4):
    sim = shopsim.Simulation("baseline", seed=seed)
    if setup:
        setup(sim)
    return sim.run(days)


def hero_units(sim, days=None):
    it = sim.tables["order_items"].merge(sim.tables["orders"][["order_id", "ts"]], on="order_id")
    it = it[it["sku"] == HERO]
    per_day = it.groupby(it["ts"].dt.normalize())["qty"].sum()
    return per_day if days is None else per_day.iloc[days]


@pytest.fixture(scope="module")
def plain():
    return {seed: run(seed=seed) for seed in (4, 5)}


@pytest.mark.parametrize("seed", [4, 5])
def test_a_coupon_pulls_orders_over_its_threshold_and_lowers_margin(plain, seed):
    # a 20-off-199 coupon tops baskets up past 199 yuan (most orders are half that); its effect on
    # the whole shop's conversion is smaller than a fortnight's noise, so that is not asserted
    coupon = run(lambda s: s.issue_coupon(20, 199, 2000, 14), seed=seed)
    base = plain[seed]
    over = {name: int((sim.tables["orders"]["gross_amount"] >= 199).sum()) for name, sim in
            (("coupon", coupon), ("base", base))}
    assert over["coupon"] > 1.2 * over["base"]
    pnl = {"coupon": coupon.tables["pnl"], "base": base.tables["pnl"]}
    margin = {name: (p["revenue"].sum() - p["cogs"].sum()) / p["revenue"].sum() for name, p in pnl.items()}
    assert margin["coupon"] < margin["base"]
    used = coupon.tables["orders"]["coupon_id"].notna()
    assert used.any() and (coupon.tables["orders"].loc[used, "gross_amount"] >= 199).all()
    check_invariants(coupon)


@pytest.mark.parametrize("seed", [4, 5])
def test_spend_and_save_raises_order_value(plain, seed):
    deal = run(lambda s: s.spend_and_save([(199, 20), (299, 40)], 14), seed=seed)
    assert deal.tables["orders"]["gross_amount"].mean() > plain[seed].tables["orders"]["gross_amount"].mean()
    orders = deal.tables["orders"]
    saved = orders[orders["promotion_id"].fillna("").str.startswith("SAVE")]
    expected = saved["paid_amount"] + saved["discount_amount"]
    assert ((saved["gross_amount"] - expected).abs() < 0.02).all()
    assert set(saved["discount_amount"].round(2)) <= {20.0, 40.0}


def test_a_discount_sells_more_lowers_the_reference_price_and_pulls_demand_forward(plain):
    sim = run(lambda s: s.discount(HERO, 0.2, 7), days=21)
    before_days = hero_units(plain[4]).iloc[:7].sum()
    assert hero_units(sim).iloc[:7].sum() > 1.2 * before_days
    assert sim.catalog.reference_price[0] < 59.0
    after = hero_units(sim).iloc[7:14].sum()
    control = run(days=21)
    assert after < hero_units(control).iloc[7:14].sum(), "the week after the discount must dip below a plain week"
    paid = sim.tables["order_items"]
    discounted = paid[(paid["sku"] == HERO) & (paid["unit_paid_price"] < paid["unit_list_price"])]
    assert (discounted["unit_paid_price"].round(2) == round(59 * 0.8, 2)).all()


def test_a_flash_sale_never_sells_past_its_cap_and_brings_venue_traffic():
    sim = run(lambda s: s.flash_sale(HERO, 29, 120, 12, start_hour=10), days=3)
    items = sim.tables["order_items"]
    at_flash = items[(items["sku"] == HERO) & (items["unit_list_price"] > items["unit_paid_price"])]
    assert 0 < at_flash["qty"].sum() <= 120
    assert (sim.tables["sessions"]["source"] == "venue").sum() > 0
    assert sim.tables["pnl"]["promotion_cost"].sum() == pytest.approx(sim.scenario.promotions.flash_sale_fee)
    assert (sim.tables["events"]["kind"] == "flash_sale_sold_out").sum() == 1
    check_invariants(sim)


def test_free_shipping_threshold_shifts_shipping_to_small_orders(plain):
    sim = run(lambda s: s.set_free_shipping_threshold(99))
    o = sim.tables["orders"]
    assert (o.loc[o["paid_amount"] < 99, "buyer_shipping"] > 0).all()
    assert (o.loc[o["paid_amount"] >= 99, "buyer_shipping"] == 0).all()
    assert sim.tables["pnl"]["shipping"].sum() < plain[4].tables["pnl"]["shipping"].sum()
    small = lambda s: (s.tables["orders"]["paid_amount"] < 99).mean()  # noqa: E731
    assert small(sim) < small(plain[4]), "fewer small orders: shoppers top up or leave"


def test_every_promotion_yuan_is_in_the_pnl():
    def everything(s):
        s.discount("PANT-CHINO", 0.15, 5)
        s.issue_coupon(15, 150, 300, 5)
        s.spend_and_save([(199, 20)], 5)
        s.flash_sale(HERO, 35, 80, 5, start_hour=20)

    sim = run(everything, days=5)
    pnl, orders = sim.tables["pnl"], sim.tables["orders"]
    assert pnl["discounts"].sum() == pytest.approx(orders["discount_amount"].sum(), abs=0.05)
    assert pnl["revenue"].sum() == pytest.approx(orders["paid_amount"].sum(), abs=0.05)
    assert (pnl["gross_sales"] - pnl["discounts"] - pnl["revenue"]).abs().max() < 0.05
    assert (orders["paid_amount"] >= 0).all()
    check_invariants(sim)


@pytest.mark.parametrize("call, message", [
    (lambda s: s.discount(HERO, 0.95, 3), "out of range"),
    (lambda s: s.discount(HERO, 0.2, 0), "out of range"),
    (lambda s: s.discount("NOPE", 0.2, 3), "unknown SKU"),
    (lambda s: s.flash_sale(HERO, 80, 10, 2), "below the list price"),
    (lambda s: s.flash_sale(HERO, 30, 0, 2), "out of range"),
    (lambda s: s.issue_coupon(50, 40, 10, 3), "smaller than its threshold"),
    (lambda s: s.spend_and_save([(299, 40), (199, 20)], 3), "rising thresholds"),
    (lambda s: s.spend_and_save([(199, 250)], 3), "below its threshold"),
    (lambda s: s.spend_and_save("lots", 3), "pairs"),
    (lambda s: s.set_free_shipping_threshold(-1), "out of range"),
])
def test_bad_promotions_are_action_errors_and_change_nothing(call, message):
    assert_rejected_and_untouched(call, message)
