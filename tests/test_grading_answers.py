"""Answers as data: what a notebook's variables become on their way out of the sandbox."""

import datetime as dt
import math
import os

import numpy as np
import pandas as pd
import pytest

from shopsim.grading import answers, checks, feedback


@pytest.mark.parametrize("value", [
    0, -7, 10 ** 30, 0.025, -1.5, "conversion uses visitors", "中文", True, False, None, Ellipsis,
    np.int64(42), np.float32(0.5), pd.Timestamp("2026-03-01 08:00"), dt.date(2026, 3, 1),
    dt.datetime(2026, 3, 1, 8, 30), [1, "a", None], (1, 2.5), {"a": 1, 2: [3]}, {"x", "y"},
])
def test_plain_values_come_back_equal(tmp_path, value):
    answers.dump(tmp_path, "x", value)
    back = answers.load(tmp_path, ["x"])["x"]
    assert back == value if value is not Ellipsis else back is Ellipsis
    assert type(back) in (type(value), int, float, list)


def test_nan_and_infinity_survive(tmp_path):
    answers.dump(tmp_path, "a", float("nan"))
    answers.dump(tmp_path, "b", float("-inf"))
    got = answers.load(tmp_path, ["a", "b"])
    assert math.isnan(got["a"]) and got["b"] == float("-inf")


def test_tables_and_series_keep_their_dtypes_and_index(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2026-03-01", "2026-03-02"]), "gmv": [1.5, 2.5],
                          "sku": pd.Categorical(["TEE", "JEANS"]), "orders": pd.array([1, None], dtype="Int64")})
    series = pd.Series([0.1, 0.2], index=["pc", "mobile"], name="conversion")
    answers.dump(tmp_path, "frame", frame)
    answers.dump(tmp_path, "series", series)
    answers.dump(tmp_path, "unnamed", pd.Series([1, 2]))
    got = answers.load(tmp_path, ["frame", "series", "unnamed"])
    pd.testing.assert_frame_equal(got["frame"], frame)
    pd.testing.assert_series_equal(got["series"], series)
    assert got["unnamed"].name is None and list(got["unnamed"]) == [1, 2]
    assert not list(tmp_path.glob("*.tmp"))


def test_objects_that_are_not_data_arrive_as_a_description(tmp_path):
    class Yes(float):
        def __eq__(self, other):
            return True

    answers.dump(tmp_path, "lock", __import__("threading").Lock())
    answers.dump(tmp_path, "liar", Yes(0.3))
    answers.dump(tmp_path, "objects", pd.DataFrame({"x": [object()]}))
    got = answers.load(tmp_path, ["lock", "liar", "objects"])
    assert isinstance(got["lock"], answers.Unreadable) and "lock" in feedback.describe(got["lock"])
    assert type(got["liar"]) is float and got["liar"] == 0.3 and got["liar"] != 0.4
    assert isinstance(got["objects"], answers.Unreadable)
    with pytest.raises(checks.CheckFailed, match="should be a single number"):
        checks.number(got["lock"], name="lock")


def test_an_answer_no_longer_defined_is_removed(tmp_path):
    answers.dump_all(tmp_path, {"a": 1}, ["a", "b"])
    answers.dump_all(tmp_path, {"b": 2}, ["a", "b"])
    assert answers.load(tmp_path, ["a", "b"]) == {"b": 2}


def test_hostile_answer_files_are_read_as_unreadable_never_followed(tmp_path):
    secret = tmp_path.parent / f"{tmp_path.name}-secret.json"
    secret.write_text('{"t": "str", "v": "the gradebook"}', encoding="utf-8")
    out = tmp_path / "answers"
    out.mkdir()
    os.symlink(secret, out / "link.json")
    os.mkfifo(out / "fifo.json")
    (out / "big.json").write_text('{"t": "str", "v": "' + "x" * (answers.MAX_FILE_BYTES + 1) + '"}')
    (out / "deep.json").write_text("[" * 100000 + "]" * 100000)
    (out / "odd.json").write_text('{"t": "pickle", "v": "gASVAAAAAAAAAAB9lC4="}')
    (out / "table.json").write_text('{"t": "frame"}')
    (out / "table.parquet").write_bytes(b"PAR1 not really")
    got = answers.load(out, ["link", "fifo", "big", "deep", "odd", "table", "absent"])
    assert "absent" not in got
    assert all(isinstance(v, answers.Unreadable) for v in got.values()), got
