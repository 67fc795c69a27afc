"""A trainee's progress through a lesson: which exercises pass their checks, points so far.

Call it from any cell of a student notebook::

    import shopsim.grading
    shopsim.grading.progress(grader)      # grader = otter.Notebook("01-daily-report.ipynb")

It runs the public checks stored in the notebook against the notebook's variables and
shows one row per exercise. The points are provisional: the instructor's grading also
runs hidden checks.
"""

from __future__ import annotations

import html
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from shopsim.grading import questions


@dataclass(frozen=True)
class Progress:
    """Per-exercise results of the public checks, with points so far out of the lesson's total."""

    lesson: str
    results: tuple[questions.QuestionResult, ...]

    @property
    def points(self) -> float:
        """Points of the exercises whose public checks pass (provisional)."""
        return float(sum(r.possible for r in self.results if r.passed))

    @property
    def possible(self) -> float:
        """Points the lesson's exercises are worth."""
        return float(sum(r.possible for r in self.results))

    @property
    def table(self) -> pd.DataFrame:
        """One row per exercise: exercise, status, points, max_points, feedback."""
        return pd.DataFrame({
            "exercise": [r.name for r in self.results],
            "status": [r.status for r in self.results],
            "points": [r.possible if r.passed else 0.0 for r in self.results],
            "max_points": [r.possible for r in self.results],
            "feedback": [r.feedback for r in self.results],
        })

    def _headline(self) -> str:
        done = sum(r.passed for r in self.results)
        return (f"{self.lesson}: {done} of {len(self.results)} exercises pass their checks, "
                f"{self.points:g} of {self.possible:g} points so far (hidden checks run when graded)")

    def __repr__(self) -> str:
        lines = [self._headline()]
        width = max((len(r.name) for r in self.results), default=0)
        for r in self.results:
            mark = "ok " if r.passed else "-- "
            pts = f"{r.possible if r.passed else 0:g}/{r.possible:g}"
            lines.append(f"  {mark}{r.name:<{width}}  {pts:>7}  {r.status}")
            if not r.passed and r.feedback:
                lines += [f"        {line}" for line in r.feedback.splitlines()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✔' if r.passed else '✘'}</td><td><code>{html.escape(r.name)}</code></td>"
            f"<td>{(r.possible if r.passed else 0):g} / {r.possible:g}</td><td>{html.escape(r.status)}</td>"
            f"<td>{html.escape(r.feedback).replace(chr(10), '<br>')}</td></tr>"
            for r in self.results)
        return (f"<p><strong>{html.escape(self._headline())}</strong></p><table><thead><tr><th></th>"
                "<th>exercise</th><th>points</th><th>status</th><th>feedback</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def _notebook_path(grader: Any) -> Path:
    if isinstance(grader, str | Path):
        return Path(grader)
    path = getattr(grader, "_notebook", None)  # otter.Notebook keeps the path it was given here
    if not path:
        raise ValueError("progress() needs the lesson's grader (the `grader` made in the first cell) "
                         "or the notebook's file name")
    return Path(path)


def progress(grader: Any = None, env: Mapping[str, Any] | None = None) -> Progress:
    """Run the lesson's public checks now and summarise which exercises pass.

    Parameters
    ----------
    grader:
        The notebook's ``otter.Notebook`` (``grader``) or the notebook's file name. Default:
        the ``grader`` variable of the calling notebook.
    env:
        The variables to check. Default: the calling notebook's globals.
    """
    caller = inspect.currentframe()
    caller_globals = caller.f_back.f_globals if caller is not None and caller.f_back is not None else {}
    env = caller_globals if env is None else env
    if grader is None:
        grader = env.get("grader")
    path = _notebook_path(grader)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot find the lesson notebook {path}; open the lesson from the course "
                                "folder so its checks can be read") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the checks of {path}: {exc}") from None
    found = questions.from_notebook(nb)
    return Progress(path.stem, tuple(questions.run(q, env, include_hidden=False) for q in found))
