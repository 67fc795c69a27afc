"""Sweeps: seeds and policy names parsed with one clear error, one row of totals per (policy, seed)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from shopsim import reports, simulate
from shopsim import sweep as sw
from shopsim.policies import do_nothing

FIXTURE = Path(__file__).parent / "fixtures" / "sweep_policies.py"


@pytest.mark.parametrize("text, seeds", [
    ("1-5", [1, 2, 3, 4, 5]), ("7", [7]), ("3,1,2", [3, 1, 2]), ("1-3,2-4", [1, 2, 3, 4]), (" 0 - 2 ", [0, 1, 2]),
])
def test_seed_lists(text, seeds):
    assert sw.parse_seeds(text) == seeds


@pytest.mark.parametrize("text, message", [
    ("5-1", "runs backwards"), ("a", "whole numbers"), ("-3", "whole numbers"), ("1-", "whole numbers"),
    ("", "whole numbers"), ("0-100000", "more than 100,000"),
])
def test_bad_seed_lists_are_refused(text, message):
    with pytest.raises(sw.SweepError, match=message):
        sw.parse_seeds(text)


def test_policies_by_module_or_by_file():
    assert sw.parse_policy("shopsim.policies:do_nothing").resolve() is do_nothing
    spec = sw.parse_policy(f"{FIXTURE}:cut_prices")
    assert spec.source and spec.resolve().__name__ == "cut_prices"


@pytest.mark.parametrize("text, message", [
    ("shopsim.policies", "give module:function"), ("shopsim.policies:no_such", "not a function"),
    ("no_such_module:f", "ModuleNotFoundError"), (f"{FIXTURE}:NOT_A_FUNCTION", "not a function"),
    ("/no/such/file.py:f", "cannot read"), ("shopsim.policies:1bad", "give module:function"),
])
def test_bad_policy_names_are_refused(text, message):
    with pytest.raises(sw.SweepError, match=message):
        sw.parse_policy(text)


def test_a_row_is_the_runs_period_totals(tiny):
    row = sw.sweep_row(sw.parse_policy("shopsim.policies:do_nothing"), tiny, 4, 3)
    t = simulate(tiny, days=3, seed=4, policy=do_nothing).tables
    people = reports.unique_visitors(t["sessions"]), reports.paying_buyers(t["orders"])
    expected = {"policy": "shopsim.policies:do_nothing", "seed": 4, "days": 3,
                **reports.period_totals(t["daily"], t["pnl"], t["ads"], *people)}
    assert pd.Series(row).equals(pd.Series(expected))  # NaN == NaN here (no ads: ROAS undefined)
    assert row["net_profit"] == pytest.approx(float(t["pnl"]["net_profit"].sum()))


def test_a_sweep_has_a_row_per_policy_and_seed_and_a_summary_per_policy_and_kpi(tiny):
    specs = [sw.parse_policy("shopsim.policies:do_nothing"), sw.parse_policy(f"{FIXTURE}:cut_prices")]
    result = sw.sweep(tiny, specs, [1, 2, 3], days=2)
    table = result.table
    assert list(table.columns) == ["policy", "seed", "days", *reports.PERIOD_COLUMNS]
    assert len(table) == 6 and list(table["seed"]) == [1, 2, 3] * 2 and (table["days"] == 2).all()
    nothing, cut = (table[table["policy"] == s.name].reset_index(drop=True) for s in specs)
    assert (cut["net_profit"] != nothing["net_profit"]).all()
    assert len(set(nothing["net_profit"])) == 3  # seeds differ
    summary = result.summary
    assert len(summary) == 2 * len(reports.PERIOD_COLUMNS)
    profit = summary[(summary["policy"] == specs[0].name) & (summary["kpi"] == "net_profit")].iloc[0]
    assert profit["mean"] == pytest.approx(nothing["net_profit"].mean())
    assert profit["min"] <= profit["p05"] <= profit["median"] <= profit["p95"] <= profit["max"]
    assert profit["ci95"] == pytest.approx(1.96 * nothing["net_profit"].std() / 3 ** 0.5)
    again = sw.sweep(tiny, specs, [1, 2, 3], days=2)
    pd.testing.assert_frame_equal(again.table, table)


@pytest.mark.parametrize("kwargs, message", [({"seeds": []}, "non-empty"), ({"seeds": [-1]}, "non-empty"),
                                             ({"policies": []}, "at least one policy")])
def test_bad_sweeps_are_refused(tiny, kwargs, message):
    args = {"scenario": tiny, "policies": [None], "seeds": [1], **kwargs}
    with pytest.raises(sw.SweepError, match=message):
        sw.sweep(**args)


def _shopsim(*argv, cwd=None):
    return subprocess.run([sys.executable, "-m", "shopsim.cli", *argv], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


@pytest.mark.slow
def test_the_sweep_command_prints_and_writes_the_table_and_summary(tiny_dict, tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny_dict), encoding="utf-8")
    out = tmp_path / "sweep.csv"
    done = _shopsim("sweep", str(scenario), "--policy", "shopsim.policies:do_nothing", "--seeds", "1-3", "--days", "2",
                    "--workers", "2", "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "3 runs on 2 workers (a LocalCluster on this machine)" in done.stdout
    assert "Summary over seeds" in done.stdout and "net_profit" in done.stdout
    table = pd.read_csv(out)
    serial = sw.sweep(str(scenario), [sw.parse_policy("shopsim.policies:do_nothing")], [1, 2, 3], days=2).table
    pd.testing.assert_frame_equal(table, serial, check_dtype=False)
    summary = pd.read_csv(tmp_path / "sweep-summary.csv")
    assert set(summary["kpi"]) == set(reports.PERIOD_COLUMNS)


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "9-1"], "runs backwards"), (["--policy", "nope"], "give module:function"),
    (["--out", "x.txt"], ".csv or .parquet"), (["--days", "0"], "out of range"), (["--workers", "0"], "out of range"),
])
def test_bad_sweep_arguments_are_one_line_and_exit_2(argv, message):
    done = _shopsim("sweep", "baseline", "--seeds", "1", *argv)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
