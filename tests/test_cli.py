"""The shopsim command: scenarios, validate, run; errors are messages with exit 2, never tracebacks."""

import subprocess
import sys

import pandas as pd
import pytest

from shopsim import TABLES
from shopsim.cli import main


def test_scenarios_lists_bundled_with_descriptions(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "high_traffic" in out
    assert "apparel shop" in out


def test_validate_good_file(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text("extends: baseline\nname: ok\ndays: 10\n")
    assert main(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_bad_file_lists_every_problem_with_paths(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("extends: baseline\nname: bad\ndays: 0\ncolour: red\nskus:\n  - {sku: TEE-CLASSIC, price: -3}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any("days" in line and "allowed from 1 to 3660" in line for line in err)
    assert any("colour" in line and "unknown key" in line for line in err)
    assert any("skus[0].price" in line for line in err)
    assert all(line.startswith(str(path)) for line in err)


def test_validate_not_yaml(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("skus: [1, 2\n")
    assert main(["validate", str(path)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_run_writes_every_table_and_prints_report(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "baseline", "--days", "3", "--seed", "4", "--set", "skus.TEE-CLASSIC.price=65",
                 "--out", str(out), "--format", "parquet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Daily report" in printed and "net profit" in printed
    for name in TABLES:
        assert (out / f"{name}.parquet").is_file()
    daily = pd.read_parquet(out / "daily.parquet")
    assert len(daily) == 3
    items = pd.read_parquet(out / "order_items.parquet")
    assert (items.loc[items["sku"] == "TEE-CLASSIC", "unit_list_price"] == 65).all()


@pytest.mark.parametrize("argv, message", [
    (["run", "no_such_scenario"], "bundled"),
    (["run", "baseline", "--days", "0"], "allowed 1 to 3660"),
    (["run", "baseline", "--seed", "-1"], "negative"),
    (["run", "baseline", "--set", "skus.NOPE.price=3"], "NOPE"),
    (["run", "baseline", "--format", "xlsx"], "invalid choice"),
])
def test_bad_arguments_are_one_message_and_nonzero_exit(argv, message):
    done = subprocess.run([sys.executable, "-m", "shopsim.cli", *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_run_and_its_report_need_neither_pandas_nor_the_plugins():
    """``import shopsim``, a simulation and ``shopsim run`` without --out stay on numpy: pandas
    (and the grading and console plug-ins) load only when a table or those commands are used."""
    code = ("import sys, shopsim\n"
            "shopsim.simulate('festival_double11', 3, seed=1)\n"
            "from shopsim.cli import main\n"
            "main(['run', 'baseline', '--days', '2'])\n"
            "heavy = ('pandas', 'matplotlib', 'shopsim.grading', 'shopsim.console')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Daily report" in done.stdout and done.stdout.strip().endswith("[]")


def test_a_long_run_shows_a_progress_bar(monkeypatch, capsys):
    import shopsim.cli as cli

    monkeypatch.setattr(cli, "_PROGRESS_FROM_SECONDS", 0.0)  # every run counts as long
    assert main(["run", "baseline", "--days", "3"]) == 0
    assert "simulating" in capsys.readouterr().err
    monkeypatch.setattr(cli, "_PROGRESS_FROM_SECONDS", 1e9)
    assert main(["run", "baseline", "--days", "3"]) == 0
    assert "simulating" not in capsys.readouterr().err
