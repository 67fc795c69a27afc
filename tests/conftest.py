"""Shared fixtures: a tiny scenario and short runs of it."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import shopsim
from shopsim import scenario as scenario_mod

#: Hypothesis profiles. "ci" (the default) gives property tests that do not fix their own
#: ``max_examples`` 500 cases each; run longer locally with ``pytest --hypothesis-profile long``
#: (20,000 random cases) or set SHOPSIM_HYPOTHESIS_PROFILE. CI draws the same cases every run
#: (derandomize), so a red CI is reproducible; the long profile explores new ones.
settings.register_profile("ci", max_examples=500, deadline=None, print_blob=True, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("long", settings.get_profile("ci"), max_examples=20_000, derandomize=False)
settings.load_profile(os.environ.get("SHOPSIM_HYPOTHESIS_PROFILE", "ci"))

TINY = {
    "name": "tiny",
    "description": "Two own SKUs, one rival, two keywords: the smallest useful market.",
    "start": "2026-03-02",
    "days": 5,
    "customers": {"past_buyers": 200, "followers": 300, "market_size": 100000},
    "paid_search": {"field_advertisers": 0},  # only the named rival bids: ad tests read every slot
    "feed": {"daily_exposures": 8000},  # the recommendation feed of a niche this small
    "skus": [
        {"sku": "A", "name": "Tee A", "category": "tees", "cost": 20, "price": 60, "initial_stock": 400,
         "monthly_sales": 300, "review_count": 100, "rating": 4.7},
        {"sku": "B", "name": "Tee B", "category": "tees", "cost": 30, "price": 80, "initial_stock": 200,
         "monthly_sales": 100, "review_count": 40, "rating": 4.6},
    ],
    "keywords": [
        {"keyword": "tee", "daily_searches": 8000, "relevance": {"A": 1.0, "B": 0.8, "R": 1.0}},
        {"keyword": "nice tee", "daily_searches": 2000, "relevance": {"B": 1.0, "R": 0.5}},
    ],
    "rivals": [{"shop": "Rival", "offers": [{"sku": "R", "name": "Rival tee", "category": "tees", "price": 65,
                                           "monthly_sales": 200, "review_count": 300}]}],
}


#: ``--set`` overrides that take the inherited campaign out of ``baseline`` (a shop that buys nothing yet).
NO_CAMPAIGN = ("campaign.keyword_bids={}", "campaign.daily_budget=0", "campaign.affiliate_commission={}")


@pytest.fixture
def tiny_dict() -> dict:
    """A fresh copy of the tiny scenario as plain data (safe to modify)."""
    import copy

    return copy.deepcopy(TINY)


@pytest.fixture
def tiny(tiny_dict) -> shopsim.Scenario:
    """The tiny scenario, validated."""
    return scenario_mod.from_dict(tiny_dict, "tiny")


@pytest.fixture(scope="session")
def baseline_run() -> shopsim.Simulation:
    """The baseline scenario run for its 30 days with seed 7 (shared, do not act on it)."""
    return shopsim.simulate("baseline", seed=7)


@pytest.fixture(scope="session")
def make_tiny():
    """Build a variant of the tiny scenario: ``make_tiny(traffic=4, skus={"A": {"initial_stock": 9}}, ...)``.

    ``traffic`` multiplies every keyword's daily searches; ``skus`` / ``rivals`` map a SKU code to
    field changes; any other keyword replaces a top-level field (``timeline=[...]``, ``days=3``).
    """
    import copy

    def build(traffic: float = 1.0, skus: dict | None = None, rivals: dict | None = None, **top) -> shopsim.Scenario:
        data = copy.deepcopy(TINY)
        for kw in data["keywords"]:
            kw["daily_searches"] *= traffic
        for item in data["skus"]:
            item.update((skus or {}).get(item["sku"], {}))
        for offer in data["rivals"][0]["offers"]:
            offer.update((rivals or {}).get(offer["sku"], {}))
        data.update(copy.deepcopy(top))
        return scenario_mod.from_dict(data, "tiny variant")

    return build


@pytest.fixture(scope="session", autouse=True)
def _master_runs_once(tmp_path_factory):
    """Every test that builds a lesson in this session reuses one run of its master
    (``shopsim.grading.build.KEY_CACHE_ENV``), and every decision check one run of each plan, reference
    and seed (``shopsim.grading.decisions.RUN_CACHE_ENV``: the masters' runs, the grading of submissions
    and the lessons' story tests grade the same plans), shared by the xdist workers of the session."""
    from shopsim.grading import build, decisions

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    os.environ[build.KEY_CACHE_ENV] = str(shared / "master-runs")
    os.environ[decisions.RUN_CACHE_ENV] = str(shared / "decision-runs")
    yield
    os.environ.pop(build.KEY_CACHE_ENV, None)
    os.environ.pop(decisions.RUN_CACHE_ENV, None)
