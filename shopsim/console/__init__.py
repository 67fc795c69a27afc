"""The operator console: the morning routine of a shop, made tangible in Jupyter.

``Console(scenario, seed)`` is the ipywidgets app (:mod:`shopsim.console.view`): yesterday's
KPI tiles, charts, a feed of what happened, a morning checklist, a form for every lever,
and buttons to run one day or a week. Its logic lives in :class:`ConsoleModel`
(:mod:`shopsim.console.model`), plain Python that tests drive without a browser.
``shopsim console [SCENARIO]`` serves it alone with Voilà (:mod:`shopsim.console.serve`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopsim.console.model import ConsoleModel, Result, Tile

if TYPE_CHECKING:
    from shopsim.console.view import Console

__all__ = ["Console", "ConsoleModel", "Result", "Tile"]


def __getattr__(name: str) -> Any:
    if name == "Console":  # the widgets (and matplotlib) load only when the app is asked for
        from shopsim.console.view import Console

        return Console
    raise AttributeError(f"module 'shopsim.console' has no attribute {name!r}")
