"""Batch grading: every submission of a lesson in its own process, with a time limit.

``grade_batch`` builds the lesson from its master (so the hidden tests come from the
instructor's copy, never from a submission), then for each submission:

1. reads it: a file that is not a notebook gets the status ``invalid``;
2. compares its protected cells and test metadata with the student copy: edits or
   deletions give the status ``tampered`` (it is still graded with the trusted tests);
3. runs :mod:`shopsim.grading.runner` in a new process session, killed after ``timeout``
   seconds (status ``timeout``); a process that ends without a result is ``exited`` (it
   ended itself, e.g. ``os._exit``) or ``crashed`` (killed by a signal, e.g. a segfault);
4. records one row per question in the gradebook, in one transaction.

Statuses: ``graded``, ``cell_errors`` (some cells raised; graded), ``tampered`` (graded),
``invalid``, ``timeout``, ``exited``, ``crashed`` (these three score 0). ``reason`` says
what happened and where (the cell number).

Identity: the trainee is ``metadata.shopsim.trainee`` of the notebook when set, otherwise
taken from the file name: ``zhang_wei.ipynb`` -> ``zhang_wei``; the lesson's name around it
is dropped (``01-daily-report_zhang_wei.ipynb`` and ``zhang_wei-01-daily-report.ipynb`` ->
``zhang_wei``); a file named exactly after the lesson takes its folder's name
(``cohort/zhang_wei/01-daily-report.ipynb`` -> ``zhang_wei``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopsim.grading.build import Lesson
from shopsim.grading.gradebook import Grade, Gradebook

if TYPE_CHECKING:
    from distributed import Client

FAILED = ("invalid", "timeout", "exited", "crashed")


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


@dataclass
class Outcome:
    """The grading of one submission: its status, the reason, and one row per question."""

    submission: Submission
    status: str
    reason: str
    grades: list[Grade] = field(default_factory=list)

    @property
    def points(self) -> float:
        """Points earned over the lesson."""
        return float(sum(g.points for g in self.grades))

    @property
    def max_points(self) -> float:
        """Points available in the lesson."""
        return float(sum(g.max_points for g in self.grades))


def trainee_of(path: Path, notebook: dict[str, Any] | None, lesson: str) -> str:
    """The trainee a submission belongs to (see the module docstring for the rules)."""
    meta = (notebook or {}).get("metadata", {}) if isinstance(notebook, dict) else {}
    named = meta.get("shopsim", {}).get("trainee") if isinstance(meta.get("shopsim"), dict) else None
    if isinstance(named, str) and named.strip():
        return named.strip()
    stem = path.stem
    if stem == lesson:
        return path.resolve().parent.name
    for sep in ("_", "-", " ", "."):
        if stem.startswith(lesson + sep):
            return stem[len(lesson) + 1:].strip() or stem
        if stem.endswith(sep + lesson):
            return stem[: -len(lesson) - 1].strip() or stem
    return stem


def read_submission(path: Path, lesson: str) -> Submission:
    """Read a submission file; a file that is not a notebook gets a ``problem`` (never an error)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Submission(path, trainee_of(path, None, lesson), digest, None, f"not a notebook (invalid JSON: {exc})")
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        return Submission(path, trainee_of(path, None, lesson), digest, None, "not a Jupyter notebook (format 4)")
    if not isinstance(nb.get("metadata", {}), dict) or not all(_well_formed(c) for c in nb["cells"]):
        return Submission(path, trainee_of(path, None, lesson), digest, None,
                          "a damaged notebook (its cells or metadata are not what Jupyter writes)")
    return Submission(path, trainee_of(path, nb, lesson), digest, nb)


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
    if nb.get("metadata", {}).get("otter", {}).get("tests") != public:
        found.append("changed the notebook's stored checks (metadata)")
    return found


def _job_file(workdir: Path, submission: Submission, lesson: Lesson, order: list[str]) -> Path:
    job = {
        "submission": str(submission.path.resolve()), "workdir": str(workdir),
        "result": str(workdir / "result.json"), "progress_file": str(workdir / "at_cell"),
        "skip": sorted(set(lesson.protected.values())),
        "tests": {q: lesson.tests[q] for q in order},
    }
    path = workdir / "job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path


class _Processes:
    """The live worker processes, so an interrupted batch can end them all (by process group)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._live.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._live.discard(proc)

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        """End a worker and everything it started (its own process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def kill_all(self) -> None:
        with self._lock:
            live = list(self._live)
        for proc in live:
            self.kill(proc)


def _run_one(submission: Submission, lesson: Lesson, order: list[str], timeout: float,
             procs: _Processes) -> tuple[str, str, dict[str, Any] | None]:
    """(status, reason, runner result) of one submission run in its own process session."""
    with tempfile.TemporaryDirectory(prefix="shopsim-grade-") as tmp:
        workdir = Path(tmp)
        job = _job_file(workdir, submission, lesson, order)
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", IPYTHONDIR=str(workdir / ".ipython"))
        proc = subprocess.Popen([sys.executable, "-m", "shopsim.grading.runner", str(job)], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        procs.add(proc)
        try:
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                procs.kill(proc)
                proc.communicate()  # reap it and close its pipe
                where = _where(workdir)
                return "timeout", f"still running after {timeout:g} s{where} (an endless loop?)", None
        finally:
            procs.kill(proc)  # whatever the notebook started and left running goes too
            procs.discard(proc)
        result_file = workdir / "result.json"
        if proc.returncode == 0 and result_file.is_file():
            return "graded", "", json.loads(result_file.read_text(encoding="utf-8"))
        where = _where(workdir)
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            return "crashed", f"the notebook crashed the grading process ({name}){where}", None
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
        detail = f": {tail[0][:200]}" if tail and proc.returncode != 0 and not where else ""
        return "exited", f"the notebook ended the grading process (exit code {proc.returncode}){where}{detail}", None


def _where(workdir: Path) -> str:
    try:
        at = (workdir / "at_cell").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return " while running the checks" if at == "tests" else f" in cell {at}"


def _outcome(sub: Submission, lesson: Lesson, order: list[str], maxima: dict[str, float], graded_at: str,
             status: str, reason: str, result: dict[str, Any] | None, tampered: list[str]) -> Outcome:
    if result is None:
        grades = [Grade(sub.trainee, lesson.name, q, 0.0, maxima[q], graded_at, sub.digest, status, reason)
                  for q in order]
        return Outcome(sub, status, reason, grades)
    notes = []
    if tampered:
        status, notes = "tampered", ["; ".join(tampered) + " (graded with the trusted checks)"]
    errors = result.get("cell_errors", [])
    if errors:
        status = "cell_errors" if status == "graded" else status
        first = errors[0]
        notes.append(f"{len(errors)} cell{'s' if len(errors) > 1 else ''} raised an error "
                     f"(first: cell {first['cell']}, {first['error']})")
    reason = "; ".join(notes)
    by_name = {r["question"]: r for r in result["questions"]}
    grades = [Grade(sub.trainee, lesson.name, q, float(by_name[q]["points"]), maxima[q], graded_at, sub.digest,
                    status, reason, by_name[q]["feedback"]) for q in order]
    return Outcome(sub, status, reason, grades)


def grade_one(sub: Submission, lesson: Lesson, order: list[str], maxima: dict[str, float], timeout: float,
              procs: _Processes | None = None) -> Outcome:
    """Grade one submission (run in its own process session); the same here and on a Dask worker.

    On a worker of another machine the submission's file may not exist: it is then written
    from the notebook read by the client into a temporary folder first.
    """
    graded_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if sub.notebook is None:
        return _outcome(sub, lesson, order, maxima, graded_at, "invalid", sub.problem, None, [])
    tampered = tampering(sub.notebook, lesson)
    with tempfile.TemporaryDirectory(prefix="shopsim-submission-") as tmp:
        run_sub = sub
        if not sub.path.is_file():
            local = Path(tmp) / sub.path.name
            local.write_text(json.dumps(sub.notebook), encoding="utf-8")
            run_sub = Submission(local, sub.trainee, sub.digest, sub.notebook, sub.problem)
        status, reason, result = _run_one(run_sub, lesson, order, timeout, procs or _Processes())
    return _outcome(sub, lesson, order, maxima, graded_at, status, reason, result, tampered)


def grade_batch(lesson: Lesson, paths: Sequence[Path], gradebook: Gradebook, *, jobs: int = 2,
                timeout: float = 120.0, on_done: Callable[[Outcome], None] | None = None,
                client: Client | None = None) -> list[Outcome]:
    """Grade ``paths`` against ``lesson``; record each in ``gradebook`` as soon as it is done.

    ``jobs`` submissions run at a time, each limited to ``timeout`` seconds. ``on_done`` is
    called after each submission is recorded (the CLI advances its progress bar there).
    With a ``dask.distributed`` ``client``, each submission is one task on its workers
    (``jobs`` is then ignored: the cluster has its own size) and the gradebook is written
    here as results come back. Returns the outcomes in the order of ``paths``.
    """
    if jobs < 1:
        raise BatchError(f"--jobs must be 1 or more, not {jobs}")
    if not timeout > 0:
        raise BatchError(f"--timeout must be a positive number of seconds, not {timeout:g}")
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise BatchError(f"no such submission file{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    not_nb = [str(p) for p in paths if Path(p).suffix != ".ipynb"]
    if not_nb:
        raise BatchError(f"submissions must be .ipynb notebooks; not one: {', '.join(not_nb)}")
    subs = [read_submission(Path(p), lesson.name) for p in paths]
    owners: dict[str, list[str]] = {}
    for s in subs:
        owners.setdefault(s.trainee, []).append(str(s.path))
    twice = {t: ps for t, ps in owners.items() if len(ps) > 1}
    if twice:
        t, ps = next(iter(twice.items()))
        raise BatchError(f"{len(ps)} submissions belong to trainee {t!r} ({', '.join(ps)}); grade one per trainee")
    questions = lesson.questions()
    order = [q.name for q in questions]
    maxima = {q.name: q.possible for q in questions}
    if client is not None:
        return _grade_on_cluster(client, subs, lesson, order, maxima, timeout, gradebook, on_done)
    procs = _Processes()
    outcomes: dict[int, Outcome] = {}
    lock = threading.Lock()

    def work(i: int) -> Outcome:
        return grade_one(subs[i], lesson, order, maxima, timeout, procs)

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(work, i): i for i in range(len(subs))}
        for future in as_completed(futures):
            outcome = future.result()
            with lock:
                gradebook.record(outcome.grades)
                outcomes[futures[future]] = outcome
            if on_done is not None:
                on_done(outcome)
    except BaseException:
        procs.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [outcomes[i] for i in range(len(subs))]


def _grade_on_cluster(client: Client, subs: list[Submission], lesson: Lesson, order: list[str],
                      maxima: dict[str, float], timeout: float, gradebook: Gradebook,
                      on_done: Callable[[Outcome], None] | None) -> list[Outcome]:
    """Each submission a Dask task; outcomes recorded here as they arrive, in ``subs`` order at the end."""
    from distributed import as_completed

    shared = client.scatter(lesson, broadcast=True, hash=False)
    futures = [client.submit(grade_one, sub, shared, order, maxima, timeout, pure=False) for sub in subs]
    index = {f.key: i for i, f in enumerate(futures)}
    outcomes: dict[int, Outcome] = {}
    try:
        for future in as_completed(futures):
            outcome = future.result()
            gradebook.record(outcome.grades)
            outcomes[index[future.key]] = outcome
            if on_done is not None:
                on_done(outcome)
    finally:
        client.cancel(futures)
    return [outcomes[i] for i in range(len(subs))]
