"""The tables of a run: built from its records on first access, then extended as days close.

A table is never rebuilt from all its rows: the cache keeps each frame with how far it
reaches (buffer rows, or closed days) and on the next read builds only the rows recorded
since, in one concatenation. So a policy reading ``inventory``, ``ads`` and ``daily`` every
morning pays for one day's rows, not the whole run's. The kinds of table:

- *row tables* (``sessions``, ``orders``, ``order_items``, ``refunds``, ``ads``,
  ``inventory``, ``rankings``, ``market`` and any table registered the usual way: a
  :class:`~shopsim.records.Buffer` attribute of the recorder named like the table and a
  ``<name>_table(rows)`` method that builds the absolute rows ``rows``);
- *day tables* (``daily``, ``pnl``), computed in :mod:`shopsim.reports` from the day book
  (``Recorder.days``: one row of aggregates per closed day), never from session rows;
- ``reviews``: rows appended, the ``replied`` flags refreshed (a reply changes an old row);
- small tables rebuilt when they change (``events``, ``costs``, and a ``<name>_table()``
  without ``rows``, rebuilt when its buffer grows or the simulation changes).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopsim import _arrays as arrays
from shopsim import reports
from shopsim.errors import ShopsimError
from shopsim.records import Buffer

if TYPE_CHECKING:
    from shopsim.simulation import Simulation


class TableCache:
    """One simulation's built tables and how far each reaches."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self._frames: dict[str, tuple[Any, pd.DataFrame]] = {}
        self._columns: dict[str, dict[str, Any]] = {}  # a row table's columns (arrays), to extend
        self._replied: tuple[int, int] | None = None  # (reviews, replies) the reviews frame shows

    def get(self, name: str) -> pd.DataFrame:
        """Table ``name`` as it stands now (a shallow copy: changing it leaves the cache alone)."""
        with arrays.small_pages():
            if name in ("daily", "pnl"):
                frame = self._day_table(name)
            elif name == "reviews":
                frame = self._reviews()
            else:
                frame = self._recorded(name)
            return frame.copy(deep=False)

    # -- row tables ------------------------------------------------------------------------
    def _recorded(self, name: str) -> pd.DataFrame:
        rec = self.sim.records
        build = getattr(rec, f"{name}_table")
        buffer = getattr(rec, name, None)
        if isinstance(buffer, Buffer) and _takes_rows(build):
            return self._extend(name, buffer.rows, lambda start, stop: build(rows=_held(buffer, name, start, stop)))
        key = buffer.rows if isinstance(buffer, Buffer) else self._rebuild_key(name)
        cached = self._frames.get(name)
        if cached is None or cached[0] != key:
            self._frames[name] = (key, build())
        return self._frames[name][1]

    def _rebuild_key(self, name: str) -> Any:
        rec = self.sim.records
        if name == "events":
            return len(rec.events)
        if name == "costs":
            return rec.days_done
        return self.sim._state_key()

    def _extend(self, name: str, reach: int, build: Callable[[int, int], pd.DataFrame]) -> pd.DataFrame:
        """The cached frame of ``name`` extended to ``reach`` rows by building only the new ones."""
        cached = self._frames.get(name)
        if cached is not None and cached[0] == reach:
            return cached[1]
        start = 0 if cached is None else cached[0]
        new = build(start, reach)
        if cached is None or len(new):
            columns = _arrays(new)
            if cached is not None and len(cached[1]):
                columns = _concat(self._columns[name], columns)
            self._columns[name] = columns
            self._frames[name] = (reach, pd.DataFrame(columns, copy=False))
        else:
            self._frames[name] = (reach, cached[1])
        return self._frames[name][1]

    # -- day tables ------------------------------------------------------------------------
    def _day_table(self, name: str) -> pd.DataFrame:
        """``daily`` or ``pnl``, computed from the whole day book (a few hundred rows at most)
        whenever a day has closed since the last read."""
        sim = self.sim
        days = sim.records.days.rows
        cached = self._frames.get(name)
        if cached is None or cached[0] != days:
            book = sim.records.day_book()
            pnl = reports.pnl(book, sim.scenario.shop, sim.scenario.returns.insurance_premium)
            self._frames["pnl"] = (days, pnl)
            self._frames["daily"] = (days, reports.daily_report(book, pnl))
        return self._frames[name][1]

    # -- reviews ---------------------------------------------------------------------------
    def _reviews(self) -> pd.DataFrame:
        book = self.sim.reviews
        frame = self._extend("reviews", len(book.ts), self._review_rows)
        key = (len(book.ts), sum(book.replied))
        if self._replied != key:  # a reply changed an old row: refresh the flags
            flags = np.asarray(book.replied, dtype=bool)
            self._columns["reviews"]["replied"] = flags
            frame["replied"] = flags
            self._replied = key
        return frame

    def _review_rows(self, start: int, stop: int) -> pd.DataFrame:
        book, sim = self.sim.reviews, self.sim
        order_id = np.asarray(book.order_id[start:stop], dtype=np.int64)
        return pd.DataFrame({
            "review_id": np.arange(start + 1, stop + 1, dtype=np.int64),
            "ts": sim.clock.timestamps(np.asarray(book.ts[start:stop], dtype=np.int64)),
            "order_id": pd.arrays.IntegerArray(order_id, order_id < 0),
            "sku": pd.Categorical.from_codes(np.asarray(book.offer[start:stop], dtype=np.int16),
                                             categories=sim.catalog.codes),
            "rating": np.asarray(book.rating[start:stop], dtype=np.int64),
            "tags": pd.array(book.tags[start:stop], dtype="string"),
            "replied": np.asarray(book.replied[start:stop], dtype=bool),
        })


def _arrays(frame: pd.DataFrame) -> dict[str, Any]:
    """A frame's columns as arrays (numpy, or pandas' own for categoricals, timestamps ...)."""
    return {name: (col.to_numpy() if isinstance(col.dtype, np.dtype) else col.array) for name, col in frame.items()}


def _concat(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Each column of ``old`` with ``new``'s rows below (same columns and dtypes): much cheaper
    than ``pd.concat`` of frames for the few rows a day adds to a long table."""
    return {name: _joined(a, new[name]) for name, a in old.items()}


def _joined(a: Any, b: Any) -> Any:
    """Array ``a`` with ``b`` below (same dtype); categoricals of one dtype join by their codes."""
    if isinstance(a, np.ndarray):
        return np.concatenate([a, b])
    if isinstance(a, pd.Categorical) and a.dtype == b.dtype:
        return pd.Categorical.from_codes(np.concatenate([a.codes, b.codes]), dtype=a.dtype, validate=False)
    return type(a)._concat_same_type([a, b])


def _takes_rows(build: Callable[..., pd.DataFrame]) -> bool:
    """Whether a recorder's table method builds a range of rows (``rows=slice``)."""
    return "rows" in inspect.signature(build).parameters


def _held(buffer: Buffer, name: str, start: int, stop: int) -> slice:
    """Rows ``start:stop``, checked to be still in memory (not streamed out and released)."""
    if start < buffer.first:
        raise ShopsimError(f"the {name} table was written to files as the days closed (run with an output "
                           "folder) and is no longer held in memory; read it from those files")
    return slice(start, stop)


class Tables(Mapping[str, pd.DataFrame]):
    """Dict-like access to a simulation's tables (docs/data-dictionary.md), from its cache."""

    def __init__(self, sim: Simulation, names: tuple[str, ...]) -> None:
        self._sim, self._names = sim, names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(f"no table {name!r}; tables are: {', '.join(self._names)}")
        return self._sim.table_cache.get(name)

    def __repr__(self) -> str:
        return f"<tables of {self._sim.scenario.name}: {', '.join(self._names)}>"
