"""The package imports, the bundled baseline runs, and every table exists."""

import shopsim


def test_baseline_runs_and_has_every_table(baseline_run):
    assert set(baseline_run.tables) == set(shopsim.TABLES)
    daily = baseline_run.tables["daily"]
    assert len(daily) == 30
    assert daily["uv"].gt(0).all()
