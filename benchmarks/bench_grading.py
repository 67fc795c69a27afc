"""Batch grading: 30 submissions of one lesson with ``--jobs 2`` on 2 cores; target at most 2 minutes.

What is timed (wall clock), exactly what an instructor runs::

    shopsim grade LESSON s01.ipynb ... s30.ipynb --gradebook grades.db --csv grades.csv --jobs 2

in a fresh Python process pinned to 2 CPUs (``sched_setaffinity``; its workers inherit it):
interpreter start, building the lesson from its master with ``otter assign``, one bubblewrap
sandbox per submission (each runs the whole notebook and writes its answers out as data),
the hidden checks run by the grader on those answers, the SQLite gradebook and the CSV
export. The submissions cycle through the sample answers of the
example lesson (correct, wrong, blank) under 30 trainee names.

Default lesson: the example lesson in ``tests/fixtures/course`` (the course's real lessons
take its place with ``--course course --lesson 01``; their submissions are then copies of
the student notebook with their answer cells left blank). The run is repeated ``--repeat``
times (default 1: one run takes about half a minute); the median is judged.

Run: ``.venv/bin/python benchmarks/bench_grading.py [--repeat 1] [--submissions 30] [--strict]``
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as c

TARGET_SECONDS = 120.0
FIXTURE_COURSE = c.ROOT / "tests" / "fixtures" / "course"
SAMPLES = ("correct", "wrong", "blank")


def _submissions(course: Path, lesson: str, out: Path, n: int) -> list[Path]:
    """``n`` submissions: the example lesson's samples, or blank student copies of another lesson."""
    samples = [course / "submissions" / f"{s}.ipynb" for s in SAMPLES]
    if not all(p.is_file() for p in samples):
        samples = [course / "lessons" / f"{lesson}.ipynb"]
    paths = []
    for i in range(n):
        path = out / f"trainee_{i + 1:02d}.ipynb"
        shutil.copy(samples[i % len(samples)], path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--repeat", type=int, default=1, help="timed runs (default 1)")
    p.add_argument("--submissions", type=int, default=30, help="submissions per batch (default 30)")
    p.add_argument("--course", type=Path, default=FIXTURE_COURSE, help="course folder (default: the example)")
    p.add_argument("--lesson", default="ex-daily-report", help="lesson name or prefix (default ex-daily-report)")
    args = p.parse_args(argv)

    from shopsim.grading.build import Course

    master = Course(args.course).master(args.lesson)
    cpus = sorted(os.sched_getaffinity(0))[:2] if hasattr(os, "sched_getaffinity") else []
    timings = c.Timings(f"{args.submissions} submissions")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs = _submissions(args.course, master.stem, Path(tmp), args.submissions)
        for i in range(args.repeat):
            db, out = Path(tmp) / f"grades{i}.db", Path(tmp) / f"grades{i}.csv"
            cmd = [sys.executable, "-m", "shopsim.grading.cli", "grade", str(master), *map(str, subs),
                   "--gradebook", str(db), "--csv", str(out), "--jobs", "2", "--no-progress"]
            t0 = c.clock()
            run = subprocess.run(cmd, capture_output=True, text=True,
                                 preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
            timings.runs.append(c.clock() - t0)
            if run.returncode != 0:
                print(run.stdout + run.stderr)
                return 1
        summary = run.stdout.strip().splitlines()
    print(f"bench_grading: lesson {master.stem!r}, {args.submissions} submissions, --jobs 2, "
          f"pinned to CPUs {cpus or 'all'}")
    print(c.machine_note())
    print(timings.line())
    graded = next((line for line in summary if " graded" in line and line[:1].isdigit()), "")
    print(f"per submission: {timings.median / args.submissions:.2f} s of wall time ({graded})")
    ok = c.verdict(f"batch-grade {args.submissions} submissions on 2 cores, median", timings.median,
                   TARGET_SECONDS, at_most=True, unit="s", fmt=",.1f")
    return c.finish([ok], args.strict)


if __name__ == "__main__":
    sys.exit(main())
