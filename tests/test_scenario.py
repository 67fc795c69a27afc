"""Scenarios: bundled presets, validation with field paths, extends, overrides, immutability, reference."""

from __future__ import annotations

import dataclasses
import re
import sys
import typing

import pytest
from invariants import check_invariants

import shopsim
from shopsim import scenario as scenario_mod
from shopsim.errors import ScenarioError

BUNDLED = sorted(shopsim.bundled())


def by_path(cases):
    """Parameter sets named by the field path they test."""
    return [pytest.param(*case, id=case[1]) for case in cases]


def problems_of(data, source="test") -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario_mod.from_dict(data, source)
    return info.value.problems


def assert_problem(problems: list[str], path: str, *words: str) -> None:
    """One problem starts with ``path:`` and contains every word."""
    hits = [p for p in problems if p.startswith(path + ":") and all(w in p for w in words)]
    assert hits, f"no problem at {path!r} mentioning {words}; got:\n" + "\n".join(problems)


# -- bundled -------------------------------------------------------------------------------------
def test_bundled_lists_presets_with_descriptions():
    presets = shopsim.bundled()
    assert {"baseline", "high_traffic"} <= set(presets)
    for name, description in presets.items():
        assert len(description) > 20, f"{name} has no one-line description of what it teaches"


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_loads_and_runs_two_days(name):
    sc = shopsim.load_scenario(name)
    assert sc.name == name
    sim = shopsim.simulate(sc, 2, seed=1)
    daily = sim.tables["daily"]
    assert len(daily) == 2
    assert (daily["uv"] > 0).all() and (daily["orders"] > 0).all()
    check_invariants(sim)


def test_unknown_bundled_name_lists_the_known_ones():
    with pytest.raises(ScenarioError, match="baseline"):
        shopsim.load_scenario("no_such_scenario")


def test_loading_by_path_equals_loading_by_name():
    path = scenario_mod.files.preset_dir() / "baseline.yaml"
    assert shopsim.load_scenario(path) == shopsim.load_scenario("baseline")


def test_yaml_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="mapping"):
        shopsim.load_scenario(path)


# -- validation ------------------------------------------------------------------------------------
def test_the_tiny_fixture_is_valid(tiny, tiny_dict):
    assert tiny.name == "tiny"
    assert [s.sku for s in tiny.skus] == ["A", "B"]
    assert scenario_mod.from_dict(tiny_dict) == tiny


def test_every_schema_problem_is_reported_at_once_with_its_path(tiny_dict):
    d = tiny_dict
    d["colour"] = "red"                                           # unknown key, top level
    d["skus"][0]["colour"] = "blue"                               # unknown key in a list item
    d["shoppers"] = {"bounce_rat": 0.3, "source_intent": {"tv": 1.0}}   # typo; unknown mapping key
    d["days"] = "ten"                                             # wrong type
    d["skus"][1]["price"] = "cheap"                               # wrong type in a list item
    d["start"] = "2026-02-30"                                     # not a date
    d["traffic"] = {"hour_shape": [1] * 23, "mobile_share": 1.5}  # wrong length; out of range
    d["skus"][0]["quality"] = 1.5                                 # out of range
    d["customers"]["market_size"] = -5                            # out of range
    del d["skus"][0]["cost"]                                      # missing required
    d["keywords"][1] = {"keyword": "x", "relevance": {"A": 2.0}}  # missing required; out of range in a mapping
    d["timeline"] = [{"day": 1, "kind": "nonsense"}]              # not a choice
    d["skus"][1]["initial_stock"] = True                          # a bool is not a number
    d["skus"][1]["rating"] = float("nan")                         # NaN
    problems = problems_of(d)
    assert_problem(problems, "colour", "unknown key", "skus")
    assert_problem(problems, "skus[0].colour", "unknown key", "listing_quality")
    assert_problem(problems, "shoppers.bounce_rat", "unknown key", "bounce_rate")
    assert_problem(problems, "shoppers.source_intent.tv", "unknown key", "search")
    assert_problem(problems, "days", "'ten'", "whole number")
    assert_problem(problems, "skus[1].price", "'cheap'", "number")
    assert_problem(problems, "start", "YYYY-MM-DD")
    assert_problem(problems, "traffic.hour_shape", "24")
    assert_problem(problems, "traffic.mobile_share", "out of range", "from 0 to 1")
    assert_problem(problems, "skus[0].quality", "out of range", "from 0 to 1")
    assert_problem(problems, "customers.market_size", "out of range", "from 1000")
    assert_problem(problems, "skus[0].cost", "required")
    assert_problem(problems, "keywords[1].daily_searches", "required")
    assert_problem(problems, "keywords[1].relevance.A", "out of range")
    assert_problem(problems, "timeline[0].kind", "choose one of", "rival_price")
    assert_problem(problems, "skus[1].initial_stock", "whole number")
    assert_problem(problems, "skus[1].rating", "NaN")
    assert len(problems) == 17, "\n".join(problems)


def test_cross_field_problems_are_reported_at_once(tiny_dict):
    d = tiny_dict
    d["skus"].append(dict(d["skus"][0]))                          # duplicate SKU
    d["skus"][1]["price"] = d["skus"][1]["cost"]                  # price not above cost
    d["keywords"][0]["relevance"]["Z"] = 0.5                      # unknown SKU in relevance
    d["timeline"] = [
        {"day": 1, "kind": "rival_price", "target": "R"},           # missing value
        {"day": 1, "kind": "review_burst", "value": 3},             # missing target
        {"day": 1, "kind": "stock_loss", "target": "R", "value": 3},  # rival SKU where own is needed
        {"day": 1, "kind": "traffic_shock", "value": 2},            # missing days
        {"day": 1, "kind": "rival_stockout", "target": "A", "days": 2},  # own SKU where a rival is needed
    ]
    problems = problems_of(d)
    assert_problem(problems, "skus[2].sku", "'A'", "twice")
    assert_problem(problems, "skus[1].price", "not above the cost")
    assert_problem(problems, "keywords[0].relevance.Z", "unknown SKU")
    assert_problem(problems, "timeline[0].value", "required", "rival_price")
    assert_problem(problems, "timeline[1].target", "required", "review_burst")
    assert_problem(problems, "timeline[2].target", "'R'", "own SKU")
    assert_problem(problems, "timeline[3].days", "required", "traffic_shock")
    assert_problem(problems, "timeline[4].target", "'A'", "rival SKU")


@pytest.mark.parametrize("change, path, words", by_path([
    (lambda d: d["keywords"].append(dict(d["keywords"][0])), "keywords[2].keyword", ("twice",)),
    (lambda d: d["keywords"][1]["relevance"].pop("B"), "keywords[1].relevance", ("none of the shop's own",)),
    (lambda d: d["skus"][1].update(sku="B C"), "skus[1].sku", ("not a SKU code",)),
    (lambda d: d["keywords"][0]["relevance"].pop("A"), "skus[0]", ("matches no keyword",)),
    (lambda d: d["rivals"].append(dict(d["rivals"][0], offers=[dict(d["rivals"][0]["offers"][0], sku="R2")])),
     "rivals[1].shop", ("unique",)),
    (lambda d: d.update(traffic={"hour_shape": [0] * 24}), "traffic", ("positive",)),
    (lambda d: d.update(skus=[]), "skus", ("at least 1",)),
    (lambda d: d.update(skus="A"), "skus", ("expected a list",)),
    (lambda d: d.update(shop=[1]), "shop", ("expected a mapping",)),
    (lambda d: d.update(name=""), "name", ("non-empty",)),
    (lambda d: d["skus"][1].update(colour="red"), "skus[1].colour", ("unknown key",)),
    (lambda d: d.update(listing_work={"title": {"cost": 1, "days": 0, "gain": 0.1}}), "listing_work.title.days",
     ("out of range",)),
    (lambda d: d.update(listing_work={"logo": {"cost": 1, "days": 1, "gain": 0.1}}), "listing_work.logo",
     ("unknown key", "main_image")),
]))
def test_single_problems(tiny_dict, change, path, words):
    change(tiny_dict)
    assert_problem(problems_of(tiny_dict), path, *words)



@pytest.mark.parametrize("change, path, words", by_path([
    (lambda d: d["skus"][0].update(price=0), "skus[0].price", ("out of range",)),
    (lambda d: d["keywords"][0].update(daily_searches=-1), "keywords[0].daily_searches", ("out of range",)),
    (lambda d: d["rivals"][0].update(strategy="greedy"), "rivals[0].strategy", ("passive",)),
    (lambda d: d["rivals"][0]["offers"][0].update(price="x"), "rivals[0].offers[0].price", ("number",)),
    (lambda d: d.update(timeline=[{"day": -1, "kind": "rival_price", "target": "R", "value": 3}]),
     "timeline[0].day", ("out of range",)),
    (lambda d: d.update(timeline=[None]), "timeline[0].day", ("required",)),
    (lambda d: d.update(skus=[5]), "skus[0]", ("expected a mapping",)),
    (lambda d: d.update(traffic={"hour_shape": [1] * 23 + ["x"]}), "traffic.hour_shape[23]", ("number",)),
    (lambda d: d.update(traffic={"weekday_shape": [1] * 6 + [-1]}), "traffic.weekday_shape[6]", ("out of range",)),
]))
def test_a_problem_inside_a_list_item_alone_is_a_scenario_error(tiny_dict, change, path, words):
    change(tiny_dict)
    assert_problem(problems_of(tiny_dict), path, *words)


def test_error_message_names_the_source_and_counts(tiny_dict):
    tiny_dict["days"] = 0
    with pytest.raises(ScenarioError) as info:
        scenario_mod.from_dict(tiny_dict, "my_file.yaml")
    text = str(info.value)
    assert text.startswith("my_file.yaml: 1 problem")
    assert "days: 0 is out of range; allowed from 1 to 3660 days" in text
    assert isinstance(info.value, ValueError)


def test_not_a_mapping_at_the_top():
    assert problems_of([1, 2]) == ["(top): expected a mapping of Scenario fields, got list"]


def test_optional_fields_take_null_and_defaults(tiny_dict):
    tiny_dict["skus"][0]["reference_price"] = None
    sc = scenario_mod.from_dict(tiny_dict)
    assert sc.skus[0].reference_price is None
    assert sc.traffic == scenario_mod.Traffic()
    assert sc.skus[0].lead_time_days == 7


def test_partial_mapping_keeps_the_other_defaults(tiny_dict):
    tiny_dict["shoppers"] = {"source_intent": {"display": -2.0}}
    sc = scenario_mod.from_dict(tiny_dict)
    assert sc.shoppers.source_intent["display"] == -2.0
    assert sc.shoppers.source_intent["direct"] == scenario_mod.Shoppers().source_intent["direct"]
    assert set(sc.shoppers.source_intent) == set(scenario_mod.SOURCES)


# -- extends ---------------------------------------------------------------------------------
def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def parent_file(tmp_path, tiny_dict):
    import yaml

    tiny_dict["timeline"] = [{"day": 1, "kind": "traffic_shock", "value": 2, "days": 1}]
    return _write(tmp_path / "parent.yaml", yaml.safe_dump(tiny_dict, sort_keys=False))


def test_extends_merges_keyed_lists_by_id(tmp_path, parent_file):
    child = _write(tmp_path / "child.yaml", """
extends: parent.yaml
name: child
skus:
  - {sku: A, price: 70}
  - {sku: C, name: Tee C, category: tees, cost: 10, price: 30, initial_stock: 50}
keywords:
  - {keyword: tee, daily_searches: 9000}
  - {keyword: cheap tee, daily_searches: 500, relevance: {C: 1.0}}
rivals:
  - shop: Rival
    offers:
      - {sku: R, price: 55}
shoppers: {bounce_rate: 0.5}
timeline: []
""")
    sc = shopsim.load_scenario(child)
    base = shopsim.load_scenario(parent_file)
    assert sc.name == "child"
    assert [s.sku for s in sc.skus] == ["A", "B", "C"]
    a = sc.sku("A")
    assert a.price == 70
    assert dataclasses.replace(a, price=base.sku("A").price) == base.sku("A"), "other fields of A were lost"
    assert sc.sku("B") == base.sku("B")
    assert [k.keyword for k in sc.keywords] == ["tee", "nice tee", "cheap tee"]
    assert sc.keywords[0].daily_searches == 9000
    assert dict(sc.keywords[0].relevance) == dict(base.keywords[0].relevance)
    assert sc.rivals[0].offers[0].price == 55
    assert sc.rivals[0].offers[0].review_count == base.rivals[0].offers[0].review_count
    assert sc.shoppers.bounce_rate == 0.5
    assert sc.shoppers.price_sensitivity == base.shoppers.price_sensitivity
    assert sc.timeline == () and len(base.timeline) == 1, "plain lists replace the parent's"
    assert sc.days == base.days and sc.customers == base.customers


def test_extends_a_bundled_preset(tmp_path):
    child = _write(tmp_path / "mine.yaml", "extends: baseline\nname: mine\nskus:\n  - {sku: TEE-CLASSIC, price: 65}\n")
    sc = shopsim.load_scenario(child)
    base = shopsim.load_scenario("baseline")
    assert len(sc.skus) == len(base.skus)
    assert sc.sku("TEE-CLASSIC").price == 65
    assert sc.sku("TEE-CLASSIC").initial_stock == base.sku("TEE-CLASSIC").initial_stock
    assert sc.rivals == base.rivals


def test_extends_chains(tmp_path, parent_file):
    sub = tmp_path / "sub"
    sub.mkdir()
    _write(tmp_path / "child.yaml", "extends: parent.yaml\nname: child\ndays: 9\n")
    grandchild = _write(sub / "grandchild.yaml", "extends: ../child.yaml\nname: grandchild\n"
                                                  "skus:\n  - {sku: B, initial_stock: 7}\n")
    sc = shopsim.load_scenario(grandchild, root=tmp_path)  # its parent sits above its own folder
    assert (sc.name, sc.days, sc.sku("B").initial_stock) == ("grandchild", 9, 7)
    assert sc.sku("A") == shopsim.load_scenario(parent_file).sku("A")


def test_extends_problems_name_the_file_and_its_own_paths(tmp_path, parent_file):
    child = _write(tmp_path / "child.yaml", "extends: parent.yaml\nname: c\nskus:\n  - {sku: A, price: 10}\n"
                   "  - {sku: C, name: c, category: tees, cost: 5, price: 9, initial_stock: 1}\n")
    with pytest.raises(ScenarioError) as info:
        shopsim.load_scenario(child)
    assert_problem(info.value.problems, "skus[0].price", "not above the cost 20")
    assert_problem(info.value.problems, "skus[1]", "matches no keyword")  # C is the child's skus[1]
    assert set(info.value.sources) == {str(child)}
    assert str(child) in str(info.value)


@pytest.mark.parametrize("files", [
    {"a.yaml": "extends: a.yaml\nname: a\n"},
    {"a.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: a.yaml\nname: b\n"},
    {"a.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: c.yaml\nname: b\n", "c.yaml": "extends: b.yaml\n"},
])
def test_extends_loops_are_an_error(tmp_path, files):
    for name, text in files.items():
        _write(tmp_path / name, text)
    with pytest.raises(ScenarioError, match="loops back"):
        shopsim.load_scenario(tmp_path / "a.yaml")


def test_extends_loop_through_a_parent_folder_is_an_error(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    _write(folder / "a.yaml", "extends: ../d/a.yaml\nname: a\n")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # fail fast instead of building a path thousands of characters long
    try:
        with pytest.raises(ScenarioError, match="loops back"):
            shopsim.load_scenario(folder / "a.yaml")
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("text, words", [
    ("extends: missing.yaml\nname: x\n", "no such file"),
    ("extends: [baseline]\nname: x\n", "not a scenario name"),
])
def test_bad_extends(tmp_path, text, words):
    path = _write(tmp_path / "x.yaml", text)
    with pytest.raises(ScenarioError, match=words):
        shopsim.load_scenario(path)


def test_merge_keeps_its_inputs_untouched():
    base = {"skus": [{"sku": "A", "price": 1, "cost": 0.5}], "shop": {"name": "x"}}
    over = {"skus": [{"sku": "A", "price": 2}], "shop": {"platform_fee_rate": 0.1}}
    out = scenario_mod.merge(base, over)
    assert out == {"skus": [{"sku": "A", "price": 2, "cost": 0.5}], "shop": {"name": "x", "platform_fee_rate": 0.1}}
    assert base == {"skus": [{"sku": "A", "price": 1, "cost": 0.5}], "shop": {"name": "x"}}
    assert over == {"skus": [{"sku": "A", "price": 2}], "shop": {"platform_fee_rate": 0.1}}


# -- overrides ---------------------------------------------------------------------------------------
def test_overrides_by_id_and_top_level():
    base = shopsim.load_scenario("baseline")
    sc = shopsim.load_scenario("baseline", ["skus.TEE-CLASSIC.price=79", "days=10"])
    assert sc.sku("TEE-CLASSIC").price == 79
    assert sc.days == 10
    assert dataclasses.replace(sc, days=base.days, skus=base.skus) == base, "an override changed something else"
    assert shopsim.load_scenario("baseline") == base, "overrides leaked into the preset"


@pytest.mark.parametrize("override, read, value", [
    ("skus.1.price=99", lambda sc: sc.skus[1].price, 99),
    ("keywords.chinos.daily_searches=7000", lambda sc: sc.keywords[8].daily_searches, 7000),
    ("keywords.chinos.relevance.PANT-CHINO=0.5", lambda sc: sc.keywords[8].relevance["PANT-CHINO"], 0.5),
    ("shoppers.bounce_rate=0.5", lambda sc: sc.shoppers.bounce_rate, 0.5),
    ("rivals.North Thread.offers.NT-TEE.price=59", lambda sc: sc.rivals[1].offers[0].price, 59),
    ("traffic.hour_shape=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
     lambda sc: sc.traffic.hour_shape, (1.0,) * 24),
    ("start=2026-06-01", lambda sc: str(sc.start), "2026-06-01"),
])
def test_override_paths(override, read, value):
    assert read(shopsim.load_scenario("baseline", [override])) == value


def test_overrides_apply_after_extends():
    sc = shopsim.load_scenario("high_traffic", ["skus.TEE-CLASSIC.price=60"])
    assert sc.sku("TEE-CLASSIC").price == 60
    assert sc.sku("TEE-CLASSIC").initial_stock == shopsim.load_scenario("high_traffic").sku("TEE-CLASSIC").initial_stock


def test_with_overrides_is_load_scenario():
    assert scenario_mod.with_overrides("baseline", ["days=3"]) == shopsim.load_scenario("baseline", ["days=3"])


@pytest.mark.parametrize("overrides, words", [
    (["days"], ("path.to.field=VALUE",)),
    (["=3"], ("path.to.field=VALUE",)),
    (["skus.NOPE.price=1"], ("NOPE", "neither an index")),
    (["skus.99.price=1"], ("99",)),
    (["days.x=1"], ("days is a value, not a section",)),
    (["days=ten"], ("days:", "whole number")),
    (["skus.TEE-CLASSIC.price=10"], ("skus[0].price", "not above the cost")),
])
def test_bad_overrides(overrides, words):
    with pytest.raises(ScenarioError) as info:
        shopsim.load_scenario("baseline", overrides)
    text = str(info.value)
    assert all(w in text for w in words), text


def test_every_bad_override_is_reported():
    with pytest.raises(ScenarioError) as info:
        shopsim.load_scenario("baseline", ["nonsense", "skus.NOPE.price=1"])
    assert len(info.value.problems) == 2


# -- immutability --------------------------------------------------------------------------------------
def test_scenarios_are_frozen(tiny):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.days = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.skus[0].price = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.shop.platform_fee_rate = 0.0
    with pytest.raises(TypeError):
        tiny.keywords[0].relevance["A"] = 0.0
    with pytest.raises(TypeError):
        tiny.listing_work["title"] = None
    with pytest.raises(TypeError):
        tiny.shoppers.source_intent["search"] = 5.0
    with pytest.raises(AttributeError):
        tiny.skus.append(tiny.skus[0])
    assert isinstance(tiny.traffic.hour_shape, tuple)


def test_replace_makes_independent_variants(tiny):
    before = dataclasses.replace(tiny)  # a copy to compare with
    dear = dataclasses.replace(tiny, skus=(dataclasses.replace(tiny.skus[0], price=75.0), *tiny.skus[1:]))
    short = dataclasses.replace(tiny, days=2)
    assert tiny == before and tiny.skus[0].price == 60 and tiny.days == 5
    assert dear.skus[0].price == 75 and dear.days == 5
    assert short.days == 2 and short.skus[0].price == 60
    a = shopsim.simulate(dear, 2, seed=1).tables["order_items"]
    b = shopsim.simulate(tiny, 2, seed=1).tables["order_items"]
    assert set(a.loc[a["sku"] == "A", "unit_list_price"]) == {75.0}
    assert set(b.loc[b["sku"] == "A", "unit_list_price"]) == {60.0}


def test_simulations_do_not_share_or_change_the_scenario(tiny, tiny_dict):
    first = shopsim.Simulation(tiny, seed=1)
    first.set_price("A", 99)
    first.reorder("B", 10)
    first.improve_listing("A", "title")
    first.run(3)
    second = shopsim.Simulation(tiny, seed=1)
    assert second.catalog.price[0] == 60
    assert second.catalog.listing_quality[0] == tiny.skus[0].listing_quality
    assert tiny == scenario_mod.from_dict(tiny_dict), "running a simulation changed its scenario"
    assert tiny.skus[0].price == 60


# -- the reference -------------------------------------------------------------------------------------
def _record_types(cls, seen=None) -> list[type]:
    seen = [] if seen is None else seen
    if cls in seen:
        return seen
    seen.append(cls)
    for hint in typing.get_type_hints(cls).values():
        for inner in _inner_types(hint):
            _record_types(inner, seen)
    return seen


def _inner_types(tp) -> list[type]:
    if dataclasses.is_dataclass(tp):
        return [tp]
    return [t for arg in typing.get_args(tp) for t in _inner_types(arg)]


def _sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^### `?([^`\n]+)`?\s*$", markdown, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_reference_documents_every_field_of_every_record_type():
    text = scenario_mod.reference_markdown()
    sections = _sections(text)
    types_ = _record_types(scenario_mod.Scenario)
    assert {t.__name__ for t in types_} >= {"Scenario", "Shop", "ListingWork", "Sku", "Keyword", "Traffic",
                                             "Shoppers", "Search", "Reviews", "Customers", "Rival", "RivalOffer",
                                             "TimelineEvent"}
    for cls in types_:
        assert cls.__name__ in sections, f"no section for {cls.__name__}"
        body = sections[cls.__name__]
        for field in dataclasses.fields(cls):
            row = re.search(rf"^\| `{field.name}` \|(.*)$", body, flags=re.M)
            assert row, f"{cls.__name__}.{field.name} is not documented"
            assert field.metadata.get("doc") and field.metadata["doc"] in row.group(1)


def test_reference_documents_every_event_kind_and_its_fields():
    text = scenario_mod.reference_markdown()
    for kind, needs in scenario_mod.EVENT_FIELDS.items():
        row = re.search(rf"^\| `{kind}` \|(.*)$", text, flags=re.M)
        assert row, f"event kind {kind} is not documented"
        assert all(field in row.group(1) for field in needs)
    assert set(scenario_mod.EVENT_FIELDS) == set(scenario_mod.EVENT_KINDS)


def test_reference_shows_defaults_ranges_and_units():
    sections = _sections(scenario_mod.reference_markdown())
    row = re.search(r"^\| `platform_fee_rate` \|(.*)$", sections["Shop"], flags=re.M).group(1)
    assert "0.05" in row and "from 0 to 0.3" in row and "share of paid revenue" in row
    row = re.search(r"^\| `cost` \|(.*)$", sections["Sku"], flags=re.M).group(1)
    assert "required" in row and "yuan per unit" in row
