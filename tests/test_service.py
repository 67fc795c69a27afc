"""Customer service (issue 11): inquiries, the rota's queue, prepared answers, the refund policy
and disputes, in same-seed runs and on the queue's own terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from invariants import assert_rejected_and_untouched, check_invariants

import shopsim
from shopsim.scenario import PREDECESSOR_ROTA, SERVICE_TOPICS
from shopsim.service import ServiceDesk, fluid_queue

EVENING = range(18, 24)
STAFFED_EVENING = [0] * 9 + [3] * 9 + [3] * 6


def run(days: int, seed: int, **levers) -> shopsim.Simulation:
    """Baseline for ``days`` with levers applied on the first morning (name -> args)."""
    sim = shopsim.Simulation("baseline", seed=seed)
    for name, args in levers.items():
        getattr(sim, name)(*args)
    return sim.run(days)


def evening(service: pd.DataFrame) -> pd.DataFrame:
    return service[service["ts"].dt.hour.isin(EVENING)]


# -- the queue ------------------------------------------------------------------------------
def test_a_free_pool_starts_at_once_and_a_busy_one_queues():
    rate = np.full(4, 2.0)  # two slots every hour
    start, finish = fluid_queue(np.array([0.0, 10.0, 20.0]), np.array([600.0, 600.0, 600.0]), 0.0, rate, 0.0)
    assert start[0] == 0.0
    assert finish[0] == pytest.approx(300.0), "the whole pool works on a job: 600 slot-seconds at 2 slots"
    assert start[1] == pytest.approx(300.0) and start[2] == pytest.approx(600.0), "first come, first served"


def test_questions_asked_when_nobody_is_on_duty_wait_for_the_shift():
    rate = np.array([0.0, 0.0, 3.0, 3.0])
    start, _ = fluid_queue(np.array([100.0, 200.0]), np.array([60.0, 60.0]), 0.0, rate, 0.0)
    assert start[0] == pytest.approx(2 * 3600.0)
    assert start[1] == pytest.approx(2 * 3600.0 + 20.0)


def test_a_backlog_carries_over_and_work_beyond_the_grid_is_never_answered():
    rate = np.array([1.0, 1.0])
    start, _ = fluid_queue(np.array([0.0]), np.array([60.0]), 0.0, rate, free_at=1000.0)
    assert start[0] == pytest.approx(1000.0)
    start, finish = fluid_queue(np.array([0.0]), np.array([10_000.0]), 0.0, rate, 0.0)
    assert start[0] == 0.0 and np.isnan(finish[0])


# -- who asks, about what ---------------------------------------------------------------------
def desk() -> ServiceDesk:
    sc = shopsim.load_scenario("baseline")
    return ServiceDesk(sc.service, ["tees", "trousers"], np.array([0, 1]))


def test_size_questions_follow_the_category_and_a_good_detail_page_answers_them():
    p = desk().ask_chances(np.array([0.6, 0.6]), np.array([500, 500]), np.zeros(2))
    assert p[1, 0] > p[0, 0], "trousers are asked about size more than tees"
    better = desk().ask_chances(np.array([0.9, 0.6]), np.array([500, 500]), np.zeros(2))
    asked = p[0] > 0
    assert (better[0][asked] < p[0][asked]).all(), "a better detail page answers questions before they are asked"


def test_promotion_questions_only_while_a_promotion_runs_and_stock_ones_when_running_out():
    d = desk()
    plain = d.ask_chances(np.array([0.6, 0.6]), np.array([500, 5]), np.zeros(2))
    promo = d.ask_chances(np.array([0.6, 0.6]), np.array([500, 5]), np.array([1.0, 0.0]))
    topic = SERVICE_TOPICS.index
    assert plain[0, topic("promotion")] == 0 and promo[0, topic("promotion")] > 0
    assert plain[1, topic("stock")] > plain[0, topic("stock")], "few units left: shoppers ask about stock"


def test_a_prepared_answer_shortens_only_its_topic():
    d = desk()
    before = d.handle_seconds(np.arange(len(SERVICE_TOPICS)))
    d.scripts[SERVICE_TOPICS.index("promotion")] = True
    after = d.handle_seconds(np.arange(len(SERVICE_TOPICS)))
    changed = after != before
    assert changed.tolist() == [t == "promotion" for t in SERVICE_TOPICS]
    assert after[SERVICE_TOPICS.index("promotion")] < before[SERVICE_TOPICS.index("promotion")]


# -- same-seed behaviour -------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2])
def test_more_evening_agents_shorten_first_response_and_raise_inquiry_conversion(seed):
    thin = run(10, seed)
    staffed = run(10, seed, set_service=(STAFFED_EVENING,))
    a, b = evening(thin.tables["service"]), evening(staffed.tables["service"])
    assert b["first_response_s"].median() < a["first_response_s"].median()
    assert b["answered"].mean() > a["answered"].mean() + 0.1
    assert b["ordered"].mean() > a["ordered"].mean(), "answered in time, more questions turn into orders"
    extra = staffed.tables["pnl"]["customer_service"].sum() - thin.tables["pnl"]["customer_service"].sum()
    agent_hours = sum(STAFFED_EVENING) - sum(PREDECESSOR_ROTA)
    assert extra == pytest.approx(10 * agent_hours * 25.0), "every extra agent-hour is paid"


@pytest.mark.parametrize("seed", [1, 2])
def test_refusing_refunds_raises_disputes_and_lowers_dsr_service(seed):
    fair = run(21, seed)
    firm = run(21, seed, set_refund_policy=(0, "all"))
    assert len(firm.tables["disputes"]) > len(fair.tables["disputes"]) + 5
    assert (firm.tables["disputes"]["outcome"] == "buyer_won").mean() > 0.7, "the platform mostly sides with buyers"
    d_fair, d_firm = fair.tables["daily"], firm.tables["daily"]
    assert d_firm["dsr_service"].iloc[-1] < d_fair["dsr_service"].iloc[-1] - 0.05
    assert d_firm["dispute_rate"].iloc[-1] > d_fair["dispute_rate"].iloc[-1]
    assert (d_firm["dsr_description"] - d_fair["dsr_description"]).abs().max() < 0.03, \
        "description follows the products, not the refund desk"
    check_invariants(firm)


def test_a_marked_shop_loses_search_rank():
    sc = shopsim.load_scenario("baseline")
    firm = run(21, 1, set_refund_policy=(0, "all"))
    events = firm.tables["events"]
    assert (events["kind"] == "shop_marked").any(), "refusing everything pushes the dispute rate over the limit"
    assert firm.aftersales.search_penalty() >= sc.service.mark_penalty


def test_a_prepared_answer_for_the_promotions_rules_shortens_handling_during_it():
    def promo(script: bool) -> shopsim.Simulation:
        sim = shopsim.Simulation("baseline", seed=3)
        sim.spend_and_save([(199, 30), (299, 60)], days=7)
        if script:
            sim.set_service_script("promotion", True)
        return sim.run(7)

    without, with_script = promo(False).tables["service"], promo(True).tables["service"]
    asked = without["topic"] == "promotion"
    assert asked.mean() > 0.1, "a running spend-and-save brings questions about its rules"
    def thin_evening(service: pd.DataFrame) -> pd.DataFrame:  # one agent on duty, 18:00-22:59
        return service[service["ts"].dt.hour.between(18, 22)]

    # the median: the mean is a few questions left past 23:00 waiting for the morning shift
    assert thin_evening(with_script)["first_response_s"].median() < thin_evening(without)["first_response_s"].median()
    assert with_script["answered"].mean() > without["answered"].mean()


def test_same_seed_same_service_tables_and_levers_leave_other_streams_alone():
    a, b = run(3, 5), run(3, 5)
    for name in ("service", "disputes", "daily"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    staffed = run(3, 5, set_service=(STAFFED_EVENING,))
    assert (staffed.tables["sessions"]["ts"].iloc[:2000].to_numpy() == a.tables["sessions"]["ts"].iloc[:2000]
            .to_numpy()).all(), "the first hours' shoppers arrive exactly as before"


# -- levers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.set_service([1] * 23), "24 values"),
    (lambda s: s.set_service([1] * 23 + [201]), "out of range"),
    (lambda s: s.set_service([1] * 23 + [-1]), "out of range"),
    (lambda s: s.set_service([1] * 23 + [1.5]), "whole number"),
    (lambda s: s.set_service([1] * 23 + [True]), "whole number"),
    (lambda s: s.set_service(3), "list of 24"),
    (lambda s: s.set_service("3" * 24), "list of 24"),
    (lambda s: s.set_service_script("returns", True), "unknown inquiry topic"),
    (lambda s: s.set_service_script("size", 1), "True or False"),
    (lambda s: s.set_refund_policy(-1), "out of range"),
    (lambda s: s.set_refund_policy(float("nan")), "finite"),
    (lambda s: s.set_refund_policy(50, "some"), "unknown refusal rule"),
    (lambda s: s.set_refund_policy("50"), "number"),
])
def test_bad_service_levers_are_refused_and_change_nothing(call, message):
    assert_rejected_and_untouched(call, message)


def test_levers_apply_and_are_events():
    sim = shopsim.Simulation("baseline", seed=1)
    sim.set_service(np.full(24, 2))
    sim.set_service_script("size", np.bool_(True))
    sim.set_refund_policy(np.float64(80), "buyer_reason")
    sim.run(1)
    kinds = list(sim.tables["events"]["kind"])
    assert {"set_service", "set_service_script", "set_refund_policy"} <= set(kinds)
    assert sim.tables["pnl"]["customer_service"].iloc[0] == 48 * 25.0
    view = shopsim.operator.OperatorView(sim).service()
    assert view["rota"] == [2] * 24 and view["scripts"]["size"] and view["refuse"] == "buyer_reason"
