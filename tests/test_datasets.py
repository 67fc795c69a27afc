"""Shipped datasets: each regenerates byte for byte from its recipe and loads with the simulator's dtypes."""

import pandas as pd
import pytest

from shopsim import datasets
from shopsim.errors import ShopsimError


@pytest.mark.parametrize("name", datasets.names())
def test_dataset_regenerates_byte_for_byte(name):
    assert datasets.check(name) == [], f"regenerate it on purpose: shopsim dataset build {name}"


@pytest.mark.parametrize("name", datasets.names())
def test_dataset_has_readme_and_loads_like_a_fresh_run(name):
    assert (datasets.folder() / name / "README.md").is_file()
    data = datasets.load(name)
    r = data.recipe
    sim = datasets.run(r)
    for table in data:
        fresh = sim.tables[table]
        # Parquet keeps a categorical's categories in its data pages: an empty table (a month without
        # disputes) comes back with no categories, so only its columns and their kinds can match
        empty = fresh.empty
        pd.testing.assert_frame_equal(data[table], fresh, check_dtype=not empty, check_categorical=not empty,
                                      check_index_type=not empty)


def test_unknown_dataset_and_table_are_clear_errors():
    with pytest.raises(ShopsimError, match="no dataset 'nope'; datasets are"):
        datasets.load("nope")
    name = datasets.names()[0]
    with pytest.raises(KeyError, match="has no table"):
        datasets.load(name)["no_such_table"]


def test_build_and_check_on_a_scratch_recipe(tmp_path):
    (tmp_path / "mini").mkdir()
    (tmp_path / "mini" / "dataset.yaml").write_text("scenario: baseline\nseed: 3\ndays: 2\ntables: [daily, pnl]\n")
    datasets.build("mini", root=tmp_path)
    assert datasets.check("mini", root=tmp_path) == []
    (tmp_path / "mini" / "daily.parquet").write_bytes(b"not parquet")
    assert datasets.check("mini", root=tmp_path) == ["daily.parquet"]
    (tmp_path / "mini" / "dataset.yaml").write_text("scenario: baseline\nseed: 3\ncolour: red\n")
    with pytest.raises(ShopsimError, match="unknown keys colour"):
        datasets.recipe("mini", root=tmp_path)


def test_recipe_actions_are_pulled_on_their_mornings_and_bad_ones_refused(tmp_path):
    (tmp_path / "promo").mkdir()
    recipe = ("scenario: baseline\nseed: 3\ndays: 4\ntables: [orders, order_items, events]\nactions:\n"
              "  - {day: 2, lever: discount, args: {sku: TEE-CLASSIC, share_off: 0.2, days: 2}}\n")
    (tmp_path / "promo" / "dataset.yaml").write_text(recipe)
    datasets.build("promo", root=tmp_path)
    data = datasets.Dataset("promo", root=tmp_path)
    events = data["events"]
    assert (events["kind"] == "discount").sum() == 1
    lines = data["order_items"].merge(data["orders"][["order_id", "ts"]], on="order_id")
    day = lines["ts"].dt.tz_localize(None).dt.normalize()
    hero = lines["sku"] == "TEE-CLASSIC"
    cut = lines["unit_paid_price"] < lines["unit_list_price"]
    assert not (cut & (day < "2026-03-04")).any() and (cut & hero & (day >= "2026-03-04")).any()
    for bad in ("actions: {day: 1}", "actions:\n  - {day: 1, lever: delete_everything}",
                "actions:\n  - {day: -1, lever: discount}"):
        (tmp_path / "promo" / "dataset.yaml").write_text(f"scenario: baseline\nseed: 3\n{bad}\n")
        with pytest.raises(ShopsimError, match="each action is"):
            datasets.recipe("promo", root=tmp_path)
    (tmp_path / "promo" / "dataset.yaml").write_text(
        "scenario: baseline\nseed: 3\ndays: 2\nactions:\n  - {day: 5, lever: set_ad_budget, args: {daily_budget: 9}}\n")
    with pytest.raises(ShopsimError, match="never happens"):
        datasets.build("promo", root=tmp_path)
