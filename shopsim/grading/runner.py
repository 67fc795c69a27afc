"""Grade one submission inside its own process (the batch grader starts one per notebook).

Usage (internal; ``shopsim grade`` runs it)::

    python -m shopsim.grading.runner JOB.json

JOB.json names the submission, the trusted material (every question's tests, including
hidden ones, and the protected cells' sources) and where to write the result. The runner
executes the submission's code cells in order in an IPython shell of this process (errors
are recorded and execution goes on, as in a notebook), skipping the protected cells
(otter's set-up and ``grader.check`` cells, the progress cell), then runs the trusted tests
against the notebook's variables and writes the result JSON. Before each cell it writes the
cell's number to the progress file, so the batch grader can say where a notebook hung,
exited or crashed. The batch grader enforces the time limit by killing this process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from shopsim.grading import questions


class _GraderStand_in:  # noqa: N801 - named for what a trainee sees in a traceback
    """Replaces ``otter.Notebook`` while grading: trusted tests run afterwards, not here."""

    def check(self, *args: Any, **kwargs: Any) -> None:
        """Do nothing (the grader runs the trusted tests after the notebook)."""

    def check_all(self, *args: Any, **kwargs: Any) -> None:
        """Do nothing (the grader runs the trusted tests after the notebook)."""


def _shell(workdir: Path) -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class GradingShell(InteractiveShell):
        """A shell without a GUI or a front end: ``%matplotlib`` and ``exit()`` do no harm."""

        def enable_gui(self, gui: Any = None) -> None:
            """No event loop to hook into: figures are drawn off screen (Agg) or not at all."""

        def ask_exit(self) -> None:
            """``exit()`` in a notebook cell: ignored, the grader decides when to stop."""

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    shell = GradingShell.instance(config=config, ipython_dir=str(workdir / ".ipython"))
    shell.user_ns["grader"] = _GraderStand_in()
    return shell


def _error_text(result: Any) -> str | None:
    error = result.error_before_exec or result.error_in_exec
    if error is None:
        return None
    text = f"{type(error).__name__}: {error}".strip()
    return text if len(text) <= 300 else text[:297] + "..."


def execute(cells: list[dict[str, Any]], skip: set[str], workdir: Path, progress_file: Path) -> tuple[Any, list]:
    """Run the code cells in order; return the shell and a list of (cell number, error text)."""
    shell = _shell(workdir)
    errors: list[tuple[int, str]] = []
    sink = io.StringIO()
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if source in skip or not source.strip():
            continue
        progress_file.write_text(str(number), encoding="utf-8")
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = shell.run_cell(source, store_history=False)
        sink.seek(0)
        sink.truncate()
        text = _error_text(result)
        if text is not None:
            errors.append((number, text))
    progress_file.write_text("tests", encoding="utf-8")
    return shell, errors


def grade(job: dict[str, Any]) -> dict[str, Any]:
    """Execute the submission named in ``job`` and run its trusted tests; return the result."""
    workdir = Path(job["workdir"])
    nb = json.loads(Path(job["submission"]).read_text(encoding="utf-8"))
    os.chdir(workdir)
    shell, errors = execute(nb.get("cells", []), set(job["skip"]), workdir, Path(job["progress_file"]))
    env = shell.user_ns
    results = []
    for name, source in job["tests"].items():
        question = questions.parse(source, f"question {name}")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            outcome = questions.run(question, env)
        results.append({"question": name, "points": outcome.points, "max_points": outcome.possible,
                        "status": outcome.status, "feedback": outcome.feedback})
    return {"cell_errors": [{"cell": n, "error": e} for n, e in errors], "questions": results}


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m shopsim.grading.runner JOB.json``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m shopsim.grading.runner JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    result = grade(job)
    out = Path(job["result"])
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
