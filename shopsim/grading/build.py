"""Build student notebooks from lesson masters with ``otter assign``, deterministically.

A course folder holds ``source/`` (one master per lesson: teaching text, solutions, public
and hidden tests) and ``lessons/`` (the generated student copies, committed). Building a
master runs ``otter assign`` in a scratch folder and then normalises the student copy so the
same master always gives the same bytes: outputs and execution counts removed, cell ids
derived from the cells' content, a progress cell appended, JSON written with sorted keys.
``build_course(..., check=True)`` writes nothing and reports every copy that differs.

Authors only need ``name:`` in the master's ``# ASSIGNMENT CONFIG`` cell (or no config cell
at all); the settings shopsim relies on are filled in here (:data:`FORCED_CONFIG`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shopsim.grading import questions

#: Assignment settings shopsim needs, whatever the master says: tests stored in notebook
#: metadata in otter's exception-based format, no autograder zip, no export cell.
FORCED_CONFIG: dict[str, Any] = {
    "init_cell": True, "check_all_cell": False, "export_cell": False, "run_tests": False, "generate": False,
    "tests": {"files": False, "ok_format": False},
}
PROGRESS_TAG = "shopsim-progress"
PROGRESS_SOURCE = "import shopsim.grading\n\nshopsim.grading.progress(grader)"
KERNEL = "python3"


class BuildError(ValueError):
    """A master notebook cannot be built (bad config, bad tests, wrong kernel ...)."""


@dataclass(frozen=True)
class Lesson:
    """A built lesson: the student copy and the trusted material to grade it with.

    ``student`` is the normalised student notebook (as JSON data), ``text`` its file content,
    ``tests`` every question's test file source including hidden tests (question -> source),
    ``protected`` the student copy's cells a trainee must not change (cell id -> source).
    """

    name: str
    filename: str
    student: dict[str, Any]
    text: str
    tests: dict[str, str]
    protected: dict[str, str]

    def questions(self) -> list[questions.Question]:
        """Every question with all its test cases (public and hidden), in notebook order."""
        nb = copy.deepcopy(self.student)
        nb["metadata"]["otter"]["tests"] = self.tests
        return questions.from_notebook(nb)


@dataclass
class BuildReport:
    """What a course build did or, with ``check``, would do."""

    written: list[Path] = field(default_factory=list)
    differing: list[Path] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        """True when every student copy matches its master and none is left without one."""
        return not self.differing and not self.orphans


@dataclass(frozen=True)
class Course:
    """A course folder: ``source/`` masters and ``lessons/`` student copies."""

    root: Path

    @property
    def source(self) -> Path:
        """The folder of lesson masters."""
        return self.root / "source"

    @property
    def lessons(self) -> Path:
        """The folder of generated student copies."""
        return self.root / "lessons"

    def masters(self) -> list[Path]:
        """Every lesson master, sorted by file name."""
        return sorted(self.source.glob("*.ipynb")) if self.source.is_dir() else []

    def master(self, lesson: str) -> Path:
        """The master of ``lesson``: a path to a notebook, a lesson's name, or a unique prefix ("01")."""
        path = Path(lesson)
        if path.suffix == ".ipynb" and path.is_file():
            return path
        masters = self.masters()
        exact = [m for m in masters if m.stem == lesson]
        found = exact or [m for m in masters if m.stem.startswith(lesson)]
        if len(found) == 1:
            return found[0]
        known = ", ".join(m.stem for m in masters) or f"none yet in {self.source}"
        if not found:
            raise BuildError(f"unknown lesson {lesson!r}; lessons: {known}")
        raise BuildError(f"lesson {lesson!r} is ambiguous: {', '.join(m.stem for m in found)}")


def _read(path: Path) -> dict[str, Any]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"{path}: cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BuildError(f"{path}: not a notebook (invalid JSON: {exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise BuildError(f"{path}: not a Jupyter notebook in format 4")
    return nb


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _with_forced_config(nb: dict[str, Any], name: str) -> dict[str, Any]:
    """The master with its ``# ASSIGNMENT CONFIG`` cell set to :data:`FORCED_CONFIG`."""
    nb = copy.deepcopy(nb)
    config: dict[str, Any] = {"name": name}
    cells = nb["cells"]
    at = next((i for i, c in enumerate(cells)
               if c.get("cell_type") == "raw" and _source(c).lstrip().startswith("# ASSIGNMENT CONFIG")), None)
    if at is not None:
        try:
            loaded = yaml.safe_load(_source(cells[at]).split("\n", 1)[1] if "\n" in _source(cells[at]) else "")
        except yaml.YAMLError as exc:
            raise BuildError(f"the ASSIGNMENT CONFIG cell is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise BuildError("the ASSIGNMENT CONFIG cell must hold YAML settings (key: value)")
        config.update(loaded or {})
        if (config.get("tests") or {}).get("ok_format"):
            raise BuildError("tests in OK (doctest) format are not supported; write test cells as functions")
        del cells[at]
    config.update(FORCED_CONFIG)
    text = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=True)
    cells.insert(0, {"cell_type": "raw", "id": "shopsim-config", "metadata": {}, "source": text})
    return nb


@contextlib.contextmanager
def _quiet_scratch(scratch: Path) -> Iterator[None]:
    """Keep otter's log lines and its stray temporary folders inside ``scratch``."""
    old_tmp = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    otter_log = logging.getLogger("otter")
    old_level = otter_log.level
    otter_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        tempfile.tempdir = old_tmp
        otter_log.setLevel(old_level)


def _cell_ids(cells: list[dict[str, Any]]) -> None:
    """Give every cell an id derived from its type and source (stable when cells move)."""
    seen: dict[str, int] = {}
    for cell in cells:
        digest = hashlib.sha1(f"{cell['cell_type']}\n{_source(cell)}".encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def _normalise(nb: dict[str, Any]) -> dict[str, Any]:
    """The student copy without anything run-dependent, with the progress cell appended."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        cell["source"] = _source(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
    nb["cells"] += [
        {"cell_type": "markdown", "metadata": {}, "source": "## Your progress\n\nRun the next cell at any time to "
         "see which exercises pass their checks (the final grade also runs hidden checks)."},
        {"cell_type": "code", "execution_count": None, "outputs": [], "source": PROGRESS_SOURCE,
         "metadata": {"deletable": False, "editable": False, "tags": [PROGRESS_TAG]}},
    ]
    _cell_ids(nb["cells"])
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    return nb


def dumps(nb: dict[str, Any]) -> str:
    """A notebook as file content: sorted keys, one-space indent, a final newline."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build_lesson(master: Path) -> Lesson:
    """Run ``otter assign`` on ``master`` and return the normalised student copy and its tests."""
    with warnings.catch_warnings():  # otter's dependencies (ipylab) warn about their own deprecations
        warnings.simplefilter("ignore", DeprecationWarning)
        from otter.assign import main as otter_assign  # slow import (about 3 s): only when building

    nb = _read(master)
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != KERNEL:
        raise BuildError(f"{master}: uses the kernel {kernel!r}; every notebook must use {KERNEL!r}")
    with tempfile.TemporaryDirectory(prefix="shopsim-build-") as tmp:
        scratch = Path(tmp)
        staged = scratch / "master" / master.name
        staged.parent.mkdir()
        staged.write_text(dumps(_with_forced_config(nb, master.stem)), encoding="utf-8")
        with _quiet_scratch(scratch), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                otter_assign(str(staged), str(scratch / "out"), no_pdfs=True, no_run_tests=True)
            except Exception as exc:  # otter reports authoring mistakes with assorted exceptions
                raise BuildError(f"{master}: otter assign failed: {type(exc).__name__}: {exc}") from None
        student = json.loads((scratch / "out" / "student" / master.name).read_text(encoding="utf-8"))
        graded = json.loads((scratch / "out" / "autograder" / master.name).read_text(encoding="utf-8"))
    student = _normalise(student)
    tests = dict(graded.get("metadata", {}).get("otter", {}).get("tests", {}))
    if not tests:
        raise BuildError(f"{master}: has no graded questions (no BEGIN QUESTION ... BEGIN TESTS blocks)")
    for name, source in tests.items():
        try:
            questions.parse(source, f"{master.name}: question {name}")
        except questions.TestFormatError as exc:
            raise BuildError(str(exc)) from None
    protected = {c["id"]: c["source"] for c in student["cells"]
                 if c["cell_type"] == "code" and c.get("metadata", {}).get("editable") is False}
    return Lesson(master.stem, master.name, student, dumps(student), tests, protected)


def build_course(root: Path, *, check: bool = False) -> BuildReport:
    """Regenerate every student copy of the course at ``root`` (with ``check``: only compare).

    Returns what was written, which copies differ from their master (missing ones included),
    and student copies that have no master (orphans).
    """
    course = Course(root)
    if not course.source.is_dir():
        raise BuildError(f"{root} is not a course folder: it has no source/ folder of lesson masters")
    report = BuildReport()
    masters = course.masters()
    for master in masters:
        lesson = build_lesson(master)
        target = course.lessons / lesson.filename
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == lesson.text:
            continue
        report.differing.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(lesson.text, encoding="utf-8")
            report.written.append(target)
    names = {m.name for m in masters}
    if course.lessons.is_dir():
        report.orphans = sorted(p for p in course.lessons.glob("*.ipynb") if p.name not in names)
    return report
