"""The hot loop's sort-based array helpers give exactly what numpy's own functions give."""

from __future__ import annotations

import numpy as np
import pytest

from shopsim import _arrays as arrays


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.float64])
@pytest.mark.parametrize("size", [0, 1, 2, 7, 300])
def test_helpers_match_numpy(dtype, size):
    rng = np.random.default_rng(size)
    values = rng.integers(-5, 40, size).astype(dtype)
    if dtype is np.float64 and size:
        values[::3] += 0.25
    expected = np.unique(values)
    got = arrays.unique(values)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert arrays.count_distinct(values) == len(expected)
    expected_values, expected_inverse = np.unique(values, return_inverse=True)
    got_values, got_inverse = arrays.unique_inverse(values)
    np.testing.assert_array_equal(got_values, expected_values)
    np.testing.assert_array_equal(got_inverse, expected_inverse.ravel())
    ordered = np.sort(values)
    expected_runs, expected_first = np.unique(ordered, return_index=True)
    got_runs, got_first = arrays.runs(ordered)
    np.testing.assert_array_equal(got_runs, expected_runs)
    np.testing.assert_array_equal(got_first, expected_first)


@pytest.mark.parametrize("shape", [(3, 5), (1, 1), (4, 1), (0, 3)])
def test_push_day_is_roll_with_the_last_day_set(shape):
    history = np.random.default_rng(1).random(shape)
    day = np.arange(shape[0], dtype=float)
    expected = np.roll(history, -1, axis=1)
    expected[:, -1] = day
    got = arrays.push_day(history, day)
    np.testing.assert_array_equal(got, expected)
    assert got is not history and got.flags.c_contiguous


def test_helpers_leave_their_input_alone():
    values = np.array([3, 1, 3, 2])
    arrays.unique(values), arrays.count_distinct(values), arrays.unique_inverse(values)
    np.testing.assert_array_equal(values, [3, 1, 3, 2])


def test_grown_keeps_what_was_held_and_makes_room_fourfold():
    column = np.arange(20, dtype=np.int32)
    bigger = arrays.grown(column, 12, 25)
    assert bigger.dtype == np.int32 and len(bigger) == 80, "at least the rows asked for, and four times the room"
    assert bigger[:12].tolist() == list(range(12))
    assert len(arrays.grown(column, 20, 500)) == 500


@pytest.mark.skipif(not hasattr(np._core.multiarray, "_set_madvise_hugepage"), reason="numpy without the setting")
@pytest.mark.parametrize("before", [True, False])
@pytest.mark.parametrize("huge", [True, False])
def test_pages_sets_numpys_advice_and_restores_it_even_after_an_error(before, huge):
    setting = np._core.multiarray._set_madvise_hugepage
    original = setting(before)
    try:
        with pytest.raises(RuntimeError), arrays.pages(huge=huge):
            assert setting(huge) is huge, "huge pages as asked inside the block"
            raise RuntimeError("a policy failed")
        assert setting(before) is before, "the setting is back as it was"
        with arrays.small_pages():
            assert setting(False) is False
        arrays.grown(np.zeros(4), 4, 8, huge_pages=huge)
        assert setting(before) is before
    finally:
        setting(original)


@pytest.mark.parametrize("choices", [(3,), (1, 2, 4), (0, 3)])
def test_among_is_isin(choices):
    values = np.random.default_rng(2).integers(-1, 6, 200)
    np.testing.assert_array_equal(arrays.among(values, choices), np.isin(values, choices))
