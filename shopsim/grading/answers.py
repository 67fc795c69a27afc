"""A notebook's answers as data: what crosses from the sandbox to the grader, and nothing else.

The sandboxed runner writes each answer variable to the answers folder after every cell:
``NAME.json`` for scalars, text, dates and small lists or dicts of them, ``NAME.parquet``
for tables (DataFrame) and series. Never pickle: reading an answer runs no code of the
trainee's, so an answer cannot patch a check or lie about itself (an object whose ``==``
is always true arrives as a description of its type, not as the object).

The trusted grader reads the folder with :func:`load`, which treats every file as hostile:
no symbolic links or special files, a size cap per file, JSON nesting capped, Parquet
checked for its row count before it is read. A file that breaks a rule becomes an
:class:`Unreadable` answer (the checks then say "wrong type"), never an error of the grader.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Largest answer file read back, bytes.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Largest table read back: rows and cells.
MAX_ROWS, MAX_CELLS = 1_000_000, 5_000_000
#: Deepest nesting of lists and dicts kept in a JSON answer.
MAX_DEPTH = 20


class Unreadable:
    """An answer that could not be carried out of the sandbox as data (its type, or why)."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return self.what


def _encode(value: Any, depth: int = 0) -> Any:
    """A JSON-able tagged form of ``value``; raises TypeError for what cannot be data."""
    if depth > MAX_DEPTH:
        raise TypeError("nested too deeply")
    if value is None or value is Ellipsis:
        return {"t": "none" if value is None else "ellipsis"}
    if isinstance(value, bool | np.bool_):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int | np.integer):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, float | np.floating):
        x = float(value)
        return {"t": "float", "v": repr(x) if not math.isfinite(x) else x}
    if isinstance(value, str):
        return {"t": "str", "v": str(value)}
    if isinstance(value, pd.Timestamp):
        return {"t": "timestamp", "v": value.isoformat()}
    if isinstance(value, dt.datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, np.datetime64):
        return {"t": "timestamp", "v": pd.Timestamp(value).isoformat()}
    if isinstance(value, list | tuple | set | frozenset):
        kind = "list" if isinstance(value, list) else "tuple" if isinstance(value, tuple) else "set"
        items = sorted(value, key=repr) if kind == "set" else value
        return {"t": kind, "v": [_encode(v, depth + 1) for v in items]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size <= MAX_ROWS:
        return {"t": "list", "v": [_encode(v, depth + 1) for v in value.tolist()]}
    raise TypeError(type(value).__name__)


def _decode(node: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH + 1 or not isinstance(node, dict) or "t" not in node:
        raise ValueError("not an answer")
    kind, v = node["t"], node.get("v")
    simple = {"none": lambda: None, "ellipsis": lambda: Ellipsis, "bool": lambda: bool(v),
              "int": lambda: int(str(v)[:400]), "float": lambda: float(v), "str": lambda: str(v),
              "timestamp": lambda: pd.Timestamp(str(v)), "datetime": lambda: dt.datetime.fromisoformat(str(v)),
              "date": lambda: dt.date.fromisoformat(str(v))}
    if kind in simple:
        return simple[kind]()
    if kind in ("list", "tuple", "set") and isinstance(v, list):
        items = [_decode(x, depth + 1) for x in v]
        return items if kind == "list" else tuple(items) if kind == "tuple" else set(items)
    if kind == "dict" and isinstance(v, list):
        return {_decode(k, depth + 1): _decode(x, depth + 1) for k, x in v}
    raise ValueError(f"unknown answer kind {kind!r}")


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # a kill mid-write leaves the previous answer, never half a file


def dump(folder: Path, name: str, value: Any) -> None:
    """Write one answer to ``folder`` (inside the sandbox): Parquet for tables, JSON otherwise."""
    for old in (folder / f"{name}.json", folder / f"{name}.parquet"):
        if old.exists():
            old.unlink()
    if isinstance(value, pd.DataFrame | pd.Series):
        try:
            frame = value.to_frame(name="__series__" if value.name is None else value.name) \
                if isinstance(value, pd.Series) else value
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            meta = {"t": "series" if isinstance(value, pd.Series) else "frame",
                    "name": None if not isinstance(value, pd.Series) or value.name is None else str(value.name)}
            _write(folder / f"{name}.parquet", buffer.getvalue())
            _write(folder / f"{name}.json", json.dumps(meta).encode())
            return
        except Exception as exc:  # a table pyarrow cannot store (objects in its cells)
            value = Unreadable(f"a table that cannot be stored as data ({type(exc).__name__})")
    if isinstance(value, Unreadable):
        node = {"t": "unreadable", "v": value.what}
    else:
        try:
            node = _encode(value)
        except (TypeError, ValueError, OverflowError) as exc:
            node = {"t": "unreadable", "v": f"a {type(value).__name__} ({exc})"[:200]}
    _write(folder / f"{name}.json", json.dumps(node).encode())


def dump_all(folder: Path, env: dict[str, Any], names: Iterable[str]) -> None:
    """Write every answer in ``names`` that ``env`` defines (missing ones are removed)."""
    for name in names:
        if name in env:
            dump(folder, name, env[name])
        else:
            for old in (folder / f"{name}.json", folder / f"{name}.parquet"):
                if old.exists():
                    old.unlink()


def _read_regular(path: Path) -> bytes | None:
    """A file's bytes if it is a regular file (no link, no fifo) within the size cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]
    finally:
        os.close(fd)


def _table(data: bytes, meta: dict[str, Any]) -> Any:
    import pyarrow.parquet as pq

    source = pq.ParquetFile(io.BytesIO(data))
    rows, cols = source.metadata.num_rows, source.metadata.num_columns
    if rows > MAX_ROWS or rows * max(cols, 1) > MAX_CELLS:
        return Unreadable(f"a table too large to grade ({rows} rows x {cols} columns)")
    frame = pd.read_parquet(io.BytesIO(data))
    if meta.get("t") == "series":
        series = frame.iloc[:, 0]
        series.name = meta.get("name")
        return series
    return frame


def load(folder: Path, names: Iterable[str]) -> dict[str, Any]:
    """The answers in ``folder`` (written by an untrusted process) for ``names``; absent ones are left out."""
    found: dict[str, Any] = {}
    for name in names:
        raw = _read_regular(folder / f"{name}.json")
        if raw is None:
            if (folder / f"{name}.json").is_symlink() or (folder / f"{name}.json").exists():
                found[name] = Unreadable("an answer file the grader does not read (a link or too large)")
            continue
        try:
            node = json.loads(raw)
            if isinstance(node, dict) and node.get("t") in ("frame", "series"):
                data = _read_regular(folder / f"{name}.parquet")
                found[name] = _table(data, node) if data is not None else Unreadable("a table file that is missing")
            elif isinstance(node, dict) and node.get("t") == "unreadable":
                found[name] = Unreadable(str(node.get("v", "something"))[:200])
            else:
                found[name] = _decode(node)
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError, MemoryError, OSError) as exc:
            found[name] = Unreadable(f"an answer the grader cannot read ({type(exc).__name__})")
        except Exception as exc:  # pyarrow's own errors on a damaged file
            found[name] = Unreadable(f"a damaged table ({type(exc).__name__})")
    return found
