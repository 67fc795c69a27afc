"""The trainee's side of a lesson: the check under each exercise and the progress summary.

The first cell of a student copy makes the lesson's grader, the cell under each exercise
checks it, the last cell sums up::

    import shopsim.grading
    grader = shopsim.grading.Grader("01-daily-report.ipynb")
    grader.check("conversion")            # form, then (practice lessons) the value
    shopsim.grading.progress(grader)

Both run the checks stored in the notebook (its metadata) against the notebook's
variables. In a practice lesson they include the value check against the sealed answer
key (:mod:`shopsim.grading.answer_key`), so "passed" means right; in an exam they check the
form only and the value is known when the instructor grades.
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
    mode: str = "practice"

    @property
    def points(self) -> float:
        """Points of the exercises whose value is right (practice; provisional); 0 in an exam."""
        return float(sum(r.points for r in self.results))

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
            "points": [r.points for r in self.results],
            "max_points": [r.possible for r in self.results],
            "feedback": [r.feedback for r in self.results],
        })

    def _headline(self) -> str:
        done = sum(r.passed for r in self.results)
        if self.mode == "exam":
            return (f"{self.lesson}: {done} of {len(self.results)} exercises have an answer of the right form; "
                    f"the values ({self.possible:g} points) are checked when your instructor grades")
        return (f"{self.lesson}: {done} of {len(self.results)} exercises right, "
                f"{self.points:g} of {self.possible:g} points so far")

    def __repr__(self) -> str:
        lines = [self._headline()]
        width = max((len(r.name) for r in self.results), default=0)
        for r in self.results:
            mark = "ok " if r.passed else "-- "
            pts = f"{r.points:g}/{r.possible:g}"
            lines.append(f"  {mark}{r.name:<{width}}  {pts:>7}  {r.status}")
            if not r.passed and r.feedback:
                lines += [f"        {line}" for line in r.feedback.splitlines()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✔' if r.passed else '✘'}</td><td><code>{html.escape(r.name)}</code></td>"
            f"<td>{r.points:g} / {r.possible:g}</td><td>{html.escape(r.status)}</td>"
            f"<td style=\"text-align:left\">{html.escape(r.feedback).replace(chr(10), '<br>')}</td></tr>"
            for r in self.results)
        return (f"<p><strong>{html.escape(self._headline())}</strong></p><table><thead><tr><th></th>"
                "<th>exercise</th><th>points</th><th>status</th>"
                "<th style=\"text-align:left\">feedback</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def _notebook_path(grader: Any) -> Path:
    if isinstance(grader, str | Path):
        return Path(grader)
    path = getattr(grader, "notebook", None) or getattr(grader, "_notebook", None)  # ours, or otter.Notebook's
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
    nb = _read(path)
    found = questions.from_notebook(nb)
    return Progress(path.stem, tuple(questions.run(q, env, include_hidden=False) for q in found), _mode(nb))


def _renamed(path: Path) -> Path:
    """``path``, or the notebook beside it that holds the same lesson (a trainee renamed or copied it)."""
    if path.is_file():
        return path
    for candidate in sorted(path.parent.glob("*.ipynb")):
        try:
            meta = json.loads(candidate.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("otter", {}).get("assignment_name") == path.stem:
            return candidate
    return path


def _read(path: Path) -> dict[str, Any]:
    path = _renamed(path)
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot find the lesson notebook {path}; open the lesson from the course "
                                "folder so its checks can be read") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the checks of {path}: {exc}") from None


def _mode(nb: Mapping[str, Any]) -> str:
    meta = nb.get("metadata", {}).get("shopsim", {})
    return str(meta.get("mode", "practice")) if isinstance(meta, Mapping) else "practice"


@dataclass(frozen=True)
class Checked:
    """What ``grader.check("q")`` shows: the exercise, whether it passed, the feedback."""

    result: questions.QuestionResult
    mode: str

    def _lines(self) -> tuple[str, str]:
        r = self.result
        if r.passed and self.mode == "exam":
            return "✔", (f"`{r.name}` has an answer of the right form. Its value is checked when your instructor "
                         "grades (this lesson is an exam).")
        if r.passed:
            return "✔", f"`{r.name}` is right ({r.points:g} of {r.possible:g} points)."
        if r.status == "check error":
            return "⚠", f"Exercise `{r.name}`: {r.feedback}"
        return "✘", f"Exercise `{r.name}`: {r.feedback}"

    def __repr__(self) -> str:
        mark, text = self._lines()
        return f"{mark} {text}"

    def _repr_html_(self) -> str:
        mark, text = self._lines()
        colour = {"✔": "#1a7f37", "✘": "#b35900", "⚠": "#b00020"}[mark]
        body = html.escape(text).replace("\n", "<br>")
        return f'<p style="color:{colour}"><strong>{mark}</strong> {body}</p>'


class Grader:
    """The lesson's checks, made in the first cell of a student copy.

    Parameters
    ----------
    notebook:
        The student copy's file name (its checks are read from it).
    """

    def __init__(self, notebook: str | Path) -> None:
        self.notebook = Path(notebook)

    def check(self, question: str, env: Mapping[str, Any] | None = None) -> Checked:
        """Check one exercise now: its form, then (practice lessons) its value.

        ``env`` defaults to the calling notebook's variables.
        """
        if env is None:
            caller = inspect.currentframe()
            env = caller.f_back.f_globals if caller is not None and caller.f_back is not None else {}
        nb = _read(self.notebook)
        found = {q.name: q for q in questions.from_notebook(nb)}
        if question not in found:
            raise KeyError(f"no exercise {question!r} in {self.notebook.name}; exercises: {', '.join(found)}")
        return Checked(questions.run(found[question], env, include_hidden=False), _mode(nb))
