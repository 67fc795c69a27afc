"""Lesson 10 (customers and service): the facts its text and exercises rely on.

The lesson runs scenario ``customer_base`` for March 2026 with seed 7 (the control) and beside it
a CRM message with and without a coupon, a message to the followers, an evening-staffed rota and a
strict refund policy; its two decisions are graded on seeds 101-103. These checks hold the story
with margins, not exact numbers, so an engine change that breaks it (a coupon that no longer
adds orders, followers that start paying, night questions that convert, a strict refund
policy that pays, a reference that breaks its own limits) fails here before the lesson's text and
exercises become wrong. The notebook's own nbval run checks that every solution passes its checks.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopsim
from shopsim import plans
from shopsim.grading import decisions, reference

SCENARIO, SEED, DAYS = "customer_base", 7, 30
GRADING = (101, 102, 103)
NIGHT = [23, 0, 1, 2, 3, 4, 5, 6, 7, 8]
MESSAGE = [{"day": 3, "lever": "send_crm", "segment": "past_buyers"}]
COUPON = [{"day": 3, "lever": "send_crm", "segment": "past_buyers", "coupon_amount": 20}]
FOLLOWERS = [{"day": 3, "lever": "send_crm", "segment": "followers"}]
EVENING = [{"day": 0, "lever": "set_service", "agents_by_hour": [0] * 9 + [3] * 14 + [0]}]
STRICT = [{"day": 0, "lever": "set_refund_policy", "auto_approve_under": 50, "refuse": "buyer_reason"}]
# the hidden references of the two decisions (the master's hidden cells hold the same plans)
CRM_REFERENCE = [
    {"day": 3, "lever": "send_crm", "segment": "past_buyers", "coupon_amount": 20, "coupon_threshold": 199},
    {"day": 3, "lever": "send_crm", "segment": "lapsed_buyers", "coupon_amount": 20, "coupon_threshold": 199},
]
SCRIPTS = ("size", "delivery", "stock", "promotion")
ROTA_REFERENCE = [{"day": 0, "lever": "set_service", "agents_by_hour": [1] * 18 + [2] * 5 + [1]}] + [
    {"day": 0, "lever": "set_service_script", "topic": t, "on": True} for t in SCRIPTS]
ORDERS_FLOOR, WAGE_BUDGET = 80, 24_000


@pytest.fixture(scope="module")
def control():
    return reference.tables(SCENARIO, days=DAYS, seed=SEED)


def _measure(plan):
    return decisions.run_reference(plan, SCENARIO, SEED, None)


def test_returning_buyers_pay_a_minority_of_the_gmv_and_few_buy_twice_in_a_month(control):
    orders = control["orders"].merge(control["sessions"][["session_id", "is_new_customer"]], on="session_id")
    share = orders.loc[~orders["is_new_customer"], "paid_amount"].sum() / orders["paid_amount"].sum()
    assert 0.1 < share < 0.35
    day = (orders["ts"].dt.tz_localize(None).dt.normalize() - pd.Timestamp("2026-03-02")).dt.days
    per_buyer = day.groupby(orders["customer_id"])
    repeat = (per_buyer.nunique() >= 2).mean()
    assert 0.002 < repeat < 0.05  # "almost every buyer ordered once ... a few dozen"
    assert 20 <= (per_buyer.nunique() >= 2).sum() <= 150
    # exercise 2's typical mistake (two orders on one day) must give another number
    assert abs((per_buyer.size() >= 2).mean() / repeat - 1) > 0.02


def test_the_night_goes_unanswered_and_the_evening_peak_is_short_staffed(control):
    s = control["service"]
    hour = s["ts"].dt.hour
    night, evening = hour.isin(NIGHT), hour.between(20, 22)
    day = ~night & ~evening
    assert s.loc[night, "answered"].mean() < 0.01
    assert s.loc[night, "ordered"].mean() < 0.5 * s.loc[day, "ordered"].mean()
    per_hour = s.groupby(hour).size()
    assert per_hour.loc[20:22].min() > per_hour.loc[9:17].max()  # the peak is the evening
    assert s.loc[evening, "answered"].mean() < 0.65 < s.loc[hour.between(10, 17), "answered"].mean()
    assert s.loc[evening, "ordered"].mean() < s.loc[day, "ordered"].mean()


def test_the_review_gap_is_mostly_the_night_and_the_evening(control):
    s = control["service"]
    hour = s["ts"].dt.hour
    night, evening = hour.isin(NIGHT), hour.between(20, 22)
    day_rate = s.loc[~night & ~evening, "ordered"].mean()
    gap = s["ordered"].mean() - 0.40
    assert -0.2 < gap < -0.05
    shortfall = (night.sum() * (day_rate - s.loc[night, "ordered"].mean())
                 + evening.sum() * (day_rate - s.loc[evening, "ordered"].mean())) / len(s)
    assert shortfall > 0.5 * -gap  # option b of the review explains most of the gap


def test_a_message_to_recent_buyers_earns_little_and_the_months_bottom_line_is_noise():
    nothing, plain, coupon = (_measure(p) for p in ("do_nothing", MESSAGE, COUPON))
    assert 10 <= plain["crm_orders"] <= 40 and abs(plain["crm_contribution"]) < 1000  # "a few hundred yuan"
    # exercise 3: the coupon brings more orders, but well short of the agency's "twice" (1.26 to 1.85 times the
    # plain message's on seeds 1-9), and adds a few hundred yuan of the campaign's own profit at most
    assert 1.2 * plain["crm_orders"] <= coupon["crm_orders"] < 2 * plain["crm_orders"]
    assert 0 < coupon["crm_contribution"] - plain["crm_contribution"] < 1000
    # the month's net profit moved by thousands: the plain message's month "earned" about 6,000 more than the
    # control, the coupon's month about 5,000 less than the plain message's, though its own P&L was higher
    assert plain["net_profit"] - nothing["net_profit"] > 4000
    assert coupon["net_profit"] - plain["net_profit"] < -4000


def test_the_followers_message_brings_the_most_orders_and_loses_money():
    followers, coupon = _measure(FOLLOWERS), _measure(COUPON)
    assert followers["crm_orders"] > 2 * coupon["crm_orders"]
    assert followers["crm_contribution"] < -1000


def test_staffing_the_evening_costs_7500_yuan_helps_the_evening_and_leaves_the_night(control):
    """Section 5: the evening's questions convert better, the night's are still unanswered.

    The month's net profit is not part of the story: on seeds 1-9 the same change moved it anywhere from about
    28,000 yuan lower to 35,000 higher (chance, as in section 4); the text quotes this month's without reading it
    as the rota's.
    """
    nothing, evening = _measure("do_nothing"), _measure(EVENING)
    assert evening["customer_service"] - nothing["customer_service"] == pytest.approx(10 * 25 * DAYS)
    staffed = shopsim.simulate(SCENARIO, seed=SEED, policy=plans.policy(plans.check(EVENING, DAYS))).tables
    before, after = control["service"], staffed["service"]
    peak = [t["ts"].dt.hour.between(20, 22) for t in (before, after)]
    night = [t["ts"].dt.hour.isin(NIGHT) for t in (before, after)]
    assert after.loc[peak[1], "answered"].mean() > before.loc[peak[0], "answered"].mean() + 0.2
    assert after.loc[peak[1], "ordered"].mean() > before.loc[peak[0], "ordered"].mean() + 0.05
    assert after.loc[night[1], "answered"].mean() < 0.01
    assert after["first_response_s"].mean() > 0.8 * before["first_response_s"].mean()  # "did not improve much"


def test_refusing_buyers_returns_buys_lost_disputes_fewer_orders_and_less_profit(control):
    strict = shopsim.simulate(SCENARIO, seed=SEED, policy=plans.policy(plans.check(STRICT, DAYS))).tables
    disputes = strict["disputes"]
    assert len(control["disputes"]) == 0 and len(disputes) >= 100
    assert 0.7 < (disputes["outcome"] == "buyer_won").mean() < 0.9  # "about four in five" (0.78-0.83 on seeds 1-9)
    assert strict["refunds"]["amount"].sum() < 0.8 * control["refunds"]["amount"].sum()
    assert strict["daily"]["orders"].sum() < 0.9 * control["daily"]["orders"].sum()  # "about a thousand fewer"
    assert strict["pnl"]["net_profit"].sum() < control["pnl"]["net_profit"].sum() - 15_000
    moved = {k: abs(strict["daily"][k].iloc[-1] - control["daily"][k].iloc[-1])
             for k in ("dsr_description", "dsr_service", "dsr_logistics")}
    assert max(moved, key=moved.get) == "dsr_service"  # option d of exercise 5 is wrong
    assert strict["daily"]["dsr_service"].iloc[-1] < control["daily"]["dsr_service"].iloc[-1]


def test_the_crm_reference_pays_and_brings_enough_orders_on_every_grading_month():
    for seed in GRADING:
        ref = decisions.run_reference(CRM_REFERENCE, SCENARIO, seed, None)
        assert ref["crm_orders"] >= ORDERS_FLOOR + 10 and ref["crm_contribution"] > 300, seed


def test_the_rota_reference_stays_in_the_budget_and_clearly_beats_doing_nothing():
    for seed in GRADING:
        ref = decisions.run_reference(ROTA_REFERENCE, SCENARIO, seed, None)
        nothing = decisions.run_reference("do_nothing", SCENARIO, seed, None)
        assert ref["customer_service"] <= WAGE_BUDGET and nothing["customer_service"] == WAGE_BUDGET
        assert ref["net_profit"] > nothing["net_profit"] + 10_000, seed
    # the intuitive answer, five agents in the evening and nobody at night, breaks the budget
    assert (9 * 3 + 5 * 5) * 25 * DAYS > WAGE_BUDGET
