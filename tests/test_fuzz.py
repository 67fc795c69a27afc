"""Fuzzing every surface a user types into: scenario files (as YAML text), ``--set`` strings,
lever arguments and console inputs.

Each generated case must end in one documented error (ScenarioError, ActionError, or exit
code 2 on the command line) whose message is under 2 KB and which changed nothing, or in a
run whose invariants hold. The number of cases comes from the hypothesis profile (conftest:
500 per test in CI; ``pytest tests/test_fuzz.py --hypothesis-profile long`` for 20,000).
Scenarios are tiny and runs one day, so each test takes a few tens of seconds.
"""

from __future__ import annotations

import atexit
import copy
import decimal
import fractions
import inspect
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import TINY
from hypothesis import given
from hypothesis import strategies as st
from invariants import check_invariants, fingerprint

import shopsim
from shopsim import ActionError, ScenarioError
from shopsim.cli import main
from shopsim.console import levers as console_levers
from shopsim.console.model import ConsoleModel
from shopsim.operator import OperatorView

MESSAGE_BYTES = 2048


def _fuzz_base() -> dict:
    """The tiny scenario, quieter (cheap one-day runs), with a festival, a timeline and a few sections."""
    data = copy.deepcopy(TINY)
    for kw in data["keywords"]:
        kw["daily_searches"] /= 4
    data["days"] = 3
    data["festivals"] = [{"name": "spring", "main_day": "2026-03-03", "presale_days": 1, "slump_days": 1}]
    data["timeline"] = [{"day": 1, "kind": "traffic_shock", "value": 2.0, "days": 1},
                        {"day": 2, "kind": "rival_price", "target": "R", "value": 50}]
    data["traffic"] = {"mobile_share": 0.86, "weekday_shape": [1, 1, 1, 1, 1, 1.1, 1.1]}
    data["shop"] = {"name": "Fuzz Shop", "platform_fee_rate": 0.05}
    return data


BASE = _fuzz_base()
BASE_TEXT = yaml.safe_dump(BASE, sort_keys=False, allow_unicode=True)
FOLDER = Path(tempfile.mkdtemp(prefix="shopsim-fuzz-"))
atexit.register(shutil.rmtree, FOLDER, True)
BASE_FILE = FOLDER / "base.yaml"
BASE_FILE.write_text(BASE_TEXT, encoding="utf-8")


def _short(error: Exception) -> None:
    assert len(str(error).encode("utf-8")) < MESSAGE_BYTES, f"message of {len(str(error))} chars:\n{error}"


_RAN: list[shopsim.Scenario] = []  # scenarios already run (many edits give the same scenario)


def _runs(scenario: shopsim.Scenario) -> None:
    if any(scenario == done for done in _RAN):
        return
    sim = shopsim.Simulation(scenario, seed=1)
    sim.run(1)
    check_invariants(sim)
    _RAN.append(scenario)


def _load_or_refuse(path_or_name, overrides=()) -> None:
    try:
        scenario = shopsim.load_scenario(path_or_name, overrides)
    except ScenarioError as exc:
        _short(exc)
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    _runs(scenario)


# -- scenario files, as YAML text --------------------------------------------------------------------
#: Pieces of YAML with a meaning: structure, anchors, tags, dates, odd scalars and characters.
SNIPPETS = st.sampled_from([
    "[", "]", "{", "}", ": ", "- ", "\n", "\n  ", "\n- ", ",", "#", "'", '"', "&a ", "*a", "<<: *a", "!!float ",
    "!!bool ", "!!int ", "!!binary ", "!!python/object:os.system ", "!!set ", "!!timestamp ", "? ", "|\n  ",
    ">\n  ", "---\n", "...\n", "%YAML 1.1\n", "2026-02-30", "2300-01-01", "1890-12-31", "2026-13-01", ".nan",
    ".inf", "-.inf", "1e999", "0x1F", "0o17", "~", "null", "yes", "no", "618", "\t", "\x00", "\x1b[2J", "\ufeff",
    "\u202e", "é", "旺旺", "\\", "%", "@", "`", "\r\n", "[" * 60, "{a: " * 45, "*b", "&b [*b]",
])
EDITS = st.lists(st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.floats(0, 1), st.floats(0, 1),
                           st.one_of(SNIPPETS, st.text(max_size=6))), min_size=1, max_size=4)


def _edit(text: str, edits) -> str:
    for op, where, length, piece in edits:
        at = int(where * len(text))
        span = int(length * 40)
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + span:]
        else:
            text = text[:at] + piece + text[at + span:]
    return text


@given(edits=EDITS)
def test_edited_scenario_text_loads_and_runs_or_is_one_scenario_error(edits):
    path = FOLDER / "edited.yaml"
    path.write_text(_edit(BASE_TEXT, edits), encoding="utf-8", errors="surrogatepass")
    _load_or_refuse(path)


@given(data=st.binary(max_size=200), keep=st.booleans())
def test_bytes_that_are_not_text_are_one_scenario_error(data, keep):
    path = FOLDER / "bytes.yaml"
    path.write_bytes((BASE_TEXT.encode() if keep else b"") + data)
    _load_or_refuse(path)


YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
              st.dates().map(str), st.sampled_from(["A", "B", "R", "tee", "spring", "traffic_shock"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@given(section=st.sampled_from(sorted(BASE) + ["colour", "extends"]), value=YAML_VALUES,
       style=st.sampled_from([False, True, None]))
def test_generated_sections_written_as_yaml_load_or_are_one_scenario_error(section, value, style):
    data = copy.deepcopy(BASE)
    data[section] = value
    path = FOLDER / "section.yaml"
    path.write_text(yaml.safe_dump(data, default_flow_style=style, allow_unicode=True), encoding="utf-8")
    _load_or_refuse(path)


# -- --set strings ---------------------------------------------------------------------------------
PARTS = st.one_of(
    st.sampled_from(["skus", "A", "B", "0", "1", "5", "price", "cost", "keywords", "tee", "relevance", "traffic",
                     "hour_shape", "days", "start", "festivals", "spring", "main_day", "main_day_hour_shape",
                     "timeline", "day", "target", "rivals", "Rival", "offers", "R", "watches", "name", "shop",
                     "customers", "followers", "display", "audiences", "new_shoppers", "reach", "²", "-1", " "]),
    st.text(max_size=5))
VALUES = st.one_of(
    st.sampled_from(["1", "0", "-3", "2026-02-30", "2026-03-05", "2300-01-01", "[1, 2]", "[0]", "{a: 1}",
                     "&a [*a]", "!!float x", "null", "~", "yes", "1e999", ".nan", "[" * 80, "Z", "A", "R", "",
                     "[" + ", ".join(["0"] * 24) + "]", "[" + ", ".join(["1"] * 24) + "]"]),
    st.text(max_size=12), st.integers().map(str), st.floats().map(str))
OVERRIDES = st.one_of(
    st.builds(lambda parts, value, sep: ".".join(parts) + sep + value, st.lists(PARTS, min_size=1, max_size=5),
              VALUES, st.sampled_from(["=", "=", "=", "", " = "])),
    st.text(max_size=30))


@given(overrides=st.lists(OVERRIDES, min_size=1, max_size=3))
def test_set_strings_load_and_run_or_are_one_scenario_error(overrides):
    _load_or_refuse(BASE_FILE, overrides)


@given(override=OVERRIDES)
def test_the_command_line_exits_0_or_2_with_a_short_message(override, capsys):
    code = main(["validate", str(BASE_FILE), f"--set={override}"])
    out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err
    assert (code == 0) == (err == "") and len(err.encode()) < MESSAGE_BYTES + 200


# -- lever arguments --------------------------------------------------------------------------------
HOSTILE = st.one_of(
    st.none(), st.booleans(), st.just(np.bool_(True)), st.integers(-10**30, 10**30), st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e6, 1e6).map(np.float64),
    st.floats(-1e6, 1e6, width=32).map(np.float32), st.integers(-10**6, 10**6).map(np.int64),
    st.text(max_size=8), st.binary(max_size=4), st.just(decimal.Decimal("59.9")), st.just(fractions.Fraction(1, 3)),
    st.just(complex(1, 1)), st.just(np.array([1.0])), st.just(np.array(["A"])), st.just(np.array(5)),
    st.lists(st.integers(0, 300), max_size=3), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.just([(10**400, 5)]), st.just([(199, 20), (299, 40)]), st.just([("199", "20")]), st.just(((99, 10),)),
)
#: Plausible values by argument name, so that cases also reach the levers' deeper checks.
PLAUSIBLE = {
    "sku": st.sampled_from(["A", "B", "R", "", "a"]), "keyword": st.sampled_from(["tee", "nice tee", "socks"]),
    "kind": st.sampled_from(["title", "main_image", "detail_page", "logo"]),
    "audience": st.sampled_from(["new_shoppers", "past_visitors", "past_buyers", "all"]),
    "segment": st.sampled_from(["past_buyers", "lapsed_buyers", "followers", "fans"]),
    "name": st.sampled_from(["spring", "double11"]), "active": st.booleans(),
    "tiers": st.lists(st.tuples(st.floats(0, 400), st.floats(0, 80)), max_size=6),
    "review_id": st.integers(-1, 30), "start_day": st.integers(-1, 400), "start_hour": st.integers(-1, 25),
}
NUMBERS = st.one_of(st.floats(-10, 400), st.integers(-5, 2000), st.sampled_from([0, 0.01, 0.05, 0.2, 0.9, 1, 7, 90]))
LEVERS = OperatorView.LEVERS


def _arguments(lever: str):
    params = [p for p in inspect.signature(getattr(shopsim.Simulation, lever)).parameters.values()
              if p.name != "self"]
    required = sum(p.default is inspect.Parameter.empty for p in params)
    return st.integers(required, len(params)).flatmap(lambda n: st.tuples(*[
        st.one_of(PLAUSIBLE.get(p.name, NUMBERS), HOSTILE) for p in params[:n]]))


CALLS = st.sampled_from(LEVERS).flatmap(lambda lever: st.tuples(st.just(lever), _arguments(lever)))


@pytest.fixture(scope="module")
def fuzz_scenario():
    return shopsim.scenario.from_dict(BASE, "fuzz")


@given(calls=st.lists(CALLS, min_size=1, max_size=4))
def test_lever_arguments_are_applied_or_one_action_error_that_changes_nothing(fuzz_scenario, calls):
    sim = shopsim.Simulation(fuzz_scenario, seed=2)
    accepted = 0
    for lever, args in calls:
        before = fingerprint(sim)
        try:
            getattr(sim, lever)(*args)
        except ActionError as exc:
            _short(exc)
            assert fingerprint(sim) == before, f"{lever}{args!r} failed but changed the simulation"
        else:
            accepted += 1
    if accepted:
        sim.run(1)
        check_invariants(sim)


# -- console inputs -----------------------------------------------------------------------------------
FORM_VALUES = st.one_of(HOSTILE, NUMBERS, st.sampled_from(["", "A", "B", "tee", "spring", "followers", "199:20",
                                                            "199:20, 299:40", "20:199", "abc", " ", "1:2:3"]))


@pytest.fixture(scope="module")
def console_model(fuzz_scenario):
    return ConsoleModel(fuzz_scenario, seed=3)


@given(lever=st.sampled_from(LEVERS), data=st.data())
def test_console_inputs_give_a_result_never_a_failure(console_model, lever, data):
    model = console_model
    fields = [f.name for f in model.form(lever).fields]
    saved = dict(model.values[lever])
    try:
        for name in data.draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True)):
            model.set(lever, name, data.draw(FORM_VALUES))
        before = fingerprint(model.sim)
        result = model.apply(lever)
        assert "simulator failed" not in result.message, result.message
        assert len(result.message.encode()) < MESSAGE_BYTES
        if not result.ok:
            assert fingerprint(model.sim) == before
    finally:
        model.values[lever] = saved


def test_the_console_still_runs_after_the_fuzzing(console_model):
    assert console_model.run_day().ok
    check_invariants(console_model.sim)


def test_every_console_form_names_a_lever():
    sim = shopsim.Simulation(shopsim.scenario.from_dict(BASE), seed=1)
    assert set(console_levers.forms(sim)) == set(LEVERS)
