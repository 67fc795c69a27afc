"""Deferred imports: a heavy library (pandas) is imported when first used, not by ``import shopsim``.

A simulation runs on numpy alone; pandas is needed once a table is read or written, so the
modules that build tables name it through :func:`lazy` and a run that never reads a table (or
the start of one that does) does not pay pandas' import time.
"""

from __future__ import annotations

import importlib
from typing import Any


class _Deferred:
    """Stands for a module; the first attribute read imports it (every later read is a lookup)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<deferred import of {self._name}>"


def lazy(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first use."""
    return _Deferred(name)
