"""Batch grading: every submission run in its own sandbox, every answer checked outside it.

``grade_batch`` builds the lesson from its master (so the hidden tests come from the
instructor's copy, never from a submission), then for each submission:

1. reads it: a file that is not a notebook, is larger than :data:`MAX_NOTEBOOK_BYTES`, has
   more than :data:`MAX_CELLS` cells or is nested deeper than :data:`MAX_DEPTH` gets the
   status ``invalid``;
2. compares its protected cells and test metadata with the student copy: edits or
   deletions give the status ``tampered`` (it is still graded with the trusted checks);
3. runs :mod:`shopsim.grading.runner` in a :class:`~shopsim.grading.sandbox.Sandbox` (no
   network, no view of the gradebook, the masters or other submissions; resource limits),
   killed after ``timeout`` seconds. The runner writes the answer variables out as data
   after every cell; it never sees a test;
4. loads those answers in this (trusted) process and runs every question's checks on them,
   points capped at the question's maximum, so a notebook that hangs (``timeout``), ends
   itself (``exited``) or is killed by a signal (``crashed``) keeps the credit of the
   answers it gave before;
5. records one row per question in the gradebook, in one transaction. Only this process
   opens the gradebook.

Statuses: ``graded``, ``cell_errors`` (some cells raised), ``tampered``, ``timeout``,
``exited``, ``crashed`` (all graded on the answers recorded) and ``invalid`` (scored 0).
``reason`` says what happened and where (named by the exercise). ``flags`` name what an
instructor should look at: metadata naming another trainee, byte-identical or
near-identical submissions.

Identity: the trainee comes from the roster (``roster``: file name -> trainee) or else from
the file name: ``zhang_wei.ipynb`` -> ``zhang_wei``; the lesson's name around it is dropped
(``01-daily-report_zhang_wei.ipynb`` -> ``zhang_wei``); a file named exactly after the
lesson takes its folder's name (``cohort/zhang_wei/01-daily-report.ipynb`` -> ``zhang_wei``).
A notebook's ``metadata.shopsim.trainee`` is never obeyed; when it names someone else the
submission is flagged.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopsim.grading import answers, capstone, feedback, questions, sandbox
from shopsim.grading.build import Lesson
from shopsim.grading.gradebook import CapstoneResult, Grade, Gradebook

if TYPE_CHECKING:
    from distributed import Client

#: Statuses of a submission that did not run to its end.
FAILED = ("invalid", "timeout", "exited", "crashed")
#: Largest notebook file graded, bytes.
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
#: Most cells and deepest JSON nesting of a notebook graded.
MAX_CELLS, MAX_DEPTH = 5_000, 64
#: Two submissions whose own code is at least this similar (0-1) are flagged near-identical.
NEAR_IDENTICAL = 0.92
#: Code shorter than this (characters, runs of spaces counted as one) is never compared.
MIN_COMPARED = 120
#: Files the runner writes that the grader reads back, and their size cap (bytes).
SMALL_FILE_BYTES = 64 * 1024


class BatchError(ValueError):
    """The batch cannot start (bad submission paths, two files for one trainee ...)."""


@dataclass(frozen=True)
class Submission:
    """A submitted notebook: its path, the trainee, the sha256 of its bytes."""

    path: Path
    trainee: str
    digest: str
    notebook: dict[str, Any] | None
    problem: str = ""
    data: bytes = field(default=b"", repr=False)


@dataclass
class Outcome:
    """The grading of one submission: its status, the reason, flags, and one row per question."""

    submission: Submission
    status: str
    reason: str
    grades: list[Grade] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    output: str = ""
    capstone: list[CapstoneResult] = field(default_factory=list)

    @property
    def points(self) -> float:
        """Points earned over the lesson."""
        return float(sum(g.points for g in self.grades))

    @property
    def max_points(self) -> float:
        """Points available in the lesson."""
        return float(sum(g.max_points for g in self.grades))


def trainee_of(path: Path, lesson: str, roster: Mapping[str, str] | None = None) -> str:
    """The trainee a submission belongs to: the roster's entry, else the file name (see module docstring)."""
    if roster is not None:
        for key in (str(path), path.name):
            if key in roster:
                return roster[key]
        raise BatchError(f"{path} is not on the roster; add a row for {path.name!r}")
    stem = path.stem
    if stem == lesson:
        return path.resolve().parent.name
    for sep in ("_", "-", " ", "."):
        if stem.startswith(lesson + sep):
            return stem[len(lesson) + 1:].strip() or stem
        if stem.endswith(sep + lesson):
            return stem[: -len(lesson) - 1].strip() or stem
    return stem


def read_roster(path: Path) -> dict[str, str]:
    """A roster CSV with the columns ``file`` (a submission's file name or path) and ``trainee``."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BatchError(f"cannot read the roster {path}: {exc}") from None
    if not rows or not {"file", "trainee"} <= set(rows[0]):
        raise BatchError(f"the roster {path} must be a CSV with the columns file,trainee (one row per submission)")
    roster: dict[str, str] = {}
    for i, row in enumerate(rows, start=2):
        file, trainee = (row.get("file") or "").strip(), (row.get("trainee") or "").strip()
        if not file or not trainee:
            raise BatchError(f"the roster {path}, line {i}: both file and trainee are needed")
        if file in roster and roster[file] != trainee:
            raise BatchError(f"the roster {path}, line {i}: {file!r} is given to two trainees")
        roster[file] = trainee
    return roster


def _depth(node: Any) -> int:
    """Deepest nesting of lists and dicts in parsed JSON (without recursion)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _problem(data: bytes) -> tuple[dict[str, Any] | None, str]:
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None, f"too large to grade ({len(data) / 1e6:.1f} MB; at most {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB)"
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not a notebook (invalid JSON: {exc})"
    except RecursionError:
        return None, f"not a notebook Jupyter writes (nested deeper than {MAX_DEPTH} levels)"
    if _depth(nb) > MAX_DEPTH:
        return None, f"not a notebook Jupyter writes (nested deeper than {MAX_DEPTH} levels)"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        return None, "not a Jupyter notebook (format 4)"
    if len(nb["cells"]) > MAX_CELLS:
        return None, f"too many cells to grade ({len(nb['cells'])}; at most {MAX_CELLS})"
    if not isinstance(nb.get("metadata", {}), dict) or not all(_well_formed(c) for c in nb["cells"]):
        return None, "a damaged notebook (its cells or metadata are not what Jupyter writes)"
    return nb, ""


def read_submission(path: Path, lesson: str, roster: Mapping[str, str] | None = None) -> Submission:
    """Read a submission file; a file that is not a gradable notebook gets a ``problem`` (never an error)."""
    trainee = trainee_of(path, lesson, roster)
    size = path.stat().st_size
    data = path.read_bytes() if size <= MAX_NOTEBOOK_BYTES else b""
    digest = hashlib.sha256(data).hexdigest() if data else f"size:{size}"
    if size > MAX_NOTEBOOK_BYTES:
        return Submission(path, trainee, digest, None, f"too large to grade ({size / 1e6:.1f} MB; "
                          f"at most {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB)")
    nb, problem = _problem(data)
    return Submission(path, trainee, digest, nb, problem, data if nb is not None else b"")


def _well_formed(cell: Any) -> bool:
    source = cell.get("source", "") if isinstance(cell, dict) else None
    return (isinstance(cell, dict) and isinstance(cell.get("cell_type"), str)
            and (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source)))
            and isinstance(cell.get("metadata", {}), dict))


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def tampering(nb: dict[str, Any], lesson: Lesson) -> list[str]:
    """What a submission changed among the cells and metadata a trainee must leave alone."""
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    by_id = {c.get("id"): _source(c) for c in cells}
    sources = {_source(c) for c in cells}
    found = []
    for cell_id, source in lesson.protected.items():
        if source in sources:
            continue
        what = "edited" if cell_id in by_id else "deleted"
        found.append(f"{what} the protected cell `{source.splitlines()[-1]}`")
    public = lesson.student["metadata"]["otter"]["tests"]
    otter = nb.get("metadata", {}).get("otter")
    if not isinstance(otter, dict) or otter.get("tests") != public:
        found.append("changed the notebook's stored checks (metadata)")
    return found


def metadata_flags(sub: Submission) -> list[str]:
    """A flag when the notebook's metadata names a trainee other than the one it is graded for."""
    meta = (sub.notebook or {}).get("metadata", {})
    named = meta.get("shopsim", {}).get("trainee") if isinstance(meta.get("shopsim"), dict) else None
    if isinstance(named, str) and named.strip() and named.strip() != sub.trainee:
        return [f"metadata names another trainee ({named.strip()[:60]!r}; graded as {sub.trainee!r})"]
    return []


def _own_code(sub: Submission, lesson: Lesson) -> str:
    """The code a trainee wrote: code cells not in the student copy, runs of spaces made one.

    Comments stay: two trainees rarely write the same comments, copies keep them.
    """
    given = {_source(c) for c in lesson.student["cells"] if c.get("cell_type") == "code"}
    cells = [_source(c) for c in (sub.notebook or {}).get("cells", []) if c.get("cell_type") == "code"]
    text = "\n".join(s for s in cells if s not in given)
    return re.sub(r"\s+", " ", text).strip()


def similarity_flags(subs: Sequence[Submission], lesson: Lesson) -> dict[int, list[str]]:
    """Flags for byte-identical submissions and near-identical ones (the trainees' own code compared)."""
    flags: dict[int, list[str]] = {i: [] for i in range(len(subs))}
    codes = [_own_code(s, lesson) if s.notebook is not None else "" for s in subs]
    for i in range(len(subs)):
        for j in range(i + 1, len(subs)):
            a, b = subs[i], subs[j]
            if a.notebook is None or b.notebook is None:
                continue
            if a.digest == b.digest:
                flags[i].append(f"byte-identical to {b.trainee}'s submission")
                flags[j].append(f"byte-identical to {a.trainee}'s submission")
                continue
            if min(len(codes[i]), len(codes[j])) < MIN_COMPARED:
                continue
            match = difflib.SequenceMatcher(None, codes[i], codes[j], autojunk=False)
            if match.real_quick_ratio() >= NEAR_IDENTICAL and match.quick_ratio() >= NEAR_IDENTICAL \
                    and (ratio := match.ratio()) >= NEAR_IDENTICAL:
                flags[i].append(f"near-identical to {b.trainee}'s submission ({ratio:.0%} of the code)")
                flags[j].append(f"near-identical to {a.trainee}'s submission ({ratio:.0%} of the code)")
    return flags


def answer_names(lesson_questions: Sequence[questions.Question]) -> tuple[list[str], bool]:
    """The notebook variables the checks read (their parameters), and whether a check wants them all (``env``)."""
    import inspect

    names: dict[str, None] = {}
    everything = False
    for q in lesson_questions:
        for case in q.cases:
            for p in inspect.signature(case.func).parameters:
                if p == "env":
                    everything = True
                else:
                    names[p] = None
    return list(names), everything


class _Processes:
    """The live sandboxes' processes, so an interrupted batch can end them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[Any] = set()

    def add(self, proc: Any) -> None:
        with self._lock:
            self._live.add(proc)

    def discard(self, proc: Any) -> None:
        with self._lock:
            self._live.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            live = list(self._live)
        for proc in live:
            sandbox.kill_tree(proc)


@dataclass(frozen=True)
class Settings:
    """How each submission is run: time limit, resource limits, whether running unsandboxed is accepted."""

    timeout: float = 120.0
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    unsafe: bool = False


def _small(path: Path) -> str:
    data = answers._read_regular(path)  # written by the sandbox: no links, capped
    return data[:SMALL_FILE_BYTES].decode("utf-8", "replace").strip() if data else ""


def _run_one(sub: Submission, lesson: Lesson, names: tuple[list[str], bool], settings: Settings,
             procs: _Processes) -> tuple[sandbox.Result, dict[str, Any], str, list[dict[str, Any]]]:
    """Run a submission in a sandbox: (how it ended, its answers, where it stopped, cell errors)."""
    with sandbox.workspace("grade") as work:
        box = sandbox.Sandbox(work, limits=settings.limits, unsafe=settings.unsafe)
        inside = box.inside
        lesson.provide_files(work)  # the lesson's support files, beside the notebook (read-only)
        for name in lesson.files:
            if (work / name).is_file():
                (work / name).chmod(0o444)
        (work / "submission.ipynb").write_bytes(sub.data)
        job = {"submission": str(inside / "submission.ipynb"), "answers": str(inside / "answers"),
               "progress_file": str(inside / "at_cell"), "skip": sorted(set(lesson.protected.values())),
               "names": names[0], "everything": names[1]}
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        (work / "answers").mkdir()
        import shopsim

        env = {"PYTHONPATH": str(Path(shopsim.__file__).resolve().parents[1]), "MPLBACKEND": "Agg",
               "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": "/tmp/matplotlib"}
        result = box.run([sys.executable, "-m", "shopsim.grading.runner", str(inside / "job.json")],
                         timeout=settings.timeout, env=env, on_start=procs.add, on_end=procs.discard)
        found = answers.load(work / "answers", names[0] if not names[1] else _listed(work / "answers"))
        at = _small(work / "at_cell")
        try:
            errors = json.loads(_small(work / "cell_errors.json") or "[]")
            errors = [e for e in errors if isinstance(e, dict)][:1000] if isinstance(errors, list) else []
        except (ValueError, RecursionError):
            errors = []
        return result, found, at, errors


def _listed(folder: Path) -> list[str]:
    return sorted({p.name.split(".", 1)[0] for p in folder.glob("*.json") if p.name.count(".") == 1})[:10_000]


def _ending(result: sandbox.Result, at: str, timeout: float, nb: Mapping[str, Any]) -> tuple[str, str]:
    """(status, reason) of how the sandboxed run ended; ``graded`` when it ran to the end.

    The place is named by the exercise (:func:`feedback.place`), not by a cell number.
    """
    where = "" if not at.isdigit() else f" {feedback.place(nb, int(at))}"
    kept = " (graded on the answers given before)" if where else ""
    if result.timed_out:
        return "timeout", f"still running after {timeout:g} s{where} (an endless loop?){kept}"
    code = result.returncode
    signalled = code < 0 or (result.sandboxed and code > 128 and at != "done")
    if signalled:
        number = -code if code < 0 else code - 128
        name = sandbox.Result(-number, False, "", "", False, 0, True).signal_name
        why = " (the CPU time limit)" if name == "SIGXCPU" else ""
        return "crashed", f"the notebook crashed the grading process ({name}{why}){where}{kept}"
    if code != 0 or at != "done":
        tail = result.stderr.strip().splitlines()[-1:]
        detail = f": {tail[0][:200]}" if tail and not where else ""
        return "exited", f"the notebook ended the grading process (exit code {code}){where}{kept}{detail}"
    return "graded", ""


def _place(nb: Mapping[str, Any], cell: object) -> str:
    """Where cell ``cell`` (a number the sandbox wrote, untrusted) is, in words a trainee can find."""
    return feedback.place(nb, cell) if isinstance(cell, int) and not isinstance(cell, bool) else "in a cell"


#: Checks run one submission at a time: they run in a folder of their own (the working directory
#: is the process's) and their output is silenced (so is sys.stdout).
_CHECKING = threading.Lock()


def _check(lesson: Lesson, lesson_questions: Sequence[questions.Question],
           found: Mapping[str, Any]) -> dict[str, Any]:
    """Run every question's checks (in this trusted process) on the answers; points capped per question.

    Points follow :mod:`questions` (form cases worth 0 and gating the value cases), capped at
    the question's maximum. The checks run in a fresh folder holding the lesson's support files
    (a trusted copy, not the sandbox's), so a check may read them as the notebook does.
    """
    results: dict[str, Any] = {}
    with _CHECKING, tempfile.TemporaryDirectory(prefix="shopsim-check-") as folder, \
            capstone.collecting() as graded:
        lesson.provide_files(Path(folder))
        with contextlib.chdir(folder):
            for q in lesson_questions:
                with _quiet():
                    outcome = questions.run(q, found)
                points = min(max(float(outcome.points), 0.0), q.possible)
                results[q.name] = (points, outcome.feedback)
    results[_CAPSTONE] = graded[-1] if graded else None
    return results


#: Where :func:`_check` puts the capstone evaluation its checks made (not a question name: it has a space).
_CAPSTONE = "capstone evaluation"


def _capstone_result(sub: Submission, lesson: Lesson, graded_at: str,
                     checked: dict[str, Any] | None) -> list[CapstoneResult]:
    """The submission's capstone result for the gradebook, when its checks graded a capstone policy."""
    found = (checked or {}).get(_CAPSTONE)
    if found is None:
        return []
    scenario, seeds, ev = found
    profit = ev.table["profit"]
    mean = float(profit.mean()) if ev.status == "ok" and profit.notna().all() else None
    return [CapstoneResult(sub.trainee, lesson.name, scenario, ",".join(map(str, seeds)), float(ev.score), mean,
                           ev.status, ev.reason, graded_at)]


class _quiet:
    """Silence anything a check prints (stdout and stderr)."""

    def __enter__(self) -> None:
        import contextlib

        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        self._stack.enter_context(contextlib.redirect_stderr(io.StringIO()))

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def _outcome(sub: Submission, lesson: Lesson, lesson_questions: Sequence[questions.Question], graded_at: str,
             status: str, reason: str, checked: dict[str, Any] | None, flags: list[str],
             where: str) -> Outcome:
    book_flags = "; ".join(flags)
    rows = [Grade(sub.trainee, lesson.name, q.name, checked[q.name][0] if checked else 0.0, q.possible, graded_at,
                  sub.digest, status, reason, checked[q.name][1] if checked else "", book_flags, where)
            for q in lesson_questions]
    return Outcome(sub, status, reason, rows, flags, capstone=_capstone_result(sub, lesson, graded_at, checked))


def _grade_one(sub: Submission, lesson: Lesson, lesson_questions: Sequence[questions.Question],
               names: tuple[list[str], bool], settings: Settings, procs: _Processes,
               flags: list[str]) -> Outcome:
    graded_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if sub.notebook is None:
        return _outcome(sub, lesson, lesson_questions, graded_at, "invalid", sub.problem, None, flags, "")
    result, found, at, errors = _run_one(sub, lesson, names, settings, procs)
    where = "bwrap" if result.sandboxed else "none (--unsafe-no-sandbox)"
    status, reason = _ending(result, at, settings.timeout, sub.notebook)
    notes = [reason] if reason else []
    tampered = tampering(sub.notebook, lesson)
    if tampered:
        status = "tampered" if status == "graded" else status
        notes.append("; ".join(tampered) + " (graded with the trusted checks)")
    if errors:
        status = "cell_errors" if status == "graded" else status
        first = errors[0]
        notes.append(f"{len(errors)} cell{'s' if len(errors) > 1 else ''} raised an error "
                     f"(first {_place(sub.notebook, first.get('cell'))}: {str(first.get('error'))[:300]})")
    outcome = _outcome(sub, lesson, lesson_questions, graded_at, status, "; ".join(notes),
                       _check(lesson, lesson_questions, found), flags, where)
    outcome.output = (result.stdout + result.stderr)[-4000:]
    return outcome


def _failed_outcome(sub: Submission, lesson: Lesson, lesson_questions: Sequence[questions.Question],
                    exc: BaseException, flags: list[str]) -> Outcome:
    graded_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    reason = f"could not be graded ({type(exc).__name__}: {str(exc)[:200]})"
    return _outcome(sub, lesson, lesson_questions, graded_at, "invalid", reason, None, flags, "")


def grade_batch(lesson: Lesson, paths: Sequence[Path], gradebook: Gradebook, *, jobs: int = 2,
                timeout: float = 120.0, on_done: Callable[[Outcome], None] | None = None,
                roster: Mapping[str, str] | None = None, limits: sandbox.Limits | None = None,
                unsafe: bool = False, client: Client | None = None) -> list[Outcome]:
    """Grade ``paths`` against ``lesson``; record each in ``gradebook`` as soon as it is done.

    ``jobs`` submissions run at a time, each in its own sandbox limited to ``timeout`` seconds
    and ``limits``. ``roster`` maps file names (or paths) to trainees. Without ``bwrap`` the
    batch is refused unless ``unsafe`` (``--unsafe-no-sandbox``). ``on_done`` is called after
    each submission is recorded. With a ``dask.distributed`` ``client`` each submission is one
    task on its workers (``jobs`` is then ignored: the cluster has its own size): the task runs
    the notebook in a sandbox on its worker (which needs ``bwrap`` too) and the checks in the
    worker's process, and the gradebook is written here as results come back. Returns the
    outcomes in the order of ``paths``.
    """
    if jobs < 1:
        raise BatchError(f"--jobs must be 1 or more, not {jobs}")
    if not timeout > 0:
        raise BatchError(f"--timeout must be a positive number of seconds, not {timeout:g}")
    ok, why = sandbox.available()
    if not ok and not unsafe:
        raise BatchError(f"refusing to run trainees' notebooks without a sandbox: {why}; "
                         "install bubblewrap, or accept the risk with --unsafe-no-sandbox")
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise BatchError(f"no such submission file{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    not_nb = [str(p) for p in paths if Path(p).suffix != ".ipynb"]
    if not_nb:
        raise BatchError(f"submissions must be .ipynb notebooks; not one: {', '.join(not_nb)}")
    subs = [read_submission(Path(p), lesson.name, roster) for p in paths]
    owners: dict[str, list[str]] = {}
    for s in subs:
        owners.setdefault(s.trainee, []).append(str(s.path))
    twice = {t: ps for t, ps in owners.items() if len(ps) > 1}
    if twice:
        t, ps = next(iter(twice.items()))
        raise BatchError(f"{len(ps)} submissions belong to trainee {t!r} ({', '.join(ps)}); grade one per trainee")
    sandbox.sweep_stale()  # work folders left by a killed batch
    lesson_questions = lesson.questions()
    names = answer_names(lesson_questions)
    settings = Settings(timeout, limits or sandbox.Limits(), unsafe)
    similar = similarity_flags(subs, lesson)
    flags = [metadata_flags(s) + similar[i] for i, s in enumerate(subs)]
    if client is not None:
        calls = [(s, lesson, lesson_questions, names, settings, flags[i]) for i, s in enumerate(subs)]
        return _grade_on_cluster(client, calls, gradebook, on_done)
    procs = _Processes()
    outcomes: dict[int, Outcome] = {}

    def work(i: int) -> Outcome:
        return grade_task(subs[i], lesson, lesson_questions, names, settings, flags[i], procs)

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(work, i): i for i in range(len(subs))}
        for future in as_completed(futures):
            outcome = future.result()
            gradebook.record(outcome.grades, outcome.capstone)
            outcomes[futures[future]] = outcome
            if on_done is not None:
                on_done(outcome)
    except BaseException:
        procs.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [outcomes[i] for i in range(len(subs))]


def grade_task(sub: Submission, lesson: Lesson, lesson_questions: Sequence[questions.Question],
               names: tuple[list[str], bool], settings: Settings, flags: list[str],
               procs: _Processes | None = None) -> Outcome:
    """Grade one submission (sandboxed run, then the checks); the same here and on a Dask worker.

    Whatever the submission does, this returns an outcome (``invalid`` when grading failed).
    The notebook travels as its bytes (``sub.data``), so the worker needs no access to the file.
    """
    try:
        return _grade_one(sub, lesson, lesson_questions, names, settings, procs or _Processes(), flags)
    except Exception as exc:  # whatever a submission does, the batch goes on
        return _failed_outcome(sub, lesson, lesson_questions, exc, flags)


def _grade_on_cluster(client: Client, calls: list[tuple[Any, ...]], gradebook: Gradebook,
                      on_done: Callable[[Outcome], None] | None) -> list[Outcome]:
    """Each submission a Dask task; outcomes recorded here as they arrive, in ``calls`` order at the end."""
    from distributed import as_completed

    shared = client.scatter(calls[0][1:4], broadcast=True, hash=False) if calls else None
    futures = [client.submit(_cluster_task, call[0], shared, call[4], call[5], pure=False) for call in calls]
    index = {f.key: i for i, f in enumerate(futures)}
    outcomes: dict[int, Outcome] = {}
    try:
        for future in as_completed(futures):
            outcome = future.result()
            gradebook.record(outcome.grades, outcome.capstone)
            outcomes[index[future.key]] = outcome
            if on_done is not None:
                on_done(outcome)
    finally:
        client.cancel(futures)
    return [outcomes[i] for i in range(len(calls))]


def _cluster_task(sub: Submission, shared: tuple[Lesson, Sequence[questions.Question], tuple[list[str], bool]],
                  settings: Settings, flags: list[str]) -> Outcome:
    lesson, lesson_questions, names = shared
    return grade_task(sub, lesson, lesson_questions, names, settings, flags)
