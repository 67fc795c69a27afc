"""The sandboxed capstone policy reaches the market's reads and levers (issues 10, 11) like a trusted one."""

import json

import numpy as np

import shopsim
from shopsim.grading import policy_host
from shopsim.operator import OperatorView


def test_the_sandbox_reads_quality_scores_and_the_campaign():
    sim = shopsim.Simulation("baseline", seed=1).run(1)
    view = OperatorView(sim)
    assert policy_host.read(view, "quality_scores") == view.quality_scores()
    campaign = policy_host.read(view, "campaign")
    assert campaign["keyword_bids"] == view.keyword_bids() and campaign["daily_budget"] > 0


def test_an_hourly_schedule_as_a_numpy_array_travels_as_a_list_of_numbers():
    shares = np.where(np.arange(24) < 8, 0.0, 1.2)
    sent = policy_host._plain([shares])
    assert sent == [[float(v) for v in shares]]


def test_the_new_levers_are_levers_of_the_sandboxed_view():
    for name in ("set_bid_schedule", "set_audience_premium", "set_return_insurance", "set_service",
                 "set_service_script", "set_refund_policy"):
        assert name in OperatorView.LEVERS
        assert callable(getattr(policy_host.PolicyView(lambda message: None), name))


def test_the_sandbox_reads_the_service_desk_and_yesterdays_figures():
    sim = shopsim.Simulation("baseline", seed=1).run(1)
    view = OperatorView(sim)
    service = policy_host.read(view, "service")
    assert service == view.service()
    assert len(service["rota"]) == 24 and service["yesterday"]["inquiries"] > 0
    assert json.loads(json.dumps(service)) == service, "the service read is plain data"


def test_a_rota_as_a_numpy_array_travels_as_whole_numbers_and_is_accepted():
    rota = np.where(np.arange(24) >= 18, 3, 1)
    (sent,) = policy_host._plain([rota])
    sim = shopsim.Simulation("baseline", seed=1)
    sim.set_service(sent)
    assert list(sim.service.rota) == [int(a) for a in rota]
