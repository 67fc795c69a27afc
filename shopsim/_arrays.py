"""Array helpers for the hot loop.

``np.unique`` (numpy 2.x) hashes its input and then sorts the result; on the whole numbers a
slice or a day handles (customer ids, hours, slots) that is 10 to 30 times slower than
sorting, whatever the size. These give the same results by sorting (for whole numbers, and
for floats without NaN).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


def grown(array: np.ndarray, held: int, size: int, factor: int = 4, huge_pages: bool = False) -> np.ndarray:
    """A bigger array for an append-only column: room for at least ``size`` values and at least
    ``factor`` times the old room, with the first ``held`` values copied over. Growing fourfold,
    not twofold, copies the values held a third as often; the room past what is written is never
    touched, so the memory behind it is not used until it is filled. ``huge_pages``: for an
    array read and written at random (see :func:`pages`)."""
    with pages(huge=huge_pages):
        bigger = np.empty(max(size, factor * len(array), 16), dtype=array.dtype)
    bigger[:held] = array[:held]
    return bigger


@contextlib.contextmanager
def pages(huge: bool) -> Iterator[None]:
    """Within this block numpy asks the kernel for huge pages (2 MiB) for its large arrays (of
    4 MiB or more) only if ``huge``; numpy's own setting is restored on leaving.

    numpy asks for them by default. That suits arrays read at random: the customer base's, read
    and written by customer id a few thousand times a slice, where 2 MiB pages spare the
    processor most of its page-table look-ups (high_traffic's year: 0.35 s less in the base's
    gathers). It does not suit the rest of the engine, which fills its record columns a slice at
    a time and makes and frees large temporaries all day: each first touch of a huge page
    zeroes (and may first compact) 2 MiB and each free splits them. Over that year this was
    2.0 s of kernel time (0.7 s on small pages), and building the sessions table took 0.71 s
    instead of 0.35 s; so the engine runs and builds tables on small pages
    (:func:`small_pages`). The setting is process-wide: other threads' arrays made meanwhile
    are mapped the same way (which changes nothing else). A no-op where numpy lacks it.
    """
    setting = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
    if setting is None:
        yield
        return
    before = setting(huge)
    try:
        yield
    finally:
        setting(before)


def small_pages() -> contextlib.AbstractContextManager[None]:
    """:func:`pages` without huge pages: what the engine runs and builds its tables on."""
    return pages(huge=False)


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


def among(values: np.ndarray, choices: tuple[int, ...]) -> np.ndarray:
    """Whether each value is one of a few ``choices`` (as ``np.isin``, which is slower for a
    handful of codes)."""
    return np.logical_or.reduce([values == c for c in choices])


def push_day(history: np.ndarray, day: np.ndarray | float) -> np.ndarray:
    """A new history (rows x days): ``history`` moved one day back, ``day`` as its last column
    (as ``np.roll(history, -1, axis=1)`` with the last column then set, without np.roll's overhead)."""
    out = np.empty_like(history)
    out[:, :-1] = history[:, 1:]
    out[:, -1] = day
    return out
