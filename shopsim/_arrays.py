"""Array helpers for the hot loop.

``np.unique`` (numpy 2.x) hashes its input and then sorts the result; on the whole numbers a
slice or a day handles (customer ids, hours, slots) that is 10 to 30 times slower than
sorting, whatever the size. These give the same results by sorting (for whole numbers, and
for floats without NaN).
"""

from __future__ import annotations

import numpy as np


def _starts(ordered: np.ndarray) -> np.ndarray:
    """Flags of the first entry of each run of equal values in a sorted array."""
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


def stable_order(keys: np.ndarray, bound: int) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for whole numbers ``0 <= keys < bound``. Keys that fit
    in 8 or 16 bits are sorted as such, which numpy does by radix sort (linear time: 10 to 20
    times faster than sorting 64-bit keys); the order is the same."""
    if bound <= 1 << 8:
        keys = keys.astype(np.uint8)
    elif bound <= 1 << 16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


def unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (as ``np.unique(values)``)."""
    ordered = np.sort(values)
    return ordered[_starts(ordered)]


def count_distinct(values: np.ndarray) -> int:
    """How many different values an array holds (whole numbers)."""
    return int(np.count_nonzero(_starts(np.sort(values))))


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and where each entry's value is among them (as
    ``np.unique(values, return_inverse=True)``; whole numbers)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = _starts(ordered)
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def runs(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array and the index where each first appears (as
    ``np.unique(ordered, return_index=True)`` for sorted input)."""
    at = np.flatnonzero(_starts(ordered))
    return ordered[at], at


def push_day(history: np.ndarray, day: np.ndarray | float) -> np.ndarray:
    """A new history (rows x days): ``history`` moved one day back, ``day`` as its last column
    (as ``np.roll(history, -1, axis=1)`` with the last column then set, without np.roll's overhead)."""
    out = np.empty_like(history)
    out[:, :-1] = history[:, 1:]
    out[:, -1] = day
    return out
