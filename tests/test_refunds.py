"""Refunds and returns: the causes, refund-only before shipping, restock vs write-off, return
insurance, the refund rate's penalty in search, and the refunds table of a real run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from invariants import check_invariants

import shopsim
from shopsim import search
from shopsim.catalog import Catalog
from shopsim.refunds import REASONS, RefundBook

N = 20_000


def book(sc: shopsim.Scenario, **returns) -> RefundBook:
    sc = dataclasses.replace(sc, returns=dataclasses.replace(sc.returns, **returns))
    return RefundBook(sc.returns, Catalog(sc), delivery_days=2.5, late_share=0.04)


def draw(b: RefundBook, offer: int = 0, paid: float = 60.0, listed: float = 60.0, main_day: bool = False,
         late: bool = False, insured: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw N identical lines; return the pending refunds they made."""
    b._pending = []
    ones = np.ones(N, np.int64)
    b.draw(np.random.default_rng(seed), np.arange(1, N + 1), np.full(N, 3600), ones * offer, ones,
           np.full(N, paid), np.full(N, listed), main_day, np.full(N, late), np.full(N, insured))
    return b._pending[0]


def share(pending: dict[str, np.ndarray], reason: str | None = None) -> float:
    if reason is None:
        return len(pending["order_id"]) / N
    return float((pending["reason"] == REASONS.index(reason)).sum()) / N


def test_every_cause_raises_its_own_reason(tiny):
    b = book(tiny)
    plain = draw(b)
    assert 0.05 < share(plain) < 0.25
    assert share(draw(b, paid=36.0), "changed_mind") > share(plain, "changed_mind") + 0.08, "deep discounts"
    assert share(draw(b, main_day=True), "changed_mind") > share(plain, "changed_mind") + 0.05, "festival main day"
    assert share(draw(b, late=True), "late_delivery") > share(plain, "late_delivery") + 0.15
    assert share(plain) == pytest.approx(float(b.expected[0]) - 0.04 * 0.25, abs=0.01)


def test_a_listing_that_flatters_the_product_comes_back_not_as_pictured(tiny):
    honest = book(tiny)
    flattering = dataclasses.replace(tiny, skus=(dataclasses.replace(tiny.skus[0], quality=0.5, listing_quality=0.9),
                                                 *tiny.skus[1:]))
    b = book(flattering)
    assert share(draw(b), "not_as_pictured") > share(draw(honest), "not_as_pictured") + 0.15
    assert share(draw(b), "quality") > share(draw(honest), "quality"), "a worse product: more quality returns"


def test_fit_returns_come_by_category(tiny):
    sized = book(tiny, fit_rate_by_category={"tees": 0.2})
    loose = book(tiny, fit_rate_by_category={"tees": 0.01})
    assert share(draw(sized), "size") > share(draw(loose), "size") + 0.15
    other = book(tiny, fit_rate_by_category={"shoes": 0.5}, fit_rate=0.02)
    assert share(draw(other), "size") < 0.03, "a category not listed takes fit_rate"


def test_refund_only_before_shipping_and_returns_after_delivery(tiny):
    b = book(tiny, impulse_rate=0.3, cancel_before_shipping=0.5)
    p = draw(b)
    early = p["kind"] == 0
    assert early.any() and (~early).any()
    assert set(np.unique(p["reason"][early])) <= {REASONS.index("changed_mind"), REASONS.index("late_delivery")}
    assert p["restocked"][early].all(), "a parcel that never shipped is back on the shelf"
    asked_after = (p["requested"][early] - 3600) / 3600
    assert np.median(asked_after) < 24, "refund-only is asked for within hours, before the parcel ships"
    hours_after = (p["requested"][~early] - 3600) / 3600
    assert np.median(hours_after) > 48, "a return is asked for after delivery"
    assert (p["completed"] >= p["requested"]).all()
    assert 0.8 < p["restocked"][~early].mean() < 0.95, "most returned units can be sold again (restock_share 0.88)"


def test_without_insurance_the_shop_pays_the_courier_of_returns_that_are_its_fault(tiny):
    b = book(tiny, quality_rate=0.5)
    p = draw(b)
    fault = np.isin(p["reason"], [REASONS.index(r) for r in ("quality", "not_as_pictured", "late_delivery")])
    returned = p["kind"] == 1
    assert (p["return_shipping"][fault & returned] == tiny.returns.return_shipping_cost).all()
    assert (p["return_shipping"][~fault | ~returned] == 0).all()
    assert (draw(b, insured=True)["return_shipping"] == 0).all(), "with insurance the insurer pays"


def test_a_high_refund_rate_costs_search_rank(tiny):
    cat = Catalog(tiny)
    rel = search.relevance_matrix(tiny, cat)
    before = search.rank_scores(tiny, cat, rel)
    cat.refund_rate[0] = 0.3
    after = search.rank_scores(tiny, cat, rel)
    assert (after[:, 0][rel[:, 0] > 0] < before[:, 0][rel[:, 0] > 0]).all()
    assert (after[:, 1:] == before[:, 1:]).all()


def test_the_refund_rate_follows_what_comes_back(tiny):
    b = book(tiny)
    start = b.catalog.refund_rate[0]
    sales = np.array([600.0, 400.0])
    for _ in range(30):
        b.close_day(sales, sales * np.array([0.5, 0.0]))
    assert b.catalog.refund_rate[0] > start + 0.2 and b.catalog.refund_rate[1] < start


@pytest.fixture(scope="module")
def month(baseline_run):
    return {name: baseline_run.tables[name] for name in ("refunds", "orders", "order_items", "reviews", "inventory",
                                                          "pnl")}


def test_a_month_of_refunds_has_every_reason_and_both_kinds(month):
    r = month["refunds"]
    assert set(r["reason"].astype(str)) == set(REASONS)
    assert set(r["kind"].astype(str)) == {"refund_only", "return_refund"}
    assert r["order_id"].isna().any(), "refunds of orders paid before the first day keep arriving"
    assert not r["restocked"].all() and r["restocked"].mean() > 0.8
    assert month["inventory"]["returned"].sum() == r.loc[r["restocked"], "qty"].sum()
    size = r.merge(month["order_items"][["order_id", "sku"]].astype({"order_id": "Int64"}), on=["order_id", "sku"])
    by_sku = size.groupby(size["sku"].astype(str).str.split("-").str[0])["reason"].apply(lambda x: (x == "size").mean())
    assert by_sku["PANT"] > by_sku["TEE"], "trousers come back for size more than tees"


def test_reviews_of_returned_lines_name_the_reason(month):
    r, reviews = month["refunds"], month["reviews"]
    both = reviews.merge(r[["order_id", "sku", "reason"]], on=["order_id", "sku"])
    size = both[both["reason"] == "size"]
    assert len(size) > 10
    assert size["tags"].str.contains("runs small|runs large").all()
    kept = reviews.merge(r[["order_id", "sku"]], on=["order_id", "sku"], how="left", indicator=True)
    kept = kept[kept["_merge"] == "left_only"]
    assert size["rating"].mean() < kept["rating"].mean() - 0.5, "a returned item's review is a worse one"
    pictured = both[both["reason"] == "not_as_pictured"]
    assert pictured["tags"].str.contains("not as pictured").all()


def test_return_insurance_costs_per_order_raises_paying_and_covers_the_courier():
    on, off = shopsim.Simulation("baseline", seed=4), shopsim.Simulation("baseline", seed=4)
    on.set_return_insurance(True)
    on.run(10)
    off.run(10)
    check_invariants(on)
    assert (on._groups.checkout > off._groups.checkout).all()
    orders, pnl = on.tables["orders"], on.tables["pnl"]
    assert orders["insured"].all() and not off.tables["orders"]["insured"].any()
    assert pnl["return_insurance"].sum() == pytest.approx(len(orders) * on.scenario.returns.insurance_premium, abs=0.05)
    r = on.tables["refunds"]
    insured = r["order_id"].notna()
    assert (r.loc[insured, "return_shipping"] == 0).all()
    assert off.tables["refunds"]["return_shipping"].sum() > 0
    on.set_return_insurance(False)
    events = on.tables["events"]
    assert list(events.loc[events["kind"] == "set_return_insurance", "detail"]) == ["on, 0.90 yuan per order", "off"]


@pytest.mark.parametrize("bad", ["yes", 1, None, 0.0])
def test_return_insurance_takes_only_true_or_false(bad):
    from invariants import assert_rejected_and_untouched

    assert_rejected_and_untouched(lambda s: s.set_return_insurance(bad), "True or False")


def test_daily_refund_columns(month, baseline_run):
    d, pnl = baseline_run.tables["daily"], month["pnl"]
    assert (d["refund_amount"] == pnl["refunds"]).all()
    assert d["refund_rate"].to_numpy() == pytest.approx((pnl["refunds"] / pnl["revenue"]).to_numpy())
    assert (d["net_gmv"].round(2) == (d["gmv"] - d["refund_amount"]).round(2)).all()
    assert pd.api.types.is_float_dtype(d["refund_rate"])
