"""Capstone evaluation: profit per seed against the reference policies; failing policies score 0.

The scale (shopsim.grading.capstone_scale): 0 points at do_nothing's profit, 60 at rule_based's,
100 at tuned's, on each seed.
"""

import os

import pytest

from shopsim.grading import capstone, evaluate_policy

DAYS, SEEDS = 4, (1, 2)


def cut_prices(view):
    """A small policy of our own: 10 % off every SKU on the first morning."""
    if view.day == 0:
        for sku, price in view.prices().items():
            view.set_price(sku, round(price * 0.9, 2))


@pytest.fixture(scope="module")
def do_nothing_result(tiny_module):
    from shopsim.policies import do_nothing

    return evaluate_policy(do_nothing, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])


@pytest.fixture(scope="module")
def tiny_module():
    from conftest import TINY

    from shopsim import scenario

    return scenario.from_dict(TINY, "tiny")


def test_doing_nothing_scores_0_and_the_table_says_why(do_nothing_result):
    result = do_nothing_result
    assert result.status == "ok" and result.reason == "" and result.score == 0.0
    assert list(result.table.columns) == ["seed", "profit", "do_nothing", "points", "why"]
    assert list(result.table["seed"]) == list(SEEDS)
    assert (result.table["profit"] == result.table["do_nothing"]).all()
    assert result.table["why"].str.contains("do_nothing").all()
    assert "capstone score 0.0 / 100" in repr(result) and "<table" in result._repr_html_()
    assert "0 at do_nothing's profit" in repr(result)


def test_a_different_policy_gets_its_own_profit_and_a_score_between_0_and_100(tiny_module, do_nothing_result):
    result = evaluate_policy(cut_prices, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])
    assert result.status == "ok"
    assert (result.table["do_nothing"] == do_nothing_result.table["do_nothing"]).all()
    assert (result.table["profit"] != result.table["do_nothing"]).all()
    assert 0 <= result.score <= 100
    assert result.score == pytest.approx(result.table["points"].mean(), abs=0.01)


def test_references_that_do_not_exist_yet_are_skipped(tiny_module):
    result = evaluate_policy(cut_prices, tiny_module, [3], days=2, references=["do_nothing", "no_such_policy"])
    assert result.references == ("do_nothing",)
    with pytest.raises(ValueError, match="none of the reference policies"):
        evaluate_policy(cut_prices, tiny_module, [3], days=2, references=["no_such_policy"])


def test_the_default_references_are_those_in_shopsim_policies(tiny_module):
    from shopsim import policies

    result = evaluate_policy(cut_prices, tiny_module, [3], days=2)
    assert result.references == tuple(n for n in capstone.REFERENCES if hasattr(policies, n))
    assert "do_nothing" in result.references


def _raises(view):
    raise KeyError("TEE-CLASSIC")


def _hangs(view):
    while True:
        pass


def _exits(view):
    os._exit(4)


@pytest.mark.parametrize("policy, status, reason", [
    (_raises, "error", "seed 1, day 0: the policy raised KeyError: 'TEE-CLASSIC'"),
    (_hangs, "timeout", "seed 1, day 0: still running after 5 s"),
    (_exits, "crashed", "seed 1, day 0: the policy ended the process (exit code 4)"),
])
def test_a_failing_policy_scores_zero_with_the_reason(tiny_module, policy, status, reason):
    result = evaluate_policy(policy, tiny_module, SEEDS, days=DAYS, timeout=5, references=["do_nothing"])
    assert (result.status, result.score) == (status, 0.0)
    assert reason in result.reason
    assert result.table["points"].eq(0).all() and result.table["profit"].isna().all()
    assert result.table["do_nothing"].notna().all()


@pytest.mark.parametrize("kwargs, error", [
    ({"policy": 42}, TypeError), ({"seeds": []}, ValueError), ({"seeds": [-1]}, ValueError),
    ({"seeds": [True]}, ValueError), ({"timeout": 0}, ValueError),
])
def test_bad_arguments_are_refused(tiny_module, kwargs, error):
    args = {"policy": cut_prices, "scenario": tiny_module, "seeds": [1], **kwargs}
    with pytest.raises(error):
        evaluate_policy(**args)


def test_points_per_seed_run_through_the_anchors():
    from shopsim.grading.capstone_scale import points

    refs = {"do_nothing": 50_000.0, "rule_based": 90_000.0, "tuned": 100_000.0}
    assert points(50_000, refs) == 0.0 and points(30_000, refs) == 0.0
    assert points(90_000, refs) == 60.0 and points(70_000, refs) == 30.0
    assert points(95_000, refs) == 80.0 and points(100_000, refs) == 100.0 and points(150_000, refs) == 100.0
    assert points(float("nan"), refs) == 0.0


def test_points_when_anchors_are_missing_or_out_of_order():
    from shopsim.grading.capstone_scale import min_gap, points

    assert points(100.0, {"do_nothing": 100.0}) == 0.0
    assert points(150.0, {"do_nothing": 100.0}) == 50.0 and points(200.0, {"do_nothing": 100.0}) == 100.0
    no_tuned = {"do_nothing": 50_000.0, "rule_based": 80_000.0}
    assert points(80_000, no_tuned) == 60.0 and points(100_000, no_tuned) == 100.0
    assert points(95_000, no_tuned) == pytest.approx(90.0)
    worse_rules = {"do_nothing": 50_000.0, "rule_based": 40_000.0, "tuned": 70_000.0}
    assert points(50_000 + min_gap(50_000), worse_rules) == 60.0  # the rules lost: beating nothing is their level
    assert points(70_000, worse_rules) == 100.0
    assert points(1e6, {"do_nothing": 10.0, "not_an_anchor": 5.0}) == 100.0


def test_the_why_of_a_seed_names_the_anchors_around_its_profit():
    from shopsim.grading.capstone_scale import why

    refs = {"do_nothing": 50_000.0, "rule_based": 90_000.0, "tuned": 100_000.0}
    assert why(95_000, refs) == ("between rule_based (90,000 yuan, 60) and tuned (100,000 yuan, 100): "
                                 "60 + 40 x 0.50 = 80.0 points")
    assert why(40_000, refs).startswith("below do_nothing") and why(120_000, refs).startswith("at or above tuned")
    lifted = {"do_nothing": 50_000.0, "rule_based": 90_000.0, "tuned": 80_000.0}
    assert why(95_000, lifted) == ("at or above tuned (80,000 yuan, below the anchor under it, so placed at 90,900; "
                                   "100): 100.0 points")


# Hostile policies: none may score more than the honest policy it amounts to.

def _edit_costs_through_the_view(view):
    view._sim.catalog.cost[:] = 0


def _hunt_the_simulation(view):
    import gc

    for obj in gc.get_objects():
        if type(obj).__name__ in ("Simulation", "Catalog"):
            obj.cost[:] = 0 if hasattr(obj, "cost") else obj.catalog.cost.fill(0)


def _abuse_the_channel(view):
    view._ask({"act": ["__setattr__", ["price", 0], {}]})
    view._ask({"act": ["set_price", [], {"self": None, "sku": view.skus[0], "price": 1}]})
    view._ask({"read": "__class__", "name": ""})
    view._ask({"read": "table", "name": "../../truth"})


def _bad_actions(view):
    view.set_price("NO-SUCH-SKU", 10.0)
    view.set_price(view.skus[0], -5)
    view.set_price(view.skus[0], float("inf"))
    view.reorder(view.skus[0], 0)
    view.discount(view.skus[0], 2.5, days=3)


def _flood(view):
    for _ in range(2000):
        view.set_price(view.skus[0], view.prices()[view.skus[0]])


def _forge_frames(view):
    import contextlib
    import os

    for fd in range(3, 20):
        with contextlib.suppress(OSError):
            os.write(fd, b"\x00\x00\x00\x05[1,2]" + b"\x7f\xff\xff\xff")


def _kill_the_parent(view):
    import os

    os.kill(os.getppid(), 9)


def _read_the_gradebook(view):
    return open("/work/main/grades.db", "rb").read()


def _cut_prices_with_one_bad_action(view):
    cut_prices(view)
    if view.day == 0:
        view.set_price("NO-SUCH-SKU", 1.0)


@pytest.mark.parametrize("policy, honest", [
    (_edit_costs_through_the_view, "fails"), (_hunt_the_simulation, "do_nothing"),
    (_abuse_the_channel, "do_nothing"), (_bad_actions, "do_nothing"), (_flood, "do_nothing"),
    (_forge_frames, "fails"), (_kill_the_parent, "do_nothing"), (_read_the_gradebook, "fails"),
])
def test_hostile_policies_earn_no_more_than_their_honest_score(tiny_module, do_nothing_result, policy, honest):
    result = evaluate_policy(policy, tiny_module, SEEDS, days=DAYS, timeout=20, references=["do_nothing"])
    ceiling = 0.0 if honest == "fails" else do_nothing_result.score
    assert result.score <= ceiling, (result.status, result.reason)
    if honest == "do_nothing" and result.status == "ok":  # and no yuan more than doing nothing
        assert (result.table["profit"] <= result.table["do_nothing"]).all()
    if honest == "fails":
        assert result.status != "ok" and "seed 1, day 0" in result.reason and result.report.startswith("seed 1")


def test_one_bad_action_is_refused_and_recorded_and_does_not_zero_the_seed(tiny_module):
    honest = evaluate_policy(cut_prices, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])
    mixed = evaluate_policy(_cut_prices_with_one_bad_action, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])
    assert mixed.status == "ok" and mixed.score == honest.score
    assert (mixed.table["profit"] == honest.table["profit"]).all()
    assert list(mixed.refusals["seed"]) == list(SEEDS) and set(mixed.refusals["day"]) == {0}
    assert mixed.refusals["reason"].str.contains("NO-SUCH-SKU").all()


def test_floods_of_actions_are_cut_at_the_daily_cap(tiny_module):
    from shopsim.grading import policy_host

    result = evaluate_policy(_flood, tiny_module, [1], days=1, references=["do_nothing"])
    assert result.status == "ok" and len(result.refusals) == 2000 - policy_host.MAX_ACTIONS


def test_a_failure_report_names_seed_day_and_traceback(tiny_module):
    def fails_on_day_2(view):
        if view.day == 2:
            raise RuntimeError("out of ideas")

    result = evaluate_policy(fails_on_day_2, tiny_module, [5], days=DAYS, references=["do_nothing"])
    assert result.reason == "seed 5, day 2: the policy raised RuntimeError: out of ideas"
    assert "Traceback" in result.report and "fails_on_day_2" in result.report


def test_the_sandboxed_policy_sees_what_the_real_view_shows(tiny_module):
    """Through the sandbox, the rule-based reference earns exactly what it earns in-process."""
    from shopsim.policies import rule_based

    run = capstone.evaluate_seed(rule_based, tiny_module, 2, DAYS, timeout=60)
    assert run.status == "ok" and run.refusals == ()
    assert run.profit == capstone.reference_profit("rule_based", tiny_module, 2, DAYS)


def test_reference_runs_are_cached(tiny_module, monkeypatch):
    capstone.reference_profit("do_nothing", tiny_module, 9, 2)
    monkeypatch.setattr(capstone.shopsim, "simulate", lambda *a, **k: pytest.fail("ran the reference again"))
    assert capstone.reference_profit("do_nothing", tiny_module, 9, 2) == capstone.reference_profit(
        "do_nothing", tiny_module, 9, 2)


def test_a_policy_given_as_source_text(tiny_module):
    source = "def policy(view):\n    if view.day == 0:\n        view.set_price(view.skus[0], 1.0)\n"
    result = evaluate_policy(source, tiny_module, [1], days=2, references=["do_nothing"])
    assert result.status == "ok" and len(result.refusals) == 0


def _averages_with_numpy(view):
    import numpy as np

    view.set_price(view.skus[0], float(np.mean(list(view.prices().values()))))


def test_the_sandbox_imports_pandas_ahead_only_for_policies_that_may_need_it():
    from shopsim.grading.policy_host import wants_pandas

    def words(policy):
        kind, data = capstone.policy_payload(policy)
        return data if kind == "pickle" else data.encode()

    assert not wants_pandas(words(cut_prices)), "prices and set_price: no table, no numpy"
    assert wants_pandas(words("def policy(view):\n    daily = view.tables['daily']\n"))
    assert wants_pandas(words(_averages_with_numpy)), "the names of a pickled function's code count"


def test_a_policy_reading_a_table_it_does_not_name_still_gets_it(tiny_module):
    source = ("def policy(view):\n"
              "    daily = getattr(view, 'tab' + 'les')['da' + 'ily']\n"
              "    if view.day == 1 and len(daily) == 1 and daily['uv'].iloc[0] > 0:\n"
              "        view.set_price(view.skus[0], 1.0)\n")
    result = evaluate_policy(source, tiny_module, [1], days=3, references=["do_nothing"])
    assert result.status == "ok" and len(result.refusals) == 0
    run = capstone.evaluate_seed(source, tiny_module, 1, 3, timeout=60)
    assert run.status == "ok" and run.profit != capstone.reference_profit("do_nothing", tiny_module, 1, 3), \
        "the price cut on day 1 (after reading yesterday's revenue) changed the profit"


# One sandbox serves all the seeds of a policy: each seed must still start from nothing.

_MORNINGS = []


def _remembers_earlier_seeds(view):
    """Cuts prices when it has seen a morning before this run's first (only possible across seeds)."""
    _MORNINGS.append(view.day)
    if view.day == 0 and len(_MORNINGS) > 1:
        cut_prices(view)


def _leaves_files(view):
    """Cuts prices when a mark of an earlier seed is in its folder, /tmp or /dev/shm; leaves marks."""
    import contextlib
    import pathlib

    marks = [pathlib.Path("mark"), pathlib.Path("/tmp/mark"), pathlib.Path("/dev/shm/mark")]
    if view.day == 0 and any(m.exists() for m in marks):
        cut_prices(view)
    for mark in marks:
        with contextlib.suppress(OSError):
            mark.write_text("seen")


def _leaves_a_process(view):
    """Leaves a process that, once its seed has ended, sends forged frames on every descriptor for 20 s."""
    import contextlib
    import json
    import struct
    import time

    if view.day != 0:
        return
    seed_process = os.getpid()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while os.getppid() == seed_process or _alive(seed_process):
                time.sleep(0.01)
            body = json.dumps({"act": ["set_price", [view.skus[0], 1.0], {}]}).encode()
            for _ in range(400):
                for fd in range(3, 20):
                    with contextlib.suppress(OSError):
                        os.write(fd, struct.pack(">I", len(body)) + body)
                time.sleep(0.05)
        os._exit(0)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("policy", [_remembers_earlier_seeds, _leaves_files, _leaves_a_process])
def test_each_seed_in_a_shared_sandbox_starts_afresh(tiny_module, policy):
    together = capstone.evaluate_seeds(policy, tiny_module, [1, 2, 3], DAYS, timeout=20)
    assert [(r.status, r.reason, r.refusals) for r in together] == [("ok", "", ())] * 3
    alone = [capstone.reference_profit("do_nothing", tiny_module, seed, DAYS) for seed in (1, 2, 3)]
    assert [r.profit for r in together] == alone  # none of them ever cuts its prices


def _reaches_the_seed_server(view):
    """Raises when it can open a descriptor or the memory of its parent, the seed server."""
    parent, reached = os.getppid(), []
    for name in [*os.listdir(f"/proc/{parent}/fd"), "mem"]:
        path = f"/proc/{parent}/mem" if name == "mem" else f"/proc/{parent}/fd/{name}"
        for flags in (os.O_WRONLY, os.O_RDONLY):
            try:
                os.close(os.open(path, flags))
                reached.append(path)
            except OSError:
                pass
    if reached:
        raise RuntimeError(f"reached {reached}")


def test_a_seed_process_cannot_reach_the_seed_server(tiny_module):
    run = capstone.evaluate_seed(_reaches_the_seed_server, tiny_module, 1, 1, timeout=20)
    assert run.status == "ok", run.reason


def _day_one_stock(scenario, seed):
    from shopsim import simulate

    seen = []
    simulate(scenario, days=2, seed=seed, policy=lambda view: seen.append(sum(view.stock().values())))
    return seen[1]


def _hangs_on_an_odd_day_one(view):
    if view.day == 1 and sum(view.stock().values()) % 2 == 1:
        while True:
            pass


def test_a_policy_that_hangs_on_a_later_seed_keeps_the_earlier_seeds(tiny_module):
    seeds = [1, 2, 3, 4]
    hangs = next(s for s in seeds if _day_one_stock(tiny_module, s) % 2 == 1)
    assert hangs > 1, "the test needs a seed before the one the policy hangs on"
    result = evaluate_policy(_hangs_on_an_odd_day_one, tiny_module, seeds, days=DAYS, timeout=15,
                             references=["do_nothing"])
    assert (result.status, result.score) == ("timeout", 0.0)
    assert result.reason == f"seed {hangs}, day 1: still running after 15 s (an endless loop?)"
    before = result.table["seed"] < hangs
    assert (result.table.loc[before, "profit"] == result.table.loc[before, "do_nothing"]).all()
    assert result.table.loc[~before, "profit"].isna().all()


def _sleeps_on_the_first_morning(view):
    import time

    if view.day == 0:
        time.sleep(5)


def test_the_time_limit_is_per_seed_not_per_sandbox(tiny_module):
    runs = capstone.evaluate_seeds(_sleeps_on_the_first_morning, tiny_module, [1, 2, 3], 2, timeout=12)
    assert [r.status for r in runs] == ["ok"] * 3  # 15 s in all, under 12 s each


def _leaves_a_file_in_its_folder(view):
    """Cuts prices when its work folder holds a mark of an earlier seed; leaves one."""
    import pathlib

    if view.day == 0 and pathlib.Path("mark").exists():
        cut_prices(view)
    pathlib.Path("mark").write_text("seen")


def test_without_bwrap_the_capstone_is_refused_unless_unsafe_and_then_scores_the_same(tiny_module, monkeypatch):
    from shopsim.grading import sandbox

    boxed = capstone.evaluate_seeds(_leaves_a_file_in_its_folder, tiny_module, [1, 2], DAYS, timeout=20)
    monkeypatch.setattr(sandbox, "available", lambda: (False, "switched off for this test"))
    with pytest.raises(sandbox.SandboxUnavailable, match="--unsafe-no-sandbox"):
        capstone.evaluate_seeds(_leaves_a_file_in_its_folder, tiny_module, [1, 2], DAYS, timeout=20)
    plain = capstone.evaluate_seeds(_leaves_a_file_in_its_folder, tiny_module, [1, 2], DAYS, timeout=20, unsafe=True)
    assert [(r.status, r.profit) for r in plain] == [(r.status, r.profit) for r in boxed]  # its folder emptied too
    alone = [capstone.reference_profit("do_nothing", tiny_module, seed, DAYS) for seed in (1, 2)]
    assert [r.profit for r in plain] == alone


# The new scale on a real month, and policies given as text (what a lesson's answer holds).

def test_on_the_capstone_month_doing_nothing_scores_0_and_the_rules_score_60():
    from shopsim import policies

    nothing = evaluate_policy(policies.do_nothing, "capstone_april", [1], days=10)
    rules = evaluate_policy(policies.rule_based, "capstone_april", [1], days=10)
    row = rules.table.iloc[0]
    assert row["do_nothing"] + 100 < row["rule_based"], "the anchors are in order on this month"
    assert (nothing.score, rules.score) == (0.0, 60.0)
    assert "rule_based" in row["why"] and rules.references == ("do_nothing", "rule_based", "tuned")


def test_policy_source_keeps_the_cells_definitions_only(tmp_path):
    import importlib.util

    (tmp_path / "trainee_cell.py").write_text(
        "import math\n\nSTEP = 0.9\n\n\ndef cut(view):\n    if view.day == 0:\n"
        "        view.set_price(view.skus[0], math.floor(view.prices()[view.skus[0]] * STEP))\n\n\n"
        "print('not sent')\nsource = capstone.policy_source(cut)\n", encoding="utf-8")
    spec = importlib.util.spec_from_file_location("trainee_cell", tmp_path / "trainee_cell.py")
    module = importlib.util.module_from_spec(spec)
    module.capstone = capstone
    spec.loader.exec_module(module)
    text = module.source
    assert "STEP = 0.9" in text and "def cut(view)" in text and text.rstrip().endswith("policy = cut")
    assert "not sent" not in text and "policy_source" not in text
    capstone.check_source(text, "capstone_policy")
    capstone.check_source("def policy(view):\n    ...\n    view.set_price('A', 50)\n", "capstone_policy")


@pytest.mark.parametrize("value, message", [
    (42, "should be the policy's source text"),
    ("def policy(view)\n    pass\n", "is not Python that runs"),
    ("def act(view):\n    pass\n", r"defines no function `policy\(view\)`"),
    ("from shopsim.policies import tuned as policy\n", "imports shopsim.policies"),
    ("from shopsim import policies\npolicy = policies.rule_based\n", "imports shopsim.policies"),
    ('def policy(view):\n    """My operator."""\n    ...\n', "not answered yet: the body of `policy"),
    ("def policy(view):\n    pass\n", "not answered yet: the body of `policy"),
])
def test_policy_text_that_cannot_be_graded_is_refused_with_the_reason(value, message):
    from shopsim.grading import checks

    with pytest.raises(checks.CheckFailed, match=message):
        checks.capstone(value, name="capstone_policy", scenario="capstone_april")


def test_a_console_plan_becomes_a_policy_that_earns_what_the_plan_earns(tiny_module):
    import shopsim
    from shopsim import plans

    plan = [{"day": 0, "lever": "set_price", "sku": "A", "price": 45},
            {"day": 1, "lever": "set_price", "sku": "NO-SUCH", "price": 1},
            {"rule": "reorder_point", "sku": "A", "reorder_point": 50, "order_qty": 100}]
    result = evaluate_policy(capstone.plan_policy_source(plan), tiny_module, [1], days=DAYS, references=["do_nothing"])
    here = shopsim.simulate(tiny_module, days=DAYS, seed=1, policy=plans.policy(plans.check(plan, DAYS), []))
    assert result.status == "ok" and result.table["profit"].iloc[0] == here.tables["pnl"]["net_profit"].sum()
    with pytest.raises(plans.PlanError, match="step 1"):
        capstone.plan_policy_source([{"day": 0, "lever": "no_such_lever"}])


def test_a_sealed_capstone_key_checks_a_policy_on_the_practice_seed_only():
    import json

    from shopsim.grading import answer_key, checks

    call = checks.Recorded("capstone", {"value": "", "at_least": 5.0, "name": "capstone_policy",
                                        "scenario": "baseline", "seeds": (201,), "days": 2, "practice_seeds": (7,),
                                        "timeout": 60.0}, True)
    key = json.loads(json.dumps([answer_key.seal(call, answer_key.salt_for("l", "q", 0))]))
    assert set(key[0]["practice"]) == {"7"} and "201" not in json.dumps(key)
    with pytest.raises(checks.CheckFailed, match=r"scored 0.0 of 100 on the practice seed; this part asks for 5"):
        answer_key.verify({"capstone_policy": "def policy(view):\n    return None\n"}, key)
