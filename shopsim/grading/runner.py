"""Execute one submission inside the sandbox and write its answers out as data.

Usage (internal; ``shopsim grade`` runs it in :mod:`~shopsim.grading.sandbox`)::

    python -m shopsim.grading.runner JOB.json

JOB.json names the submission (a copy in the work folder), the answers folder, the progress
file, the protected cells to skip (otter's set-up and ``grader.check`` cells, the progress
cell: all public, from the student copy) and the names of the answer variables. It holds no
test and no solution: the checks run in the trusted grader afterwards, on the answers.

The code cells run in order in an IPython shell (errors are recorded and execution goes
on, as in a notebook). Before each cell its number goes to the progress file; after each
cell every answer variable is written to the answers folder (:func:`answers.dump_all`), so
an ``exit()``, a crash or the time limit late in the notebook keeps the answers given
before it. Nothing this process writes is trusted: it is the submission's own process.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopsim.grading import answers

#: Names IPython puts in a notebook's globals; never answers.
_SHELL_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython", "grader"})


class _GraderStand_in:  # noqa: N801 - named for what a trainee sees in a traceback
    """Replaces ``otter.Notebook`` while grading: the trusted checks run later, outside."""

    def check(self, *args: Any, **kwargs: Any) -> None:
        """Do nothing (the grader runs the trusted checks after the notebook)."""

    def check_all(self, *args: Any, **kwargs: Any) -> None:
        """Do nothing (the grader runs the trusted checks after the notebook)."""


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


def answer_names(env: dict[str, Any], wanted: list[str], everything: bool) -> list[str]:
    """The variables to write out: ``wanted``, or (``everything``) every plain global of the notebook."""
    if not everything:
        return wanted
    return [n for n, v in env.items() if not n.startswith("_") and n not in _SHELL_NAMES
            and not isinstance(v, types.ModuleType | types.FunctionType | type)] + wanted


def run_cells(cells: list[Any], skip: set[str], workdir: Path, progress_file: Path,
              after: Callable[[dict[str, Any]], None] | None = None) -> tuple[Any, list[tuple[int, str]]]:
    """Run the code cells in order; return the shell and a list of (cell number, error text).

    Before each cell its number (1-based, every cell counted) goes to ``progress_file``; after
    each cell ``after`` is called with the notebook's globals. Cells whose source is in ``skip``
    are not run. At the end ``progress_file`` says ``done``.
    """
    shell = _shell(workdir)
    errors: list[tuple[int, str]] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if source in skip or not source.strip():
            continue
        progress_file.write_text(str(number), encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            result = shell.run_cell(source, store_history=False)
        text = _error_text(result)
        if text is not None:
            errors.append((number, text))
        if after is not None:
            after(shell.user_ns)
    progress_file.write_text("done", encoding="utf-8")
    return shell, errors


def execute(cells: list[dict[str, Any]], job: dict[str, Any], workdir: Path) -> list[tuple[int, str]]:
    """Run the code cells in order, writing the answers after each; return (cell number, error text)."""
    out = Path(job["answers"])
    out.mkdir(exist_ok=True)
    wanted, everything = list(job["names"]), bool(job.get("everything"))

    def dump(env: dict[str, Any]) -> None:
        answers.dump_all(out, env, answer_names(env, wanted, everything))

    _, errors = run_cells(cells, set(job["skip"]), workdir, Path(job["progress_file"]), dump)
    return errors


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m shopsim.grading.runner JOB.json``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m shopsim.grading.runner JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    workdir = Path(args[0]).parent
    nb = json.loads(Path(job["submission"]).read_text(encoding="utf-8"))
    errors = execute(nb.get("cells", []), job, workdir)
    (workdir / "cell_errors.json").write_text(json.dumps([{"cell": n, "error": e} for n, e in errors]),
                                              encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
