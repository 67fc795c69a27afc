"""Writing a run's tables to files, streamed as the days close.

``shopsim run --out DIR`` attaches a :class:`TableFiles` before the run. Every table the
recorder keeps in a :class:`~shopsim.records.Buffer` (sessions, orders, order lines, ads,
refunds, inventory, rankings, market, and any table registered the same way) is written in
chunks: once a table holds ``chunk_rows`` rows not yet written, at the close of a day, they
are appended to its file (a Parquet row group, or CSV lines) and let go, so a year of
sessions never sits in memory. The small tables (``daily`` and ``pnl`` from the day book,
``reviews``, ``events``, ``costs``, ``disputes``) are written when the run is over. The files are the
same tables ``sim.tables`` gives (same columns, dtypes and rows); after streaming, the
streamed tables are read from the files, not from ``sim.tables``.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopsim.errors import ShopsimError
from shopsim.records import Buffer, Recorder

if TYPE_CHECKING:
    import pandas as pd

    from shopsim.simulation import Simulation

#: Rows a streamed table gathers before they are written out (about 10-40 MB of sessions).
CHUNK_ROWS = 500_000


class TableFiles:
    """One file per table in folder ``out`` (``csv`` or ``parquet``), streamed during the run.

    Parameters
    ----------
    sim:
        The simulation, before it runs.
    out:
        The folder (created if missing).
    fmt:
        ``"parquet"`` or ``"csv"``.
    names:
        The tables to write (every table by default).
    chunk_rows:
        Rows a streamed table gathers before they are written and released.
    """

    def __init__(self, sim: Simulation, out: Path, fmt: str, names: tuple[str, ...] | None = None,
                 chunk_rows: int = CHUNK_ROWS) -> None:
        from shopsim.simulation import TABLES

        if fmt not in ("csv", "parquet"):
            raise ShopsimError(f"unknown table file format {fmt!r}; choose csv or parquet")
        self.sim, self.out, self.fmt, self.chunk_rows = sim, Path(out), fmt, chunk_rows
        self.names = names or TABLES
        rec = sim.records
        self.streamed = tuple(n for n in self.names if _streamable(rec, n))
        self._written = {n: getattr(rec, n).rows for n in self.streamed}
        for n in self.streamed:
            getattr(rec, n).streamed = True  # held a chunk at a time: no room for the whole run
        self._writers: dict[str, Any] = {}
        self._guard(lambda: self.out.mkdir(parents=True, exist_ok=True))
        rec.on_close.append(self._day_closed)

    def _day_closed(self, rec: Recorder) -> None:
        for name in self.streamed:
            if getattr(rec, name).rows - self._written[name] >= self.chunk_rows:
                self._flush(name)

    def finish(self) -> None:
        """Write what is left of every table and close the files."""
        rec = self.sim.records
        if self._day_closed in rec.on_close:
            rec.on_close.remove(self._day_closed)
        for name in self.streamed:
            self._flush(name, last=True)
        for name in self.names:
            if name not in self.streamed:
                self._write(name, self.sim.tables[name], last=True)

    # -- writing ---------------------------------------------------------------------------
    def _flush(self, name: str, last: bool = False) -> None:
        rec = self.sim.records
        buffer = getattr(rec, name)
        start, stop = self._written[name], buffer.rows
        if stop > start or (last and name not in self._writers):
            self._write(name, getattr(rec, f"{name}_table")(rows=slice(start, stop)), last)
        elif last:
            self._close(name)
        self._written[name] = stop
        buffer.release()

    def _write(self, name: str, frame: pd.DataFrame, last: bool) -> None:
        path = self.out / f"{name}.{self.fmt}"

        def write() -> None:
            if self.fmt == "csv":
                first = name not in self._writers
                with path.open("w" if first else "a", newline="", encoding="utf-8") as f:
                    frame.to_csv(f, index=False, header=first)
                self._writers[name] = path
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                writer = self._writers.get(name)
                if writer is None:
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    writer = self._writers[name] = pq.ParquetWriter(path, table.schema)
                else:
                    table = pa.Table.from_pandas(frame, schema=writer.schema, preserve_index=False)
                writer.write_table(table)
            if last:
                self._close(name)

        self._guard(write)

    def _close(self, name: str) -> None:
        writer = self._writers.get(name)
        if writer is not None and not isinstance(writer, Path):
            self._guard(writer.close)

    def _guard(self, step: Any) -> None:
        try:
            step()
        except OSError as exc:
            raise ShopsimError(f"cannot write tables to {self.out}: {exc.strerror or exc}") from None


def _streamable(rec: Recorder, name: str) -> bool:
    """A table kept in a recorder buffer whose builder takes a range of rows."""
    build = getattr(rec, f"{name}_table", None)
    return (isinstance(getattr(rec, name, None), Buffer) and build is not None
            and "rows" in inspect.signature(build).parameters)
