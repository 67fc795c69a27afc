"""Capstone evaluation: profit per seed against the reference policies; failing policies score 0."""

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


def test_matching_the_reference_scores_50(do_nothing_result):
    result = do_nothing_result
    assert result.status == "ok" and result.reason == "" and result.score == 50.0
    assert list(result.table.columns) == ["seed", "profit", "do_nothing", "points"]
    assert list(result.table["seed"]) == list(SEEDS)
    assert (result.table["profit"] == result.table["do_nothing"]).all()
    assert "capstone score 50.0 / 100" in repr(result) and "<table" in result._repr_html_()


def test_a_different_policy_gets_its_own_profit_and_a_score_between_0_and_100(tiny_module, do_nothing_result):
    result = evaluate_policy(cut_prices, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])
    assert result.status == "ok"
    assert (result.table["do_nothing"] == do_nothing_result.table["do_nothing"]).all()
    assert (result.table["profit"] != result.table["do_nothing"]).all()
    assert 0 <= result.score <= 100 and result.score != 50.0


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


def test_points_per_seed():
    assert capstone._points(100.0, 100.0) == 0.5
    assert capstone._points(200.0, 100.0) == 1.0
    assert capstone._points(0.0, 100.0) == 0.0
    assert capstone._points(-50.0, -100.0) == 0.75


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
    if honest == "fails":
        assert result.status != "ok" and "seed 1, day 0" in result.reason and result.report.startswith("seed 1")


def test_one_bad_action_is_refused_and_recorded_and_does_not_zero_the_seed(tiny_module):
    honest = evaluate_policy(cut_prices, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])
    mixed = evaluate_policy(_cut_prices_with_one_bad_action, tiny_module, SEEDS, days=DAYS, references=["do_nothing"])
    assert mixed.status == "ok" and mixed.score == honest.score > 0
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
