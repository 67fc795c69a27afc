"""Shipped datasets: each regenerates byte for byte from its recipe and loads with the simulator's dtypes."""

import pandas as pd
import pytest

import shopsim
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
    sim = shopsim.simulate(shopsim.load_scenario(r.scenario, r.overrides), r.days, seed=r.seed)
    for table in data:
        pd.testing.assert_frame_equal(data[table], sim.tables[table], check_dtype=True)


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
