"""CRM messages: segments, cost per message, response within the window, coupons only for recipients."""

import numpy as np
import pandas as pd
import pytest
from invariants import check_invariants, without_second_visits

import shopsim


def after_message(segment, coupon=(0, 0), seed=3, before=5, after=4):
    sim = shopsim.Simulation("baseline", seed=seed).run(before)
    sent = sim.send_crm(segment, *coupon)
    return sim.run(after), sent


def test_segments_split_buyers_by_recency_and_followers_are_followers():
    sim = shopsim.Simulation("baseline", seed=1).run(3)
    day = sim.current_day
    past, lapsed = sim.crm.segment("past_buyers", day), sim.crm.segment("lapsed_buyers", day)
    base = sim.customers
    assert len(past) and len(lapsed) and not set(past) & set(lapsed)
    assert (day - base.last_order_days(past) <= 90).all()
    assert ((day - base.last_order_days(lapsed) > 90) & (day - base.last_order_days(lapsed) <= 365)).all()
    everyone = np.arange(base.size)
    buyers = everyone[base.is_buyer(everyone)]
    within_year = buyers[day - base.last_order_days(buyers) <= 365]
    assert sorted(past.tolist() + lapsed.tolist()) == within_year.tolist(), "every buyer of the year, once"
    assert set(sim.crm.segment("followers", day)) == set(sim.customers.followers.view)


@pytest.mark.parametrize("segment", ["past_buyers", "lapsed_buyers", "followers"])
def test_a_message_costs_per_member_and_brings_crm_visits_in_its_window(segment):
    sim, sent = after_message(segment)
    rate = sim.scenario.crm.cost_per_message
    assert sim.tables["pnl"]["crm_cost"].sum() == pytest.approx(sent * rate, abs=0.01)
    s = sim.tables["sessions"]
    crm = s[s["source"] == "crm"]
    sent_at = sim.tables["events"].query("kind == 'send_crm'")["ts"].iloc[0]
    assert len(crm) > 0
    assert ((crm["ts"] >= sent_at) & (crm["ts"] < sent_at + pd.Timedelta(hours=48))).all()
    members = set(sim.crm.segment(segment, 5)) if segment == "followers" else None
    if members is not None:
        assert set(crm["customer_id"]) <= members
    check_invariants(sim)


def test_past_buyers_respond_better_than_lapsed_ones():
    past, n_past = after_message("past_buyers")
    lapsed, n_lapsed = after_message("lapsed_buyers")
    share = [(s.tables["sessions"]["source"] == "crm").sum() / n for s, n in ((past, n_past), (lapsed, n_lapsed))]
    assert share[0] > share[1]


def test_a_coupon_lifts_response_and_works_only_in_visits_from_the_message():
    plain, _ = after_message("followers")
    coupon, _ = after_message("followers", (10, 99))
    visits = [(s.tables["sessions"]["source"] == "crm").sum() for s in (plain, coupon)]
    assert visits[1] > visits[0]
    orders = coupon.tables["orders"]
    used = orders[orders["coupon_id"].fillna("").str.startswith("CRM")]
    assert len(used) > 0 and (used["source"] == "crm").all() and (used["gross_amount"] >= 99).all()
    assert np.allclose(used["discount_amount"], 10.0)


def test_organic_shoppers_do_not_notice_a_message():
    """Responders draw from the bought channels' stream, so only bought traffic may move (and the
    answers of organic shoppers who asked customer service, whose queue the responders share)."""
    a = shopsim.Simulation("baseline", seed=3).run(6)
    b, _ = after_message("past_buyers", (15, 99), before=5, after=1)
    # "returning" visits are the message's own audience (past buyers): one who would have come back on
    # their own may come through the message instead
    bought = ["crm", "paid_search", "display", "affiliate", "returning"]

    def organic_last_day(s):
        s = without_second_visits(s)  # they exist because of purchases, which the responders' orders move
        return s[~s["source"].isin(bought) & (s["ts"].dt.day == s["ts"].dt.day.max())].reset_index(drop=True)

    left, right = organic_last_day(a.tables["sessions"]), organic_last_day(b.tables["sessions"])
    pd.testing.assert_frame_equal(left[["ts", "source", "landing_sku"]], right[["ts", "source", "landing_sku"]])
    # the same shoppers arrive at the same pages; what they do may differ only through the market both
    # worlds share (a unit of stock, the displayed sales the responders' orders move): a handful at most
    # a shopper who asked customer service in either world (new customers' ids differ between the worlds)
    quiet = ~(left["session_id"].isin(a.tables["service"]["session_id"])
              | right["session_id"].isin(b.tables["service"]["session_id"]))
    cols = ["bounced", "added_to_cart", "ordered"]
    differ = (left.loc[quiet, cols] != right.loc[quiet, cols]).any(axis=1).mean()
    assert differ <= 0.001, f"{differ:.3%} of organic sessions changed"


@pytest.mark.parametrize("args, message", [
    (("everyone",), "unknown segment"),
    (("past_buyers", 50, 40), "smaller than its threshold"),
    (("past_buyers", -5, 40), "out of range"),
    (("past_buyers", 5, 40, 0), "out of range"),
])
def test_bad_messages_are_action_errors_and_cost_nothing(args, message):
    sim = shopsim.Simulation("baseline", seed=1).run(1)
    with pytest.raises(shopsim.ActionError, match=message):
        sim.send_crm(*args)
    assert sim.run(1).tables["pnl"]["crm_cost"].sum() == 0
