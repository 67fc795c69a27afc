"""The course's lessons built once per test process, their masters run once per test session.

Building a lesson runs ``otter assign`` and its master (a process of its own, the longest part);
the session's ``$SHOPSIM_KEY_CACHE`` (``tests/conftest.py``) shares master runs between the
xdist workers. Tests that need every lesson take :func:`every_lesson`, which builds them in an
order that depends on the worker, so two workers that both need every master split the runs
between them instead of one waiting for each run the other makes.

The :class:`~shopsim.grading.build.Lesson` objects returned are shared: read them, never change them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from shopsim.grading import build

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "course" / "source"
NAMES = sorted(p.stem for p in SOURCE.glob("*.ipynb"))


@functools.cache
def lesson_built(name: str) -> build.Lesson:
    """The lesson ``course/source/NAME.ipynb`` built (once per process; shared, read-only)."""
    return build.build_lesson(SOURCE / f"{name}.ipynb")


def worker_order(names: list[str]) -> list[str]:
    """``names`` in this xdist worker's order: as given on even workers (and without xdist), reversed on odd ones."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(worker[2:]) if worker[2:].isdigit() else 0
    return list(reversed(names)) if number % 2 else list(names)


def every_lesson() -> dict[str, build.Lesson]:
    """Every lesson of the course, built in :func:`worker_order` (shared, read-only), by name."""
    built = {name: lesson_built(name) for name in worker_order(NAMES)}
    return {name: built[name] for name in NAMES}
