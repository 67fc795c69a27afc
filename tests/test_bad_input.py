"""Bad input anywhere gets one clear error (issue 14): each repro of the issue, as a regression test.

Scenario files, ``--set`` overrides, levers, the console and the command line: every bad input
ends in one ScenarioError / ActionError / exit 2 that says what was wrong and what is allowed,
stays short, and changes nothing.
"""

from __future__ import annotations

import decimal
import fractions
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import TINY
from invariants import fingerprint

import shopsim
from shopsim import ActionError, ScenarioError
from shopsim.cli import main
from shopsim.console.model import ConsoleModel

ROOT = Path(__file__).resolve().parents[1]
FESTIVAL = {"name": "spring", "main_day": "2026-03-04", "presale_days": 1, "slump_days": 1}


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def tiny_text(**changes) -> str:
    data = {**TINY, **changes}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def problems(path_or_name, overrides=(), **kw) -> str:
    """The whole message of the ScenarioError loading raises (it must raise one)."""
    with pytest.raises(ScenarioError) as info:
        shopsim.load_scenario(path_or_name, overrides, **kw)
    text = str(info.value)
    assert len(text.encode()) < 2048, "an error message must stay short"
    return text


# -- scenario loading ---------------------------------------------------------------------------
@pytest.mark.parametrize("line, words", [
    ("start: 2026-02-30", ("start", "2026-02-30", "not a real calendar day")),
    ("start: 2026-13-01", ("start", "not a real calendar day")),
    ("start: 2026-03-02T10:00:00+05:00", ("start", "not a date", "YYYY-MM-DD")),
    ("start: 2300-01-01", ("start", "outside the supported dates", "2100-12-31")),
    ("start: 2263-01-01", ("start", "outside the supported dates")),
    ("start: 1890-01-01", ("start", "outside the supported dates", "2000-01-01")),
    ("name: !!float abc", ("line 1", "cannot read 'abc' as float")),
    ("name: !!bool maybe", ("line 1", "cannot read 'maybe' as bool")),
    ("name: !!int 12x", ("line 1", "as int")),
    ("name: !!binary a", ("line 1", "base64")),
    ("name: !!python/object:os.system x", ("line 1", "not valid YAML")),
    ("name: 618", ("name", "quote", "'618'")),
    ("name: yes", ("name", "quotes")),
])
def test_bad_values_in_a_file_are_one_scenario_error(tmp_path, line, words):
    text = tiny_text().replace("name: tiny", line, 1)
    text = text.replace("start: '2026-03-02'", line, 1) if line.startswith("start") else text
    message = problems(write(tmp_path / "s.yaml", text))
    assert all(w in message for w in words), message


def test_a_festival_on_a_day_that_does_not_exist(tmp_path):
    path = write(tmp_path / "f.yaml", tiny_text(festivals=[{**FESTIVAL, "main_day": "2026-06-31"}]))
    assert "festivals[0].main_day: '2026-06-31' is not a real calendar day" in problems(path)


def test_a_date_override_is_checked_like_the_file():
    message = problems("baseline", ["start=2026-02-30"])
    assert "start: '2026-02-30' is not a real calendar day" in message
    assert "outside the supported dates" in problems("baseline", ["start=2300-01-01"])


def test_a_file_that_is_not_utf8(tmp_path):
    path = write(tmp_path / "latin.yaml", "name: caf\xe9\n".encode("latin-1"))
    assert "byte 10 is not UTF-8 text" in problems(path)


@pytest.mark.parametrize("text, words", [
    ("a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(350)), "nesting deeper than 40"),
    ("skus: " + "[" * 350 + "]" * 350, "brackets nest 350 deep"),
    ("skus: " + "[" * 50_000, "opening brackets"),
    ("skus: " + "{a: " * 45 + "1" + "}" * 45, "nest"),
])
def test_deep_nesting_is_refused_before_parsing(tmp_path, text, words):
    assert words in problems(write(tmp_path / "deep.yaml", text))


def test_fifty_thousand_brackets_do_not_crash_the_process(tmp_path):
    path = write(tmp_path / "brackets.yaml", "[" * 50_000 + "]" * 50_000)
    done = subprocess.run([sys.executable, "-m", "shopsim.cli", "validate", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "brackets" in done.stderr and "Traceback" not in done.stderr


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 9):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(lines) + "\nname: *i\n"
    assert len(text) < 700
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "shopsim.cli", "validate", str(write(tmp_path / "bomb.yaml", text))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr) < 2048
    assert "aliases" in done.stderr
    assert time.perf_counter() - started < 30


def test_an_alias_to_itself_is_refused(tmp_path):
    assert "refers to a value that contains it" in problems(write(tmp_path / "loop.yaml", "a: &a [*a]\n"))


def test_a_very_long_extends_chain_is_one_error(tmp_path):
    for i in range(1200):
        write(tmp_path / f"s{i}.yaml", f"extends: s{i + 1}.yaml\n" if i < 1199 else tiny_text())
    assert "a chain of more than 16 files" in problems(tmp_path / "s0.yaml")


def test_a_huge_file_is_refused_unread(tmp_path):
    path = write(tmp_path / "big.yaml", "# " + "x" * 2_100_000 + "\n")
    assert "a scenario file may have at most 2,000,000" in problems(path)


# -- scenarios that passed validation but failed when run ------------------------------------------
def test_a_festival_hour_shape_of_zeros(tiny_dict):
    tiny_dict["festivals"] = [{**FESTIVAL, "main_day_hour_shape": [0] * 24}]
    with pytest.raises(ScenarioError, match=r"festivals\[0\].main_day_hour_shape: needs at least one positive"):
        shopsim.scenario.from_dict(tiny_dict)


def test_a_run_that_ends_after_the_supported_dates(tiny_dict):
    tiny_dict.update(start="2100-12-01", days=60)
    with pytest.raises(ScenarioError, match="ends on 2101-01-29, after the last supported day 2100-12-31"):
        shopsim.scenario.from_dict(tiny_dict)


@pytest.mark.parametrize("start", ["2000-01-01", "2100-12-27"])
def test_the_first_and_last_supported_dates_run(tiny_dict, start):
    tiny_dict.update(start=start, days=5)
    sim = shopsim.simulate(shopsim.scenario.from_dict(tiny_dict), seed=1)
    daily = sim.tables["daily"]
    assert str(daily["date"].iloc[0].date()) == start
    assert daily["gmv"].sum() > 0 and sim.tables["orders"]["ts"].dt.hour.between(0, 23).all()


def test_an_event_after_the_run_is_an_error(tiny_dict):
    tiny_dict.update(days=30, timeline=[{"day": 99, "kind": "traffic_shock", "value": 2, "days": 1}])
    with pytest.raises(ScenarioError, match=r"timeline\[0\].day: day 99 is after the run's last day \(29"):
        shopsim.scenario.from_dict(tiny_dict)
    tiny_dict["skus"][0]["cost"] = "cheap"  # reported together with a field problem
    problems = pytest.raises(ScenarioError, shopsim.scenario.from_dict, tiny_dict).value.problems
    assert [p.split(":")[0] for p in problems] == ["skus[0].cost", "timeline[0].day"]


@pytest.mark.parametrize("main_day, ok", [("2026-09-01", False), ("2026-01-01", False), ("2026-03-07", True),
                                          ("2026-03-01", True)])
def test_a_festival_must_touch_the_run(tiny_dict, main_day, ok):
    tiny_dict["festivals"] = [{**FESTIVAL, "main_day": main_day}]
    if ok:
        shopsim.scenario.from_dict(tiny_dict)
    else:
        with pytest.raises(ScenarioError, match="falls outside the run"):
            shopsim.scenario.from_dict(tiny_dict)


# -- overrides ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("override, words", [
    ("skus.².price=1", "'²' is neither an index"),
    ("skus..price=1", "write path.to.field=VALUE"),
    ("name=" + "[" * 60 + "]" * 60, "the value"),
    ("x" * 5000 + "=1", "unknown key"),
    (".".join(["shop"] * 20) + "=1", "at most 12 names"),
    ("days=1e999", "days"),
    ("shop.name.x=1", "is a value, not a section"),
])
def test_bad_overrides_are_one_scenario_error(override, words):
    assert words in problems("baseline", [override])


def test_overrides_must_be_a_list_of_texts():
    assert "a list of 'path=VALUE' strings" in problems("baseline", "days=3")
    assert "a list of 'path=VALUE' strings" in problems("baseline", 3)
    assert "write a text path.to.field=VALUE" in problems("baseline", [3])


# -- levers ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def festival_scenario(make_tiny):
    return make_tiny(festivals=[FESTIVAL])


@pytest.mark.parametrize("lever, args, words", [
    ("improve_listing", ("A", np.array(["title"])), "unknown listing work"),
    ("improve_listing", (np.array(["A"]), "title"), "unknown SKU"),
    ("set_display", (np.array(["new_shoppers"]), 1, 1), "unknown audience"),
    ("set_display", ("new_shoppers", np.array([1.0]), 1), "cpm_bid must be a number"),
    ("enrol_festival", (np.array(["spring"]), 0.2), "unknown festival"),
    ("send_crm", (np.array(["followers"]),), "unknown segment"),
    ("send_crm", ("followers", 0, "junk", -5), "coupon_threshold must be a number"),
    ("send_crm", ("followers", 0, 0, -5), "coupon_days -5 is out of range"),
    ("send_crm", ("followers", 0, 50), "coupon_threshold needs a coupon"),
    ("send_crm", ("followers", 0.5, 50), "too small"),
    ("spend_and_save", ([(10**400, 5)], 7), "threshold is out of range"),
    ("spend_and_save", ([("199", "20")], 7), "threshold must be a number"),
    ("spend_and_save", ([(b"199", 20)], 7), "threshold must be a number"),
    ("spend_and_save", ([(decimal.Decimal("199"), 20)], 7), "threshold must be a number"),
    ("spend_and_save", ("199:20", 7), "a list of (threshold, amount) pairs"),
    ("spend_and_save", ([(199, 20, 1)], 7), "a list of (threshold, amount) pairs"),
    ("set_price", ("A", decimal.Decimal("59.9")), "price must be a number"),
    ("set_price", ("A", fractions.Fraction(1, 3)), "price must be a number"),
    ("set_price", ("A", "59"), "price must be a number"),
    ("set_price", ("A", np.array(59.0)), "price must be a number"),
    ("reorder", ("A", 5.0), "(no decimals)"),
    ("reorder", ("A", np.float64(5)), "(no decimals)"),
    ("set_ads_active", (1,), "True or False"),
    ("reply_to_review", (np.array([1]),), "whole number"),
    ("set_keyword_bid", (np.array(["tee"]), 1), "unknown keyword"),
    ("discount", ("A", 0.2, 3, "tomorrow"), "start_day must be a whole number"),
    ("flash_sale", ("A", 30, 10, 2, 24), "start_hour 24 is out of range"),
])
def test_levers_refuse_anything_but_plain_scalars(festival_scenario, lever, args, words):
    sim = shopsim.Simulation(festival_scenario, seed=1)
    before = fingerprint(sim)
    with pytest.raises(ActionError) as info:
        getattr(sim, lever)(*args)
    assert words in str(info.value) and len(str(info.value)) < 2048
    assert fingerprint(sim) == before


@pytest.mark.parametrize("lever, args", [
    ("set_price", ("A", np.float32(59.5))),
    ("reorder", ("A", np.int16(5))),
    ("set_ads_active", (np.bool_(False),)),
    ("set_display", (np.str_("new_shoppers"), np.float64(20), np.int64(100))),
    ("send_crm", ("followers", np.int64(5), 99, np.int32(3))),
    ("spend_and_save", (((np.int64(199), 20.0), [299, np.float64(40)]), 7)),
    ("enrol_festival", ("spring", np.float64(0.2))),
])
def test_numpy_scalars_of_the_right_kind_are_accepted(festival_scenario, lever, args):
    sim = shopsim.Simulation(festival_scenario, seed=1)
    getattr(sim, lever)(*args)
    assert sim.tables["events"]["kind"].iloc[-1] == lever


def test_a_long_value_is_echoed_short(festival_scenario):
    sim = shopsim.Simulation(festival_scenario, seed=1)
    with pytest.raises(ActionError) as info:
        sim.set_price("A" * 100_000, 10)
    assert len(str(info.value)) < 300


# -- console ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lever, field", [("set_price", "sku"), ("reorder", "sku"), ("set_display", "audience"),
                                          ("send_crm", "segment"), ("set_keyword_bid", "keyword")])
def test_a_blank_choice_in_the_console_names_the_field(tiny, lever, field):
    model = ConsoleModel(tiny, seed=1)
    before = fingerprint(model.sim)
    model.set(lever, field, "")
    result = model.apply(lever)
    assert not result.ok and "simulator failed" not in result.message
    assert "first" in result.message
    assert fingerprint(model.sim) == before


# -- validation messages ---------------------------------------------------------------------------------
def test_unknown_sku_is_reported_with_the_field_errors(tiny_dict):
    tiny_dict["skus"][0]["price"] = "cheap"
    tiny_dict["keywords"][0]["relevance"]["NOPE"] = 0.5
    message = str(pytest.raises(ScenarioError, shopsim.scenario.from_dict, tiny_dict).value)
    assert "skus[0].price: 'cheap' is not a number" in message
    assert "keywords[0].relevance.NOPE: unknown SKU" in message


@pytest.fixture
def family(tmp_path):
    """A parent with a bad field and a child that adds a bad SKU and overrides one of the parent's."""
    parent = {**TINY, "customers": {**TINY["customers"], "followers": -1}}
    write(tmp_path / "parent.yaml", yaml.safe_dump(parent, sort_keys=False))
    write(tmp_path / "child.yaml", "extends: parent.yaml\nname: child\nskus:\n"
                                   "  - {sku: B, price: -5}\n"
                                   "  - {sku: C, name: Tee C, category: tees, cost: 5, price: 3, initial_stock: 1}\n")
    return tmp_path


def test_problems_name_the_file_they_are_in_with_its_own_indices(family):
    with pytest.raises(ScenarioError) as info:
        shopsim.load_scenario(family / "child.yaml")
    located = set(zip(info.value.sources, info.value.problems, strict=True))
    child, parent = str(family / "child.yaml"), str(family / "parent.yaml")
    found = {(s, p.split(":")[0]) for s, p in located}
    assert (parent, "customers.followers") in found
    assert (child, "skus[0].price") in found, "B is the child's first SKU (the merged list's second)"
    assert (child, "skus[1].price") in found, "C is the child's second SKU (the merged list's third)"
    assert (child, "skus[1]") in found
    assert all("skus[2]" not in p for p in info.value.problems)


def test_the_cli_prints_each_problem_under_its_file(family, capsys):
    assert main(["validate", str(family / "child.yaml")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"{family / 'parent.yaml'}: customers.followers") for line in err)
    assert any(line.startswith(f"{family / 'child.yaml'}: skus[1].price") for line in err)


def test_problems_from_an_override_name_the_override():
    with pytest.raises(ScenarioError) as info:
        shopsim.load_scenario("baseline", ["skus.TEE-CLASSIC.price=-3"])
    assert "--set skus.TEE-CLASSIC.price" in info.value.sources


def test_many_problems_make_a_short_message(tiny_dict):
    tiny_dict.update({f"unknown_{i}": i for i in range(500)})
    error = pytest.raises(ScenarioError, shopsim.scenario.from_dict, tiny_dict).value
    assert len(error.problems) == 500 and len(str(error)) < 2048
    assert "more problems" in str(error)


# -- paths -------------------------------------------------------------------------------------------------
def test_extends_outside_the_folder_is_refused_and_nothing_echoed(tmp_path):
    secret = write(tmp_path / "secret.yaml", "password: hunter2\n")
    (tmp_path / "course").mkdir()
    child = write(tmp_path / "course" / "mine.yaml", "extends: ../secret.yaml\nname: mine\n")
    message = problems(child)
    assert "is outside" in message and "hunter2" not in message and "password" not in message
    message = problems(write(tmp_path / "course" / "abs.yaml", f"extends: {secret}\nname: x\n"))
    assert "absolute path" in message and "hunter2" not in message
    message = problems(write(tmp_path / "course" / "txt.yaml", "extends: notes.txt\nname: x\n"))
    assert "nor a .yaml file" in message


def test_extends_is_relative_to_the_extending_file(tmp_path, monkeypatch):
    write(tmp_path / "base.yaml", tiny_text())
    sub = tmp_path / "sub"
    sub.mkdir()
    write(sub / "mid.yaml", "extends: ../base.yaml\nname: mid\n")
    write(tmp_path / "top.yaml", "extends: sub/mid.yaml\nname: top\n")
    monkeypatch.chdir(sub)  # the current folder plays no part
    assert shopsim.load_scenario(tmp_path / "top.yaml").name == "top"
    assert "is outside" in problems(sub / "mid.yaml")
    assert shopsim.load_scenario(sub / "mid.yaml", root=tmp_path).name == "mid"


def test_a_scenario_file_must_be_yaml(tmp_path):
    assert "not a .yaml or .yml file" in problems(write(tmp_path / "notes.txt", "secret: 1\n"))


def test_dataset_names_are_confined(tmp_path, capsys):
    code = main(["dataset", "build", "../../x", "--root", str(ROOT)])
    assert code == 2 and "is not a dataset name" in capsys.readouterr().err
    assert not (ROOT.parent.parent / "x").exists()


@pytest.mark.parametrize("argv", [["dataset", "build"], ["course", "build"]])
def test_content_builders_need_a_project_folder(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert "has no" in capsys.readouterr().err
    assert main([*argv, "--root", str(tmp_path)]) == 2


def test_out_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    write(out / "notes.txt", "keep me")
    assert main(["run", "baseline", "--days", "1", "--out", str(out)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main(["run", "baseline", "--days", "1", "--out", str(out), "--force"]) == 0
    assert (out / "daily.csv").is_file() and (out / "notes.txt").read_text() == "keep me"


# -- command line ----------------------------------------------------------------------------------------
def test_validate_takes_set(tmp_path, capsys):
    path = write(tmp_path / "ok.yaml", "extends: baseline\nname: ok\n")
    assert main(["validate", str(path), "--set", "days=12"]) == 0
    assert "12 days" in capsys.readouterr().out
    assert main(["validate", str(path), "--set", "days=0"]) == 2
    assert "days: 0 is out of range" in capsys.readouterr().err


def test_control_characters_are_stripped_from_what_the_cli_prints(tmp_path, capsys):
    path = write(tmp_path / "x.yaml", 'extends: baseline\nname: "evil\\e[2J\\u202eshop"\nstart: 2026-02-30\n')
    assert main(["run", str(path), "--days", "1"]) == 2
    assert main(["run", str(path), "--days", "1", "--set", "start=2026-03-02"]) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\u202e" not in out
    assert "scenario evil[2Jshop" in out


# -- docs that stand on their own ----------------------------------------------------------------------
def test_no_file_of_the_project_points_outside_it():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = [name for name in tracked if name.endswith((".md", ".py", ".yaml", ".ipynb", ".toml", ".cfg"))
                 and "../shared" in (ROOT / name).read_text(encoding="utf-8", errors="replace")
                 and name != "tests/test_bad_input.py"]
    assert not offenders


def test_the_calibration_targets_are_documented_with_their_sources():
    text = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    for metric in ("conversion rate", "bounce rate", "cart abandonment", "net margin", "ROAS", "DSR",
                   "Chinese New Year", "Double 11"):
        assert metric in text, metric
    assert "Baymard" in text and "Contentsquare" in text


def test_the_overrides_api_is_documented():
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    assert "load_scenario(" in text and "overrides" in text and "shopsim validate" in text and "--set" in text


# -- the validators other levers build on ------------------------------------------------------------
def test_the_lever_validators():
    import datetime as dt

    from shopsim import operator as op

    assert op.number("x", np.int64(3), 0, 5, "units", whole=True) == 3
    assert isinstance(op.number("x", np.float32(2.5), 0, 5, "yuan"), float)
    for bad in (True, np.bool_(False), "3", b"3", decimal.Decimal(3), fractions.Fraction(3), np.array(3), None, 3j):
        with pytest.raises(ActionError, match="x must be a number"):
            op.number("x", bad, 0, 5, "yuan")
    with pytest.raises(ActionError, match=r"\(no decimals\)"):
        op.number("x", 3.0, 0, 5, "units", whole=True)
    with pytest.raises(ActionError, match="out of range; allowed 0 to 5 yuan"):
        op.number("x", 10**400, 0, 5, "yuan")
    assert op.choice("segment", "followers", ("followers", "past_buyers")) == "followers"
    with pytest.raises(ActionError, match="unknown segment"):
        op.choice("segment", np.array(["followers"]), ("followers",))
    assert op.flag("on", np.bool_(True)) is True
    with pytest.raises(ActionError, match="True or False"):
        op.flag("on", 1)
    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    assert op.calendar_day("day", "2026-03-05", first, last) == dt.date(2026, 3, 5)
    for bad, words in (("2026-02-30", "not a real calendar day"), (dt.datetime(2026, 3, 5), "must be a date"),
                       ("2026-04-01", "out of range"), (20260305, "must be a date")):
        with pytest.raises(ActionError, match=words):
            op.calendar_day("day", bad, first, last)


def test_a_python_datetime_is_read_in_shanghai(tiny_dict):
    import datetime as dt

    tiny_dict["start"] = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)  # 04:00 on 2 March in Shanghai
    assert str(shopsim.scenario.from_dict(tiny_dict).start) == "2026-03-02"
    tiny_dict["start"] = dt.date(2026, 3, 2)
    assert str(shopsim.scenario.from_dict(tiny_dict).start) == "2026-03-02"


def test_traffic_beyond_what_a_run_can_hold_is_one_clear_error(tiny_dict):
    tiny_dict["keywords"][0]["daily_searches"] = 1e8
    tiny_dict["timeline"] = [{"day": 0, "hour": 1, "kind": "traffic_shock", "value": 1e8, "days": 1}]
    sim = shopsim.Simulation(shopsim.scenario.from_dict(tiny_dict), seed=1)
    with pytest.raises(shopsim.ShopsimError, match="sessions would arrive in one hour; the simulator handles at most"):
        sim.run(1)


def test_a_policy_that_is_not_a_function(tiny):
    with pytest.raises(ActionError, match="policy must be a function"):
        shopsim.Simulation(tiny, seed=1, policy=5)
