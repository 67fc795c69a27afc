"""Tables streamed to files as the days close (shopsim.export, ``shopsim run --out``)."""

from __future__ import annotations

import pandas as pd
import pytest

import shopsim
from shopsim.errors import ShopsimError
from shopsim.export import TableFiles


@pytest.fixture(scope="module")
def reference():
    return shopsim.simulate("festival_double11", 8, seed=5)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_streamed_files_hold_the_same_tables(reference, tmp_path, fmt):
    sim = shopsim.Simulation("festival_double11", seed=5)
    files = TableFiles(sim, tmp_path, fmt, chunk_rows=3_000)  # several chunks of sessions
    held = []
    for _ in range(8):
        sim.run(1)
        held.append(sim.records.sessions.rows - sim.records.sessions.first)
    files.finish()
    assert max(held) < 3_000 + reference.records.sessions.rows / 4, "written rows are let go during the run"
    for name in shopsim.TABLES:
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "parquet":
            expected = reference.tables[name]
            empty = expected.empty  # parquet cannot hold the categories of an empty categorical column
            pd.testing.assert_frame_equal(pd.read_parquet(path), expected, obj=name, check_dtype=not empty,
                                          check_categorical=not empty, check_index_type=not empty)
        else:
            expected = pd.read_csv(_as_csv(reference.tables[name], tmp_path / "expected.csv"))
            pd.testing.assert_frame_equal(pd.read_csv(path), expected, obj=name)
    with pytest.raises(ShopsimError, match="written to files"):
        sim.tables["sessions"]
    assert len(sim.tables["daily"]) == 8, "daily and pnl come from the day book, not the sessions"


def _as_csv(frame, path):
    frame.to_csv(path, index=False)
    return path


def test_a_streamed_table_holds_room_for_a_chunk_not_for_the_whole_run(tmp_path):
    sim = shopsim.Simulation("baseline", seed=1)
    TableFiles(sim, tmp_path, "parquet", names=("sessions",), chunk_rows=20_000)  # a few days a chunk
    room = []
    for _ in range(8):
        sim.run(1)
        room.append(sim.records.sessions._capacity)
    assert max(room) < 4 * 20_000, "the 30-day run's pace would have made room for ~200,000 rows"


def test_an_empty_streamed_table_is_still_a_file_with_its_columns(tmp_path):
    sim = shopsim.Simulation("baseline", seed=1)
    files = TableFiles(sim, tmp_path, "parquet", names=("refunds",))
    files.finish()  # nothing ran: no refunds
    refunds = pd.read_parquet(tmp_path / "refunds.parquet")
    assert list(refunds.columns) == list(shopsim.Simulation("baseline", seed=1).tables["refunds"].columns)


def test_streamed_disputes_keep_the_refunds_they_led_to_even_when_those_were_written_out(tmp_path):
    # refusing every refund raises disputes; a buyer who wins is refunded days after the ruling,
    # by which time earlier refunds are written out and let go
    def shop():
        sim = shopsim.Simulation("baseline", seed=3)
        sim.set_refund_policy(0, "all")
        return sim

    held = shop().run(14)
    sim = shop()
    files = TableFiles(sim, tmp_path, "csv", names=("refunds", "disputes"), chunk_rows=50)
    sim.run(14)
    files.finish()
    assert sim.records.refunds.first > 0, "refunds were written out during the run"
    expected = held.tables["disputes"]
    assert expected["refund_id"].notna().sum() > 20 and (expected["outcome"] == "buyer_won").any()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "disputes.csv"),
                                  pd.read_csv(_as_csv(expected, tmp_path / "expected.csv")), obj="disputes")
