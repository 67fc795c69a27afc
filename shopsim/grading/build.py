"""Build student notebooks from lesson masters with ``otter assign``, deterministically.

A course folder holds ``source/`` (one master per lesson: teaching text, solutions, public
and hidden tests) and ``lessons/`` (the generated student copies, committed). Building a
master runs ``otter assign`` in a scratch folder and then normalises the student copy so the
same master always gives the same bytes: outputs and execution counts removed, cell ids
derived from the cells' content, a progress cell appended, JSON written with sorted keys.
``build_course(..., check=True)`` writes nothing and reports every copy that differs.

Authors only need ``name:`` in the master's ``# ASSIGNMENT CONFIG`` cell (or no config cell
at all); the settings shopsim relies on are filled in here (:data:`FORCED_CONFIG`). Two keys
are shopsim's own:

- ``mode: practice`` (the default) or ``mode: exam``. A practice copy checks values at once
  against a sealed answer key (:mod:`shopsim.grading.answer_key`); an exam copy checks the
  form only, and values are known when the instructor grades.
- ``files: [serum.yaml, prices.csv]``: support files next to the master that the lesson
  reads. They are copied next to the student copy, given to every graded submission, and
  present when the master runs to make its answer key.

Building also runs the master's own solution against its hidden checks, in a process of
its own: a check that fails there is the instructor's problem and stops the build.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shopsim.grading import answer_key, questions

#: Assignment settings shopsim needs, whatever the master says: tests stored in notebook
#: metadata in otter's exception-based format, no autograder zip, no export cell.
FORCED_CONFIG: dict[str, Any] = {
    "init_cell": True, "check_all_cell": False, "export_cell": False, "run_tests": False, "generate": False,
    "tests": {"files": False, "ok_format": False},
}
PROGRESS_TAG = "shopsim-progress"
PROGRESS_SOURCE = "import shopsim.grading\n\nshopsim.grading.progress(grader)"
INIT_SOURCE = 'import shopsim.grading\n\ngrader = shopsim.grading.Grader("{filename}")'
KERNEL = "python3"
MODES = ("practice", "exam")
PROGRESS_TEXT = {
    "practice": "Run the next cell at any time to see which exercises are right so far, with your points.",
    "exam": "Run the next cell at any time to see which exercises have an answer of the right form; the values "
            "are checked when your instructor grades.",
}
#: Seconds the master may take to run when its answer key is made.
RECORD_TIMEOUT = 600


class BuildError(ValueError):
    """A master notebook cannot be built (bad config, bad tests, wrong kernel ...)."""


@dataclass(frozen=True)
class Lesson:
    """A built lesson: the student copy and the trusted material to grade it with.

    ``student`` is the normalised student notebook (as JSON data), ``text`` its file content,
    ``tests`` every question's test file source including hidden tests (question -> source),
    ``protected`` the student copy's cells a trainee must not change (cell id -> source),
    ``files`` the support files (name -> bytes), ``mode`` ``practice`` or ``exam``.
    """

    name: str
    filename: str
    student: dict[str, Any]
    text: str
    tests: dict[str, str]
    protected: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    mode: str = "practice"

    def provide_files(self, folder: Path) -> None:
        """Write the lesson's support files into ``folder`` (where a notebook of it runs)."""
        for name, data in self.files.items():
            (folder / name).write_bytes(data)

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


def _with_forced_config(nb: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The master with its ``# ASSIGNMENT CONFIG`` cell set to :data:`FORCED_CONFIG`, and shopsim's own keys."""
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
    own = {"mode": config.pop("mode", "practice"), "files": config.pop("files", None) or []}
    if own["mode"] not in MODES:
        raise BuildError(f"mode: {own['mode']!r} is not a lesson mode; use one of {', '.join(MODES)}")
    if not isinstance(own["files"], list) or not all(isinstance(f, str) for f in own["files"]):
        raise BuildError("files: must be a list of file names next to the master, e.g. [serum.yaml]")
    config.update(FORCED_CONFIG)
    text = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=True)
    cells.insert(0, {"cell_type": "raw", "id": "shopsim-config", "metadata": {}, "source": text})
    return nb, own


#: Names the grader writes in a submission's work folder (:mod:`shopsim.grading.batch`): no support file may take them.
RESERVED_NAMES = frozenset({"submission.ipynb", "job.json", "answers", "at_cell", "cell_errors.json"})


def _support_files(master: Path, names: list[str]) -> dict[str, bytes]:
    """The support files a master lists, read from its folder (plain names only)."""
    out = {}
    for name in names:
        if Path(name).name != name or name.startswith("."):
            raise BuildError(f"{master.name}: files: {name!r} must be a plain file name in {master.parent}")
        if name in RESERVED_NAMES:
            raise BuildError(f"{master.name}: files: {name!r} is a name the grader uses in the work folder; "
                             f"rename it (not one of {', '.join(sorted(RESERVED_NAMES))})")
        try:
            out[name] = (master.parent / name).read_bytes()
        except OSError as exc:
            raise BuildError(f"{master.name}: files: cannot read {name} next to the master "
                             f"({exc.strerror or exc})") from None
    return out


def run_master(master: Path, nb: dict[str, Any], tests: dict[str, str], files: dict[str, bytes], *,
               reveal: bool = False) -> dict[str, Any]:
    """Run the master in a process of its own; return ``{"key": sealed answer key}`` (question -> specs).

    With ``reveal`` the result also holds ``"expected"``: the plain expected values per
    question (for tests; never written into a student copy). With ``$SHOPSIM_KEY_CACHE`` set
    (:data:`KEY_CACHE_ENV`) runs are reused from that folder (:func:`_reused`).
    """
    result = _reused(master, nb, tests, files, lambda: _run_master(master, nb, tests, files))
    return result if reveal else {k: v for k, v in result.items() if k != "expected"}


#: A folder of master runs to reuse: a test session sets it, so that the several checks that
#: build one lesson run its master once. Unset (the default), every build runs the master.
KEY_CACHE_ENV = "SHOPSIM_KEY_CACHE"


@functools.cache
def _source_digest() -> str:
    """A digest of shopsim's own code and bundled data (a run depends on them), read once per process."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _reused(master: Path, nb: dict[str, Any], tests: dict[str, str], files: dict[str, bytes],
            run: Any) -> dict[str, Any]:
    """``run()``'s result, or the one saved in ``$SHOPSIM_KEY_CACHE`` for the same master, tests,
    support files, shopsim code and datasets folder. Processes sharing the folder wait for one
    another's run of the same master (a lock file) rather than run it twice."""
    folder = os.environ.get(KEY_CACHE_ENV)
    if not folder:
        return run()
    from shopsim import datasets

    h = hashlib.sha256(json.dumps([master.stem, nb, tests, sorted((k, hashlib.sha256(v).hexdigest())
                                                                for k, v in files.items()),
                                   _source_digest(), str(datasets.folder())], sort_keys=True).encode())
    saved = Path(folder) / f"{h.hexdigest()}.json"
    lock = saved.with_suffix(".lock")
    Path(folder).mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + RECORD_TIMEOUT
    while not saved.is_file():
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL))
        except FileExistsError:  # another process runs this master: wait for its result
            if time.monotonic() < deadline:
                time.sleep(0.5)
                continue
        try:
            result = run()
            partial = saved.with_suffix(f".{os.getpid()}.part")
            partial.write_text(json.dumps(result), encoding="utf-8")
            partial.replace(saved)
            return result
        finally:
            lock.unlink(missing_ok=True)
    return json.loads(saved.read_text(encoding="utf-8"))


def _run_master(master: Path, nb: dict[str, Any], tests: dict[str, str], files: dict[str, bytes]) -> dict[str, Any]:
    """One run of the master, revealing its expected values (see :func:`run_master`)."""
    with tempfile.TemporaryDirectory(prefix="shopsim-key-") as tmp:
        work = Path(tmp)
        for name, data in files.items():
            (work / name).write_bytes(data)
        (work / "master.json").write_text(json.dumps(nb), encoding="utf-8")
        job = {"master": str(work / "master.json"), "workdir": str(work), "lesson": master.stem, "tests": tests,
               "result": str(work / "key.json"), "reveal": True}
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", IPYTHONDIR=str(work / ".ipython"))
        try:
            run = subprocess.run([sys.executable, "-m", "shopsim.grading.answer_key", str(work / "job.json")],
                                 cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                 timeout=RECORD_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise BuildError(f"{master}: the master did not finish within {RECORD_TIMEOUT} s") from None
        if run.returncode != 0 or not (work / "key.json").is_file():
            tail = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise BuildError(f"{master}: running the master to check its solution failed: {tail[0]}")
        result = json.loads((work / "key.json").read_text(encoding="utf-8"))
    if "error" in result:
        raise BuildError(f"{master}: {result['error']} (the instructor's problem, not a trainee's)")
    return dict(result)


def _for_trainees(nb: dict[str, Any], filename: str, mode: str, key: dict[str, Any]) -> dict[str, Any]:
    """The student copy with shopsim's check call, the sealed value cases (practice) and the mode."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and _source(cell).lstrip().startswith("# Initialize Otter"):
            cell["source"] = INIT_SOURCE.format(filename=filename)
    tests = nb["metadata"]["otter"]["tests"]
    if mode == "practice":
        for q in tests:
            tests[q] = tests[q].rstrip("\n") + "\n\n" + answer_key.value_case(key[q])
    nb["metadata"]["shopsim"] = {"mode": mode}
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


def _normalise(nb: dict[str, Any], mode: str) -> dict[str, Any]:
    """The student copy without anything run-dependent, with the progress cell appended."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        cell["source"] = _source(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
    nb["cells"] += [
        {"cell_type": "markdown", "metadata": {}, "source": "## Your progress\n\n" + PROGRESS_TEXT[mode]},
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
    configured, own = _with_forced_config(nb, master.stem)
    files = _support_files(master, own["files"])
    with tempfile.TemporaryDirectory(prefix="shopsim-build-") as tmp:
        scratch = Path(tmp)
        staged = scratch / "master" / master.name
        staged.parent.mkdir()
        staged.write_text(dumps(configured), encoding="utf-8")
        with _quiet_scratch(scratch), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                otter_assign(str(staged), str(scratch / "out"), no_pdfs=True, no_run_tests=True)
            except Exception as exc:  # otter reports authoring mistakes with assorted exceptions
                raise BuildError(f"{master}: otter assign failed: {type(exc).__name__}: {exc}") from None
        student = json.loads((scratch / "out" / "student" / master.name).read_text(encoding="utf-8"))
        graded = json.loads((scratch / "out" / "autograder" / master.name).read_text(encoding="utf-8"))
    tests = dict(graded.get("metadata", {}).get("otter", {}).get("tests", {}))
    if not tests:
        raise BuildError(f"{master}: has no graded questions (no BEGIN QUESTION ... BEGIN TESTS blocks)")
    for name, source in tests.items():
        try:
            questions.parse(source, f"{master.name}: question {name}")
        except questions.TestFormatError as exc:
            raise BuildError(str(exc)) from None
    key = run_master(master, nb, tests, files)["key"]
    student = _normalise(_for_trainees(student, master.name, own["mode"], key), own["mode"])
    protected = {c["id"]: c["source"] for c in student["cells"]
                 if c["cell_type"] == "code" and c.get("metadata", {}).get("editable") is False}
    return Lesson(master.stem, master.name, student, dumps(student), tests, protected, files, own["mode"])


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
    claimed: dict[str, tuple[str, bytes]] = {}
    for master in masters:
        lesson = build_lesson(master)
        wanted = {lesson.filename: lesson.text.encode("utf-8"), **lesson.files}
        for name, data in lesson.files.items():
            owner, held = claimed.setdefault(name, (lesson.name, data))
            if held != data:
                raise BuildError(f"support file {name} differs between the lessons {owner} and {lesson.name}, "
                                 "but both copies would land in the same folder; give each its own name")
        for name, data in wanted.items():
            target = course.lessons / name
            if target.is_file() and target.read_bytes() == data:
                continue
            report.differing.append(target)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                report.written.append(target)
    names = {m.name for m in masters}
    if course.lessons.is_dir():
        report.orphans = sorted(p for p in course.lessons.glob("*.ipynb") if p.name not in names)
    return report
