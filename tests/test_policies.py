"""Policies: called each morning, see only the past, act through the levers; the references work."""

import pandas as pd
import pytest

import shopsim
from shopsim.policies import do_nothing, rule_based


def test_policy_is_called_every_morning_and_sees_only_the_past(tiny):
    seen = []

    def spy(view):
        sessions = view.tables["sessions"]
        midnight = pd.Timestamp(view.date, tz="Asia/Shanghai")
        assert sessions.empty or sessions["ts"].max() < midnight
        assert len(view.tables["daily"]) == view.day
        seen.append(view.day)

    shopsim.simulate(tiny, days=4, seed=1, policy=spy)
    assert seen == [0, 1, 2, 3]


def test_policy_acts_through_levers_and_cannot_reach_internals(tiny):
    def raise_price(view):
        if view.day == 1:
            view.set_price("A", 70)
        with pytest.raises(AttributeError, match="a policy has no"):
            view.catalog  # noqa: B018

    sim = shopsim.simulate(tiny, days=3, seed=1, policy=raise_price)
    events = sim.tables["events"]
    assert (events["kind"] == "set_price").sum() == 1
    items = sim.tables["order_items"].merge(sim.tables["orders"][["order_id", "ts"]], on="order_id")
    day2 = items[(items["sku"] == "A") & (items["ts"].dt.day == 4)]
    assert (day2["unit_list_price"] == 70).all() and len(day2) > 0


def test_a_bad_action_in_a_policy_surfaces_as_action_error(tiny):
    def bad(view):
        view.reorder("A", 0)

    with pytest.raises(shopsim.ActionError, match="qty"):
        shopsim.simulate(tiny, days=1, seed=1, policy=bad)


@pytest.mark.parametrize("seed", [1, 2])
def test_rule_based_keeps_stock_and_beats_doing_nothing(seed):
    nothing = shopsim.simulate("baseline", days=60, seed=seed, policy=do_nothing)
    rules = shopsim.simulate("baseline", days=60, seed=seed, policy=rule_based)
    assert rules.tables["inventory"]["stockout_hours"].sum() < nothing.tables["inventory"]["stockout_hours"].sum()
    assert rules.tables["pnl"]["net_profit"].sum() > nothing.tables["pnl"]["net_profit"].sum()
    replies = rules.tables["events"].query("kind == 'reply_to_review'")
    reviews = rules.tables["reviews"]
    negative_before_last_morning = reviews[(reviews["rating"] <= 2)
                                           & (reviews["ts"] < reviews["ts"].max().normalize())]
    assert len(replies) >= len(negative_before_last_morning) > 0


def test_rule_based_staffs_the_evening_peak_and_answers_more_in_time():
    ruled = shopsim.simulate("baseline", days=14, seed=1, policy=rule_based)
    inherited = shopsim.simulate("baseline", days=14, seed=1)
    rota = shopsim.operator.OperatorView(ruled).service()["rota"]
    peak = rota[20:23]  # 20:00-22:59, the busiest hours (docs/calibration.md)
    assert min(peak) >= 2 and min(peak) >= max(rota[9:17]), "the evening peak gets the most agents"
    evening = [ruled.tables["service"], inherited.tables["service"]]
    answered = [s.loc[s["ts"].dt.hour.between(19, 22), "answered"].mean() for s in evening]
    assert answered[0] > answered[1] + 0.15
