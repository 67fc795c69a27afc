"""Sweeps and grading on Dask: a LocalCluster of 2 workers, and `dask scheduler` / `dask worker` processes.

Every result must equal the serial run of the same seeds: a task is a pure function of its
arguments, wherever it runs.
"""

import os
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest
from processes import free_port, stop, wait_gone

from shopsim import cluster
from shopsim import sweep as sw
from shopsim.grading import capstone, distributed, evaluate_policy
from shopsim.grading.batch import grade_batch
from shopsim.grading.build import Course, build_lesson
from shopsim.grading.gradebook import Gradebook

pytestmark = pytest.mark.slow
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the test policies below travel by value

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS, DAYS = [1, 2, 3], 3


def cut_prices(view):
    """10 % off every SKU on the first morning."""
    if view.day == 0:
        for sku, price in view.prices().items():
            view.set_price(sku, round(price * 0.9, 2))


def raises_on_day_1(view):
    if view.day == 1:
        raise KeyError("A")


def exits(view):
    os._exit(3)


def hangs_on_an_odd_day_one(view):
    """Hangs on day 1 when the units on hand are odd: seed 3 of the tiny scenario, not seeds 1 and 2."""
    if view.day == 1 and sum(view.stock().values()) % 2 == 1:
        while True:
            pass


def needs_the_sandbox(view):
    """Fails unless it runs in the grading sandbox (its work folder is /sandbox)."""
    if os.getcwd() != "/sandbox":
        raise RuntimeError(f"not sandboxed: running in {os.getcwd()}")


@pytest.fixture(scope="module")
def local_client():
    with cluster.connect(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def tiny_sc():
    from conftest import TINY

    from shopsim import scenario

    return scenario.from_dict(TINY, "tiny")


def test_a_local_cluster_has_the_workers_asked_for(local_client):
    assert len(local_client.scheduler_info(n_workers=-1)["workers"]) == 2
    assert cluster.local_workers() >= 1


def test_a_sweep_on_the_cluster_equals_the_serial_run(local_client, tiny_sc):
    specs = [sw.parse_policy("shopsim.policies:do_nothing"),
             sw.parse_policy(f"{FIXTURES}/sweep_policies.py:cut_prices")]
    done = []
    on_cluster = sw.sweep(tiny_sc, specs, SEEDS, days=DAYS, client=local_client, on_done=done.append)
    serial = sw.sweep(tiny_sc, specs, SEEDS, days=DAYS)
    pd.testing.assert_frame_equal(on_cluster.table, serial.table)
    pd.testing.assert_frame_equal(on_cluster.summary, serial.summary)
    assert sorted(done) == list(range(6))


@pytest.mark.parametrize("policy", [cut_prices, raises_on_day_1, exits])
def test_a_capstone_on_the_cluster_equals_the_serial_one(local_client, tiny_sc, policy):
    serial = evaluate_policy(policy, tiny_sc, SEEDS, days=DAYS, timeout=20)
    on_cluster = evaluate_policy(policy, tiny_sc, SEEDS, days=DAYS, timeout=20, client=local_client)
    pd.testing.assert_frame_equal(on_cluster.table, serial.table)
    assert (on_cluster.score, on_cluster.status, on_cluster.reason) == (serial.score, serial.status, serial.reason)
    assert serial.status == {"cut_prices": "ok", "raises_on_day_1": "error", "exits": "crashed"}[policy.__name__]


def test_a_cohort_shares_the_reference_runs(local_client, tiny_sc, monkeypatch):
    cohort = {"li": cut_prices, "wang": raises_on_day_1, "zhao": capstone.policies.do_nothing,
              "zhou": hangs_on_an_odd_day_one}
    on_cluster = distributed.evaluate_cohort(cohort, tiny_sc, SEEDS, days=DAYS, timeout=15, client=local_client)
    assert list(on_cluster) == ["li", "wang", "zhao", "zhou"]
    for name, policy in cohort.items():
        alone = evaluate_policy(policy, tiny_sc, SEEDS, days=DAYS, timeout=15)
        pd.testing.assert_frame_equal(on_cluster[name].table, alone.table)
        assert (on_cluster[name].score, on_cluster[name].reason) == (alone.score, alone.reason)
    assert on_cluster["zhou"].reason.startswith("seed 3, day 1: still running")
    assert on_cluster["zhou"].table["profit"].notna().tolist() == [True, True, False]
    calls = []
    real = capstone.reference_profits
    monkeypatch.setattr(capstone, "reference_profits", lambda *a: calls.append(a[1]) or real(*a))
    distributed.evaluate_cohort(cohort, tiny_sc, SEEDS, days=DAYS, timeout=15)
    assert calls == SEEDS  # once per seed, not once per trainee and seed


def test_a_trainee_task_runs_a_group_of_seeds_in_one_sandbox():
    assert distributed.seed_groups(list(range(1, 11)), trainees=100, slots=2) == [list(range(1, 11))]
    assert distributed.seed_groups([1, 2, 3], trainees=1, slots=2) == [[1], [2], [3]]
    assert distributed.seed_groups(list(range(1, 11)), trainees=2, slots=4) == [[1, 2], [3, 4, 5], [6, 7], [8, 9, 10]]
    assert distributed.seed_groups([5, 6], trainees=3, slots=0) == [[5, 6]]  # no cluster: one group


def test_each_trainee_task_runs_in_the_sandbox_inside_the_worker(local_client, tiny_sc):
    from shopsim.grading import sandbox

    if not sandbox.available()[0]:
        pytest.skip(sandbox.available()[1])
    on_cluster = distributed.evaluate_cohort({"li": needs_the_sandbox}, tiny_sc, SEEDS, days=DAYS, timeout=20,
                                             client=local_client)["li"]
    assert on_cluster.status == "ok", on_cluster.reason


def test_batch_grading_on_the_cluster_equals_grading_here(local_client, tmp_path):
    lesson = build_lesson(Course(FIXTURES / "course").master("ex-daily-report"))
    subs = [FIXTURES / "course" / "submissions" / f"{n}.ipynb" for n in ("correct", "wrong", "broken", "exiting")]
    here = grade_batch(lesson, subs, Gradebook(tmp_path / "here.db"), jobs=2, timeout=60)
    there = grade_batch(lesson, subs, Gradebook(tmp_path / "there.db"), timeout=60, client=local_client)
    assert [(o.submission.trainee, o.status, o.points) for o in there] == \
           [(o.submission.trainee, o.status, o.points) for o in here]
    assert [o.status for o in there] == ["graded", "cell_errors", "invalid", "exited"]
    assert {g.sandbox for o in there if o.status != "invalid" for g in o.grades} == {"bwrap"}  # on each worker


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1; all gone afterwards."""
    import psutil

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    here = [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(here))  # Dask's default (daemonic) worker processes
    logs = tmp_path_factory.mktemp("dask")
    commands = [["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [["worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]] * 2
    procs = []
    for i, command in enumerate(commands):
        with open(logs / f"dask{i}.log", "w") as log:
            procs.append(subprocess.Popen([bindir / "dask", *command], env=env, start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=log))
    tree = [psutil.Process(p.pid) for p in procs]
    try:
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        tree += [c for p in tree if p.is_running() for c in p.children(recursive=True)]
        for p in procs:
            stop(p)
        left = wait_gone(tree, 10)
        assert not left, f"left behind: {left}"


def _shopsim(*argv):
    return subprocess.run([sys.executable, "-m", "shopsim.cli", *argv], capture_output=True, text=True, timeout=300)


def test_the_sweep_command_on_scheduler_and_worker_processes_equals_the_serial_run(scheduler_address, tmp_path):
    out = tmp_path / "sweep.parquet"
    done = _shopsim("sweep", "baseline", "--policy", "shopsim.policies:rule_based", "--seeds", "1-4", "--days", "3",
                    "--scheduler", scheduler_address, "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert f"4 runs on 2 workers ({scheduler_address})" in done.stdout
    serial = sw.sweep("baseline", [sw.parse_policy("shopsim.policies:rule_based")], [1, 2, 3, 4], days=3).table
    pd.testing.assert_frame_equal(pd.read_parquet(out), serial)


def test_the_grade_command_on_scheduler_and_worker_processes(scheduler_address, tmp_path):
    subs = [FIXTURES / "course" / "submissions" / f"{n}.ipynb" for n in ("correct", "blank")]
    done = _shopsim("grade", "ex-daily-report", *map(str, subs), "--course", str(FIXTURES / "course"),
                    "--gradebook", str(tmp_path / "g.db"), "--scheduler", scheduler_address, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "correct        7/7  graded" in done.stdout and "2 submissions graded" in done.stdout


def test_a_capstone_on_scheduler_and_worker_processes_equals_the_serial_one(scheduler_address, tiny_sc):
    from distributed import Client

    with Client(scheduler_address) as client:
        for policy in (cut_prices, exits):
            on_cluster = evaluate_policy(policy, tiny_sc, SEEDS, days=DAYS, timeout=20, client=client)
            serial = evaluate_policy(policy, tiny_sc, SEEDS, days=DAYS, timeout=20)
            pd.testing.assert_frame_equal(on_cluster.table, serial.table)
            assert (on_cluster.score, on_cluster.reason) == (serial.score, serial.reason)


def test_an_unreachable_scheduler_is_one_line_and_exit_2(monkeypatch):
    done = subprocess.run([sys.executable, "-c", "import shopsim.cluster as c, sys; c.CONNECT_TIMEOUT = 1; "
                           "from shopsim.cli import main; sys.exit(main(sys.argv[1:]))", "sweep", "baseline",
                           "--seeds", "1", "--scheduler", f"tcp://127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr
    assert "Traceback" not in done.stderr
